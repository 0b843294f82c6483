//! What `query`, `stats` and `tail` share: where to read, the filter flags, stdout that
//! treats a closed pipe as success, escaping for terminals, problems and progress on stderr.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use audit_core::Timestamp;
use clap::Args;

use crate::query::{BoundKind, Filter, Predicate, SeverityFilter, parse_bound};
use crate::read::{self, Segment};
use crate::scan::{Problems, Progress};

/// How many problems are printed one by one before only their count.
const PRINTED_PROBLEMS: usize = 20;

/// Where to read.
#[derive(Debug, Args)]
pub(crate) struct SourceArgs {
    /// The audit directory [default: $NCP_HOME/audit, else ~/.ncp/audit].
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: Option<PathBuf>,
    /// Read these files instead of a directory (repeatable; put in time order by name and
    /// first timestamp; .gz recognised by content).
    #[arg(long = "file", value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Stop with exit code 2 at the first unreadable line or file instead of skipping it.
    #[arg(long)]
    pub(crate) strict: bool,
}

impl SourceArgs {
    /// The segments to read, oldest first.
    pub(crate) fn segments(&self) -> anyhow::Result<Vec<Segment>> {
        if !self.files.is_empty() {
            // A file named twice (`--file a --file ./a`) is read once: its events are not
            // counted twice.
            let mut files: Vec<PathBuf> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for file in &self.files {
                anyhow::ensure!(file.is_file(), "{}: no such file", file.display());
                let identity = std::fs::canonicalize(file)
                    .with_context(|| format!("resolving {}", file.display()))?;
                if seen.insert(identity) {
                    files.push(file.clone());
                }
            }
            return Ok(read::order(files));
        }
        let dir = self.directory()?;
        anyhow::ensure!(dir.is_dir(), "audit directory {} does not exist", dir.display());
        Ok(read::discover(&dir)?)
    }

    /// The directory given or the default one.
    pub(crate) fn directory(&self) -> anyhow::Result<PathBuf> {
        match &self.dir {
            Some(dir) => Ok(dir.clone()),
            None => default_audit_dir(),
        }
    }
}

/// The configured audit directory (defaults, settings.json, `NCP_AUDIT_*`).
pub(crate) fn default_audit_dir() -> anyhow::Result<PathBuf> {
    crate::audit_dir(None)
}

/// Which events answer.
#[derive(Debug, Args)]
pub(crate) struct FilterArgs {
    /// Event type, or a glob such as network_* (repeatable: any may match).
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) types: Vec<String>,
    /// Minimum severity (info, warning, error, critical), or exact with =, e.g. =warning.
    #[arg(long, value_name = "LEVEL")]
    pub(crate) severity: Option<String>,
    /// Outcome (success, failure, blocked, pending; repeatable).
    #[arg(long = "outcome", value_name = "OUTCOME")]
    pub(crate) outcomes: Vec<String>,
    /// MCP name, context.mcpName (repeatable).
    #[arg(long = "mcp", value_name = "NAME")]
    pub(crate) mcp_names: Vec<String>,
    /// Tool binding, context.bindingName (repeatable).
    #[arg(long = "binding", value_name = "NAME")]
    pub(crate) bindings: Vec<String>,
    /// Session, context.sessionId (repeatable).
    #[arg(long = "session", value_name = "ID")]
    pub(crate) sessions: Vec<String>,
    /// From this time on: RFC 3339, a date (2026-12-03), a duration back (30m, 1h, 7d),
    /// now, today or yesterday.
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,
    /// Before this time (exclusive); a date or today/yesterday includes the whole day.
    #[arg(long, value_name = "TIME")]
    pub(crate) until: Option<String>,
    /// A predicate on a field path: details.durationMs>1000, details.url~regex,
    /// context.userId=null; operators = != < <= > >= ~ !~ (repeatable: all must hold).
    #[arg(long = "where", value_name = "PREDICATE")]
    pub(crate) predicates: Vec<String>,
    /// Text that must appear in the raw line (repeatable: all must appear).
    #[arg(long = "grep", value_name = "TEXT")]
    pub(crate) texts: Vec<String>,
    /// Read every line of every file for --since/--until. Without it, files and parts of
    /// files outside the range are skipped, which assumes events were written in time order
    /// (within a minute); use it for logs backfilled with old timestamps.
    #[arg(long)]
    pub(crate) unordered: bool,
}

