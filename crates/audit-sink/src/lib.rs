//! Writes redacted audit events to files.

#![warn(missing_docs, unreachable_pub)]

mod chain_state;
mod naming;
mod verify;

pub use naming::SegmentName;
pub use verify::{
    FileReport, Finding, FindingKind, HEAD_FILE, Verdict, VerifyError, VerifyReport, verify_dir,
};
