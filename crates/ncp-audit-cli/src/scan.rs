//! Running a [`Filter`] over segments in time order, on every core, in order.
//!
//! [`scan`] reads each [`Segment`] in blocks, cuts large blocks into runs of whole lines that
//! threads judge at the same time, and hands the answers to an [`Accumulator`] in file order.
//! With a time range it skips whole files by their name and their first and last timestamps,
//! seeks inside plain files, and stops reading a file once it has passed the range, so the
//! cost follows the answer. Unreadable lines and files become [`Problem`]s; nothing prints.

use std::ops::ControlFlow;
use std::path::PathBuf;

use audit_core::{LenientEvent, Timestamp};

use crate::query::{Filter, Verdict, line_timestamp};
use crate::read::{self, BlockReader, Line, Lines, Position, ReadError, Segment};

/// Files under this size are read by one thread: spawning costs more than it saves (a
/// thread costs tens of microseconds; a megabyte takes about half a millisecond to judge).
const MIN_RANGE_BYTES: u64 = 1 << 20;
/// How many problems are kept with their place; the rest are only counted.
const KEPT_PROBLEMS: usize = 1000;

/// Where answers go. One accumulator per thread; they are merged in file order.
pub(crate) trait Accumulator: Send + Sized {
    /// A new, empty accumulator configured like this one.
    fn fresh(&self) -> Self;
    /// Takes one answering line; an error says why the line is unreadable after all.
    fn accept(&mut self, line: &Line<'_>, event: Option<&LenientEvent>) -> Result<(), String>;
    /// Takes in what a later run of lines accumulated.
    fn absorb(&mut self, later: Self);
    /// Whether the judge must hand over the parsed event.
    fn wants_event(&self) -> bool {
        false
    }
    /// Whether lines decided on their bytes must still be checked to be JSON.
    fn validates(&self) -> bool {
        false
    }
    /// Whether no more answers are wanted (`--limit`); checked after each line.
    fn is_full(&self) -> bool {
        false
    }
    /// Whether the accumulator can become full, which makes the scan serial so that it stops
    /// at exactly the right line.
    fn has_limit(&self) -> bool {
        false
    }
}

/// A line or file skipped because it could not be read.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) path: PathBuf,
    /// `None` for a problem with the whole file.
    pub(crate) position: Option<Position>,
    pub(crate) reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Some(position) => write!(f, "{}:{position}: {}", self.path.display(), self.reason),
            // A problem with the whole file names the file in its reason.
            None => f.write_str(&self.reason),
        }
    }
}

/// The problems of a scan: the first ones with their place, and a count of all.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub(crate) kept: Vec<Problem>,
    pub(crate) n_total: u64,
}

impl Problems {
    fn push(&mut self, problem: Problem) {
        self.n_total += 1;
        if self.kept.len() < KEPT_PROBLEMS {
            self.kept.push(problem);
        }
    }
}

/// Why a scan stopped short.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScanError {
    /// `--strict`: the first unreadable line or file.
    #[error("{0} (--strict)")]
    Strict(Problem),
    /// A file named on the command line cannot be opened.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// How to scan.
#[derive(Debug, Clone)]
pub(crate) struct ScanOptions {
    /// Stop at the first problem.
    pub(crate) strict: bool,
    /// Threads that judge lines.
    pub(crate) n_threads: usize,
}

/// How far a scan has come, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    pub(crate) segment_idx: usize,
    pub(crate) n_segments: usize,
    /// Bytes read so far (decompressed).
    pub(crate) bytes: u64,
}

/// Scans `segments` in order. After each block `after_block` sees the accumulator (to write
/// out and clear what it holds) and may stop the scan.
///
/// # Errors
///
/// [`ScanError::Strict`] at the first problem under `--strict`; [`ScanError::Read`] when a
/// file cannot be opened at all.
pub(crate) fn scan<A: Accumulator>(
    segments: &[Segment],
    filter: &Filter,
    options: &ScanOptions,
    accumulator: &mut A,
    problems: &mut Problems,
    after_block: &mut dyn FnMut(&mut A, Progress) -> ControlFlow<()>,
) -> Result<(), ScanError> {
    let mut progress = Progress { segment_idx: 0, n_segments: segments.len(), bytes: 0 };
    for (segment_idx, segment) in segments.iter().enumerate() {
        progress.segment_idx = segment_idx;
        if is_outside_range(segment, filter) {
            continue;
        }
        let flow = scan_segment(segment, filter, options, accumulator, problems, &mut |acc, n| {
            progress.bytes += n;
            after_block(acc, progress)
        })?;
        if flow.is_break() {
            break;
        }
    }
    Ok(())
}

