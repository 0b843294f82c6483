//! The file sink: daily files, size rotation, retention, compression, several processes.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use audit_config::Durability;
use audit_core::{AuditEvent, Details, EventType};
use audit_redact::{RedactedBatch, Redactor};

use audit_core::{ChainLink, Timestamp, append_chained_line, split_chained_line};

use crate::chain_state::{
    ChainHead, for_each_line, last_link_of, newest_segment_head, read_head, seq_range_of,
    summarize_segment, write_head, writer_timestamp,
};
use crate::clock::{Clock, SystemClock};
use crate::compress::{Compressor, temp_owner};
use crate::naming::SegmentName;
use crate::retention::{Retention, rotated_segments, select_expired};
use crate::verify::HEAD_FILE;
use crate::{BatchError, Sink, SinkError};

/// The advisory lock file every writer of a directory locks exclusively around appends,
/// rotation and compression; readers that must see the directory at one instant (`verify`,
/// the `ncp-audit` readers) lock it shared while they list and open its files.
pub const LOCK_FILE_NAME: &str = ".audit.lock";

/// How a [`FileSink`] lays out, rotates and keeps its files.
#[derive(Debug, Clone)]
pub struct FileSinkOptions {
    /// The directory of the audit files; created (mode 0700) when missing.
    pub dir: PathBuf,
    /// The size a file may reach, in bytes; a write that would pass it rotates the file
    /// first. `0` turns size rotation off. A single line longer than the limit is written
    /// alone into a fresh file, the only case where a file exceeds it.
    pub max_file_size_bytes: u64,
    /// Which rotated files to keep.
    pub retention: Retention,
    /// Whether rotated files are gzipped on a background thread.
    pub compress_rotated: bool,
    /// When writes reach stable storage: [`Durability::Sync`] syncs after every batch, the
    /// other modes only when [`Sink::flush`] is called.
    pub durability: Durability,
    /// The time source deciding the day of the active file.
    pub clock: Arc<dyn Clock>,
    /// Redacts the sink's own `audit_files_pruned` records.
    pub redactor: Redactor,
    /// How often, by [`Self::clock`], an `interval` checkpoint records the head of the chain
    /// inside the active file: after the first batch of events written at least this long
    /// after the file's last checkpoint. [`Duration::ZERO`] turns them off.
    pub checkpoint_interval: Duration,
}

/// The default of [`FileSinkOptions::checkpoint_interval`] and of the logger's.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);

impl FileSinkOptions {
    /// Options for `dir` with no rotation, no retention, no compression, no syncing, the
    /// system clock and an interval checkpoint every [`DEFAULT_CHECKPOINT_INTERVAL`].
    pub fn new(dir: impl Into<PathBuf>) -> FileSinkOptions {
        FileSinkOptions {
            dir: dir.into(),
            max_file_size_bytes: 0,
            retention: Retention::default(),
            compress_rotated: false,
            durability: Durability::None,
            clock: Arc::new(SystemClock),
            redactor: Redactor::default(),
            checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
        }
    }
}

/// The open active file and the identity it had when opened.
#[derive(Debug)]
struct Active {
    file: File,
    name: SegmentName,
    identity: (u64, u64),
}

/// The lock file, and its identity, so that a directory removed and recreated under a running
/// writer gets a fresh lock rather than a lock on a deleted file.
#[derive(Debug)]
struct DirLock {
    file: Arc<File>,
    identity: (u64, u64),
}

/// Holds the directory lock; unlocks when dropped.
struct LockGuard(Arc<File>);

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Closing the file would release the lock too; an unlock that fails leaves nothing
        // to clean up.
        let _ = self.0.unlock();
    }
}

/// Writes batches of events as JSON lines to `audit-YYYY-MM-DD.jsonl` in a directory.
///
/// The day is the UTC day of the write, taken from the [`Clock`]; at UTC midnight the next
/// write goes to the new day's file and the previous day's file counts as rotated. Before a
/// write would take the active file past the size limit, the file is renamed to
/// `audit-YYYY-MM-DD.NNNNNN.jsonl` with the next free sequence of the day and a new one is
/// started.
///
/// Every append and rotation happens under an exclusive advisory lock on `.audit.lock`, and
/// before each append the sink checks that its open file is still the file at the active path,
/// reopening it otherwise. So several processes can share a directory: no interleaved lines,
/// and one process's rotation never strands another's writes.
///
/// When the sink appends to an active file that does not end with a newline (a writer was
/// killed in the middle of a line), it ends that line first and follows it with a checkpoint
/// naming its number, length and SHA-256, so that a verifier tells this torn line from one
/// somebody added, and the sink's own lines are never glued to it.
///
/// At most every [`FileSinkOptions::checkpoint_interval`] (by the sink's clock), after a batch
/// of events, the sink adds an `interval` checkpoint naming the head of the chain and what
/// the active file holds so far, so that a reader who receives the lines as they are written
/// (a SIEM) holds the chain's head outside the machine. Each writer of a directory counts its
/// own interval from the file's last checkpoint it wrote (or from when it first wrote to the
/// file).
#[derive(Debug)]
pub struct FileSink {
    options: FileSinkOptions,
    lock: Option<DirLock>,
    active: Option<Active>,
    /// The lines of the batch being written, then the sink's own records.
    lines: RedactedBatch,
    compressor: Option<Compressor>,
    rotated_since_retention: bool,
    /// Chained lines waiting for their append, built under the lock.
    out: Vec<u8>,
    /// Where in `out` each line of the caller's batch ends (the sink's own records are not
    /// counted), to tell how many reached the file when an append fails part way.
    out_batch_ends: Vec<usize>,
    /// Lines of the batch being written that are in the file.
    batch_written: usize,
    /// The chain's head as this sink left it, with the identity and length the active file
    /// had then: while both still match, no other process has written since.
    chain_cache: Option<ChainCache>,
    /// When the head anchor was last written and the file it named; the newest head may be
    /// ahead of it until the next write of the anchor.
    anchor: Option<(Instant, String)>,
    /// Whether lines were chained since the anchor was last written.
    anchor_behind: bool,
    /// Files retention expired, deleted once their pruning record is written.
    pending_deletions: Vec<String>,
    /// What the active file holds, for its interval checkpoints.
    tally: Option<FileTally>,
}

