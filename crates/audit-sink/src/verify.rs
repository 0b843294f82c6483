//! Checking the integrity chain of an audit directory.
//!
//! [`verify_dir`] reads every file of a directory in time order, compressed ones included,
//! recomputes the chain line by line, and reports per file what it found: intact, or which
//! lines were modified, deleted, inserted, reordered or duplicated, a truncated tail, a missing
//! file, files swapped, and files written by another system. Memory stays flat: only a window
//! of recent links is kept, never a whole file.
//!
//! How each kind of tampering shows:
//! - a changed line no longer hashes to its written hash (or its seq number was edited);
//! - deleted lines leave a gap in the sequence numbers that nothing fills;
//! - a reordered line fills a gap left earlier, and still links to its true predecessor;
//! - a duplicated line repeats a link already seen;
//! - an inserted line carries no chain data, or claims a sequence number already taken;
//! - a truncated tail or a removed file leaves a gap at a file boundary, named by the
//!   checkpoint the writer puts at the start of each new file, or by the head anchor
//!   (`.audit-head`) for the newest file;
//! - an `interval` checkpoint, which the writer puts inside a file at intervals, must name the
//!   line right before it as the head, and the file's first seq, count and time span up to
//!   it: one that disagrees was altered, or lines before it were;
//! - swapped files have sequence ranges out of name order;
//! - files that retention deleted are named, with their sequence ranges, in
//!   `audit_files_pruned` records, so their gap is reported as pruning, not tampering.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use audit_core::{ChainLink, LenientEvent, Timestamp, split_chained_line};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::chain_state::{read_head_checked, writer_timestamp};
use crate::file_sink::{INTERVAL_REASON, LOCK_FILE_NAME, TORN_LINE_REASON, hex};
use crate::naming::SegmentName;

/// The head anchor's file name: the newest link, rewritten by the writer after each batch.
pub const HEAD_FILE: &str = ".audit-head";

/// How many recent links are kept to check reordering and duplicates. A line moved further
/// than this from its place is reported as inserted rather than reordered.
const WINDOW: u64 = 1 << 16;

/// At most this many findings are kept per file; the rest are only counted.
const MAX_FINDINGS_PER_FILE: usize = 100;

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Every chained line checks out, and nothing is missing.
    Intact,
    /// Something was changed, removed, added or moved.
    Tampered,
    /// The check could not be completed: a file could not be read, or nothing was chained.
    Unverifiable,
}

/// What was found, from harmless to tampering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// Files deleted by retention, as recorded in the log. Not tampering.
    Pruned,
    /// A file written by another system (no chain data). Not tampering; not checked.
    ForeignFile,
    /// Lines another system wrote before the chain began, in a file the writer continued.
    /// Not tampering; not checked.
    ForeignLines,
    /// The last line of a file lacks its end, or only its newline: a writer stopped
    /// mid-write (or the file was cut right there). Not tampering by itself.
    TornLine,
    /// A line's content or chain data was changed.
    Modified,
    /// Lines were removed from inside a file.
    Deleted,
    /// A line that the writer never wrote was added.
    Inserted,
    /// A line was moved.
    Reordered,
    /// A line was copied.
    Duplicated,
    /// A file lost lines at its end.
    TailTruncated,
    /// A whole file is gone.
    FileMissing,
    /// The head anchor is gone or damaged (unreadable, or not an anchor), so a truncated tail
    /// of the newest file cannot be ruled out. The detail says which.
    AnchorMissing,
    /// Files hold each other's content (their names are out of sequence order).
    FilesSwapped,
    /// A file could not be read (an IO error, such as permission denied). Damaged gzip data
    /// is [`Modified`](FindingKind::Modified), and gzip data cut short
    /// [`TailTruncated`](FindingKind::TailTruncated).
    Unreadable,
}

impl FindingKind {
    /// The name used in reports: lowercase with dashes, such as `tail-truncated`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Pruned => "pruned",
            FindingKind::ForeignFile => "foreign-file",
            FindingKind::ForeignLines => "foreign-lines",
            FindingKind::TornLine => "torn-line",
            FindingKind::Modified => "modified",
            FindingKind::Deleted => "deleted",
            FindingKind::Inserted => "inserted",
            FindingKind::Reordered => "reordered",
            FindingKind::Duplicated => "duplicated",
            FindingKind::TailTruncated => "tail-truncated",
            FindingKind::FileMissing => "file-missing",
            FindingKind::AnchorMissing => "anchor-missing",
            FindingKind::FilesSwapped => "files-swapped",
            FindingKind::Unreadable => "unreadable",
        }
    }

    /// Whether this finding means the log was tampered with.
    pub fn is_tampering(self) -> bool {
        !matches!(
            self,
            FindingKind::Pruned
                | FindingKind::ForeignFile
                | FindingKind::ForeignLines
                | FindingKind::TornLine
                | FindingKind::Unreadable
        )
    }
}

/// One thing found, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// The 1-based line in the file, where one line is at fault.
    pub line: Option<u64>,
    /// A sentence for people: sequence numbers, counts, other file names.
    pub detail: String,
}

/// What was found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file's name in the directory. For a missing file, the name it had.
    pub name: String,
    /// Lines read.
    pub lines: u64,
    /// Bytes read (uncompressed).
    pub bytes: u64,
    /// The first and last sequence numbers seen, if any line was chained.
    pub seq_range: Option<(u64, u64)>,
    /// The findings, at most a hundred; `n_findings` counts them all.
    pub findings: Vec<Finding>,
    /// How many findings there were in all.
    pub n_findings: u64,
}

impl FileReport {
    fn new(name: String) -> FileReport {
        FileReport {
            name,
            lines: 0,
            bytes: 0,
            seq_range: None,
            findings: Vec::new(),
            n_findings: 0,
        }
    }

    fn add(&mut self, kind: FindingKind, line: Option<u64>, detail: String) {
        self.n_findings += 1;
        if self.findings.len() < MAX_FINDINGS_PER_FILE {
            self.findings.push(Finding { kind, line, detail });
        }
    }

    /// `valid` when nothing was found, else the most serious finding's name.
    pub fn status(&self) -> &'static str {
        match self.findings.iter().map(|finding| finding.kind).max() {
            None => "valid",
            Some(kind) => kind.as_str(),
        }
    }
}

/// The result of [`verify_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Per file, in time order; missing files appear where they belonged.
    pub files: Vec<FileReport>,
    /// Findings about the directory as a whole (head anchor, files swapped).
    pub findings: Vec<Finding>,
    /// The newest link seen.
    pub head: Option<ChainLink>,
}

impl VerifyReport {
    /// Intact, tampered, or could not be checked.
    pub fn verdict(&self) -> Verdict {
        let all = self.findings.iter().chain(self.files.iter().flat_map(|file| &file.findings));
        let mut verdict = if self.head.is_some() { Verdict::Intact } else { Verdict::Unverifiable };
        for finding in all {
            if finding.kind.is_tampering() {
                return Verdict::Tampered;
            }
            if finding.kind == FindingKind::Unreadable {
                verdict = Verdict::Unverifiable;
            }
        }
        verdict
    }