fn scan_segment<A: Accumulator>(
    segment: &Segment,
    filter: &Filter,
    options: &ScanOptions,
    accumulator: &mut A,
    problems: &mut Problems,
    after_block: &mut dyn FnMut(&mut A, u64) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, ScanError> {
    let start = match filter.since_with_slack() {
        Some(since) => read::seek_to_timestamp(&segment.open_path(), &since),
        None => 0,
    };
    let reader = BlockReader::open_segment(segment, start, None)?;
    let whole_scan = filter.until.is_none() && !accumulator.has_limit();
    if options.n_threads > 1 && whole_scan && !reader.is_compressed() {
        let len = std::fs::metadata(segment.open_path()).map_or(0, |metadata| metadata.len());
        if len.saturating_sub(start) >= MIN_RANGE_BYTES {
            return scan_ranges(
                segment,
                filter,
                options,
                (start, len),
                accumulator,
                problems,
                after_block,
            );
        }
    }

    let (flow, run) = scan_in_order(reader, segment, filter, options, accumulator, after_block);
    for problem in run.problems {
        if options.strict {
            return Err(ScanError::Strict(problem));
        }
        problems.push(problem);
    }
    problems.n_total += run.n_dropped;
    Ok(flow)
}

/// Reads one file block after block on this thread; a gzip stream decodes on a thread of its
/// own meanwhile. Stops past `--until`, at a problem under `--strict`, or when told to.
fn scan_in_order<'a, A: Accumulator>(
    mut reader: BlockReader,
    segment: &'a Segment,
    filter: &'a Filter,
    options: &ScanOptions,
    accumulator: &mut A,
    after_block: &mut dyn FnMut(&mut A, u64) -> ControlFlow<()>,
) -> (ControlFlow<()>, Run<'a>) {
    let until = filter.until_with_slack();
    let mut run = Run::new(segment, filter, true);
    let flow = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(4);
        let (decoder, mut local) = if reader.is_compressed() {
            let decoder = scope.spawn(move || {
                loop {
                    let next = reader.next_block();
                    let done = !matches!(next, Ok(Some(_)));
                    if sender.send(next).is_err() || done {
                        break;
                    }
                }
            });
            (Some(decoder), None)
        } else {
            (None, Some(reader))
        };
        let mut next_block = || match local.as_mut() {
            Some(reader) => reader.next_block(),
            None => receiver.recv().unwrap_or(Ok(None)),
        };

        let mut flow = ControlFlow::Continue(());
        loop {
            let block = match next_block() {
                Ok(Some(block)) => block,
                Ok(None) => break,
                Err(error) => {
                    let reason = error_text(&error);
                    run.problems.push(Problem {
                        path: segment.path.clone(),
                        position: None,
                        reason,
                    });
                    break;
                }
            };
            run.judge_block(&block, accumulator);
            let past_range =
                until.as_deref().is_some_and(|until| last_timestamp_after(&block.bytes, until));
            if (options.strict && !run.problems.is_empty())
                || after_block(accumulator, block.bytes.len() as u64).is_break()
                || accumulator.is_full()
            {
                flow = ControlFlow::Break(());
                break;
            }
            if past_range {
                break;
            }
        }

        // Dropping the receiver stops the decoder at its next block.
        drop(receiver);
        drop(local);
        if let Some(decoder) = decoder {
            // OK because the decoder only reads and sends; a panic there is a bug to see.
            decoder.join().expect("the gzip decoder thread panicked");
        }
        flow
    });
    (flow, run)
}

/// Judging blocks of one file in order, counting lines for the problems' positions.
struct Run<'a> {
    segment: &'a Segment,
    filter: &'a Filter,
    /// Whether lines are numbered from the file's start (else from the run's, from 0).
    absolute: bool,
    /// The number of the next block's first line; unknown after a seek.
    next_line: Option<u64>,
    /// The first problems, at most [`KEPT_PROBLEMS`], so that a file of garbage costs no
    /// more memory than a good one.
    problems: Vec<Problem>,
    /// Problems past those kept.
    n_dropped: u64,
}

impl<'a> Run<'a> {
    /// A run numbering lines from the file's start (`absolute`) or from its own, from 0.
    fn new(segment: &'a Segment, filter: &'a Filter, absolute: bool) -> Run<'a> {
        let next_line = if absolute { None } else { Some(0) };
        Run { segment, filter, absolute, next_line, problems: Vec::new(), n_dropped: 0 }
    }

    fn judge_block<A: Accumulator>(&mut self, block: &read::Block, accumulator: &mut A) {
        if block.at_file_start && self.absolute {
            self.next_line = Some(1);
        }
        let mut lines = block.lines(Some(0));
        let n_before = self.problems.len();
        judge_lines(&mut lines, self.segment, self.filter, accumulator, &mut self.problems);
        for problem in &mut self.problems[n_before..] {
            if let Some(position) = problem.position.as_mut() {
                position.line = self.next_line.zip(position.line).map(|(base, rel)| base + rel);
            }
        }
        self.next_line = self.next_line.map(|line| line + lines.n_seen());
        if self.problems.len() > KEPT_PROBLEMS {
            self.n_dropped += (self.problems.len() - KEPT_PROBLEMS) as u64;
            self.problems.truncate(KEPT_PROBLEMS);
        }
    }
}

