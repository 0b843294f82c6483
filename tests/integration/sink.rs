//! The writer: files, rotation, retention, compression, several writers, faults, losses.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit_core::{AuditEvent, EventType, Timestamp};
use audit_redact::RedactedBatch;
use audit_sink::{
    AuditLogger, AuditLoggerBuilder, Backpressure, BatchError, Durability, FileSink,
    FileSinkOptions, FindingKind, LoggerError, ManualClock, Retention, SegmentName, Sink,
    SinkError, Verdict,
};

const NOON: &str = "2026-12-03T12:00:00.000Z";

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn clock(text: &str) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(at(text)))
}

fn event(idx: usize) -> AuditEvent {
    AuditEvent::binding_accessed("fs", "readFile", Duration::from_millis(1))
        .with_detail("idx", idx)
        .with_session_id("session-1732008930123-abc123")
}

fn builder(dir: &Path, clock: &Arc<ManualClock>) -> AuditLoggerBuilder {
    AuditLogger::builder().dir(dir).clock(Arc::clone(clock) as _).durability(Durability::None)
}

/// The file names in `dir` this system writes, in time order.
fn segment_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<SegmentName> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| SegmentName::parse(entry.unwrap().file_name().to_str()?))
        .collect();
    names.sort_by(SegmentName::cmp_time);
    names.iter().map(ToString::to_string).collect()
}

fn read_text(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    if path.extension().is_some_and(|extension| extension == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

/// Every line of every segment in `dir`, in time order, each checked to be a valid event,
/// without the chain's checkpoints (bookkeeping that opens each file).
fn all_events(dir: &Path) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    for name in segment_names(dir) {
        let text = read_text(&dir.join(&name));
        assert!(text.is_empty() || text.ends_with('\n'), "{name} ends mid-line");
        for (line_idx, line) in text.lines().enumerate() {
            let event = AuditEvent::from_json(line)
                .unwrap_or_else(|error| panic!("{name}:{}: {error}: {line}", line_idx + 1));
            if event.event_type != EventType::AuditCheckpoint {
                events.push(event);
            }
        }
    }
    events
}

fn of_type(events: &[AuditEvent], event_type: EventType) -> Vec<&AuditEvent> {
    events.iter().filter(|event| event.event_type == event_type).collect()
}

fn detail_count(event: &AuditEvent) -> u64 {
    event.details["count"].as_u64().unwrap()
}

#[test]
fn every_event_logged_from_several_threads_is_on_disk_after_drop() {
    let dir = tempfile::tempdir().unwrap();
    let logger = AuditLogger::builder().dir(dir.path()).build().unwrap();
    std::thread::scope(|scope| {
        for thread_idx in 0..4 {
            let logger = &logger;
            scope.spawn(move || {
                for idx in 0..2_500 {
                    logger.log(event(thread_idx * 10_000 + idx));
                }
            });
        }
    });
    drop(logger);

    let events = all_events(dir.path());
    assert_eq!(events.len(), 10_000);
    let mut seen: Vec<u64> = events.iter().map(|e| e.details["idx"].as_u64().unwrap()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 10_000, "every event exactly once");
}

#[test]
fn a_panicking_caller_loses_nothing_it_logged() {
    let dir = tempfile::tempdir().unwrap();
    let logger = Arc::new(AuditLogger::builder().dir(dir.path()).build().unwrap());
    let in_thread = Arc::clone(&logger);
    let outcome = std::thread::spawn(move || {
        for idx in 0..100 {
            in_thread.log(event(idx));
        }
        panic!("the executor thread dies");
    })
    .join();
    assert!(outcome.is_err());
    let logger = Arc::into_inner(logger).unwrap();
    let status = logger.shutdown().unwrap();
    assert_eq!((status.logged, status.written), (100, 100));
    assert_eq!(all_events(dir.path()).len(), 100);
}

#[test]
fn files_are_private_and_the_directory_is_created() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("nested").join("audit");
    let logger = AuditLogger::builder().dir(&dir).build().unwrap();
    logger.log(event(0));
    logger.shutdown().unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    for entry in fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{:?}", entry.file_name());
    }
}

#[test]
fn an_impossible_directory_is_a_clear_error() {
    let parent = tempfile::tempdir().unwrap();
    let file = parent.path().join("not-a-dir");
    fs::write(&file, "x").unwrap();
    let error = AuditLogger::builder().dir(file.join("audit")).build().unwrap_err();
    let chain = format!("{error}: {}", std::error::Error::source(&error).unwrap());
    assert!(chain.contains("cannot create directory"), "{chain}");
    assert!(chain.contains("not-a-dir/audit"), "{chain}");
}

#[test]
fn the_file_rolls_over_at_utc_midnight_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock("2026-12-03T23:59:59.998Z");
    let logger = builder(dir.path(), &clock).build().unwrap();
    logger.log(event(1));
    logger.flush().unwrap();
    clock.advance(Duration::from_millis(1));
    logger.log(event(2));
    logger.flush().unwrap();
    clock.advance(Duration::from_millis(1));
    logger.log(event(3));
    logger.shutdown().unwrap();

    assert_eq!(segment_names(dir.path()), ["audit-2026-12-03.jsonl", "audit-2026-12-04.jsonl"]);
    // Each file opens with the chain's checkpoint; the new day's names the old day's file.
    let old_day = read_text(&dir.path().join("audit-2026-12-03.jsonl"));
    let new_day = read_text(&dir.path().join("audit-2026-12-04.jsonl"));
    assert_eq!(old_day.lines().count(), 1 + 2);
    assert_eq!(new_day.lines().count(), 1 + 1);
    let checkpoint = AuditEvent::from_json(new_day.lines().next().unwrap()).unwrap();
    assert_eq!(checkpoint.event_type, EventType::AuditCheckpoint);
    assert_eq!(checkpoint.details["previous"]["file"], "audit-2026-12-03.jsonl");
    assert_eq!(checkpoint.details["previous"]["lastSeq"], 3);
    assert_eq!(checkpoint.details["previous"]["firstSeq"], 1);
    assert_eq!(checkpoint.details["previous"]["lines"], 3);
    // The span: the file's first line is the sink's checkpoint (the test's clock), its last an
    // event stamped by the system clock when it was made.
    let span = &checkpoint.details["previous"];
    assert_eq!(span["firstTimestamp"], "2026-12-03T23:59:59.998Z");
    assert!(span["lastTimestamp"].is_string(), "{span}");
}

#[test]
fn size_rotation_never_passes_the_limit_and_names_sort_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    let limit = 1_500;
    let logger = builder(dir.path(), &clock).max_file_size_bytes(limit).build().unwrap();
    for idx in 0..300 {
        logger.log(event(idx));
        if idx % 7 == 0 {
            logger.flush().unwrap();
        }
    }
    logger.shutdown().unwrap();

    let names = segment_names(dir.path());
    assert!(names.len() > 10, "{names:?}");
    for name in &names {
        let size = fs::metadata(dir.path().join(name)).unwrap().len();
        assert!(size <= limit, "{name} has {size} bytes");
    }
    // Time order of the names is the order of the events.
    let indices: Vec<u64> =
        all_events(dir.path()).iter().map(|e| e.details["idx"].as_u64().unwrap()).collect();
    assert_eq!(indices, (0..300).collect::<Vec<u64>>());
    assert_eq!(names.last().unwrap(), "audit-2026-12-03.jsonl");
    assert_eq!(names[0], "audit-2026-12-03.000001.jsonl");
}

