//! The audit event and its context.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{EventType, Outcome, Severity, Timestamp};

/// The free-form part of an event: a JSON object, kept in the order its keys were written.
pub type Details = Map<String, Value>;

/// Who and where: the MCP server, the tool binding, the user and the session an event belongs
/// to. Every field is optional.
///
/// The writer omits fields that are `None` rather than writing `null`, so a line carries only
/// what is known; a reader accepts both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventContext {
    /// The MCP server whose code or tool is involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_name: Option<String>,
    /// The tool binding that was called or made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_name: Option<String>,
    /// The user on whose behalf the sandbox runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The sandbox session, usually a [`SessionId`](crate::SessionId).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

impl EventContext {
    /// The wire names of the context fields, in the order they are written.
    pub const FIELD_NAMES: [&'static str; 4] = ["mcpName", "bindingName", "userId", "sessionId"];

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.mcp_name.is_none()
            && self.binding_name.is_none()
            && self.user_id.is_none()
            && self.session_id.is_none()
    }

    /// The field with wire name `name`, if `name` is one of [`Self::FIELD_NAMES`].
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "mcpName" => Some(&mut self.mcp_name),
            "bindingName" => Some(&mut self.binding_name),
            "userId" => Some(&mut self.user_id),
            "sessionId" => Some(&mut self.session_id),
            _ => None,
        }
    }
}

/// One audit record: what happened, when, how much it matters, in what context, and how it
/// ended.
///
/// It serializes as one compact JSON object with the keys in the fixed order `timestamp`,
/// `type`, `severity`, `context`, `details`, `outcome`. Reading one back goes through
/// [`AuditEvent::from_json`] (strict) or [`LenientEvent`](crate::LenientEvent) (anything
/// anyone wrote).
///
/// The typed constructors fill the details fields the design names and the type's default
/// severity and outcome ([`EventType::default_severity`], [`EventType::default_outcome`]);
/// the `with_*` methods adjust the rest:
///
/// ```
/// use std::time::Duration;
/// use audit_core::AuditEvent;
///
/// let event = AuditEvent::code_execution_success("return 6 * 7", "42", Duration::from_millis(12))
///     .with_mcp_name("code-mode")
///     .with_session_id("session-1732008930123-abc123");
/// let line = event.to_json_line();
/// assert!(line.contains(r#""details":{"codeSnippet":"return 6 * 7","codeLength":12,"#));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    /// When it happened, in UTC.
    pub timestamp: Timestamp,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// How much it matters.
    pub severity: Severity,
    /// Who and where.
    pub context: EventContext,
    /// Everything else, as a JSON object.
    #[serde(serialize_with = "crate::json_line::serialize_details")]
    pub details: Details,
    /// How it ended.
    pub outcome: Outcome,
}

impl AuditEvent {
    /// An event of `event_type` happening now, with the type's default severity and outcome,
    /// an empty context and the given details.
    pub fn new(event_type: EventType, details: Details) -> AuditEvent {
        AuditEvent {
            timestamp: Timestamp::now(),
            event_type,
            severity: event_type.default_severity(),
            context: EventContext::default(),
            details,
            outcome: event_type.default_outcome(),
        }
    }

    /// The event as one line of compact JSON, without the newline.
    pub fn to_json_line(&self) -> String {
        let mut buffer = Vec::with_capacity(256);
        self.write_json(&mut buffer);
        // OK because the writer copies whole `str`s and adds ASCII only.
        String::from_utf8(buffer).expect("an audit line is UTF-8")
    }

    /// Appends the event as compact JSON, without a newline, to `buffer`.
    ///
    /// The bytes are those `serde_json` writes for the `Serialize` implementation, written
    /// by hand because the writer does this once per event.
    ///
    /// A details number too large for a 64-bit float (such as a `Value` parsed from `1e400`)
    /// is written as `null`, as an infinite `f64` is: readers would take it for infinity.
    /// [`AuditEvent::validate`] refuses such an event, for callers who would rather know.
    pub fn write_json(&self, buffer: &mut Vec<u8>) {
        crate::json_line::write_event(self, buffer);
    }

    /// Sets when the event happened.
    #[must_use]
    pub fn at(mut self, timestamp: Timestamp) -> AuditEvent {
        self.timestamp = timestamp;
        self
    }

