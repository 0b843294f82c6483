//! `ncp-audit`: the operators' command for the audit trail of AI code sandboxes.
//!
//! Exit codes: 0 success, 1 the command ran and found a problem in its input, 2 error (bad
//! arguments, unreadable files). Each subcommand documents what else its codes mean.

use std::io::{self, BufRead};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod cmd_common;
mod cmd_query;
mod cmd_stats;
mod cmd_tail;
// The engine of query, stats and tail: it returns values and never prints; the commands do.
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
    /// Each invalid line is reported on stderr with its number and what is wrong. Exits 0
    /// when every line is valid, 1 when any is not.
    Check,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check => check(),
        Command::Query(args) => cmd_query::run(args),
        Command::Stats(args) => cmd_stats::run(args),
        Command::Tail(args) => cmd_tail::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("ncp-audit: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn check() -> anyhow::Result<ExitCode> {
    let stdin = io::stdin().lock();
    let (mut n_valid, mut n_invalid) = (0_u64, 0_u64);
    for (line_idx, line) in stdin.lines().enumerate() {
        let line = line.with_context(|| format!("reading stdin line {}", line_idx + 1))?;
        match audit_core::AuditEvent::from_json(&line) {
            Ok(_) => n_valid += 1,
            Err(error) => {
                n_invalid += 1;
                eprintln!("stdin:{}: {error}", line_idx + 1);
            }
        }
    }
    eprintln!("{n_valid} valid, {n_invalid} invalid");
    Ok(if n_invalid == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