/// The chained lines of the active file, as far as this sink has counted them, and when it
/// last put a checkpoint into it.
///
/// The counts cover the file's first `len` bytes. The sink adds its own appends while the
/// file is as it left it (an O(1) step per batch); when another process appended meanwhile,
/// the tally falls behind and is caught up, from `len` on, only when a checkpoint is due. So
/// the counts are exact with several writers, and each byte is read back at most once.
#[derive(Debug, Clone)]
struct FileTally {
    /// The device and inode of the file counted.
    identity: (u64, u64),
    len: u64,
    lines: u64,
    first_seq: Option<u64>,
    first_timestamp: Option<String>,
    /// When, by the sink's clock, this sink last wrote a checkpoint into the file or, until it
    /// has, first wrote to it (milliseconds since the epoch).
    last_checkpoint_millis: i64,
}

impl FileTally {
    fn new(identity: (u64, u64), now_millis: i64) -> FileTally {
        FileTally {
            identity,
            len: 0,
            lines: 0,
            first_seq: None,
            first_timestamp: None,
            last_checkpoint_millis: now_millis,
        }
    }

    /// Counts `line` (without its newline) if it is chained.
    fn count(&mut self, line: &[u8]) {
        let Some(chained) = split_chained_line(line) else { return };
        self.lines += 1;
        if self.first_seq.is_none() {
            self.first_seq = Some(chained.seq);
            self.first_timestamp = writer_timestamp(line).map(str::to_owned);
        }
    }

    /// Counts the lines of `file` from `self.len` up to its last newline before `len`.
    fn catch_up(&mut self, file: &File, len: u64) -> io::Result<()> {
        if self.len > len {
            // Cut short by somebody: count it again from the start.
            *self = FileTally::new(self.identity, self.last_checkpoint_millis);
        }
        let start = self.len;
        // Moving the descriptor's position is harmless: the sink reads its file only at
        // given offsets and appends in append mode.
        let mut reader = file;
        reader.seek(SeekFrom::Start(start))?;
        let consumed = for_each_line(reader.take(len - start), |line| self.count(line))?;
        self.len = start + consumed;
        Ok(())
    }
}

/// How often, at most, the head anchor is rewritten while lines keep coming. It is also
/// written on rotation, on [`Sink::flush`] and on close. Rewriting it (a write and a rename)
/// after every batch cost more than chaining the batch's lines; a verifier takes an anchor
/// behind the log as sound, and the writer takes the newest of anchor and file tail.
const ANCHOR_INTERVAL: Duration = Duration::from_millis(100);

/// Bytes a failed append on a full disk leaves free, by cutting back its last lines, so that
/// the record declaring the lost events and the head anchor still fit: two blocks of the
/// common 4 KiB, since the anchor is a file of its own.
const FULL_DISK_RESERVE: usize = 8192;

/// Whether `error` says the disk or the user's quota is full.
fn is_disk_full(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded)
}

/// See [`FileSink::chain_cache`].
#[derive(Debug, Clone)]
struct ChainCache {
    identity: (u64, u64),
    len: u64,
    head: ChainHead,
}

impl FileSink {
    /// Opens the sink: creates the directory if needed, then, under the lock, recovers from
    /// an earlier crash (temporary files of compressions that never finished, segments
    /// compressed but not yet removed), queues uncompressed rotated segments for compression
    /// and applies retention, recording any deletion in the active file.
    ///
    /// # Errors
    ///
    /// A [`SinkError`] naming the directory or file that could not be created, opened or
    /// locked, with the cause.
    pub fn open(options: FileSinkOptions) -> Result<FileSink, SinkError> {
        let compressor = if options.compress_rotated {
            Some(Compressor::start(options.dir.clone())?)
        } else {
            None
        };
        let mut sink = FileSink {
            options,
            lock: None,
            active: None,
            lines: RedactedBatch::new(),
            compressor,
            rotated_since_retention: true,
            out: Vec::with_capacity(64 * 1024),
            out_batch_ends: Vec::new(),
            batch_written: 0,
            chain_cache: None,
            anchor: None,
            anchor_behind: false,
            pending_deletions: Vec::new(),
            tally: None,
        };
        sink.create_dir()?;
        sink.write_lines(true)?;
        Ok(sink)
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.options.dir
    }

    /// The last error of the background compression, if one failed.
    pub fn compression_error(&self) -> Option<String> {
        self.compressor.as_ref().and_then(Compressor::last_error)
    }

