//! `ncp-audit`: the operators' command for the audit trail of AI code sandboxes.
//!
//! Exit codes: 0 success, 1 the command ran and found a problem in its input, 2 error (bad
//! arguments, unreadable files). Each subcommand documents what else its codes mean.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod cmd_common;
mod cmd_config;
mod cmd_demo;
mod cmd_query;
mod cmd_record;
mod cmd_stats;
mod cmd_tail;
mod cmd_verify;
// The engine of query, stats and tail: it returns values and never prints; the commands do.
mod cmd_redact;
#[deny(clippy::print_stdout, clippy::print_stderr)]
mod query;
#[deny(clippy::print_stdout, clippy::print_stderr)]
mod read;
#[deny(clippy::print_stdout, clippy::print_stderr)]
mod scan;

/// Record, query, verify and redact the audit trail of AI code-execution sandboxes.
#[derive(Debug, Parser)]
#[command(name = "ncp-audit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check that each line on stdin is a valid audit event, strictly, without writing it.
    ///
    /// Each invalid line is reported on stderr with its number and what is wrong; blank lines
    /// are skipped, as `record` does. Exits 0 when every line is valid, 1 when any is not, 2
    /// when stdin cannot be read.
    Check,
    /// Print the effective configuration and where each value came from.
    ///
    /// Sources, lowest to highest: defaults, the "audit" section of settings.json in the ncp
    /// home ($NCP_HOME, else ~/.ncp), NCP_AUDIT_* variables. Warnings (unknown keys or
    /// variables) go to stderr. Exits 0 when the configuration is valid, 1 when it is not.
    Config(cmd_config::ConfigArgs),
    /// Check the integrity chain of an audit directory: every line, every file.
    ///
    /// Reports per file: valid, or modified (with the line), lines deleted, inserted,
    /// reordered or duplicated, tail truncated, file missing, files swapped; files written by
    /// another system are listed as foreign and not checked. Exits 0 when intact, 1 when
    /// tampering was found, 2 when the check could not be completed.
    Verify {
        /// The audit directory; the configured one when left out.
        dir: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read events as JSON lines on stdin, validate them strictly, redact them and write them
    /// to the audit directory.
    ///
    /// Each invalid line is rejected with its number on stderr; the valid ones are written.
    /// The audit system's own record types (audit_*) are refused. Retention applies as
    /// configured (maxFiles: 5 rotated files by default; --max-files 0 keeps all). Exits 0
    /// when every line was valid and written, 1 when any line was rejected, 2 on an error
    /// (the directory cannot be opened, or accepted events could not be written: a full disk,
    /// a drop under backpressure).
    Record(cmd_record::RecordArgs),
    /// Run a realistic Code-Mode sandbox session through the whole pipeline into a directory,
    /// then show what an operator would see.
    ///
    /// Exits 0 when the session was written and none of its planted secrets reached a file,
    /// 1 when a secret did, 2 on an error.
    Demo(cmd_demo::DemoArgs),
    /// Print the events that match filters, in time order across all files.
    ///
    /// Prints the original lines byte for byte (control characters escaped when stdout is a
    /// terminal), or --format table or csv. Unreadable lines are skipped and named on stderr.
    /// Exits 0 when events were found, 1 when none were, 2 on error.
    Query(cmd_query::QueryArgs),
    /// Count events by type, severity, outcome, MCP, day or any field; code execution
    /// duration percentiles; the most denied URLs and domains.
    ///
    /// Memory stays flat whatever the size of the logs. Takes the same filters as query.
    /// Exits 0 when events were counted, 1 when none were, 2 on error.
    Stats(cmd_stats::StatsArgs),
    /// Print the last events, and with -f follow the log across rotation and midnight.
    ///
    /// Exits 0 (also when the reader of stdout goes away), 2 on error.
    Tail(cmd_tail::TailArgs),
    /// Redact secrets from stdin, one line out for each line in.
    ///
    /// Each line is a JSON value: a string is free text, an audit event is redacted and cut
    /// as the writer would, anything else is redacted like event details. Exits 0 when
    /// every line was read as asked, 1 when some line was not JSON (it is still written,
    /// redacted as text, and reported on stderr), 2 on error.
    Redact {
        /// Treat each JSON string as a code snippet: redact, then cut to 500 characters.
        #[arg(long, conflicts_with = "text")]
        snippet: bool,
        /// Treat each raw line as free text, for plain-text logs.
        #[arg(long)]
        text: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check => check(),
        Command::Config(args) => cmd_config::run(&args),
        Command::Verify { dir, json } => audit_dir(dir).and_then(|dir| cmd_verify::run(&dir, json)),
        Command::Record(args) => cmd_record::run(&args),
        Command::Demo(args) => cmd_demo::run(&args),
        Command::Query(args) => cmd_query::run(args),
        Command::Stats(args) => cmd_stats::run(args),
        Command::Tail(args) => cmd_tail::run(args),
        Command::Redact { snippet, text } => cmd_redact::run(snippet, text),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("ncp-audit: error: {}", scrub(&format!("{error:#}")));
            ExitCode::from(2)
        }
    }
}

fn check() -> anyhow::Result<ExitCode> {
    let (mut n_valid, mut n_invalid) = (0_u64, 0_u64);
    cmd_record::for_each_producer_line(io::stdin().lock(), |line_number, parsed| match parsed {
        Ok(_) => n_valid += 1,
        Err(error) => {
            n_invalid += 1;
            eprintln!("stdin:{line_number}: {error}");
        }
    })?;
    eprintln!("{n_valid} valid, {n_invalid} invalid");
    Ok(if n_invalid == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `message` with any secret it quotes redacted. Errors and warnings name the value they
/// found wrong (a setting, a key of a line), and a user may have put a secret there by
/// mistake: `NCP_AUDIT_ENABLED=password=...`, a token pasted as a key of settings.json.
pub(crate) fn scrub(message: &str) -> String {
    static REDACTOR: std::sync::OnceLock<audit_redact::Redactor> = std::sync::OnceLock::new();
    REDACTOR.get_or_init(audit_redact::Redactor::default).redact_text(message).into_owned()
}

/// Treats a closed stdout (`ncp-audit ... | head`) as success.
fn ignore_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Escapes control characters when `for_terminal`, so that a logged value cannot drive the
/// operator's terminal.
fn sanitize(text: &str, for_terminal: bool) -> std::borrow::Cow<'_, str> {
    if !for_terminal || !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().flat_map(char::escape_default).collect())
}

/// The directory given on the command line, else the configured one (defaults, settings.json,
/// `NCP_AUDIT_*`), with configuration warnings on stderr.
fn audit_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir);
    }
    let loaded = audit_config::load_from_process().context("loading the configuration")?;
    for warning in cmd_config::warnings_of(&loaded) {
        eprintln!("ncp-audit: warning: {warning}");
    }
    Ok(loaded.config().dir.clone())
}
