//! Redacting JSON values: keys at every depth, name/value pair lists, and JSON inside strings.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::assignment::is_placeholder;
use crate::quiet;
use crate::scan::{MARKER, Scanner};
use crate::words::{NameSite, ValueShape, is_sensitive_name};

/// Keys that hold the name, and the key that holds the value, of a name/value pair such as
/// `{"name": "Authorization", "value": "Bearer ..."}`.
const PAIR_NAME_KEYS: &[&str] = &["name", "key", "header", "field", "Name", "Key", "NAME", "KEY"];
const PAIR_VALUE_KEYS: &[&str] = &["value", "Value", "val", "VALUE"];

/// Keys shorter than this are not searched for secrets: no credential shape the scanner knows
/// (a provider token, `name=value`, `user:password@`) fits in fewer bytes with its context.
const MIN_SECRET_KEY_LEN: usize = 12;

impl Scanner {
    /// Redacts `value` in place; returns whether anything changed.
    pub(crate) fn redact_value(&self, value: &mut Value) -> bool {
        match value {
            Value::String(text) => self.redact_string(text),
            Value::Array(items) => {
                let mut changed = redact_pair_list(items) | redact_argv(items);
                for item in items.iter_mut() {
                    changed |= self.redact_value(item);
                }
                changed
            }
            Value::Object(map) => self.redact_map(map),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }

    /// Redacts one string: as JSON if it holds a JSON object or array, else as free text.
    pub(crate) fn redact_string(&self, text: &mut String) -> bool {
        if quiet::contains(text) {
            return false;
        }
        let changed = self.redact_string_uncached(text);
        if !changed {
            quiet::insert(text);
        }
        changed
    }

    fn redact_string_uncached(&self, text: &mut String) -> bool {
        let trimmed = trim_whitespace(text);
        let looks_like_json = (trimmed.starts_with('{') && trimmed.ends_with('}'))
            || (trimmed.starts_with('[') && trimmed.ends_with(']'));
        // A JSON string written as JSON once more (`"\"{...}\""`): redact what it holds.
        let is_json_string =
            trimmed.len() >= 2 && trimmed.starts_with('"') && trimmed.ends_with('"');
        if (looks_like_json || is_json_string) && self.is_quiet(trimmed) {
            return false;
        }
        if is_json_string && let Ok(Value::String(mut inner)) = serde_json::from_str(trimmed) {
            if self.redact_string(&mut inner) {
                *text = Value::String(inner).to_string();
                return true;
            }
            return false;
        }
        if looks_like_json && let Ok(mut inner) = serde_json::from_str::<Value>(trimmed) {
            // Spans replaced in the text itself keep the document's layout; the walk over the
            // result checks that the key rules find nothing more.
            if let Cow::Owned(scanned) = self.redact(text)
                && let Ok(mut rescanned) = serde_json::from_str::<Value>(scanned.trim())
                && !self.redact_value(&mut rescanned)
            {
                *text = scanned;
                return true;
            }
            // Otherwise the redacted document is written back compactly.
            if self.redact_value(&mut inner) {
                *text = inner.to_string();
                return true;
            }
            return false;
        }
        match self.redact(text) {
            Cow::Borrowed(_) => false,
            Cow::Owned(redacted) => {
                *text = redacted;
                true
            }
        }
    }

    /// Redacts an object: values under sensitive keys go whole, the rest is walked.
    pub(crate) fn redact_map(&self, map: &mut Map<String, Value>) -> bool {
        let mut changed = redact_pair_object(map) | redact_jwk(map);
        for (key, value) in map.iter_mut() {
            if is_sensitive_key(key, value) {
                changed |= replace_with_marker(value);
            } else {
                changed |= self.redact_value(value);
            }
        }
        let may_hold_secret = |key: &String| {
            key.len() >= MIN_SECRET_KEY_LEN && !is_event_model_key(key) && !self.is_quiet(key)
        };
        if map.keys().any(|key| may_hold_secret(key) && self.redact(key) != key.as_str()) {
            changed |= self.redact_keys(map);
        }
        changed
    }

    /// Secrets used as keys (`{"ghp_...": 1}`) are replaced; a clash between two replaced
    /// keys is resolved by numbering, so no value is lost.
    fn redact_keys(&self, map: &mut Map<String, Value>) -> bool {
        let mut changed = false;
        let old = std::mem::take(map);
        for (key, value) in old {
            let mut new_key = self.redact(&key).into_owned();
            if new_key != key {
                changed = true;
                let base = new_key.clone();
                let mut n = 2;
                while map.contains_key(&new_key) {
                    new_key = format!("{base}#{n}");
                    n += 1;
                }
            }
            map.insert(new_key, value);
        }
        changed
    }
}

fn shape(value: &Value) -> Option<ValueShape<'_>> {
    match value {
        // A flag or a null says whether there is a secret, not what it is.
        Value::Null | Value::Bool(_) => None,
        Value::String(text) if text.is_empty() || text == MARKER => None,
        Value::String(text) => Some(ValueShape::Text(text)),
        Value::Number(_) => Some(ValueShape::Number),
        Value::Array(_) | Value::Object(_) => Some(ValueShape::Compound),
    }
}

