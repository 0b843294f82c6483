//! Free text that arrives one line at a time, such as a plain-text log.
//!
//! Most secrets fit on one line, and each line is redacted like any other text. A private key
//! block does not: its `-----BEGIN ... PRIVATE KEY-----` header, base64 body and `-----END`
//! line come as separate lines, and a body line alone looks like nothing at all. So the
//! redactor of a stream of lines remembers that a block was opened and replaces every line
//! of its body until the block ends.

use std::borrow::Cow;

use crate::Redactor;
use crate::scan::{MARKER, MAX_PEM_BODY};

/// The header that may open a private key block.
const BEGIN: &str = "-----BEGIN ";
/// The start of the line that closes a block.
const END: &str = "-----END";

/// Redacts a stream of lines with a [`Redactor`], carrying an open private key block from one
/// line to the next. Built by [`Redactor::lines`].
///
/// ```
/// use audit_redact::Redactor;
///
/// let redactor = Redactor::default();
/// let mut lines = redactor.lines();
/// let log = ["-----BEGIN RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEAx4", "-----END RSA PRIVATE KEY-----"];
/// let out: Vec<String> = log.iter().map(|line| lines.redact_line(line).into_owned()).collect();
/// assert_eq!(out, ["-----BEGIN RSA PRIVATE KEY-----", "<redacted>", "-----END RSA PRIVATE KEY-----"]);
/// ```
#[derive(Debug)]
pub struct LineRedactor<'r> {
    redactor: &'r Redactor,
    /// Bytes of key body replaced since the block opened; `None` outside a block.
    body_bytes: Option<usize>,
}

impl<'r> LineRedactor<'r> {
    pub(crate) fn new(redactor: &'r Redactor) -> LineRedactor<'r> {
        LineRedactor { redactor, body_bytes: None }
    }

    /// `line` (without its newline) with every secret replaced; borrowed when nothing was.
    pub fn redact_line<'a>(&mut self, line: &'a str) -> Cow<'a, str> {
        let Some(body_bytes) = self.body_bytes else {
            self.body_bytes = opens_private_key(line).then_some(0);
            return self.redactor.redact_text(line);
        };
        match line.find(END) {
            Some(end) => {
                self.body_bytes = None;
                let (body, rest) = line.split_at(end);
                let rest = self.redactor.redact_text(rest);
                if body.trim().is_empty() {
                    return Cow::Owned(format!("{body}{rest}"));
                }
                Cow::Owned(format!("{MARKER}{rest}"))
            }
            // A key body is a few kilobytes; past the longest one, whatever follows a header
            // that never ended is text again, as in a single string.
            None if body_bytes + line.len() > MAX_PEM_BODY => {
                self.body_bytes = None;
                self.redact_line(line)
            }
            None => {
                self.body_bytes = Some(body_bytes + line.len());
                if line.trim().is_empty() { Cow::Borrowed(line) } else { Cow::Borrowed(MARKER) }
            }
        }
    }

    /// Whether the last line given left a private key block open.
    pub fn is_in_private_key(&self) -> bool {
        self.body_bytes.is_some()
    }
}

/// Whether `line` holds a private key header that no `-----END` follows on the same line.
fn opens_private_key(line: &str) -> bool {
    let Some(begin) = line.rfind(BEGIN) else { return false };
    let after = &line[begin + BEGIN.len()..];
    let Some(label_len) = after.find("-----") else { return false };
    after[..label_len].contains("PRIVATE KEY") && !after.contains(END)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[&str], expected: &[&str]) {
        let redactor = Redactor::default();
        let mut lines = redactor.lines();
        let out: Vec<String> =
            input.iter().map(|line| lines.redact_line(line).into_owned()).collect();
        assert_eq!(out, expected, "input: {input:?}");
    }

    #[test]
    fn a_key_block_over_several_lines_loses_its_body() {
        check(
            &[
                "2026-12-04 loaded key:",
                "-----BEGIN OPENSSH PRIVATE KEY-----",
                "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
                "",
                "QyNTUxOQAAACD2b3M=",
                "-----END OPENSSH PRIVATE KEY-----",
                "next line password=hunter2x",
            ],
            &[
                "2026-12-04 loaded key:",
                "-----BEGIN OPENSSH PRIVATE KEY-----",
                "<redacted>",
                "",
                "<redacted>",
                "-----END OPENSSH PRIVATE KEY-----",
                "next line password=<redacted>",
            ],
        );
        check(
            &[
                "key: -----BEGIN PRIVATE KEY-----MIIEvQIBADANBg",
                "kqhkiG9w0B==-----END PRIVATE KEY-----",
            ],
            &["key: -----BEGIN PRIVATE KEY-----<redacted>", "<redacted>-----END PRIVATE KEY-----"],
        );
    }

    #[test]
    fn other_blocks_and_closed_blocks_open_nothing() {
        let public = [
            "-----BEGIN CERTIFICATE-----",
            "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa",
            "-----END CERTIFICATE-----",
        ];
        check(&public, &public);
        check(
            &["-----BEGIN EC PRIVATE KEY-----abc-----END EC PRIVATE KEY-----", "plain text"],
            &["-----BEGIN EC PRIVATE KEY-----<redacted>-----END EC PRIVATE KEY-----", "plain text"],
        );
    }

    #[test]
    fn a_block_that_never_ends_stops_at_the_longest_key() {
        let body = "A".repeat(64);
        let mut input = vec!["-----BEGIN RSA PRIVATE KEY-----".to_owned()];
        input.extend(std::iter::repeat_n(body.clone(), MAX_PEM_BODY / 64 + 10));
        let redactor = Redactor::default();
        let mut lines = redactor.lines();
        let out: Vec<String> =
            input.iter().map(|line| lines.redact_line(line).into_owned()).collect();
        assert_eq!(out[1], MARKER);
        assert_eq!(out.last(), Some(&body));
        assert!(!lines.is_in_private_key());
    }
}
