//! `ncp-audit record`: the way executors not written in Rust use the writer.

use std::io::{self, BufRead};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use audit_config::{AuditConfig, Backpressure, Durability};
use audit_core::AuditEvent;
use audit_sink::AuditLogger;

/// Where and how `record` writes.
#[derive(Debug, clap::Args)]
pub(crate) struct RecordArgs {
    /// The audit directory (default: `~/.ncp/audit`).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rotate a file before a write would take it past this many bytes (0: never).
    #[arg(long)]
    max_file_size_bytes: Option<u64>,
    /// How many rotated files to keep (0: all).
    #[arg(long)]
    max_files: Option<u32>,
}

/// The writer's settings when nothing is configured.
///
/// FIXME: read the effective configuration (settings file and `NCP_AUDIT_*` variables) once
/// audit-config's loader lands; another helper is writing it now, so these are the defaults
/// spelled out.
pub(crate) fn default_config(dir: Option<PathBuf>) -> anyhow::Result<AuditConfig> {
    let dir = match dir {
        Some(dir) => dir,
        None => {
            let home = std::env::var_os("HOME").context("HOME is not set; pass --dir")?;
            PathBuf::from(home).join(".ncp").join("audit")
        }
    };
    Ok(AuditConfig {
        enabled: true,
        dir,
        max_file_size_bytes: 10 * 1024 * 1024,
        max_files: 10,
        include_code_snippets: true,
        redact_sensitive_data: true,
        compress_rotated: false,
        max_age_days: None,
        max_total_bytes: None,
        flush_interval_ms: 100,
        durability: Durability::GroupCommit,
        backpressure: Backpressure::Block,
        queue_budget_bytes: 8 * 1024 * 1024,
        sample_rates: Default::default(),
    })
}

pub(crate) fn run(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let mut config = default_config(args.dir.clone())?;
    if let Some(bytes) = args.max_file_size_bytes {
        config.max_file_size_bytes = bytes;
    }
    if let Some(max_files) = args.max_files {
        config.max_files = max_files;
    }
    let logger = AuditLogger::from_config(&config)
        .with_context(|| format!("opening the audit directory {}", config.dir.display()))?;

    let (mut n_recorded, mut n_invalid) = (0_u64, 0_u64);
    let mut stdin = io::stdin().lock();
    let mut bytes = Vec::new();
    for line_number in 1_u64.. {
        bytes.clear();
        let n_read = stdin
            .read_until(b'\n', &mut bytes)
            .with_context(|| format!("reading stdin line {line_number}"))?;
        if n_read == 0 {
            break;
        }
        // A line that is not UTF-8 is one bad line, not the end of the stream.
        let Ok(line) = std::str::from_utf8(&bytes) else {
            n_invalid += 1;
            eprintln!("stdin:{line_number}: rejected: not UTF-8");
            continue;
        };
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        match AuditEvent::from_json(line) {
            Ok(event) => {
                logger.log(event);
                n_recorded += 1;
            }
            Err(error) => {
                n_invalid += 1;
                eprintln!("stdin:{line_number}: rejected: {error}");
            }
        }
    }

    let status = logger.shutdown().context("writing the recorded events")?;
    eprintln!(
        "{n_recorded} recorded, {n_invalid} rejected, {} written to {}",
        status.written,
        config.dir.display()
    );
    Ok(if n_invalid == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
