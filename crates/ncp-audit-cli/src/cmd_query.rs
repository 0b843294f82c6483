//! `ncp-audit query`: the events that answer a question, as the original lines, a table or
//! CSV.

use std::ops::ControlFlow;
use std::process::ExitCode;

use audit_core::serde_json::Value;
use audit_core::{LenientEvent, Timestamp};
use clap::{Args, ValueEnum};

use crate::cmd_common::{
    FilterArgs, ProgressReport, SourceArgs, Stdout, default_threads, escape_controls, escape_line,
    report_problems,
};
use crate::read::Line;
use crate::scan::{self, Accumulator, Problems, ScanOptions};

/// Arguments of `query`.
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// Text that must appear in the raw line (same as --grep).
    #[arg(value_name = "TEXT")]
    text: Option<String>,
    /// How to print the events.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Print only the number of events found.
    #[arg(long)]
    count: bool,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Threads that judge lines [default: the number of cores, at most 8].
    #[arg(long, value_name = "N", hide = true)]
    threads: Option<usize>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// The original lines, byte for byte (control characters escaped on a terminal).
    Json,
    /// Aligned columns for people.
    Table,
    /// CSV with a header: timestamp, type, severity, outcome, mcpName, bindingName,
    /// sessionId, details (as JSON).
    Csv,
}

/// Where answering lines go: formatted into a buffer that is written out after each block.
struct Answers {
    format: Format,
    escape: bool,
    count_only: bool,
    limit: Option<u64>,
    n_found: u64,
    buffer: Vec<u8>,
}

impl Accumulator for Answers {
    fn fresh(&self) -> Answers {
        Answers { n_found: 0, buffer: Vec::new(), ..*self }
    }

    fn accept(&mut self, line: &Line<'_>, event: Option<&LenientEvent>) -> Result<(), String> {
        self.n_found += 1;
        if self.count_only {
            return Ok(());
        }
        match (self.format, event) {
            (Format::Json, _) if self.escape => escape_line(line.bytes, &mut self.buffer),
            (Format::Json, _) => self.buffer.extend_from_slice(line.bytes),
            (Format::Table, Some(event)) => {
                self.buffer.extend_from_slice(table_row(event).as_bytes())
            }
            (Format::Csv, Some(event)) => {
                self.buffer.extend_from_slice(csv_row(event, self.escape).as_bytes());
            }
            (_, None) => return Err("internal: the event was not parsed".to_owned()),
        }
        self.buffer.push(b'\n');
        Ok(())
    }

    fn absorb(&mut self, later: Answers) {
        self.n_found += later.n_found;
        self.buffer.extend_from_slice(&later.buffer);
    }

    fn wants_event(&self) -> bool {
        !self.count_only && self.format != Format::Json
    }

    fn validates(&self) -> bool {
        true
    }

    fn is_full(&self) -> bool {
        self.limit.is_some_and(|limit| self.n_found >= limit)
    }

    fn has_limit(&self) -> bool {
        self.limit.is_some()
    }
}

