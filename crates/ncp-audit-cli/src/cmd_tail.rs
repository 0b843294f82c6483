//! `ncp-audit tail`: the last events, read backwards from the end; `-f` follows the log across
//! size rotation and midnight by polling the directory.

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use audit_core::{ChainLink, Timestamp, split_chained_line};
use clap::Args;

use crate::cmd_common::{FilterArgs, SourceArgs, Stdout, escape_controls, escape_line};
use crate::cmd_query::{Format, csv_row, table_header, table_row};
use crate::query::{Filter, Verdict};
use crate::read::{self, BlockReader, Line, Segment};

/// Arguments of `tail`.
#[derive(Debug, Args)]
pub(crate) struct TailArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// How many of the last events to print.
    #[arg(short = 'n', long = "lines", value_name = "N", default_value_t = 10)]
    n_events: usize,
    /// Keep printing events as they are written, across rotation and midnight.
    #[arg(short = 'f', long)]
    follow: bool,
    /// How to print the events.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// How often -f looks for new lines and files, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 250, hide = true)]
    poll_ms: u64,
}

/// Turns answering lines into output text.
struct Printer {
    filter: Filter,
    format: Format,
    escape: bool,
    /// With `-f`: the chain links of the lines read last, so that a file met twice (a
    /// rotation racing a look at the directory) prints its lines once, and lines removed
    /// before they were read are noticed.
    seen: Option<RefCell<RecentLinks>>,
}

/// What [`RecentLinks::note`] found of a line.
#[derive(Debug, PartialEq, Eq)]
enum Noted {
    /// The very line was read already.
    Again,
    /// Not read before; `missing` names the first and last sequence numbers skipped since the
    /// line read before it.
    New { missing: Option<(u64, u64)> },
}

/// The chain links of the last [`RecentLinks::CAPACITY`] lines read. A link names a line
/// exactly (its sequence number and the hash over its bytes and all before it), so a line is
/// held back only when that very line was read already; lines without chain data (another
/// system's files, a torn line) always pass.
///
/// While following, lines come in chain order, so a sequence number that jumps ahead means
/// lines were removed before they could be read (retention deleting a rotated file between
/// two looks at the directory, or lines cut from the log): that is said on stderr.
#[derive(Default)]
struct RecentLinks {
    order: VecDeque<ChainLink>,
    set: HashSet<ChainLink>,
    /// While the last lines are read backwards, the highest sequence number seen; once
    /// following began, that of the last chained line read.
    last_seq: Option<u64>,
    following: bool,
}

impl RecentLinks {
    /// More lines than a rotated file of the default size holds, so a whole file met twice is
    /// recognised; about 3 MiB at most.
    const CAPACITY: usize = 1 << 16;

    /// Records `line`'s link and says whether it was read already and, while following,
    /// which sequence numbers were skipped before it.
    fn note(&mut self, line: &[u8]) -> Noted {
        let Some(link) = split_chained_line(line).map(|chained| chained.link()) else {
            return Noted::New { missing: None };
        };
        if !self.set.insert(link) {
            return Noted::Again;
        }
        self.order.push_back(link);
        if self.order.len() > Self::CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        if !self.following {
            self.last_seq = self.last_seq.max(Some(link.seq));
            return Noted::New { missing: None };
        }
        let previous = self.last_seq.replace(link.seq);
        let missing = previous
            .filter(|&previous| link.seq > previous.saturating_add(1))
            .map(|previous| (previous + 1, link.seq - 1));
        Noted::New { missing }
    }

    /// From now on lines come forwards, in chain order.
    fn start_following(&mut self) {
        self.following = true;
    }
}