#[test]
fn rotations_in_one_millisecond_across_restarts_and_a_clock_stepping_back_never_collide() {
    let dir = tempfile::tempdir().unwrap();
    // The clock never moves: every rotation happens in the same millisecond.
    let clock = clock(NOON);
    for round in 0..3 {
        let logger = builder(dir.path(), &clock).max_file_size_bytes(400).build().unwrap();
        for idx in 0..20 {
            logger.log(event(round * 100 + idx));
        }
        logger.shutdown().unwrap();
    }
    // Back to the previous day, then forward again.
    clock.set(at("2026-12-02T23:00:00.000Z"));
    let logger = builder(dir.path(), &clock).max_file_size_bytes(400).build().unwrap();
    for idx in 0..10 {
        logger.log(event(1_000 + idx));
    }
    logger.flush().unwrap();
    clock.set(at(NOON));
    for idx in 0..10 {
        logger.log(event(2_000 + idx));
    }
    logger.shutdown().unwrap();

    let events = all_events(dir.path());
    assert_eq!(events.len(), 80, "nothing overwritten");
    let names = segment_names(dir.path());
    let today: Vec<&String> = names.iter().filter(|name| name.contains("2026-12-03")).collect();
    let sequences: Vec<u32> =
        today.iter().filter_map(|n| SegmentName::parse(n)?.sequence).collect();
    let expected: Vec<u32> = (1..=sequences.len() as u32).collect();
    assert_eq!(sequences, expected, "sequences are dense and unique: {names:?}");
    // The writer stayed in the later day: its file names are still in chain order.
    assert!(!names.iter().any(|name| name.starts_with("audit-2026-12-02")), "{names:?}");
    let report = audit_sink::verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
}

fn touch(dir: &Path, name: &str, bytes: usize) {
    fs::write(dir.join(name), "{}\n".repeat(bytes / 3)).unwrap();
}

#[test]
fn retention_keeps_the_newest_rotated_files_and_never_foreign_ones_nor_one_too_many() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = [
        "notes.txt",
        "audit-2026-11-01-1764720000000.jsonl",
        "audit-2026-11-01T10-15-30-123Z.jsonl",
        "audit-2026-11-01.jsonl.bak",
    ];
    for name in foreign {
        touch(dir.path(), name, 30);
    }
    for name in [
        "audit-2026-11-30.jsonl.gz",
        "audit-2026-12-01.000001.jsonl",
        "audit-2026-12-01.jsonl",
        "audit-2026-12-02.000001.jsonl.gz",
        "audit-2026-12-02.jsonl",
        "audit-2026-12-03.000001.jsonl",
    ] {
        touch(dir.path(), name, 30);
    }
    let clock = clock(NOON);
    let keep_three = Retention { max_files: 3, ..Retention::default() };
    let logger = builder(dir.path(), &clock).retention(keep_three).build().unwrap();
    logger.shutdown().unwrap();

    let names = segment_names(dir.path());
    assert_eq!(
        names,
        [
            "audit-2026-12-02.000001.jsonl.gz",
            "audit-2026-12-02.jsonl",
            "audit-2026-12-03.000001.jsonl",
            "audit-2026-12-03.jsonl",
        ]
    );
    for name in foreign {
        assert!(dir.path().join(name).exists(), "{name} was deleted");
    }
    let active = read_text(&dir.path().join("audit-2026-12-03.jsonl"));
    let pruned = active
        .lines()
        .map(|line| AuditEvent::from_json(line).unwrap())
        .find(|event| event.event_type != EventType::AuditCheckpoint)
        .unwrap();
    assert_eq!(pruned.event_type, EventType::AuditFilesPruned);
    assert_eq!(
        pruned.details["files"],
        serde_json::json!([
            "audit-2026-11-30.jsonl.gz",
            "audit-2026-12-01.000001.jsonl",
            "audit-2026-12-01.jsonl"
        ])
    );

    // A restart on the same day keeps the same three rotated files: the active file is not
    // one of them.
    let logger = builder(dir.path(), &clock).retention(keep_three).build().unwrap();
    logger.log(event(0));
    logger.shutdown().unwrap();
    assert_eq!(segment_names(dir.path()), names);
}

#[test]
fn retention_by_age_and_total_size_runs_after_rotation_too() {
    let dir = tempfile::tempdir().unwrap();
    touch(dir.path(), "audit-2026-11-20.jsonl", 30);
    let clock = clock(NOON);
    let retention =
        Retention { max_age_days: Some(7), max_total_bytes: Some(2_000), ..Retention::default() };
    let logger =
        builder(dir.path(), &clock).retention(retention).max_file_size_bytes(600).build().unwrap();
    for idx in 0..100 {
        logger.log(event(idx));
        logger.flush().unwrap();
    }
    logger.shutdown().unwrap();

    let names = segment_names(dir.path());
    assert!(!names.contains(&"audit-2026-11-20.jsonl".to_owned()), "too old: {names:?}");
    let rotated_bytes: u64 = names[..names.len() - 1]
        .iter()
        .map(|name| fs::metadata(dir.path().join(name)).unwrap().len())
        .sum();
    assert!(rotated_bytes <= 2_000, "{rotated_bytes} bytes kept");
    let pruned_records = of_type(&all_events(dir.path()), EventType::AuditFilesPruned).len();
    assert!(pruned_records >= 1);
}

#[test]
fn rotated_files_are_gzipped_and_read_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    let logger = builder(dir.path(), &clock)
        .max_file_size_bytes(2_000)
        .compress_rotated(true)
        .build()
        .unwrap();
    for idx in 0..200 {
        logger.log(event(idx));
        if idx % 10 == 0 {
            logger.flush().unwrap();
        }
    }
    logger.shutdown().unwrap();

    let names = segment_names(dir.path());
    let (active, rotated) = names.split_last().unwrap();
    assert_eq!(active, "audit-2026-12-03.jsonl");
    assert!(rotated.len() > 3 && rotated.iter().all(|name| name.ends_with(".jsonl.gz")));
    let indices: Vec<u64> =
        all_events(dir.path()).iter().map(|e| e.details["idx"].as_u64().unwrap()).collect();
    assert_eq!(indices, (0..200).collect::<Vec<u64>>());
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_crash_during_compression_leaves_whole_files_that_start_up_completes() {
    let dir = tempfile::tempdir().unwrap();
    let original = "{\"a\":1}\n".repeat(50);
    // Crashed after renaming the .gz into place, before removing the original.
    fs::write(dir.path().join("audit-2026-12-03.000001.jsonl"), &original).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(original.as_bytes()).unwrap();
    fs::write(dir.path().join("audit-2026-12-03.000001.jsonl.gz"), gz.finish().unwrap()).unwrap();
    // Crashed while writing the temporary file: the original is whole, the temp is garbage.
    fs::write(dir.path().join("audit-2026-12-03.000002.jsonl"), &original).unwrap();
    let dead_temp = ".audit-2026-12-03.000002.jsonl.gz.999999999.tmp";
    fs::write(dir.path().join(dead_temp), b"\x1f\x8b half").unwrap();

    let clock = clock(NOON);
    let logger = builder(dir.path(), &clock).compress_rotated(true).build().unwrap();
    logger.shutdown().unwrap();

    assert_eq!(
        segment_names(dir.path()),
        [
            "audit-2026-12-03.000001.jsonl.gz",
            "audit-2026-12-03.000002.jsonl.gz",
            "audit-2026-12-03.jsonl"
        ]
    );
    assert!(!dir.path().join(dead_temp).exists());
    for name in ["audit-2026-12-03.000001.jsonl.gz", "audit-2026-12-03.000002.jsonl.gz"] {
        assert_eq!(read_text(&dir.path().join(name)), original, "{name}");
    }
}

