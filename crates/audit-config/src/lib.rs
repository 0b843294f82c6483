//! The configuration of ncp-audit.

#![warn(missing_docs, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// When written events reach stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Left to the page cache: fastest, loses what the kernel had not written at a power cut.
    None,
    /// One `fdatasync` per batch or every few milliseconds, shared by all events written since.
    #[default]
    GroupCommit,
    /// `fdatasync` before `flush` returns and after every batch.
    Sync,
}

/// What `log` does when the writer falls behind and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backpressure {
    /// Wait for room: lossless, may slow the caller.
    #[default]
    Block,
    /// Drop the event and count it; the count is written to the log as a loss record.
    Drop,
}

/// The effective configuration: every value the writer and the reader need.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// Whether auditing is on at all.
    pub enabled: bool,
    /// The directory holding the audit files.
    pub dir: PathBuf,
    /// Size at which the active file rotates, in bytes. `0` turns size rotation off.
    pub max_file_size_bytes: u64,
    /// How many rotated files retention keeps. `0` keeps all.
    pub max_files: u32,
    /// Whether code snippets are logged (redacted and truncated) or replaced.
    pub include_code_snippets: bool,
    /// Whether secrets are redacted.
    pub redact_sensitive_data: bool,
    /// Whether rotated files are gzipped in the background.
    pub compress_rotated: bool,
    /// Rotated files older than this many days are deleted. `None` keeps them.
    pub max_age_days: Option<u32>,
    /// Rotated files beyond this total size, in bytes, oldest first, are deleted. `None` keeps
    /// them.
    pub max_total_bytes: Option<u64>,
    /// How often the writer flushes what it has buffered, in milliseconds.
    pub flush_interval_ms: u64,
    /// When written events reach stable storage.
    pub durability: Durability,
    /// What `log` does when the queue is full.
    pub backpressure: Backpressure,
    /// The most memory queued events may take, in bytes.
    pub queue_budget_bytes: u64,
    /// Sampling rate per event type (its wire name), from 0.0 (none kept) to 1.0 (all kept).
    /// Types not listed are all kept; security-relevant types are never sampled.
    pub sample_rates: BTreeMap<String, f64>,
}
