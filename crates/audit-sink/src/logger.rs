//! The logger executors hold: per-thread queues in front of one writer thread.
//!
//! `log` takes the calling thread's own queue (a mutex nobody else touches except the writer,
//! for the instant it takes to swap the queue's buffers), checks sampling and the byte budget,
//! and pushes. It never wakes the writer in the normal case: the writer drains every queue on
//! a timer (the flush interval), or at once when more than half the budget is in use, a flush
//! is asked for or the logger shuts down. That is what keeps the caller's cost in the tens of
//! nanoseconds where a shared channel with a sleeping receiver costs microseconds.
//!
//! The byte budget bounds the memory of queued events: each event's approximate size is
//! accounted until the writer has written it. Threads reserve budget in chunks so that the
//! shared counter is touched once per chunk, not once per event.
//!
//! A thread that has to wait for budget does the writer's work meanwhile: it redacts and
//! renders the oldest events of its own queue into lines, a few dozen at a time, until budget
//! is free or nothing is left to render. When the writer was busy at that moment (not asleep,
//! not waiting for the disk to sync), the writer cannot keep up with the thread, and the
//! queue switches to rendering its own events: `log` renders each event as it comes (after
//! the few still queued from before), and the writer takes only the queue's lines, for as
//! long as the thread keeps running out of budget. That work costs the thread a fraction of
//! what it costs the writer: the event's memory is still in the thread's core's cache, and it
//! goes back to the allocator of the thread that allocated it. An event built on one core and
//! read on the other costs the writer more in cache misses and in contention for the
//! allocator's lock than in redacting and rendering. A thread that never runs out of budget
//! never renders. Once the thread logs nothing between two drains, or has not run out of
//! budget for a while, the writer takes its events again.
//!
//! A queue holds the lines its thread rendered before the events it has not, so the writer
//! takes them in the order they were logged.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::mem;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use audit_config::{AuditConfig, Backpressure, Durability};
use audit_core::{AuditEvent, Details, EventType, Timestamp, serde_json::Value};
use audit_redact::{RedactedBatch, RedactionPolicy, Redactor};

use crate::error::error_chain;
use crate::{
    Clock, DEFAULT_CHECKPOINT_INTERVAL, FileSink, FileSinkOptions, LoggerError, Retention, Sink,
    SystemClock,
};

const N_TYPES: usize = EventType::ALL.len();

/// How often the writer syncs under [`Durability::GroupCommit`] at most.
const GROUP_COMMIT_INTERVAL: Duration = Duration::from_millis(5);
/// How often `audit_events_sampled` records are written at most (a flush writes them at once).
const SAMPLED_RECORD_INTERVAL: Duration = Duration::from_secs(1);
/// The most events written with one call: a drain larger than this is written in chunks.
const MAX_BATCH_EVENTS: usize = 1024;
/// A drain this large means producers are busy: drain again without sleeping.
const BUSY_DRAIN_EVENTS: usize = 256;
/// The most events a thread renders at a time while holding its queue's lock, which the
/// writer needs to drain the queue.
const RENDER_STEP_EVENTS: usize = 32;
/// How long a thread renders its own events after it last had to wait for a busy writer.
/// Then the writer takes its events again, and the thread goes back to rendering if the
/// writer still cannot keep up.
const RENDER_OWN_HOLD: Duration = Duration::from_millis(500);
/// The first and the longest wait before the writer tries a failing sink again.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What the logger has done so far, for monitoring: counts, and the health of the sink.
///
/// Once everything is flushed, `logged == written + sampled + dropped + lost`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoggerStatus {
    /// Calls to `log`.
    pub logged: u64,
    /// Events written to the sink.
    pub written: u64,
    /// Events left out by sampling (declared in `audit_events_sampled` records).
    pub sampled: u64,
    /// Events dropped because the queue was full under [`Backpressure::Drop`] (declared in
    /// `audit_events_lost` records).
    pub dropped: u64,
    /// Events the sink failed to write (declared in `audit_events_lost` records).
    pub lost: u64,
    /// Records the logger wrote about itself: losses and sampling.
    pub internal_records: u64,
    /// Events that the logging threads redacted and rendered themselves because they ran out
    /// of queue budget: a measure of overload. They are written like any other.
    pub rendered_by_callers: u64,
    /// Whether the sink's last write succeeded.
    pub healthy: bool,
    /// The sink's last error, with its causes, if it ever failed.
    pub last_error: Option<String>,
    /// The last failure of the sink's background work (compressing a rotated file), which
    /// loses no event; the file stays uncompressed.
    pub background_error: Option<String>,
}

/// Events of one span of time that did not reach the log, to be declared in a record.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    count: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Span {
    fn add(&mut self, count: u64, first: Timestamp, last: Timestamp) {
        self.count += count;
        self.first = Some(self.first.map_or(first, |known| known.min(first)));
        self.last = Some(self.last.map_or(last, |known| known.max(last)));
    }

    fn merge(&mut self, other: Span) {
        if let (Some(first), Some(last)) = (other.first, other.last) {
            self.add(other.count, first, last);
        }
    }
}

/// One producer thread's queue and counters.
#[derive(Debug)]
struct QueueInner {
    /// Events the thread rendered itself; they precede `events`.
    rendered: RedactedBatch,
    /// Events not rendered yet, each with its share of `event_bytes`.
    events: VecDeque<(AuditEvent, u64)>,
    /// Approximate bytes of `events`, accounted in the shared budget.
    event_bytes: u64,
    /// Bytes of `rendered`, accounted in the shared budget: each line's event's estimate, or
    /// the line's length when that is more.
    rendered_bytes: u64,
    /// Budget reserved by this thread and not yet used.
    credit: u64,
    logged: u64,
    sampled: u64,
    sampled_pending: [u64; N_TYPES],
    dropped: u64,
    dropped_pending: Span,
    /// Events the thread rendered itself.
    rendered_count: u64,
    random: u64,
    /// While the thread renders its own events, when it last had to wait for budget: set when
    /// it has to wait while the writer is busy, cleared by the writer when the thread goes
    /// quiet or has not had to wait for [`RENDER_OWN_HOLD`].
    renders_own: Option<Instant>,
    /// `logged` when the writer last drained the queue.
    logged_at_drain: u64,
}

#[derive(Debug)]
struct ThreadQueue {
    inner: Mutex<QueueInner>,
    /// Set when the logger is gone, so that thread-local lookups can forget the queue.
    closed: AtomicBool,
}

