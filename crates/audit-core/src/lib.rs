//! The audit event model of ncp-audit: what one record of the audit trail is.
//!
//! Every other crate of the workspace stands on these types. An executor builds an
//! [`AuditEvent`] with one of the typed constructors, the redactor cleans it, the sink writes
//! it as one line of JSON, and the command-line tool reads lines back, either strictly with
//! [`AuditEvent::from_json`] or, for files anyone may have written, as a [`LenientEvent`].
//!
//! An event has six parts, always written in this order: a [`Timestamp`] (UTC, milliseconds),
//! an [`EventType`], a [`Severity`], an [`EventContext`], free-form [`Details`] and an
//! [`Outcome`].
//!
//! ```
//! use audit_core::{AuditEvent, Severity};
//!
//! let line = r#"{"timestamp":"2025-11-19T10:17:22.345Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"Worker Code"},"details":{"url":"http://evil.com/exfiltrate","reason":"Domain not in whitelist"},"outcome":"blocked"}"#;
//! let event = AuditEvent::from_json(line)?;
//! assert_eq!(event.severity, Severity::Warning);
//! assert_eq!(event.to_json_line(), line);
//!
//! let error = AuditEvent::from_json(&line.replace("warning", "loud")).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     r#"severity: unknown severity "loud"; expected one of info, warning, error, critical"#,
//! );
//! # Ok::<(), audit_core::ValidationError>(())
//! ```
//!
//! Lines on disk also carry a seventh key, `chain`, that links each line to the one before it
//! (see [`split_chained_line`]); strict reading checks its shape and lenient reading keeps it.
//!
//! This crate does no IO: no files, no network, no printing. It reads the system clock (for
//! [`Timestamp::now`]) and the system's random source (for [`SessionId`]), nothing else.

#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod chain;
mod event;
mod json_line;
mod kinds;
mod lenient;
mod session;
mod timestamp;
mod validate;

pub use chain::{ChainLink, ChainedLine, append_chained_line, link_hash, split_chained_line};
pub use event::{AuditEvent, Details, EventContext};
pub use kinds::{EventType, Outcome, Severity, UnknownWord};
pub use lenient::{LenientError, LenientEvent};
pub use session::{RandomError, SessionId};
pub use timestamp::{Timestamp, TimestampError};
pub use validate::{CHAIN_KEY, Problem, TOP_LEVEL_KEYS, ValidationError, duplicate_key, json_kind};

/// Re-exported so that callers build details with the same `serde_json` this crate uses.
pub use serde_json;
