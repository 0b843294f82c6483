//! Reading a plain file backwards from its end, for the last lines, without reading the rest.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::{Line, Position};

/// How much is read at a time, going backwards.
const CHUNK: u64 = 256 << 10;

/// What a backwards read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TailRead {
    /// The file length when it was read.
    pub(crate) len: u64,
    /// The offset just past the last complete line: where following resumes.
    pub(crate) end_of_lines: u64,
    /// Whether the file ended with a torn line (no newline), which starts at `end_of_lines`.
    pub(crate) torn: bool,
}

/// Walks a plain file's complete lines from last to first, handing each to `visit` until it
/// returns `false` or the start of the file is reached. Only the chunks holding the lines
/// visited are read.
///
/// # Errors
///
/// The IO error of opening or reading the file.
pub(crate) fn visit_lines_backwards(
    path: &Path,
    visit: &mut dyn FnMut(Line<'_>) -> bool,
) -> io::Result<TailRead> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut buffer: Vec<u8> = Vec::new();
    let mut buffer_start = len;

    // Find the end of the last complete line: anything after it is torn.
    let end_of_lines = loop {
        if let Some(pos) = memchr::memrchr(b'\n', &buffer) {
            break buffer_start + pos as u64 + 1;
        }
        if buffer_start == 0 {
            break 0;
        }
        buffer_start = read_before(&mut file, buffer_start, &mut buffer)?;
    };
    let torn = end_of_lines < len;
    buffer.truncate((end_of_lines - buffer_start) as usize);

    // `buffer` holds [buffer_start, end) and ends with the newline of the next line to visit.
    while !buffer.is_empty() {
        let body = &buffer[..buffer.len() - 1];
        let (line_start, complete) = match memchr::memrchr(b'\n', body) {
            Some(pos) => (pos + 1, true),
            None => (0, buffer_start == 0),
        };
        if !complete {
            buffer_start = read_before(&mut file, buffer_start, &mut buffer)?;
            continue;
        }
        let offset = buffer_start + line_start as u64;
        let mut bytes = &body[line_start..];
        if offset == 0 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let line = Line { bytes, position: Position { line: None, offset }, torn: false };
        if !visit(line) {
            break;
        }
        buffer.truncate(line_start);
    }
    Ok(TailRead { len, end_of_lines, torn })
}

/// Reads the chunk before `start` in front of `buffer`; returns the new start.
fn read_before(file: &mut File, start: u64, buffer: &mut Vec<u8>) -> io::Result<u64> {
    let new_start = start.saturating_sub(CHUNK);
    let mut chunk = vec![0; (start - new_start) as usize];
    file.seek(SeekFrom::Start(new_start))?;
    file.read_exact(&mut chunk)?;
    chunk.extend_from_slice(buffer);
    *buffer = chunk;
    Ok(new_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_from_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-2026-12-03.jsonl");
        let mut text = String::from("\u{feff}first\r\n");
        for idx in 0..100_000 {
            text.push_str(&format!("line {idx}\n"));
        }
        text.push_str("torn");
        std::fs::write(&path, &text).unwrap();

        let mut seen = Vec::new();
        let read = visit_lines_backwards(&path, &mut |line| {
            seen.push(String::from_utf8_lossy(line.bytes).into_owned());
            seen.len() < 3
        })
        .unwrap();
        assert_eq!(seen, ["line 99999", "line 99998", "line 99997"]);
        assert!(read.torn);
        assert_eq!(read.end_of_lines, text.len() as u64 - 4);

        let mut n_lines = 0;
        let mut first = String::new();
        visit_lines_backwards(&path, &mut |line| {
            n_lines += 1;
            first = String::from_utf8_lossy(line.bytes).into_owned();
            true
        })
        .unwrap();
        assert_eq!((n_lines, first.as_str()), (100_001, "first"));
    }
}
