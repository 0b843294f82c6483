//! `ncp-audit redact`: scrub lines on stdin of secrets, one line out for one line in.
//!
//! Exit codes: 0 every line was read as asked, 1 some line was not valid JSON (it was still
//! written, redacted as free text, and reported on stderr with its number) or repeated a key
//! in one object (only the last value is written), 2 an error such as unreadable input.

use std::io::{self, BufRead, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use audit_core::AuditEvent;
use audit_redact::{RedactionPolicy, Redactor};
use serde_json::Value;

/// How each input line is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineMode {
    /// One JSON value per line; a string is free text, an audit event goes through the full
    /// event path (truncation included), anything else is redacted like event details.
    Json,
    /// Like `Json`, but each string is a code snippet: redacted, then cut to 500 characters.
    Snippet,
    /// Each raw line is free text.
    Text,
}

/// Runs the command over stdin and stdout, with the mode its `--snippet` and `--text` flags
/// ask for.
pub(crate) fn run(snippet: bool, text: bool) -> anyhow::Result<ExitCode> {
    let mode = match (snippet, text) {
        (_, true) => LineMode::Text,
        (true, false) => LineMode::Snippet,
        (false, false) => LineMode::Json,
    };
    let stdout = io::stdout();
    let flush_each_line = stdout.is_terminal();
    let mut out = BufWriter::new(stdout.lock());
    let n_invalid = match redact_lines(io::stdin().lock(), &mut out, mode, flush_each_line) {
        Err(error) if is_broken_pipe(&error) => return Ok(ExitCode::SUCCESS),
        result => result?,
    };
    match out.flush() {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        result => result.context("writing stdout")?,
    }
    Ok(if n_invalid == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.downcast_ref::<io::Error>().is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
}

/// Redacts each line of `input` onto `out`; returns how many lines were not valid JSON.
fn redact_lines(
    input: impl BufRead,
    out: &mut impl Write,
    mode: LineMode,
    flush_each_line: bool,
) -> anyhow::Result<u64> {
    let redactor = Redactor::new(RedactionPolicy::default());
    // Text lines are redacted through one stream, so that a private key block spread over
    // several lines loses every line of its body.
    let mut text_lines = redactor.lines();
    let mut n_invalid = 0;
    for (line_idx, line) in input.split(b'\n').enumerate() {
        let line = line.with_context(|| format!("reading stdin line {}", line_idx + 1))?;
        // A CRLF text file stays CRLF: text is kept byte for byte but for its secrets. (A
        // JSON value is written anew, in the compact form.)
        let crlf = mode == LineMode::Text && line.ends_with(b"\r");
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        // Plain-text logs hold stray bytes now and then: a line that is not UTF-8 is read with
        // replacement characters rather than ending the run.
        let line = match std::str::from_utf8(line) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => {
                n_invalid += 1;
                eprintln!("stdin:{}: not UTF-8; invalid bytes replaced", line_idx + 1);
                String::from_utf8_lossy(line)
            }
        };
        let redacted = match mode {
            LineMode::Text => text_lines.redact_line(&line).into_owned(),
            // A blank line holds nothing to read or redact, in any mode (`check` and `record`
            // skip them too); it is written back as it was.
            _ if line.trim().is_empty() => line.into_owned(),
            // Inside a key block, lines are its body, never JSON values to read.
            _ if text_lines.is_in_private_key() => text_lines.redact_line(&line).into_owned(),
            LineMode::Json | LineMode::Snippet => match serde_json::from_str::<Value>(&line) {
                Ok(value) => {
                    // The value comes out with one of the two: say which, rather than drop a
                    // key unseen (its value may be the one a reader of the input took).
                    if let Some(path) = audit_core::duplicate_key(&line) {
                        n_invalid += 1;
                        let mut shown = String::new();
                        crate::cmd_common::escape_controls(&crate::scrub(&path), &mut shown);
                        eprintln!(
                            "stdin:{}: key {shown} given twice; only its last value is kept",
                            line_idx + 1
                        );
                    }
                    redact_value(&redactor, value, mode)
                }
                Err(error) => {
                    n_invalid += 1;
                    eprintln!("stdin:{}: not JSON ({error}); redacted as text", line_idx + 1);
                    text_lines.redact_line(&line).into_owned()
                }
            },
        };
        // Broken pipe comes back as an io::Error inside anyhow, for `run` to recognize.
        out.write_all(redacted.as_bytes()).map_err(anyhow::Error::from)?;
        out.write_all(if crlf { b"\r\n" } else { b"\n" }).map_err(anyhow::Error::from)?;
        if flush_each_line {
            out.flush().map_err(anyhow::Error::from)?;
        }
    }
    Ok(n_invalid)
}