#[test]
fn a_torn_last_line_is_terminated_before_appending() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("audit-2026-12-03.jsonl");
    let whole = event(0).at(at(NOON)).to_json_line();
    fs::write(&active, format!("{whole}\n{{\"timestamp\":\"2026-12-03T11:")).unwrap();
    let clock = clock(NOON);
    let logger = builder(dir.path(), &clock).build().unwrap();
    logger.log(event(1));
    logger.shutdown().unwrap();

    let text = read_text(&active);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1], "{\"timestamp\":\"2026-12-03T11:", "the torn line stays recognisable");
    // The file held no chained line: the writer's first line says how many are not its own.
    let adopted = AuditEvent::from_json(lines[2]).unwrap();
    assert_eq!(adopted.event_type, EventType::AuditCheckpoint);
    assert_eq!(adopted.details["reason"], "adopted");
    assert_eq!(adopted.details["foreignLines"], 2);
    assert_eq!(AuditEvent::from_json(lines[3]).unwrap().details["idx"], 1);
}

#[test]
fn several_loggers_on_one_directory_interleave_no_lines_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    std::thread::scope(|scope| {
        for writer_idx in 0..4 {
            let (dir, clock) = (dir.path(), &clock);
            scope.spawn(move || {
                let logger = builder(dir, clock).max_file_size_bytes(3_000).build().unwrap();
                for idx in 0..500 {
                    logger.log(event(writer_idx * 10_000 + idx));
                    if idx % 25 == 0 {
                        logger.flush().unwrap();
                    }
                }
                logger.shutdown().unwrap();
            });
        }
    });
    let events = all_events(dir.path());
    assert_eq!(events.len(), 2_000);
    for name in segment_names(dir.path()) {
        assert!(fs::metadata(dir.path().join(&name)).unwrap().len() <= 3_000, "{name}");
    }
    // Four writers, one chain: it verifies whole.
    let report = audit_sink::verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), audit_sink::Verdict::Intact, "{report:#?}");
}

#[test]
fn several_processes_recording_into_one_directory_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..3)
        .map(|child_idx| {
            let mut child = tests::ncp_audit()
                .args(["record", "--dir"])
                .arg(dir.path())
                .args(["--max-file-size-bytes", "4000", "--max-files", "0"])
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut input = String::new();
            for idx in 0..400 {
                input.push_str(&event(child_idx * 10_000 + idx).to_json_line());
                input.push('\n');
            }
            let mut stdin = child.stdin.take().unwrap();
            std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
            child
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let events = all_events(dir.path());
    assert_eq!(events.len(), 1_200);
    for name in segment_names(dir.path()) {
        assert!(fs::metadata(dir.path().join(&name)).unwrap().len() <= 4_000, "{name}");
    }
    let report = audit_sink::verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), audit_sink::Verdict::Intact, "{report:#?}");
}

#[test]
fn sampling_leaves_out_only_routine_types_and_declares_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let logger = AuditLogger::builder()
        .dir(dir.path())
        .sample_rate(EventType::BindingAccessed, 0.25)
        .sample_rate(EventType::SecurityViolation, 0.0)
        .build()
        .unwrap();
    for idx in 0..1_000 {
        logger.log(event(idx));
    }
    for _ in 0..50 {
        logger.log(AuditEvent::security_violation("eval", "eval(x)"));
    }
    let status = logger.shutdown().unwrap();

    let events = all_events(dir.path());
    let kept = of_type(&events, EventType::BindingAccessed).len() as u64;
    let sampled = of_type(&events, EventType::AuditEventsSampled);
    assert_eq!(of_type(&events, EventType::SecurityViolation).len(), 50, "never sampled");
    let declared: u64 = sampled.iter().map(|record| detail_count(record)).sum();
    assert_eq!(kept + declared, 1_000);
    assert!((150..350).contains(&kept), "about a quarter kept: {kept}");
    assert_eq!(sampled[0].details["eventType"], "binding_accessed");
    assert_eq!(status.sampled, declared);
    assert_eq!(status.logged, status.written + status.sampled);
}

#[test]
fn bad_sample_rates_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = AuditLogger::builder()
        .dir(dir.path())
        .sample_rate(EventType::BindingAccessed, 1.5)
        .build()
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "sample rate for binding_accessed: 1.5 is not between 0.0 and 1.0"
    );
}

/// A sink in memory that fails while told to, can be made slow, and can hold a limited
/// number of lines (writing what fits of a batch, like a disk filling up).
#[derive(Clone, Default)]
struct TestSink {
    lines: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<bool>>,
    delay: Duration,
    /// Lines that still fit; `None`: no limit.
    room: Arc<Mutex<Option<usize>>>,
}

