//! The errors of the sink and the logger.

use std::error::Error as StdError;
use std::io;
use std::path::PathBuf;

/// Why a sink could not do what it was asked.
///
/// Messages name the file and the action; they never hold event contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// A file system call failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What the sink was doing, such as "append to".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A sink other than the file sink failed, in its own words.
    #[error("{0}")]
    Other(String),
}

impl SinkError {
    /// A failed file system call on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> SinkError {
        SinkError::Io { action, path: path.into(), source }
    }

    /// The underlying IO error, if any.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            SinkError::Io { source, .. } => Some(source),
            SinkError::Other(_) => None,
        }
    }
}

/// Why a batch was not written whole: the failure, and how many of the batch's events, from
/// the first, were written before it.
///
/// A sink that writes all or nothing returns it with `written` 0, which `?` does from a
/// [`SinkError`].
#[derive(Debug, thiserror::Error)]
#[error("{written} events of the batch were written, then the sink failed")]
pub struct BatchError {
    /// Events at the start of the batch that are in the log.
    pub written: usize,
    /// Why the rest are not.
    #[source]
    pub source: SinkError,
}

impl From<SinkError> for BatchError {
    fn from(source: SinkError) -> BatchError {
        BatchError { written: 0, source }
    }
}

/// Why an [`AuditLogger`](crate::AuditLogger) could not be built, or why a flush could not
/// put everything on disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggerError {
    /// The builder was given neither a directory nor a sink.
    #[error("no destination: set a directory or a sink")]
    NoDestination,
    /// A sampling rate lies outside 0.0 to 1.0 or is not a number.
    #[error("sample rate for {event_type}: {rate} is not between 0.0 and 1.0")]
    InvalidSampleRate {
        /// The event type's wire name.
        event_type: String,
        /// The rate given.
        rate: f64,
    },
    /// A sampling rate names no event type.
    #[error("sample rate for {event_type:?}: not an event type")]
    UnknownEventType {
        /// The name given.
        event_type: String,
    },
    /// The queue budget is zero.
    #[error("queue budget must be at least 1 byte")]
    ZeroQueueBudget,
    /// Opening the sink failed.
    #[error("opening the sink")]
    Sink(#[from] SinkError),
    /// The writer thread could not be started.
    #[error("starting the writer thread")]
    Spawn(#[source] io::Error),
    /// Some events logged before a flush could not be written; the log declares them in an
    /// `audit_events_lost` record once the sink works again.
    #[error("the sink is failing: {last_error}")]
    Unhealthy {
        /// The sink's last error, with its causes.
        last_error: String,
    },
    /// The writer thread is gone (it panicked); nothing more can be written.
    #[error("the writer thread has stopped")]
    WriterStopped,
}

/// `error` and its causes, joined with ": ", as `anyhow` prints them with `{:#}`.
pub(crate) fn error_chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
