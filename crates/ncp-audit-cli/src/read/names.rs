//! The names of audit files, ours and the original implementation's, and their time order.

/// What a file name says about the file's place in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameKind {
    /// `audit-YYYY-MM-DD.jsonl`: the day file, the last one written that day.
    Day,
    /// `audit-YYYY-MM-DD.NNNNNN.jsonl`: a size-rotated file, by per-day sequence.
    Numbered(u64),
    /// `audit-YYYY-MM-DD-<epoch ms>.jsonl` or `audit-YYYY-MM-DDTHH-MM-SS-mmmZ.jsonl`: written
    /// by the original implementation; the name's time is not reliably the start or the end of
    /// the file, so these order by their first timestamp.
    Legacy,
}

/// A parsed audit file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentName {
    /// The UTC day, `YYYY-MM-DD`.
    pub(crate) day: String,
    pub(crate) kind: NameKind,
    /// Whether the name ends in `.gz`.
    pub(crate) compressed: bool,
}

/// Parses an audit file name; `None` for anything else (the lock file, temp files).
pub(crate) fn parse_name(file_name: &str) -> Option<SegmentName> {
    let (rest, compressed) = match file_name.strip_suffix(".gz") {
        Some(rest) => (rest, true),
        None => (file_name, false),
    };
    let stem = rest.strip_prefix("audit-")?.strip_suffix(".jsonl")?;
    let day = stem.get(..10)?;
    if !is_day(day) {
        return None;
    }
    let tail = &stem[10..];
    let kind = if tail.is_empty() {
        NameKind::Day
    } else if let Some(sequence) = tail.strip_prefix('.') {
        if sequence.is_empty() || !sequence.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        NameKind::Numbered(sequence.parse().ok()?)
    } else if let Some(epoch) = tail.strip_prefix('-') {
        if epoch.is_empty() || !epoch.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        NameKind::Legacy
    } else if is_legacy_time(tail) {
        NameKind::Legacy
    } else {
        return None;
    };
    Some(SegmentName { day: day.to_owned(), kind, compressed })
}

fn is_day(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(idx, byte)| match idx {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// `THH-MM-SS-mmmZ`, the original implementation's rotation stamp.
fn is_legacy_time(tail: &str) -> bool {
    let bytes = tail.as_bytes();
    bytes.len() == 14
        && bytes[0] == b'T'
        && bytes[13] == b'Z'
        && bytes[1..13].iter().enumerate().all(|(idx, byte)| match idx {
            2 | 5 | 8 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// The sort key of a file: day, then the original implementation's files (by first timestamp),
/// then ours by sequence, then the day file that was active last.
///
/// The original implementation's files come before ours on the same day because a directory
/// that holds both was upgraded that day: the old writer wrote first.
pub(crate) fn order_key(name: &SegmentName, first_timestamp: &str) -> (String, u8, u64, String) {
    match name.kind {
        NameKind::Legacy => (name.day.clone(), 0, 0, first_timestamp.to_owned()),
        NameKind::Numbered(sequence) => (name.day.clone(), 1, sequence, String::new()),
        NameKind::Day => (name.day.clone(), 2, 0, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(file_name: &str, expected: Option<(&str, NameKind, bool)>) {
        let expected = expected.map(|(day, kind, compressed)| SegmentName {
            day: day.to_owned(),
            kind,
            compressed,
        });
        assert_eq!(parse_name(file_name), expected, "{file_name}");
    }

    #[test]
    fn names_of_every_scheme() {
        check("audit-2026-12-03.jsonl", Some(("2026-12-03", NameKind::Day, false)));
        check("audit-2026-12-03.jsonl.gz", Some(("2026-12-03", NameKind::Day, true)));
        check("audit-2026-12-03.000002.jsonl", Some(("2026-12-03", NameKind::Numbered(2), false)));
        check(
            "audit-2026-12-03.000012.jsonl.gz",
            Some(("2026-12-03", NameKind::Numbered(12), true)),
        );
        check(
            "audit-2026-12-03-1796320830781.jsonl",
            Some(("2026-12-03", NameKind::Legacy, false)),
        );
        check(
            "audit-2026-12-03T18-00-30-746Z.jsonl",
            Some(("2026-12-03", NameKind::Legacy, false)),
        );
        check(".audit.lock", None);
        check("audit-2026-12-03.jsonl.tmp", None);
        check("audit-2026-12-3.jsonl", None);
        check("audit-2026-12-03..jsonl", None);
        check("audit-2026-12-03T18-00-30Z.jsonl", None);
        check("notes.txt", None);
    }

    #[test]
    fn order_is_legacy_then_numbered_then_day() {
        let key = |file_name: &str, first: &str| order_key(&parse_name(file_name).unwrap(), first);
        let mut keys = [
            key("audit-2026-12-04.jsonl", ""),
            key("audit-2026-12-03.jsonl", ""),
            key("audit-2026-12-03.000010.jsonl", ""),
            key("audit-2026-12-03.000002.jsonl.gz", ""),
            key("audit-2026-12-03T18-00-30-746Z.jsonl", "2026-12-03T18:00:30.700Z"),
            key("audit-2026-12-03-1796320830781.jsonl", "2026-12-03T18:00:30.100Z"),
        ];
        keys.sort();
        let order: Vec<(u8, u64)> = keys.iter().map(|key| (key.1, key.2)).collect();
        assert_eq!(order, [(0, 0), (0, 0), (1, 2), (1, 10), (2, 0), (2, 0)]);
        assert_eq!(keys[0].3, "2026-12-03T18:00:30.100Z");
        assert_eq!(keys[5].0, "2026-12-04");
    }
}
