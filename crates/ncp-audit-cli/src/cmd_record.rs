//! `ncp-audit record`: the way executors not written in Rust use the writer.

use std::io::{self, BufRead};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use audit_config::AuditConfig;
use audit_core::{AuditEvent, Timestamp};
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
///
/// Also says where `enabled` came from.
fn load_effective(dir: Option<PathBuf>) -> anyhow::Result<(AuditConfig, String)> {
    let loaded = match audit_config::load_from_process() {
        // Under systemd or `env -i` there may be no home at all; with the directory given,
        // the defaults and the NCP_AUDIT_* variables still make a configuration.
        // The audit directory stands in for the home: it is the user's own (mode 0700), where
        // a shared place such as /tmp could hold a planted settings.json.
        Err(audit_config::ConfigError::NoHome) if let Some(dir) = &dir => {
            audit_config::ConfigLoader::from_process().home(dir).load()
        }
        other => other,
    }
    .context("loading the configuration")?;
    for warning in crate::cmd_config::warnings_of(&loaded) {
        eprintln!("ncp-audit: warning: {warning}");
    }
    let mut config = loaded.config().clone();
    if let Some(dir) = dir {
        config.dir = dir;
    }
    Ok((config, loaded.source(audit_config::Setting::Enabled).to_string()))
}

pub(crate) fn run(args: &RecordArgs) -> anyhow::Result<ExitCode> {
    let (mut config, enabled_by) = load_effective(args.dir.clone())?;
    // A disabled logger takes every event and writes none: refuse rather than report
    // success for a trail that was never written.
    if !config.enabled {
        anyhow::bail!(
            "auditing is disabled ({enabled_by}); record would write nothing, so it reads \
             nothing"
        );
    }
    if let Some(bytes) = args.max_file_size_bytes {
        config.max_file_size_bytes = bytes;
    }
    if let Some(max_files) = args.max_files {
        config.max_files = max_files;
    }
    let logger = AuditLogger::from_config(&config)
        .with_context(|| format!("opening the audit directory {}", config.dir.display()))?;

    let (mut n_accepted, mut n_invalid, mut n_out_of_time) = (0_u64, 0_u64, 0_u64);
    let stdin = io::stdin().lock();
    for_each_producer_line(stdin, |line_number, parsed| match parsed {
        Ok(event) => {
            let skew = Timestamp::now().as_unix_millis() - event.timestamp.as_unix_millis();
            if skew.abs() > crate::query::TIME_SLACK_MILLIS {
                n_out_of_time += 1;
            }
            logger.log(event);
            n_accepted += 1;
        }
        Err(error) => {
            n_invalid += 1;
            eprintln!("stdin:{line_number}: rejected: {error}");
        }
    })?;

    let status = logger.shutdown().context("writing the recorded events")?;
    eprintln!(
        "{n_accepted} accepted, {n_invalid} rejected, {} written to {}",
        status.written,
        config.dir.display()
    );
    if n_out_of_time > 0 {
        eprintln!(
            "ncp-audit: note: {n_out_of_time} of the events were stamped more than a minute \
             away from now (backfilled?); time-range queries find them only with --unordered"
        );
    }
    // Sampling leaves events out on purpose (and says so in the log); anything else that was
    // accepted and not written is a failure of this run, whatever the log declares.
    let n_lost = status.lost + status.dropped;
    if n_lost > 0 {
        let cause =
            status.last_error.as_deref().unwrap_or("the queue was full (backpressure: drop)");
        anyhow::bail!("{n_lost} accepted events were not written: {cause}");
    }
    Ok(if n_invalid == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `message` about a rejected line, fit for stderr and the logs it ends up in: it may name
/// a key of the line, which may hold a secret or terminal escapes, so it is redacted and its
/// control characters escaped.
fn printable(message: &str) -> String {
    static REDACTOR: std::sync::LazyLock<audit_redact::Redactor> =
        std::sync::LazyLock::new(audit_redact::Redactor::default);
    let redacted = REDACTOR.redact_text(message).into_owned();
    let mut out = String::with_capacity(redacted.len());
    crate::cmd_common::escape_controls(&redacted, &mut out);
    out
}

/// Reads producer lines from `input` and hands each non-blank one, parsed strictly, to
/// `each` with its line number. `record` and `check` share it, so they accept and refuse
/// the same lines: a UTF-8 byte order mark at the start of a line and a CR before a newline
/// are dropped, blank lines are skipped, and the audit system's own record types
/// (`audit_*`) are refused: only the writer may declare losses, pruning or checkpoints.
///
/// # Errors
///
/// When `input` cannot be read.
pub(crate) fn for_each_producer_line(
    mut input: impl BufRead,
    mut each: impl FnMut(u64, Result<AuditEvent, String>),
) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    for line_number in 1_u64.. {
        bytes.clear();
        let n_read = input
            .read_until(b'\n', &mut bytes)
            .with_context(|| format!("reading stdin line {line_number}"))?;
        if n_read == 0 {
            return Ok(());
        }
        // A byte order mark starts a file written by some Windows tools, and so every file
        // of several concatenated into the stream: dropped wherever a line starts with one.
        let mut line = bytes.as_slice();
        line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        // A line that is not UTF-8 is one bad line, not the end of the stream.
        let Ok(line) = std::str::from_utf8(line) else {
            each(line_number, Err("not UTF-8".to_owned()));
            continue;
        };
        if line.trim().is_empty() {
            continue;
        }
        let parsed = AuditEvent::from_json(line)
            .map_err(|error| printable(&error.to_string()))
            .and_then(|event| {
                if event.event_type.is_audit_internal() {
                    Err(format!(
                        "type: {} records are written by the audit system itself, not by \
                         producers",
                        event.event_type
                    ))
                } else {
                    Ok(event)
                }
            });
        each(line_number, parsed);
    }
    unreachable!("the loop returns at the end of the input")
}
