//! `name = value` in free text: finding the name around a trigger word, the operator after it
//! and the value, in the spellings of code, configuration files, logs and command lines.

use crate::scan::{MARKER, MAX_READ, Spans, window, window_before};
use crate::words::{NameSite, ValueShape, is_sensitive_name, looks_like_credential};

/// Whether a byte can be part of a name in `name = value`: `x-api-key`, `db.password`,
/// `api%5Fkey`.
pub(crate) fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'%')
}

/// Values that stand for a secret without being one: markers, templates, variables, masks.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    let lower_words = [
        "yes",
        "no",
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "redacted",
        "hidden",
        "masked",
        "required",
        "optional",
        "empty",
        "missing",
        "unset",
        // The modes of `fetch(url, { credentials: ... })`.
        "include",
        "omit",
        "same-origin",
    ];
    // `{token}` in an f-string or a format string is a variable.
    let is_format_field =
        value.strip_prefix('{').and_then(|v| v.strip_suffix('}')).is_some_and(|inner| {
            !inner.is_empty()
                && inner.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.".contains(&b))
        });
    value.is_empty()
        || is_format_field
        || value.contains(MARKER)
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with('[')
            && value.ends_with(']')
            && !value.bytes().any(|b| b.is_ascii_digit()))
        || ["{{", "${", "%(", "#{", "%s"].iter().any(|open| value.starts_with(open))
        || (value.starts_with('$')
            && value[1..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':'))
        || value.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '•' | '#'))
        || lower_words.iter().any(|word| value.eq_ignore_ascii_case(word))
}

/// Whether an unquoted value is code rather than a literal: `process.env.API_KEY`,
/// `getenv(`, `os.environ[`, `config.password`.
fn is_expression(value: &str) -> bool {
    let is_ident_start = |byte: u8| byte.is_ascii_alphabetic() || byte == b'_' || byte == b'$';
    let is_ident = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$';
    let bytes = value.as_bytes();
    let mut idx = 0;
    let mut n_segments = 0;
    loop {
        if idx >= bytes.len() || !is_ident_start(bytes[idx]) {
            return false;
        }
        let segment_start = idx;
        while idx < bytes.len() && is_ident(bytes[idx]) {
            idx += 1;
        }
        if idx - segment_start > 24 {
            return false;
        }
        n_segments += 1;
        match bytes.get(idx) {
            None => return n_segments >= 2,
            Some(b'.') => idx += 1,
            Some(b'(' | b'[') => return true,
            Some(_) => return false,
        }
    }
}

/// Handles a name word at `hit`: finds the whole name around it, then an assignment after
/// it, and pushes the value's span if the name is sensitive. Returns where the name ends, so
/// that other words of the same name are not judged again.
// FIXME: a secret named in prose is found only after `is` or `was` and only if it looks like a
// credential (`the password is Summer2024!`, not `the password is required`); `my password
// hunter2` and all-lowercase passwords in prose are missed. Telling them from prose such as
// `password reset email sent` needs more than word rules.
pub(crate) fn name_assignment(text: &str, hit: usize, spans: &mut Spans) -> usize {
    let bytes = text.as_bytes();
    let (start, end) = run_around(bytes, hit);
    let is_flag = bytes[start..end].starts_with(b"-");
    // `--db-password` is the name `db-password`; `password.` ending a sentence is `password`.
    let name_start =
        start + bytes[start..end].iter().take_while(|b| matches!(b, b'-' | b'.')).count();
    let name_end =
        end - bytes[name_start..end].iter().rev().take_while(|b| matches!(b, b'-' | b'.')).count();
    if name_start >= name_end {
        return end;
    }

    let site = match name_start.checked_sub(1).map(|idx| bytes[idx]) {
        Some(b'?' | b'&' | b'#' | b';') => NameSite::Query,
        _ => NameSite::Key,
    };
    let starts_word = start == 0 || b" \t\r\n\"'`{(,".contains(&bytes[start - 1]);
    let in_tag =
        name_start > 0 && bytes[name_start - 1] == b'<' && bytes.get(name_end) == Some(&b'>');
    let is_constructor = bytes.get(name_end) == Some(&b'(')
        && is_credential_constructor(&text[name_start..name_end]);
    let value = if in_tag {
        element_text(text, name_end + 1)
    } else if is_constructor {
        literal_list(text, name_end, false)
    } else {
        assignment_value(text, name_end, starts_word, is_flag, site)
    };
    let Some(mut value) = value else { return end };

    if let Some(scheme_len) = scheme_prefix_len(&text[value.start..value.end]) {
        value.start = skip_blanks(bytes, value.start + scheme_len, false).min(value.end);
    } else if is_auth_header(&text[name_start..name_end])
        && let Some((credential_start, credential_end)) =
            credential_after_scheme(text, value.start, value.end)
    {
        value.start = credential_start;
        value.end = credential_end;
    }
    let value_text = &text[value.start..value.end];
    let is_code =
        !value.quoted && (is_expression(value_text) || (value.spaced && is_variable(value_text)));
    if is_placeholder(value_text)
        || is_code
        || !value_text.bytes().any(|b| b.is_ascii_alphanumeric())
    {
        return end;
    }

    let raw_name = &text[name_start..name_end];
    let decoded;
    let name = if raw_name.contains('%') {
        decoded = percent_decode_repeatedly(raw_name);
        decoded.as_str()
    } else {
        raw_name
    };
    let shape = if value.compound { ValueShape::Compound } else { ValueShape::Text(value_text) };
    if is_sensitive_name(name, site, shape) {
        spans.push(value.start, value.end);
    }
    end
}

