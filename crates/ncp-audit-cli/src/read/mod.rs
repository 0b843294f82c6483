//! Reading audit files: finding them, putting them in time order, decompressing them and
//! cutting them into lines, whatever state a crash or another writer left them in.
//!
//! [`discover`] lists a directory's audit files as [`Segment`]s in time order; [`order`] does
//! the same for files named on the command line. A [`BlockReader`] reads one segment in large
//! blocks of whole lines ([`Block`]), plain or gzipped; [`Block::lines`] yields each [`Line`]
//! with its number, a UTF-8 BOM and a CR before the newline already removed, and marks a last
//! line that has no newline (a writer mid-append) as torn.
//!
//! Nothing here prints: problems come back as values for the command to report.

mod names;
mod seek;
mod tail;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

pub(crate) use names::{NameKind, SegmentName, order_key, parse_name};
pub(crate) use seek::{first_and_last_timestamps, line_boundaries, seek_to_timestamp};
pub(crate) use tail::visit_lines_backwards;

/// How much a [`BlockReader`] reads at once: small enough that a block read from the page
/// cache is still in the CPU cache when its lines are judged, large enough that a read costs
/// little per byte.
pub(crate) const DEFAULT_BLOCK_SIZE: usize = 256 << 10;

/// The first bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why audit files could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// A directory could not be listed.
    #[error("cannot list {}", path.display())]
    ListDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file could not be opened or read.
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A gzip file is truncated or corrupt; the lines before the damage were delivered.
    #[error("{}: gzip stream damaged after {offset} decompressed bytes", path.display())]
    Gzip {
        path: PathBuf,
        offset: u64,
        #[source]
        source: io::Error,
    },
}

/// One audit file, with what its name says about it.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// Where the file was when it was listed: what messages name.
    pub(crate) path: PathBuf,
    /// `None` for a file named on the command line outside the naming schemes.
    pub(crate) name: Option<SegmentName>,
    /// The file, opened when the directory was listed (see [`discover`]): a rotation or
    /// compression that renames it afterwards does not lose it.
    handle: Option<Arc<File>>,
}

impl PartialEq for Segment {
    fn eq(&self, other: &Segment) -> bool {
        (&self.path, &self.name) == (&other.path, &other.name)
    }
}

impl Eq for Segment {}

impl Segment {
    /// The file's day by its name, if the name has one.
    pub(crate) fn day(&self) -> Option<&str> {
        self.name.as_ref().map(|name| name.day.as_str())
    }

    /// A path that opens this very file: the open handle's entry in `/proc/self/fd`, which
    /// gives a new, independent read position on the file listed even after it was renamed
    /// or deleted, else the path it was listed under.
    pub(crate) fn open_path(&self) -> PathBuf {
        use std::os::fd::AsRawFd;

        match &self.handle {
            Some(file) => {
                let by_fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
                if by_fd.exists() { by_fd } else { self.path.clone() }
            }
            None => self.path.clone(),
        }
    }
}

/// How long [`discover`] waits for writers to let go of the directory lock. A writer holds it
/// for one append or rotation (milliseconds); one that was stopped while holding it must not
/// stop the reader for good, which then lists the directory unlocked, as readers of files
/// named on the command line do.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Takes `lock` shared, waiting at most `patience`; whether it was taken.
fn lock_shared_within(lock: &File, patience: std::time::Duration) -> bool {
    let started = std::time::Instant::now();
    loop {
        match lock.try_lock_shared() {
            Ok(()) => return true,
            Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < patience => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Err(_) => return false,
        }
    }
}

/// The most files [`discover`] keeps open: the newest ones, which rotation and compression
/// may rename while they are read. Older files only change by compression or retention.
const MAX_HELD_FILES: usize = 256;

