//! Where the writer picks up the integrity chain: its cached head, the last line of the
//! active file, or the head anchor `.audit-head`.
//!
//! Every writer of a directory appends under the directory lock, and each continues the one
//! chain of the directory. Under the lock a writer needs the newest link. If the active file
//! is exactly as this writer left it (same inode, same length), its cached head is current.
//! Otherwise another process wrote since, and the newest link is on the last line of the
//! active file; a file with no chained line yet (just created) falls back to the head anchor,
//! which every writer rewrites after each append.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use audit_core::{ChainLink, split_chained_line};

use crate::verify::HEAD_FILE;

/// How far back from the end of a file to look for its last line at first; doubled until the
/// line is found or the file start is reached.
const TAIL_PROBE: u64 = 16 * 1024;

/// The newest link on the last complete line of `file` (of `len` bytes), if that line is
/// chained.
pub(crate) fn last_link_of(file: &File, len: u64) -> io::Result<Option<ChainLink>> {
    let mut probe = TAIL_PROBE;
    loop {
        let start = len.saturating_sub(probe);
        let mut buffer = vec![0; usize::try_from(len - start).unwrap_or(usize::MAX)];
        file.read_exact_at(&mut buffer, start)?;
        // Ignore an incomplete last line: a torn write is not part of the chain.
        let complete_end = match buffer.iter().rposition(|&byte| byte == b'\n') {
            Some(end) => end,
            None if start == 0 => return Ok(None),
            None => {
                probe *= 2;
                continue;
            }
        };
        let body = &buffer[..complete_end];
        match body.iter().rposition(|&byte| byte == b'\n') {
            Some(newline) => return Ok(split_chained_line(&body[newline + 1..]).map(|l| l.link())),
            None if start == 0 => return Ok(split_chained_line(body).map(|l| l.link())),
            None => probe *= 2,
        }
    }
}

/// The head anchor of `dir`: the newest link and the file it is in.
pub(crate) fn read_head(dir: &Path) -> Option<(ChainLink, Option<String>)> {
    let text = fs::read_to_string(dir.join(HEAD_FILE)).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let seq = value.get("seq")?.as_u64()?;
    let hash = ChainLink::parse_hash(value.get("hash")?.as_str()?.as_bytes())?;
    let file = value.get("file").and_then(|file| file.as_str()).map(str::to_owned);
    Some((ChainLink { seq, hash }, file))
}

/// Rewrites the head anchor. A rename over the old one keeps it whole if the process dies
/// midway.
pub(crate) fn write_head(dir: &Path, head: ChainLink, file: &str) -> io::Result<()> {
    let text = serde_json::json!({"seq": head.seq, "hash": head.hash_hex(), "file": file});
    let temp = dir.join(format!("{HEAD_FILE}.tmp"));
    fs::write(&temp, text.to_string())?;
    fs::rename(&temp, dir.join(HEAD_FILE))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

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