/// The run of name bytes around `hit`, at most [`MAX_READ`] bytes on each side.
fn run_around(bytes: &[u8], hit: usize) -> (usize, usize) {
    let mut start = hit;
    while start > 0 && hit - start < MAX_READ && is_name_byte(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = hit;
    while end < bytes.len() && end - hit < MAX_READ && is_name_byte(bytes[end]) {
        end += 1;
    }
    (start, end)
}

/// Where a value sits, whether it was quoted, and whether blanks surround the operator (as in
/// code, `x = y`, rather than in config and query strings, `x=y`).
struct ValueSpan {
    start: usize,
    end: usize,
    quoted: bool,
    spaced: bool,
    /// A tuple or list of literals rather than one value.
    compound: bool,
}

/// Whether an unquoted value written after a spaced operator is a variable or keyword
/// (`password = await ...`, `if (password === confirmPassword)`) rather than a literal:
/// an identifier without digits.
fn is_variable(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && !bytes[0].is_ascii_digit()
        && bytes.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'$')
}

const QUOTES: &[u8] = b"\"'`";

/// Parses what follows a name: a closing quote, an assignment operator, and the value.
///
/// Accepts `name = v`, `name: v`, `name := v`, `name => v`, `name == v`, `"name": "v"`,
/// `name="v"` (also JSON-escaped as `\"name\":\"v\"`), `--name v`, `name 'v'` (SQL), and the
/// XML pair `key="name" value="v"`.
fn assignment_value(
    text: &str,
    name_end: usize,
    starts_word: bool,
    is_flag: bool,
    site: NameSite,
) -> Option<ValueSpan> {
    let assignment = operator_after(text, name_end, starts_word)?;
    value_at(text, &assignment, is_flag, site)
}

/// The operators of `name OP value`, longest first.
const OPERATORS: [&str; 8] = ["===", "!==", ":=", "=>", "==", "!=", "=", ":"];

/// Words that join a name to its value in prose, each with the blank that must follow it.
const PROSE_OPERATORS: [&str; 2] = ["is ", "was "];

/// An assignment operator found after a name, and where its value starts.
struct Assignment {
    /// The operator, or `None` for blanks alone (`PASSWORD 'x'`, `--password x`).
    operator: Option<&'static str>,
    /// Where the value starts.
    value_idx: usize,
    /// Whether blanks stand between the name, the operator and the value.
    spaced: bool,
}

fn operator_after(text: &str, name_end: usize, starts_word: bool) -> Option<Assignment> {
    let bytes = text.as_bytes();
    let mut idx = name_end;
    let mut name_quoted = false;
    if bytes.get(idx) == Some(&b'\\') && bytes.get(idx + 1).is_some_and(|b| QUOTES.contains(b)) {
        idx += 2;
        name_quoted = true;
    } else if bytes.get(idx).is_some_and(|b| QUOTES.contains(b)) {
        idx += 1;
        name_quoted = true;
    }
    if bytes.get(idx) == Some(&b']') {
        idx += 1;
    }
    let before_blanks = idx;
    idx = skip_blanks(bytes, idx, false);
    if name_quoted && text[idx..].starts_with("value") {
        let after = skip_blanks(bytes, idx + 5, false);
        if bytes.get(after) == Some(&b'=') {
            idx = after;
        }
    }

    let mut operator = OPERATORS.into_iter().find(|operator| text[idx..].starts_with(operator));
    // Prose: `the password is Summer2024!`. The value must then look like a credential.
    if operator.is_none() && idx > before_blanks {
        operator = PROSE_OPERATORS.into_iter().find(|word| text[idx..].starts_with(word));
    }
    let after_operator = idx + operator.map_or(0, str::len);
    let value_idx = skip_blanks(bytes, after_operator, true);
    let spaced = value_idx > after_operator || idx > before_blanks;
    let is_colon = operator == Some(":");
    // `a:b` without a space inside a chain (`arn:aws:secretsmanager:...:secret:prod`) or a URL
    // is not `name: value`; a name that starts a word (`"X-API-Key:abc"`) still is.
    let value_quoted = bytes.get(value_idx).is_some_and(|b| QUOTES.contains(b));
    if is_colon && !name_quoted && !spaced && !starts_word && !value_quoted {
        return None;
    }
    // Newlines may separate `"password":` from its value in pretty JSON, nothing else.
    if !is_colon && text[after_operator..value_idx].contains('\n') {
        return None;
    }
    let value_idx = value_idx + if text[value_idx..].starts_with("Some(") { 5 } else { 0 };
    Some(Assignment { operator, value_idx, spaced })
}

