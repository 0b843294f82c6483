//! Puts redacted audit events on disk, fast, and never loses one without saying so.
//!
//! Executor threads hold an [`AuditLogger`] and call [`AuditLogger::log`] once per event. The
//! call only appends the event to a queue owned by the calling thread; a writer thread drains
//! all queues every flush interval, redacts each event with the
//! [`Redactor`](audit_redact::Redactor) into a [`RedactedBatch`] of JSON lines, and hands the
//! batch to a [`Sink`], which writes it with one write call. A thread that logs faster than
//! the writer can keep up redacts and renders its own events instead (see
//! [`LoggerStatus::rendered_by_callers`]): that is cheaper on the thread that built them. The [`FileSink`] is the sink of the audit files: a daily file
//! `audit-YYYY-MM-DD.jsonl` (the UTC day of the write), size rotation, retention, optional
//! gzip, and several processes sharing one directory under an advisory lock.
//!
//! Nothing is lost silently: events left out by sampling, dropped under backpressure or not
//! written because the disk failed are counted in [`LoggerStatus`] and declared in the log
//! itself by `audit_events_sampled` and `audit_events_lost` records, so that written plus
//! declared equals logged.
//!
//! Every line carries its link in the directory's integrity chain (see
//! [`audit_core::split_chained_line`]); each new file opens with a checkpoint naming the file
//! before it, an `interval` checkpoint names the head of the chain inside the active file
//! every [`DEFAULT_CHECKPOINT_INTERVAL`] while events come (see
//! [`AuditLoggerBuilder::checkpoint_interval`]), and `.audit-head` holds the newest link.
//! [`verify_dir`] reads a directory back and reports, per file, whatever was modified,
//! deleted, inserted, reordered, duplicated, truncated, removed or swapped.
//!
//! ```
//! use std::time::Duration;
//! use audit_core::AuditEvent;
//! use audit_sink::AuditLogger;
//!
//! let dir = tempfile::tempdir()?;
//! let logger = AuditLogger::builder().dir(dir.path()).build()?;
//! logger.log(AuditEvent::code_execution_success("return 1", "1", Duration::from_millis(3)));
//! logger.flush()?;
//! assert_eq!(logger.status().written, 1);
//! logger.shutdown()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod chain_state;
mod clock;
mod compress;
mod error;
mod file_sink;
mod logger;
mod naming;
mod retention;
mod verify;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{BatchError, LoggerError, SinkError};
pub use file_sink::{DEFAULT_CHECKPOINT_INTERVAL, FileSink, FileSinkOptions, LOCK_FILE_NAME};
pub use logger::{AuditLogger, AuditLoggerBuilder, LoggerStatus};
pub use naming::SegmentName;
pub use retention::Retention;
pub use verify::{
    FileReport, Finding, FindingKind, HEAD_FILE, Verdict, VerifyError, VerifyReport, verify_dir,
};

/// Re-exported so that callers name durability and backpressure without depending on
/// `audit-config`.
pub use audit_config::{Backpressure, Durability};

use audit_redact::RedactedBatch;

/// A destination for redacted events.
///
/// The logger's writer thread owns its sink and calls it from that thread only. A sink
/// reports failures as values; the logger counts them, declares the lost events and retries.
pub trait Sink: Send {
    /// Writes the lines of `batch` in order, ideally with one write call.
    ///
    /// # Errors
    ///
    /// When not all of the lines could be written. The error says how many, from the first,
    /// were: the logger counts those events as written and the rest as lost. Those it names
    /// must be whole in the destination and the rest absent, so that none is written twice or
    /// declared lost while present.
    fn write_batch(&mut self, batch: &RedactedBatch) -> Result<(), BatchError>;

    /// Makes what was written durable as far as the sink's durability mode asks.
    ///
    /// # Errors
    ///
    /// When syncing failed.
    fn flush(&mut self) -> Result<(), SinkError>;

    /// Flushes and releases the sink's resources; called once, last.
    ///
    /// # Errors
    ///
    /// When the final flush failed.
    fn close(&mut self) -> Result<(), SinkError>;

    /// The last failure of work the sink does in the background (the file sink's gzip), for
    /// the logger's status; such a failure loses no event.
    fn background_error(&self) -> Option<String> {
        None
    }
}