/// The audit files of `dir`, oldest first. Other files (the lock file, temp files) are left
/// out.
///
/// # Errors
///
/// [`ReadError::ListDir`] when the directory cannot be listed.
pub(crate) fn discover(dir: &Path) -> Result<Vec<Segment>, ReadError> {
    let list_error = |source| ReadError::ListDir { path: dir.to_owned(), source };
    // Writers append, rotate and compress under an exclusive lock on this file: holding it
    // shared while listing and opening sees the directory at one instant, so a file rotated
    // between the listing and its reading is still read, under its handle. A directory no
    // writer used has no lock file.
    let lock = File::open(dir.join(audit_sink::LOCK_FILE_NAME))
        .ok()
        .filter(|lock| lock_shared_within(lock, LOCK_PATIENCE));
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let is_audit_file = entry.file_name().to_str().and_then(parse_name).is_some();
        // A symbolic link is followed, as `verify` follows it: what one command checks, the
        // other reads.
        if is_audit_file && entry.path().is_file() {
            paths.push(entry.path());
        }
    }
    let mut segments = order(paths);
    let n_segments = segments.len();
    for segment in segments.iter_mut().skip(n_segments.saturating_sub(MAX_HELD_FILES)) {
        // A file that cannot be opened now reports its error when it is read.
        segment.handle = File::open(&segment.path).ok().map(Arc::new);
    }
    drop(lock);
    Ok(segments)
}

/// Puts files in time order: by the day and sequence of their names, and by their first
/// timestamp where names cannot tell (the original implementation's names, unknown names).
pub(crate) fn order(paths: Vec<PathBuf>) -> Vec<Segment> {
    let mut keyed: Vec<_> = paths
        .into_iter()
        .map(|path| {
            let name = path.file_name().and_then(|name| name.to_str()).and_then(parse_name);
            let needs_first = !matches!(
                name,
                Some(SegmentName { kind: NameKind::Day | NameKind::Numbered(_), .. })
            );
            // An unreadable file sorts first and reports its error when it is read.
            let first = if needs_first { first_timestamp(&path) } else { String::new() };
            let key = match &name {
                Some(name) => order_key(name, &first),
                None => (first.get(..10).unwrap_or("").to_owned(), 0, 0, first.clone()),
            };
            (key, Segment { path, name, handle: None })
        })
        .collect();
    keyed.sort_by(|left, right| left.0.cmp(&right.0).then_with(|| left.1.path.cmp(&right.1.path)));
    let mut segments: Vec<Segment> = keyed.into_iter().map(|(_, segment)| segment).collect();
    // A file being compressed exists twice for a moment, `X.jsonl` and `X.jsonl.gz`, both
    // whole (the .gz is renamed into place before the plain file goes): of the two listed,
    // read only the plain one.
    let listed: std::collections::HashSet<PathBuf> =
        segments.iter().map(|segment| segment.path.clone()).collect();
    let plain_twin_listed = |segment: &Segment| {
        let is_gz = segment.name.as_ref().is_some_and(|name| name.compressed);
        is_gz && listed.contains(&segment.path.with_extension(""))
    };
    segments.retain(|segment| !plain_twin_listed(segment));
    segments
}

/// The timestamp of the first readable line, or an empty string.
fn first_timestamp(path: &Path) -> String {
    let Ok(mut reader) = BlockReader::open(path) else { return String::new() };
    reader.block_size = 64 << 10;
    while let Ok(Some(block)) = reader.next_block() {
        for line in block.lines(None) {
            if let Some(timestamp) = crate::query::line_timestamp(line.bytes) {
                return timestamp;
            }
        }
    }
    String::new()
}

/// Reads one file, plain or gzipped, as blocks of whole lines.
pub(crate) struct BlockReader {
    path: PathBuf,
    source: Box<dyn Read + Send>,
    compressed: bool,
    /// Bytes read after the last complete line.
    carry: Vec<u8>,
    /// The offset of `carry`'s first byte, in decompressed bytes.
    offset: u64,
    at_file_start: bool,
    finished: bool,
    pending_error: Option<ReadError>,
    /// Buffers of blocks given back, reused so that their memory is not faulted in again.
    spare: Vec<Vec<u8>>,
    pub(crate) block_size: usize,
}