/// A tuple, list or argument list of literals opening at `open_idx`: `('user', 'secret')`.
/// Lists holding calls or nested lists are code, not literals.
fn literal_list(text: &str, open_idx: usize, spaced: bool) -> Option<ValueSpan> {
    let close = if text.as_bytes()[open_idx] == b'[' { ']' } else { ')' };
    let inner_len = window(text, open_idx + 1, MAX_READ).find([close, '\n'])?;
    let (start, end) = (open_idx + 1, open_idx + 1 + inner_len);
    let inner = &text[start..end];
    let has_literal = inner.bytes().any(|b| QUOTES.contains(&b));
    let is_call_free = !inner.contains(['(', '[']);
    let compound = ValueSpan { start, end, quoted: true, spaced, compound: true };
    (has_literal && is_call_free).then_some(compound)
}

/// Whether a called name builds a credential from its arguments: `HTTPBasicAuth('u', 'p')`,
/// `aiohttp.BasicAuth(...)`, `new UsernamePasswordCredentials(...)`.
fn is_credential_constructor(name: &str) -> bool {
    let is_constructor = ["BasicAuth", "DigestAuth", "ProxyAuth", "Credentials", "Credential"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    is_constructor || is_credential_setter(name)
}

/// Whether a called name sets a credential: `setPassword("...")`, `set_api_key("...")`,
/// `withToken("...")`.
fn is_credential_setter(name: &str) -> bool {
    let name = name.rsplit('.').next().unwrap_or(name);
    ["set", "with"].iter().any(|verb| {
        name.len() > verb.len()
            && name.as_bytes()[..verb.len()].eq_ignore_ascii_case(verb.as_bytes())
            && matches!(name.as_bytes()[verb.len()], b'A'..=b'Z' | b'_')
            && is_sensitive_name(&name[verb.len()..], NameSite::Key, ValueShape::Compound)
    })
}

/// Whether the value at `value_idx` follows `password` in a `.netrc` line, `machine HOST login
/// USER password VALUE`, where blanks alone separate names from values.
fn is_netrc_password(text: &str, value_idx: usize) -> bool {
    let before = text[..value_idx].trim_end_matches([' ', '\t']);
    if !(before.ends_with(" password") || before.ends_with(" passwd")) {
        return false;
    }
    let (_, line) = window_before(before, before.len(), 512);
    let line = line.rsplit('\n').next().unwrap_or(line);
    line.contains(" login ") && (line.contains("machine ") || line.contains("default "))
}

/// The value of an assignment: quoted, in braces, a tuple of literals, or unquoted.
fn value_at(
    text: &str,
    assignment: &Assignment,
    is_flag: bool,
    site: NameSite,
) -> Option<ValueSpan> {
    let Assignment { operator, value_idx, spaced } = *assignment;
    let bytes = text.as_bytes();
    if starts_quoted(bytes, value_idx) {
        let (start, end) = quoted_at(text, value_idx)?;
        return Some(ValueSpan { start, end, quoted: true, spaced, compound: false });
    }
    if operator.is_some_and(|operator| PROSE_OPERATORS.contains(&operator)) {
        let (start, end) = unquoted_at(text, value_idx, site);
        let value = ValueShape::Text(&text[start..end]);
        return looks_like_credential(value).then_some(ValueSpan {
            start,
            end,
            quoted: false,
            spaced: false,
            compound: false,
        });
    }
    if operator.is_none() && !(is_flag && spaced) && !is_netrc_password(text, value_idx) {
        return None;
    }
    match bytes.get(value_idx) {
        // `PWD={secret}` in an ODBC connection string.
        Some(b'{') if operator == Some("=") => {
            let close = window(text, value_idx, MAX_READ).find('}')?;
            let (start, end) = (value_idx + 1, value_idx + close);
            Some(ValueSpan { start, end, quoted: true, spaced, compound: false })
        }
        // An object literal: its own keys are judged one by one.
        Some(b'{') => None,
        // A tuple or list of literals, such as `auth=('user', 'secret')`.
        Some(b'(' | b'[') => literal_list(text, value_idx, spaced),
        _ => {
            let (start, end) = unquoted_at(text, value_idx, site);
            Some(ValueSpan { start, end, quoted: false, spaced, compound: false })
        }
    }
}

/// The text of an XML element, `<password>value</password>`, from after its opening tag.
fn element_text(text: &str, start: usize) -> Option<ValueSpan> {
    let len = window(text, start, MAX_READ).find(['<', '\n'])?;
    Some(ValueSpan { start, end: start + len, quoted: true, spaced: false, compound: false })
}

pub(crate) fn skip_blanks(bytes: &[u8], mut idx: usize, newlines: bool) -> usize {
    while idx < bytes.len()
        && (bytes[idx] == b' '
            || bytes[idx] == b'\t'
            || (newlines && matches!(bytes[idx], b'\n' | b'\r')))
    {
        idx += 1;
    }
    idx
}

/// Whether a quoted string starts at `idx` (see [`quoted_at`]).
fn starts_quoted(bytes: &[u8], idx: usize) -> bool {
    let mut idx = idx;
    if bytes.get(idx).is_some_and(|b| b"bBrRfFuU".contains(b)) {
        idx += 1;
    }
    if bytes.get(idx) == Some(&b'\\') {
        idx += 1;
    }
    bytes.get(idx).is_some_and(|b| QUOTES.contains(b))
}

/// A quoted string starting at `idx` (optionally after a one-letter prefix such as `b"` or
/// `r'`, or JSON-escaped as `\"`): the span inside the quotes. A string that does not end on
/// its line is not taken: its quote is more likely the end of an enclosing string.
pub(crate) fn quoted_at(text: &str, idx: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut idx = idx;
    if bytes.get(idx).is_some_and(|b| b"bBrRfFuU".contains(b))
        && bytes.get(idx + 1).is_some_and(|b| QUOTES.contains(b))
    {
        idx += 1;
    }
    let escaped = bytes.get(idx) == Some(&b'\\');
    let quote_idx = if escaped { idx + 1 } else { idx };
    let quote = *bytes.get(quote_idx).filter(|b| QUOTES.contains(b))?;
    let start = quote_idx + 1;
    let mut pos = start;
    let limit = start.saturating_add(MAX_READ).min(bytes.len());
    while pos < limit {
        match bytes[pos] {
            b'\\' if escaped && bytes.get(pos + 1) == Some(&quote) => return Some((start, pos)),
            b'\\' => pos += 2,
            byte if byte == quote && !escaped => return Some((start, pos)),
            b'\n' => return None,
            _ => pos += 1,
        }
    }
    None
}

/// An unquoted value starting at `idx`. After an auth scheme (`Bearer x`) the credential is
/// the value; otherwise the value ends at a blank, a quote, `;`, `&`, `<`, `>`, an escaped
/// newline, a `, `, or (in a URL) `#`; closing brackets and periods at its end are dropped.
// FIXME: an unquoted value ends at a blank, `;`, `&`, `,` or a quote, so a password holding
// one of them in unquoted free text (`pwd=a b`) keeps its tail; a YAML block scalar
// (`password: |`) is not followed to the next line. Quoted values and JSON keys are exact.
// Not fixed because the same stops are what keep the next `name=value` of a log line intact.
fn unquoted_at(text: &str, idx: usize, site: NameSite) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut start = idx;
    if let Some(scheme_len) = scheme_prefix_len(&text[idx..]) {
        start = skip_blanks(bytes, idx + scheme_len, false);
    }
    let mut end = start;
    // Unquoted values are shorter than quoted ones; a long token in one (a JWT) is also
    // found by its own rule, which reads further.
    let limit = start.saturating_add(MAX_READ / 4).min(bytes.len());
    while end < limit {
        let byte = bytes[end];
        let stop = byte.is_ascii_whitespace()
            || matches!(byte, b'"' | b'\'' | b'`' | b';' | b'&' | b'<' | b'>')
            || (byte == b'#' && site == NameSite::Query)
            || (byte == b',' && bytes.get(end + 1).is_none_or(|b| b.is_ascii_whitespace()))
            || (byte == b'\\' && bytes.get(end + 1).is_some_and(|b| b"nrt\"'".contains(b)));
        if stop {
            break;
        }
        end += 1;
    }
    // A closing bracket ends the value only if the value did not open it: `f(pw=abc)` but
    // `[REDACTED]`.
    loop {
        let value = &bytes[start..end];
        let unbalanced = |open: u8, close: u8| {
            value.iter().filter(|b| **b == close).count()
                > value.iter().filter(|b| **b == open).count()
        };
        match value.last() {
            Some(b'.' | b',' | b':') => end -= 1,
            Some(b')') if unbalanced(b'(', b')') => end -= 1,
            Some(b']') if unbalanced(b'[', b']') => end -= 1,
            Some(b'}') if unbalanced(b'{', b'}') => end -= 1,
            _ => break,
        }
    }
    (start, end)
}