/// Runs `query`: exit 0 when events were found, 1 when none, 2 on error.
pub(crate) fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let mut filter = args.filter.to_filter(Timestamp::now())?;
    filter.texts.extend(args.text.clone());
    let segments = args.source.segments()?;
    let mut stdout = Stdout::new();
    let mut answers = Answers {
        format: args.format,
        escape: stdout.is_terminal(),
        count_only: args.count,
        limit: args.limit,
        n_found: 0,
        buffer: Vec::new(),
    };
    if args.limit == Some(0) {
        return Ok(ExitCode::from(1));
    }
    if !args.count {
        match args.format {
            Format::Json => {}
            Format::Table => answers.buffer.extend_from_slice(table_header().as_bytes()),
            Format::Csv => answers.buffer.extend_from_slice(CSV_HEADER.as_bytes()),
        }
    }

    let options = ScanOptions {
        strict: args.source.strict,
        n_threads: args.threads.unwrap_or_else(default_threads).max(1),
    };
    let mut problems = Problems::default();
    let mut progress = ProgressReport::new();
    let mut write_error = None;
    let result = scan::scan(
        &segments,
        &filter,
        &options,
        &mut answers,
        &mut problems,
        &mut |answers, at| {
            progress.update(at);
            match stdout.write(&answers.buffer) {
                Ok(true) => {
                    answers.buffer.clear();
                    ControlFlow::Continue(())
                }
                Ok(false) => ControlFlow::Break(()),
                Err(error) => {
                    write_error = Some(error);
                    ControlFlow::Break(())
                }
            }
        },
    );
    progress.finish();
    report_problems(&problems);
    result?;
    if let Some(error) = write_error {
        return Err(error);
    }
    if args.count {
        stdout.write(format!("{}\n", answers.n_found).as_bytes())?;
    } else {
        stdout.write(&answers.buffer)?;
    }
    Ok(if answers.n_found > 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

const TABLE_WIDTHS: [usize; 5] = [24, 28, 8, 8, 16];
pub(crate) const CSV_HEADER: &str =
    "timestamp,type,severity,outcome,mcpName,bindingName,sessionId,details\n";

pub(crate) fn table_header() -> String {
    let names = ["TIMESTAMP", "TYPE", "SEVERITY", "OUTCOME", "MCP"];
    let mut header = String::new();
    for (name, width) in names.iter().zip(TABLE_WIDTHS) {
        header.push_str(&format!("{name:<width$} "));
    }
    header.push_str("DETAILS\n");
    header
}

/// One table row; every cell has its control characters escaped, whatever stdout is.
pub(crate) fn table_row(event: &LenientEvent) -> String {
    let str_field = |key: &str| event.fields().get(key).and_then(Value::as_str).unwrap_or("-");
    let timestamp = event.timestamp().map(|timestamp| timestamp.to_string());
    let cells = [
        timestamp.as_deref().unwrap_or("-"),
        str_field("type"),
        str_field("severity"),
        str_field("outcome"),
        event.context_str("mcpName").unwrap_or("-"),
    ];
    let mut row = String::new();
    for (cell, width) in cells.iter().zip(TABLE_WIDTHS) {
        let mut escaped = String::new();
        escape_controls(cell, &mut escaped);
        let shown = clip(&escaped, width);
        row.push_str(&format!("{shown:<width$} "));
    }
    let details = event.fields().get("details").map_or_else(String::new, Value::to_string);
    let mut escaped = String::new();
    escape_controls(&details, &mut escaped);
    row.push_str(&clip(&escaped, 100));
    row
}

/// Cuts text to `width` characters, marking the cut with `…`.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(width.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

pub(crate) fn csv_row(event: &LenientEvent, escape: bool) -> String {
    let str_field = |key: &str| event.fields().get(key).and_then(Value::as_str).map(str::to_owned);
    let cells = [
        event.timestamp().map(|timestamp| timestamp.to_string()),
        str_field("type"),
        str_field("severity"),
        str_field("outcome"),
        event.context_str("mcpName").map(str::to_owned),
        event.context_str("bindingName").map(str::to_owned),
        event.context_str("sessionId").map(str::to_owned),
        event.fields().get("details").map(Value::to_string),
    ];
    let mut row = String::new();
    for (cell_idx, cell) in cells.iter().enumerate() {
        if cell_idx > 0 {
            row.push(',');
        }
        let mut cell = cell.clone().unwrap_or_default();
        if escape {
            let mut escaped = String::new();
            escape_controls(&cell, &mut escaped);
            cell = escaped;
        }
        // A logged value must not become a formula in the spreadsheet an operator opens the
        // file in: a cell that would start one is prefixed with a quote, as OWASP advises.
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            cell.insert(0, '\'');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            row.push('"');
            row.push_str(&cell.replace('"', "\"\""));
            row.push('"');
        } else {
            row.push_str(&cell);
        }
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"evil\u001b[2Jmcp","sessionId":"s-1"},"details":{"url":"http://evil.com/a,b"},"outcome":"blocked"}"#;

    #[test]
    fn table_and_csv_rows() {
        let event = LenientEvent::parse(LINE).unwrap();
        let row = table_row(&event);
        assert!(!row.contains('\u{1b}'), "{row:?}");
        assert!(row.starts_with("2026-12-03T10:00:00.000Z network_request_denied       warning  blocked  evil\\u001b[2Jmcp "));
        assert_eq!(
            csv_row(&event, true),
            r#"2026-12-03T10:00:00.000Z,network_request_denied,warning,blocked,evil\u001b[2Jmcp,,s-1,"{""url"":""http://evil.com/a,b""}""#
        );
        assert_eq!(clip("abcdef", 4), "abc…");
    }
}
