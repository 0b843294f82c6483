//! Credentials found by the shape of the text around them: auth schemes, private key blocks,
//! URL userinfo, Telegram bot tokens and password flags of command lines.

use crate::assignment::{is_placeholder, skip_blanks};
use crate::scan::{MAX_PEM_BODY, MAX_READ, Spans, at_boundary, window, window_before};
use crate::words::{ValueShape, looks_secret};

/// `Bearer <credential>` anywhere: the credential must look like one, so that prose such as
/// "Bearer token required" stays.
pub(crate) fn scheme_credential(text: &str, start: usize, end: usize, spans: &mut Spans) {
    if !at_boundary(text, start) {
        return;
    }
    let bytes = text.as_bytes();
    let cred_start = skip_blanks(bytes, end, false);
    let mut cred_end = cred_start;
    let limit = cred_start.saturating_add(MAX_READ).min(bytes.len());
    while cred_end < limit
        && (bytes[cred_end].is_ascii_alphanumeric() || b"._~+/=-".contains(&bytes[cred_end]))
    {
        cred_end += 1;
    }
    let credential = &text[cred_start..cred_end];
    let has_digit = credential.bytes().any(|b| b.is_ascii_digit());
    let has_upper = credential.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = credential.bytes().any(|b| b.is_ascii_lowercase());
    let is_token_scheme = text[start..end].eq_ignore_ascii_case("token ");
    let credential_like = if is_token_scheme {
        looks_secret(ValueShape::Text(credential))
    } else if follows_auth_name(text, start) {
        // `Authorization: Bearer x`, `auth=Bearer x`, `-H "Authorization: Basic x"`: what
        // follows the scheme is a credential whatever it looks like.
        credential.len() >= 3 && !is_placeholder(credential)
    } else {
        credential.len() >= 8
            && (has_digit || (has_upper && has_lower) || credential.ends_with('='))
    };
    if credential_like {
        spans.push(cred_start, cred_end);
    }
}

/// Whether the auth scheme at `start` is the value of a header or setting named for
/// authentication (`Authorization:`, `auth=`, `"authorization": "`), looking back a few bytes.
fn follows_auth_name(text: &str, start: usize) -> bool {
    let (_, before) = window_before(text, start, 32);
    let before = before.trim_end_matches([' ', '"', '\'', '\\']);
    let Some(name_end) = before.strip_suffix([':', '=']) else { return false };
    let name_end = name_end.trim_end_matches([' ', '"', '\'', '\\']);
    // Walk back over ASCII name bytes only, so the cut always falls on a character boundary.
    let bytes = name_end.as_bytes();
    let mut name_start = bytes.len();
    while name_start > 0
        && (bytes[name_start - 1].is_ascii_alphanumeric() || b"-_".contains(&bytes[name_start - 1]))
    {
        name_start -= 1;
    }
    let name = name_end[name_start..].to_ascii_lowercase();
    let name = name.trim_start_matches("x-").trim_start_matches("proxy-");
    matches!(name, "authorization" | "auth" | "authentication" | "www-authenticate")
        || name.ends_with("_auth")
        || name.ends_with("-auth")
}

/// A private key block: its body goes, up to `-----END` or, if the text was cut, to the end.
/// Returns where the body ends.
pub(crate) fn pem_block(text: &str, end: usize, spans: &mut Spans) -> Option<usize> {
    let label_len = window(text, end, 64).find("-----")?;
    let label = &text[end..end + label_len];
    if !label.contains("PRIVATE KEY") {
        return None;
    }
    let body_start = end + label_len + 5;
    let rest = window(text, body_start, MAX_PEM_BODY);
    let body = rest.find("-----END").map_or(rest, |idx| &rest[..idx]);
    let trimmed_start = body_start + (body.len() - body.trim_start().len());
    let trimmed_end = body_start + body.trim_end().len();
    spans.push(trimmed_start, trimmed_end.max(trimmed_start));
    Some(body_start + body.len())
}