/// Whether `name` is an HTTP header that carries credentials after an auth scheme.
fn is_auth_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("proxy-authorization")
}

/// In an authorization header, the credential after a scheme that is not one of the common
/// ones (`ApiKey`, `SSWS`, `Bot`, `Splunk`, `GenieKey`): the unquoted value found is then only
/// the scheme, a single word, and the credential is what follows it up to a blank or a quote.
fn credential_after_scheme(
    text: &str,
    value_start: usize,
    value_end: usize,
) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let scheme = &bytes[value_start..value_end];
    let is_scheme = (2..=32).contains(&scheme.len())
        && scheme[0].is_ascii_alphabetic()
        && scheme.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if !is_scheme || bytes.get(value_end) != Some(&b' ') {
        return None;
    }
    let start = skip_blanks(bytes, value_end, false);
    let limit = start.saturating_add(MAX_READ).min(bytes.len());
    let len = bytes[start..limit]
        .iter()
        .position(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>'))
        .unwrap_or(limit - start);
    (len > 0).then_some((start, start + len))
}

/// The length of an HTTP auth scheme and its space at the start of `text`, if there is one.
pub(crate) fn scheme_prefix_len(text: &str) -> Option<usize> {
    ["Bearer ", "Basic ", "Token ", "Digest ", "Negotiate ", "NTLM ", "AWS4-HMAC-SHA256 "]
        .iter()
        .find(|scheme| {
            let bytes = text.as_bytes();
            bytes.len() >= scheme.len()
                && bytes[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        })
        .map(|scheme| scheme.len())
}

/// `"literal".equals(secretName)` and `secretName.equals("literal")`.
pub(crate) fn equals_literal(text: &str, start: usize, end: usize, spans: &mut Spans) {
    let bytes = text.as_bytes();
    // The literal before: `"...".equals(name)`.
    if start > 0 && QUOTES.contains(&bytes[start - 1]) {
        let quote = bytes[start - 1];
        let (window_start, before) = window_before(text, start - 1, MAX_READ);
        if let Some(open) = before.rfind(quote as char).map(|idx| window_start + idx) {
            let name_len =
                bytes[end..].iter().take(MAX_READ).take_while(|b| is_name_byte(**b)).count();
            let name = &text[end..end + name_len];
            if is_sensitive_name(name, NameSite::Key, ValueShape::Text(&text[open + 1..start - 1]))
            {
                spans.push_value(text, open + 1, start - 1);
            }
        }
        return;
    }
    // The name before: `name.equals("...")`.
    let name_len = bytes[..start]
        .iter()
        .rev()
        .take(MAX_READ)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let name = &text[start - name_len..start];
    if let Some((value_start, value_end)) = quoted_at(text, end)
        && is_sensitive_name(name, NameSite::Key, ValueShape::Text(&text[value_start..value_end]))
    {
        spans.push_value(text, value_start, value_end);
    }
}

/// `name` with percent-escapes decoded, up to three times (`api%255Fkey` → `api_key`).
fn percent_decode_repeatedly(name: &str) -> String {
    let mut current = name.to_owned();
    for _ in 0..3 {
        let decoded = percent_decode(&current);
        if decoded == current {
            break;
        }
        current = decoded;
    }
    current
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[idx] == b'%'
            && let (Some(high), Some(low)) =
                (bytes.get(idx + 1).and_then(|b| hex(*b)), bytes.get(idx + 2).and_then(|b| hex(*b)))
        {
            out.push((high * 16 + low) as u8);
            idx += 3;
            continue;
        }
        out.push(bytes[idx]);
        idx += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