impl Sink for TestSink {
    fn write_batch(&mut self, batch: &RedactedBatch) -> Result<(), BatchError> {
        std::thread::sleep(self.delay);
        if *self.failing.lock().unwrap() {
            return Err(SinkError::Other("injected fault".into()).into());
        }
        let mut room = self.room.lock().unwrap();
        let fitting = room.map_or(batch.len(), |room| room.min(batch.len()));
        let mut lines = self.lines.lock().unwrap();
        lines.extend((0..fitting).map(|idx| String::from_utf8(batch.line(idx).to_vec()).unwrap()));
        if let Some(room) = room.as_mut() {
            *room -= fitting;
        }
        if fitting < batch.len() {
            let source = SinkError::Other("full".into());
            return Err(BatchError { written: fitting, source });
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    fn close(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

impl TestSink {
    fn events(&self) -> Vec<AuditEvent> {
        let lines = self.lines.lock().unwrap();
        lines.iter().map(|line| AuditEvent::from_json(line).unwrap()).collect()
    }
}

#[test]
fn drops_under_backpressure_are_counted_and_declared() {
    let sink = TestSink { delay: Duration::from_millis(2), ..TestSink::default() };
    let logger = AuditLogger::builder()
        .sink(Box::new(sink.clone()))
        .backpressure(Backpressure::Drop)
        .queue_budget_bytes(4_096)
        .build()
        .unwrap();
    for idx in 0..5_000 {
        logger.log(event(idx));
    }
    let status = logger.shutdown().unwrap();

    let events = sink.events();
    let written = of_type(&events, EventType::BindingAccessed).len() as u64;
    let declared: u64 =
        of_type(&events, EventType::AuditEventsLost).iter().map(|r| detail_count(r)).sum();
    assert!(status.dropped > 0, "the budget is far too small to hold 5000 events");
    assert_eq!(written + declared, 5_000);
    assert_eq!((status.written, status.dropped), (written, declared));
}

#[test]
fn blocking_backpressure_loses_nothing_with_a_tiny_budget() {
    let sink = TestSink { delay: Duration::from_micros(200), ..TestSink::default() };
    let logger = AuditLogger::builder()
        .sink(Box::new(sink.clone()))
        .queue_budget_bytes(2_048)
        .build()
        .unwrap();
    for idx in 0..2_000 {
        logger.log(event(idx));
    }
    let status = logger.shutdown().unwrap();
    assert_eq!((status.logged, status.written, status.dropped), (2_000, 2_000, 0));
    assert_eq!(sink.events().len(), 2_000);
}

/// Logs `n_per_thread` events from each of two threads, the `seq`th of thread `thread` made
/// by `make(thread, seq)`.
fn log_from_two_threads(
    logger: &AuditLogger,
    n_per_thread: u64,
    make: impl Fn(u64, u64) -> AuditEvent + Sync,
) {
    std::thread::scope(|scope| {
        for thread in 0..2 {
            let make = &make;
            scope.spawn(move || {
                for seq in 0..n_per_thread {
                    logger.log(make(thread, seq));
                }
            });
        }
    });
}

/// Asserts that `(thread, seq)` pairs, in the order they were written, hold each of two
/// threads' `0..n_per_thread` whole and in order.
fn assert_each_thread_in_order(pairs: &[(u64, u64)], n_per_thread: u64) {
    for thread in 0..2 {
        let seqs: Vec<u64> =
            pairs.iter().filter(|(of, _)| *of == thread).map(|(_, seq)| *seq).collect();
        let expected: Vec<u64> = (0..n_per_thread).collect();
        assert_eq!(seqs, expected, "thread {thread} lost or reordered events");
    }
}

#[test]
fn threads_outrunning_a_busy_writer_render_their_own_events_in_order_and_redacted() {
    // A slow sink keeps the writer busy, and the budget holds a few dozen events: the threads
    // run out of budget while the writer is awake, and take over rendering.
    let sink = TestSink { delay: Duration::from_millis(3), ..TestSink::default() };
    let logger = AuditLogger::builder()
        .sink(Box::new(sink.clone()))
        .queue_budget_bytes(32 * 1024)
        .build()
        .unwrap();
    let secret = "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s";
    log_from_two_threads(&logger, 3_000, |thread, seq| {
        event((thread * 100_000 + seq) as usize)
            .with_detail("note", format!("pushed with {secret}"))
    });
    let status = logger.shutdown().unwrap();
    assert_eq!((status.logged, status.written), (6_000, 6_000));
    assert!(status.rendered_by_callers > 0, "{status:?}");
    let lines = sink.lines.lock().unwrap().clone();
    assert!(lines.iter().all(|line| !line.contains(secret)), "a secret reached the sink");
    assert_each_thread_in_order(&thread_and_seq(&sink.events()), 3_000);
}

/// The `(thread, seq)` of each binding event in `events`, from the `idx` that
/// [`log_from_two_threads`]'s callers give as `thread * 100_000 + seq`.
fn thread_and_seq(events: &[AuditEvent]) -> Vec<(u64, u64)> {
    let binding_calls = events.iter().filter(|e| e.event_type == EventType::BindingAccessed);
    let idx = binding_calls.map(|event| event.details["idx"].as_u64().unwrap());
    idx.map(|idx| (idx / 100_000, idx % 100_000)).collect()
}

#[test]
fn files_written_from_lines_the_threads_rendered_rotate_and_verify_intact() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    // A budget of a few events, and group commit to keep the writer busy syncing: the
    // threads run out of budget while it works, and render their own events.
    let logger = builder(dir.path(), &clock)
        .durability(Durability::GroupCommit)
        .max_file_size_bytes(64 * 1024)
        .queue_budget_bytes(4 * 1024)
        .build()
        .unwrap();
    log_from_two_threads(&logger, 4_000, |thread, seq| event((thread * 100_000 + seq) as usize));
    let status = logger.shutdown().unwrap();
    assert_eq!(status.written, 8_000);
    assert!(status.rendered_by_callers > 0, "{status:?}");
    assert_each_thread_in_order(&thread_and_seq(&all_events(dir.path())), 4_000);
    assert!(segment_names(dir.path()).len() > 5);
    let report = audit_sink::verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
}

#[test]
fn a_thread_that_goes_quiet_while_rendering_its_own_events_has_them_all_written() {
    let sink = TestSink { delay: Duration::from_millis(3), ..TestSink::default() };
    let logger = AuditLogger::builder()
        .sink(Box::new(sink.clone()))
        .queue_budget_bytes(32 * 1024)
        .flush_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    // An odd count leaves a few events the thread has not rendered when it stops.
    let n_events = 2_017;
    for idx in 0..n_events {
        logger.log(event(idx));
    }
    assert!(logger.status().rendered_by_callers > 0);
    // No flush: the writer must take the leftovers on its own once the thread stays quiet.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sink.lines.lock().unwrap().len() < n_events && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sink.lines.lock().unwrap().len(), n_events);
    let idx: Vec<u64> =
        sink.events().iter().map(|event| event.details["idx"].as_u64().unwrap()).collect();
    assert_eq!(idx, (0..n_events as u64).collect::<Vec<_>>());
    logger.shutdown().unwrap();
}

#[test]
fn a_thread_that_never_runs_out_of_budget_renders_nothing() {
    let sink = TestSink::default();
    let logger = AuditLogger::builder().sink(Box::new(sink.clone())).build().unwrap();
    for idx in 0..5_000 {
        logger.log(event(idx));
        if idx % 100 == 99 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let status = logger.shutdown().unwrap();
    assert_eq!((status.written, status.rendered_by_callers), (5_000, 0));
}

#[test]
fn a_failing_sink_is_reported_in_the_status_and_its_losses_declared_once_it_recovers() {
    let sink = TestSink::default();
    let logger = AuditLogger::builder().sink(Box::new(sink.clone())).build().unwrap();
    for idx in 0..10 {
        logger.log(event(idx));
    }
    logger.flush().unwrap();

    *sink.failing.lock().unwrap() = true;
    for idx in 10..30 {
        logger.log(event(idx));
    }
    let error = logger.flush().unwrap_err();
    assert!(matches!(error, LoggerError::Unhealthy { .. }), "{error}");
    let status = logger.status();
    assert!(!status.healthy);
    assert_eq!(status.last_error.as_deref(), Some("injected fault"));
    assert_eq!(status.lost, 20);

    *sink.failing.lock().unwrap() = false;
    for idx in 30..35 {
        logger.log(event(idx));
    }
    logger.flush().unwrap();
    let status = logger.shutdown().unwrap();
    assert!(status.healthy);

    let events = sink.events();
    let written = of_type(&events, EventType::BindingAccessed).len() as u64;
    let lost = of_type(&events, EventType::AuditEventsLost);
    assert_eq!(lost.len(), 1);
    assert_eq!(detail_count(lost[0]), 20);
    assert_eq!(lost[0].details["reason"], "write failed: injected fault");
    assert_eq!(written + detail_count(lost[0]), 35);
    assert_eq!((status.logged, status.written, status.lost), (35, 15, 20));
}

/// A batch that fits only in part is written in part: what is in counts as written, only the
/// rest as lost, and the loss is declared once there is room again.
#[test]
fn a_batch_written_in_part_counts_each_event_once() {
    let sink = TestSink { room: Arc::new(Mutex::new(Some(25))), ..TestSink::default() };
    let logger = AuditLogger::builder().sink(Box::new(sink.clone())).build().unwrap();
    for idx in 0..40 {
        logger.log(event(idx));
    }
    assert!(logger.flush().is_err());
    let status = logger.status();
    assert_eq!((status.written, status.lost), (25, 15), "{status:?}");

    *sink.room.lock().unwrap() = None;
    for idx in 40..45 {
        logger.log(event(idx));
    }
    logger.flush().unwrap();
    let status = logger.shutdown().unwrap();
    assert_eq!((status.logged, status.written, status.lost), (45, 30, 15));

    let events = sink.events();
    let written: Vec<u64> = of_type(&events, EventType::BindingAccessed)
        .iter()
        .map(|event| event.details["idx"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (0..25).chain(40..45).collect();
    assert_eq!(written, expected, "no event twice, none missing but the declared ones");
    let lost = of_type(&events, EventType::AuditEventsLost);
    assert_eq!(lost.len(), 1);
    assert_eq!(detail_count(lost[0]), 15);
}

#[test]
fn a_removed_directory_or_replaced_file_is_recreated_without_loss() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("audit");
    let clock = clock(NOON);
    let logger = builder(&dir, &clock).build().unwrap();
    logger.log(event(0));
    logger.flush().unwrap();

    fs::remove_dir_all(&dir).unwrap();
    logger.log(event(1));
    logger.flush().unwrap();
    assert_eq!(all_events(&dir).len(), 1, "the directory and file came back");

    let active = dir.join("audit-2026-12-03.jsonl");
    fs::rename(&active, dir.join("moved-away.jsonl")).unwrap();
    logger.log(event(2));
    logger.flush().unwrap();
    let status = logger.shutdown().unwrap();
    assert_eq!(all_events(&dir).len(), 1);
    assert_eq!((status.written, status.lost), (3, 0));
    assert!(status.healthy);
}

#[test]
fn a_full_disk_is_survived_and_its_losses_declared() {
    on_small_tmpfs(full_disk_scenario);
}

#[test]
fn a_filling_disk_takes_what_fits_and_declares_the_rest() {
    on_small_tmpfs(filling_disk_scenario);
}

/// Runs `scenario` on a fresh 64 KiB tmpfs, or says it is skipped where mounting needs a root
/// this process is not.
fn on_small_tmpfs(scenario: fn(&Path)) {
    let parent = tempfile::tempdir().unwrap();
    let mount_point = parent.path().join("tmpfs");
    fs::create_dir(&mount_point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mount_point)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        eprintln!("skipped: mounting a tmpfs needs root; the fault-injecting sink covers faults");
        return;
    }
    let outcome = std::panic::catch_unwind(|| scenario(&mount_point));
    let _ = std::process::Command::new("umount").arg(&mount_point).status();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Far more than the disk holds, in one batch: the lines that fit are written whole, the file
/// keeps room for the record declaring the rest, and every event is either in the file or
/// declared, once.
fn filling_disk_scenario(mount_point: &Path) {
    let dir = mount_point.join("audit");
    let clock = clock(NOON);
    let logger = builder(&dir, &clock).build().unwrap();
    let padding = "p".repeat(1000);
    for idx in 0..200 {
        logger.log(event(idx).with_detail("padding", padding.as_str()));
    }
    assert!(logger.flush().is_err(), "200 KB cannot fit in 64 KiB");
    let status = logger.status();
    assert_eq!(status.written + status.lost, 200, "{status:?}");
    // Nothing is left to write, so the last cycle succeeds.
    logger.shutdown().unwrap();

    let text = fs::read_to_string(dir.join("audit-2026-12-03.jsonl")).unwrap();
    assert!(text.ends_with('\n'), "no line is torn");
    let events: Vec<AuditEvent> =
        text.lines().map(|line| AuditEvent::from_json(line).unwrap()).collect();
    let written = of_type(&events, EventType::BindingAccessed);
    let lost = of_type(&events, EventType::AuditEventsLost);
    assert!(written.len() > 20, "what fit was written: {}", written.len());
    // One record per failed batch (the writer may have drained the 200 in more than one),
    // each in the room kept for it.
    let declared: u64 = lost.iter().map(|record| detail_count(record)).sum();
    assert!(!lost.is_empty());
    assert_eq!(written.len() as u64 + declared, 200);
    assert_eq!((written.len() as u64, declared), (status.written, status.lost));
    let first_lost = written.len() as u64;
    assert_eq!(written.last().unwrap().details["idx"], first_lost - 1);
    // The lines cut back never entered the chain.
    let report = audit_sink::verify_dir(&dir, |_| {}).unwrap();
    assert_eq!(report.verdict(), audit_sink::Verdict::Intact, "{report:#?}");
}

fn full_disk_scenario(mount_point: &Path) {
    let dir = mount_point.join("audit");
    let clock = clock(NOON);
    let logger = builder(&dir, &clock).build().unwrap();
    let filler = mount_point.join("filler");
    let mut file = fs::File::create(&filler).unwrap();
    let chunk = vec![b'x'; 4096];
    while file.write_all(&chunk).is_ok() {}
    drop(file);

    for idx in 0..50 {
        logger.log(event(idx));
    }
    assert!(logger.flush().is_err());
    let status = logger.status();
    assert!(!status.healthy && status.lost == 50, "{status:?}");
    assert!(status.last_error.unwrap().contains("No space left"));

    fs::remove_file(&filler).unwrap();
    for idx in 50..60 {
        logger.log(event(idx));
    }
    logger.flush().unwrap();
    let status = logger.shutdown().unwrap();
    let events = all_events(&dir);
    let lost = of_type(&events, EventType::AuditEventsLost);
    assert_eq!(lost.iter().map(|r| detail_count(r)).sum::<u64>(), 50);
    assert_eq!(of_type(&events, EventType::BindingAccessed).len(), 10);
    assert_eq!((status.written, status.lost), (10, 50));
}

#[test]
fn tokio_users_await_flush_and_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let logger = AuditLogger::builder().dir(dir.path()).build().unwrap();
    let status = runtime.block_on(async move {
        logger.log(event(0));
        logger.flush_async().await.unwrap();
        assert_eq!(logger.status().written, 1);
        logger.log(event(1));
        logger.shutdown_async().await.unwrap()
    });
    assert_eq!(status.written, 2);
    assert_eq!(all_events(dir.path()).len(), 2);
}

#[test]
fn a_config_builds_the_logger() {
    let dir = tempfile::tempdir().unwrap();
    let config = audit_config::AuditConfig {
        enabled: true,
        dir: dir.path().to_path_buf(),
        max_file_size_bytes: 0,
        max_files: 5,
        include_code_snippets: true,
        redact_sensitive_data: true,
        compress_rotated: false,
        max_age_days: None,
        max_total_bytes: None,
        flush_interval_ms: 10,
        durability: Durability::Sync,
        backpressure: Backpressure::Block,
        queue_budget_bytes: 1 << 20,
        sample_rates: BTreeMap::from([("no_such_type".to_owned(), 0.5)]),
    };
    let error = AuditLogger::from_config(&config).unwrap_err();
    assert_eq!(error.to_string(), "sample rate for \"no_such_type\": not an event type");

    let config = audit_config::AuditConfig { sample_rates: BTreeMap::new(), ..config };
    let logger = AuditLogger::from_config(&config).unwrap();
    logger.log(event(0));
    logger.shutdown().unwrap();
    assert_eq!(all_events(dir.path()).len(), 1);

    let disabled = audit_config::AuditConfig { enabled: false, ..config };
    let logger = AuditLogger::from_config(&disabled).unwrap();
    logger.log(event(1));
    logger.shutdown().unwrap();
    assert_eq!(all_events(dir.path()).len(), 1, "a disabled logger writes nothing");
}

#[test]
fn record_writes_valid_lines_and_rejects_invalid_ones_by_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let valid = event(7).to_json_line();
    let input = format!(
        "{valid}\n{{\"timestamp\":\"yesterday\"}}\n\n{valid}\nnot json\n{}\n",
        valid.replace("\"info\"", "\"loud\"")
    );
    let mut child = tests::ncp_audit()
        .args(["record", "--dir"])
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    stdin.write_all(b"\xff\xfe not utf-8\n").unwrap();
    stdin.write_all(valid.as_bytes()).unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stdin:2: rejected: "), "{stderr}");
    assert!(stderr.contains("stdin:5: rejected: "), "{stderr}");
    assert!(stderr.contains("stdin:6: rejected: severity: unknown severity \"loud\""), "{stderr}");
    assert!(!stderr.contains("stdin:3:"), "a blank line is skipped: {stderr}");
    assert!(stderr.contains("stdin:7: rejected: not UTF-8"), "{stderr}");
    assert!(stderr.contains("3 accepted, 4 rejected, 3 written"), "{stderr}");
    assert_eq!(all_events(dir.path()).len(), 3, "the last line, without newline, counts too");
}

#[test]
fn record_exits_0_when_every_line_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tests::ncp_audit()
        .args(["record", "--dir"])
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("{}\n{}\n", event(1).to_json_line(), event(2).to_json_line());
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(all_events(dir.path()).len(), 2);
}

#[test]
fn demo_writes_a_session_and_shows_the_operator_view() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("demo-audit");
    let output = tests::ncp_audit().args(["demo", "--dir"]).arg(&dir).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();

    let events = all_events(&dir);
    assert_eq!(events.len(), 22, "{stdout}");
    for section in ["Files", "By severity", "Denied, blocked and critical", "Secrets"] {
        assert!(stdout.contains(section), "{section} missing: {stdout}");
    }
    assert!(stdout.contains("network_request_denied        warning   blocked"), "{stdout}");
    assert!(stdout.contains("security_violation            critical  blocked"), "{stdout}");
    // Whatever the redactor catches, the exit status and the report agree about leaks.
    let leaked = stdout.contains("LEAKED");
    assert_eq!(output.status.code(), Some(if leaked { 1 } else { 0 }), "{stdout}");
}

#[test]
fn a_clock_stepping_back_across_midnight_stays_in_the_later_day_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock("2026-12-02T12:00:00.000Z");
    let logger = builder(dir.path(), &clock).compress_rotated(true).build().unwrap();
    logger.log(event(1));
    logger.flush().unwrap();
    clock.set(at(NOON));
    logger.log(event(2));
    logger.flush().unwrap();
    // Back into 12-02, whose file was compressed at midnight, then forward again.
    clock.set(at("2026-12-02T23:59:00.000Z"));
    logger.log(event(3));
    logger.flush().unwrap();
    clock.set(at(NOON));
    logger.log(event(4));
    logger.shutdown().unwrap();
    // A writer that starts with its clock behind the newest file joins that file too.
    clock.set(at("2026-12-02T23:59:30.000Z"));
    let logger = builder(dir.path(), &clock).compress_rotated(true).build().unwrap();
    logger.log(event(5));
    logger.shutdown().unwrap();

