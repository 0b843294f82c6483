//! Where the writer picks up the integrity chain: its cached head, the last line of the
//! active file, or the head anchor `.audit-head`.
//!
//! Every writer of a directory appends under the directory lock, and each continues the one
//! chain of the directory. Under the lock a writer needs the newest link. If the active file
//! is exactly as this writer left it (same inode, same length), its cached head is current.
//! Otherwise another process wrote since, and the newest link is on the last line of the
//! active file; a file with no chained line yet (just created) falls back to the head anchor,
//! which every writer rewrites after its first append, after a rotation, at most every 100 ms
//! while it appends, and on flush and close. The anchor may therefore be behind the log, never
//! ahead of it: the fallback takes the newer of the anchor and the newest segment's last line.

use std::fs::{self, File};
use std::io;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use audit_core::{ChainLink, split_chained_line};

use crate::naming::SegmentName;
use crate::verify::HEAD_FILE;

/// How far back from the end of a file to look for its last line at first; doubled until the
/// line is found or the file start is reached.
const TAIL_PROBE: u64 = 16 * 1024;

/// The newest link of a directory's chain and the file that holds it (`None` before the
/// first line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainHead {
    pub(crate) link: ChainLink,
    pub(crate) file: Option<String>,
}

/// How far back from the end of a file to look for its last chained line: a torn line that a
/// restart terminated, or a few foreign lines, may sit after it.
const MAX_TAIL_SCAN: u64 = 4 << 20;

/// The link on the last chained, complete line of `file` (of `len` bytes), if there is one
/// within the last few megabytes.
pub(crate) fn last_link_of(file: &File, len: u64) -> io::Result<Option<ChainLink>> {
    let mut probe = TAIL_PROBE;
    loop {
        let start = len.saturating_sub(probe);
        let mut buffer = vec![0; usize::try_from(len - start).unwrap_or(usize::MAX)];
        file.read_exact_at(&mut buffer, start)?;
        // Complete lines only: everything up to the last newline. The first piece may be a
        // partial line when the probe did not reach the file start.
        let Some(complete_end) = buffer.iter().rposition(|&byte| byte == b'\n') else {
            if start == 0 || probe >= MAX_TAIL_SCAN {
                return Ok(None);
            }
            probe *= 2;
            continue;
        };
        let mut lines = buffer[..complete_end].split(|&byte| byte == b'\n').rev().peekable();
        while let Some(line) = lines.next() {
            let is_partial = lines.peek().is_none() && start > 0;
            if is_partial {
                break;
            }
            if let Some(chained) = split_chained_line(line) {
                return Ok(Some(chained.link()));
            }
        }
        if start == 0 || probe >= MAX_TAIL_SCAN {
            return Ok(None);
        }
        probe *= 2;
    }
}

/// Calls `each` with every line of the segment at `path`, gzipped or not.
fn for_each_segment_line(path: &Path, each: impl FnMut(&[u8])) -> io::Result<()> {
    let file = File::open(path)?;
    let reader: Box<dyn io::Read> = if path.extension().is_some_and(|ext| ext == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(file)))
    } else {
        Box::new(file)
    };
    for_each_line(reader, each).map(drop)
}

/// Calls `each` with every complete line of `reader`, without its newline; a last line
/// without one is left out. Returns how many bytes the complete lines took.
pub(crate) fn for_each_line(reader: impl io::Read, mut each: impl FnMut(&[u8])) -> io::Result<u64> {
    let mut reader = io::BufReader::with_capacity(1 << 16, reader);
    let mut line = Vec::new();
    let mut consumed = 0;
    loop {
        line.clear();
        if io::BufRead::read_until(&mut reader, b'\n', &mut line)? == 0 {
            return Ok(consumed);
        }
        if line.last() == Some(&b'\n') {
            consumed += line.len() as u64;
            line.pop();
            each(&line);
        }
    }
}

/// The first and last sequence numbers in the segment at `path`, and the hash of the line
/// with the last, if it holds chained lines.
pub(crate) fn seq_range_of(path: &Path) -> Option<(u64, u64, [u8; 32])> {
    let mut range: Option<(u64, u64, [u8; 32])> = None;
    let read = for_each_segment_line(path, |line| {
        if let Some(chained) = split_chained_line(line) {
            range = Some(match range {
                None => (chained.seq, chained.seq, chained.hash),
                Some((first, last, _)) if chained.seq > last => (first, chained.seq, chained.hash),
                Some((first, last, hash)) => (first.min(chained.seq), last, hash),
            });
        }
    });
    read.ok().and(range)
}

/// What a checkpoint says about a finished segment: its sequence range, line count and time
/// span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentSummary {
    pub(crate) first_seq: u64,
    pub(crate) last_seq: u64,
    pub(crate) lines: u64,
    pub(crate) first_timestamp: Option<String>,
    pub(crate) last_timestamp: Option<String>,
}