/// Scans a large plain file as `n_threads` byte ranges cut on line boundaries, each read by
/// its own thread in small blocks, and merges the results in order.
fn scan_ranges<A: Accumulator>(
    segment: &Segment,
    filter: &Filter,
    options: &ScanOptions,
    (start, len): (u64, u64),
    accumulator: &mut A,
    problems: &mut Problems,
    after_block: &mut dyn FnMut(&mut A, u64) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, ScanError> {
    let bounds = read::line_boundaries(&segment.open_path(), start, len, options.n_threads);
    let results: Vec<(A, Run<'_>, u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|range| {
                let (range_start, range_end) = (range[0], range[1]);
                let fresh = accumulator.fresh();
                scope.spawn(move || {
                    let mut run = Run::new(segment, filter, false);
                    let mut accumulator = fresh;
                    let mut n_lines = 0;
                    match BlockReader::open_segment(segment, range_start, Some(range_end)) {
                        Ok(mut reader) => loop {
                            match reader.next_block() {
                                Ok(Some(block)) => {
                                    run.judge_block(&block, &mut accumulator);
                                    reader.recycle(block);
                                }
                                Ok(None) => break,
                                Err(error) => {
                                    let reason = error_text(&error);
                                    let path = segment.path.clone();
                                    run.problems.push(Problem { path, position: None, reason });
                                    break;
                                }
                            }
                        },
                        Err(error) => {
                            let reason = error_text(&error);
                            run.problems.push(Problem {
                                path: segment.path.clone(),
                                position: None,
                                reason,
                            });
                        }
                    }
                    n_lines += run.next_line.unwrap_or(0);
                    (accumulator, run, n_lines, range_end - range_start)
                })
            })
            .collect();
        // OK because a range scan does not panic on any input; a panic is a bug to see.
        handles.into_iter().map(|handle| handle.join().expect("a scan thread panicked")).collect()
    });

    // Each range counted its lines from 0; the file's numbering is known only from its start.
    let mut next_line = (start == 0).then_some(1);
    for (part, run, n_lines, n_bytes) in results {
        accumulator.absorb(part);
        for mut problem in run.problems {
            if let Some(position) = problem.position.as_mut() {
                position.line = next_line.zip(position.line).map(|(base, rel)| base + rel);
            }
            if options.strict {
                return Err(ScanError::Strict(problem));
            }
            problems.push(problem);
        }
        problems.n_total += run.n_dropped;
        next_line = next_line.map(|line| line + n_lines);
        if after_block(accumulator, n_bytes).is_break() {
            return Ok(ControlFlow::Break(()));
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// Judges lines into `accumulator`; problems carry line numbers relative to the lines given.
fn judge_lines<A: Accumulator>(
    lines: &mut Lines<'_>,
    segment: &Segment,
    filter: &Filter,
    accumulator: &mut A,
    problems: &mut Vec<Problem>,
) {
    let (want_event, validate) = (accumulator.wants_event(), accumulator.validates());
    for line in lines.by_ref() {
        let problem = |reason: String| Problem {
            path: segment.path.clone(),
            position: Some(line.position),
            reason,
        };
        if line.torn {
            problems.push(problem("torn last line (no newline at the end of the file)".to_owned()));
            continue;
        }
        let outcome = match filter.judge(line.bytes, want_event, validate) {
            Verdict::Match(event) => accumulator.accept(&line, event.as_deref()),
            Verdict::Skip => Ok(()),
            Verdict::Bad(reason) => Err(reason),
        };
        if let Err(reason) = outcome {
            problems.push(problem(reason));
        }
        if accumulator.is_full() {
            break;
        }
    }
}

/// Whether the block's last timestamped line lies past `until`.
fn last_timestamp_after(bytes: &[u8], until: &str) -> bool {
    bytes
        .rsplit(|byte| *byte == b'\n')
        .take(8)
        .find_map(line_timestamp)
        .is_some_and(|timestamp| timestamp.as_str() >= until)
}

/// Whether a file's name or its first and last timestamps put it wholly outside the range.
fn is_outside_range(segment: &Segment, filter: &Filter) -> bool {
    let (since, until) = (filter.since_with_slack(), filter.until_with_slack());
    if since.is_none() && until.is_none() {
        return false;
    }
    let outside = |first: &str, last: &str| {
        since.as_deref().is_some_and(|since| last < since)
            || until.as_deref().is_some_and(|until| first >= until)
    };
    if let Some(day) = segment.day() {
        let day_start = format!("{day}T00:00:00.000Z");
        let day_end = Timestamp::parse(&day_start)
            .ok()
            .and_then(|start| Timestamp::from_unix_millis(start.as_unix_millis() + 86_399_999).ok())
            .map(|end| end.to_string());
        if let Some(day_end) = day_end
            && outside(&day_start, &day_end)
        {
            return true;
        }
    }
    match read::first_and_last_timestamps(&segment.open_path()) {
        Some((first, last)) => outside(&first, &last),
        None => false,
    }
}

fn error_text(error: &ReadError) -> String {
    use std::error::Error;

    let mut text = error.to_string();
    if let Some(source) = error.source() {
        text = format!("{text}: {source}");
    }
    text
}