    // Nothing went back into 12-02: the file of each event is the newest day at its write.
    let names = segment_names(dir.path());
    assert_eq!(names, ["audit-2026-12-02.jsonl.gz", "audit-2026-12-03.jsonl"], "{names:?}");
    let in_later_day = all_events_of(&dir.path().join("audit-2026-12-03.jsonl"));
    assert_eq!(in_later_day, [2, 3, 4, 5]);
    let report = audit_sink::verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
}

/// The `idx` of each binding event in the plain file at `path`, in file order.
fn all_events_of(path: &Path) -> Vec<u64> {
    read_text(path)
        .lines()
        .map(|line| AuditEvent::from_json(line).unwrap())
        .filter(|event| event.event_type == EventType::BindingAccessed)
        .map(|event| event.details["idx"].as_u64().unwrap())
        .collect()
}

#[test]
fn after_kill_9_every_line_but_a_torn_last_one_is_whole_and_the_next_writer_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tests::ncp_audit()
        .args(["record", "--dir"])
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let line = format!("{}\n", event(0).with_detail("padding", "x".repeat(2_000)).to_json_line());
    let started = std::time::Instant::now();
    // Feed until the writer has put something on disk, then kill it mid-stream.
    while all_events_lenient(dir.path()).0 == 0 && started.elapsed() < Duration::from_secs(20) {
        for _ in 0..200 {
            stdin.write_all(line.as_bytes()).unwrap();
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);

    let (n_whole, torn) = all_events_lenient(dir.path());
    assert!(n_whole > 0 && torn <= 1, "{n_whole} whole lines, {torn} torn");
    // A torn line, if any, lacks its newline; the next writer terminates it and appends after.
    let mut recorder = tests::ncp_audit()
        .args(["record", "--dir"])
        .arg(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let fresh = format!("{}\n", event(1).to_json_line());
    recorder.stdin.take().unwrap().write_all(fresh.as_bytes()).unwrap();
    assert!(recorder.wait().unwrap().success());
    let (n_after, torn_after) = all_events_lenient(dir.path());
    assert_eq!(n_after, n_whole + 1);
    assert_eq!(torn_after, torn, "the torn line is kept, on a line of its own");
}

/// Whole valid lines and unparseable lines in `dir`, allowing a last line without newline.
fn all_events_lenient(dir: &Path) -> (usize, usize) {
    let (mut whole, mut torn) = (0, 0);
    for name in segment_names(dir) {
        for line in read_text(&dir.join(name)).lines() {
            match AuditEvent::from_json(line) {
                Ok(_) => whole += 1,
                Err(_) => torn += 1,
            }
        }
    }
    (whole, torn)
}

#[test]
fn budget_held_by_quiet_threads_comes_back_to_a_busy_one() {
    let sink = TestSink::default();
    let logger = AuditLogger::builder()
        .sink(Box::new(sink.clone()))
        .queue_budget_bytes(16 * 1024)
        .flush_interval(Duration::from_secs(3_600))
        .build()
        .unwrap();
    let quiet_done = std::sync::Barrier::new(65);
    let (finished, busy_done) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for idx in 0..64 {
            let (logger, quiet_done) = (&logger, &quiet_done);
            // Each quiet thread logs once, keeping a chunk of budget as credit, and stays
            // alive until the busy thread is through.
            scope.spawn(move || {
                logger.log(event(idx));
                quiet_done.wait();
            });
        }
        let logger = &logger;
        scope.spawn(move || {
            for idx in 0..1_000 {
                logger.log(event(1_000 + idx));
            }
            finished.send(()).unwrap();
        });
        let outcome = busy_done.recv_timeout(Duration::from_secs(20));
        quiet_done.wait();
        assert!(outcome.is_ok(), "the busy thread starved");
    });
    let status = logger.shutdown().unwrap();
    assert_eq!((status.logged, status.written), (1_064, 1_064));
}