fn redact_value(redactor: &Redactor, value: Value, mode: LineMode) -> String {
    match value {
        Value::String(text) if mode == LineMode::Snippet => {
            Value::String(redactor.redact_snippet(&text)).to_string()
        }
        Value::Object(ref fields) if fields.contains_key("timestamp") => {
            match AuditEvent::from_value(value.clone()) {
                Ok(event) => {
                    let mut line = Vec::new();
                    redactor.redact(event).write_json_line(&mut line);
                    line.pop();
                    String::from_utf8_lossy(&line).into_owned()
                }
                // Not an event this version knows: still redacted, as details would be.
                Err(_) => redactor.redact_json(value).to_string(),
            }
        }
        value => redactor.redact_json(value).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &str, mode: LineMode) -> (String, u64) {
        let mut out = Vec::new();
        let n_invalid = redact_lines(input.as_bytes(), &mut out, mode, false).unwrap();
        (String::from_utf8(out).unwrap(), n_invalid)
    }

    #[test]
    fn one_line_out_for_each_line_in() {
        let input = "\"token=abc123def456ghi\"\n{\"password\":1}\nnot json password=hunter2x\n";
        let (out, n_invalid) = run_on(input, LineMode::Json);
        assert_eq!(
            out,
            "\"token=<redacted>\"\n{\"password\":\"<redacted>\"}\nnot json password=<redacted>\n"
        );
        assert_eq!(n_invalid, 1);
    }

    #[test]
    fn a_private_key_over_several_text_lines_loses_its_body() {
        let input = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4\nUXnM0T9c=\n\
                     -----END RSA PRIVATE KEY-----\nok\n";
        let expected = "-----BEGIN RSA PRIVATE KEY-----\n<redacted>\n<redacted>\n-----END RSA PRIVATE KEY-----\nok\n";
        assert_eq!(run_on(input, LineMode::Text), (expected.to_owned(), 0));
        // In a JSON lines file the block is not JSON: reported, and its body still goes.
        let (out, n_invalid) = run_on(input, LineMode::Json);
        assert_eq!((out.as_str(), n_invalid), (expected, 2));
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_and_counts_as_a_problem() {
        let (out, n_invalid) = run_on("{\"a\":1,\"a\":2}\n", LineMode::Json);
        assert_eq!((out.as_str(), n_invalid), ("{\"a\":2}\n", 1));
    }

    #[test]
    fn text_mode_keeps_crlf_line_ends() {
        let (out, _) = run_on("password=hunter2x\r\nplain\n", LineMode::Text);
        assert_eq!(out, "password=<redacted>\r\nplain\n");
    }

    #[test]
    fn a_blank_line_is_kept_and_not_counted_as_invalid() {
        assert_eq!(run_on("\"x\"\n\n  \n", LineMode::Json), ("\"x\"\n\n  \n".to_owned(), 0));
    }

    #[test]
    fn snippet_mode_cuts_strings() {
        let input = format!("\"{}\"\n", "a".repeat(600));
        let (out, _) = run_on(&input, LineMode::Snippet);
        let value: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(value.as_str().unwrap().chars().count(), 500 + "... (truncated)".len());
    }
}