impl BlockReader {
    /// Opens a file from its start; gzip is recognised by its magic bytes, not its name.
    ///
    /// # Errors
    ///
    /// [`ReadError::Io`] when the file cannot be opened.
    pub(crate) fn open(path: &Path) -> Result<BlockReader, ReadError> {
        BlockReader::open_at(path, 0)
    }

    /// Opens a plain file at byte `offset`, which must be the start of a line; a gzipped file
    /// is always read from its start.
    ///
    /// # Errors
    ///
    /// [`ReadError::Io`] when the file cannot be opened.
    pub(crate) fn open_at(path: &Path, offset: u64) -> Result<BlockReader, ReadError> {
        BlockReader::open_range(path, offset, None)
    }

    /// Opens the bytes `start..end` of a plain file (`end` `None`: to the end), which must
    /// start and end on line boundaries; a gzipped file is always read whole.
    ///
    /// # Errors
    ///
    /// [`ReadError::Io`] when the file cannot be opened.
    pub(crate) fn open_range(
        path: &Path,
        offset: u64,
        end: Option<u64>,
    ) -> Result<BlockReader, ReadError> {
        BlockReader::open_range_as(path, path, offset, end)
    }

    /// [`BlockReader::open_range`] of a listed segment: opened through the handle taken when
    /// it was listed, named by the path it was listed under.
    ///
    /// # Errors
    ///
    /// [`ReadError::Io`] when the file cannot be opened.
    pub(crate) fn open_segment(
        segment: &Segment,
        offset: u64,
        end: Option<u64>,
    ) -> Result<BlockReader, ReadError> {
        BlockReader::open_range_as(&segment.open_path(), &segment.path, offset, end)
    }

    fn open_range_as(
        open_path: &Path,
        path: &Path,
        offset: u64,
        end: Option<u64>,
    ) -> Result<BlockReader, ReadError> {
        use std::io::{Seek, SeekFrom};

        let io_error = |source| ReadError::Io { path: path.to_owned(), source };
        let mut file = File::open(open_path).map_err(io_error)?;
        let mut magic = [0_u8; 2];
        let n_magic = read_full(&mut file, &mut magic).map_err(io_error)?;
        let compressed = n_magic == 2 && magic == GZIP_MAGIC;
        let start = if compressed { 0 } else { offset };
        file.seek(SeekFrom::Start(start)).map_err(io_error)?;
        let source: Box<dyn Read + Send> = if compressed {
            Box::new(MultiGzDecoder::new(BufReader::with_capacity(256 << 10, file)))
        } else {
            match end {
                Some(end) => Box::new(file.take(end.saturating_sub(start))),
                None => Box::new(file),
            }
        };
        Ok(BlockReader {
            path: path.to_owned(),
            source,
            compressed,
            carry: Vec::new(),
            offset: start,
            at_file_start: start == 0,
            finished: false,
            pending_error: None,
            spare: Vec::new(),
            block_size: DEFAULT_BLOCK_SIZE,
        })
    }

    /// Gives a block's buffer back for the next blocks to reuse.
    pub(crate) fn recycle(&mut self, block: Block) {
        if self.spare.len() < 2 {
            self.spare.push(block.bytes);
        }
    }

