//! Which rotated files retention deletes.

use crate::naming::SegmentName;

/// The limits retention enforces on rotated files. The active file is never touched, and
/// neither is any file whose name this system does not write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Retention {
    /// How many rotated segments to keep, newest first. `0` keeps all.
    pub max_files: u32,
    /// Segments whose day ended more than this many days ago are deleted. `None` keeps them.
    pub max_age_days: Option<u32>,
    /// Oldest segments are deleted until the rest take at most this many bytes. `None` keeps
    /// them.
    pub max_total_bytes: Option<u64>,
}

const DAY_MILLIS: i64 = 86_400_000;

/// One rotated segment on disk: its `.jsonl` and `.gz` forms count as one (a crash between
/// compressing and removing the original leaves both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) name: SegmentName,
    pub(crate) files: Vec<String>,
    pub(crate) bytes: u64,
}

/// Groups `files` (name and size) into rotated segments in time order, oldest first, leaving
/// out the active file (the day file of `active_day`) and, after a clock stepped back, day
/// files of later days, which may still become active again.
pub(crate) fn rotated_segments(files: &[(SegmentName, u64)], active_day: &str) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    let mut sorted: Vec<&(SegmentName, u64)> = files
        .iter()
        .filter(|(name, _)| name.sequence.is_some() || name.day.as_str() < active_day)
        .collect();
    sorted.sort_by(|a, b| a.0.cmp_time(&b.0));
    for (name, bytes) in sorted {
        let plain = name.to_uncompressed();
        match segments.last_mut() {
            Some(last) if last.name == plain => {
                last.files.push(name.to_string());
                last.bytes += bytes;
            }
            _ => {
                segments.push(Segment { name: plain, files: vec![name.to_string()], bytes: *bytes })
            }
        }
    }
    segments
}

/// The segments `retention` deletes at `now_millis`, oldest first.
pub(crate) fn select_expired(
    segments: &[Segment],
    retention: &Retention,
    now_millis: i64,
) -> Vec<Segment> {
    let mut doomed = vec![false; segments.len()];

    if retention.max_files > 0 {
        let excess = segments.len().saturating_sub(retention.max_files as usize);
        doomed[..excess].iter_mut().for_each(|flag| *flag = true);
    }

    if let Some(max_age_days) = retention.max_age_days {
        let oldest_kept_end = now_millis - i64::from(max_age_days) * DAY_MILLIS;
        for (segment, flag) in segments.iter().zip(doomed.iter_mut()) {
            // A day's file holds events up to the end of its day; it is only too old once that
            // end lies further back than the limit.
            if day_start_millis(&segment.name.day)
                .is_some_and(|start| start + DAY_MILLIS <= oldest_kept_end)
            {
                *flag = true;
            }
        }
    }

    if let Some(max_total_bytes) = retention.max_total_bytes {
        let mut kept: u64 = segments
            .iter()
            .zip(&doomed)
            .filter(|(_, doomed)| !**doomed)
            .map(|(s, _)| s.bytes)
            .sum();
        for (segment, flag) in segments.iter().zip(doomed.iter_mut()) {
            if kept <= max_total_bytes {
                break;
            }
            if !*flag {
                *flag = true;
                kept -= segment.bytes;
            }
        }
    }

    segments.iter().zip(doomed).filter(|(_, doomed)| *doomed).map(|(s, _)| s.clone()).collect()
}

fn day_start_millis(day: &str) -> Option<i64> {
    audit_core::Timestamp::parse(&format!("{day}T00:00:00.000Z")).ok().map(|t| t.as_unix_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[(&str, u64)]) -> Vec<(SegmentName, u64)> {
        names.iter().map(|(name, bytes)| (SegmentName::parse(name).unwrap(), *bytes)).collect()
    }

    fn check(names: &[(&str, u64)], retention: Retention, now: &str, expected: &[&str]) {
        let segments = rotated_segments(&files(names), "2026-12-03");
        let now = audit_core::Timestamp::parse(now).unwrap().as_unix_millis();
        let deleted: Vec<String> = select_expired(&segments, &retention, now)
            .into_iter()
            .flat_map(|segment| segment.files)
            .collect();
        assert_eq!(deleted, expected);
    }

    const NOON: &str = "2026-12-03T12:00:00.000Z";

    #[test]
    fn keeps_the_newest_max_files_and_never_the_active_file() {
        let names = [
            ("audit-2026-12-03.jsonl", 10),
            ("audit-2026-12-03.000001.jsonl.gz", 10),
            ("audit-2026-12-03.000002.jsonl", 10),
            ("audit-2026-12-02.jsonl", 10),
        ];
        let keep_two = Retention { max_files: 2, ..Retention::default() };
        check(&names, keep_two, NOON, &["audit-2026-12-02.jsonl"]);
        let keep_three = Retention { max_files: 3, ..Retention::default() };
        check(&names, keep_three, NOON, &[]);
        check(&names, Retention::default(), NOON, &[]);
    }

    #[test]
    fn a_segment_and_its_compressed_twin_count_once() {
        let names = [
            ("audit-2026-12-03.000001.jsonl", 10),
            ("audit-2026-12-03.000001.jsonl.gz", 3),
            ("audit-2026-12-03.000002.jsonl.gz", 3),
        ];
        let keep_one = Retention { max_files: 1, ..Retention::default() };
        check(
            &names,
            keep_one,
            NOON,
            &["audit-2026-12-03.000001.jsonl", "audit-2026-12-03.000001.jsonl.gz"],
        );
    }

    #[test]
    fn age_counts_from_the_end_of_the_files_day() {
        let names = [("audit-2026-12-01.jsonl", 1), ("audit-2026-12-02.000001.jsonl", 1)];
        let one_day = Retention { max_age_days: Some(1), ..Retention::default() };
        // 2026-12-01 ended at 12-02 00:00, more than a day before 12-03 12:00; 12-02 ended at
        // 12-03 00:00, only half a day ago.
        check(&names, one_day, NOON, &["audit-2026-12-01.jsonl"]);
        check(&names, one_day, "2026-12-02T23:59:59.999Z", &[]);
        check(&names, one_day, "2026-12-03T00:00:00.000Z", &["audit-2026-12-01.jsonl"]);
    }

    #[test]
    fn total_size_deletes_oldest_first() {
        let names = [
            ("audit-2026-12-03.000001.jsonl", 100),
            ("audit-2026-12-03.000002.jsonl", 100),
            ("audit-2026-12-03.000003.jsonl", 100),
        ];
        let limit = Retention { max_total_bytes: Some(200), ..Retention::default() };
        check(&names, limit, NOON, &["audit-2026-12-03.000001.jsonl"]);
        let limit = Retention { max_total_bytes: Some(99), ..Retention::default() };
        check(
            &names,
            limit,
            NOON,
            &[
                "audit-2026-12-03.000001.jsonl",
                "audit-2026-12-03.000002.jsonl",
                "audit-2026-12-03.000003.jsonl",
            ],
        );
    }
}
