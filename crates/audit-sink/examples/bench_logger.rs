//! Measures the audit logger side by side with tracing-subscriber's JSON formatter behind
//! tracing-appender's non-blocking writer, logging the same events.
//!
//! ```sh
//! cargo run --release -p audit-sink --example bench_logger            # everything
//! cargo run --release -p audit-sink --example bench_logger -- latency # one part
//! ```
//!
//! Parts: `latency` (caller-side p50/p99, one and two producer threads, paced below the
//! writer's capacity), `throughput` (sustained end-to-end events per second, no loss, checked
//! by counting lines), `rss` (peak resident memory growth over a burst, each in a fresh child
//! process) and `durability` (group commit against no syncing). The files go to a temporary
//! directory under the current directory, so that they land on a real disk.

use std::fs;
use std::io::BufRead;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use audit_core::AuditEvent;
use audit_sink::{AuditLogger, Durability};
use tracing_appender::non_blocking::NonBlockingBuilder;

const LATENCY_EVENTS_PER_THREAD: usize = 200_000;
const LATENCY_BURST: usize = 64;
const LATENCY_PAUSE: Duration = Duration::from_micros(400);
const THROUGHPUT_EVENTS: usize = 1_000_000;
const RSS_EVENTS: usize = 1_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, part] = args.as_slice()
        && flag == "--child"
    {
        child(part);
        return;
    }
    let part = args.first().map_or("all", String::as_str);
    println!("bench_logger: {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));
    if matches!(part, "all" | "latency") {
        latency();
    }
    if matches!(part, "all" | "throughput") {
        throughput();
    }
    if part == "costs" {
        costs();
    }
    if part == "throughput-audit" {
        println!("audit-sink alone: {:.0} events/s", audit_throughput(Durability::None));
    }
    if matches!(part, "all" | "rss") {
        rss();
    }
    if matches!(part, "all" | "durability") {
        durability();
    }
}

/// The event both paths log: a binding call with its context, as an executor makes it.
fn make_event(idx: usize) -> AuditEvent {
    AuditEvent::binding_accessed("github", "listIssues", Duration::from_millis(12))
        .with_mcp_name("code-mode")
        .with_user_id("user-42")
        .with_session_id("session-1732008930123-abc123")
        .with_detail("requestId", idx)
}

/// Logs `event` through tracing with the same fields the audit line has.
fn trace(event: &AuditEvent) {
    let context = &event.context;
    let details = &event.details;
    tracing::info!(
        timestamp = %event.timestamp,
        r#type = event.event_type.as_str(),
        severity = event.severity.as_str(),
        mcp_name = context.mcp_name.as_deref(),
        binding_name = context.binding_name.as_deref(),
        user_id = context.user_id.as_deref(),
        session_id = context.session_id.as_deref(),
        binding = details["binding"].as_str(),
        method = details["method"].as_str(),
        duration_ms = details["durationMs"].as_u64(),
        request_id = details["requestId"].as_u64(),
        outcome = event.outcome.as_str(),
    );
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("bench-logger-").tempdir_in(".").expect("a temporary dir")
}

/// A tracing dispatcher writing JSON lines to `dir/tracing.jsonl`, and the guard that flushes
/// it when dropped.
fn tracing_dispatch(
    dir: &Path,
    lossy: bool,
) -> (tracing::Dispatch, tracing_appender::non_blocking::WorkerGuard) {
    let appender = tracing_appender::rolling::never(dir, "tracing.jsonl");
    let (writer, guard) = NonBlockingBuilder::default().lossy(lossy).finish(appender);
    let subscriber = tracing_subscriber::fmt().json().with_writer(writer).finish();
    (tracing::Dispatch::new(subscriber), guard)
}

/// The audit logger under test; `BENCH_QUEUE_BUDGET` (bytes) overrides the 8 MiB budget, to
/// see how much blocking on the budget costs.
fn audit_logger(dir: &Path, durability: Durability) -> AuditLogger {
    let budget = std::env::var("BENCH_QUEUE_BUDGET").ok().and_then(|text| text.parse().ok());
    AuditLogger::builder()
        .dir(dir)
        .durability(durability)
        .queue_budget_bytes(budget.unwrap_or(8 << 20))
        .build()
        .expect("an audit logger")
}