#[test]
fn a_failed_compression_shows_in_the_status_and_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let original = format!("{}\n", event(0).to_json_line());
    fs::write(dir.path().join("audit-2026-12-02.jsonl"), &original).unwrap();
    // A directory where the compressor wants its temporary file makes the compression fail.
    let temp = format!(".audit-2026-12-02.jsonl.gz.{}.tmp", std::process::id());
    fs::create_dir(dir.path().join(&temp)).unwrap();

    let clock = clock(NOON);
    let logger = builder(dir.path(), &clock).compress_rotated(true).build().unwrap();
    logger.log(event(1));
    let status = logger.shutdown().unwrap();
    let error = status.background_error.expect("the compression error is reported");
    assert!(error.contains("audit-2026-12-02.jsonl.gz"), "{error}");
    assert!(status.healthy, "a background failure loses nothing");
    assert_eq!(read_text(&dir.path().join("audit-2026-12-02.jsonl")), original);
}

/// Runs `ncp-audit record` into `dir` with `input` on stdin and the given extra variables;
/// returns the exit code and stderr.
fn record(dir: &Path, input: &str, vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let ncp_home = dir.join("ncp-home");
    let mut child = tests::ncp_audit()
        .args(["record", "--dir"])
        .arg(dir.join("audit"))
        .env("NCP_HOME", &ncp_home)
        .envs(vars.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (output.status.code(), String::from_utf8(output.stderr).unwrap())
}

/// Events stamped long before they are recorded (a backfill) are written as given, with a
/// note that time-range queries need `--unordered` for them.
#[test]
fn record_notes_backfilled_events() {
    let dir = tempfile::tempdir().unwrap();
    let old = event(1).at(at("2025-11-19T10:15:30.456Z")).to_json_line();
    let input = format!("{old}\n{}\n", event(2).to_json_line());
    let (code, stderr) = record(dir.path(), &input, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("note: 1 of the events were stamped more than a minute away"),
        "{stderr}"
    );
    assert_eq!(all_events(&dir.path().join("audit")).len(), 2);
}

/// With auditing turned off, `record` would take every line and write none: it refuses,
/// naming what turned it off, instead of exiting 0.
#[test]
fn record_refuses_to_run_with_auditing_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let input = format!("{}\n", event(1).to_json_line());
    let (code, stderr) = record(dir.path(), &input, &[("NCP_AUDIT_ENABLED", "off")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("auditing is disabled (environment variable NCP_AUDIT_ENABLED)"),
        "{stderr}"
    );
}

/// A rejected line's message may name one of its keys: it reaches stderr (and the logs that
/// keep it) redacted and with its control characters escaped.
#[test]
fn rejection_messages_neither_leak_secrets_nor_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let line = event(1).to_json_line();
    let input = format!(
        "{}\n{}\n",
        line.replacen("\"context\":{", &format!("\"context\":{{\"{secret}\":\"x\","), 1),
        line.replacen("\"context\":{", "\"context\":{\"\\u001b]0;owned\\u0007\":\"x\",", 1),
    );
    let (code, stderr) = record(dir.path(), &input, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(stderr.contains("stdin:1: rejected: context.<redacted>: unknown field"), "{stderr}");
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\u{7}'), "{stderr:?}");
    assert!(stderr.contains("stdin:2: rejected: context.\\u001b]0;owned\\u0007: unknown"));
}

#[test]
fn record_refuses_the_audit_systems_own_record_types() {
    let dir = tempfile::tempdir().unwrap();
    let forged = AuditEvent::new(EventType::AuditFilesPruned, Default::default()).to_json_line();
    let input = format!("\u{feff}{}\r\n\n   \n{forged}\n", event(1).to_json_line());
    let (code, stderr) = record(dir.path(), &input, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "stdin:4: rejected: type: audit_files_pruned records are written by the \
                         audit system itself"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("1 accepted, 1 rejected, 1 written"), "{stderr}");
    assert_eq!(all_events(&dir.path().join("audit")).len(), 1);

    // `check` accepts and refuses exactly the same lines.
    let mut child = tests::ncp_audit()
        .arg("check")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 valid, 1 invalid"), "{stderr}");
}

#[test]
fn record_fails_when_accepted_events_were_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let input: String = (0..20_000).map(|idx| event(idx).to_json_line() + "\n").collect();
    let vars = [("NCP_AUDIT_BACKPRESSURE", "drop"), ("NCP_AUDIT_QUEUE_BUDGET_MB", "0.01")];
    let (code, stderr) = record(dir.path(), &input, &vars);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("accepted events were not written"), "{stderr}");
}