    /// Sets the severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> AuditEvent {
        self.severity = severity;
        self
    }

    /// Sets the outcome.
    #[must_use]
    pub fn with_outcome(mut self, outcome: Outcome) -> AuditEvent {
        self.outcome = outcome;
        self
    }

    /// Replaces the whole context.
    #[must_use]
    pub fn with_context(mut self, context: EventContext) -> AuditEvent {
        self.context = context;
        self
    }

    /// Sets `context.mcpName`.
    #[must_use]
    pub fn with_mcp_name(mut self, mcp_name: impl Into<String>) -> AuditEvent {
        self.context.mcp_name = Some(mcp_name.into());
        self
    }

    /// Sets `context.bindingName`.
    #[must_use]
    pub fn with_binding_name(mut self, binding_name: impl Into<String>) -> AuditEvent {
        self.context.binding_name = Some(binding_name.into());
        self
    }

    /// Sets `context.userId`.
    #[must_use]
    pub fn with_user_id(mut self, user_id: impl Into<String>) -> AuditEvent {
        self.context.user_id = Some(user_id.into());
        self
    }

    /// Sets `context.sessionId`.
    #[must_use]
    pub fn with_session_id(mut self, session_id: impl Into<String>) -> AuditEvent {
        self.context.session_id = Some(session_id.into());
        self
    }

    /// Sets one details field, replacing any earlier value under `key`.
    ///
    /// A float that is NaN or infinite becomes `null`: JSON cannot spell it, and the log never
    /// holds anything a JSON reader would refuse. A number parsed from text too large for a
    /// 64-bit float (`1e400`) is kept, but written as `null` (see [`AuditEvent::write_json`]).
    #[must_use]
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> AuditEvent {
        self.details.insert(key.into(), value.into());
        self
    }
}

/// Milliseconds in `duration`, saturating at `u64::MAX`.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Empty details with room for the `n_fields` a constructor writes and a few more that
/// callers commonly add, so that the map is not grown and rehashed per event.
fn details_for(n_fields: usize) -> Details {
    Details::with_capacity(n_fields + 2)
}

/// Details holding a code snippet and its length in Unicode scalar values, with room for
/// `n_more` fields.
fn code_details(code: &str, n_more: usize) -> Details {
    let mut details = details_for(2 + n_more);
    details.insert("codeSnippet".into(), code.into());
    details.insert("codeLength".into(), code.chars().count().into());
    details
}

fn url_details(url: &str, n_more: usize) -> Details {
    let mut details = details_for(1 + n_more);
    details.insert("url".into(), url.into());
    details
}

/// The typed constructors, one per sandbox event type. Each documents the details it writes;
/// the severity and outcome are the type's defaults unless said otherwise.
impl AuditEvent {
    /// Code is about to run: `codeSnippet`, `codeLength`. Info, pending.
    pub fn code_execution_start(code: &str) -> AuditEvent {
        AuditEvent::new(EventType::CodeExecutionStart, code_details(code, 0))
    }

    /// Code ran: `codeSnippet`, `codeLength`, `resultPreview`, `durationMs`. Info, success.
    pub fn code_execution_success(
        code: &str,
        result_preview: &str,
        duration: Duration,
    ) -> AuditEvent {
        let mut details = code_details(code, 2);
        details.insert("resultPreview".into(), result_preview.into());
        details.insert("durationMs".into(), millis(duration).into());
        AuditEvent::new(EventType::CodeExecutionSuccess, details)
    }

    /// Code failed: `codeSnippet`, `codeLength`, `error`, `durationMs`. Error, failure.
    pub fn code_execution_error(code: &str, error: &str, duration: Duration) -> AuditEvent {
        let mut details = code_details(code, 2);
        details.insert("error".into(), error.into());
        details.insert("durationMs".into(), millis(duration).into());
        AuditEvent::new(EventType::CodeExecutionError, details)
    }

    /// Code ran out of time: `codeSnippet`, `codeLength`, `timeoutMs`, `durationMs`. Error,
    /// failure.
    pub fn code_execution_timeout(code: &str, timeout: Duration, duration: Duration) -> AuditEvent {
        let mut details = code_details(code, 2);
        details.insert("timeoutMs".into(), millis(timeout).into());
        details.insert("durationMs".into(), millis(duration).into());
        AuditEvent::new(EventType::CodeExecutionTimeout, details)
    }

    /// A request passed the policy: `url`, `method`. Info, success.
    pub fn network_request_allowed(url: &str, method: &str) -> AuditEvent {
        let mut details = url_details(url, 1);
        details.insert("method".into(), method.into());
        AuditEvent::new(EventType::NetworkRequestAllowed, details)
    }

    /// A request was refused: `url`, `method`, `reason`. Warning, blocked.
    pub fn network_request_denied(url: &str, method: &str, reason: &str) -> AuditEvent {
        let mut details = url_details(url, 2);
        details.insert("method".into(), method.into());
        details.insert("reason".into(), reason.into());
        AuditEvent::new(EventType::NetworkRequestDenied, details)
    }

    /// A permission was granted: `url`, `permanent`, and `expiresIn` (`"never"` for a
    /// permanent grant, else the lifetime such as `"1h"`). Info, success.
    pub fn network_permission_granted(url: &str, expires_in: Option<&str>) -> AuditEvent {
        let mut details = url_details(url, 2);
        details.insert("permanent".into(), expires_in.is_none().into());
        details.insert("expiresIn".into(), expires_in.unwrap_or("never").into());
        AuditEvent::new(EventType::NetworkPermissionGranted, details)
    }

