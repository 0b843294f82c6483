//! `ncp-audit record`: the way executors not written in Rust use the writer.

use std::io::{self, BufRead};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use audit_config::AuditConfig;
use audit_core::AuditEvent;
use audit_sink::AuditLogger;

/// Where and how `record` writes.
#[derive(Debug, clap::Args)]
pub(crate) struct RecordArgs {
    /// The audit directory (default: the configured one).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Rotate a file before a write would take it past this many bytes (0: never).
    #[arg(long)]
    max_file_size_bytes: Option<u64>,
    /// How many rotated files to keep (0: all).
    #[arg(long)]
    max_files: Option<u32>,
}

/// The effective configuration (defaults, settings.json, `NCP_AUDIT_*`), with `dir` in place
/// of the configured directory when given; warnings go to stderr.
pub(crate) fn effective_config(dir: Option<PathBuf>) -> anyhow::Result<AuditConfig> {
    let loaded = audit_config::load_from_process().context("loading the configuration")?;
    for warning in loaded.warnings() {
        eprintln!("ncp-audit: warning: {warning}");
    }
    let mut config = loaded.config().clone();
    if let Some(dir) = dir {
        config.dir = dir;
    }
    Ok(config)
}

pub(crate) fn run(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let mut config = effective_config(args.dir.clone())?;
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