fn is_sensitive_key(key: &str, value: &Value) -> bool {
    !is_event_model_key(key)
        && shape(value).is_some_and(|shape| is_sensitive_name(key, NameSite::Key, shape))
}

/// The details keys the event model's constructors write: never names of secrets (their
/// values are still searched), and so common that settling them first saves real time.
fn is_event_model_key(key: &str) -> bool {
    // Grouped by length, so that most keys are settled by one comparison or none; a plain
    // `matches!` over the twenty names showed in the writer's profile.
    match key.len() {
        3 => key == "url",
        4 => key == "code",
        5 => key == "error",
        6 => matches!(key, "method" | "reason" | "target" | "status"),
        7 => matches!(key, "binding" | "methods" | "blocked"),
        8 => matches!(key, "property" | "exitCode"),
        9 => matches!(key, "timeoutMs" | "permanent" | "expiresIn" | "violation"),
        10 => matches!(key, "codeLength" | "durationMs"),
        11 => key == "codeSnippet",
        13 => key == "resultPreview",
        _ => false,
    }
}

fn replace_with_marker(value: &mut Value) -> bool {
    if value.as_str() == Some(MARKER) {
        return false;
    }
    *value = Value::String(MARKER.to_owned());
    true
}

/// A JSON Web Key (`{"kty": "RSA", ...}`) keeps its private parts under one-letter names:
/// `d`, `p`, `q`, `dp`, `dq`, `qi` for RSA and EC, `k` for a symmetric key.
fn redact_jwk(map: &mut Map<String, Value>) -> bool {
    if crate::find_mut(map, "kty").is_none() {
        return false;
    }
    let mut changed = false;
    for part in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        if let Some(value) = map.get_mut(part)
            && value.is_string()
        {
            changed |= replace_with_marker(value);
        }
    }
    changed
}

/// `{"name": "DB_PASSWORD", "value": "..."}`: the value goes if the name is sensitive.
fn redact_pair_object(map: &mut Map<String, Value>) -> bool {
    // Comparing the few keys beats hashing the pair keys into a map of details.
    let Some(value_key) = map.keys().find(|key| PAIR_VALUE_KEYS.contains(&key.as_str())) else {
        return false;
    };
    let value_key = value_key.clone();
    let name = PAIR_NAME_KEYS.iter().find_map(|key| map.get(*key).and_then(Value::as_str));
    let Some(name) = name else { return false };
    let name = name.to_owned();
    match map.get_mut(&value_key) {
        Some(value) if is_sensitive_key(&name, value) => replace_with_marker(value),
        _ => false,
    }
}

/// A command line given as a list of arguments, as a sandbox's process tool records it:
/// `["--password", "hunter2"]`, `["docker", "login", "-p", "..."]`, `["mysql", "-pSECRET"]`.
fn redact_argv(items: &mut [Value]) -> bool {
    let is_word = |item: &Value, words: &[&str]| {
        item.as_str().is_some_and(|arg| words.iter().any(|word| arg.ends_with(word)))
    };
    let is_mysql = items.iter().any(|item| is_word(item, &["mysql", "mariadb", "mysqldump"]));
    let is_login = items.iter().any(|item| is_word(item, &["login", "sshpass"]));
    let mut changed = false;
    for idx in 0..items.len() {
        let Some(arg) = items[idx].as_str() else { continue };
        if is_mysql && arg.len() > 2 && arg.starts_with("-p") && !arg[2..].contains(MARKER) {
            items[idx] = Value::String(format!("-p{MARKER}"));
            changed = true;
            continue;
        }
        let Some(flag) = arg.strip_prefix('-') else { continue };
        let flag = flag.trim_start_matches('-');
        let Some(Value::String(next)) = items.get(idx + 1) else { continue };
        let names_secret = (is_login && flag == "p")
            || (!flag.contains('=')
                && is_sensitive_name(flag, NameSite::Key, ValueShape::Text(next)));
        if names_secret && !next.starts_with('-') && !is_placeholder(next) {
            changed |= replace_with_marker(&mut items[idx + 1]);
        }
    }
    changed
}

