//! Judging a key name: is the value under it a secret?
//!
//! A name is split into words (`apiKey`, `api_key`, `API-KEY` and `x-api-key` all end in the
//! words `api key`), and its head, the last word that is not a mere form of the value such as
//! `base` or `hex`, decides. So `tokenCount` (head `count`) and `password_policy_url` (head
//! `url`) stay while `accessToken` (head `token`) and `SECRET_KEY_BASE` (head `key`, qualified
//! by `secret`) go. Judging by whole words is what keeps `secretary`, `monkey` and `author`
//! apart from `secret`, `key` and `auth`.

/// Where a name was found; a few names are credentials only in a URL query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameSite {
    /// A JSON key, a header name, or an assignment in free text.
    Key,
    /// A URL query or fragment parameter (after `?`, `&`, `;` or `#`).
    Query,
}

/// What the value under a name looks like, for the names whose verdict depends on it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValueShape<'a> {
    /// A string (or an unquoted word in free text).
    Text(&'a str),
    /// A JSON number.
    Number,
    /// An array or object.
    Compound,
}

/// Heads that name a secret whatever precedes them.
const SECRET_HEADS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "pw",
    "pass",
    "passphrase",
    "passcode",
    "pin",
    "otp",
    "secret",
    "secrets",
    "token",
    "apikey",
    "apitoken",
    "credential",
    "credentials",
    "creds",
    "authorization",
    "cookie",
    "cookies",
    "jwt",
    "bearer",
    "cvv",
    "cvc",
    "privatekey",
    "secretkey",
    "accesskey",
];

/// Heads that name a secret only when the value looks like a credential: `auth=ok` in a log
/// line and `signature_algorithm`-like enums stay, `auth: "Y2kt..."` and `sig=F8V7...` go.
const WEAK_HEADS: &[&str] = &["auth", "authz", "signature", "sig"];

/// One-word names (`userpassword`, `clientsecret`) are judged by these endings. Short words
/// such as `pass` or `key` are not here: `bypass`, `compass` and `monkey` end with them.
const SECRET_ENDINGS: &[&str] =
    &["password", "passwd", "secret", "token", "apikey", "secretkey", "privatekey", "accesskey"];

/// Words that qualify `key` (or `keys`) as a secret key rather than a cache or partition key.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "secret",
    "private",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "decryption",
    "master",
    "access",
    "subscription",
    "auth",
    "client",
    "app",
    "application",
    "license",
    "licence",
    "account",
    "storage",
    "shared",
    "hmac",
    "session",
    "webhook",
    "crypto",
    "ssh",
    "gpg",
    "pgp",
    "root",
    "service",
    "consumer",
    "aes",
    "jwt",
    "admin",
    "deploy",
    "personal",
    "bot",
    "integration",
    "live",
    "write",
];

/// Words that qualify `code` (or `codes`) as a one-time credential.
const CODE_QUALIFIERS: &[&str] = &[
    "pin",
    "recovery",
    "backup",
    "otp",
    "mfa",
    "totp",
    "verification",
    "auth",
    "authorization",
    "oauth",
    "access",
    "reset",
    "activation",
    "security",
];

/// Names that carry a session credential in a URL (`?sid=...`), compared with their
/// separators removed; in JSON details a `sessionId` is the sandbox session the audit trail is
/// grouped by, so it stays.
const QUERY_ONLY_NAMES: &[&str] =
    &["session", "sessionid", "sid", "sessid", "phpsessid", "jsessionid", "aspnetsessionid"];

/// Trailing words that say in what form the value is written, not what it is about:
/// `SECRET_KEY_BASE` is still a secret key, `password_hash` still about a password.
const VALUE_FORM_WORDS: &[&str] = &[
    "pem",
    "der",
    "base",
    "value",
    "val",
    "b64",
    "base64",
    "hex",
    "raw",
    "plain",
    "plaintext",
    "str",
    "string",
    "text",
    "data",
    "enc",
    "encoded",
    "encrypted",
    "bytes",
];