    /// A permission was refused: `url`, `reason`. Warning, blocked.
    pub fn network_permission_denied(url: &str, reason: &str) -> AuditEvent {
        let mut details = url_details(url, 1);
        details.insert("reason".into(), reason.into());
        AuditEvent::new(EventType::NetworkPermissionDenied, details)
    }

    /// A permission was taken back: `url`, `reason`. Info, success.
    pub fn network_permission_revoked(url: &str, reason: &str) -> AuditEvent {
        let mut details = url_details(url, 1);
        details.insert("reason".into(), reason.into());
        AuditEvent::new(EventType::NetworkPermissionRevoked, details)
    }

    /// A binding was called: `binding`, `method`, `durationMs`; sets `context.bindingName`.
    /// Info, success.
    pub fn binding_accessed(binding: &str, method: &str, duration: Duration) -> AuditEvent {
        let mut details = details_for(3);
        details.insert("binding".into(), binding.into());
        details.insert("method".into(), method.into());
        details.insert("durationMs".into(), millis(duration).into());
        AuditEvent::new(EventType::BindingAccessed, details).with_binding_name(binding)
    }

    /// A binding was made available: `binding`, `methods` (the names it offers); sets
    /// `context.bindingName`. Info, success.
    pub fn binding_created(binding: &str, methods: &[&str]) -> AuditEvent {
        let mut details = details_for(2);
        details.insert("binding".into(), binding.into());
        details.insert("methods".into(), methods.to_vec().into());
        AuditEvent::new(EventType::BindingCreated, details).with_binding_name(binding)
    }

    /// Code broke a rule: `violation`, `code`, `blocked` (true). Critical, blocked.
    pub fn security_violation(violation: &str, code: &str) -> AuditEvent {
        let mut details = details_for(3);
        details.insert("violation".into(), violation.into());
        details.insert("code".into(), code.into());
        details.insert("blocked".into(), true.into());
        AuditEvent::new(EventType::SecurityViolation, details)
    }

    /// A prototype pollution was stopped: `target` (such as `Object.prototype`), `property`,
    /// `blocked` (true). Critical, blocked.
    pub fn prototype_pollution_blocked(target: &str, property: &str) -> AuditEvent {
        let mut details = details_for(3);
        details.insert("target".into(), target.into());
        details.insert("property".into(), property.into());
        details.insert("blocked".into(), true.into());
        AuditEvent::new(EventType::PrototypePollutionBlocked, details)
    }

    /// A worker died: `error`, and `exitCode` when the worker exited with one. Error, failure.
    pub fn worker_thread_failed(error: &str, exit_code: Option<i32>) -> AuditEvent {
        let mut details = details_for(2);
        details.insert("error".into(), error.into());
        if let Some(exit_code) = exit_code {
            details.insert("exitCode".into(), exit_code.into());
        }
        AuditEvent::new(EventType::WorkerThreadFailed, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_golden_time(event: AuditEvent) -> String {
        event.at(Timestamp::parse("2025-11-19T10:15:30.456Z").unwrap()).to_json_line()
    }

    #[test]
    fn constructors_write_the_design_shape() {
        let line = at_golden_time(
            AuditEvent::network_request_denied("http://evil.com/x", "POST", "not allowed")
                .with_mcp_name("Worker Code"),
        );
        assert_eq!(
            line,
            r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"Worker Code"},"details":{"url":"http://evil.com/x","method":"POST","reason":"not allowed"},"outcome":"blocked"}"#
        );
        let line = at_golden_time(AuditEvent::security_violation("eval", "eval(x)"));
        assert_eq!(
            line,
            r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"security_violation","severity":"critical","context":{},"details":{"violation":"eval","code":"eval(x)","blocked":true},"outcome":"blocked"}"#
        );
    }

    #[test]
    fn code_length_counts_characters_not_bytes() {
        let event = AuditEvent::code_execution_start("é😀");
        assert_eq!(event.details["codeLength"], 2);
    }

    #[test]
    fn non_finite_floats_become_null() {
        let event = AuditEvent::code_execution_start("x")
            .with_detail("nan", f64::NAN)
            .with_detail("inf", f64::INFINITY)
            .with_detail("half", 0.5);
        let line = event.to_json_line();
        assert!(line.contains(r#""nan":null,"inf":null,"half":0.5"#), "{line}");
    }

    #[test]
    fn permission_grants_say_whether_they_are_permanent() {
        let permanent = AuditEvent::network_permission_granted("http://a.test/", None);
        assert_eq!(permanent.details["permanent"], true);
        assert_eq!(permanent.details["expiresIn"], "never");
        let timed = AuditEvent::network_permission_granted("http://a.test/", Some("1h"));
        assert_eq!(timed.details["permanent"], false);
        assert_eq!(timed.details["expiresIn"], "1h");
    }
}