/// `[["Content-Type", "..."], ["X-Api-Key", "..."]]`: a list whose every item is a
/// two-element array starting with a string is a list of name/value pairs.
fn redact_pair_list(items: &mut [Value]) -> bool {
    let is_pair =
        |item: &Value| matches!(item, Value::Array(pair) if pair.len() == 2 && pair[0].is_string());
    if items.is_empty() || !items.iter().all(is_pair) {
        return false;
    }
    let mut changed = false;
    for item in items {
        if let Value::Array(pair) = item
            && let [Value::String(name), value] = pair.as_mut_slice()
            && is_sensitive_key(name, value)
        {
            changed |= replace_with_marker(value);
        }
    }
    changed
}

/// `text.trim()`, without its Unicode tables when neither end is whitespace: every whitespace
/// character is ASCII at most 0x20 or starts with a byte of 0x80 or more.
fn trim_whitespace(text: &str) -> &str {
    let is_plain = |byte: &u8| (0x21..0x80).contains(byte);
    match text.as_bytes() {
        [first, .., last] if is_plain(first) && is_plain(last) => text,
        _ => text.trim(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(input: Value, expected: Value) {
        let mut value = input.clone();
        Scanner::new().redact_value(&mut value);
        assert_eq!(value, expected, "input: {input}");
    }

    #[test]
    fn event_model_keys_are_known_by_name() {
        let names = [
            "codeSnippet",
            "codeLength",
            "resultPreview",
            "durationMs",
            "timeoutMs",
            "url",
            "method",
            "reason",
            "permanent",
            "expiresIn",
            "binding",
            "methods",
            "violation",
            "code",
            "blocked",
            "target",
            "property",
            "error",
            "exitCode",
            "status",
        ];
        for name in names {
            assert!(is_event_model_key(name), "{name}");
        }
        for other in ["", "URL", "codes", "apiKey", "durationMS", "password", "resultPreviews"] {
            assert!(!is_event_model_key(other), "{other}");
        }
    }

    #[test]
    fn keys_pairs_and_json_in_strings() {
        check(json!({"a": {"b": [{"apiKey": 42}]}}), json!({"a": {"b": [{"apiKey": MARKER}]}}));
        check(
            json!({"has_password": true, "max_tokens": 10}),
            json!({"has_password": true, "max_tokens": 10}),
        );
        check(
            json!([{"name": "DB_PASSWORD", "value": "x1"}, {"name": "DB_PASSWORD_FILE", "value": "/run/s"}]),
            json!([{"name": "DB_PASSWORD", "value": MARKER}, {"name": "DB_PASSWORD_FILE", "value": "/run/s"}]),
        );
        check(
            json!([{"key": "password", "val": "x2"}, {"NAME": "TOKEN", "VALUE": "x3"}]),
            json!([{"key": "password", "val": MARKER}, {"NAME": "TOKEN", "VALUE": MARKER}]),
        );
        check(
            json!([["Accept", "*/*"], ["X-Api-Key", "k1"]]),
            json!([["Accept", "*/*"], ["X-Api-Key", MARKER]]),
        );
        // JSON in a string keeps its layout when spans suffice, not when a whole object goes.
        check(
            json!({"body": "{\"password\": \"p1\"}"}),
            json!({"body": "{\"password\": \"<redacted>\"}"}),
        );
        check(
            json!({"body": "{\"auth\": {\"k\": 1}}"}),
            json!({"body": "{\"auth\":\"<redacted>\"}"}),
        );
        check(json!({"body": "{ \"user\": \"a\" }"}), json!({"body": "{ \"user\": \"a\" }"}));
    }

    #[test]
    fn private_parts_of_a_json_web_key() {
        check(
            json!({"kty": "EC", "crv": "P-256", "x": "f83O", "y": "x_FE", "d": "jpsQnnGQ"}),
            json!({"kty": "EC", "crv": "P-256", "x": "f83O", "y": "x_FE", "d": MARKER}),
        );
        check(json!({"d": "2024-01-01"}), json!({"d": "2024-01-01"}));
    }

    #[test]
    fn argument_lists() {
        check(json!(["run", "--password", "hunter2pass"]), json!(["run", "--password", MARKER]));
        check(
            json!(["docker", "login", "-p", "pw123456"]),
            json!(["docker", "login", "-p", MARKER]),
        );
        check(
            json!(["mysql", "-uroot", "-pS3cret"]),
            json!(["mysql", "-uroot", format!("-p{MARKER}")]),
        );
        check(json!(["node", "-p", "8080"]), json!(["node", "-p", "8080"]));
        check(json!(["run", "--api-key", "$API_KEY"]), json!(["run", "--api-key", "$API_KEY"]));
    }
}
