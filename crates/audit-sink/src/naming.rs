//! The names of the files this system writes, and their time order.
//!
//! - `audit-YYYY-MM-DD.jsonl`: the day's file, active while that UTC day lasts;
//! - `audit-YYYY-MM-DD.NNNNNN.jsonl`: a file rotated for size, `NNNNNN` a per-day sequence
//!   from `000001`;
//! - either of them plus `.gz` once compressed.
//!
//! Within a day, numbered files come first by sequence, then the un-numbered day file, which
//! was active last. Names written by the original TypeScript implementation
//! (`audit-YYYY-MM-DD-<epoch ms>.jsonl`, `audit-YYYY-MM-DDTHH-MM-SS-mmmZ.jsonl`) are not
//! ours: retention neither counts nor deletes them.

use std::cmp::Ordering;
use std::fmt;

/// The name of one segment file this system writes, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SegmentName {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// The rotation sequence, `None` for the day file.
    pub sequence: Option<u32>,
    /// Whether this is the `.gz` form.
    pub compressed: bool,
}

impl SegmentName {
    /// The day file of `day` (`YYYY-MM-DD`), uncompressed.
    pub fn day_file(day: &str) -> SegmentName {
        SegmentName { day: day.to_owned(), sequence: None, compressed: false }
    }

    /// The rotated file number `sequence` of `day`, uncompressed.
    pub fn rotated(day: &str, sequence: u32) -> SegmentName {
        SegmentName { day: day.to_owned(), sequence: Some(sequence), compressed: false }
    }

    /// Parses a file name; `None` for any name this system does not write.
    pub fn parse(name: &str) -> Option<SegmentName> {
        let rest = name.strip_prefix("audit-")?;
        let day = rest.get(..10)?;
        if !is_day(day) {
            return None;
        }
        let mut rest = &rest[10..];
        let compressed = match rest.strip_suffix(".gz") {
            Some(stripped) => {
                rest = stripped;
                true
            }
            None => false,
        };
        let rest = rest.strip_suffix(".jsonl")?;
        let sequence = if rest.is_empty() {
            None
        } else {
            let digits = rest.strip_prefix('.')?;
            if digits.len() < 6 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            let sequence: u32 = digits.parse().ok().filter(|&sequence| sequence > 0)?;
            Some(sequence)
        };
        Some(SegmentName { day: day.to_owned(), sequence, compressed })
    }

    /// The same segment, compressed.
    pub fn to_compressed(&self) -> SegmentName {
        SegmentName { compressed: true, ..self.clone() }
    }

    /// The same segment, uncompressed.
    pub fn to_uncompressed(&self) -> SegmentName {
        SegmentName { compressed: false, ..self.clone() }
    }

    /// Compares by time order, ignoring compression: day, then numbered files by sequence,
    /// then the day file.
    pub fn cmp_time(&self, other: &SegmentName) -> Ordering {
        let key = |name: &SegmentName| match name.sequence {
            Some(sequence) => (0, sequence),
            None => (1, 0),
        };
        self.day.cmp(&other.day).then_with(|| key(self).cmp(&key(other)))
    }
}

impl fmt::Display for SegmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "audit-{}", self.day)?;
        if let Some(sequence) = self.sequence {
            write!(f, ".{sequence:06}")?;
        }
        f.write_str(".jsonl")?;
        if self.compressed {
            f.write_str(".gz")?;
        }
        Ok(())
    }
}

/// Whether `text` has the shape `YYYY-MM-DD` with a plausible month and day.
fn is_day(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits_at = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && digits_at(0..4)
        && digits_at(5..7)
        && digits_at(8..10);
    shaped && (1..=12).contains(&number(&text[5..7])) && (1..=31).contains(&number(&text[8..10]))
}

fn number(digits: &str) -> u32 {
    digits.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expected: Option<(&str, Option<u32>, bool)>) {
        let parsed = SegmentName::parse(name);
        let expected = expected.map(|(day, sequence, compressed)| SegmentName {
            day: day.to_owned(),
            sequence,
            compressed,
        });
        assert_eq!(parsed, expected, "name {name}");
        if let Some(parsed) = parsed {
            assert_eq!(parsed.to_string(), name, "round trip");
        }
    }

    #[test]
    fn parses_our_names_only() {
        check("audit-2026-12-03.jsonl", Some(("2026-12-03", None, false)));
        check("audit-2026-12-03.jsonl.gz", Some(("2026-12-03", None, true)));
        check("audit-2026-12-03.000002.jsonl", Some(("2026-12-03", Some(2), false)));
        check("audit-2026-12-03.000002.jsonl.gz", Some(("2026-12-03", Some(2), true)));
        check("audit-2026-12-03.1234567.jsonl", Some(("2026-12-03", Some(1_234_567), false)));
        check("audit-2026-12-03-1764720000000.jsonl", None);
        check("audit-2026-12-03T10-15-30-123Z.jsonl", None);
        check("audit-2026-12-03.000000.jsonl", None);
        check("audit-2026-12-03.02.jsonl", None);
        check("audit-2026-13-03.jsonl", None);
        check("audit-2026-12-03.jsonl.tmp", None);
        check("notes.txt", None);
        check(".audit.lock", None);
    }

    #[test]
    fn time_order_puts_the_day_file_after_its_numbered_files() {
        let mut names: Vec<SegmentName> = [
            "audit-2026-12-04.000001.jsonl",
            "audit-2026-12-03.jsonl",
            "audit-2026-12-03.000010.jsonl.gz",
            "audit-2026-12-03.000002.jsonl",
        ]
        .iter()
        .filter_map(|name| SegmentName::parse(name))
        .collect();
        names.sort_by(SegmentName::cmp_time);
        let sorted: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(
            sorted,
            [
                "audit-2026-12-03.000002.jsonl",
                "audit-2026-12-03.000010.jsonl.gz",
                "audit-2026-12-03.jsonl",
                "audit-2026-12-04.000001.jsonl",
            ]
        );
    }
}