/// Whether `name` holds a fragment that every sensitive word holds one of (`pass`, `secret`,
/// `token`, `key`, `auth`...): a quick test that settles most names (`url`, `durationMs`,
/// `status`) before any splitting into words.
fn has_root(name: &str) -> bool {
    let bytes = name.as_bytes();
    let mut lower = [0_u8; 64];
    let Some(lower) = lower.get_mut(..bytes.len()) else {
        // A very long name is rare enough to be judged in full.
        return true;
    };
    for (lower, byte) in lower.iter_mut().zip(bytes) {
        *lower = byte.to_ascii_lowercase();
    }
    (0..lower.len()).any(|start| {
        let rest = &lower[start..];
        let any = |roots: &[&[u8]]| roots.iter().any(|root| rest.starts_with(root));
        match rest[0] {
            b'a' => any(&[b"auth"]),
            b'b' => any(&[b"bearer"]),
            b'c' => any(&[b"cred", b"cookie", b"code", b"cvv", b"cvc"]),
            b'j' => any(&[b"jwt"]),
            b'k' => any(&[b"key"]),
            b'o' => any(&[b"otp"]),
            b'p' => any(&[b"pass", b"pw", b"pin"]),
            b's' => any(&[b"secret", b"sess", b"sid", b"sig"]),
            b't' => any(&[b"token"]),
            _ => false,
        }
    })
}

/// Whether the value under `name` is a secret.
pub(crate) fn is_sensitive_name(name: &str, site: NameSite, value: ValueShape<'_>) -> bool {
    if !has_root(name) {
        return false;
    }
    let mut words: [&str; 12] = [""; 12];
    let n_words = split_words(name, &mut words);
    let mut words = &words[..n_words];
    while let [rest @ .., last] = words {
        let is_form = VALUE_FORM_WORDS.iter().any(|form| last.eq_ignore_ascii_case(form))
            || last.bytes().all(|byte| byte.is_ascii_digit());
        if !is_form || rest.is_empty() {
            break;
        }
        words = rest;
    }
    let Some((head, qualifiers)) = words.split_last() else { return false };
    let head_is = |word: &str| head.eq_ignore_ascii_case(word);
    let qualified_by = |list: &[&str]| {
        qualifiers.iter().any(|qualifier| list.iter().any(|q| qualifier.eq_ignore_ascii_case(q)))
    };

    if head_is("tokens") {
        // `max_tokens: 4096` and `prompt_tokens: 8` count tokens; a list of tokens is secret.
        return !matches!(value, ValueShape::Number) && !is_number_text(value);
    }
    if head_is("key") || head_is("keys") {
        return qualified_by(KEY_QUALIFIERS) || (qualifiers.is_empty() && looks_secret(value));
    }
    if head_is("code") || head_is("codes") {
        return qualified_by(CODE_QUALIFIERS)
            || (site == NameSite::Query && qualifiers.is_empty() && looks_secret(value));
    }
    if site == NameSite::Query && is_session_name(name) {
        return true;
    }
    if SECRET_HEADS.iter().any(|word| head_is(word)) {
        return true;
    }
    if WEAK_HEADS.iter().any(|word| head_is(word)) {
        return looks_like_credential(value);
    }
    // A one-word name: `userpassword`, `clientsecret`, `AUTHTOKEN`.
    qualifiers.is_empty()
        && head.len() > 6
        && SECRET_ENDINGS.iter().any(|ending| ends_with_ignore_case(head, ending))
}

/// Whether `name`, its separators removed, is one of [`QUERY_ONLY_NAMES`]: `session_id`,
/// `PHPSESSID`, `ASP.NET_SessionId`.
fn is_session_name(name: &str) -> bool {
    let mut compact = [0_u8; 24];
    let mut len = 0;
    for byte in name.bytes().filter(u8::is_ascii_alphanumeric) {
        if len == compact.len() {
            return false;
        }
        compact[len] = byte.to_ascii_lowercase();
        len += 1;
    }
    QUERY_ONLY_NAMES.iter().any(|known| known.as_bytes() == &compact[..len])
}

fn is_number_text(value: ValueShape<'_>) -> bool {
    matches!(value, ValueShape::Text(text) if !text.is_empty()
        && text.bytes().all(|byte| byte.is_ascii_digit()))
}

fn ends_with_ignore_case(word: &str, ending: &str) -> bool {
    word.len() >= ending.len()
        && word.as_bytes()[word.len() - ending.len()..].eq_ignore_ascii_case(ending.as_bytes())
}

/// Whether a value under a weak name is more than a word: a compound value, or text of at
/// least 8 characters with a digit, mixed case or base64 punctuation.
pub(crate) fn looks_like_credential(value: ValueShape<'_>) -> bool {
    match value {
        ValueShape::Compound => true,
        ValueShape::Number => false,
        ValueShape::Text(text) => {
            let has = |test: fn(&u8) -> bool| text.as_bytes().iter().any(test);
            text.len() >= 8
                && !has(u8::is_ascii_whitespace)
                && (has(u8::is_ascii_digit)
                    || (has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase))
                    || has(|b| b"+/=_-".contains(b)))
        }
    }
}