impl Printer {
    /// The output bytes of a line that answers, `None` for one that does not or that was
    /// printed already; an unreadable line is reported on stderr.
    fn render(&self, path: &Path, line: &Line<'_>) -> Option<Vec<u8>> {
        let noted = self.seen.as_ref().map(|seen| seen.borrow_mut().note(line.bytes));
        match noted {
            Some(Noted::Again) => return None,
            Some(Noted::New { missing: Some((first, last)) }) => eprintln!(
                "ncp-audit: warning: {} line(s) of the log (chain seq {first} to {last}) were \
                 gone before they could be read: removed by retention between two looks, or \
                 cut from the log",
                last - first + 1
            ),
            Some(Noted::New { missing: None }) | None => {}
        }
        self.render_new(path, line)
    }

    fn render_new(&self, path: &Path, line: &Line<'_>) -> Option<Vec<u8>> {
        let want_event = self.format != Format::Json;
        let event = match self.filter.judge(line.bytes, want_event, true) {
            Verdict::Match(event) => event,
            Verdict::Skip => return None,
            Verdict::Bad(reason) => {
                let mut text = String::new();
                escape_controls(
                    &format!("{}:{}: {reason}", path.display(), line.position),
                    &mut text,
                );
                eprintln!("ncp-audit: skipped {text}");
                return None;
            }
        };
        let mut out = Vec::new();
        match (self.format, event.as_deref()) {
            (Format::Json, _) if self.escape => escape_line(line.bytes, &mut out),
            (Format::Json, _) => out.extend_from_slice(line.bytes),
            (Format::Table, Some(event)) => out.extend_from_slice(table_row(event).as_bytes()),
            (Format::Csv, Some(event)) => {
                out.extend_from_slice(csv_row(event, self.escape).as_bytes());
            }
            (_, None) => return None,
        }
        out.push(b'\n');
        Some(out)
    }
}

/// Runs `tail`: exit 0, also when the reader of stdout goes away; 2 on error.
pub(crate) fn run(args: TailArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.follow || args.source.files.is_empty(),
        "tail -f follows a directory (--dir or the default), not --file"
    );
    let filter = args.filter.to_filter(Timestamp::now())?;
    let mut stdout = Stdout::new();
    let seen = args.follow.then(|| RefCell::new(RecentLinks::default()));
    let printer = Printer { filter, format: args.format, escape: stdout.is_terminal(), seen };
    let segments = if args.follow {
        let dir = args.source.directory()?;
        if dir.is_dir() {
            let segments = args.source.segments()?;
            if segments.is_empty() {
                eprintln!("ncp-audit: no audit files in {} yet; waiting for them", dir.display());
            }
            segments
        } else {
            // Like `tail -F`, wait for it: the writer creates the directory with its first
            // event.
            eprintln!(
                "ncp-audit: audit directory {} does not exist yet; waiting for it",
                dir.display()
            );
            Vec::new()
        }
    } else {
        args.source.segments()?
    };

    let (last, resume) = last_events(&segments, &printer, args.n_events)?;
    let mut header = Vec::new();
    match args.format {
        Format::Json => {}
        Format::Table => header.extend_from_slice(table_header().as_bytes()),
        Format::Csv => header.extend_from_slice(crate::cmd_query::CSV_HEADER.as_bytes()),
    }
    if !stdout.write(&header)? || !stdout.write(&last.concat())? || !args.follow {
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(seen) = &printer.seen {
        seen.borrow_mut().start_following();
    }
    let dir = args.source.directory()?;
    // Files there now were read for the last lines already; any other is new.
    let known: Vec<String> = segments.iter().map(|segment| plain_name(&segment.path)).collect();
    let poll = Duration::from_millis(args.poll_ms.max(1));
    follow(&dir, Start { resume, known }, &printer, &mut stdout, poll)
}

/// Where following starts: a file and the offset after its last complete line.
struct Resume {
    path: PathBuf,
    offset: u64,
    /// The file's inode when its last lines were read, to find it again if a rotation
    /// renames it before following starts.
    inode: Option<u64>,
}