impl ThreadQueue {
    fn new(seed: u64) -> ThreadQueue {
        ThreadQueue {
            inner: Mutex::new(QueueInner {
                rendered: RedactedBatch::new(),
                events: VecDeque::new(),
                event_bytes: 0,
                rendered_bytes: 0,
                credit: 0,
                logged: 0,
                sampled: 0,
                sampled_pending: [0; N_TYPES],
                dropped: 0,
                dropped_pending: Span::default(),
                rendered_count: 0,
                random: seed | 1,
                renders_own: None,
                logged_at_drain: 0,
            }),
            closed: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, QueueInner> {
        // A panic while holding the lock cannot leave the queue inconsistent (every update is
        // a push or a counter bump), so a poisoned lock is used as is: a caller's panic must
        // not lose what was logged.
        self.inner.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

impl QueueInner {
    /// xorshift64*: fast and good enough to decide sampling.
    fn next_random(&mut self) -> u64 {
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Flush requests and their completion.
#[derive(Debug, Default)]
struct Control {
    requested: u64,
    completed: u64,
    /// The error of the cycle that completed the last flush, if it failed.
    completed_error: Option<String>,
    shutdown: bool,
    #[cfg(feature = "tokio")]
    waiters: Vec<(u64, tokio::sync::oneshot::Sender<Result<(), String>>)>,
}

/// Counters of queues whose thread has exited.
#[derive(Debug, Default)]
struct Retired {
    logged: AtomicU64,
    sampled: AtomicU64,
    dropped: AtomicU64,
    rendered: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    id: u64,
    enabled: bool,
    queues: Mutex<Vec<Arc<ThreadQueue>>>,
    retired: Retired,
    budget_limit: u64,
    budget_chunk: u64,
    budget_used: AtomicU64,
    backpressure: Backpressure,
    /// What logging threads redact their own events with.
    redactor: Redactor,
    /// Per event type: keep an event when a random `u64` is below this; `u64::MAX` keeps all.
    keep_below: [u64; N_TYPES],
    sample_rates: [f64; N_TYPES],
    writer: OnceLock<Thread>,
    writer_alive: AtomicBool,
    /// Whether the writer is busy rendering and writing: not asleep between cycles, not
    /// backing off a failing sink, not waiting for the disk to sync.
    writer_busy: AtomicBool,
    control: Mutex<Control>,
    control_changed: Condvar,
    space: Mutex<()>,
    space_freed: Condvar,
    blocked: AtomicUsize,
    written: AtomicU64,
    lost: AtomicU64,
    internal_records: AtomicU64,
    healthy: AtomicBool,
    last_error: Mutex<Option<String>>,
    background_error: Mutex<Option<String>>,
}

static NEXT_LOGGER_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_SEED: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);

thread_local! {
    /// This thread's queue for each logger it logged to.
    static LOCAL_QUEUES: RefCell<Vec<(u64, Arc<ThreadQueue>)>> = const { RefCell::new(Vec::new()) };
}

/// The handle executors hold to log audit events.
///
/// `log` is cheap and never blocks in the normal case; redaction, serialization and IO run on
/// the logger's writer thread. [`flush`](AuditLogger::flush) and
/// [`shutdown`](AuditLogger::shutdown) wait until everything logged before the call is
/// written (and synced, under a durable mode); dropping the logger shuts it down the same way.
/// Share it between threads by reference or in an `Arc`.
#[derive(Debug)]
pub struct AuditLogger {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

/// Builds an [`AuditLogger`] by hand or from an [`AuditConfig`].
#[derive(Debug)]
pub struct AuditLoggerBuilder {
    enabled: bool,
    dir: Option<PathBuf>,
    sink: Option<Box<dyn Sink>>,
    clock: Arc<dyn Clock>,
    max_file_size_bytes: u64,
    checkpoint_interval: Duration,
    retention: Retention,
    compress_rotated: bool,
    durability: Durability,
    backpressure: Backpressure,
    queue_budget_bytes: u64,
    flush_interval: Duration,
    sample_rates: Vec<(String, f64)>,
    redactor: Redactor,
}

impl std::fmt::Debug for dyn Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dyn Sink")
    }
}

impl Default for AuditLoggerBuilder {
    fn default() -> AuditLoggerBuilder {
        AuditLoggerBuilder {
            enabled: true,
            dir: None,
            sink: None,
            clock: Arc::new(SystemClock),
            max_file_size_bytes: 0,
            checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
            retention: Retention::default(),
            compress_rotated: false,
            durability: Durability::default(),
            backpressure: Backpressure::default(),
            queue_budget_bytes: 8 * 1024 * 1024,
            flush_interval: Duration::from_millis(50),
            sample_rates: Vec::new(),
            redactor: Redactor::default(),
        }
    }
}

impl AuditLoggerBuilder {
    /// A builder taking every setting from `config`: directory, rotation, retention,
    /// compression, durability, backpressure, budget, flush interval, sampling and redaction.
    pub fn from_config(config: &AuditConfig) -> AuditLoggerBuilder {
        let policy = RedactionPolicy {
            redact_secrets: config.redact_sensitive_data,
            include_code_snippets: config.include_code_snippets,
        };
        AuditLoggerBuilder {
            enabled: config.enabled,
            dir: Some(config.dir.clone()),
            max_file_size_bytes: config.max_file_size_bytes,
            retention: Retention {
                max_files: config.max_files,
                max_age_days: config.max_age_days,
                max_total_bytes: config.max_total_bytes,
            },
            compress_rotated: config.compress_rotated,
            durability: config.durability,
            backpressure: config.backpressure,
            queue_budget_bytes: config.queue_budget_bytes,
            flush_interval: Duration::from_millis(config.flush_interval_ms.max(1)),
            sample_rates: config.sample_rates.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            redactor: Redactor::new(policy),
            ..AuditLoggerBuilder::default()
        }
    }

    /// Whether to log at all; a disabled logger accepts and ignores every event.
    #[must_use]
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Writes to a [`FileSink`] in `dir`.
    #[must_use]
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Writes to `sink` instead of a file sink; the file settings are then unused.
    #[must_use]
    pub fn sink(mut self, sink: Box<dyn Sink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The file sink's clock (the system clock by default).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The size limit of a file, in bytes; `0` (the default) turns size rotation off.
    #[must_use]
    pub fn max_file_size_bytes(mut self, bytes: u64) -> Self {
        self.max_file_size_bytes = bytes;
        self
    }

    /// How often the file sink records the head of the chain inside the active file, in an
    /// `audit_checkpoint` with reason `interval`, by the sink's clock (every 60 s by default;
    /// [`Duration::ZERO`] turns it off). One is written after the first batch of events that
    /// comes at least this long after the file's last checkpoint, never while no event comes,
    /// so that a reader shipping the lines as they are written (a SIEM) holds a recent head
    /// of the chain off the machine.
    #[must_use]
    pub fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.checkpoint_interval = interval;
        self
    }

    /// Which rotated files to keep (all, by default).
    #[must_use]
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    /// Whether rotated files are gzipped in the background (off by default).
    #[must_use]
    pub fn compress_rotated(mut self, compress: bool) -> Self {
        self.compress_rotated = compress;
        self
    }

    /// When writes reach stable storage ([`Durability::GroupCommit`] by default).
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// What `log` does when the queue budget is used up ([`Backpressure::Block`] by default).
    #[must_use]
    pub fn backpressure(mut self, backpressure: Backpressure) -> Self {
        self.backpressure = backpressure;
        self
    }

    /// The most memory queued events may take, approximately, in bytes (8 MiB by default).
    #[must_use]
    pub fn queue_budget_bytes(mut self, bytes: u64) -> Self {
        self.queue_budget_bytes = bytes;
        self
    }

    /// How often the writer drains the queues when nobody asks it to (50 ms by default).
    #[must_use]
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Keeps the fraction `rate` (0.0 to 1.0) of events of `event_type`. Security-relevant
    /// types ([`EventType::is_security_relevant`]) are never sampled: their rate is ignored.
    #[must_use]
    pub fn sample_rate(mut self, event_type: EventType, rate: f64) -> Self {
        self.sample_rates.push((event_type.as_str().to_owned(), rate));
        self
    }

    /// The redactor events pass through (the default policy by default).
    #[must_use]
    pub fn redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Opens the sink and starts the writer thread.
    ///
    /// # Errors
    ///
    /// [`LoggerError`] when no destination is set, a sampling rate is invalid or names no
    /// event type, the budget is zero, the sink cannot be opened (the error names the path
    /// and the cause) or the thread cannot start.
    pub fn build(self) -> Result<AuditLogger, LoggerError> {
        let (keep_below, sample_rates) = sampling_table(&self.sample_rates)?;
        if self.queue_budget_bytes == 0 {
            return Err(LoggerError::ZeroQueueBudget);
        }
        let shared = Arc::new(Shared {
            id: NEXT_LOGGER_ID.fetch_add(1, Ordering::Relaxed),
            enabled: self.enabled,
            queues: Mutex::new(Vec::new()),
            retired: Retired::default(),
            budget_limit: self.queue_budget_bytes,
            budget_chunk: (self.queue_budget_bytes / 16).clamp(1, 256 * 1024),
            budget_used: AtomicU64::new(0),
            backpressure: self.backpressure,
            redactor: self.redactor.clone(),
            keep_below,
            sample_rates,
            writer: OnceLock::new(),
            writer_alive: AtomicBool::new(true),
            writer_busy: AtomicBool::new(false),
            control: Mutex::new(Control::default()),
            control_changed: Condvar::new(),
            space: Mutex::new(()),
            space_freed: Condvar::new(),
            blocked: AtomicUsize::new(0),
            written: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            internal_records: AtomicU64::new(0),
            healthy: AtomicBool::new(true),
            last_error: Mutex::new(None),
            background_error: Mutex::new(None),
        });
        if !self.enabled {
            return Ok(AuditLogger { shared, writer: None });
        }

        let sink: Box<dyn Sink> = match self.sink {
            Some(sink) => sink,
            None => {
                let dir = self.dir.ok_or(LoggerError::NoDestination)?;
                Box::new(FileSink::open(FileSinkOptions {
                    dir,
                    max_file_size_bytes: self.max_file_size_bytes,
                    retention: self.retention,
                    compress_rotated: self.compress_rotated,
                    durability: self.durability,
                    clock: self.clock,
                    redactor: self.redactor.clone(),
                    checkpoint_interval: self.checkpoint_interval,
                })?)
            }
        };
        let settings = WriterSettings {
            redactor: self.redactor,
            durability: self.durability,
            flush_interval: self.flush_interval,
        };
        let writer = Writer::new(Arc::clone(&shared), sink, settings);
        let handle = thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run())
            .map_err(LoggerError::Spawn)?;
        // OK because nothing else sets it: the logger was made just above.
        shared.writer.set(handle.thread().clone()).expect("writer thread set once");
        Ok(AuditLogger { shared, writer: Some(handle) })
    }
}

/// Turns `(type name, rate)` pairs into per-type thresholds and rates.
fn sampling_table(
    rates: &[(String, f64)],
) -> Result<([u64; N_TYPES], [f64; N_TYPES]), LoggerError> {
    let mut keep_below = [u64::MAX; N_TYPES];
    let mut kept_rates = [1.0; N_TYPES];
    for (name, rate) in rates {
        let event_type: EventType =
            name.parse().map_err(|_| LoggerError::UnknownEventType { event_type: name.clone() })?;
        if !(0.0..=1.0).contains(rate) {
            return Err(LoggerError::InvalidSampleRate { event_type: name.clone(), rate: *rate });
        }
        if event_type.is_security_relevant() || *rate >= 1.0 {
            continue;
        }
        // The rate as a fraction of the u64 range; `as` saturates, which only matters for
        // rates a hair below 1.0.
        keep_below[event_type as usize] = (rate * 18_446_744_073_709_551_616.0) as u64;
        kept_rates[event_type as usize] = *rate;
    }
    Ok((keep_below, kept_rates))
}

impl AuditLogger {
    /// A builder with the defaults: no destination yet, group commit, blocking backpressure,
    /// an 8 MiB queue budget, a 50 ms flush interval, no rotation, no sampling.
    pub fn builder() -> AuditLoggerBuilder {
        AuditLoggerBuilder::default()
    }

    /// A logger with every setting from `config`.
    ///
    /// # Errors
    ///
    /// As [`AuditLoggerBuilder::build`].
    pub fn from_config(config: &AuditConfig) -> Result<AuditLogger, LoggerError> {
        AuditLoggerBuilder::from_config(config).build()
    }

    /// Queues `event` for writing.
    ///
    /// Cheap and non-blocking in the normal case. When the queue budget is used up it waits
    /// for room under [`Backpressure::Block`] and drops the event (counting it, and declaring
    /// it in the log) under [`Backpressure::Drop`].
    pub fn log(&self, event: AuditEvent) {
        let shared = &*self.shared;
        if !shared.enabled {
            return;
        }
        let mut event = Some(event);
        let pushed = LOCAL_QUEUES.try_with(|queues| {
            let queue = local_queue(shared, &mut queues.borrow_mut());
            // OK because the closure runs at most once.
            shared.push(&queue, event.take().expect("event not yet taken"));
        });
        if pushed.is_err() {
            // This thread's locals are being torn down (a log from a destructor): use a queue
            // of its own for this one event.
            let queue = shared.register_queue();
            if let Some(event) = event {
                shared.push(&queue, event);
            }
        }
    }

    /// Waits until every event logged before the call is written, and synced under a durable
    /// mode.
    ///
    /// # Errors
    ///
    /// [`LoggerError::Unhealthy`] when the sink failed in the writer's last cycle (the failed
    /// events are counted as lost and declared once the sink recovers), and
    /// [`LoggerError::WriterStopped`] when the writer thread is gone.
    pub fn flush(&self) -> Result<(), LoggerError> {
        if self.writer.is_none() {
            return Ok(());
        }
        let mut control = self.shared.control();
        control.requested += 1;
        let ticket = control.requested;
        self.shared.wake_writer();
        while control.completed < ticket {
            if !self.shared.writer_alive.load(Ordering::Acquire) {
                return Err(LoggerError::WriterStopped);
            }
            control = self
                .shared
                .control_changed
                .wait_timeout(control, Duration::from_millis(100))
                .unwrap_or_else(|poison| poison.into_inner())
                .0;
        }
        match &control.completed_error {
            Some(last_error) => Err(LoggerError::Unhealthy { last_error: last_error.clone() }),
            None => Ok(()),
        }
    }

    /// Awaitable [`flush`](AuditLogger::flush) that never blocks the runtime: the writer
    /// thread completes it.
    ///
    /// # Errors
    ///
    /// As [`flush`](AuditLogger::flush).
    #[cfg(feature = "tokio")]
    pub async fn flush_async(&self) -> Result<(), LoggerError> {
        if self.writer.is_none() {
            return Ok(());
        }
        let (done, completion) = tokio::sync::oneshot::channel();
        {
            let mut control = self.shared.control();
            control.requested += 1;
            let ticket = control.requested;
            control.waiters.push((ticket, done));
        }
        self.shared.wake_writer();
        match completion.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(last_error)) => Err(LoggerError::Unhealthy { last_error }),
            Err(_) => Err(LoggerError::WriterStopped),
        }
    }

    /// Awaitable [`shutdown`](AuditLogger::shutdown) that never blocks the runtime: a helper
    /// thread waits for the writer.
    ///
    /// # Errors
    ///
    /// As [`shutdown`](AuditLogger::shutdown).
    #[cfg(feature = "tokio")]
    pub async fn shutdown_async(self) -> Result<LoggerStatus, LoggerError> {
        let (done, completion) = tokio::sync::oneshot::channel();
        thread::Builder::new()
            .name("audit-shutdown".into())
            .spawn(move || {
                let _ = done.send(self.shutdown());
            })
            .map_err(LoggerError::Spawn)?;
        completion.await.unwrap_or(Err(LoggerError::WriterStopped))
    }

    /// Writes everything logged, closes the sink and stops the writer thread.
    ///
    /// # Errors
    ///
    /// [`LoggerError::Unhealthy`] when the last writes failed (the status still counts them),
    /// [`LoggerError::WriterStopped`] when the writer thread had died.
    pub fn shutdown(mut self) -> Result<LoggerStatus, LoggerError> {
        self.stop()?;
        let status = self.status();
        match (status.healthy, &status.last_error) {
            (false, Some(last_error)) => {
                Err(LoggerError::Unhealthy { last_error: last_error.clone() })
            }
            _ => Ok(status),
        }
    }

    fn stop(&mut self) -> Result<(), LoggerError> {
        let Some(writer) = self.writer.take() else { return Ok(()) };
        self.shared.control().shutdown = true;
        self.shared.wake_writer();
        writer.join().map_err(|_| LoggerError::WriterStopped)
    }

    /// The counters and the sink's health, as of now.
    pub fn status(&self) -> LoggerStatus {
        let shared = &*self.shared;
        let mut status = LoggerStatus {
            logged: shared.retired.logged.load(Ordering::Acquire),
            sampled: shared.retired.sampled.load(Ordering::Acquire),
            dropped: shared.retired.dropped.load(Ordering::Acquire),
            rendered_by_callers: shared.retired.rendered.load(Ordering::Acquire),
            ..LoggerStatus::default()
        };
        for queue in shared.queues().iter() {
            let inner = queue.lock();
            status.logged += inner.logged;
            status.sampled += inner.sampled;
            status.dropped += inner.dropped;
            status.rendered_by_callers += inner.rendered_count;
        }
        status.written = shared.written.load(Ordering::Acquire);
        status.lost = shared.lost.load(Ordering::Acquire);
        status.internal_records = shared.internal_records.load(Ordering::Acquire);
        status.healthy = shared.healthy.load(Ordering::Acquire);
        status.last_error = shared.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        status.background_error =
            shared.background_error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        status
    }
}

impl Drop for AuditLogger {
    fn drop(&mut self) {
        // Errors are in the status, which nobody can read any more; the events that failed
        // were declared lost as far as the sink allowed.
        let _ = self.stop();
        for queue in self.shared.queues().iter() {
            queue.closed.store(true, Ordering::Release);
        }
    }
}

/// This thread's queue for `shared`, registering one on first use.
fn local_queue(shared: &Shared, queues: &mut Vec<(u64, Arc<ThreadQueue>)>) -> Arc<ThreadQueue> {
    if let Some((_, queue)) = queues.iter().find(|(id, _)| *id == shared.id) {
        return Arc::clone(queue);
    }
    queues.retain(|(_, queue)| !queue.closed.load(Ordering::Acquire));
    let queue = shared.register_queue();
    queues.push((shared.id, Arc::clone(&queue)));
    queue
}

impl Shared {
    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn queues(&self) -> MutexGuard<'_, Vec<Arc<ThreadQueue>>> {
        self.queues.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    fn register_queue(&self) -> Arc<ThreadQueue> {
        let seed = NEXT_SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let queue = Arc::new(ThreadQueue::new(seed));
        self.queues().push(Arc::clone(&queue));
        queue
    }