/// Whether a value under an ambiguous name (a bare `key`, a query `code`) looks like a
/// credential rather than a word: long, unspaced, letters and digits mixed.
pub(crate) fn looks_secret(value: ValueShape<'_>) -> bool {
    let ValueShape::Text(text) = value else { return false };
    text.len() >= 16
        && !text.bytes().any(|byte| byte.is_ascii_whitespace())
        && text.bytes().any(|byte| byte.is_ascii_digit())
        && text.bytes().any(|byte| byte.is_ascii_alphabetic())
}

/// Splits `name` into words at separators and at case changes (`apiKey` → `api`, `Key`;
/// `APIKey` → `API`, `Key`), writing up to `words.len()` of them; returns how many. Words past
/// the last slot are dropped from the front, because the head is what matters.
fn split_words<'a>(name: &'a str, words: &mut [&'a str]) -> usize {
    let bytes = name.as_bytes();
    let mut n_words = 0;
    let mut push = |word: &'a str| {
        if word.is_empty() {
            return;
        }
        if n_words == words.len() {
            words.rotate_left(1);
            n_words -= 1;
        }
        words[n_words] = word;
        n_words += 1;
    };
    let mut start = 0;
    for idx in 0..bytes.len() {
        let byte = bytes[idx];
        // Non-ASCII bytes belong to words, so that every cut falls between characters.
        if !byte.is_ascii_alphanumeric() && byte.is_ascii() {
            push(&name[start..idx]);
            start = idx + 1;
            continue;
        }
        if idx == start {
            continue;
        }
        let prev = bytes[idx - 1];
        let next_is_lower = bytes.get(idx + 1).is_some_and(u8::is_ascii_lowercase);
        let lower_to_upper = prev.is_ascii_lowercase() && byte.is_ascii_uppercase();
        let acronym_end = prev.is_ascii_uppercase() && byte.is_ascii_uppercase() && next_is_lower;
        // A number ending a word is a word of its own, dropped when judging: `password2` is
        // a numbered `password`.
        let trailing_number = prev.is_ascii_alphabetic()
            && byte.is_ascii_digit()
            && bytes[idx..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .all(u8::is_ascii_digit);
        if lower_to_upper || acronym_end || trailing_number {
            push(&name[start..idx]);
            start = idx;
        }
    }
    push(&name[start..]);
    n_words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expected: bool) {
        let value = ValueShape::Text("a1b2c3d4e5f6g7h8i9");
        assert_eq!(is_sensitive_name(name, NameSite::Key, value), expected, "{name}");
    }

    #[test]
    fn words_split_at_case_and_separators() {
        let mut words = [""; 12];
        let n = split_words("X-Api-Key", &mut words);
        assert_eq!(&words[..n], ["X", "Api", "Key"]);
        let n = split_words("APIKeyValue", &mut words);
        assert_eq!(&words[..n], ["API", "Key", "Value"]);
        let n = split_words("spring.datasource.password", &mut words);
        assert_eq!(&words[..n], ["spring", "datasource", "password"]);
    }

    #[test]
    fn secret_names_are_found_in_every_spelling() {
        for name in [
            "apiKey",
            "api_key",
            "API-KEY",
            "x-api-key",
            "APIKEY",
            "client_secret",
            "SECRET_KEY_BASE",
            "db-password",
            "accessToken",
            "userpassword",
            "Ocp-Apim-Subscription-Key",
            "SecretAccessKey",
            "recovery_codes",
            "Set-Cookie",
            "Proxy-Authorization",
            "password2",
            "rpassword",
        ] {
            check(name, true);
        }
    }

    #[test]
    fn names_that_only_look_like_secrets_stay() {
        for name in [
            "tokenCount",
            "secretary",
            "password_policy_url",
            "tokenizer",
            "author",
            "auth_method",
            "monkey",
            "keyboard_layout",
            "partition_key",
            "public_key",
            "key_id",
            "secretsManagerArn",
            "credential_id",
            "DB_PASSWORD_FILE",
            "passage",
            "bypass",
            "sessionId",
            "token_type",
        ] {
            check(name, false);
        }
    }

    #[test]
    fn ambiguous_names_look_at_the_value() {
        let number = ValueShape::Number;
        assert!(!is_sensitive_name("max_tokens", NameSite::Key, number));
        assert!(is_sensitive_name("tokens", NameSite::Key, ValueShape::Compound));
        assert!(!is_sensitive_name("key", NameSite::Query, ValueShape::Text("value")));
        assert!(is_sensitive_name("key", NameSite::Query, ValueShape::Text("AIzaSw6krvoOshMJ")));
        assert!(is_sensitive_name("sid", NameSite::Query, ValueShape::Text("x")));
        assert!(!is_sensitive_name("sid", NameSite::Key, ValueShape::Text("x")));
    }
}
