//! Secret redaction for audit events: the step between an executor's `log(event)` and the
//! file.
//!
//! A [`Redactor`], built once per logger from a [`RedactionPolicy`], turns an [`AuditEvent`]
//! into a [`RedactedEvent`], or renders it as a JSON line into a [`RedactedBatch`]. Only this
//! crate can build either, and sinks accept nothing else, so no event reaches a file without
//! passing through here.
//!
//! The redactor works on the whole event, context and details, at every depth:
//!
//! - **by key**: the value under a key whose words name a secret (`apiKey`, `client_secret`,
//!   `DB-PASSWORD`, `x-api-key`) is replaced whole, whatever its type, while `tokenCount`,
//!   `secretary` or `password_policy_url` stay. Name/value pair lists count as keys.
//! - **in free text** (snippets, error messages, URLs, any string): credentials found by
//!   shape, such as provider tokens (GitHub, AWS, Slack, Stripe, OpenAI...), JWTs, bearer and
//!   basic credentials, private key blocks, the password of a URL or connection string,
//!   sensitive URL query parameters, and assignments such as `password = "..."`,
//!   `API_KEY: ...` or `--password ...`. Only the secret's span is replaced, the rest of the
//!   text stays byte-identical. A string that holds JSON is redacted as JSON.
//!
//! Each secret becomes the fixed marker `<redacted>`. Then long text is cut: `codeSnippet` to
//! 500 characters (with `codeLength` keeping the original length), `resultPreview` to 200,
//! `error` to 500.
//!
//! ```
//! use audit_core::AuditEvent;
//! use audit_redact::{RedactionPolicy, Redactor};
//!
//! let redactor = Redactor::new(RedactionPolicy::default());
//! let event = AuditEvent::network_request_allowed(
//!     "https://api.example.com/v1/items?page=2&api_key=JR29kjNo4vnTPrneCOOY&limit=50",
//!     "GET",
//! )
//! .with_detail("headers", serde_json::json!({"Authorization": "Bearer eyJhbGciOi.eyJzdWIi.sig"}));
//! let redacted = redactor.redact(event);
//! let details = &redacted.as_event().details;
//! let url = "https://api.example.com/v1/items?page=2&api_key=<redacted>&limit=50";
//! assert_eq!(details["url"], url);
//! assert_eq!(details["headers"]["Authorization"], "<redacted>");
//! ```
//!
//! Turning redaction off takes [`RedactionPolicy::without_redaction`], and every event then
//! written says so in its details (`"redaction":"disabled"`).

#![warn(missing_docs, unreachable_pub)]

mod assignment;
mod batch;
mod lines;
mod providers;
mod quiet;
mod scan;
mod shapes;
mod truncate;
mod value;
mod words;

use std::borrow::Cow;
use std::sync::Arc;

use audit_core::{AuditEvent, Details};
use serde_json::Value;

pub use batch::RedactedBatch;
pub use lines::LineRedactor;
pub use scan::MARKER;
pub use truncate::TRUNCATION_SUFFIX;

use scan::Scanner;

/// The longest `codeSnippet` kept, in Unicode scalar values.
pub const CODE_SNIPPET_LIMIT: usize = 500;
/// The longest `resultPreview` kept, in Unicode scalar values.
pub const RESULT_PREVIEW_LIMIT: usize = 200;
/// The longest `error` kept, in Unicode scalar values.
pub const ERROR_LIMIT: usize = 500;
/// What replaces a code snippet when snippets are turned off.
pub const SNIPPET_OMITTED: &str = "<omitted>";

/// The details key and value that mark an event written with redaction turned off.
pub const REDACTION_DISABLED: (&str, &str) = ("redaction", "disabled");

/// What the redactor does: which rules run and how long free text may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactionPolicy {
    /// Whether secrets are redacted at all. Prefer [`RedactionPolicy::without_redaction`] to
    /// setting this to `false`: it says what it does where it is called.
    pub redact_secrets: bool,
    /// Whether code snippets are kept (redacted and truncated) or replaced.
    pub include_code_snippets: bool,
}

impl Default for RedactionPolicy {
    fn default() -> RedactionPolicy {
        RedactionPolicy { redact_secrets: true, include_code_snippets: true }
    }
}