/// Summarizes the chained lines of the segment at `path` (gzipped or not), if it has any.
pub(crate) fn summarize_segment(path: &Path) -> Option<SegmentSummary> {
    let mut summary: Option<SegmentSummary> = None;
    let read = for_each_segment_line(path, |line| {
        let Some(chained) = split_chained_line(line) else { return };
        let timestamp = writer_timestamp(line).map(str::to_owned);
        match &mut summary {
            None => {
                summary = Some(SegmentSummary {
                    first_seq: chained.seq,
                    last_seq: chained.seq,
                    lines: 1,
                    first_timestamp: timestamp.clone(),
                    last_timestamp: timestamp,
                });
            }
            Some(summary) => {
                summary.last_seq = chained.seq;
                summary.lines += 1;
                summary.last_timestamp = timestamp;
            }
        }
    });
    read.ok().and(summary)
}

/// The timestamp of a line in the writer's shape, which always opens with it (at most 40
/// bytes: longer is no timestamp).
pub(crate) fn writer_timestamp(line: &[u8]) -> Option<&str> {
    let rest = line.strip_prefix(b"{\"timestamp\":\"")?;
    let end = rest.iter().take(40).position(|&byte| byte == b'"')?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// The last chained link of the newest segment other than `active`, for a directory whose
/// head anchor is gone or behind.
pub(crate) fn newest_segment_head(dir: &Path, active: &SegmentName) -> Option<ChainHead> {
    let mut segments: Vec<SegmentName> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|entry| SegmentName::parse(entry.file_name().to_str()?))
        .filter(|name| name.to_uncompressed() != active.to_uncompressed())
        .collect();
    segments.sort_by(|a, b| b.cmp_time(a));
    let newest = segments.first()?;
    let path = dir.join(newest.to_string());
    let mut last = None;
    for_each_segment_line(&path, |line| {
        if let Some(chained) = split_chained_line(line) {
            last = Some(chained.link());
        }
    })
    .ok()?;
    Some(ChainHead { link: last?, file: Some(newest.to_uncompressed().to_string()) })
}

/// The head anchor of `dir`: the newest link and the file it is in.
pub(crate) fn read_head(dir: &Path) -> Option<(ChainLink, Option<String>)> {
    read_head_checked(dir).ok().flatten()
}

/// [`read_head`], telling an anchor that is not there (`Ok(None)`) from one that is there but
/// cannot be used: `Err` holds what is wrong, as words to follow its name (`is damaged (not
/// JSON)`).
pub(crate) fn read_head_checked(dir: &Path) -> Result<Option<(ChainLink, Option<String>)>, String> {
    let bytes = match fs::read(dir.join(HEAD_FILE)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("is unreadable ({error})")),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| "is damaged (not JSON)".to_owned())?;
    let seq = value.get("seq").and_then(|seq| seq.as_u64());
    let hash = value.get("hash").and_then(|hash| hash.as_str());
    let hash = hash.and_then(|hash| ChainLink::parse_hash(hash.as_bytes()));
    let (Some(seq), Some(hash)) = (seq, hash) else {
        return Err("is damaged (no valid seq and hash)".to_owned());
    };
    let file = value.get("file").and_then(|file| file.as_str()).map(str::to_owned);
    Ok(Some((ChainLink { seq, hash }, file)))
}

/// Rewrites the head anchor. A rename over the old one keeps it whole if the process dies
/// midway.
pub(crate) fn write_head(dir: &Path, head: ChainLink, file: &str) -> io::Result<()> {
    let text = serde_json::json!({"seq": head.seq, "hash": head.hash_hex(), "file": file});
    let temp = dir.join(format!("{HEAD_FILE}.tmp"));
    let mut file =
        fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temp)?;
    file.write_all(text.to_string().as_bytes())?;
    drop(file);
    fs::rename(&temp, dir.join(HEAD_FILE))
}

#[cfg(test)]
mod tests {
    use audit_core::append_chained_line;

    use super::*;

    #[test]
    fn finds_the_last_chained_line_past_a_torn_one_and_long_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-2026-12-03.jsonl");
        let mut bytes = Vec::new();
        let long = format!(r#"{{"x":"{}"}}"#, "a".repeat(40_000));
        let first = append_chained_line(ChainLink::GENESIS, long.as_bytes(), &mut bytes);
        let second = append_chained_line(first, long.as_bytes(), &mut bytes);
        bytes.extend_from_slice(b"{\"torn");
        fs::File::create(&path).unwrap().write_all(&bytes).unwrap();

        let file = File::open(&path).unwrap();
        let link = last_link_of(&file, bytes.len() as u64).unwrap();
        assert_eq!(link, Some(second));
        // A torn line that a restart terminated, and a foreign line, are passed over.
        let mut more = bytes.clone();
        more.extend_from_slice(b"\n{\"foreign\":true}\n");
        fs::write(&path, &more).unwrap();
        let file = File::open(&path).unwrap();
        assert_eq!(last_link_of(&file, more.len() as u64).unwrap(), Some(second));
        assert_eq!(last_link_of(&file, 0).unwrap(), None);
    }

    #[test]
    fn head_anchor_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_head(dir.path()).is_none());
        let link = ChainLink::GENESIS.next(b"x");
        write_head(dir.path(), link, "audit-2026-12-03.jsonl").unwrap();
        let (read, file) = read_head(dir.path()).unwrap();
        assert_eq!(read, link);
        assert_eq!(file.as_deref(), Some("audit-2026-12-03.jsonl"));
    }
}
