//! `ncp-audit verify`: checks the integrity chain of an audit directory.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use audit_sink::{Verdict, VerifyReport, verify_dir};
use serde_json::json;

/// Exit code: every file checked out.
pub(crate) const EXIT_INTACT: u8 = 0;
/// Exit code: tampering found.
pub(crate) const EXIT_TAMPERED: u8 = 1;
/// Exit code: the check could not be completed.
pub(crate) const EXIT_UNVERIFIABLE: u8 = 2;

pub(crate) fn run(dir: &Path, json_output: bool) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let progress = Progress::new();
    let report = verify_dir(dir, |bytes| progress.update(bytes, started))
        .with_context(|| format!("verifying {}", dir.display()))?;
    progress.finish();
    let elapsed = started.elapsed();

    let mut stdout = io::stdout().lock();
    let written = if json_output {
        write_json(&mut stdout, &report)
    } else {
        write_human(&mut stdout, &report, elapsed)
    };
    crate::ignore_broken_pipe(written)?;
    Ok(ExitCode::from(match report.verdict() {
        Verdict::Intact => EXIT_INTACT,
        Verdict::Tampered => EXIT_TAMPERED,
        Verdict::Unverifiable => EXIT_UNVERIFIABLE,
    }))
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Intact => "intact",
        Verdict::Tampered => "tampered",
        Verdict::Unverifiable => "unverifiable",
    }
}

fn write_human(out: &mut impl Write, report: &VerifyReport, elapsed: Duration) -> io::Result<()> {
    let terminal = io::stdout().is_terminal();
    let mut n_bytes = 0;
    for file in &report.files {
        n_bytes += file.bytes;
        let range = match file.seq_range {
            Some((first, last)) => format!("seq {first}..={last}"),
            None => "no chain".to_owned(),
        };
        writeln!(
            out,
            "{:<16} {}  ({} lines, {range})",
            file.status(),
            crate::sanitize(&file.name, terminal),
            file.lines
        )?;
        for finding in &file.findings {
            let at = finding.line.map(|line| format!("line {line}: ")).unwrap_or_default();
            writeln!(out, "    {}: {at}{}", finding.kind.as_str(), finding.detail)?;
        }
        if file.n_findings > file.findings.len() as u64 {
            writeln!(out, "    ... and {} more", file.n_findings - file.findings.len() as u64)?;
        }
    }
    for finding in &report.findings {
        writeln!(out, "{:<16} {}", finding.kind.as_str(), finding.detail)?;
    }
    let head = match report.head {
        Some(link) => format!("head seq {} {}", link.seq, link.hash_hex()),
        None => "no chained lines".to_owned(),
    };
    let seconds = elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "\n{}: {} file{}, {head}; {:.1} MB in {:.2}s ({:.0} MB/s)",
        verdict_word(report.verdict()),
        report.files.len(),
        if report.files.len() == 1 { "" } else { "s" },
        n_bytes as f64 / 1e6,
        seconds,
        n_bytes as f64 / 1e6 / seconds,
    )
}

fn write_json(out: &mut impl Write, report: &VerifyReport) -> io::Result<()> {
    let finding_json = |finding: &audit_sink::Finding| json!({"kind": finding.kind.as_str(), "line": finding.line, "detail": finding.detail});
    let files: Vec<_> = report
        .files
        .iter()
        .map(|file| {
            json!({
                "file": file.name,
                "status": file.status(),
                "lines": file.lines,
                "bytes": file.bytes,
                "firstSeq": file.seq_range.map(|range| range.0),
                "lastSeq": file.seq_range.map(|range| range.1),
                "findings": file.findings.iter().map(finding_json).collect::<Vec<_>>(),
                "findingCount": file.n_findings,
            })
        })
        .collect();
    let document = json!({
        "verdict": verdict_word(report.verdict()),
        "head": report.head.map(|link| json!({"seq": link.seq, "hash": link.hash_hex()})),
        "files": files,
        "findings": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// A byte counter on stderr, shown only on a terminal and only once a run passes a second.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Progress {
        let bar = io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::hidden();
            bar.set_style(
                indicatif::ProgressStyle::with_template("verifying {bytes} ({bytes_per_sec})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        });
        Progress { bar }
    }

    fn update(&self, bytes: u64, started: Instant) {
        if let Some(bar) = &self.bar {
            if bar.is_hidden() && started.elapsed() > Duration::from_secs(1) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
            bar.set_position(bytes);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