    /// Every finding of one kind, with its file name (`None` for directory findings).
    pub fn findings_of(&self, kind: FindingKind) -> Vec<(Option<&str>, &Finding)> {
        let dir = self.findings.iter().map(|finding| (None, finding));
        let files = self
            .files
            .iter()
            .flat_map(|file| file.findings.iter().map(move |f| (Some(file.name.as_str()), f)));
        dir.chain(files).filter(|(_, finding)| finding.kind == kind).collect()
    }
}

/// Why a directory could not be verified at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot list {}", dir.display())]
pub struct VerifyError {
    dir: PathBuf,
    source: io::Error,
}

/// A file of the directory, named by this system or by another, opened while the directory
/// was locked, with the length it had then.
struct Candidate {
    name: String,
    file: File,
    len: u64,
    segment: Option<SegmentName>,
}

/// What the directory held at one instant: its files, opened, and the head anchor, or why
/// an anchor file that is there could not be used.
struct Snapshot {
    candidates: Vec<Candidate>,
    head: Option<(ChainLink, Option<String>)>,
    anchor_damage: Option<String>,
}

/// Lists and opens the audit files of `dir` and reads its head anchor under a shared lock on
/// the writers' lock file, so that no append, rotation, compression or pruning happens in
/// between. The lock is held only for that: verification then reads the open files up to the
/// lengths they had, so writers carry on meanwhile, and a file renamed, compressed or deleted
/// after the snapshot is still read as it was.
fn snapshot(dir: &Path) -> Result<Snapshot, VerifyError> {
    let wrap = |source| VerifyError { dir: dir.to_owned(), source };
    // A directory no writer ever used has no lock file, and nothing to wait for.
    let lock = File::open(dir.join(LOCK_FILE_NAME)).ok();
    if let Some(lock) = &lock {
        lock.lock_shared().map_err(wrap)?;
    }

    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(wrap)? {
        let name = entry.map_err(wrap)?.file_name().to_string_lossy().into_owned();
        let is_log =
            name.starts_with("audit-") && (name.ends_with(".jsonl") || name.ends_with(".jsonl.gz"));
        if is_log {
            names.push(name);
        }
    }
    let mut candidates = Vec::new();
    for name in &names {
        // A `.gz` beside its original with the same content is a compression not yet
        // settled, and the original alone is read. One with other content is read too (it
        // sorts first): a clock that stepped back wrote its day again, or somebody planted it.
        let original = name.strip_suffix(".gz");
        if let Some(original) = original
            && names.iter().any(|other| other == original)
            && same_content(&dir.join(original), &dir.join(name))
        {
            continue;
        }
        let path = dir.join(name);
        let opened = File::open(&path).and_then(|file| Ok((file.metadata()?.len(), file)));
        match opened {
            Ok((len, file)) => {
                let segment = SegmentName::parse(name);
                candidates.push(Candidate { name: name.clone(), file, len, segment });
            }
            // Deleted between the listing and the open: by someone not holding the lock.
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(VerifyError { dir: path, source: error }),
        }
    }
    let (head, anchor_damage) = match read_head_checked(dir) {
        Ok(head) => (head, None),
        Err(damage) => (None, Some(damage)),
    };
    drop(lock);
    Ok(Snapshot { candidates, head, anchor_damage })
}

/// Whether the gzip file at `gz` holds exactly the bytes of the file at `plain`, compared a
/// block at a time. Unreadable counts as different.
fn same_content(plain: &Path, gz: &Path) -> bool {
    let (Ok(plain), Ok(gz)) = (File::open(plain), File::open(gz)) else { return false };
    let mut plain = BufReader::with_capacity(1 << 16, plain);
    let mut gz = MultiGzDecoder::new(BufReader::with_capacity(1 << 16, gz));
    let (mut left, mut right) = (vec![0; 1 << 16], vec![0; 1 << 16]);
    loop {
        let Ok(n_left) = read_full(&mut plain, &mut left) else { return false };
        let Ok(n_right) = read_full(&mut gz, &mut right) else { return false };
        if left[..n_left] != right[..n_right] {
            return false;
        }
        if n_left == 0 {
            return true;
        }
    }
}

