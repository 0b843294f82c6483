//! `ncp-audit`: the operators' command for the audit trail of AI code sandboxes.
//!
//! Exit codes: 0 success, 1 the command ran and found a problem in its input, 2 error (bad
//! arguments, unreadable files). Each subcommand documents what else its codes mean.

use std::io::{self, BufRead};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod cmd_redact;

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
        Command::Redact { snippet, text } => cmd_redact::run(snippet, text),
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