fn percentiles(mut samples: Vec<u64>) -> (u64, u64, u64) {
    samples.sort_unstable();
    let at = |fraction: f64| samples[((samples.len() - 1) as f64 * fraction) as usize];
    (at(0.50), at(0.99), at(0.999))
}

/// What one timed call does with the event: the audit path takes it, the tracing path hands
/// it back so that freeing it stays outside the timed call, as it would in an executor.
type LogOne<'a> = &'a (dyn Fn(AuditEvent) -> Option<AuditEvent> + Sync);

/// Per-call latency in nanoseconds of `log_one`, paced in bursts so that the writer keeps up.
/// With `dispatch`, each producer thread runs under that tracing dispatcher.
fn paced_latencies(
    n_threads: usize,
    dispatch: Option<&tracing::Dispatch>,
    log_one: LogOne<'_>,
) -> Vec<u64> {
    let produce = |thread_idx: usize| {
        let mut samples = Vec::with_capacity(LATENCY_EVENTS_PER_THREAD);
        for idx in 0..LATENCY_EVENTS_PER_THREAD {
            let event = make_event(thread_idx * LATENCY_EVENTS_PER_THREAD + idx);
            let start = Instant::now();
            let handed_back = log_one(event);
            samples.push(start.elapsed().as_nanos() as u64);
            drop(handed_back);
            if idx % LATENCY_BURST == LATENCY_BURST - 1 {
                std::thread::sleep(LATENCY_PAUSE);
            }
        }
        samples
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n_threads)
            .map(|thread_idx| {
                scope.spawn(move || match dispatch {
                    Some(dispatch) => {
                        tracing::dispatcher::with_default(dispatch, || produce(thread_idx))
                    }
                    None => produce(thread_idx),
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("producer")).collect()
    })
}

fn timer_overhead() -> u64 {
    let samples: Vec<u64> = (0..100_000)
        .map(|_| {
            let start = Instant::now();
            start.elapsed().as_nanos() as u64
        })
        .collect();
    percentiles(samples).0
}

fn latency() {
    println!("\n## caller-side latency (ns per call, including the timer: {} ns p50)", {
        timer_overhead()
    });
    println!(
        "{LATENCY_EVENTS_PER_THREAD} events per thread, bursts of {LATENCY_BURST} every {} us",
        LATENCY_PAUSE.as_micros()
    );
    println!("| path | threads | p50 | p99 | p99.9 |");
    println!("|---|---|---|---|---|");
    for n_threads in [1, 2] {
        let dir = temp_dir();
        let logger = audit_logger(dir.path(), Durability::GroupCommit);
        let audit = paced_latencies(n_threads, None, &|event| {
            logger.log(event);
            None
        });
        let status = logger.shutdown().expect("audit shutdown");
        report_latency("audit-sink log", n_threads, audit);
        println!("  (rendered by the logging threads: {})", status.rendered_by_callers);

        let (dispatch, guard) = tracing_dispatch(dir.path(), true);
        let traced = paced_latencies(n_threads, Some(&dispatch), &|event| {
            trace(&event);
            Some(event)
        });
        drop(guard);
        report_latency("tracing json + non_blocking", n_threads, traced);
    }
}

fn report_latency(name: &str, n_threads: usize, samples: Vec<u64>) {
    let (p50, p99, p999) = percentiles(samples);
    println!("| {name} | {n_threads} | {p50} | {p99} | {p999} |");
}

fn count_lines(path: &Path) -> usize {
    let file = fs::File::open(path).expect("output file");
    std::io::BufReader::new(file).lines().count()
}

/// The event lines in the audit files of `dir`: every line but the writer's own checkpoints
/// (one opens each file, to carry the integrity chain across files).
fn count_dir_lines(dir: &Path) -> usize {
    let is_event = |line: &String| !line.contains(r#""type":"audit_checkpoint""#);
    fs::read_dir(dir)
        .expect("output dir")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("audit-"))
        .map(|entry| {
            let file = fs::File::open(entry.path()).expect("output file");
            std::io::BufReader::new(file).lines().map_while(Result::ok).filter(is_event).count()
        })
        .sum()
}

/// Events per second of `THROUGHPUT_EVENTS` logged by one producer until the logger is shut
/// down.
fn audit_throughput(durability: Durability) -> f64 {
    audit_throughput_threads(durability, 1)
}

/// The same, the events split between `n_threads` producers.
fn audit_throughput_threads(durability: Durability, n_threads: usize) -> f64 {
    let dir = temp_dir();
    let logger = audit_logger(dir.path(), durability);
    let cpu_start = process_cpu();
    let start = Instant::now();
    let per_thread = THROUGHPUT_EVENTS / n_threads;
    std::thread::scope(|scope| {
        for thread_idx in 0..n_threads {
            let logger = &logger;
            scope.spawn(move || {
                for idx in 0..per_thread {
                    logger.log(make_event(thread_idx * per_thread + idx));
                }
            });
        }
    });
    let status = logger.shutdown().expect("audit shutdown");
    let elapsed = start.elapsed();
    let cpu = process_cpu() - cpu_start;
    println!(
        "  ({n_threads} producer(s), {durability:?}: {:.2} CPUs busy, {:.2} us of CPU per event, \
         {:.0}% rendered by the logging threads)",
        cpu.as_secs_f64() / elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / THROUGHPUT_EVENTS as f64,
        status.rendered_by_callers as f64 * 100.0 / THROUGHPUT_EVENTS as f64
    );
    let lines = count_dir_lines(dir.path());
    assert_eq!((status.written as usize, lines), (THROUGHPUT_EVENTS, THROUGHPUT_EVENTS));
    THROUGHPUT_EVENTS as f64 / elapsed.as_secs_f64()
}

/// User and system CPU time of this process so far, all threads, at the kernel's clock-tick
/// resolution (usually 10 ms).
fn process_cpu() -> Duration {
    let stat = fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')').expect("a stat line").1.split(' ').collect();
    // `utime` and `stime` are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 =
        fields[12].parse::<u64>().expect("utime") + fields[13].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

fn tracing_throughput() -> f64 {
    let dir = temp_dir();
    let (dispatch, guard) = tracing_dispatch(dir.path(), false);
    let cpu_start = process_cpu();
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for idx in 0..THROUGHPUT_EVENTS {
            trace(&make_event(idx));
        }
    });
    drop(guard);
    let elapsed = start.elapsed();
    let cpu = process_cpu() - cpu_start;
    println!(
        "  (tracing: {:.2} CPUs busy, {:.2} us of CPU per event)",
        cpu.as_secs_f64() / elapsed.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / THROUGHPUT_EVENTS as f64
    );
    assert_eq!(count_lines(&dir.path().join("tracing.jsonl")), THROUGHPUT_EVENTS);
    THROUGHPUT_EVENTS as f64 / elapsed.as_secs_f64()
}