/// `scheme://user:password@host`: the password goes; a lone user that looks like a token
/// (`https://<token>@github.com`) goes too.
// FIXME: a password holding a raw `/`, `?` or `#` ends the authority early and is missed.
// URL encoders escape them; hand-written URLs may not. Not fixed: telling such a password from
// a path needs the `@` to be searched past the first `/`, which misreads `/users/@alice`.
pub(crate) fn url_userinfo(text: &str, authority_start: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let mut authority_end = authority_start;
    let limit = authority_start.saturating_add(MAX_READ).min(bytes.len());
    while authority_end < limit {
        let byte = bytes[authority_end];
        if byte.is_ascii_whitespace() || b"/?#\"'<>`\\".contains(&byte) {
            break;
        }
        authority_end += 1;
    }
    let authority = &text[authority_start..authority_end];
    let Some(at) = authority.rfind('@') else { return };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => {
            let password = &userinfo[colon + 1..];
            if !is_placeholder(password) {
                spans.push(authority_start + colon + 1, authority_start + at);
            }
        }
        None if userinfo.len() >= 20 && looks_secret(ValueShape::Text(userinfo)) => {
            spans.push(authority_start, authority_start + at);
        }
        None => {}
    }
}

/// `123456789:AA...`: a Telegram bot token, from its numeric bot id.
pub(crate) fn telegram(text: &str, colon: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let mut start = colon;
    while start > 0 && colon - start <= 10 && bytes[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let n_digits = colon - start;
    // `https://api.telegram.org/bot123456789:AA...`: the token follows `bot` in API URLs.
    let after_bot = text[..start].ends_with("bot");
    if !(8..=10).contains(&n_digits) || !(at_boundary(text, start) || after_bot) {
        return;
    }
    let mut end = colon + 3;
    let limit = colon.saturating_add(64).min(bytes.len());
    while end < limit && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'-')) {
        end += 1;
    }
    if end - colon >= 33 {
        spans.push(start, end);
    }
}

/// The command around `pos`: from the start of its line or the last `&&`, `;` or `|`.
fn command_before(text: &str, pos: usize) -> &str {
    let (_, line) = window_before(text, pos, MAX_READ / 8);
    let line_start = line.rfind(['\n', ';', '|', '&']).map_or(0, |idx| idx + 1);
    &line[line_start..]
}

/// `mysql ... -pSECRET` (glued), `docker login ... -p SECRET` and `redis-cli -a SECRET`
/// (spaced).
pub(crate) fn password_flag(text: &str, start: usize, end: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let command = command_before(text, start);
    let is_redis = text[start..end].ends_with("-a ");
    if is_redis && !command.contains("redis-cli") {
        return;
    }
    let is_mysql = ["mysql", "mariadb"].iter().any(|tool| command.contains(tool));
    let is_login = is_redis
        || command.contains("login")
        || command.contains("sshpass")
        || command.contains(" -u");
    let glued = bytes.get(end).is_some_and(|b| !b.is_ascii_whitespace());
    let value_start = match (glued, is_mysql, is_login) {
        _ if is_redis => end,
        (true, true, _) => end,
        (false, _, true) => skip_blanks(bytes, end, false),
        _ => return,
    };
    let mut value_end = value_start;
    let limit = value_start.saturating_add(MAX_READ).min(bytes.len());
    while value_end < limit && !bytes[value_end].is_ascii_whitespace() {
        value_end += 1;
    }
    let value = &text[value_start..value_end];
    if !value.starts_with('$') {
        spans.push_value(text, value_start, value_end);
    }
}

/// `curl -u user:password`: the part after the first colon, unless it is a `uid:gid` pair.
pub(crate) fn user_flag(text: &str, end: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    let mut value_end = end;
    let limit = end.saturating_add(MAX_READ).min(bytes.len());
    while value_end < limit && !bytes[value_end].is_ascii_whitespace() {
        value_end += 1;
    }
    let value = text[end..value_end].trim_matches(|c| c == '"' || c == '\'');
    let Some(colon) = value.find(':') else { return };
    let is_uid_gid = value.bytes().all(|b| b.is_ascii_digit() || b == b':');
    if is_uid_gid {
        return;
    }
    let offset = text[end..value_end].find(value).unwrap_or(0);
    let password_start = end + offset + colon + 1;
    spans.push_value(text, password_start, end + offset + value.len());
}

/// `sqlplus user/password@db` and `jdbc:oracle:thin:user/password@host`: the part between the
/// first `/` and the `@`.
pub(crate) fn oracle_login(text: &str, end: usize, spans: &mut Spans) {
    let start = skip_blanks(text.as_bytes(), end, false);
    let login = window(text, start, MAX_READ);
    let login =
        login.split(|c: char| c.is_whitespace() || c == '"' || c == '\'').next().unwrap_or("");
    if let (Some(slash), Some(at)) = (login.find('/'), login.rfind('@'))
        && slash < at
    {
        spans.push_value(text, start + slash + 1, start + at);
    }
}