impl RedactionPolicy {
    /// A policy that keeps every secret in the log, for debugging a sandbox on a developer's
    /// machine. Events written under it carry `"redaction":"disabled"` in their details.
    pub fn without_redaction() -> RedactionPolicy {
        RedactionPolicy { redact_secrets: false, ..RedactionPolicy::default() }
    }
}

/// Cleans events of secrets. Cheap to clone: the compiled rules are shared.
#[derive(Debug, Clone)]
pub struct Redactor {
    policy: RedactionPolicy,
    scanner: Arc<Scanner>,
}

impl Default for Redactor {
    fn default() -> Redactor {
        Redactor::new(RedactionPolicy::default())
    }
}

/// An event that went through a [`Redactor`]: the only thing a sink writes.
///
/// No code outside this crate can make one except through [`Redactor::redact`]:
///
/// ```compile_fail
/// let event = audit_core::AuditEvent::code_execution_start("password = 'hunter2'");
/// let forged = audit_redact::RedactedEvent { event };
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RedactedEvent {
    event: AuditEvent,
}

impl Redactor {
    /// A redactor applying `policy`. Compiles the rules: build one per logger and clone it.
    pub fn new(policy: RedactionPolicy) -> Redactor {
        Redactor { policy, scanner: Arc::new(Scanner::new()) }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RedactionPolicy {
        &self.policy
    }

    /// Redacts `event`, then cuts its long text fields.
    pub fn redact(&self, mut event: AuditEvent) -> RedactedEvent {
        self.clean(&mut event);
        RedactedEvent { event }
    }

    /// Redacts `event` in place, then cuts its long text fields: what [`Redactor::redact`]
    /// does, without moving the event.
    pub(crate) fn clean(&self, event: &mut AuditEvent) {
        let snippet_length = match find_mut(&mut event.details, "codeSnippet") {
            Some(Value::String(snippet)) => Some(snippet.chars().count()),
            _ => None,
        };
        if self.policy.redact_secrets {
            for text in [
                &mut event.context.mcp_name,
                &mut event.context.binding_name,
                &mut event.context.user_id,
                &mut event.context.session_id,
            ]
            .into_iter()
            .flatten()
            {
                self.scanner.redact_string(text);
            }
            self.scanner.redact_map(&mut event.details);
        } else {
            event.details.insert(REDACTION_DISABLED.0.into(), REDACTION_DISABLED.1.into());
        }
        self.cut_long_text(&mut event.details, snippet_length);
    }

    fn cut_long_text(&self, details: &mut Details, snippet_length: Option<usize>) {
        if let Some(Value::String(snippet)) = find_mut(details, "codeSnippet") {
            let replacement = if self.policy.include_code_snippets {
                truncate::truncate_chars(snippet, CODE_SNIPPET_LIMIT)
            } else {
                Some(SNIPPET_OMITTED.to_owned()).filter(|_| snippet != SNIPPET_OMITTED)
            };
            if let Some(replacement) = replacement {
                *snippet = replacement;
                if let Some(length) = snippet_length {
                    details.entry("codeLength").or_insert(length.into());
                }
            }
        }
        for (key, limit) in [("resultPreview", RESULT_PREVIEW_LIMIT), ("error", ERROR_LIMIT)] {
            if let Some(Value::String(text)) = find_mut(details, key)
                && let Some(cut) = truncate::truncate_chars(text, limit)
            {
                *text = cut;
            }
        }
    }

    /// Redacts free text (a snippet, an error message, a log line); borrowed when nothing was
    /// found. Ignores [`RedactionPolicy::redact_secrets`]: calling it is asking for it.
    pub fn redact_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.scanner.redact(text)
    }

    /// A redactor of free text given one line at a time (a plain-text log), which also
    /// catches a private key block spread over several lines.
    pub fn lines(&self) -> LineRedactor<'_> {
        LineRedactor::new(self)
    }

    /// Redacts free text as a code snippet: redaction, then the cut to
    /// [`CODE_SNIPPET_LIMIT`] characters.
    pub fn redact_snippet(&self, text: &str) -> String {
        let redacted = self.scanner.redact(text);
        truncate::truncate_chars(&redacted, CODE_SNIPPET_LIMIT)
            .unwrap_or_else(|| redacted.into_owned())
    }

    /// Redacts any JSON value as event details are redacted: keys at every depth, pair lists,
    /// strings as free text or as the JSON they hold. A bare string is free text.
    pub fn redact_json(&self, mut value: Value) -> Value {
        self.scanner.redact_value(&mut value);
        value
    }
}