/// Reads until `buffer` is full or the input ends; returns how much was read.
fn read_full(input: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// Verifies every audit file of `dir`.
///
/// `progress` is called after each file with the bytes read so far, so a caller can show
/// progress on long runs.
///
/// # Errors
///
/// [`VerifyError`] when the directory cannot be listed. Unreadable files are findings, not
/// errors.
pub fn verify_dir(dir: &Path, mut progress: impl FnMut(u64)) -> Result<VerifyReport, VerifyError> {
    let Snapshot { mut candidates, head, anchor_damage } = snapshot(dir)?;
    // Ours in time order; foreign names after them by name.
    candidates.sort_by(|a, b| match (&a.segment, &b.segment) {
        // A `.gz` read beside its original holds the older lines: first.
        (Some(x), Some(y)) => x.cmp_time(y).then(y.compressed.cmp(&x.compressed)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.name.cmp(&b.name),
    });

    let mut verifier = Verifier::default();
    let mut report = VerifyReport { files: Vec::new(), findings: Vec::new(), head: None };
    let mut scans = Vec::new();
    let mut bytes_read = 0;
    for candidate in candidates {
        let scan = scan_file(candidate);
        bytes_read += scan.report.bytes;
        progress(bytes_read);
        scans.push(scan);
    }
    // The first file, in time order, that holds chained lines: a file named like ours but
    // without any chain that sorts after it was written when the writer was already chaining.
    verifier.first_chained = scans
        .iter()
        .filter(|scan| scan.chained)
        .filter_map(|scan| scan.segment.clone())
        .min_by(|a, b| a.cmp_time(b));
    verifier.chain_began = scans
        .iter()
        .filter(|scan| scan.chained)
        .min_by_key(|scan| scan.first_seq)
        .and_then(|scan| scan.timestamp);

    order_by_sequence(&mut scans, &mut report.findings);
    for scan in scans {
        verifier.check_file(scan, &mut report);
    }
    verifier.finish(head, anchor_damage, &mut report);
    Ok(report)
}

/// One line as read: its number, whether it ended with a newline, its bytes.
struct RawLine<'a> {
    number: u64,
    complete: bool,
    bytes: &'a [u8],
}

/// A file read into memory-light form: its report so far and a way to replay its lines.
struct Scan {
    report: FileReport,
    file: File,
    len: u64,
    segment: Option<SegmentName>,
    compressed: bool,
    first_seq: Option<u64>,
    chained: bool,
    /// The timestamp of the first chained line; for a file without chain data, the latest
    /// timestamp of its lines, compared as instants (a `-01:00` offset is an hour later
    /// than the same digits with `Z`).
    timestamp: Option<Timestamp>,
    /// Whether a file without chain data holds an event whose time cannot be read (no
    /// timestamp, a number, another format): nothing shows it predates the chain.
    undated: bool,
}

/// A reader over the first `len` bytes of `file` (what it held at the snapshot), decompressed
/// when `compressed`. Each call starts from the beginning.
fn open_reader(file: &File, len: u64, compressed: bool) -> io::Result<Box<dyn Read>> {
    let mut file = file.try_clone()?;
    io::Seek::seek(&mut file, io::SeekFrom::Start(0))?;
    let file = file.take(len);
    Ok(if compressed {
        Box::new(MultiGzDecoder::new(BufReader::with_capacity(1 << 16, file)))
    } else {
        Box::new(file)
    })
}

/// Calls `each` with every line of the file, until it returns false; returns the bytes read
/// or the read error.
///
/// Lines are handed out in place from a large read buffer; only a line that straddles two
/// reads is moved, so the cost per line is finding its newline.
fn for_each_line(
    file: &File,
    len: u64,
    compressed: bool,
    mut each: impl FnMut(RawLine<'_>) -> bool,
) -> io::Result<u64> {
    const CHUNK: usize = 1 << 20;
    let mut reader = open_reader(file, len, compressed)?;
    let mut buffer = vec![0u8; CHUNK];
    // `buffer[..filled]` holds data; `buffer[..start]` was already handed out.
    let (mut start, mut filled) = (0, 0);
    let mut total = 0;
    let mut number = 0;
    loop {
        if start > 0 {
            buffer.copy_within(start..filled, 0);
            filled -= start;
            start = 0;
        }
        if filled == buffer.len() {
            // One line longer than the buffer: make room rather than split it.
            buffer.resize(buffer.len() * 2, 0);
        }
        let n_read = match reader.read(&mut buffer[filled..]) {
            Ok(n_read) => n_read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        total += n_read as u64;
        filled += n_read;
        if n_read == 0 {
            if filled > 0 {
                number += 1;
                each(RawLine { number, complete: false, bytes: &buffer[..filled] });
            }
            return Ok(total);
        }
        for end in memchr::memchr_iter(b'\n', &buffer[filled - n_read..filled]) {
            let end = filled - n_read + end;
            number += 1;
            if !each(RawLine { number, complete: true, bytes: &buffer[start..end] }) {
                return Ok(total);
            }
            start = end + 1;
        }
    }
}

/// First pass over a file: is it chained, and where does its sequence start? Reads only up
/// to the first chained line.
fn scan_file(candidate: Candidate) -> Scan {
    let compressed = candidate.name.ends_with(".gz");
    let mut report = FileReport::new(candidate.name.clone());
    let mut first_seq = None;
    let mut timestamp: Option<Timestamp> = None;
    let mut undated = false;
    let (mut n_lines, mut n_bytes) = (0, 0);
    // Reads up to the first chained line: the whole file when it has none, so that a file
    // with another system's lines before the writer's is still checked.
    // The first chained line's link, until the line after it confirms or corrects its number.
    let mut first_link: Option<ChainLink> = None;
    let result = for_each_line(&candidate.file, candidate.len, compressed, |line| {
        n_lines += 1;
        n_bytes += line.bytes.len() as u64 + u64::from(line.complete);
        if let Some(first) = first_link {
            first_seq = Some(confirmed_first_seq(first, line.bytes));
            return false;
        }
        let stamp = timestamp_in(line.bytes);
        if let Some(chained) = split_chained_line(line.bytes) {
            first_seq = Some(chained.seq);
            first_link = Some(chained.link());
            timestamp = stamp.and_then(|stamp| Timestamp::parse(&stamp).ok());
            return true;
        }
        match stamp.map(|stamp| Timestamp::parse(&stamp)) {
            Some(Ok(stamp)) => timestamp = timestamp.max(Some(stamp)),
            Some(Err(_)) => undated = true,
            // An event without a string timestamp; a line that is no JSON object at all (a
            // torn write, a stray byte) says nothing either way.
            None => undated |= is_json_object(line.bytes),
        }
        true
    });
    if let Err(error) = result {
        let (kind, detail) = read_failure(compressed, &error, "cannot read");
        report.add(kind, None, detail);
    }
    let chained = first_seq.is_some();
    if !chained {
        (report.lines, report.bytes) = (n_lines, n_bytes);
    }
    Scan {
        report,
        file: candidate.file,
        len: candidate.len,
        segment: candidate.segment,
        compressed,
        first_seq,
        chained,
        timestamp,
        undated,
    }
}

/// What a failed read of a file says. The writer renames a `.gz` into place only once it is
/// whole, so gzip data that does not decode, or ends early, was changed after it was
/// written; any other failure (permissions, IO) leaves the file unverified.
fn read_failure(compressed: bool, error: &io::Error, what: &str) -> (FindingKind, String) {
    match error.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData if compressed => {
            (FindingKind::Modified, format!("the gzip data is damaged ({error})"))
        }
        io::ErrorKind::UnexpectedEof if compressed => {
            (FindingKind::TailTruncated, format!("the gzip data ends early ({error})"))
        }
        _ => (FindingKind::Unreadable, format!("{what}: {error}")),
    }
}

fn is_json_object(line: &[u8]) -> bool {
    matches!(serde_json::from_slice::<serde_json::Value>(line), Ok(serde_json::Value::Object(_)))
}

/// The sequence number of a file's first chained line, `first`, for putting files in order,
/// given the line after it. The number written on the first line is taken unless the next
/// line links to that line's hash under another number: then the first line's number was
/// edited (its hash was not), and where the next line says it stands is where the file
/// starts. Without that correction one edited digit would make the files read as swapped.
fn confirmed_first_seq(first: ChainLink, next_line: &[u8]) -> u64 {
    match split_chained_line(next_line) {
        Some(next)
            if next.seq != first.seq.saturating_add(1)
                && next.seq > 0
                && next.follows(&first.hash) =>
        {
            next.seq - 1
        }
        _ => first.seq,
    }
}

/// The value of the first `"timestamp":"..."` in `line`, if it is short enough to be one.
fn timestamp_in(line: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"timestamp\":\"";
    let start = memchr::memmem::find(line, KEY)? + KEY.len();
    let rest = line.get(start..)?;
    let end = rest.iter().take(40).position(|&byte| byte == b'"')?;
    std::str::from_utf8(&rest[..end]).ok().map(str::to_owned)
}

/// Puts chained files in sequence order and reports any pair whose names disagree.
fn order_by_sequence(scans: &mut [Scan], findings: &mut Vec<Finding>) {
    let by_name: Vec<(String, u64)> =
        scans.iter().filter_map(|scan| Some((scan.report.name.clone(), scan.first_seq?))).collect();
    for pair in by_name.windows(2) {
        if pair[1].1 < pair[0].1 {
            findings.push(Finding {
                kind: FindingKind::FilesSwapped,
                line: None,
                detail: format!(
                    "{} starts at seq {} but comes after {}, which starts at seq {}",
                    pair[1].0, pair[1].1, pair[0].0, pair[0].1
                ),
            });
        }
    }
    // Stable: foreign and unreadable files keep their place relative to each other.
    scans.sort_by_key(|scan| scan.first_seq.unwrap_or(u64::MAX));
}

/// A gap in the sequence: numbers `from..=to` not seen where they should have been.
#[derive(Debug, Clone)]
struct Gap {
    from: u64,
    to: u64,
    /// Index of the file report and the line just after the gap.
    file_idx: usize,
    line: u64,
    at_file_start: bool,
    /// Whether the line after the gap is a checkpoint that opens a file, as every file the
    /// writer starts does (an `interval` checkpoint comes after lines of its file).
    opens_with_checkpoint: bool,
    /// The line after the gap, whose content nothing before it vouches for: its number, its
    /// written hash and the bytes the hash covers; none for a gap at the end of the log.
    after: Option<(u64, [u8; 32], Vec<u8>)>,
}

/// What checkpoint records say about a finished file.
#[derive(Debug, Clone)]
struct CheckpointClaim {
    file: String,
    last_seq: u64,
}

#[derive(Default)]
struct Verifier {
    /// Recent links by sequence number, for link checks, reorders and duplicates.
    recent: RecentLinks,
    max_seq: u64,
    gaps: Vec<Gap>,
    /// Sequence ranges retention deleted, from `audit_files_pruned` records, with the hash of
    /// each range's last line when the record gives it.
    pruned: Vec<(String, u64, u64, Option<[u8; 32]>)>,
    /// Per file that a checkpoint names: its last sequence number.
    claims: Vec<CheckpointClaim>,
    /// Last sequence number seen per file name.
    last_seq_of: BTreeMap<String, u64>,
    seen_any: bool,
    /// For the last line whose content failed its hash: its number, the hash its content
    /// does produce, and where its finding sits in the current file, so the next line can tell
    /// an edited hash from an edited content, and a forged line from a modified one.
    suspect: Option<Suspect>,
    /// The earliest of the writer's files that holds chained lines.
    first_chained: Option<SegmentName>,
    /// The timestamp of the chain's first line present.
    chain_began: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy)]
struct Suspect {
    seq: u64,
    recomputed: [u8; 32],
    prev_hash: [u8; 32],
    finding_idx: usize,
}

impl Verifier {
    fn remember(&mut self, link: ChainLink) {
        self.recent.insert(link.seq, link.hash);
        if link.seq > self.max_seq {
            self.max_seq = link.seq;
        }
    }

    fn predecessor(&self, seq: u64) -> Option<[u8; 32]> {
        match seq {
            // Nothing precedes the genesis link: a line claiming seq 0 was edited.
            0 => None,
            1 => Some(ChainLink::GENESIS.hash),
            _ => self.recent.get(&(seq - 1)).copied(),
        }
    }

    fn take_from_gap(&mut self, seq: u64) -> bool {
        let Some(idx) = self.gaps.iter().position(|gap| (gap.from..=gap.to).contains(&seq)) else {
            return false;
        };
        let gap = self.gaps.remove(idx);
        if gap.from < seq {
            self.gaps.push(Gap { to: seq - 1, ..gap.clone() });
        }
        if seq < gap.to {
            self.gaps.push(Gap { from: seq + 1, ..gap });
        }
        true
    }

    fn check_file(&mut self, mut scan: Scan, report: &mut VerifyReport) {
        let file_idx = report.files.len();
        if !scan.chained && scan.report.lines == 0 && scan.report.findings.is_empty() {
            // An empty file: a rotation or a new day began it and nothing was written yet
            // (a crash, a full disk). Nothing to check, nothing missing.
            report.files.push(scan.report);
            return;
        }
        if !scan.chained {
            let after_chain_began = match (&scan.segment, &self.first_chained) {
                (Some(name), Some(first)) => name.cmp_time(first).is_gt(),
                _ => false,
            };
            let stamped_after = match (&scan.timestamp, &self.chain_began) {
                (Some(latest), Some(began)) => latest > began,
                _ => false,
            };
            // Another system's history must be shown to predate the chain.
            let stamped_after = stamped_after || (scan.undated && self.chain_began.is_some());
            // No other system uses the `.NNNNNN.` names, and the writer gives one only to a
            // file it wrote into: even a day file it adopted gets its adoption checkpoint
            // before it is first rotated. A file that could not be read is left unverifiable.
            let rotated_name = scan.segment.as_ref().is_some_and(|name| name.sequence.is_some());
            if after_chain_began {
                scan.report.add(
                    FindingKind::Modified,
                    None,
                    "no chain data in a file named and dated as the writer's, after the chain \
                     began: its chain data was removed"
                        .to_owned(),
                );
            } else if rotated_name && scan.report.findings.is_empty() {
                scan.report.add(
                    FindingKind::Inserted,
                    None,
                    "no chain data in a file named as the writer's rotated file, a name no \
                     other system uses: added, not another system's history"
                        .to_owned(),
                );
            } else if stamped_after {
                // Another system's history predates the chain; a file of events from after
                // it began, without chain data, was put here.
                scan.report.add(
                    FindingKind::Inserted,
                    None,
                    format!(
                        "no chain data, yet it holds events {} the chain began ({}): added, not \
                         another system's earlier history",
                        if scan.undated { "not dated before" } else { "stamped after" },
                        self.chain_began.map(|began| began.to_string()).unwrap_or_default()
                    ),
                );
            } else if scan.report.findings.is_empty() {
                scan.report.add(
                    FindingKind::ForeignFile,
                    None,
                    "no chain data: written by another system, such as the original \
                     implementation; not checked"
                        .to_owned(),
                );
            }
            report.files.push(scan.report);
            return;
        }

        let mut file = scan.report;
        let mut so_far = FileSoFar::default();
        let mut first_chained = true;
        let mut first_last: Option<(u64, u64)> = None;
        let mut torn: Option<u64> = None;
        // A chained last line without its newline.
        let mut unended: Option<u64> = None;
        // A complete line that is not JSON, waiting for the checkpoint that must follow it.
        let mut ended_torn: Option<TornCandidate> = None;

        let result = for_each_line(&scan.file, scan.len, scan.compressed, |line| {
            file.lines += 1;
            file.bytes += line.bytes.len() as u64 + u64::from(line.complete);
            if let Some(number) = torn.take() {
                // An incomplete line followed by more data: it was not the end of the file.
                file.add(FindingKind::Modified, Some(number), "line has no end".into());
            }
            let chained = split_chained_line(line.bytes);
            if let Some(candidate) = ended_torn.take() {
                let accounted = chained
                    .as_ref()
                    .is_some_and(|chained| candidate.is_accounted_for(chained.event_prefix));
                candidate.settle(&mut file, &mut self.max_seq, accounted);
            }
            let Some(chained) = chained else {
                self.check_unchained(&mut file, &line, &mut torn, &mut ended_torn);
                return true;
            };
            if !self.seen_any {
                self.settle_foreign_lines(&mut file, chained.event_prefix);
            }
            if !line.complete {
                unended = Some(line.number);
            }
            let seq = chained.seq;
            let authenticated =
                self.check_line(&mut file, file_idx, line.number, chained, first_chained);
            if is_interval_checkpoint(chained.event_prefix) {
                so_far.check_interval_checkpoint(&mut file, line.number, &chained);
            }
            so_far.add(line.bytes, &chained);
            first_chained = false;
            self.seen_any = true;
            first_last = Some(match first_last {
                None => (seq, seq),
                Some((first, last)) => (first, last.max(seq)),
            });
            self.note_records(line.bytes, authenticated);
            true
        });
        if let Err(error) = result {
            let (kind, detail) = read_failure(scan.compressed, &error, "read stopped");
            file.add(kind, None, detail);
        }
        if let Some(number) = torn {
            file.add(FindingKind::TornLine, Some(number), "last line has no end".into());
        }
        if let Some(number) = unended {
            // Whole and chained, so nothing of it was lost; but the file was cut, by a crash
            // right before the newline or by hand, and the reader should know.
            file.add(FindingKind::TornLine, Some(number), "last line has no newline".into());
        }
        if let Some(candidate) = ended_torn {
            candidate.settle(&mut file, &mut self.max_seq, false);
        }
        file.seq_range = first_last;
        if let Some((_, last)) = first_last {
            self.last_seq_of.insert(plain_name(&file.name).to_owned(), last);
        }
        report.files.push(file);
    }

    /// A line that carries no well-formed chain field. If it still shows traces of one, it is
    /// a chained line whose chain data was damaged, and it takes the next number; otherwise it
    /// was added. An incomplete last line is a torn write, decided at the end of the file.
    fn check_unchained(
        &mut self,
        file: &mut FileReport,
        line: &RawLine,
        torn: &mut Option<u64>,
        ended_torn: &mut Option<TornCandidate>,
    ) {
        let cut_short = is_cut_short(line.bytes);
        if !line.complete && cut_short {
            *torn = Some(line.number);
            return;
        }
        if !line.complete {
            file.add(
                FindingKind::Inserted,
                Some(line.number),
                "last line has no end but is not cut short: no writer left it".into(),
            );
            return;
        }
        let damaged = memchr_contains(line.bytes, b"\"chain\"")
            || memchr_contains(line.bytes, b",\"hash\":\"");
        let parses = serde_json::from_slice::<serde::de::IgnoredAny>(line.bytes).is_ok();
        if damaged && (parses || !cut_short) {
            // Traces of a chain field in a whole line that is no longer a line the writer
            // wrote: the writer's line, damaged, even as the chain's first line (another
            // system never writes chain fields).
            file.add(FindingKind::Modified, Some(line.number), "chain data damaged".into());
            self.max_seq += 1;
        } else if !self.seen_any {
            // Before the first chained line of the directory: another system's lines, in a
            // file the writer later continued (the original implementation used the same
            // daily names).
            file.add(
                FindingKind::ForeignLines,
                Some(line.number),
                "written before the chain began, by another system; not checked".into(),
            );
        } else if cut_short {
            // The start of a line a writer was killed in the middle of (perhaps within its
            // chain field), if the next writer, which ended it, says so in the line after.
            *ended_torn = Some(TornCandidate::new(line, damaged));
        } else {
            file.add(
                FindingKind::Inserted,
                Some(line.number),
                "line without chain data inside a chained file".into(),
            );
        }
    }

    /// At the chain's first line: lines before it count as another system's only when that
    /// line is the writer's adoption checkpoint and names exactly their number; otherwise they
    /// were slipped in.
    fn settle_foreign_lines(&self, file: &mut FileReport, first_prefix: &[u8]) {
        let n_foreign =
            file.findings.iter().filter(|f| f.kind == FindingKind::ForeignLines).count() as u64;
        if n_foreign == 0 {
            return;
        }
        let declared = is_checkpoint(first_prefix)
            .then(|| std::str::from_utf8(first_prefix).ok())
            .flatten()
            .and_then(|prefix| LenientEvent::parse(&format!("{prefix}}}")).ok())
            .filter(|event| {
                event.get_path("details.reason").and_then(|v| v.as_str()) == Some("adopted")
            })
            .and_then(|event| event.get_path("details.foreignLines").and_then(|v| v.as_u64()));
        if declared == Some(n_foreign) {
            return;
        }
        for finding in &mut file.findings {
            if finding.kind == FindingKind::ForeignLines {
                finding.kind = FindingKind::Inserted;
                finding.detail = "line without chain data before the chain began, which no \
                                  adoption checkpoint accounts for"
                    .into();
            }
        }
    }

    fn check_line(
        &mut self,
        file: &mut FileReport,
        file_idx: usize,
        line_no: u64,
        chained: audit_core::ChainedLine<'_>,
        first_in_file: bool,
    ) -> bool {
        let seq = chained.seq;
        let expected = self.max_seq + 1;
        let predecessor = self.predecessor(seq);

        let suspect = self.suspect.take();
        if seq == expected {
            let follows_suspect = suspect.is_some_and(|suspect| {
                suspect.seq + 1 == seq && chained.follows(&suspect.recomputed)
            });
            let authenticated =
                follows_suspect || predecessor.is_some_and(|prev_hash| chained.follows(&prev_hash));
            if let Some(prev_hash) = predecessor
                && !chained.follows(&prev_hash)
                && !follows_suspect
            {
                self.suspect = Some(Suspect {
                    seq,
                    recomputed: audit_core::link_hash(&prev_hash, seq, chained.event_prefix),
                    prev_hash,
                    finding_idx: file.findings.len(),
                });
                file.add(
                    FindingKind::Modified,
                    Some(line_no),
                    format!("seq {seq}: content does not match its hash"),
                );
            }
            self.remember(chained.link());
            return authenticated;
        }

        // The line before claimed this number and failed; if this one links properly to the
        // line before that, the earlier one was forged and inserted, not modified.
        if let Some(suspect) = suspect
            && suspect.seq == seq
            && chained.follows(&suspect.prev_hash)
            && let Some(finding) = file.findings.get_mut(suspect.finding_idx)
        {
            finding.kind = FindingKind::Inserted;
            finding.detail = format!("forged line claiming seq {seq}");
            self.remember(chained.link());
            return true;
        }

        // A line in the right place whose written number was edited still hashes right under
        // the number it should have (the chain's first line too: under seq 1 and genesis).
        if let Some(prev_hash) = self.predecessor(expected)
            && audit_core::link_hash(&prev_hash, expected, chained.event_prefix) == chained.hash
        {
            file.add(
                FindingKind::Modified,
                Some(line_no),
                format!("seq {expected}: sequence number changed to {seq}"),
            );
            self.remember(ChainLink { seq: expected, hash: chained.hash });
            return true;
        }

        if seq > expected {
            self.gaps.push(Gap {
                from: expected,
                to: seq - 1,
                file_idx,
                line: line_no,
                at_file_start: first_in_file,
                opens_with_checkpoint: is_checkpoint(chained.event_prefix)
                    && !is_interval_checkpoint(chained.event_prefix),
                after: Some((seq, chained.hash, chained.event_prefix.to_vec())),
            });
            self.remember(chained.link());
            return false;
        }

        // seq < expected: a number already passed.
        if self.recent.get(&seq) == Some(&chained.hash) {
            // The link of a line already read: a copy, or, on content it does not hash to, a
            // copy that was then edited (a plain file beside its `.gz`).
            if predecessor.is_some_and(|prev_hash| !chained.follows(&prev_hash)) {
                let detail =
                    format!("seq {seq} appears again, on content that does not match its hash");
                file.add(FindingKind::Modified, Some(line_no), detail);
            } else {
                let detail = format!("seq {seq} appears again");
                file.add(FindingKind::Duplicated, Some(line_no), detail);
            }
        } else if self.take_from_gap(seq) {
            let detail = match predecessor {
                Some(prev_hash) if !chained.follows(&prev_hash) => {
                    format!("seq {seq} is out of place and its content does not match its hash")
                }
                _ => format!("seq {seq} is out of place"),
            };
            file.add(FindingKind::Reordered, Some(line_no), detail);
            self.recent.insert(seq, chained.hash);
        } else {
            file.add(
                FindingKind::Inserted,
                Some(line_no),
                format!("claims seq {seq}, which is already taken by another line"),
            );
        }
        false
    }

    /// Reads checkpoint and pruning records for what they say about other files. A pruning
    /// record excuses gaps, so it counts only when the chain vouches for its line
    /// (`authenticated`): the first line after a gap could say anything. A checkpoint only
    /// helps name what is missing, so it counts either way.
    fn note_records(&mut self, line: &[u8], authenticated: bool) {
        // Only the audit system's own records matter here; every line passes, so the type
        // is compared in place.
        if !has_writer_type(line, b"audit_") {
            return;
        }
        let Ok(text) = std::str::from_utf8(line) else { return };
        let Ok(event) = LenientEvent::parse(text) else { return };
        let Some(details) = event.details() else { return };
        match event.type_name() {
            Some("audit_checkpoint") => {
                let previous = details.get("previous");
                let file = previous.and_then(|p| p.get("file")).and_then(|v| v.as_str());
                let last = previous.and_then(|p| p.get("lastSeq")).and_then(|v| v.as_u64());
                if let (Some(file), Some(last_seq)) = (file, last) {
                    self.claims.push(CheckpointClaim { file: file.to_owned(), last_seq });
                }
            }
            Some("audit_files_pruned") if authenticated => {
                let files = details.get("ranges").and_then(|v| v.as_array());
                for entry in files.into_iter().flatten() {
                    let name = entry.get("file").and_then(|v| v.as_str());
                    let first = entry.get("firstSeq").and_then(|v| v.as_u64());
                    let last = entry.get("lastSeq").and_then(|v| v.as_u64());
                    let last_hash = entry
                        .get("lastHash")
                        .and_then(|v| v.as_str())
                        .and_then(|hex| ChainLink::parse_hash(hex.as_bytes()));
                    if let (Some(name), Some(first), Some(last)) = (name, first, last) {
                        self.pruned.push((name.to_owned(), first, last, last_hash));
                    }
                }
            }
            _ => {}
        }
    }

    /// Classifies the gaps nothing filled, and checks the head anchor (`anchor_damage` says
    /// what is wrong with an anchor file that is there but did not read as one).
    fn finish(
        mut self,
        head: Option<(ChainLink, Option<String>)>,
        anchor_damage: Option<String>,
        report: &mut VerifyReport,
    ) {
        self.check_file_ends(report);
        if self.seen_any && head.is_none() {
            let what = anchor_damage.unwrap_or_else(|| "is missing".to_owned());
            report.findings.push(Finding {
                kind: FindingKind::AnchorMissing,
                line: None,
                detail: format!(
                    "{HEAD_FILE} {what}: the newest lines could have been cut with no trace"
                ),
            });
        }
        if let Some((head_link, head_file)) = head {
            if head_link.seq > self.max_seq {
                // The newest lines are gone: the head names the file that held them.
                if let Some(file) = head_file {
                    self.claims.push(CheckpointClaim { file, last_seq: head_link.seq });
                }
                self.gaps.push(Gap {
                    from: self.max_seq + 1,
                    to: head_link.seq,
                    file_idx: report.files.len(),
                    line: 0,
                    at_file_start: true,
                    opens_with_checkpoint: true,
                    after: None,
                });
            } else if let Some(hash) = self.recent.get(&head_link.seq)
                && *hash != head_link.hash
            {
                report.findings.push(Finding {
                    kind: FindingKind::Modified,
                    line: None,
                    detail: format!(
                        "the head anchor's hash for seq {} differs from the log's",
                        head_link.seq
                    ),
                });
            }
        }

        let gaps = std::mem::take(&mut self.gaps);
        for gap in gaps {
            self.classify_gap(gap, report);
        }
        if self.seen_any {
            let hash = self.recent.get(&self.max_seq).copied().unwrap_or([0; 32]);
            report.head = Some(ChainLink { seq: self.max_seq, hash });
        }
    }

    /// Holds each file that a checkpoint says ended at some seq (the checkpoint that opened
    /// the file after it) to that end. A file that ends later gained lines after it was
    /// closed, one that ends earlier with no gap after it lost lines to its successor: lines
    /// moved between files, which the chain alone cannot see. A missing tail is a gap,
    /// reported as such.
    fn check_file_ends(&self, report: &mut VerifyReport) {
        // Files whose names were swapped already say why no file ends where it should.
        if report.findings.iter().any(|finding| finding.kind == FindingKind::FilesSwapped) {
            return;
        }
        for claim in &self.claims {
            let name = plain_name(&claim.file);
            let Some(&last) = self.last_seq_of.get(name) else { continue };
            let in_gap = |seq: u64| self.gaps.iter().any(|gap| (gap.from..=gap.to).contains(&seq));
            let moved = last > claim.last_seq || (last < claim.last_seq && !in_gap(last + 1));
            let Some(file) = report.files.iter_mut().find(|file| plain_name(&file.name) == name)
            else {
                continue;
            };
            // A file already at fault has its end explained there (a damaged last line takes
            // its number without being counted as the file's).
            let at_fault = file.findings.iter().any(|finding| finding.kind.is_tampering());
            if moved && !at_fault {
                file.add(
                    FindingKind::Modified,
                    None,
                    format!(
                        "ends at seq {last}, but the checkpoint opening the next file says it \
                         ended at seq {}: lines were moved between files",
                        claim.last_seq
                    ),
                );
            }
        }
    }

    fn classify_gap(&self, gap: Gap, report: &mut VerifyReport) {
        let count = gap.to - gap.from + 1;
        let range = if count == 1 {
            format!("seq {}", gap.from)
        } else {
            format!("seq {}..={}", gap.from, gap.to)
        };

        let pruned: Vec<&str> = self
            .pruned
            .iter()
            .filter(|(_, first, last, _)| *first <= gap.to && *last >= gap.from)
            .map(|(name, _, _, _)| name.as_str())
            .collect();
        // Retention deletes the oldest files only: a gap after surviving lines is not pruning,
        // whatever a record claims.
        let covered = gap.from == 1 && self.covered_by_pruning(gap.from, gap.to);
        // The pruned range's last hash vouches for the first line left after it.
        let last_hash = self
            .pruned
            .iter()
            .filter(|(_, _, last, _)| *last == gap.to)
            .find_map(|(_, _, _, last_hash)| *last_hash);
        let unlinked = match (&gap.after, last_hash) {
            (Some((seq, hash, prefix)), Some(last_hash)) => {
                (audit_core::link_hash(&last_hash, *seq, prefix) != *hash).then_some(*seq)
            }
            _ => None,
        };
        let (kind, detail) = if covered && let Some(after_seq) = unlinked {
            (
                FindingKind::Modified,
                format!(
                    "seq {after_seq}, the first line after {range} (removed by retention), does \
                     not link to the last line retention removed: altered or forged"
                ),
            )
        } else if covered {
            (FindingKind::Pruned, format!("{range} removed by retention ({})", pruned.join(", ")))
        } else if !gap.at_file_start {
            (FindingKind::Deleted, format!("{count} line(s) deleted ({range}) before this line"))
        } else if let Some(claim) =
            self.claims.iter().find(|claim| claim.last_seq >= gap.from && claim.last_seq <= gap.to)
        {
            match self.last_seq_of.get(plain_name(&claim.file)) {
                Some(_) => (
                    FindingKind::TailTruncated,
                    format!("{} lost its last {count} line(s) ({range})", claim.file),
                ),
                None => (FindingKind::FileMissing, format!("{} is missing ({range})", claim.file)),
            }
        } else if gap.from > 1 && !gap.opens_with_checkpoint
            || self.claims.iter().any(|claim| claim.last_seq + 1 == gap.from)
        {
            // The file before ended where its successor's checkpoint says: the lines went
            // missing from the start of this file.
            (FindingKind::Deleted, format!("{count} line(s) deleted ({range}) at the file's start"))
        } else if gap.from == 1 {
            (
                FindingKind::FileMissing,
                format!(
                    "the chain's first {count} line(s) are missing ({range}): lines deleted, \
                     or files removed without a retention record"
                ),
            )
        } else {
            (
                FindingKind::TailTruncated,
                format!("{range} missing at a file boundary: a truncated tail or a removed file"),
            )
        };

        let finding = Finding { kind, line: (gap.line > 0).then_some(gap.line), detail };
        // A truncated tail belongs to the file that lost it, when it is present.
        let owner = match (
            kind,
            self.claims.iter().find(|c| c.last_seq >= gap.from && c.last_seq <= gap.to),
        ) {
            (FindingKind::TailTruncated, Some(claim)) => report
                .files
                .iter()
                .position(|file| plain_name(&file.name) == plain_name(&claim.file)),
            _ => None,
        };
        let at_gap = gap.file_idx.min(report.files.len().saturating_sub(1));
        // The line after the gap is in another file than the one that lost its tail: no
        // line of the owner is named.
        let finding = match owner {
            Some(idx) if idx != at_gap => Finding { line: None, ..finding },
            _ => finding,
        };
        match owner.or((!report.files.is_empty()).then_some(at_gap)) {
            Some(idx) => {
                let file = &mut report.files[idx];
                file.n_findings += 1;
                file.findings.push(finding);
            }
            None => report.findings.push(finding),
        }
    }

    fn covered_by_pruning(&self, from: u64, to: u64) -> bool {
        let mut ranges: Vec<(u64, u64)> =
            self.pruned.iter().map(|(_, first, last, _)| (*first, *last)).collect();
        ranges.sort_unstable();
        let mut next = from;
        for (first, last) in ranges {
            if first <= next && last >= next {
                next = last + 1;
            }
            if next > to {
                return true;
            }
        }
        // A leading gap is covered when pruning reaches its end: older prune records may
        // themselves have been pruned.
        from == 1 && self.pruned.iter().any(|(_, _, last, _)| *last == to)
    }
}

fn is_checkpoint(event_prefix: &[u8]) -> bool {
    has_writer_type(event_prefix, b"audit_checkpoint\"")
}

/// Whether `line` (or its event bytes) has a type starting with `type_start` where the
/// writer puts the type: after `{"timestamp":"` and the 24 bytes of a timestamp. A producer's
/// details may hold the same words anywhere else; the audit system's own records are known
/// by this place alone.
fn has_writer_type(line: &[u8], type_start: &[u8]) -> bool {
    line.starts_with(b"{\"timestamp\":\"")
        && line
            .get(38..)
            .and_then(|rest| rest.strip_prefix(b"\",\"type\":\""))
            .is_some_and(|event_type| event_type.starts_with(type_start))
}

/// Whether `event_prefix` is the writer's checkpoint written at an interval inside a file
/// rather than at its start. Only the writer's records have their type in its place, so the
/// words found in one are its own.
fn is_interval_checkpoint(event_prefix: &[u8]) -> bool {
    is_checkpoint(event_prefix) && memchr_contains(event_prefix, br#""reason":"interval""#)
}

/// What was read of a file's chained lines so far: what its interval checkpoints must
/// agree with.
#[derive(Default)]
struct FileSoFar {
    lines: u64,
    first_seq: Option<u64>,
    first_timestamp: Option<String>,
    /// The last chained line's seq and written hash.
    last: Option<(u64, [u8; 32])>,
    /// The last chained line's timestamp, copied into place (no allocation per line).
    last_timestamp: Option<([u8; 40], usize)>,
}

impl FileSoFar {
    fn add(&mut self, line: &[u8], chained: &audit_core::ChainedLine<'_>) {
        let timestamp = writer_timestamp(line);
        if self.first_seq.is_none() {
            self.first_seq = Some(chained.seq);
            self.first_timestamp = timestamp.map(str::to_owned);
        }
        self.lines += 1;
        self.last = Some((chained.seq, chained.hash));
        self.last_timestamp = timestamp.map(|text| {
            let mut bytes = [0; 40];
            // OK: `writer_timestamp` returns at most 40 bytes.
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            (bytes, text.len())
        });
    }

    fn last_timestamp(&self) -> Option<&str> {
        let (bytes, len) = self.last_timestamp.as_ref()?;
        std::str::from_utf8(&bytes[..*len]).ok()
    }

    /// Reports, as a modification of line `line_no`, an interval checkpoint that disagrees
    /// with the lines before it in the file: the head it names must be the line right
    /// before it, and its first seq, count and time span those of the file's chained lines
    /// so far. A line already found at fault is not reported twice.
    fn check_interval_checkpoint(
        &self,
        file: &mut FileReport,
        line_no: u64,
        chained: &audit_core::ChainedLine<'_>,
    ) {
        let Ok(prefix) = std::str::from_utf8(chained.event_prefix) else { return };
        let Ok(event) = LenientEvent::parse(&format!("{prefix}}}")) else { return };
        let field = |name: &str| event.get_path(&format!("details.{name}")).cloned();
        if field("reason").as_ref().and_then(|v| v.as_str()) != Some(INTERVAL_REASON) {
            return;
        }
        let number = |name: &str| field(name).and_then(|v| v.as_u64());
        let text = |name: &str| field(name).and_then(|v| v.as_str().map(str::to_owned));

        let mut disagreements = Vec::new();
        // The name the file had when the checkpoint was written: its own, or the day file's
        // it was rotated from.
        let day_file =
            SegmentName::parse(&file.name).map(|name| SegmentName::day_file(&name.day).to_string());
        let named_file = text("file");
        if named_file.as_deref() != Some(plain_name(&file.name)) && named_file != day_file {
            disagreements.push(format!("it names file {:?}", text("file").unwrap_or_default()));
        }
        let (last_seq, last_hash) = match self.last {
            Some((seq, hash)) => (Some(seq), Some(hex(&hash))),
            None => (None, None),
        };
        let named_seq = number("lastSeq");
        if named_seq != last_seq || named_seq != chained.seq.checked_sub(1) {
            disagreements.push(format!(
                "it names seq {} as the head, the line before it is seq {}",
                show(named_seq),
                show(last_seq)
            ));
        } else if text("lastHash") != last_hash {
            disagreements.push("its head hash is not the line before it's".to_owned());
        }
        if number("firstSeq") != self.first_seq || number("lines") != Some(self.lines) {
            disagreements.push(format!(
                "it counts {} chained line(s) from seq {} before it, the file holds {} from \
                 seq {}",
                show(number("lines")),
                show(number("firstSeq")),
                self.lines,
                show(self.first_seq)
            ));
        }
        if text("firstTimestamp") != self.first_timestamp
            || text("lastTimestamp").as_deref() != self.last_timestamp()
        {
            disagreements.push("its time span is not that of the lines before it".to_owned());
        }

        let already_found = file.findings.last().is_some_and(|f| f.line == Some(line_no));
        if !disagreements.is_empty() && !already_found {
            file.add(
                FindingKind::Modified,
                Some(line_no),
                format!(
                    "interval checkpoint disagrees with the file: {} (lines removed or added \
                     before it, or the checkpoint altered)",
                    disagreements.join("; ")
                ),
            );
        }
    }
}

/// A number for a finding's detail, or `none`.
fn show(number: Option<u64>) -> String {
    number.map_or_else(|| "none".to_owned(), |number| number.to_string())
}

/// Whether `bytes` could be the start of a line a writer was killed in the middle of: a strict
/// prefix of a JSON object, which every JSON reader finds cut short. A line that holds a
/// whole value (`{...}`, `{...}{}`) was not torn, whatever follows it.
fn is_cut_short(bytes: &[u8]) -> bool {
    let mut values =
        serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
    matches!(values.next(), Some(Err(error)) if error.is_eof())
}

/// A complete line without chain data that does not parse: torn by a crash if the checkpoint
/// right after it names its number, length and hash, else added by somebody.
struct TornCandidate {
    line: u64,
    bytes: u64,
    sha256: String,
    /// Whether it shows traces of chain data.
    damaged: bool,
}

impl TornCandidate {
    fn new(line: &RawLine, damaged: bool) -> TornCandidate {
        TornCandidate {
            line: line.number,
            bytes: line.bytes.len() as u64,
            sha256: hex(&Sha256::digest(line.bytes)),
            damaged,
        }
    }

    /// Whether `event_prefix`, the next line's, is the writer's checkpoint for this line.
    fn is_accounted_for(&self, event_prefix: &[u8]) -> bool {
        if !is_checkpoint(event_prefix) {
            return false;
        }
        let Ok(prefix) = std::str::from_utf8(event_prefix) else { return false };
        let Ok(event) = LenientEvent::parse(&format!("{prefix}}}")) else { return false };
        let field = |name: &str| event.get_path(&format!("details.tornLine.{name}")).cloned();
        event.get_path("details.reason").and_then(|v| v.as_str()) == Some(TORN_LINE_REASON)
            && field("line").and_then(|v| v.as_u64()) == Some(self.line)
            && field("bytes").and_then(|v| v.as_u64()) == Some(self.bytes)
            && field("sha256").as_ref().and_then(|v| v.as_str()) == Some(self.sha256.as_str())
    }

    /// Records what the line was. A chained line whose chain data was damaged keeps its
    /// place in the chain (`max_seq`); a torn one never had one.
    fn settle(self, file: &mut FileReport, max_seq: &mut u64, accounted: bool) {
        if accounted {
            file.add(
                FindingKind::TornLine,
                Some(self.line),
                "incomplete line of a writer killed mid-write, ended and accounted for by the \
                 next writer"
                    .into(),
            );
        } else if self.damaged {
            file.add(FindingKind::Modified, Some(self.line), "chain data damaged".into());
            *max_seq += 1;
        } else {
            file.add(
                FindingKind::Inserted,
                Some(self.line),
                "line without chain data inside a chained file, which no torn-line checkpoint \
                 accounts for"
                    .into(),
            );
        }
    }
}

/// A file's name without `.gz`: checkpoints name files before they are compressed.
fn plain_name(name: &str) -> &str {
    name.strip_suffix(".gz").unwrap_or(name)
}

/// The last [`WINDOW`] links, in a ring indexed by sequence number: a fixed amount of memory,
/// and no hashing of keys on the hot path.
struct RecentLinks {
    slots: Vec<Option<(u64, [u8; 32])>>,
}

impl Default for RecentLinks {
    fn default() -> RecentLinks {
        RecentLinks { slots: vec![None; WINDOW as usize] }
    }
}

impl RecentLinks {
    fn slot(seq: u64) -> usize {
        // OK to truncate: the remainder is below WINDOW, which fits in usize.
        (seq % WINDOW) as usize
    }

    fn insert(&mut self, seq: u64, hash: [u8; 32]) {
        self.slots[RecentLinks::slot(seq)] = Some((seq, hash));
    }

    fn get(&self, seq: &u64) -> Option<&[u8; 32]> {
        match &self.slots[RecentLinks::slot(*seq)] {
            Some((stored, hash)) if stored == seq => Some(hash),
            _ => None,
        }
    }
}

fn memchr_contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