impl FilterArgs {
    /// The filter these flags describe, with relative times taken from `now`.
    pub(crate) fn to_filter(&self, now: Timestamp) -> anyhow::Result<Filter> {
        let severity = match &self.severity {
            Some(text) => Some(SeverityFilter::parse(text).context("--severity")?),
            None => None,
        };
        let bound = |text: &Option<String>, kind| -> anyhow::Result<Option<String>> {
            text.as_deref().map(|text| parse_bound(text, kind, now)).transpose().map_err(Into::into)
        };
        let predicates =
            self.predicates.iter().map(|text| Predicate::parse(text)).collect::<Result<_, _>>()?;
        // Other systems' files may hold other words, so an unknown one is allowed, but a typo
        // should not pass for "nothing found".
        for outcome in &self.outcomes {
            if outcome.parse::<audit_core::Outcome>().is_err() {
                eprintln!(
                    "ncp-audit: warning: --outcome {outcome:?} is none of {}",
                    audit_core::Outcome::WIRE_NAMES.join(", ")
                );
            }
        }
        for event_type in &self.types {
            let is_glob = event_type.contains(['*', '?']);
            if !is_glob && event_type.parse::<audit_core::EventType>().is_err() {
                eprintln!("ncp-audit: warning: --type {event_type:?} is not a known event type");
            }
        }
        Ok(Filter {
            types: self.types.clone(),
            severity,
            outcomes: self.outcomes.clone(),
            mcp_names: self.mcp_names.clone(),
            bindings: self.bindings.clone(),
            sessions: self.sessions.clone(),
            since: bound(&self.since, BoundKind::Since)?,
            until: bound(&self.until, BoundKind::Until)?,
            predicates,
            texts: self.texts.clone(),
            unordered: self.unordered,
            ..Filter::default()
        })
    }
}

/// Stdout, where a closed pipe (`| head`) ends the command as a success.
pub(crate) struct Stdout {
    out: io::StdoutLock<'static>,
    is_terminal: bool,
    closed: bool,
}

impl Stdout {
    pub(crate) fn new() -> Stdout {
        let stdout = io::stdout();
        let is_terminal = stdout.is_terminal();
        Stdout { out: stdout.lock(), is_terminal, closed: false }
    }

    /// Whether stdout is a terminal, where control characters must be escaped.
    pub(crate) fn is_terminal(&self) -> bool {
        self.is_terminal
    }

    /// Writes all of `bytes`; `Ok(false)` once the reader has gone away.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> anyhow::Result<bool> {
        if self.closed {
            return Ok(false);
        }
        match self.out.write_all(bytes).and_then(|()| self.out.flush()) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(false)
            }
            Err(error) => Err(error).context("writing to stdout"),
        }
    }
}

/// Escapes what could drive a terminal: C0 controls, DEL and C1 controls become `\u00XX`,
/// which keeps a JSON line valid JSON. Invalid UTF-8 is replaced.
pub(crate) fn escape_controls(text: &str, out: &mut String) {
    for character in text.chars() {
        let code = u32::from(character);
        if code < 0x20 || (0x7f..=0x9f).contains(&code) {
            out.push_str(&format!("\\u{code:04x}"));
        } else {
            out.push(character);
        }
    }
}

/// [`escape_controls`] for raw bytes, borrowing when nothing needs escaping.
pub(crate) fn escape_line(line: &[u8], out: &mut Vec<u8>) {
    let needs_escape = |byte: &u8| *byte < 0x20 || *byte >= 0x7f;
    if !line.iter().any(needs_escape) {
        out.extend_from_slice(line);
        return;
    }
    let mut escaped = String::with_capacity(line.len() + 16);
    escape_controls(&String::from_utf8_lossy(line), &mut escaped);
    out.extend_from_slice(escaped.as_bytes());
}

/// Prints the first problems and a count of all on stderr.
pub(crate) fn report_problems(problems: &Problems) {
    for problem in problems.kept.iter().take(PRINTED_PROBLEMS) {
        let mut text = String::new();
        escape_controls(&problem.to_string(), &mut text);
        eprintln!("ncp-audit: skipped {text}");
    }
    if problems.n_total > 0 {
        let shown = problems.kept.len().min(PRINTED_PROBLEMS);
        eprintln!(
            "ncp-audit: skipped {} unreadable line(s) or file(s) in all ({shown} shown; --strict \
             makes them an error)",
            problems.n_total
        );
    }
}

/// A progress bar on stderr that appears only when a scan has run for a second and stderr is
/// a terminal.
pub(crate) struct ProgressReport {
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
}

impl ProgressReport {
    pub(crate) fn new() -> ProgressReport {
        ProgressReport { started: Instant::now(), bar: None, enabled: io::stderr().is_terminal() }
    }

    pub(crate) fn update(&mut self, progress: Progress) {
        if !self.enabled || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        bar.set_message(format!(
            "file {}/{}, {} MB read",
            progress.segment_idx + 1,
            progress.n_segments,
            progress.bytes >> 20
        ));
    }

    pub(crate) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The number of threads to judge lines with.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from).min(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_json_stays_json() {
        let line = "{\"a\":\"x\u{1b}[2J\u{9b}31m\u{7f}é\"}";
        let mut out = Vec::new();
        escape_line(line.as_bytes(), &mut out);
        let escaped = String::from_utf8(out).unwrap();
        assert_eq!(escaped, r#"{"a":"x\u001b[2J\u009b31m\u007fé"}"#);
        let value: audit_core::serde_json::Value =
            audit_core::serde_json::from_str(&escaped).unwrap();
        assert_eq!(value["a"], "x\u{1b}[2J\u{9b}31m\u{7f}é");

        let mut out = Vec::new();
        escape_line(b"plain ascii", &mut out);
        assert_eq!(out, b"plain ascii");
        let mut out = Vec::new();
        escape_line(b"bad \xff byte", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "bad \u{fffd} byte");
    }
}