    /// Whether the file is gzipped.
    pub(crate) fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// The next block of whole lines; the last block of a file may end with a torn line.
    /// `Ok(None)` at the end of the file.
    ///
    /// # Errors
    ///
    /// [`ReadError::Io`] for a read error, [`ReadError::Gzip`] for a damaged gzip stream; in
    /// both cases after the lines read before it were delivered.
    pub(crate) fn next_block(&mut self) -> Result<Option<Block>, ReadError> {
        if let Some(error) = self.pending_error.take() {
            return Err(error);
        }
        if self.finished && self.carry.is_empty() {
            return Ok(None);
        }
        let mut buffer = self.spare.pop().unwrap_or_default();
        buffer.clear();
        buffer.extend_from_slice(&self.carry);
        self.carry.clear();
        // `carry` never holds a newline: it is what followed the last one.
        let mut last_newline = None;
        loop {
            if self.finished || (last_newline.is_some() && buffer.len() >= self.block_size) {
                break;
            }
            // Lines longer than a block (a 10 MB line) grow the buffer until they end.
            let before = buffer.len();
            self.fill(&mut buffer);
            if let Some(pos) = memchr::memrchr(b'\n', &buffer[before..]) {
                last_newline = Some(before + pos);
            }
        }

        if buffer.is_empty() {
            return match self.pending_error.take() {
                Some(error) => Err(error),
                None => Ok(None),
            };
        }
        let torn_tail = match last_newline {
            Some(pos) if !self.finished => {
                self.carry.extend_from_slice(&buffer[pos + 1..]);
                buffer.truncate(pos + 1);
                false
            }
            Some(pos) => pos + 1 < buffer.len(),
            None => true,
        };
        let block = Block {
            bytes: buffer,
            start_offset: self.offset,
            at_file_start: self.at_file_start,
            torn_tail,
        };
        self.offset += block.bytes.len() as u64;
        self.at_file_start = false;
        Ok(Some(block))
    }

    /// Reads up to a block more into `buffer`; sets `finished` at the end or on an error.
    fn fill(&mut self, buffer: &mut Vec<u8>) {
        let want = self.block_size.max(64 << 10);
        let start = buffer.len();
        buffer.reserve(want);
        // `read_to_end` keeps what it read before an error, and reads into spare capacity
        // without zeroing it first.
        let result = (&mut self.source).take(want as u64).read_to_end(buffer);
        let n_read = buffer.len() - start;
        match result {
            Ok(_) if n_read < want => self.finished = true,
            Ok(_) => {}
            Err(source) => {
                let path = self.path.clone();
                let offset = self.offset + buffer.len() as u64;
                self.pending_error = Some(if self.compressed {
                    ReadError::Gzip { path, offset, source }
                } else {
                    ReadError::Io { path, source }
                });
                self.finished = true;
            }
        }
    }
}

fn read_full(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n_read) => filled += n_read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Whole lines of one file, as read.
///
/// Blocks do not know their line numbers: counting newlines would cost a pass over every
/// byte. The consumer counts the lines it walks (see [`Lines::n_seen`]) and says where a
/// block starts; the first block of a file starts at line 1.
pub(crate) struct Block {
    pub(crate) bytes: Vec<u8>,
    /// The offset of the block's first byte in the (decompressed) file.
    pub(crate) start_offset: u64,
    /// Whether the block starts the file (line 1).
    pub(crate) at_file_start: bool,
    /// Whether the last line has no newline: the file ended mid-line.
    pub(crate) torn_tail: bool,
}

impl Block {
    /// The block's lines, numbered from `first_line` when it is known.
    pub(crate) fn lines(&self, first_line: Option<u64>) -> Lines<'_> {
        Lines::new(&self.bytes, first_line, self.start_offset, self.torn_tail)
    }
}

/// Where a line sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// The line number from 1, when known.
    pub(crate) line: Option<u64>,
    /// The offset of the line's first byte (in decompressed bytes for a gzipped file).
    pub(crate) offset: u64,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{line}"),
            None => write!(f, "@{}", self.offset),
        }
    }
}

/// One line, without its newline, a CR before it, or a BOM at its start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) position: Position,
    /// The file ended in the middle of this line.
    pub(crate) torn: bool,
}

/// The lines of a run of whole lines.
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    /// The newlines of `bytes`, found by one search over the whole run rather than one per
    /// line, which costs less for lines of a few hundred bytes.
    newlines: memchr::Memchr<'a>,
    cursor: usize,
    first_line: Option<u64>,
    n_seen: u64,
    start_offset: u64,
    torn_tail: bool,
}