fn throughput() {
    println!("\n## sustained end-to-end throughput, one producer, no loss (lines counted)");
    println!("{THROUGHPUT_EVENTS} events, made in the loop, until shutdown returns");
    let audit = audit_throughput(Durability::None);
    let audit_two = audit_throughput_threads(Durability::None, 2);
    let traced = tracing_throughput();
    println!("| path | events/s |");
    println!("|---|---|");
    println!("| audit-sink, redaction on, durability none | {audit:.0} |");
    println!("| audit-sink, same, two producers | {audit_two:.0} |");
    println!("| tracing json + non_blocking (lossy=false) | {traced:.0} |");
    println!("ratio: {:.2}x", audit / traced);
}

fn durability() {
    println!("\n## group commit against no syncing (one producer, {THROUGHPUT_EVENTS} events)");
    let runs = 3;
    let mut none = Vec::new();
    let mut group = Vec::new();
    for _ in 0..runs {
        none.push(audit_throughput(Durability::None));
        group.push(audit_throughput(Durability::GroupCommit));
    }
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let (none, group) = (median(none), median(group));
    println!("| durability | events/s (median of {runs}) |");
    println!("|---|---|");
    println!("| none | {none:.0} |");
    println!("| group commit | {group:.0} |");
    println!("group commit keeps {:.0}% of the non-durable throughput", 100.0 * group / none);
}