    fn create_dir(&self) -> Result<(), SinkError> {
        let dir = &self.options.dir;
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|error| SinkError::io("create directory", dir, error))
    }

    /// Takes the directory lock, reopening the lock file when the directory was removed or
    /// the file replaced since it was opened.
    fn lock(&mut self) -> Result<LockGuard, SinkError> {
        let path = self.options.dir.join(LOCK_FILE_NAME);
        loop {
            if self.lock.is_none() {
                self.lock = Some(self.open_lock(&path)?);
            }
            // OK because the line above filled it.
            let lock = self.lock.as_ref().expect("lock file open");
            lock.file.lock().map_err(|error| SinkError::io("lock", &path, error))?;
            let guard = LockGuard(Arc::clone(&lock.file));
            if identity_of(&path) == Some(lock.identity) {
                return Ok(guard);
            }
            drop(guard);
            self.lock = None;
        }
    }

    fn open_lock(&self, path: &Path) -> Result<DirLock, SinkError> {
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
        };
        let file = match open() {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                self.create_dir()?;
                open()
            }
            other => other,
        }
        .map_err(|error| SinkError::io("open", path, error))?;
        let metadata = file.metadata().map_err(|error| SinkError::io("stat", path, error))?;
        Ok(DirLock { file: Arc::new(file), identity: (metadata.dev(), metadata.ino()) })
    }

    /// Appends `self.lines` under the lock, rotating as needed. On start-up
    /// (`starting`) it also recovers and applies retention even with nothing to write.
    fn write_lines(&mut self, starting: bool) -> Result<(), SinkError> {
        let _guard = self.lock()?;
        let result = self.write_lines_locked(starting);
        if result.is_err() {
            // A failed file may be broken (removed, replaced, full): start afresh next time,
            // and learn the chain's head from the disk again.
            self.active = None;
            self.chain_cache = None;
            // Their record was not written: retention chooses them again next time.
            self.pending_deletions.clear();
            // Lines chained but not appended hold links of a head that is no more.
            self.out.clear();
            self.out_batch_ends.clear();
        }
        self.lines.clear();
        result
    }

    fn write_lines_locked(&mut self, starting: bool) -> Result<(), SinkError> {
        // Lines past this index are records the sink adds itself (pruning). They never cause
        // a rotation: with a limit smaller than a few lines, each rotation would prune, and
        // each pruning record would rotate again, forever. Such a record may take a file past
        // the limit by its own length.
        let n_batch_lines = self.lines.len();
        let now = self.options.clock.now();
        let day = self.writing_day(now.utc_date());
        self.ensure_active(&day)?;
        if starting {
            self.recover()?;
        }
        if self.rotated_since_retention {
            self.apply_retention()?;
        }

        // Every line is chained here, under the lock, because the head of the chain belongs
        // to the directory: another process may have moved it since this one last wrote.
        let mut head = self.chain_head()?;
        let mut size = self.active_len()?;
        self.track_active(now);
        // The head when `self.out` was last empty: the lines queued since are the seqs after.
        let mut out_start_seq = head.link.seq;
        let mut file_has_events = size > 0;
        // Whether lines of the caller's batch went into the active file, after any rotation.
        let mut wrote_events = false;
        // A writer killed mid-append left the start of a line: end it, in the same append as
        // the records that follow, so that it is never glued to them.
        let torn = torn_tail(&self.active_ref().file, size)
            .map_err(|error| self.error("read the last line of", error))?;
        if torn.is_some() {
            self.out.push(b'\n');
        }
        if size == 0 {
            self.push_checkpoint(&mut head, None);
        } else if head.link == ChainLink::GENESIS {
            // The chain starts in a file another system began (the original implementation
            // used the same daily names): say how many of its lines are not ours, so that a
            // verifier accepts exactly those and no line slipped in later.
            let foreign_lines = count_lines(&self.active_ref().file, size)
                .map_err(|error| self.error("read", error))?;
            self.push_adoption_checkpoint(&mut head, foreign_lines + u64::from(torn.is_some()));
        } else if let Some(torn) = torn {
            self.push_torn_checkpoint(&mut head, &torn);
        }
        let limit = self.options.max_file_size_bytes;
        let mut line_idx = 0;
        while line_idx < self.lines.len() {
            let mark = self.out.len();
            // Chaining adds the chain field and the newline.
            let link = append_chained_line(head.link, self.lines.line(line_idx), &mut self.out);
            let too_big = limit > 0 && size + self.out.len() as u64 > limit;
            if too_big && file_has_events && line_idx < n_batch_lines && self.holds_head(&head) {
                self.out.truncate(mark);
                self.append_tallied(size, out_start_seq, head.link.seq)?;
                let rotated = self.rotate(&day)?;
                head.file = Some(rotated.to_string());
                // The anchor is rewritten after this batch: the head is in a new file.
                self.anchor = None;
                size = self.active_len()?;
                self.track_active(now);
                out_start_seq = head.link.seq;
                file_has_events = size > 0;
                wrote_events = false;
                if size == 0 {
                    self.push_checkpoint(&mut head, Some("rotation"));
                }
                if self.rotated_since_retention {
                    // The pruning record goes after the lines already queued, into this loop.
                    self.apply_retention()?;
                }
                continue;
            }
            head.link = link;
            head.file = Some(self.active_ref().name.to_string());
            file_has_events = true;
            if line_idx < n_batch_lines {
                self.out_batch_ends.push(self.out.len());
                wrote_events = true;
            }
            line_idx += 1;
        }
        // After the batch's lines, never between them: one comparison per batch.
        if wrote_events && self.is_interval_checkpoint_due(now) {
            self.push_interval_checkpoint(&mut head, size, out_start_seq, now);
        }
        let size = self.append_tallied(size, out_start_seq, head.link.seq)?;
        if !self.pending_deletions.is_empty() {
            // The pruning record is on disk (synced, whatever the durability mode: this is
            // rare); only now do its files go.
            self.sync()?;
            self.delete_pruned()?;
        }

        let active = self.active_ref();
        self.chain_cache = Some(ChainCache { identity: active.identity, len: size, head });
        self.anchor_behind = true;
        if self.is_anchor_due() {
            self.write_anchor()?;
        }
        if self.options.durability == Durability::Sync {
            self.sync()?;
        }
        Ok(())
    }

    /// Starts a fresh tally when the active file is not the one counted; this sink's interval
    /// for a file it has not written to before starts now.
    fn track_active(&mut self, now: Timestamp) {
        let identity = self.active_ref().identity;
        if self.tally.as_ref().is_none_or(|tally| tally.identity != identity) {
            self.tally = Some(FileTally::new(identity, now.as_unix_millis()));
        }
    }

    /// Notes that a checkpoint was queued for the active file at `now`.
    fn note_checkpoint(&mut self, now: Timestamp) {
        if let Some(tally) = &mut self.tally {
            tally.last_checkpoint_millis = now.as_unix_millis();
        }
    }

    /// Whether [`FileSinkOptions::checkpoint_interval`] has passed since the active file's
    /// last checkpoint. A clock that stepped back starts the interval again from its new time.
    fn is_interval_checkpoint_due(&mut self, now: Timestamp) -> bool {
        let interval = self.options.checkpoint_interval;
        let Some(tally) = &mut self.tally else { return false };
        if interval.is_zero() {
            return false;
        }
        let now_millis = now.as_unix_millis();
        if now_millis < tally.last_checkpoint_millis {
            tally.last_checkpoint_millis = now_millis;
            return false;
        }
        let interval_millis = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        now_millis - tally.last_checkpoint_millis >= interval_millis
    }

    /// Appends `self.out` like [`Self::append_out`] and adds its lines, chained with the seqs
    /// `out_start_seq + 1 ..= head_seq`, to the tally when it was current.
    fn append_tallied(
        &mut self,
        size: u64,
        out_start_seq: u64,
        head_seq: u64,
    ) -> Result<u64, SinkError> {
        let n_chained = head_seq - out_start_seq;
        let is_current = self
            .tally
            .as_ref()
            .is_some_and(|tally| tally.len == size && tally.identity == self.active_ref().identity);
        // The file's first line is in this append: note its timestamp before `out` goes.
        let first = match &self.tally {
            Some(tally) if is_current && tally.first_seq.is_none() && n_chained > 0 => {
                Some(first_line(&self.out).and_then(writer_timestamp).map(str::to_owned))
            }
            _ => None,
        };
        let new_size = self.append_out(size)?;
        if is_current && let Some(tally) = &mut self.tally {
            tally.lines += n_chained;
            tally.len = new_size;
            if let Some(first_timestamp) = first {
                tally.first_seq = Some(out_start_seq + 1);
                tally.first_timestamp = first_timestamp;
            }
        }
        Ok(new_size)
    }

    /// Whether the chain's head is in the active file, so that it holds a line of the writer
    /// and may be rotated. A file of another system's lines alone may not: renamed to a
    /// rotated name, which no other system uses, it would be a file without chain data that a
    /// verifier must take as added. (A day file adopted at the chain's start holds its
    /// `adopted` checkpoint; one another system wrote after the chain began gets the
    /// writer's next line first, and its lines are reported either way.)
    fn holds_head(&self, head: &ChainHead) -> bool {
        head.file.as_deref() == Some(self.active_ref().name.to_string().as_str())
    }

    /// Whether the head anchor should be rewritten now: never written by this sink (or not
    /// since a rotation), the head moved to another file, [`ANCHOR_INTERVAL`] has passed, or
    /// every batch is to be durable.
    fn is_anchor_due(&self) -> bool {
        let Some((written_at, anchored_file)) = &self.anchor else { return true };
        let head_file = self.chain_cache.as_ref().and_then(|cache| cache.head.file.as_ref());
        head_file != Some(anchored_file)
            || written_at.elapsed() >= ANCHOR_INTERVAL
            || self.options.durability == Durability::Sync
    }

    /// Rewrites the head anchor from the cached head; call under the lock, right after this
    /// sink appended (so that the cached head is the directory's newest).
    fn write_anchor(&mut self) -> Result<(), SinkError> {
        let Some(ChainHead { link, file: Some(file) }) =
            self.chain_cache.as_ref().map(|cache| &cache.head)
        else {
            return Ok(());
        };
        let dir = &self.options.dir;
        write_head(dir, *link, file)
            .map_err(|error| SinkError::io("write", dir.join(HEAD_FILE), error))?;
        self.anchor = Some((Instant::now(), file.clone()));
        self.anchor_behind = false;
        Ok(())
    }

    /// Writes the head anchor if lines were chained since it was last written and no other
    /// process has appended since (else the other writer's anchor is the newer one).
    fn catch_up_anchor(&mut self) -> Result<(), SinkError> {
        if !self.anchor_behind {
            return Ok(());
        }
        let _guard = self.lock()?;
        let is_current = match (&self.active, &self.chain_cache) {
            (Some(active), Some(cache)) => {
                cache.identity == active.identity && self.active_len().ok() == Some(cache.len)
            }
            _ => false,
        };
        if is_current {
            self.write_anchor()
        } else {
            self.anchor_behind = false;
            Ok(())
        }
    }

    /// Appends `self.out` to the active file of `size` bytes in one write and empties it;
    /// returns the new size.
    ///
    /// When the append fails part way, the file is cut back to the last whole line that got
    /// in (on a full disk, to one that leaves [`FULL_DISK_RESERVE`] bytes free), so that no
    /// line is torn and [`Self::batch_written`] says which lines are in.
    fn append_out(&mut self, size: u64) -> Result<u64, SinkError> {
        if self.out.is_empty() {
            return Ok(size);
        }
        let active = self.active_ref();
        let mut done = 0;
        let mut failure = None;
        while done < self.out.len() {
            match (&active.file).write(&self.out[done..]) {
                Ok(0) => {
                    failure = Some(io::Error::from(io::ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => done += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let Some(error) = failure else {
            self.batch_written += self.out_batch_ends.len();
            self.out_batch_ends.clear();
            let new_size = size + self.out.len() as u64;
            self.out.clear();
            return Ok(new_size);
        };
        let room = if is_disk_full(&error) { done.saturating_sub(FULL_DISK_RESERVE) } else { done };
        let keep = self.out[..room].iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
        // If the cut fails too, a torn last line is left, which the next append terminates
        // and readers recognise; the lines before it are whole either way.
        let _ = active.file.set_len(size + keep as u64);
        self.batch_written += self.out_batch_ends.iter().filter(|&&end| end <= keep).count();
        self.out_batch_ends.clear();
        self.out.clear();
        Err(self.error("append to", error))
    }

    /// The newest link of the directory's chain and the file holding it: the cached head if
    /// the active file is as this sink left it, else the active file's last chained line,
    /// else the head anchor (checked against the last line of the file it names), else the
    /// newest segment's last chained line, else the genesis.
    fn chain_head(&mut self) -> Result<ChainHead, SinkError> {
        let active = self.active_ref();
        let len = self.active_len()?;
        if let Some(cache) = &self.chain_cache
            && cache.identity == active.identity
            && cache.len == len
        {
            return Ok(cache.head.clone());
        }
        let tail = last_link_of(&active.file, len)
            .map_err(|error| self.error("read", error))?
            .map(|link| ChainHead { link, file: Some(active.name.to_string()) });
        let dir = &self.options.dir;
        let anchored = read_head(dir).map(|(link, file)| ChainHead { link, file });
        let newest = match &tail {
            Some(_) => None,
            None => newest_segment_head(dir, &active.name),
        };
        let cached = self.chain_cache.as_ref().map(|cache| cache.head.clone());
        // Sequence numbers only grow, so the highest link anyone knows of is the head. One
        // higher than the file's last line means lines were cut from the file: continuing from
        // the known head leaves the gap in the chain for a verifier to see, where continuing
        // from what is left would hide the cut.
        let head = [tail, anchored, newest, cached]
            .into_iter()
            .flatten()
            .max_by_key(|head| head.link.seq)
            .unwrap_or(ChainHead { link: ChainLink::GENESIS, file: None });
        Ok(head)
    }

    /// Queues, as the first line of a fresh file, a checkpoint naming the file before it and
    /// where the chain stood, so that a verifier can tell a truncated or removed file from an
    /// intact one.
    fn push_checkpoint(&mut self, head: &mut ChainHead, reason: Option<&str>) {
        let active_name = self.active_ref().name.to_string();
        let reason = match (reason, &head.file) {
            (Some(reason), _) => reason,
            (None, None) => "start",
            (None, Some(_)) => "new-file",
        };
        let mut details = Details::new();
        details.insert("reason".into(), reason.into());
        details.insert("file".into(), active_name.into());
        if let Some(previous) = &head.file {
            let mut previous_details = Details::new();
            previous_details.insert("file".into(), previous.clone().into());
            // The previous file's range, count and time span, read back from it (it may have
            // been compressed meanwhile): what an auditor checks a file against.
            let path = self.options.dir.join(previous);
            let gz_path = self.options.dir.join(format!("{previous}.gz"));
            let summary = summarize_segment(&path).or_else(|| summarize_segment(&gz_path));
            if let Some(summary) = summary.filter(|summary| summary.last_seq == head.link.seq) {
                previous_details.insert("firstSeq".into(), summary.first_seq.into());
                previous_details.insert("lines".into(), summary.lines.into());
                if let Some(first) = summary.first_timestamp {
                    previous_details.insert("firstTimestamp".into(), first.into());
                }
                if let Some(last) = summary.last_timestamp {
                    previous_details.insert("lastTimestamp".into(), last.into());
                }
            }
            previous_details.insert("lastSeq".into(), head.link.seq.into());
            previous_details.insert("lastHash".into(), head.link.hash_hex().into());
            details.insert("previous".into(), previous_details.into());
        }
        let now = self.options.clock.now();
        self.push_record(head, AuditEvent::new(EventType::AuditCheckpoint, details).at(now));
    }

    /// The sink's own record `event` as the line it writes, without chain data or newline.
    fn record_line(&self, event: AuditEvent) -> Vec<u8> {
        let mut line = Vec::new();
        self.options.redactor.redact(event).write_json_line(&mut line);
        line.pop();
        line
    }

    /// Queues the sink's own checkpoint `event`, chained after `head`, into the active file,
    /// and moves `head` to it.
    fn push_record(&mut self, head: &mut ChainHead, event: AuditEvent) {
        let now = event.timestamp;
        let line = self.record_line(event);
        head.link = append_chained_line(head.link, &line, &mut self.out);
        head.file = Some(self.active_ref().name.to_string());
        self.note_checkpoint(now);
    }

    /// Queues, after the lines of a batch, a checkpoint naming the head of the chain (the
    /// line before it) and what the active file holds up to it: its first seq, its number of
    /// chained lines and their time span. `size` is the file's length, `self.out` holds the
    /// lines chained after `out_start_seq` that will follow it.
    ///
    /// Left out when the file must first be read back and cannot be, or when the record would
    /// take the file past its size limit: the file then rotates at the next batch, and the
    /// next file's checkpoint describes it whole.
    fn push_interval_checkpoint(
        &mut self,
        head: &mut ChainHead,
        size: u64,
        out_start_seq: u64,
        now: Timestamp,
    ) {
        let (Some(active), Some(tally)) = (&self.active, &mut self.tally) else { return };
        if tally.catch_up(&active.file, size).is_err() {
            return;
        }
        let n_queued = head.link.seq - out_start_seq;
        let lines = tally.lines + n_queued;
        let first_seq = tally.first_seq.unwrap_or(out_start_seq + 1);
        let first_timestamp = tally
            .first_timestamp
            .clone()
            .or_else(|| first_line(&self.out).and_then(writer_timestamp).map(str::to_owned));
        let last_timestamp = last_line(&self.out).and_then(writer_timestamp).map(str::to_owned);

        let active_name = self.active_ref().name.to_string();
        let mut details = Details::new();
        details.insert("reason".into(), INTERVAL_REASON.into());
        details.insert("file".into(), active_name.clone().into());
        details.insert("firstSeq".into(), first_seq.into());
        details.insert("lines".into(), lines.into());
        if let Some(first) = first_timestamp {
            details.insert("firstTimestamp".into(), first.into());
        }
        if let Some(last) = last_timestamp {
            details.insert("lastTimestamp".into(), last.into());
        }
        details.insert("lastSeq".into(), head.link.seq.into());
        details.insert("lastHash".into(), head.link.hash_hex().into());
        let line = self.record_line(AuditEvent::new(EventType::AuditCheckpoint, details).at(now));

        let mark = self.out.len();
        let link = append_chained_line(head.link, &line, &mut self.out);
        let limit = self.options.max_file_size_bytes;
        if limit > 0 && size + self.out.len() as u64 > limit {
            self.out.truncate(mark);
            return;
        }
        head.link = link;
        head.file = Some(active_name);
        self.note_checkpoint(now);
    }

    /// Queues the record that accounts for a torn line, right after it: without it, a line
    /// with no chain data inside a chained file is one somebody added.
    fn push_torn_checkpoint(&mut self, head: &mut ChainHead, torn: &TornTail) {
        let active_name = self.active_ref().name.to_string();
        let mut torn_details = Details::new();
        torn_details.insert("line".into(), torn.line.into());
        torn_details.insert("bytes".into(), torn.bytes.into());
        torn_details.insert("sha256".into(), torn.sha256.clone().into());
        let mut details = Details::new();
        details.insert("reason".into(), TORN_LINE_REASON.into());
        details.insert("file".into(), active_name.into());
        details.insert("tornLine".into(), torn_details.into());
        let event = AuditEvent::new(EventType::AuditCheckpoint, details)
            .at(self.options.clock.now())
            .with_severity(audit_core::Severity::Warning);
        self.push_record(head, event);
    }

    /// Queues the first chained line of a directory whose active file already holds
    /// `foreign_lines` lines of another system.
    fn push_adoption_checkpoint(&mut self, head: &mut ChainHead, foreign_lines: u64) {
        let active_name = self.active_ref().name.to_string();
        let mut details = Details::new();
        details.insert("reason".into(), "adopted".into());
        details.insert("file".into(), active_name.into());
        details.insert("foreignLines".into(), foreign_lines.into());
        let event =
            AuditEvent::new(EventType::AuditCheckpoint, details).at(self.options.clock.now());
        self.push_record(head, event);
    }

    fn active_len(&self) -> Result<u64, SinkError> {
        let active = self.active_ref();
        let metadata = active.file.metadata().map_err(|error| self.error("stat", error))?;
        Ok(metadata.len())
    }

    fn active_ref(&self) -> &Active {
        // OK because every caller runs after `ensure_active` or `rotate`, which open it.
        self.active.as_ref().expect("active file open")
    }

    fn error(&self, action: &'static str, error: io::Error) -> SinkError {
        let name = self.active.as_ref().map(|active| active.name.to_string()).unwrap_or_default();
        SinkError::io(action, self.options.dir.join(name), error)
    }

    /// The day whose file takes the next lines: the clock's, unless the directory already
    /// holds a later day's file. A clock stepped back across midnight must not send lines to
    /// an earlier day's file: they would sort before lines already written after them, and a
    /// verifier would see files out of order. Such lines carry their own (earlier)
    /// timestamps in the later day's file until the clock catches up.
    // FIXME: only this sink's own file and, when it has none, the directory's names are
    // consulted, so a second process still on the earlier day does not see that another
    // moved on: two processes on either side of a clock stepped back across midnight write
    // two days at once, and the one behind continues from its cached head. Reading the head
    // anchor before each batch would catch it; not done, for a syscall per batch in a case
    // this rare.
    fn writing_day(&self, clock_day: String) -> String {
        let newest = match &self.active {
            Some(active) => Some(active.name.day.clone()),
            None => match list_segments(&self.options.dir) {
                Ok(segments) => segments.into_iter().map(|(name, _)| name.day).max(),
                // No directory yet: nothing written, nothing later.
                Err(_) => None,
            },
        };
        newest.filter(|newest| *newest > clock_day).unwrap_or(clock_day)
    }

    /// Makes sure the open file is the day file of `day` at its path, reopening it when the
    /// day changed or the file was rotated, removed or replaced by anyone.
    fn ensure_active(&mut self, day: &str) -> Result<(), SinkError> {
        let name = SegmentName::day_file(day);
        let path = self.options.dir.join(name.to_string());
        if let Some(active) = &self.active
            && active.name == name
            && identity_of(&path) == Some(active.identity)
        {
            return Ok(());
        }
        if let Some(previous) = self.active.take()
            && previous.name != name
        {
            // The previous day is over: its file is now a rotated segment.
            self.rotated_since_retention = true;
            self.submit_compression(previous.name);
        }
        self.active = Some(self.open_active(name, &path)?);
        Ok(())
    }

    fn open_active(&self, name: SegmentName, path: &Path) -> Result<Active, SinkError> {
        let open = || {
            OpenOptions::new()
                .read(true)
                .append(true)
                .create(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
        };
        let file = match open() {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                self.create_dir()?;
                open()
            }
            other => other,
        }
        .map_err(|error| SinkError::io("open", path, error))?;
        let metadata = file.metadata().map_err(|error| SinkError::io("stat", path, error))?;
        Ok(Active { file, name, identity: (metadata.dev(), metadata.ino()) })
    }

    /// Renames the active file to the next free sequence of its day and opens a new one;
    /// returns the name the old file got.
    fn rotate(&mut self, day: &str) -> Result<SegmentName, SinkError> {
        let Some(active) = self.active.take() else {
            self.ensure_active(day)?;
            return Ok(SegmentName::day_file(day));
        };
        let dir = &self.options.dir;
        let files = list_segments(dir)?;
        let highest = files
            .iter()
            .filter(|(name, _)| name.day == active.name.day)
            .filter_map(|(name, _)| name.sequence)
            .max()
            .unwrap_or(0);
        let rotated = SegmentName::rotated(&active.name.day, highest + 1);
        let from = dir.join(active.name.to_string());
        let to = dir.join(rotated.to_string());
        fs::rename(&from, &to).map_err(|error| SinkError::io("rotate", &from, error))?;
        if self.options.durability != Durability::None {
            let _ = active.file.sync_data();
        }
        self.rotated_since_retention = true;
        self.submit_compression(rotated.clone());
        self.ensure_active(day)?;
        Ok(rotated)
    }

    fn submit_compression(&self, name: SegmentName) {
        if let Some(compressor) = &self.compressor {
            compressor.submit(name);
        }
    }

    /// Start-up recovery: removes temporary files of dead compressions, removes originals
    /// whose `.gz` is complete, and queues the rest of the uncompressed rotated segments.
    fn recover(&mut self) -> Result<(), SinkError> {
        let dir = self.options.dir.clone();
        let entries = fs::read_dir(&dir).map_err(|error| SinkError::io("list", &dir, error))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(owner) = name.to_str().and_then(temp_owner) else { continue };
            if owner != std::process::id() && !Path::new(&format!("/proc/{owner}")).exists() {
                let _ = fs::remove_file(entry.path());
            }
        }
        if self.compressor.is_none() {
            return Ok(());
        }
        let active_day = self.active_ref().name.day.clone();
        let files = list_segments(&dir)?;
        for segment in rotated_segments(&files, &active_day) {
            // Compression also settles a segment found in both forms (see
            // `compress::settle_existing`).
            if segment.files.iter().any(|file| file.ends_with(".jsonl")) {
                self.submit_compression(segment.name);
            }
        }
        Ok(())
    }

    /// Deletes the rotated segments retention no longer keeps and records their names.
    fn apply_retention(&mut self) -> Result<(), SinkError> {
        self.rotated_since_retention = false;
        let retention = self.options.retention;
        if retention == Retention::default() {
            return Ok(());
        }
        let dir = self.options.dir.clone();
        let active_day = self.active_ref().name.day.clone();
        let files = list_segments(&dir)?;
        let segments = rotated_segments(&files, &active_day);
        let now = self.options.clock.now();
        let expired = select_expired(&segments, &retention, now.as_unix_millis());
        let mut deleted = Vec::new();
        let mut ranges = Vec::new();
        for file in expired.iter().flat_map(|segment| &segment.files) {
            if self.pending_deletions.contains(file) {
                continue;
            }
            // The sequence range goes into the record, so a verifier can tell this pruning
            // from tampering.
            // The last line's hash lets a verifier check the first line that survives them.
            if let Some((first_seq, last_seq, last_hash)) = seq_range_of(&dir.join(file)) {
                ranges.push(serde_json::json!({
                    "file": file, "firstSeq": first_seq, "lastSeq": last_seq,
                    "lastHash": hex(&last_hash),
                }));
            }
            deleted.push(file.clone());
        }
        if !deleted.is_empty() {
            // The files go only once the record of their going is on disk (see
            // `delete_pruned`): a crash in between leaves files that a record calls pruned,
            // never a gap that nothing explains.
            self.pending_deletions.extend(deleted.iter().cloned());
            self.push_pruned_record(deleted, ranges, now, &retention);
        }
        Ok(())
    }

    /// Deletes the files whose pruning record was just written.
    fn delete_pruned(&mut self) -> Result<(), SinkError> {
        let dir = self.options.dir.clone();
        for file in std::mem::take(&mut self.pending_deletions) {
            match fs::remove_file(dir.join(&file)) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(SinkError::io("delete", dir.join(file), error)),
            }
        }
        Ok(())
    }

    fn push_pruned_record(
        &mut self,
        deleted: Vec<String>,
        ranges: Vec<serde_json::Value>,
        now: audit_core::Timestamp,
        retention: &Retention,
    ) {
        let mut details = Details::new();
        details.insert("count".into(), deleted.len().into());
        details.insert("files".into(), deleted.into());
        details.insert("ranges".into(), ranges.into());
        details.insert("reason".into(), "retention".into());
        details.insert("maxFiles".into(), retention.max_files.into());
        if let Some(days) = retention.max_age_days {
            details.insert("maxAgeDays".into(), days.into());
        }
        if let Some(bytes) = retention.max_total_bytes {
            details.insert("maxTotalBytes".into(), bytes.into());
        }
        let event = AuditEvent::new(EventType::AuditFilesPruned, details).at(now);
        self.options.redactor.redact_into(event, &mut self.lines);
    }

    fn sync(&self) -> Result<(), SinkError> {
        match &self.active {
            Some(active) => active.file.sync_data().map_err(|error| self.error("sync", error)),
            None => Ok(()),
        }
    }
}

impl Sink for FileSink {
    fn write_batch(&mut self, batch: &RedactedBatch) -> Result<(), BatchError> {
        self.lines.clear();
        self.lines.extend_from(batch, 0..batch.len());
        self.batch_written = 0;
        self.write_lines(false).map_err(|source| BatchError { written: self.batch_written, source })
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.catch_up_anchor()?;
        if self.options.durability == Durability::None {
            return Ok(());
        }
        self.sync()
    }

    fn background_error(&self) -> Option<String> {
        self.compression_error()
    }

    fn close(&mut self) -> Result<(), SinkError> {
        let synced = self.flush();
        if let Some(compressor) = &mut self.compressor {
            compressor.finish();
        }
        self.active = None;
        synced
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        // A sink dropped without `close` still leaves the anchor at its newest line; nobody
        // is left to tell of a failure, and an anchor behind the log is sound anyway.
        let _ = self.catch_up_anchor();
    }
}

/// The device and inode of the file at `path`, if there is one.
fn identity_of(path: &Path) -> Option<(u64, u64)> {
    fs::metadata(path).ok().map(|metadata| (metadata.dev(), metadata.ino()))
}

/// The number of lines in the first `len` bytes of `file`.
fn count_lines(file: &File, len: u64) -> io::Result<u64> {
    let mut buffer = vec![0; 1 << 16];
    let (mut offset, mut count) = (0, 0);
    while offset < len {
        let want = usize::try_from(len - offset).unwrap_or(usize::MAX).min(buffer.len());
        let n_read = file.read_at(&mut buffer[..want], offset)?;
        if n_read == 0 {
            break;
        }
        count += memchr::memchr_iter(b'\n', &buffer[..n_read]).count() as u64;
        offset += n_read as u64;
    }
    Ok(count)
}

/// The `details.reason` of the checkpoint that accounts for a torn line.
pub(crate) const TORN_LINE_REASON: &str = "torn-line";

/// The `details.reason` of the checkpoint written at intervals inside a file.
pub(crate) const INTERVAL_REASON: &str = "interval";

/// The first non-empty line of `lines`, without its newline.
fn first_line(lines: &[u8]) -> Option<&[u8]> {
    lines.split(|&byte| byte == b'\n').find(|line| !line.is_empty())
}

/// The last line of `lines`, which end with a newline, without it.
fn last_line(lines: &[u8]) -> Option<&[u8]> {
    let lines = lines.strip_suffix(b"\n")?;
    let start = memchr::memrchr(b'\n', lines).map_or(0, |at| at + 1);
    Some(&lines[start..])
}

/// A last line without its newline: where it is and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TornTail {
    /// Its number in the file, from 1.
    pub(crate) line: u64,
    /// Its length.
    pub(crate) bytes: u64,
    /// SHA-256 of its bytes, in hex.
    pub(crate) sha256: String,
}

/// The torn last line of the first `len` bytes of `file`, if they do not end with a newline.
fn torn_tail(file: &File, len: u64) -> io::Result<Option<TornTail>> {
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0_u8];
    file.read_exact_at(&mut last, len - 1)?;
    if last[0] == b'\n' {
        return Ok(None);
    }
    // Rare (a crash came before): one pass for the line's number and start, one to hash it.
    let mut buffer = vec![0; 1 << 16];
    let (mut offset, mut n_lines, mut line_start) = (0, 0, 0);
    while offset < len {
        let want = usize::try_from(len - offset).unwrap_or(usize::MAX).min(buffer.len());
        let n_read = file.read_at(&mut buffer[..want], offset)?;
        if n_read == 0 {
            break;
        }
        for at in memchr::memchr_iter(b'\n', &buffer[..n_read]) {
            n_lines += 1;
            line_start = offset + at as u64 + 1;
        }
        offset += n_read as u64;
    }
    let mut hasher = Sha256::new();
    let mut at = line_start;
    while at < len {
        let want = usize::try_from(len - at).unwrap_or(usize::MAX).min(buffer.len());
        let n_read = file.read_at(&mut buffer[..want], at)?;
        if n_read == 0 {
            break;
        }
        hasher.update(&buffer[..n_read]);
        at += n_read as u64;
    }
    Ok(Some(TornTail {
        line: n_lines + 1,
        bytes: len - line_start,
        sha256: hex(&hasher.finalize()),
    }))
}

/// `bytes` in lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Every file in `dir` whose name this system writes, with its size.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(SegmentName, u64)>, SinkError> {
    let entries = fs::read_dir(dir).map_err(|error| SinkError::io("list", dir, error))?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().and_then(SegmentName::parse) else {
            continue;
        };
        // A file deleted between the listing and the stat is simply no longer there.
        if let Ok(metadata) = entry.metadata() {
            files.push((name, metadata.len()));
        }
    }
    Ok(files)
}

/// Syncs the directory entry list, so that a rename survives a power cut.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), SinkError> {
    File::open(dir)
        .and_then(|dir_file| dir_file.sync_all())
        .map_err(|error| SinkError::io("sync directory", dir, error))
}