    fn wake_writer(&self) {
        if let Some(writer) = self.writer.get() {
            writer.unpark();
        }
    }

    fn push(&self, queue: &ThreadQueue, event: AuditEvent) {
        let type_idx = event.event_type as usize;
        let size = approx_size(&event).min(self.budget_limit);
        let mut inner = queue.lock();
        inner.logged += 1;
        let keep_below = self.keep_below[type_idx];
        if keep_below != u64::MAX && inner.next_random() >= keep_below {
            inner.sampled += 1;
            inner.sampled_pending[type_idx] += 1;
            return;
        }
        if inner.credit < size {
            drop(inner);
            let reserved = self.reserve(queue, size);
            inner = queue.lock();
            match reserved {
                Some(reserved) => inner.credit += reserved,
                None => {
                    inner.dropped += 1;
                    inner.dropped_pending.add(1, event.timestamp, event.timestamp);
                    return;
                }
            }
        }
        inner.credit -= size;
        if inner.renders_own.is_some() && inner.events.is_empty() {
            // Rendered at once, while it is still in this core's cache.
            let extra = self.render_event(&mut inner, event, size);
            self.charge_extra(extra);
            inner.rendered_count += 1;
            return;
        }
        inner.event_bytes += size;
        inner.events.push_back((event, size));
        if inner.renders_own.is_some() {
            // Events queued before the thread took over go first; they are soon done.
            self.render_step(&mut inner, RENDER_STEP_EVENTS);
        }
    }