fn rss() {
    println!("\n## peak resident memory growth over a burst of {RSS_EVENTS} events");
    println!("| path | peak growth (MiB) |");
    println!("|---|---|");
    let exe = std::env::current_exe().expect("own path");
    for part in ["rss-audit", "rss-tracing"] {
        let output = Command::new(&exe).args(["--child", part]).output().expect("child run");
        print!("{}", String::from_utf8_lossy(&output.stdout));
        if !output.status.success() {
            println!("| {part} | failed: {} |", String::from_utf8_lossy(&output.stderr).trim());
        }
    }
}

/// `VmRSS` or `VmHWM` of this process, in KiB.
fn status_kib(key: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse().ok())
        .expect("a memory line")
}

fn child(part: &str) {
    let dir = temp_dir();
    let burst = |log_one: &dyn Fn(AuditEvent)| {
        // Resets the peak to the current size (Linux 4.0 and later).
        fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
        let baseline = status_kib("VmRSS:");
        for idx in 0..RSS_EVENTS {
            log_one(make_event(idx));
        }
        baseline
    };
    match part {
        "rss-audit" => {
            let logger = Arc::new(audit_logger(dir.path(), Durability::None));
            let baseline = burst(&|event| logger.log(event));
            let logger = Arc::into_inner(logger).expect("sole owner");
            logger.shutdown().expect("audit shutdown");
            let growth = status_kib("VmHWM:").saturating_sub(baseline);
            println!("| audit-sink (8 MiB queue budget) | {:.1} |", growth as f64 / 1024.0);
        }
        _ => {
            let (dispatch, guard) = tracing_dispatch(dir.path(), false);
            let baseline =
                tracing::dispatcher::with_default(&dispatch, || burst(&|event| trace(&event)));
            drop(guard);
            let growth = status_kib("VmHWM:").saturating_sub(baseline);
            println!(
                "| tracing json + non_blocking (lossy=false) | {:.1} |",
                growth as f64 / 1024.0
            );
        }
    }
}

/// Single-threaded cost per event of each stage, to see which side bounds throughput. The
/// events go through in chunks of 1024 into one reused buffer, as in the writer, so that the
/// figures are the code's rather than the cost of first touching hundreds of megabytes.
fn costs() {
    let n_chunks = 200;
    let chunk = 1024;
    let redactor = audit_redact::Redactor::default();
    let mut buffer = Vec::with_capacity(1 << 20);
    let mut line_bytes = 0;
    let mut times = [Duration::ZERO; 4];
    for chunk_idx in 0..n_chunks {
        let start = Instant::now();
        let events: Vec<AuditEvent> =
            (chunk_idx * chunk..(chunk_idx + 1) * chunk).map(make_event).collect();
        times[0] += start.elapsed();
        let start = Instant::now();
        let redacted: Vec<_> = events.into_iter().map(|event| redactor.redact(event)).collect();
        times[1] += start.elapsed();
        buffer.clear();
        let start = Instant::now();
        for event in &redacted {
            event.write_json_line(&mut buffer);
        }
        times[2] += start.elapsed();
        line_bytes += buffer.len();
        let start = Instant::now();
        drop(redacted);
        times[3] += start.elapsed();
    }
    let n = (n_chunks * chunk) as f64;
    let per = |d: Duration| d.as_nanos() as f64 / n;
    println!(
        "ns per event: make {:.0}, redact {:.0}, serialize {:.0} ({} bytes/line), drop {:.0}",
        per(times[0]),
        per(times[1]),
        per(times[2]),
        line_bytes / (n_chunks * chunk),
        per(times[3])
    );
}
