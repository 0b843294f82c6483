//! Project automation, run as `cargo xtask <task>`.
//!
//! `cargo xtask ci` runs exactly what CI runs, so a green run here means a green run there.

mod bench_query;

use std::env;
use std::process::{Command, ExitCode};

mod redaction;

/// One step of CI: a name for the log and the cargo arguments that run it.
struct Step {
    name: &'static str,
    args: &'static [&'static str],
    /// Extra environment, such as `RUSTDOCFLAGS`.
    env: &'static [(&'static str, &'static str)],
}

const CI_STEPS: &[Step] = &[
    Step { name: "format", args: &["fmt", "--all", "--", "--check"], env: &[] },
    Step {
        name: "clippy",
        args: &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"],
        env: &[],
    },
    Step { name: "test", args: &["test", "--workspace", "--locked"], env: &[] },
    Step {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps", "--locked"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => run_steps(CI_STEPS),
        Some("bench-query") => match bench_query::run(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bench-query: {error}");
                ExitCode::FAILURE
            }
        },
        Some("score-redaction") => match redaction::score() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("score-redaction: {error}");
                ExitCode::FAILURE
            }
        },
        Some("bench-redact") => redaction::bench(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\ntasks:\n  ci               format, clippy, tests, docs\n  \
                 bench-query [MB]  time query/stats/tail reading against jq, rg, gunzip\n  \
                 score-redaction  score ncp-audit redact on the shared corpus\n  \
                 bench-redact     time redaction per event"
            );
            ExitCode::from(2)
        }
    }
}

/// Runs the steps in order, printing each, and stops at the first that fails.
fn run_steps(steps: &[Step]) -> ExitCode {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    for (step_idx, step) in steps.iter().enumerate() {
        eprintln!(
            "\n==> [{}/{}] {}: cargo {}",
            step_idx + 1,
            steps.len(),
            step.name,
            step.args.join(" ")
        );
        let mut command = Command::new(&cargo);
        command.args(step.args);
        for (key, value) in step.env {
            command.env(key, value);
        }
        match command.status() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("\n==> {} failed ({status})", step.name);
                return ExitCode::FAILURE;
            }
            Err(error) => {
                eprintln!("\n==> {} could not start cargo: {error}", step.name);
                return ExitCode::FAILURE;
            }
        }
    }
    eprintln!("\n==> ci passed: {} steps", steps.len());
    ExitCode::SUCCESS
}