    /// Reserves at least `size` bytes of budget, a chunk when there is room; `None` when the
    /// event must be dropped. While it has to wait, it renders `queue`'s events.
    fn reserve(&self, queue: &ThreadQueue, size: u64) -> Option<u64> {
        let wanted = size.max(self.budget_chunk);
        let mut waited = false;
        loop {
            let used = self.budget_used.load(Ordering::Acquire);
            let grant = if used + wanted <= self.budget_limit {
                wanted
            } else if used + size <= self.budget_limit {
                size
            } else {
                0
            };
            if grant > 0 {
                if self
                    .budget_used
                    .compare_exchange(used, used + grant, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    // Past half the budget, a sleeping writer is woken early, so that it is
                    // not still catching up when the budget runs out.
                    if used + grant > self.budget_limit / 2
                        && !self.writer_busy.load(Ordering::Acquire)
                    {
                        self.wake_writer();
                    }
                    return Some(grant);
                }
                continue;
            }
            if self.backpressure == Backpressure::Drop || !self.writer_alive.load(Ordering::Acquire)
            {
                return None;
            }
            if !waited {
                waited = true;
                // A writer that is busy and still behind cannot keep up with this thread:
                // from now on the thread renders its own events, for as long as it keeps
                // running out of budget. (A writer waiting for a sync is only slow for a
                // moment, and rendering would not make the disk faster.)
                let writer_busy = self.writer_busy.load(Ordering::Acquire);
                let mut inner = queue.lock();
                if writer_busy || inner.renders_own.is_some() {
                    inner.renders_own = Some(Instant::now());
                }
                drop(inner);
                self.wake_writer();
            }
            if !self.render_some(queue) {
                self.wait_for_space(size);
            }
        }
    }