#[test]
fn the_writer_never_follows_a_symlink_planted_at_the_active_path() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    let audit = dir.path().join("audit");
    fs::create_dir(&audit).unwrap();
    std::os::unix::fs::symlink(&victim, audit.join("audit-2026-12-03.jsonl")).unwrap();
    let clock = clock(NOON);
    let opened = builder(&audit, &clock).build();
    if let Ok(logger) = opened {
        logger.log(event(1));
        assert!(logger.flush().is_err());
        let status = logger.shutdown().unwrap();
        assert!(!status.healthy);
    }
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// A file sink on `dir` with `clock` and `interval` between interval checkpoints.
fn interval_sink(dir: &Path, clock: &Arc<ManualClock>, interval: Duration) -> FileSink {
    let options = FileSinkOptions {
        clock: Arc::clone(clock) as _,
        checkpoint_interval: interval,
        ..FileSinkOptions::new(dir)
    };
    FileSink::open(options).unwrap()
}

/// Writes one batch of the events numbered `indices`.
fn write_events(sink: &mut FileSink, indices: std::ops::Range<usize>) {
    let redactor = audit_redact::Redactor::default();
    let mut batch = RedactedBatch::new();
    for idx in indices {
        redactor.redact_into(event(idx), &mut batch);
    }
    sink.write_batch(&batch).unwrap();
}

/// The lines of the file `name` in `dir`, parsed.
fn json_lines(dir: &Path, name: &str) -> Vec<serde_json::Value> {
    read_text(&dir.join(name)).lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// The 1-based line numbers of the interval checkpoints in `lines`.
fn interval_checkpoints(lines: &[serde_json::Value]) -> Vec<usize> {
    let is_interval = |line: &serde_json::Value| {
        line["type"] == "audit_checkpoint" && line["details"]["reason"] == "interval"
    };
    lines.iter().enumerate().filter(|(_, line)| is_interval(line)).map(|(at, _)| at + 1).collect()
}

/// Checks that the interval checkpoint at line `line_no` of the file `name` names the line
/// before it as the head and the file's lines before it as its count and span.
fn check_interval_checkpoint(lines: &[serde_json::Value], name: &str, line_no: usize) {
    let details = &lines[line_no - 1]["details"];
    let before = &lines[..line_no - 1];
    let previous = &before.last().unwrap()["chain"];
    // The file's name when it was written: the day file, rotated since or not.
    let day_file = SegmentName::day_file(&SegmentName::parse(name).unwrap().day).to_string();
    assert_eq!(details["file"], day_file.as_str());
    assert_eq!(details["lines"], before.len());
    assert_eq!(details["firstSeq"], before[0]["chain"]["seq"]);
    assert_eq!(details["firstTimestamp"], before[0]["timestamp"]);
    assert_eq!(details["lastTimestamp"], before.last().unwrap()["timestamp"]);
    assert_eq!(details["lastSeq"], previous["seq"]);
    assert_eq!(details["lastHash"], previous["hash"]);
    assert_eq!(lines[line_no - 1]["chain"]["seq"], previous["seq"].as_u64().unwrap() + 1);
}

fn assert_intact(dir: &Path) {
    let report = audit_sink::verify_dir(dir, |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
}

const ACTIVE: &str = "audit-2026-12-03.jsonl";

#[test]
fn interval_checkpoints_come_after_a_batch_once_the_interval_passed_and_name_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    let minute = Duration::from_secs(60);
    let mut sink = interval_sink(dir.path(), &clock, minute);
    write_events(&mut sink, 0..2);
    clock.advance(Duration::from_secs(30));
    write_events(&mut sink, 2..3);
    // A minute after the file's start checkpoint: one after this batch, not between its lines.
    clock.advance(Duration::from_secs(30));
    write_events(&mut sink, 3..5);
    clock.advance(Duration::from_secs(59));
    write_events(&mut sink, 5..6);
    clock.advance(Duration::from_secs(1));
    write_events(&mut sink, 6..7);
    // Time passing with no events writes nothing, nor does a flush or a restart.
    clock.advance(Duration::from_secs(600));
    sink.flush().unwrap();
    sink.close().unwrap();
    drop(sink);
    clock.advance(Duration::from_secs(600));
    let mut sink = interval_sink(dir.path(), &clock, minute);
    let lines = json_lines(dir.path(), ACTIVE);
    assert_eq!(interval_checkpoints(&lines), [7, 10]);
    // A restarted writer counts its interval from its first write, and counts the lines it
    // did not write by reading them back.
    write_events(&mut sink, 7..8);
    clock.advance(minute);
    write_events(&mut sink, 8..10);
    sink.close().unwrap();

    let lines = json_lines(dir.path(), ACTIVE);
    assert_eq!(lines.len(), 1 + 10 + 3);
    assert_eq!(interval_checkpoints(&lines), [7, 10, 14]);
    for line_no in [7, 10, 14] {
        check_interval_checkpoint(&lines, ACTIVE, line_no);
        let checkpoint = &lines[line_no - 1];
        assert_eq!(checkpoint["severity"], "info");
    }
    assert_eq!(lines[6]["timestamp"], "2026-12-03T12:01:00.000Z");
    assert_eq!(lines[6]["details"]["lines"], 6);
    assert_intact(dir.path());
}

#[test]
fn interval_checkpoints_stay_exact_with_two_writers_and_a_clock_stepping_back() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    let minute = Duration::from_secs(60);
    // Two sinks on one directory stand for two processes: each counts the other's lines.
    let mut first = interval_sink(dir.path(), &clock, minute);
    let mut second = interval_sink(dir.path(), &clock, minute);
    for round in 0..6 {
        clock.advance(Duration::from_secs(35));
        write_events(&mut first, round * 10..round * 10 + 3);
        write_events(&mut second, round * 10 + 5..round * 10 + 7);
    }
    first.flush().unwrap();
    assert_intact(dir.path());
    // Back into the previous day and forward again: the writer stays in the active file,
    // and its intervals go on from the clock's new readings.
    clock.set(at("2026-12-02T23:00:00.000Z"));
    write_events(&mut first, 100..102);
    clock.set(at(NOON));
    clock.advance(Duration::from_secs(600));
    write_events(&mut first, 102..104);
    clock.advance(minute);
    write_events(&mut first, 104..106);
    drop((first, second));

    let lines = json_lines(dir.path(), ACTIVE);
    let checkpoints = interval_checkpoints(&lines);
    assert!(checkpoints.len() >= 4, "{checkpoints:?}");
    for &line_no in &checkpoints {
        check_interval_checkpoint(&lines, ACTIVE, line_no);
    }
    let last = &lines[*checkpoints.last().unwrap() - 1]["details"];
    assert_eq!(last["lines"], lines.len() - 1);
    assert!(!segment_names(dir.path()).iter().any(|name| name.contains("2026-12-02")));
    assert_intact(dir.path());
}