/// `map.get_mut(key)`, by a linear pass over the few keys details usually have: cheaper than
/// hashing `key` with the map's (DoS-resistant, slow) hasher.
pub(crate) fn find_mut<'a>(map: &'a mut Details, key: &str) -> Option<&'a mut Value> {
    if map.len() > 16 {
        return map.get_mut(key);
    }
    map.iter_mut().find_map(|(name, value)| (name == key).then_some(value))
}

impl RedactedEvent {
    /// The redacted event.
    pub fn as_event(&self) -> &AuditEvent {
        &self.event
    }

    /// Whether secrets were redacted (false only under
    /// [`RedactionPolicy::without_redaction`]).
    pub fn is_redacted(&self) -> bool {
        self.event.details.get(REDACTION_DISABLED.0).and_then(Value::as_str)
            != Some(REDACTION_DISABLED.1)
    }

    /// Appends the event as one line of compact JSON, with its newline, to `buffer`.
    pub fn write_json_line(&self, buffer: &mut Vec<u8>) {
        self.event.write_json(buffer);
        buffer.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}

    #[test]
    fn the_redactor_can_be_shared_between_threads() {
        assert_send_sync_clone::<Redactor>();
    }

    #[test]
    fn a_long_snippet_is_redacted_then_cut_and_keeps_its_length() {
        let code = format!("{}const k = 'sk_live_b9UeIKdxGTH9Q1QUxTbHCm9zWG';\n", "x".repeat(484));
        let event = AuditEvent::code_execution_start(&code);
        let redacted = Redactor::default().redact(event);
        let details = &redacted.as_event().details;
        let snippet = details["codeSnippet"].as_str().unwrap();
        assert!(!snippet.contains("sk_live"), "{snippet}");
        assert!(snippet.ends_with(TRUNCATION_SUFFIX));
        // The marker would straddle the cut, so it goes whole.
        assert_eq!(snippet, format!("{}const k = '{TRUNCATION_SUFFIX}", "x".repeat(484)));
        assert_eq!(details["codeLength"], code.chars().count());
    }

    #[test]
    fn snippets_turned_off_are_replaced_and_keep_their_length() {
        let policy = RedactionPolicy { include_code_snippets: false, ..Default::default() };
        let event = AuditEvent::code_execution_error("return 1", "boom", Duration::ZERO);
        let redacted = Redactor::new(policy).redact(event);
        assert_eq!(redacted.as_event().details["codeSnippet"], SNIPPET_OMITTED);
        assert_eq!(redacted.as_event().details["codeLength"], 8);
    }

    #[test]
    fn redaction_off_is_written_into_the_event() {
        let event = AuditEvent::code_execution_start("password = 'hunter2hunter2'");
        let redacted = Redactor::new(RedactionPolicy::without_redaction()).redact(event);
        assert!(!redacted.is_redacted());
        let mut line = Vec::new();
        redacted.write_json_line(&mut line);
        let line = String::from_utf8(line).unwrap();
        assert!(line.contains(r#""redaction":"disabled""#), "{line}");
        assert!(line.contains("hunter2hunter2"));
        assert!(line.ends_with('\n'));
    }

    #[test]
    fn context_and_nested_details_are_redacted() {
        let event = AuditEvent::binding_accessed("db", "query", Duration::ZERO)
            .with_user_id("https://bob:s3cretpw@x.example")
            .with_detail("args", serde_json::json!([{"conn": {"password": 12345678}}]));
        let redacted = Redactor::default().redact(event);
        let event = redacted.as_event();
        assert_eq!(event.context.user_id.as_deref(), Some("https://bob:<redacted>@x.example"));
        assert_eq!(event.details["args"][0]["conn"]["password"], MARKER);
        assert!(redacted.is_redacted());
    }
}