/// The last `n_events` answers, oldest first, and where the newest file ends.
fn last_events(
    segments: &[Segment],
    printer: &Printer,
    n_events: usize,
) -> anyhow::Result<(Vec<Vec<u8>>, Option<Resume>)> {
    let mut newest_first: Vec<Vec<u8>> = Vec::new();
    let mut resume = None;
    for (segment_idx, segment) in segments.iter().enumerate().rev() {
        let is_newest = segment_idx + 1 == segments.len();
        // The file as listed, through its handle: a rotation since may have renamed it.
        let inode = std::fs::metadata(segment.open_path()).ok().map(|metadata| metadata.ino());
        if newest_first.len() >= n_events && !is_newest {
            break;
        }
        let wanted = n_events - newest_first.len().min(n_events);
        let mut reader = BlockReader::open_segment(segment, 0, None)?;
        if reader.is_compressed() {
            // A gzip stream can only be read forwards; keep the last answers seen.
            let mut ring: VecDeque<Vec<u8>> = VecDeque::new();
            while let Some(block) = next_block_or_report(&mut reader) {
                for line in block.lines(None).filter(|line| !line.torn) {
                    if let Some(out) = printer.render(&segment.path, &line) {
                        ring.push_back(out);
                        if ring.len() > wanted {
                            ring.pop_front();
                        }
                    }
                }
            }
            newest_first.extend(ring.into_iter().rev());
            continue;
        }
        let read = read::visit_lines_backwards(&segment.open_path(), &mut |line| {
            if newest_first.len() >= n_events {
                return false;
            }
            if let Some(out) = printer.render(&segment.path, &line) {
                newest_first.push(out);
            }
            newest_first.len() < n_events
        })
        .with_context(|| format!("reading {}", segment.path.display()))?;
        if is_newest {
            resume = Some(Resume { path: segment.path.clone(), offset: read.end_of_lines, inode });
        }
    }
    newest_first.reverse();
    Ok((newest_first, resume))
}

fn next_block_or_report(reader: &mut BlockReader) -> Option<read::Block> {
    match reader.next_block() {
        Ok(block) => block,
        Err(error) => {
            eprintln!("ncp-audit: skipped {:#}", anyhow::Error::from(error));
            None
        }
    }
}

/// The file being followed.
struct Followed {
    path: PathBuf,
    file: File,
    inode: u64,
    offset: u64,
    /// Bytes after the last newline: a line still being written.
    partial: Vec<u8>,
    /// The files of the directory (without `.gz`) when following this one began: any other
    /// file is newer, made by rotating this one or its successors.
    known: Vec<String>,
}

impl Followed {
    fn open(path: &Path, offset: u64) -> anyhow::Result<Followed> {
        let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let inode = file.metadata()?.ino();
        file.seek(SeekFrom::Start(offset))?;
        let known = path
            .parent()
            .and_then(|dir| read::discover(dir).ok())
            .unwrap_or_default()
            .iter()
            .map(|segment| plain_name(&segment.path))
            .collect();
        Ok(Followed { path: path.to_owned(), file, inode, offset, partial: Vec::new(), known })
    }

    /// Prints the complete lines written since the last look; `Ok(false)` once stdout is gone.
    fn drain(&mut self, printer: &Printer, stdout: &mut Stdout) -> anyhow::Result<bool> {
        let len = self.file.metadata()?.len();
        if len < self.offset {
            // Truncated in place: start again from its beginning.
            self.file.seek(SeekFrom::Start(0))?;
            self.offset = 0;
            self.partial.clear();
        }
        let mut fresh = Vec::new();
        self.file.read_to_end(&mut fresh)?;
        self.offset += fresh.len() as u64;
        self.partial.extend_from_slice(&fresh);
        let Some(last_newline) = memchr::memrchr(b'\n', &self.partial) else { return Ok(true) };
        let complete: Vec<u8> = self.partial.drain(..=last_newline).collect();
        let start = self.offset - (complete.len() + self.partial.len()) as u64;
        print_lines(&self.path, &complete, start, printer, stdout)
    }
}