#[test]
fn an_interval_checkpoint_never_takes_a_file_past_the_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    let limit = 1_500;
    let logger = builder(dir.path(), &clock).max_file_size_bytes(limit).build().unwrap();
    for idx in 0..60 {
        logger.log(event(idx));
        logger.flush().unwrap();
        clock.advance(Duration::from_secs(61));
    }
    logger.shutdown().unwrap();

    let mut n_checkpoints = 0;
    for name in segment_names(dir.path()) {
        let size = fs::metadata(dir.path().join(&name)).unwrap().len();
        assert!(size <= limit, "{name} has {size} bytes");
        let lines = json_lines(dir.path(), &name);
        for line_no in interval_checkpoints(&lines) {
            check_interval_checkpoint(&lines, &name, line_no);
            n_checkpoints += 1;
        }
    }
    assert!(n_checkpoints > 0, "the default interval is a minute");
    assert_eq!(all_events(dir.path()).len(), 60);
    assert_intact(dir.path());
}

#[test]
fn a_zero_checkpoint_interval_writes_no_interval_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    let logger = builder(dir.path(), &clock).checkpoint_interval(Duration::ZERO).build().unwrap();
    for idx in 0..5 {
        logger.log(event(idx));
        logger.flush().unwrap();
        clock.advance(Duration::from_secs(3_600));
    }
    logger.shutdown().unwrap();
    let lines = json_lines(dir.path(), ACTIVE);
    assert_eq!(lines.len(), 1 + 5);
    assert_eq!(interval_checkpoints(&lines), [0_usize; 0]);
}

/// Rewrites the chain from line `from` (1-based) of the active file to its end, and the head
/// anchor, as somebody covering an edit would.
fn rechain_from(dir: &Path, from: usize) {
    let path = dir.join(ACTIVE);
    let text = read_text(&path);
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<u8> =
        lines[..from - 1].iter().flat_map(|line| format!("{line}\n").into_bytes()).collect();
    let mut link = audit_core::split_chained_line(lines[from - 2].as_bytes()).unwrap().link();
    for line in &lines[from - 1..] {
        let chained = audit_core::split_chained_line(line.as_bytes()).unwrap();
        let event_json = [chained.event_prefix, b"}"].concat();
        link = audit_core::append_chained_line(link, &event_json, &mut out);
    }
    fs::write(&path, out).unwrap();
    let anchor = serde_json::json!({"seq": link.seq, "hash": link.hash_hex(), "file": ACTIVE});
    fs::write(dir.join(audit_sink::HEAD_FILE), anchor.to_string()).unwrap();
}

/// Replaces `old` by `new` in line `line_no` (1-based) of the active file.
fn edit_line(dir: &Path, line_no: usize, old: &str, new: &str) {
    let path = dir.join(ACTIVE);
    let text = read_text(&path);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(lines[line_no - 1].contains(old), "{}", lines[line_no - 1]);
    lines[line_no - 1] = lines[line_no - 1].replacen(old, new, 1);
    fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn a_tampered_interval_checkpoint_is_reported_as_modified_rechained_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock(NOON);
    let mut sink = interval_sink(dir.path(), &clock, Duration::from_secs(60));
    write_events(&mut sink, 0..3);
    clock.advance(Duration::from_secs(60));
    write_events(&mut sink, 3..5);
    write_events(&mut sink, 5..7);
    sink.close().unwrap();
    drop(sink);
    assert_eq!(interval_checkpoints(&json_lines(dir.path(), ACTIVE)), [7]);
    let pristine = fs::read(dir.path().join(ACTIVE)).unwrap();
    let anchor = fs::read(dir.path().join(audit_sink::HEAD_FILE)).unwrap();
    let restore = || {
        fs::write(dir.path().join(ACTIVE), &pristine).unwrap();
        fs::write(dir.path().join(audit_sink::HEAD_FILE), &anchor).unwrap();
    };
    let modified_lines = |dir: &Path| {
        let report = audit_sink::verify_dir(dir, |_| {}).unwrap();
        assert_eq!(report.verdict(), Verdict::Tampered, "{report:#?}");
        let modified = report.findings_of(FindingKind::Modified);
        modified
            .iter()
            .map(|(_, finding)| (finding.line, finding.detail.clone()))
            .collect::<Vec<_>>()
    };

    // The count changed, the hash left as it was.
    edit_line(dir.path(), 7, r#""lines":6"#, r#""lines":5"#);
    let found = modified_lines(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Some(7));

    // The count changed and the chain rewritten from it on, anchor included: only the
    // checkpoint's disagreement with the file shows.
    for (old, new) in [
        (r#""lines":6"#, r#""lines":5"#),
        (r#""firstSeq":1"#, r#""firstSeq":2"#),
        (r#""lastSeq":6"#, r#""lastSeq":5"#),
        (
            r#""reason":"interval","file":"audit-2026-12-03"#,
            r#""reason":"interval","file":"audit-2026-12-04"#,
        ),
    ] {
        restore();
        edit_line(dir.path(), 7, old, new);
        rechain_from(dir.path(), 7);
        let found = modified_lines(dir.path());
        assert_eq!(found.len(), 1, "{old}: {found:?}");
        assert_eq!(found[0].0, Some(7), "{old}");
        assert!(found[0].1.contains("interval checkpoint disagrees"), "{old}: {found:?}");
    }
    // Its head hash replaced by another line's, rechained.
    restore();
    let lines = json_lines(dir.path(), ACTIVE);
    let head_hash = lines[5]["chain"]["hash"].as_str().unwrap().to_owned();
    let other_hash = lines[4]["chain"]["hash"].as_str().unwrap().to_owned();
    edit_line(dir.path(), 7, &head_hash, &other_hash);
    rechain_from(dir.path(), 7);
    let found = modified_lines(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.contains("head hash"), "{found:?}");

    // Untouched, it verifies.
    restore();
    assert_intact(dir.path());
}