    /// Redacts and renders the oldest few of `queue`'s events into its lines; false when it
    /// had none.
    fn render_some(&self, queue: &ThreadQueue) -> bool {
        let mut inner = queue.lock();
        if inner.events.is_empty() {
            return false;
        }
        self.render_step(&mut inner, RENDER_STEP_EVENTS);
        true
    }

    /// Redacts and renders the oldest few of `inner`'s events into its lines. A line that
    /// came out longer than its event's estimate (text full of characters JSON escapes) is
    /// charged the difference.
    fn render_step(&self, inner: &mut QueueInner, most: usize) {
        let n_events = most.min(inner.events.len());
        let mut extra = 0;
        for _ in 0..n_events {
            // OK because `n_events` is at most the number of events.
            let (event, estimate) = inner.events.pop_front().expect("an event left");
            inner.event_bytes -= estimate;
            extra += self.render_event(inner, event, estimate);
        }
        self.charge_extra(extra);
        inner.rendered_count += n_events as u64;
    }

    /// Renders `event`, whose budget estimate was `estimate`, into `inner`'s lines; returns
    /// how much longer than the estimate its line came out.
    fn render_event(&self, inner: &mut QueueInner, event: AuditEvent, estimate: u64) -> u64 {
        let start = inner.rendered.bytes().len();
        self.redactor.redact_into(event, &mut inner.rendered);
        let line_len = (inner.rendered.bytes().len() - start) as u64;
        inner.rendered_bytes += estimate.max(line_len);
        line_len.saturating_sub(estimate)
    }

    /// Charges lines longer than their events' estimates to the budget, past the limit if
    /// need be: the memory is spent already, and the budget must say so until the writer
    /// has written the lines.
    fn charge_extra(&self, extra: u64) {
        if extra > 0 {
            self.budget_used.fetch_add(extra, Ordering::SeqCst);
        }
    }

    /// Waits until `size` bytes of budget may be free, or a short while.
    ///
    /// The waiter counts itself in `blocked` and then looks at the budget, while `release`
    /// frees budget and then looks at `blocked`, all in one order (`SeqCst`): either the
    /// waiter sees the room, or the releaser sees the waiter and must take `space`, which the
    /// waiter holds until it sleeps, so the notification cannot fall between look and sleep.
    fn wait_for_space(&self, size: u64) {
        let guard = self.space.lock().unwrap_or_else(|poison| poison.into_inner());
        self.blocked.fetch_add(1, Ordering::SeqCst);
        if self.budget_used.load(Ordering::SeqCst) + size > self.budget_limit {
            self.wake_writer();
            // The timeout only bounds the wait should the writer stop.
            let _ = self.space_freed.wait_timeout(guard, Duration::from_millis(2));
        }
        self.blocked.fetch_sub(1, Ordering::SeqCst);
    }