impl<'a> Lines<'a> {
    fn new(
        bytes: &'a [u8],
        first_line: Option<u64>,
        start_offset: u64,
        torn_tail: bool,
    ) -> Lines<'a> {
        let newlines = memchr::memchr_iter(b'\n', bytes);
        Lines { bytes, newlines, cursor: 0, first_line, n_seen: 0, start_offset, torn_tail }
    }

    /// How many lines were yielded so far.
    pub(crate) fn n_seen(&self) -> u64 {
        self.n_seen
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        if self.cursor >= self.bytes.len() {
            return None;
        }
        let rest = &self.bytes[self.cursor..];
        let (mut bytes, torn, consumed) = match self.newlines.next() {
            Some(pos) => (&rest[..pos - self.cursor], false, pos - self.cursor + 1),
            None => (rest, self.torn_tail, rest.len()),
        };
        let line = self.first_line.map(|first| first + self.n_seen);
        let position = Position { line, offset: self.start_offset + self.cursor as u64 };
        // A byte order mark starts a file some Windows tools wrote, and every file of several
        // concatenated into one: dropped wherever a line starts with one.
        bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if let Some(stripped) = bytes.strip_suffix(b"\r") {
            bytes = stripped;
        }
        self.cursor += consumed;
        self.n_seen += 1;
        Some(Line { bytes, position, torn })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A writer stopped while holding the directory lock delays a reader, never stops it.
    #[test]
    fn the_directory_lock_is_waited_for_a_while_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(audit_sink::LOCK_FILE_NAME);
        let writer = File::create(&path).unwrap();
        writer.lock().unwrap();
        let reader = File::open(&path).unwrap();
        let started = std::time::Instant::now();
        assert!(!lock_shared_within(&reader, std::time::Duration::from_millis(50)));
        assert!(started.elapsed() >= std::time::Duration::from_millis(50));
        writer.unlock().unwrap();
        assert!(lock_shared_within(&reader, std::time::Duration::from_millis(50)));
    }

    /// A rotation between listing a directory and reading its files renames the active file
    /// and starts a new one under its name: the file listed is still the one read.
    #[test]
    fn a_file_rotated_after_the_listing_is_read_as_listed() {
        let dir = tempfile::tempdir().unwrap();
        let active = dir.path().join("audit-2026-12-03.jsonl");
        std::fs::write(&active, "{\"n\":1}\n").unwrap();
        let segments = discover(dir.path()).unwrap();
        std::fs::rename(&active, dir.path().join("audit-2026-12-03.000001.jsonl")).unwrap();
        std::fs::write(&active, "{\"n\":2}\n").unwrap();

        let mut reader = BlockReader::open_segment(&segments[0], 0, None).unwrap();
        let block = reader.next_block().unwrap().unwrap();
        let lines: Vec<&[u8]> = block.lines(None).map(|line| line.bytes).collect();
        assert_eq!(lines, [b"{\"n\":1}".as_slice()]);
        assert_eq!(segments[0].path, active, "messages name the file as listed");
        // Deleted, too, it is still read.
        std::fs::remove_file(dir.path().join("audit-2026-12-03.000001.jsonl")).unwrap();
        assert!(BlockReader::open_segment(&segments[0], 0, None).is_ok());
    }

    fn read_all(path: &Path, block_size: usize) -> (Vec<(String, Option<u64>, bool)>, bool) {
        let mut reader = BlockReader::open(path).unwrap();
        reader.block_size = block_size;
        let mut lines = Vec::new();
        let mut next_line_no = 1;
        loop {
            match reader.next_block() {
                Ok(Some(block)) => {
                    let mut block_lines = block.lines(Some(next_line_no));
                    for line in block_lines.by_ref() {
                        let text = String::from_utf8_lossy(line.bytes).into_owned();
                        lines.push((text, line.position.line, line.torn));
                    }
                    next_line_no += block_lines.n_seen();
                }
                Ok(None) => return (lines, false),
                Err(_) => return (lines, true),
            }
        }
    }

    #[test]
    fn lines_across_small_blocks_with_bom_crlf_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-2026-12-03.jsonl");
        // The second BOM: two files concatenated.
        std::fs::write(&path, b"\xEF\xBB\xBFone\r\n\xEF\xBB\xBFtwo\nthree-is-long\n\nfour")
            .unwrap();
        for block_size in [1, 3, 7, 1 << 20] {
            let (lines, failed) = read_all(&path, block_size);
            assert!(!failed);
            let expected = [
                ("one", Some(1), false),
                ("two", Some(2), false),
                ("three-is-long", Some(3), false),
                ("", Some(4), false),
                ("four", Some(5), true),
            ];
            let expected: Vec<_> = expected
                .iter()
                .map(|(text, line, torn)| (text.to_string(), *line, *torn))
                .collect();
            assert_eq!(lines, expected, "block size {block_size}");
        }
    }

    #[test]
    fn truncated_gzip_delivers_its_whole_lines_then_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-2026-12-03.000001.jsonl.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for line_idx in 0..20_000 {
            writeln!(encoder, "line number {line_idx} with some padding text").unwrap();
        }
        let compressed = encoder.finish().unwrap();
        std::fs::write(&path, &compressed[..compressed.len() / 2]).unwrap();
        let (lines, failed) = read_all(&path, 1 << 16);
        assert!(failed);
        assert!(lines.len() > 1000 && lines.len() < 20_000, "{}", lines.len());
        assert_eq!(lines[0].0, "line number 0 with some padding text");
        // Every complete line is intact; only the last may be cut.
        for (text, _, _) in &lines[..lines.len() - 1] {
            assert!(text.ends_with("padding text"), "{text}");
        }
    }

    #[test]
    fn discover_orders_by_name_and_first_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let line =
            |time: &str| format!("{{\"timestamp\":\"2026-12-03T{time}Z\",\"type\":\"x\"}}\n");
        let files = [
            ("audit-2026-12-03.jsonl", line("20:00:00.000")),
            ("audit-2026-12-03.000002.jsonl", line("19:00:00.000")),
            ("audit-2026-12-03.000001.jsonl", line("18:00:00.000")),
            ("audit-2026-12-03T18-00-30-746Z.jsonl", line("17:00:00.000")),
            ("audit-2026-12-03-1796320830781.jsonl", line("16:00:00.000")),
            ("audit-2026-12-02.jsonl", line("23:00:00.000")),
            ("audit-2026-12-02.000001.jsonl", line("22:00:00.000")),
            ("audit-2026-12-02.000001.jsonl.gz", line("22:00:00.000")),
            (".audit.lock", String::new()),
        ];
        for (name, text) in &files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let names: Vec<String> = discover(dir.path())
            .unwrap()
            .iter()
            .map(|segment| segment.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "audit-2026-12-02.000001.jsonl",
                "audit-2026-12-02.jsonl",
                "audit-2026-12-03-1796320830781.jsonl",
                "audit-2026-12-03T18-00-30-746Z.jsonl",
                "audit-2026-12-03.000001.jsonl",
                "audit-2026-12-03.000002.jsonl",
                "audit-2026-12-03.jsonl",
            ]
        );
    }

    /// `verify` reads a segment that is a symbolic link, so the readers do too: a link must
    /// not hide a file's events from `query` while `verify` vouches for them.
    #[test]
    fn discover_follows_symbolic_links() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("kept.jsonl");
        std::fs::write(&target, "{\"timestamp\":\"2026-12-03T10:00:00.000Z\"}\n").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("audit-2026-12-03.000001.jsonl"))
            .unwrap();
        assert_eq!(discover(dir.path()).unwrap().len(), 1);
    }
}