/// The lines of newline-ended bytes with their offsets, without their newlines.
fn line_offsets(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let end = start + memchr::memchr(b'\n', &bytes[start..])?;
        let item = (start as u64, &bytes[start..end]);
        start = end + 1;
        Some(item)
    })
}

/// Whether `candidate` comes after `current` in time order: a later name, or the same name
/// (then it is a new file under the active name). Unknown names always may.
fn is_successor(candidate: &Path, current: &Path) -> bool {
    let key = |path: &Path| {
        let name = path.file_name().and_then(|name| name.to_str()).and_then(read::parse_name)?;
        Some(read::order_key(&name, ""))
    };
    match (key(candidate), key(current)) {
        (Some(candidate), Some(current)) => candidate >= current,
        _ => true,
    }
}

/// A file's name without `.gz`, for telling files apart whether compressed or not.
fn plain_name(path: &Path) -> String {
    let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    name.strip_suffix(".gz").unwrap_or(&name).to_owned()
}

/// Prints the complete lines of `complete`, which starts at byte `start` of `path`;
/// `Ok(false)` once stdout is gone.
fn print_lines(
    path: &Path,
    complete: &[u8],
    start: u64,
    printer: &Printer,
    stdout: &mut Stdout,
) -> anyhow::Result<bool> {
    let mut out = Vec::new();
    for (line_start, raw) in line_offsets(complete) {
        let bytes = raw.strip_suffix(b"\r").unwrap_or(raw);
        let position = read::Position { line: None, offset: start + line_start };
        let line = Line { bytes, position, torn: false };
        if let Some(rendered) = printer.render(path, &line) {
            out.extend_from_slice(&rendered);
        }
    }
    stdout.write(&out)
}

/// Opens the file whose last lines were printed, where it is now: a rotation may have renamed
/// it since.
// FIXME: if, in the moment between printing the last lines and this call, the file was
// rotated and also compressed and removed, it is found neither by inode nor by name, and the
// lines written to it in that moment are not printed. Resuming inside the compressed copy
// needs the decompressed offset; it is rare enough (milliseconds at start-up) to leave.
fn reopen(dir: &Path, resume: &Resume) -> anyhow::Result<Followed> {
    if let Ok(followed) = Followed::open(&resume.path, resume.offset)
        && resume.inode.is_none_or(|inode| inode == followed.inode)
    {
        return Ok(followed);
    }
    let renamed = read::discover(dir).ok().and_then(|segments| {
        segments.into_iter().find(|segment| {
            std::fs::metadata(&segment.path).ok().map(|metadata| metadata.ino()) == resume.inode
        })
    });
    match renamed {
        Some(segment) => Followed::open(&segment.path, resume.offset),
        None => Followed::open(&resume.path, resume.offset),
    }
}