    fn release(&self, bytes: u64) {
        if bytes == 0 {
            return;
        }
        self.budget_used.fetch_sub(bytes, Ordering::SeqCst);
        if self.blocked.load(Ordering::SeqCst) > 0 {
            let _guard = self.space.lock().unwrap_or_else(|poison| poison.into_inner());
            self.space_freed.notify_all();
        }
    }
}

/// An estimate of the memory an event holds, heap included, for the queue budget.
fn approx_size(event: &AuditEvent) -> u64 {
    let context = &event.context;
    let mut size = mem::size_of::<AuditEvent>() as u64;
    for field in [&context.mcp_name, &context.binding_name, &context.user_id, &context.session_id]
        .into_iter()
        .flatten()
    {
        size += field.len() as u64 + 16;
    }
    size + object_size(&event.details)
}

fn object_size(object: &Details) -> u64 {
    object.iter().map(|(key, value)| 64 + key.len() as u64 + value_size(value)).sum()
}

fn value_size(value: &Value) -> u64 {
    match value {
        Value::String(text) => text.len() as u64 + 16,
        // Numbers keep their text under `arbitrary_precision`.
        Value::Number(_) => 24,
        Value::Array(items) => 32 + items.iter().map(|item| 32 + value_size(item)).sum::<u64>(),
        Value::Object(object) => 64 + object_size(object),
        Value::Null | Value::Bool(_) => 0,
    }
}

/// What one declaration record declares.
#[derive(Debug, Clone, Copy)]
enum Declared {
    Dropped,
    Lost,
    Sampled(usize),
}

/// Events not written and not yet declared in the log.
#[derive(Debug, Default)]
struct Undeclared {
    dropped: Span,
    lost: Span,
    lost_reason: String,
    sampled: [u64; N_TYPES],
}

/// The builder's settings the writer thread needs.
struct WriterSettings {
    redactor: Redactor,
    durability: Durability,
    flush_interval: Duration,
}

/// The writer thread's state.
struct Writer {
    shared: Arc<Shared>,
    sink: Box<dyn Sink>,
    redactor: Redactor,
    durability: Durability,
    flush_interval: Duration,
    undeclared: Undeclared,
    /// The chunk being written, reused.
    batch: RedactedBatch,
    /// Emptied queue buffers, handed back to producers with their capacity.
    spare: Vec<VecDeque<(AuditEvent, u64)>>,
    spare_rendered: Vec<RedactedBatch>,
    /// When to try a failing sink again, and the wait that led there.
    backoff: Option<(Instant, Duration)>,
    last_sampled_record: Instant,
    last_sync: Instant,
    unsynced: bool,
}

/// What one drain of all queues took out: each queue's rendered lines, then its events.
struct Drained {
    queues: Vec<(RedactedBatch, VecDeque<(AuditEvent, u64)>)>,
    n_events: usize,
    bytes: u64,
}

/// How far the writing of a drain has come: events written of `n_events`, budget given back
/// of `bytes`, and the last write error.
struct Progress {
    n_events: usize,
    bytes: u64,
    n_done: usize,
    released: u64,
    error: Option<String>,
}

/// Marks the writer dead however it ends, so that nobody waits for it forever.
struct AliveGuard(Arc<Shared>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.writer_alive.store(false, Ordering::Release);
        let control = self.0.control();
        self.0.control_changed.notify_all();
        drop(control);
        let _space = self.0.space.lock();
        self.0.space_freed.notify_all();
    }
}

impl Writer {
    fn new(shared: Arc<Shared>, sink: Box<dyn Sink>, settings: WriterSettings) -> Writer {
        Writer {
            shared,
            sink,
            redactor: settings.redactor,
            durability: settings.durability,
            flush_interval: settings.flush_interval,
            undeclared: Undeclared::default(),
            batch: RedactedBatch::new(),
            spare: Vec::new(),
            spare_rendered: Vec::new(),
            backoff: None,
            last_sampled_record: Instant::now(),
            last_sync: Instant::now(),
            unsynced: false,
        }
    }

    /// One cycle per wake-up: drain, write, sync when due, complete flushes, sleep unless
    /// producers are busy.
    fn run(mut self) {
        let _alive = AliveGuard(Arc::clone(&self.shared));
        self.shared.writer_busy.store(true, Ordering::Release);
        loop {
            let (target, shutdown, forced) = {
                let control = self.shared.control();
                let forced = control.shutdown || control.requested > control.completed;
                (control.requested, control.shutdown, forced)
            };
            if let Some((retry_at, _)) = self.backoff {
                let now = Instant::now();
                if !forced && now < retry_at {
                    self.shared.writer_busy.store(false, Ordering::Release);
                    thread::park_timeout(retry_at - now);
                    self.shared.writer_busy.store(true, Ordering::Release);
                    continue;
                }
            }

            let drained = self.drain(forced);
            let n_events = drained.n_events;
            let declare_sampled =
                forced || self.last_sampled_record.elapsed() >= SAMPLED_RECORD_INTERVAL;
            let mut cycle_error = self.write_drained(drained, declare_sampled);
            if cycle_error.is_none() {
                cycle_error = self.sync_if_due(forced);
            }
            self.record_health(&cycle_error);

            if forced {
                self.complete(target, cycle_error);
            }
            if shutdown {
                break;
            }
            if n_events < BUSY_DRAIN_EVENTS {
                self.shared.writer_busy.store(false, Ordering::Release);
                thread::park_timeout(self.pause());
                self.shared.writer_busy.store(true, Ordering::Release);
            }
        }
        let closed = self.sink.close();
        // Closing finishes the background work, which may have failed only now.
        self.record_health(&closed.err().map(|error| error_chain(&error)));
    }

    /// Redacts and writes `drained` in chunks, each chunk's budget given back as soon as it
    /// is written, so that producers refill the queues while the writer works rather than
    /// waiting for the whole drain. Lines the producers rendered are copied into the chunk;
    /// events are redacted and rendered into it. The declarations ride with the last chunk.
    /// Returns the last write error.
    fn write_drained(&mut self, drained: Drained, declare_sampled: bool) -> Option<String> {
        let Drained { queues, n_events, bytes } = drained;
        let mut progress = Progress { n_events, bytes, n_done: 0, released: 0, error: None };
        for (rendered, mut events) in queues {
            let mut line_idx = 0;
            while line_idx < rendered.len() {
                let n_taken = (MAX_BATCH_EVENTS - self.batch.len()).min(rendered.len() - line_idx);
                self.batch.extend_from(&rendered, line_idx..line_idx + n_taken);
                line_idx += n_taken;
                self.write_if_full(&mut progress, declare_sampled);
            }
            while !events.is_empty() {
                let n_taken = (MAX_BATCH_EVENTS - self.batch.len()).min(events.len());
                let redactor = &self.redactor;
                for (event, _) in events.drain(..n_taken) {
                    redactor.redact_into(event, &mut self.batch);
                }
                self.write_if_full(&mut progress, declare_sampled);
            }
            if events.capacity() > 0 && self.spare.len() < 4 {
                self.spare.push(events);
            }
            if !rendered.bytes().is_empty() && self.spare_rendered.len() < 4 {
                let mut rendered = rendered;
                rendered.clear();
                self.spare_rendered.push(rendered);
            }
        }
        let error = self.write_chunk(true, declare_sampled).or(progress.error);
        self.shared.release(progress.bytes - progress.released);
        error
    }

