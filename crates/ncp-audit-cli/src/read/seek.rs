//! Finding times in a plain file without reading it all: its first and last timestamps, and
//! the line where a time starts, by binary search on line boundaries.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::query::line_timestamp;

/// How much is read around each probe; a line longer than this stops the search early, which
/// only costs speed.
const WINDOW: usize = 64 << 10;

/// The first and last timestamps of a plain file (canonical `YYYY-MM-DDTHH:MM:SS.mmmZ`), read
/// from its first and last 64 KiB; `None` for a gzipped or unreadable file or one without a
/// timestamp in those places.
pub(crate) fn first_and_last_timestamps(path: &Path) -> Option<(String, String)> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let head = read_window(&mut file, 0)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return None;
    }
    let first = head.split(|byte| *byte == b'\n').find_map(line_timestamp)?;
    let tail = read_window(&mut file, len.saturating_sub(WINDOW as u64))?;
    let last = tail.rsplit(|byte| *byte == b'\n').find_map(line_timestamp)?;
    Some((first, last))
}

/// The offset of a line start in a plain file such that every line before it has a timestamp
/// before `target`, as late as a binary search over the file finds. Lines out of time order
/// make the answer imprecise, so callers pass a target with some slack and still filter each
/// line.
pub(crate) fn seek_to_timestamp(path: &Path, target: &str) -> u64 {
    let Ok(mut file) = File::open(path) else { return 0 };
    let Ok(len) = file.metadata().map(|metadata| metadata.len()) else { return 0 };
    let (mut lo, mut hi) = (0_u64, len);
    while hi - lo > WINDOW as u64 {
        let mid = lo + (hi - lo) / 2;
        let Some(window) = read_window(&mut file, mid) else { break };
        let Some(newline) = memchr::memchr(b'\n', &window) else { break };
        let line_start = mid + newline as u64 + 1;
        if line_start >= hi {
            hi = mid;
            continue;
        }
        let rest = &window[newline + 1..];
        let Some(line_end) = memchr::memchr(b'\n', rest) else { break };
        match line_timestamp(&rest[..line_end]) {
            Some(timestamp) if timestamp.as_str() < target => lo = line_start,
            Some(_) => hi = line_start,
            None => break,
        }
    }
    lo
}

/// Cuts `start..len` of a plain file into `n_parts` ranges of about the same size that start
/// and end on line boundaries: `[start, b1, …, len]`, strictly increasing.
pub(crate) fn line_boundaries(path: &Path, start: u64, len: u64, n_parts: usize) -> Vec<u64> {
    let mut bounds = vec![start];
    let Ok(mut file) = File::open(path) else { return vec![start, len] };
    for part_idx in 1..n_parts as u64 {
        let mut probe = start + (len - start) * part_idx / n_parts as u64;
        let boundary = loop {
            let Some(window) = read_window(&mut file, probe) else { break len };
            if window.is_empty() {
                break len;
            }
            match memchr::memchr(b'\n', &window) {
                Some(pos) => break probe + pos as u64 + 1,
                None => probe += window.len() as u64,
            }
        };
        if boundary > *bounds.last().unwrap_or(&start) && boundary < len {
            bounds.push(boundary);
        }
    }
    bounds.push(len);
    bounds
}

fn read_window(file: &mut File, offset: u64) -> Option<Vec<u8>> {
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut window = Vec::with_capacity(WINDOW);
    file.take(WINDOW as u64).read_to_end(&mut window).ok()?;
    Some(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_lands_just_before_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-2026-12-03.jsonl");
        let mut text = String::new();
        let mut offsets = Vec::new();
        for second in 0..40_000 {
            offsets.push(text.len() as u64);
            let (hour, minute, sec) = (second / 3600, second / 60 % 60, second % 60);
            text.push_str(&format!(
                "{{\"timestamp\":\"2026-12-03T{hour:02}:{minute:02}:{sec:02}.000Z\",\"type\":\"binding_accessed\"}}\n"
            ));
        }
        std::fs::write(&path, &text).unwrap();
        let offset = seek_to_timestamp(&path, "2026-12-03T05:00:00.000Z");
        let target_offset = offsets[5 * 3600];
        assert!(offset <= target_offset, "{offset} > {target_offset}");
        assert!(target_offset - offset <= WINDOW as u64, "{offset} far before {target_offset}");
        assert!(offsets.contains(&offset));
        assert_eq!(seek_to_timestamp(&path, "2026-12-02T00:00:00.000Z"), 0);
        let (first, last) = first_and_last_timestamps(&path).unwrap();
        assert_eq!(
            (first.as_str(), last.as_str()),
            ("2026-12-03T00:00:00.000Z", "2026-12-03T11:06:39.000Z")
        );
    }
}