/// Prints every file of `dir` that comes after `old` and before `newest` in time order;
/// `Ok(false)` once stdout is gone. A rotation landing between opening a file to follow and
/// listing the directory can make a file count as new although it was printed: its lines
/// are then held back by their chain links (see [`RecentLinks`]).
fn drain_between(
    dir: &Path,
    old: &Followed,
    newest: &Path,
    printer: &Printer,
    stdout: &mut Stdout,
) -> anyhow::Result<bool> {
    let Ok(segments) = read::discover(dir) else { return Ok(true) };
    let inode_of = |path: &Path| std::fs::metadata(path).map(|metadata| metadata.ino()).ok();
    // Files that appeared since the old one began to be followed, in time order, but the
    // newest: the old file under its rotated name, then its successors.
    let mut appeared: Vec<&read::Segment> = segments
        .iter()
        .filter(|segment| segment.path != newest)
        .filter(|segment| !old.known.contains(&plain_name(&segment.path)))
        .collect();
    // The old file itself was printed through its open handle: leave it out, by inode while
    // it is still plain, else as the first to appear (its rotation came first).
    let old_name = plain_name(&old.path);
    let old_elsewhere = segments.iter().any(|segment| {
        segment.path != newest
            && (inode_of(&segment.path) == Some(old.inode) || plain_name(&segment.path) == old_name)
    });
    let is_old = |segment: &read::Segment| {
        inode_of(&segment.path) == Some(old.inode) || plain_name(&segment.path) == old_name
    };
    match appeared.iter().position(|segment| is_old(segment)) {
        Some(idx) => {
            appeared.remove(idx);
        }
        None if !old_elsewhere && !appeared.is_empty() => {
            appeared.remove(0);
        }
        None => {}
    }
    for segment in appeared {
        if !print_whole(segment, printer, stdout)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Prints every file of `dir` that is not `known` and not `newest`, in time order: what was
/// written and rotated before following found a first file to follow (the directory was
/// empty or missing when `tail -f` began).
fn drain_new_before(
    dir: &Path,
    known: &[String],
    newest: &Path,
    printer: &Printer,
    stdout: &mut Stdout,
) -> anyhow::Result<bool> {
    let Ok(segments) = read::discover(dir) else { return Ok(true) };
    let is_new =
        |segment: &&Segment| segment.path != newest && !known.contains(&plain_name(&segment.path));
    for segment in segments.iter().filter(is_new) {
        if !print_whole(segment, printer, stdout)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Prints the complete lines of a file that is not followed, plain or gzipped, read through
/// the handle taken when it was listed; `Ok(false)` once stdout is gone.
fn print_whole(segment: &Segment, printer: &Printer, stdout: &mut Stdout) -> anyhow::Result<bool> {
    let mut reader = match BlockReader::open_segment(segment, 0, None) {
        // Not held and compressed since the listing (only the newest files are held): its
        // compressed form is the same file.
        Err(_) if segment.name.as_ref().is_some_and(|name| !name.compressed) => {
            let gz_path = PathBuf::from(format!("{}.gz", segment.path.display()));
            BlockReader::open(&gz_path)?
        }
        opened => opened?,
    };
    let mut out = Vec::new();
    while let Some(block) = next_block_or_report(&mut reader) {
        for line in block.lines(None).filter(|line| !line.torn) {
            if let Some(rendered) = printer.render(&segment.path, &line) {
                out.extend_from_slice(&rendered);
            }
        }
    }
    stdout.write(&out)
}

/// Where following begins: the file to resume, and the files the directory held before.
struct Start {
    resume: Option<Resume>,
    known: Vec<String>,
}

/// Follows the newest file of `dir`. A different file becoming the newest (a new day, a new
/// file after size rotation) is noticed by its inode: the old file is read to its end, then
/// the new one from its start. A rename of the followed file (rotation) keeps it followed
/// until its successor appears.
fn follow(
    dir: &Path,
    Start { resume, known }: Start,
    printer: &Printer,
    stdout: &mut Stdout,
    poll: Duration,
) -> anyhow::Result<ExitCode> {
    let mut followed = match resume {
        Some(resume) => Some(reopen(dir, &resume)?),
        None => None,
    };
    loop {
        if let Some(current) = followed.as_mut()
            && !current.drain(printer, stdout)?
        {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(poll);

        let segments = read::discover(dir).unwrap_or_default();
        // Keep the followed file's current name: rotation renames it, and its place in time
        // order is what says which files came after it.
        if let Some(current) = followed.as_mut()
            && let Some(renamed) = segments.iter().find(|segment| {
                std::fs::metadata(&segment.path).is_ok_and(|meta| meta.ino() == current.inode)
            })
        {
            current.path = renamed.path.clone();
        }
        // Only plain files are followed: a .gz is a finished file, written under a new name.
        let newest = segments
            .into_iter()
            .rev()
            .find(|segment| !segment.name.as_ref().is_some_and(|name| name.compressed));
        let Some(newest) = newest else { continue };
        let Ok(newest_inode) = std::fs::metadata(&newest.path).map(|metadata| metadata.ino())
        else {
            continue;
        };
        match followed.as_mut() {
            Some(current) if current.inode == newest_inode => current.path = newest.path,
            // An older file can look newest for a moment: after the followed file was rotated,
            // compressed and removed, before its successor exists. Wait for a later one.
            Some(current) if !is_successor(&newest.path, &current.path) => {}
            _ => {
                // Open the successor before leaving the old file, and make sure it is the file
                // that was looked at: a rotation in between can put another file at that path,
                // and following it would skip the one renamed away.
                let next = match Followed::open(&newest.path, 0) {
                    Ok(next) if next.inode == newest_inode => next,
                    _ => continue,
                };
                let first_file = followed.is_none();
                if first_file && !drain_new_before(dir, &known, &newest.path, printer, stdout)? {
                    return Ok(ExitCode::SUCCESS);
                }
                if let Some(mut old) = followed.take() {
                    if !old.drain(printer, stdout)? {
                        return Ok(ExitCode::SUCCESS);
                    }
                    if !old.partial.is_empty() {
                        eprintln!(
                            "ncp-audit: skipped {}:@{}: torn last line (no newline at the end \
                             of the file)",
                            old.path.display(),
                            old.offset - old.partial.len() as u64
                        );
                    }
                    // Several rotations between two looks leave whole files in between: read
                    // them too, in order, so that following loses nothing.
                    if !drain_between(dir, &old, &newest.path, printer, stdout)? {
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                followed = Some(next);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chained(seq: u64, hash_byte: u8) -> Vec<u8> {
        let hash = format!("{hash_byte:02x}").repeat(32);
        format!(r#"{{"type":"binding_accessed","chain":{{"seq":{seq},"hash":"{hash}"}}}}"#)
            .into_bytes()
    }

    const NEW: Noted = Noted::New { missing: None };

    #[test]
    fn a_chained_line_is_printed_once_and_an_unchained_one_always() {
        let mut printed = RecentLinks::default();
        assert_eq!(printed.note(&chained(1, 0xaa)), NEW);
        assert_eq!(printed.note(&chained(1, 0xaa)), Noted::Again, "the same line again");
        assert_eq!(printed.note(&chained(1, 0xbb)), NEW, "another line under the same number");
        assert_eq!(printed.note(br#"{"type":"foreign"}"#), NEW);
        assert_eq!(printed.note(br#"{"type":"foreign"}"#), NEW);
    }

    #[test]
    fn only_the_latest_links_are_remembered() {
        let mut printed = RecentLinks::default();
        for seq in 0..=RecentLinks::CAPACITY as u64 {
            assert_eq!(printed.note(&chained(seq, 1)), NEW);
        }
        assert_eq!(printed.set.len(), RecentLinks::CAPACITY);
        assert_eq!(printed.note(&chained(0, 1)), NEW, "the oldest was forgotten");
        assert_eq!(printed.note(&chained(RecentLinks::CAPACITY as u64, 1)), Noted::Again);
    }

    #[test]
    fn lines_skipped_while_following_are_named_by_their_numbers() {
        let mut printed = RecentLinks::default();
        // The last lines, read backwards: no gaps are judged there.
        for seq in [9, 8, 7] {
            assert_eq!(printed.note(&chained(seq, 1)), NEW);
        }
        printed.start_following();
        assert_eq!(printed.note(&chained(10, 1)), NEW);
        assert_eq!(printed.note(&chained(14, 1)), Noted::New { missing: Some((11, 13)) });
        assert_eq!(printed.note(br#"{"type":"torn"#), NEW);
        assert_eq!(printed.note(&chained(15, 1)), NEW);
        assert_eq!(printed.note(&chained(14, 1)), Noted::Again);
    }
}