    /// Writes the chunk once it is full, and gives back the budget of the drain's events
    /// written so far.
    fn write_if_full(&mut self, progress: &mut Progress, declare_sampled: bool) {
        if self.batch.len() < MAX_BATCH_EVENTS {
            return;
        }
        progress.n_done += MAX_BATCH_EVENTS;
        progress.error = self.write_chunk(false, declare_sampled).or(progress.error.take());
        let due = (u128::from(progress.bytes) * progress.n_done as u128
            / progress.n_events.max(1) as u128) as u64;
        self.shared.release(due - progress.released);
        progress.released = due;
    }

    /// Writes `self.batch` (plus the declarations, on the last chunk) and accounts for it:
    /// each event written, or lost and to be declared.
    fn write_chunk(&mut self, last_chunk: bool, declare_sampled: bool) -> Option<String> {
        let n_events = self.batch.len();
        let declared =
            if last_chunk { self.push_declarations(declare_sampled) } else { Vec::new() };
        if self.batch.is_empty() {
            return None;
        }
        let (written, failure) = match self.sink.write_batch(&self.batch) {
            Ok(()) => (self.batch.len(), None),
            Err(error) => (error.written.min(self.batch.len()), Some(error.source)),
        };
        let written_events = written.min(n_events);
        let lost_span = time_span(&self.batch.timestamps()[written_events..n_events]);
        self.batch.clear();
        self.shared.written.fetch_add(written_events as u64, Ordering::AcqRel);
        if written > 0 {
            self.unsynced = true;
        }
        self.settle(&declared[..written - written_events]);
        let Some(error) = failure else {
            if declare_sampled {
                self.last_sampled_record = Instant::now();
            }
            return None;
        };
        let reason = error_chain(&error);
        let n_lost = (n_events - written_events) as u64;
        if let Some((first, last)) = lost_span {
            self.shared.lost.fetch_add(n_lost, Ordering::AcqRel);
            self.undeclared.lost.add(n_lost, first, last);
            self.undeclared.lost_reason = format!("write failed: {reason}");
            self.declare_alone();
        }
        Some(reason)
    }

    /// Writes the records declaring drops and losses on their own, right after events were
    /// lost: a few hundred bytes may still fit where the batch did not (a full disk), and a
    /// logger shutting down gets no later cycle to declare them in.
    fn declare_alone(&mut self) {
        let declared = self.push_declarations(false);
        if declared.is_empty() {
            return;
        }
        let written = match self.sink.write_batch(&self.batch) {
            Ok(()) => declared.len(),
            Err(error) => error.written.min(declared.len()),
        };
        self.batch.clear();
        if written > 0 {
            self.unsynced = true;
        }
        self.settle(&declared[..written]);
    }

    /// Forgets what the written records in `declared` declared.
    fn settle(&mut self, declared: &[Declared]) {
        for declaration in declared {
            match *declaration {
                Declared::Dropped => self.undeclared.dropped = Span::default(),
                Declared::Lost => self.undeclared.lost = Span::default(),
                Declared::Sampled(type_idx) => self.undeclared.sampled[type_idx] = 0,
            }
        }
        self.shared.internal_records.fetch_add(declared.len() as u64, Ordering::AcqRel);
    }

    /// Flushes the sink when something was written since the last flush and a flush asks for
    /// it, or, under a durable mode, the group-commit interval has passed. Without durability
    /// the sink's flush only brings its head anchor up to date.
    fn sync_if_due(&mut self, forced: bool) -> Option<String> {
        let due = self.unsynced
            && (forced
                || (self.durability != Durability::None
                    && self.last_sync.elapsed() >= GROUP_COMMIT_INTERVAL));
        if !due {
            return None;
        }
        self.last_sync = Instant::now();
        self.shared.writer_busy.store(false, Ordering::Release);
        let flushed = self.sink.flush();
        self.shared.writer_busy.store(true, Ordering::Release);
        match flushed {
            Ok(()) => {
                self.unsynced = false;
                None
            }
            Err(error) => Some(error_chain(&error)),
        }
    }

    /// How long to sleep: the flush interval, shorter while a group commit is pending.
    fn pause(&self) -> Duration {
        if self.unsynced && self.durability != Durability::None {
            self.flush_interval.min(GROUP_COMMIT_INTERVAL)
        } else {
            self.flush_interval
        }
    }

    /// Takes every queue's events and pending counts, recycling vectors, and retires the
    /// queues of threads that have exited. A queue whose thread renders its own events gives
    /// only its lines, unless `forced` (a flush or the shutdown).
    fn drain(&mut self, forced: bool) -> Drained {
        let mut drained = Drained { queues: Vec::new(), n_events: 0, bytes: 0 };
        let mut queues = self.shared.queues();
        let retired = &self.shared.retired;
        let (undeclared, spare, spare_rendered) =
            (&mut self.undeclared, &mut self.spare, &mut self.spare_rendered);
        queues.retain(|queue| {
            // Only the list holds the queue: its thread has exited.
            let orphaned = Arc::strong_count(queue) == 1;
            let mut inner = queue.lock();
            // A thread that renders its own events keeps them, where they are cheaper to
            // render and to free: take only its lines, unless a flush or the shutdown needs
            // everything, the thread has exited, has logged nothing since the last drain (its
            // last few events must not sit on budget others need), or has not run out of
            // budget for a while.
            let quiet = inner.logged == inner.logged_at_drain;
            inner.logged_at_drain = inner.logged;
            let held = inner.renders_own.is_some_and(|at| at.elapsed() <= RENDER_OWN_HOLD);
            let take_events = forced || orphaned || quiet || !held;
            if take_events {
                inner.renders_own = None;
            }
            if (take_events && !inner.events.is_empty()) || !inner.rendered.is_empty() {
                let n_events = if take_events { inner.events.len() } else { 0 };
                drained.n_events += inner.rendered.len() + n_events;
                let rendered = if inner.rendered.is_empty() {
                    RedactedBatch::new()
                } else {
                    mem::replace(&mut inner.rendered, spare_rendered.pop().unwrap_or_default())
                };
                let events = if n_events == 0 {
                    VecDeque::new()
                } else {
                    mem::replace(&mut inner.events, spare.pop().unwrap_or_default())
                };
                drained.queues.push((rendered, events));
            }
            // Unused credit comes back too: a thread that went quiet must not sit on budget a
            // busy thread is waiting for. A busy thread takes a new chunk after each drain.
            let event_bytes = if take_events { mem::take(&mut inner.event_bytes) } else { 0 };
            drained.bytes +=
                event_bytes + mem::take(&mut inner.rendered_bytes) + mem::take(&mut inner.credit);
            undeclared.dropped.merge(mem::take(&mut inner.dropped_pending));
            for (total, pending) in undeclared.sampled.iter_mut().zip(&mut inner.sampled_pending) {
                *total += mem::take(pending);
            }
            // Fold the counters of an exited thread into the retired totals.
            if orphaned {
                retired.logged.fetch_add(inner.logged, Ordering::AcqRel);
                retired.sampled.fetch_add(inner.sampled, Ordering::AcqRel);
                retired.dropped.fetch_add(inner.dropped, Ordering::AcqRel);
                retired.rendered.fetch_add(inner.rendered_count, Ordering::AcqRel);
            }
            !orphaned
        });
        drained
    }

