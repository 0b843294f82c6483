//! Redacted events rendered as JSON lines, the form a sink writes.

use std::ops::Range;

use audit_core::{AuditEvent, Timestamp};

use crate::Redactor;

/// Redacted events rendered as JSON lines, one after another, each with its timestamp.
///
/// Like [`RedactedEvent`](crate::RedactedEvent), only this crate puts lines in: every byte comes from an event that
/// went through a [`Redactor`]. A logger renders events into a batch and hands the batch to
/// its sink, so that an event is redacted and written out while its memory is still in the
/// cache, and the sink gets its bytes ready to append.
///
/// ```
/// use audit_core::AuditEvent;
/// use audit_redact::{RedactedBatch, Redactor};
///
/// let redactor = Redactor::default();
/// let mut batch = RedactedBatch::new();
/// redactor.redact_into(AuditEvent::code_execution_start("token = 'hunter2hunter2'"), &mut batch);
/// assert_eq!(batch.len(), 1);
/// let line = std::str::from_utf8(batch.line(0))?;
/// assert!(line.contains(r#""codeSnippet":"token = '<redacted>'""#));
/// assert!(batch.bytes().ends_with(b"}\n"));
/// # Ok::<(), std::str::Utf8Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactedBatch {
    /// The lines, each ended by a newline.
    bytes: Vec<u8>,
    /// Where each line ends in `bytes`, its newline included.
    ends: Vec<usize>,
    timestamps: Vec<Timestamp>,
}

impl RedactedBatch {
    /// An empty batch.
    pub fn new() -> RedactedBatch {
        RedactedBatch::default()
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the batch holds no line.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.timestamps.clear();
    }

    /// Every line, each ended by a newline.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Line `idx`, without its newline. It is UTF-8, as every rendered event is.
    ///
    /// # Panics
    ///
    /// When `idx` is not below [`len`](RedactedBatch::len).
    pub fn line(&self, idx: usize) -> &[u8] {
        let start = if idx == 0 { 0 } else { self.ends[idx - 1] };
        &self.bytes[start..self.ends[idx] - 1]
    }

    /// The timestamp of each line's event.
    pub fn timestamps(&self) -> &[Timestamp] {
        &self.timestamps
    }

    /// Appends lines `lines` of `other`, in order.
    ///
    /// # Panics
    ///
    /// When `lines` reaches past the end of `other`.
    pub fn extend_from(&mut self, other: &RedactedBatch, lines: Range<usize>) {
        if lines.is_empty() {
            return;
        }
        let start = if lines.start == 0 { 0 } else { other.ends[lines.start - 1] };
        let end = other.ends[lines.end - 1];
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes[start..end]);
        self.ends.extend(other.ends[lines.clone()].iter().map(|&line_end| line_end - start + base));
        self.timestamps.extend_from_slice(&other.timestamps[lines]);
    }
}

impl Redactor {
    /// Redacts `event` as [`Redactor::redact`] does and appends it to `batch` as one line.
    pub fn redact_into(&self, mut event: AuditEvent, batch: &mut RedactedBatch) {
        self.clean(&mut event);
        event.write_json(&mut batch.bytes);
        batch.bytes.push(b'\n');
        batch.ends.push(batch.bytes.len());
        batch.timestamps.push(event.timestamp);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn batch_of(n_events: usize) -> RedactedBatch {
        let redactor = Redactor::default();
        let mut batch = RedactedBatch::new();
        for idx in 0..n_events {
            let event = AuditEvent::binding_accessed("github", "listIssues", Duration::ZERO)
                .with_detail("requestId", idx);
            redactor.redact_into(event, &mut batch);
        }
        batch
    }

    #[test]
    fn lines_are_the_events_json_in_order() {
        let batch = batch_of(3);
        assert_eq!(batch.len(), 3);
        let text = std::str::from_utf8(batch.bytes()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (idx, line) in lines.iter().enumerate() {
            assert_eq!(batch.line(idx), line.as_bytes());
            assert!(line.ends_with(&format!(r#""requestId":{idx}}},"outcome":"success"}}"#)));
        }
        assert_eq!(batch.timestamps().len(), 3);
    }

    #[test]
    fn extending_copies_exactly_the_lines_asked_for() {
        let source = batch_of(5);
        let mut batch = batch_of(1);
        batch.extend_from(&source, 2..4);
        batch.extend_from(&source, 4..4);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.line(1), source.line(2));
        assert_eq!(batch.line(2), source.line(3));
        assert_eq!(batch.timestamps()[1..], source.timestamps()[2..4]);
        let n_bytes: usize = (0..3).map(|idx| batch.line(idx).len() + 1).sum();
        assert_eq!(n_bytes, batch.bytes().len());
        batch.clear();
        assert!(batch.is_empty() && batch.bytes().is_empty());
    }
}