    /// Appends to `self.batch` the records declaring drops, losses and (when `with_sampled`)
    /// sampling; returns what each declares, in order.
    fn push_declarations(&mut self, with_sampled: bool) -> Vec<Declared> {
        let undeclared = &self.undeclared;
        let mut records = Vec::new();
        let mut declared = Vec::new();
        if undeclared.dropped.count > 0 {
            declared.push(Declared::Dropped);
            let reason = format!(
                "backpressure: the queue budget of {} bytes was full",
                self.shared.budget_limit
            );
            records.push(lost_record(&undeclared.dropped, &reason));
        }
        if undeclared.lost.count > 0 {
            declared.push(Declared::Lost);
            records.push(lost_record(&undeclared.lost, &undeclared.lost_reason));
        }
        if with_sampled {
            for (type_idx, &count) in undeclared.sampled.iter().enumerate() {
                if count > 0 {
                    declared.push(Declared::Sampled(type_idx));
                    let rate = self.shared.sample_rates[type_idx];
                    records.push(sampled_record(EventType::ALL[type_idx], count, rate));
                }
            }
        }
        for record in records {
            self.redactor.redact_into(record, &mut self.batch);
        }
        declared
    }

    /// Publishes the sink's health, and backs off while it fails.
    fn record_health(&mut self, cycle_error: &Option<String>) {
        if let Some(error) = self.sink.background_error() {
            *self.shared.background_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
        }
        match cycle_error {
            None => {
                self.shared.healthy.store(true, Ordering::Release);
                self.backoff = None;
            }
            Some(error) => {
                self.shared.healthy.store(false, Ordering::Release);
                *self.shared.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(error.clone());
                let wait =
                    self.backoff.map_or(FIRST_BACKOFF, |(_, wait)| (wait * 2).min(MAX_BACKOFF));
                self.backoff = Some((Instant::now() + wait, wait));
            }
        }
    }

    fn complete(&self, target: u64, cycle_error: Option<String>) {
        let mut control = self.shared.control();
        control.completed = control.completed.max(target);
        control.completed_error = cycle_error;
        #[cfg(feature = "tokio")]
        {
            let result = control.completed_error.clone().map_or(Ok(()), Err);
            let waiters = mem::take(&mut control.waiters);
            for (ticket, done) in waiters {
                if ticket <= target {
                    let _ = done.send(result.clone());
                } else {
                    control.waiters.push((ticket, done));
                }
            }
        }
        self.shared.control_changed.notify_all();
    }
}

/// The earliest and latest of `timestamps`.
fn time_span(timestamps: &[Timestamp]) -> Option<(Timestamp, Timestamp)> {
    timestamps.iter().copied().fold(None, |span, at| {
        Some(span.map_or((at, at), |(first, last): (Timestamp, Timestamp)| {
            (first.min(at), last.max(at))
        }))
    })
}

fn lost_record(span: &Span, reason: &str) -> AuditEvent {
    let mut details = Details::new();
    details.insert("count".into(), span.count.into());
    details.insert("reason".into(), reason.into());
    if let (Some(first), Some(last)) = (span.first, span.last) {
        details.insert("firstEventAt".into(), first.to_string().into());
        details.insert("lastEventAt".into(), last.to_string().into());
    }
    AuditEvent::new(EventType::AuditEventsLost, details)
}

fn sampled_record(event_type: EventType, count: u64, rate: f64) -> AuditEvent {
    let mut details = Details::new();
    details.insert("eventType".into(), event_type.as_str().into());
    details.insert("count".into(), count.into());
    details.insert("rate".into(), rate.into());
    AuditEvent::new(EventType::AuditEventsSampled, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|(name, rate)| ((*name).to_owned(), *rate)).collect()
    }

    #[test]
    fn sampling_never_touches_security_relevant_types() {
        let (keep_below, _) =
            sampling_table(&rates(&[("security_violation", 0.0), ("binding_accessed", 0.0)]))
                .unwrap();
        assert_eq!(keep_below[EventType::SecurityViolation as usize], u64::MAX);
        assert_eq!(keep_below[EventType::BindingAccessed as usize], 0);
    }

    #[test]
    fn sampling_rates_outside_zero_to_one_are_refused() {
        for rate in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            let error = sampling_table(&rates(&[("binding_accessed", rate)])).unwrap_err();
            assert!(matches!(error, LoggerError::InvalidSampleRate { .. }), "{rate}");
        }
        let (keep_below, kept) = sampling_table(&rates(&[("binding_accessed", 0.5)])).unwrap();
        assert_eq!(keep_below[EventType::BindingAccessed as usize], 1 << 63);
        assert_eq!(kept[EventType::BindingAccessed as usize], 0.5);
    }

    #[test]
    fn the_size_estimate_grows_with_the_event() {
        let small = AuditEvent::code_execution_start("x");
        let large = AuditEvent::code_execution_start(&"x".repeat(10_000));
        assert_eq!(approx_size(&large), approx_size(&small) + 9_999);
        assert!(approx_size(&small) >= mem::size_of::<AuditEvent>() as u64);
    }

    #[test]
    fn spans_keep_the_earliest_and_latest_instants() {
        let at = |text| Timestamp::parse(text).unwrap();
        let mut span = Span::default();
        span.add(2, at("2026-12-03T10:00:00Z"), at("2026-12-03T11:00:00Z"));
        span.add(1, at("2026-12-03T09:00:00Z"), at("2026-12-03T09:30:00Z"));
        assert_eq!(span.count, 3);
        assert_eq!(span.first, Some(at("2026-12-03T09:00:00Z")));
        assert_eq!(span.last, Some(at("2026-12-03T11:00:00Z")));
    }
}
