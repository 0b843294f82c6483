//! Tamper evidence: every kind of tampering is detected and named, an untouched log always
//! verifies, and compression changes nothing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use audit_core::{AuditEvent, ChainLink, EventType, Timestamp, append_chained_line};
use audit_sink::{FindingKind, HEAD_FILE, SegmentName, Verdict, verify_dir};
use proptest::prelude::*;
use serde_json::json;

/// A chained log as the writer lays it out: numbered rotated files, then the day file; every
/// file after the first opens with a checkpoint naming the file before it; the head anchor
/// names the newest link.
/// The event the tests' logs are made of, numbered by its `i`.
fn numbered(idx: u64) -> AuditEvent {
    AuditEvent::binding_accessed("GitHub", "list_repos", Default::default()).with_detail("i", idx)
}

/// Logs `n` numbered events through `logger`, each in its own batch, then shuts it down.
fn log_one_batch_each(logger: audit_sink::AuditLogger, n: u64) {
    for idx in 0..n {
        logger.log(numbered(idx));
        logger.flush().unwrap();
    }
    logger.shutdown().unwrap();
}

fn write_log(dir: &Path, n_files: usize, lines_per_file: usize) -> Vec<PathBuf> {
    let mut head = ChainLink::GENESIS;
    let mut paths = Vec::new();
    let mut previous: Option<(String, u64, u64)> = None;
    let start = Timestamp::parse("2026-12-03T10:00:00.000Z").unwrap().as_unix_millis();
    let mut n_events = 0;
    for file_idx in 0..n_files {
        let name = if file_idx + 1 == n_files {
            SegmentName::day_file("2026-12-03")
        } else {
            SegmentName::rotated("2026-12-03", u32::try_from(file_idx + 1).unwrap())
        }
        .to_string();
        let mut bytes = Vec::new();
        let first_seq = head.seq + 1;
        if let Some((previous_file, previous_last, previous_lines)) = previous.take() {
            let details = json!({
                "reason": "rotation",
                "previous": {"file": previous_file, "lastSeq": previous_last, "lines": previous_lines},
            });
            let checkpoint =
                AuditEvent::new(EventType::AuditCheckpoint, details.as_object().unwrap().clone());
            head = append_chained_line(head, checkpoint.to_json_line().as_bytes(), &mut bytes);
        }
        while head.seq + 1 - first_seq < lines_per_file as u64 {
            n_events += 1;
            let event = AuditEvent::binding_accessed("GitHub", "list_repos", Default::default())
                .with_detail("i", n_events)
                .at(Timestamp::from_unix_millis(start + n_events).unwrap());
            head = append_chained_line(head, event.to_json_line().as_bytes(), &mut bytes);
        }
        let path = dir.join(&name);
        fs::write(&path, &bytes).unwrap();
        paths.push(path);
        previous = Some((name, head.seq, lines_per_file as u64));
    }
    let head_json = json!({"seq": head.seq, "hash": head.hash_hex(), "file": previous.unwrap().0});
    fs::write(dir.join(HEAD_FILE), head_json.to_string()).unwrap();
    paths
}

fn read_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap().lines().map(str::to_owned).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).unwrap();
}

fn gzip(path: &Path) {
    let bytes = fs::read(path).unwrap();
    let gz_path = PathBuf::from(format!("{}.gz", path.display()));
    let mut encoder = flate2::write::GzEncoder::new(
        fs::File::create(&gz_path).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(&bytes).unwrap();
    encoder.finish().unwrap();
    fs::remove_file(path).unwrap();
}

/// A finding's kind, its file (none for directory findings) and its line.
type Located = (FindingKind, Option<String>, Option<u64>);

/// The kinds of findings that mean tampering, in a report.
fn tamper_kinds(dir: &Path) -> (Verdict, Vec<Located>) {
    let report = verify_dir(dir, |_| {}).unwrap();
    let mut kinds = Vec::new();
    for finding in &report.findings {
        kinds.push((finding.kind, None, finding.line));
    }
    for file in &report.files {
        for finding in &file.findings {
            kinds.push((finding.kind, Some(file.name.clone()), finding.line));
        }
    }
    kinds.retain(|(kind, _, _)| kind.is_tampering());
    (report.verdict(), kinds)
}

fn has(kinds: &[Located], kind: FindingKind) -> bool {
    kinds.iter().any(|(found, _, _)| *found == kind)
}

#[test]
fn an_untouched_log_verifies_before_and_after_compression() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 10);
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.head.unwrap().seq, 30);
    assert!(report.files.iter().all(|file| file.status() == "valid"));

    gzip(&paths[0]);
    gzip(&paths[1]);
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert!(report.files[0].name.ends_with(".jsonl.gz"));
}

#[test]
fn a_damaged_or_cut_gzip_file_is_tampering_not_unverifiable() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 10);
    gzip(&paths[0]);
    gzip(&paths[1]);
    let gz = |path: &Path| PathBuf::from(format!("{}.gz", path.display()));

    // One byte of the trailer's checksum changed: the data still inflates, the CRC fails.
    let mut bytes = fs::read(gz(&paths[0])).unwrap();
    let crc_at = bytes.len() - 8;
    bytes[crc_at] ^= 0x01;
    fs::write(gz(&paths[0]), &bytes).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    let name = gz(&paths[0]).file_name().unwrap().to_string_lossy().into_owned();
    assert!(kinds.contains(&(FindingKind::Modified, Some(name), None)), "{kinds:?}");

    // The second file cut in the middle of its deflate stream.
    let bytes = fs::read(gz(&paths[1])).unwrap();
    fs::write(gz(&paths[1]), &bytes[..bytes.len() / 2]).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    let name = gz(&paths[1]).file_name().unwrap().to_string_lossy().into_owned();
    assert!(kinds.contains(&(FindingKind::TailTruncated, Some(name), None)), "{kinds:?}");
}

#[test]
fn original_implementation_files_are_foreign_not_tampered() {
    let dir = tempfile::tempdir().unwrap();
    // The writer took over after the original implementation: its chain begins now, after
    // every event of the copied files.
    log_events(dir.path(), 5);
    let compat = tests::compat_dir("06-rotation-manual");
    for entry in fs::read_dir(compat).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.findings_of(FindingKind::ForeignFile).len(), 4);
}

#[test]
fn a_directory_with_nothing_chained_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();
    let compat = tests::compat_dir("01-default");
    fs::copy(compat.join("audit-2026-12-03.jsonl"), dir.path().join("audit-2026-12-03.jsonl"))
        .unwrap();
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Unverifiable);
}

#[test]
fn pruned_files_are_told_apart_from_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 6);
    // Retention deletes the oldest file and records it in the newest one.
    let first = read_lines(&paths[0]);
    let removed = paths[0].file_name().unwrap().to_str().unwrap().to_owned();
    fs::remove_file(&paths[0]).unwrap();
    let mut day_lines = read_lines(&paths[2]);
    let last = audit_core::split_chained_line(day_lines.last().unwrap().as_bytes()).unwrap();
    let details = json!({"files": [removed.clone()], "ranges": [{"file": removed, "firstSeq": 1, "lastSeq": first.len()}]});
    let record = AuditEvent::new(EventType::AuditFilesPruned, details.as_object().unwrap().clone());
    let mut bytes = Vec::new();
    let head = append_chained_line(last.link(), record.to_json_line().as_bytes(), &mut bytes);
    day_lines.push(String::from_utf8(bytes).unwrap().trim_end().to_owned());
    write_lines(&paths[2], &day_lines);
    let head_json = json!({"seq": head.seq, "hash": head.hash_hex()});
    fs::write(dir.path().join(HEAD_FILE), head_json.to_string()).unwrap();

    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.findings_of(FindingKind::Pruned).len(), 1);

    // The same gap without the record is a missing file.
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 6);
    fs::remove_file(&paths[0]).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::FileMissing), "{kinds:?}");
}

#[test]
fn a_torn_last_line_is_a_crash_not_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 1, 5);
    let mut bytes = fs::read(&paths[0]).unwrap();
    bytes.extend_from_slice(br#"{"timestamp":"2026-12-03T10:00:01.000Z","type":"bind"#);
    fs::write(&paths[0], bytes).unwrap();
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.findings_of(FindingKind::TornLine).len(), 1);
}

#[test]
fn a_last_line_without_its_newline_is_noted() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 1, 5);
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert!(report.findings_of(FindingKind::TornLine).is_empty());
    let mut bytes = fs::read(&paths[0]).unwrap();
    assert_eq!(bytes.pop(), Some(b'\n'));
    fs::write(&paths[0], bytes).unwrap();
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    // The line is whole and chained: nothing was lost, but the cut is reported.
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    let torn = report.findings_of(FindingKind::TornLine);
    assert_eq!(torn.len(), 1, "{report:#?}");
    assert_eq!(torn[0].1.line, Some(5));
}

/// Logs `n` events through the real writer into `dir`.
fn log_events(dir: &Path, n: usize) {
    let logger = audit_sink::AuditLogger::builder().dir(dir).build().unwrap();
    for idx in 0..n as u64 {
        logger.log(numbered(idx));
    }
    logger.shutdown().unwrap();
}

fn active_file(dir: &Path) -> PathBuf {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    names.pop().unwrap()
}

/// A writer killed mid-line, anywhere in the line (its chain field included), then a new
/// writer: the torn line is ended and accounted for by a checkpoint, and the log verifies.
#[test]
fn a_torn_line_ended_by_the_next_writer_is_accounted_for() {
    for within_chain in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        log_events(dir.path(), 3);
        let active = active_file(dir.path());
        let last = read_lines(&active).pop().unwrap();
        let cut = if within_chain { last.find("\"chain\"").unwrap() + 20 } else { 30 };
        let mut file = fs::OpenOptions::new().append(true).open(&active).unwrap();
        file.write_all(&last.as_bytes()[..cut]).unwrap();
        drop(file);
        log_events(dir.path(), 2);

        let lines = read_lines(&active);
        assert_eq!(lines.len(), 4 + 1 + 1 + 2, "{lines:#?}");
        let checkpoint: serde_json::Value = serde_json::from_str(&lines[5]).unwrap();
        assert_eq!(checkpoint["details"]["reason"], "torn-line");
        assert_eq!(checkpoint["details"]["tornLine"]["line"], 5);
        assert_eq!(checkpoint["details"]["tornLine"]["bytes"], cut);
        let report = verify_dir(dir.path(), |_| {}).unwrap();
        assert_eq!(report.verdict(), Verdict::Intact, "cut at {cut}: {report:#?}");
        assert_eq!(report.findings_of(FindingKind::TornLine).len(), 1);
    }
}

/// Text added on a line of its own is never taken for a torn line, wherever it goes and
/// whatever it looks like, unless the checkpoint after it names its exact bytes.
#[test]
fn added_text_is_not_a_torn_line() {
    let prefix = r#"{"timestamp":"2026-12-03T10:00:01.000Z","type":"security_violation""#;
    for (text, at_end) in [("garbage", false), (prefix, false), ("garbage", true)] {
        let dir = tempfile::tempdir().unwrap();
        log_events(dir.path(), 4);
        let active = active_file(dir.path());
        let mut lines = read_lines(&active);
        if at_end {
            lines.push(text.to_owned());
        } else {
            lines.insert(3, text.to_owned());
        }
        fs::write(&active, lines.join("\n") + "\n").unwrap();
        let (verdict, kinds) = tamper_kinds(dir.path());
        assert_eq!(verdict, Verdict::Tampered, "{text:?} at end {at_end}");
        assert!(has(&kinds, FindingKind::Inserted), "{kinds:?}");
    }

    // A torn line followed by a checkpoint that names other bytes is not accounted for.
    let dir = tempfile::tempdir().unwrap();
    log_events(dir.path(), 2);
    let active = active_file(dir.path());
    let mut file = fs::OpenOptions::new().append(true).open(&active).unwrap();
    file.write_all(b"{\"timestamp\":\"2026").unwrap();
    drop(file);
    log_events(dir.path(), 1);
    let text = fs::read_to_string(&active).unwrap().replace("{\"timestamp\":\"2026\n", "{\"time\n");
    fs::write(&active, text).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::Inserted), "{kinds:?}");
}

/// A `.gz` beside its original: the same bytes are a compression not yet settled; other
/// bytes are read as well, and a planted copy shows.
#[test]
fn a_compressed_twin_is_ignored_only_when_it_holds_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 6);
    let original = fs::read(&paths[1]).unwrap();
    gzip(&paths[1]);
    fs::write(&paths[1], &original).unwrap();
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.files.len(), 3);

    // A twin whose lines differ from the original's: one event edited.
    let mut lines = read_lines(&paths[1]);
    lines[2] = lines[2].replace("list_repos", "list_reposX");
    let gz_path = PathBuf::from(format!("{}.gz", paths[1].display()));
    fs::remove_file(&gz_path).unwrap();
    fs::write(&paths[1], lines.join("\n") + "\n").unwrap();
    gzip(&paths[1]);
    fs::write(&paths[1], &original).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered, "{kinds:?}");
    assert!(kinds.iter().any(|(_, file, _)| file.as_deref().is_some_and(|f| f.ends_with(".gz"))));

    // The other way round: the `.gz` as written, the plain copy beside it edited. The edited
    // line is named as modified, the untouched ones as copies.
    fs::remove_file(&gz_path).unwrap();
    gzip(&paths[1]);
    fs::write(&paths[1], lines.join("\n") + "\n").unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered, "{kinds:?}");
    let name = paths[1].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(kinds.contains(&(FindingKind::Modified, Some(name), Some(3))), "{kinds:?}");
}

/// Replaces line `idx` (from 0) of `path` with `event`, keeping the old line's chain field.
fn forge_keeping_chain(path: &Path, idx: usize, event: &str) {
    let mut lines = read_lines(path);
    let chain_at = lines[idx].find(",\"chain\":").unwrap();
    lines[idx] = format!("{}{}", event.strip_suffix('}').unwrap(), &lines[idx][chain_at..]);
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

const FORGED: &str = r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"network_request_allowed","severity":"info","context":{},"details":{"url":"http://forged.example/"},"outcome":"success"}"#;

/// Cutting the start of the history and putting a pruning record of one's own in place of
/// the first line left (its chain field kept) is not pruning: only a record the chain vouches
/// for excuses a gap.
#[test]
fn a_forged_pruning_record_excuses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    log_events(dir.path(), 8);
    let active = active_file(dir.path());
    let pruned = r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"audit_files_pruned","severity":"info","context":{},"details":{"ranges":[{"file":"audit-2026-12-02.jsonl","firstSeq":1,"lastSeq":5}]},"outcome":"success"}"#;
    forge_keeping_chain(&active, 5, pruned);
    let lines = read_lines(&active);
    fs::write(&active, lines[5..].join("\n") + "\n").unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered, "{kinds:?}");
    assert!(!has(&kinds, FindingKind::Pruned), "{kinds:?}");
}

/// After real retention, the first line left is vouched for by the last hash the pruning
/// record gives: replacing it (its chain field kept) shows.
#[test]
fn the_first_line_after_pruned_files_is_checked_against_them() {
    let dir = tempfile::tempdir().unwrap();
    let logger = audit_sink::AuditLogger::builder()
        .dir(dir.path())
        .max_file_size_bytes(1_500)
        .retention(audit_sink::Retention { max_files: 1, ..Default::default() })
        .build()
        .unwrap();
    log_one_batch_each(logger, 40);
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert!(!report.findings_of(FindingKind::Pruned).is_empty(), "{report:#?}");

    let mut segments: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains(".0"))
        .collect();
    segments.sort();
    forge_keeping_chain(&segments[0], 0, FORGED);
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered, "{kinds:?}");
    assert!(has(&kinds, FindingKind::Modified), "{kinds:?}");
}

/// A last line without its newline is a torn write only if it is cut short; a whole JSON
/// value there, or one followed by more text that the next writer ended, was put there.
#[test]
fn a_whole_value_is_never_a_torn_line() {
    for (tail, then_write) in [(FORGED.to_owned(), false), (format!("{FORGED}{{}}"), true)] {
        let dir = tempfile::tempdir().unwrap();
        log_events(dir.path(), 3);
        let active = active_file(dir.path());
        let mut file = fs::OpenOptions::new().append(true).open(&active).unwrap();
        file.write_all(tail.as_bytes()).unwrap();
        drop(file);
        if then_write {
            log_events(dir.path(), 1);
        }
        let (verdict, kinds) = tamper_kinds(dir.path());
        assert_eq!(verdict, Verdict::Tampered, "{tail}: {kinds:?}");
        assert!(!has(&kinds, FindingKind::TornLine), "{kinds:?}");
    }
}

/// A producer's event whose details say `"type":"audit_checkpoint"` is not the writer's
/// checkpoint and cannot account for a line.
#[test]
fn a_producer_event_cannot_pass_for_a_torn_line_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    log_events(dir.path(), 2);
    let active = active_file(dir.path());
    let added = r#"{"timestamp":"2026-12-03T10:00:00"#;
    let sha: String = sha_hex(added.as_bytes());
    let logger = audit_sink::AuditLogger::builder().dir(dir.path()).build().unwrap();
    let details = json!({"type": "audit_checkpoint", "reason": "torn-line",
        "tornLine": {"line": 4, "bytes": added.len(), "sha256": sha}});
    logger.log(AuditEvent::new(EventType::BindingAccessed, details.as_object().unwrap().clone()));
    logger.shutdown().unwrap();
    let mut lines = read_lines(&active);
    lines.insert(3, added.to_owned());
    fs::write(&active, lines.join("\n") + "\n").unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered, "{kinds:?}");
}

fn sha_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A crash in the very first write to a directory, before any anchor: the fragment is the
/// only line, the next writer adopts it as not its own, and the log verifies.
#[test]
fn a_torn_first_write_is_adopted_not_tampering() {
    let dir = tempfile::tempdir().unwrap();
    log_events(dir.path(), 3);
    let active = active_file(dir.path());
    let first = read_lines(&active).remove(0);
    let cut = first.find("\"chain\"").unwrap() + 20;
    fs::write(&active, &first.as_bytes()[..cut]).unwrap();
    fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
    log_events(dir.path(), 2);
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
}

/// Another system's files predate the chain: a file without chain data holding events from
/// after the chain began was added, whatever its name.
#[test]
fn a_chainless_file_of_later_events_is_not_foreign_history() {
    let dir = tempfile::tempdir().unwrap();
    let older = r#"{"timestamp":"2020-01-01T00:00:00.000Z","type":"binding_accessed","severity":"info","context":{},"details":{},"outcome":"success"}"#;
    fs::write(dir.path().join("audit-2020-01-01-1577836800000.jsonl"), format!("{older}\n"))
        .unwrap();
    log_events(dir.path(), 3);
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.findings_of(FindingKind::ForeignFile).len(), 1);

    let later = older.replace("2020-01-01T00:00:00.000Z", &Timestamp::now().to_string());
    for name in ["audit-2026-12-03.01.jsonl", "audit-2020-01-02-1577923200000.jsonl"] {
        fs::write(dir.path().join(name), format!("{later}\n")).unwrap();
        let (verdict, kinds) = tamper_kinds(dir.path());
        assert_eq!(verdict, Verdict::Tampered, "{name}: {kinds:?}");
        assert!(has(&kinds, FindingKind::Inserted), "{kinds:?}");
        fs::remove_file(dir.path().join(name)).unwrap();
    }
}

/// A log to tamper with, in a directory of its own: its files in chain order (the newest
/// last) and the lines each held before tampering.
struct Log {
    paths: Vec<PathBuf>,
    lines: Vec<Vec<String>>,
}

impl Log {
    fn name(&self, file: usize) -> String {
        self.paths[file].file_name().unwrap().to_str().unwrap().to_owned()
    }

    fn newest(&self) -> usize {
        self.paths.len() - 1
    }
}

/// Who wrote the log the property test tampers with: the test's own helper, whose layout is
/// exact and fixed, or the real writer, whose layout depends on its rotation.
#[derive(Debug, Clone, Copy)]
enum Writer {
    Helper,
    Real,
}

const N_FILES: usize = 3;
const LINES_PER_FILE: usize = 8;

impl Writer {
    /// Lines per file, oldest first.
    fn layout(self) -> Vec<usize> {
        match self {
            Writer::Helper => vec![LINES_PER_FILE; N_FILES],
            Writer::Real => layout_of(real_writer_log()),
        }
    }

    fn write(self, dir: &Path) -> Log {
        let paths = match self {
            Writer::Helper => write_log(dir, N_FILES, LINES_PER_FILE),
            Writer::Real => {
                let mut paths = Vec::new();
                for (name, bytes) in real_writer_log() {
                    fs::write(dir.join(name), bytes).unwrap();
                    if name.ends_with(".jsonl") {
                        paths.push(dir.join(name));
                    }
                }
                paths
            }
        };
        let lines = paths.iter().map(|path| read_lines(path)).collect();
        Log { paths, lines }
    }
}

/// Every file the real writer left in its directory (names sorted, so rotated files come in
/// chain order before the day file), written once and copied for each case: rotation by
/// size, a start checkpoint, a checkpoint opening every later file, the head anchor.
fn real_writer_log() -> &'static [(String, Vec<u8>)] {
    use std::sync::{Arc, OnceLock};

    use audit_sink::{AuditLogger, ManualClock};

    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let clock =
            Arc::new(ManualClock::new(Timestamp::parse("2026-12-03T10:00:00.000Z").unwrap()));
        let logger = AuditLogger::builder()
            .dir(dir.path())
            .clock(clock as _)
            .max_file_size_bytes(1_500)
            .build()
            .unwrap();
        log_one_batch_each(logger, 18);
        let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| {
                let path = entry.unwrap().path();
                (path.file_name().unwrap().to_str().unwrap().to_owned(), fs::read(&path).unwrap())
            })
            .collect();
        files.sort();
        let report = verify_dir(dir.path(), |_| {}).unwrap();
        assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
        let layout = layout_of(&files);
        // Every kind of tampering needs at least two files, and lines to move in each.
        assert!(layout.len() >= 3 && layout.iter().all(|&n| n >= 3), "{layout:?}");
        files
    })
}

/// Lines per log file of `files`, in their order.
fn layout_of(files: &[(String, Vec<u8>)]) -> Vec<usize> {
    let logs = files.iter().filter(|(name, _)| name.ends_with(".jsonl"));
    logs.map(|(_, bytes)| bytes.iter().filter(|&&byte| byte == b'\n').count()).collect()
}

/// One tampering, as the property test applies it. Files and lines count from 0.
#[derive(Debug, Clone)]
enum Tamper {
    FlipByte { file: usize, line: usize, at: usize, with: u8 },
    DeleteLine { file: usize, line: usize },
    InsertLine { file: usize, line: usize },
    SwapLines { file: usize, line: usize },
    DuplicateLine { file: usize, line: usize, after: usize },
    CutTail { file: usize, keep: usize },
    DeleteFile { file: usize },
    SwapFiles { file: usize },
}

/// A file of a log with `layout` lines per file, and an index in `range(its lines)`.
fn file_and_index(
    layout: &[usize],
    range: fn(usize) -> std::ops::Range<usize>,
) -> impl Strategy<Value = (usize, usize)> + use<> {
    let layout = layout.to_vec();
    (0..layout.len()).prop_flat_map(move |file| (Just(file), range(layout[file])))
}

fn arb_tamper(layout: &[usize]) -> impl Strategy<Value = Tamper> + use<> {
    let n_files = layout.len();
    let lines = layout.to_vec();
    let duplicate = file_and_index(layout, |n| 0..n)
        .prop_flat_map(move |(file, line)| (Just(file), Just(line), line..lines[file]));
    prop_oneof![
        (file_and_index(layout, |n| 0..n), 0..400usize, 0x20u8..0x7f)
            .prop_map(|((file, line), at, with)| Tamper::FlipByte { file, line, at, with }),
        file_and_index(layout, |n| 0..n).prop_map(|(file, line)| Tamper::DeleteLine { file, line }),
        file_and_index(layout, |n| 0..n + 1)
            .prop_map(|(file, line)| Tamper::InsertLine { file, line }),
        file_and_index(layout, |n| 0..n - 1)
            .prop_map(|(file, line)| Tamper::SwapLines { file, line }),
        duplicate.prop_map(|(file, line, after)| Tamper::DuplicateLine { file, line, after }),
        file_and_index(layout, |n| 0..n).prop_map(|(file, keep)| Tamper::CutTail { file, keep }),
        (0..n_files).prop_map(|file| Tamper::DeleteFile { file }),
        (0..n_files - 1).prop_map(|file| Tamper::SwapFiles { file }),
    ]
}

fn arb_case() -> impl Strategy<Value = (Writer, Tamper)> {
    prop_oneof![Just(Writer::Helper), Just(Writer::Real)]
        .prop_flat_map(|writer| (Just(writer), arb_tamper(&writer.layout())))
}

/// A finding as compared between runs: file names (its own and in its detail) without
/// `.gz`, its file `None` for a finding about the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    kind: FindingKind,
    file: Option<String>,
    line: Option<u64>,
    detail: String,
}

/// Every finding of a report, directory findings first, then file by file.
fn all_findings(dir: &Path) -> (Verdict, Vec<Named>) {
    let report = verify_dir(dir, |_| {}).unwrap();
    let plain = |text: &str| text.replace(".jsonl.gz", ".jsonl");
    let on_dir = report.findings.iter().map(|finding| (None, finding));
    let on_files = report.files.iter().flat_map(|file| {
        file.findings.iter().map(move |finding| (Some(plain(&file.name)), finding))
    });
    let findings = on_dir
        .chain(on_files)
        .map(|(file, finding)| Named {
            kind: finding.kind,
            file,
            line: finding.line,
            detail: plain(&finding.detail),
        })
        .collect();
    (report.verdict(), findings)
}

/// A finding the property test requires.
#[derive(Debug)]
struct Expected {
    kind: FindingKind,
    /// The file it sits on; `None` for the directory.
    file: Option<String>,
    /// The 1-based line it names, or `None` when the line is not checked.
    line: Option<Option<u64>>,
    /// File names its detail must mention.
    names: Vec<String>,
}

impl Expected {
    fn at(kind: FindingKind, file: String, line: impl Into<Option<u64>>) -> Expected {
        Expected { kind, file: Some(file), line: Some(line.into()), names: Vec::new() }
    }

    fn naming(mut self, names: &[String]) -> Expected {
        self.names = names.to_vec();
        self
    }

    fn matches(&self, found: &Named) -> bool {
        found.kind == self.kind
            && found.file == self.file
            && self.line.is_none_or(|line| found.line == line)
            && self.names.iter().all(|name| found.detail.contains(name.as_str()))
    }
}

/// What the property test expects of the verifier after one tampering: exactly these
/// tampering findings, in report order.
type Verdicts = Vec<Expected>;

fn one(expected: Expected) -> Verdicts {
    vec![expected]
}

/// 1-based, as the verifier numbers lines.
fn nth(idx: usize) -> u64 {
    idx as u64 + 1
}

/// Applies `tamper` to `log` and says exactly what the verifier must report, worked out from
/// the tampering's parameters.
fn apply(tamper: &Tamper, log: &Log) -> Verdicts {
    use FindingKind::*;
    match *tamper {
        Tamper::FlipByte { file, line, at, with } => {
            let mut lines = log.lines[file].clone();
            let mut bytes = lines[line].clone().into_bytes();
            let at = at % bytes.len();
            let with =
                if bytes[at] == with { if with == b'a' { b'b' } else { b'a' } } else { with };
            bytes[at] = with;
            lines[line] = String::from_utf8(bytes).unwrap();
            write_lines(&log.paths[file], &lines);
            flip_verdicts(log, file, line, &lines[line])
        }
        Tamper::DeleteLine { file, line } => {
            let mut lines = log.lines[file].clone();
            lines.remove(line);
            write_lines(&log.paths[file], &lines);
            if (file, line) == (0, 0) {
                // Nothing before the chain's first line says it was there: its loss reads
                // as the start of the history missing (the detail says lines or files).
                one(Expected::at(FileMissing, log.name(0), 1))
            } else if line + 1 == log.lines[file].len() {
                // The last line of a file: what a cut tail looks like.
                tail_truncated(log, file)
            } else {
                one(Expected::at(Deleted, log.name(file), nth(line)))
            }
        }
        Tamper::InsertLine { file, line } => {
            let mut lines = log.lines[file].clone();
            let forged = AuditEvent::network_request_allowed("https://ok.test/", "GET")
                .at(Timestamp::parse("2026-12-03T10:00:00.000Z").unwrap());
            lines.insert(line, forged.to_json_line());
            write_lines(&log.paths[file], &lines);
            one(Expected::at(Inserted, log.name(file), nth(line)))
        }
        Tamper::SwapLines { file, line } => {
            let mut lines = log.lines[file].clone();
            lines.swap(line, line + 1);
            write_lines(&log.paths[file], &lines);
            one(Expected::at(Reordered, log.name(file), nth(line + 1)))
        }
        Tamper::DuplicateLine { file, line, after } => {
            let mut lines = log.lines[file].clone();
            lines.insert(after + 1, lines[line].clone());
            write_lines(&log.paths[file], &lines);
            one(Expected::at(Duplicated, log.name(file), nth(after + 1)))
        }
        Tamper::CutTail { file, keep: 0 } => {
            fs::write(&log.paths[file], "").unwrap();
            // An empty file is what a crash right after a rotation leaves, with nothing to
            // check: its lines read as gone with it, which the file's checkpointed successor
            // (or the head anchor) names.
            missing(log, file)
        }
        Tamper::CutTail { file, keep } => {
            write_lines(&log.paths[file], &log.lines[file][..keep]);
            tail_truncated(log, file)
        }
        Tamper::DeleteFile { file } => {
            fs::remove_file(&log.paths[file]).unwrap();
            missing(log, file)
        }
        Tamper::SwapFiles { file } => {
            let (a, b) = (&log.paths[file], &log.paths[file + 1]);
            let parked = a.with_extension("parked");
            fs::rename(a, &parked).unwrap();
            fs::rename(b, a).unwrap();
            fs::rename(&parked, b).unwrap();
            let swapped =
                Expected { kind: FilesSwapped, file: None, line: Some(None), names: vec![] };
            one(swapped.naming(&[log.name(file), log.name(file + 1)]))
        }
    }
}

/// Lines cut from the end of `file`: reported on that file.
fn tail_truncated(log: &Log, file: usize) -> Verdicts {
    // No line is named: the lines are gone, and the line after them is in another file.
    one(Expected::at(FindingKind::TailTruncated, log.name(file), None))
}

/// The whole of `file` gone: reported, with its name, on the file after the gap, line 1
/// (its checkpoint), or for the newest file on the last file left, from the head anchor.
fn missing(log: &Log, file: usize) -> Verdicts {
    let newest = log.newest();
    let names = [log.name(file)];
    let expected = match (file == newest, log.paths[file].exists()) {
        (false, _) => Expected::at(FindingKind::FileMissing, log.name(file + 1), 1),
        (true, true) => Expected::at(FindingKind::FileMissing, log.name(newest), None),
        (true, false) => Expected::at(FindingKind::FileMissing, log.name(newest - 1), None),
    };
    one(expected.naming(&names))
}

/// A byte of line `line` of `file` changed, to `tampered`: that line is modified. When the
/// changed byte is in the hash of the newest line, the head anchor's hash no longer matches
/// either.
fn flip_verdicts(log: &Log, file: usize, line: usize, tampered: &str) -> Verdicts {
    use FindingKind::Modified;
    let original = audit_core::split_chained_line(log.lines[file][line].as_bytes()).unwrap();
    let chained = audit_core::split_chained_line(tampered.as_bytes());
    let modified = Expected::at(Modified, log.name(file), nth(line));

    let is_head = file == log.newest() && line + 1 == log.lines[file].len();
    let hash_edited = chained.as_ref().is_some_and(|chained| chained.hash != original.hash);
    if is_head && hash_edited {
        let anchor = Expected { kind: Modified, file: None, line: Some(None), names: vec![] };
        return vec![anchor, modified];
    }
    one(modified)
}

/// Gzips the files rotation would compress (all but the newest) that are still there.
fn compress_rotated(log: &Log) {
    for path in &log.paths[..log.newest()] {
        if path.exists() {
            gzip(path);
        }
    }
}

/// Tampers with a fresh log of `writer`, verifies it, compresses the rotated files and
/// verifies again.
fn check(writer: Writer, tamper: &Tamper) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let log = writer.write(dir.path());
    let expected = apply(tamper, &log);
    let (verdict, found) = all_findings(dir.path());
    compress_rotated(&log);
    let (verdict_gz, found_gz) = all_findings(dir.path());

    prop_assert_eq!(verdict, Verdict::Tampered, "{:?} {:?}: {:#?}", writer, tamper, found);
    prop_assert_eq!(
        (verdict_gz, &found_gz),
        (verdict, &found),
        "{:?} {:?}: compression changed the findings",
        writer,
        tamper
    );
    let tampering: Vec<&Named> = found.iter().filter(|found| found.kind.is_tampering()).collect();
    let all_match = tampering.len() == expected.len()
        && expected.iter().zip(&tampering).all(|(expected, found)| expected.matches(found));
    prop_assert!(
        all_match,
        "{:?} {:?}: expected {:#?}, found {:#?}",
        writer,
        tamper,
        expected,
        tampering
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// One random tampering of each kind, on a log of the test's helper or of the real
    /// writer: detected, named exactly (kind, file, line), and named the same once the
    /// rotated files are compressed.
    #[test]
    fn every_tampering_is_detected_and_named((writer, tamper) in arb_case()) {
        check(writer, &tamper)?;
    }
}

#[test]
fn verify_command_exit_codes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 2, 4);
    let run = |json: bool| {
        let mut command = tests::ncp_audit();
        command.arg("verify").arg(dir.path());
        if json {
            command.arg("--json");
        }
        command.output().unwrap()
    };

    let output = run(false);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("valid            audit-2026-12-03.000001.jsonl"), "{stdout}");
    assert!(stdout.contains("intact: 2 files, head seq 8"), "{stdout}");

    let mut lines = read_lines(&paths[0]);
    lines[1] = lines[1].replace("list_repos", "delete_repo");
    write_lines(&paths[0], &lines);
    let output = run(true);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "tampered");
    assert_eq!(report["files"][0]["status"], "modified");
    assert_eq!(report["files"][0]["findings"][0]["line"], 2);

    let missing = dir.path().join("nope");
    let output = tests::ncp_audit().arg("verify").arg(&missing).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot list") && stderr.contains("nope"), "{stderr}");
}

/// The real writer: rotation, compression, retention and restarts keep one chain that
/// verifies, pruning is reported as such, and a deleted line is caught.
#[test]
fn what_the_writer_writes_verifies_and_tampering_with_it_does_not() {
    use audit_sink::{AuditLogger, Retention};

    let dir = tempfile::tempdir().unwrap();
    let keep_three = Retention { max_files: 3, ..Retention::default() };
    for run in 0..3 {
        let logger = AuditLogger::builder()
            .dir(dir.path())
            .max_file_size_bytes(4_000)
            .compress_rotated(true)
            .retention(keep_three)
            .build()
            .unwrap();
        for idx in 0..120 {
            logger.log(
                AuditEvent::binding_accessed("GitHub", "list_repos", Default::default())
                    .with_detail("run", run)
                    .with_detail("i", idx),
            );
            if idx % 10 == 0 {
                logger.flush().unwrap();
            }
        }
        logger.shutdown().unwrap();
    }

    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert!(!report.findings_of(FindingKind::Pruned).is_empty(), "{report:#?}");
    assert!(report.files.iter().any(|file| file.name.ends_with(".gz")));

    let active = dir.path().join("audit-".to_owned() + &Timestamp::now().utc_date() + ".jsonl");
    let mut lines = read_lines(&active);
    lines.remove(lines.len() / 2);
    write_lines(&active, &lines);
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::Deleted), "{kinds:?}");
}

#[test]
fn a_missing_head_anchor_is_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 2, 5);
    let mut lines = read_lines(&paths[1]);
    lines.pop();
    write_lines(&paths[1], &lines);
    fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::AnchorMissing), "{kinds:?}");
}

#[test]
fn a_pruning_record_cannot_excuse_a_file_missing_from_the_middle() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 6);
    // A forged record claims retention removed the middle file; retention only ever removes
    // the oldest.
    let middle = read_lines(&paths[1]);
    let first = audit_core::split_chained_line(middle[0].as_bytes()).unwrap().seq;
    let name = paths[1].file_name().unwrap().to_str().unwrap().to_owned();
    fs::remove_file(&paths[1]).unwrap();
    let mut last_lines = read_lines(&paths[2]);
    let last = audit_core::split_chained_line(last_lines.last().unwrap().as_bytes()).unwrap();
    let details = json!({"files": [name.clone()],
        "ranges": [{"file": name, "firstSeq": first, "lastSeq": first + 5}]});
    let record = AuditEvent::new(EventType::AuditFilesPruned, details.as_object().unwrap().clone());
    let mut bytes = Vec::new();
    let head = append_chained_line(last.link(), record.to_json_line().as_bytes(), &mut bytes);
    last_lines.push(String::from_utf8(bytes).unwrap().trim_end().to_owned());
    write_lines(&paths[2], &last_lines);
    fs::write(
        dir.path().join(HEAD_FILE),
        json!({"seq": head.seq, "hash": head.hash_hex()}).to_string(),
    )
    .unwrap();

    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::FileMissing), "{kinds:?}");
}

#[test]
fn stripping_the_chain_from_a_newer_file_is_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 5);
    let stripped: Vec<String> = read_lines(&paths[2])
        .iter()
        .map(|line| {
            let chained = audit_core::split_chained_line(line.as_bytes()).unwrap();
            format!("{}}}", std::str::from_utf8(chained.event_prefix).unwrap())
        })
        .collect();
    write_lines(&paths[2], &stripped);
    fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::Modified), "{kinds:?}");
}

/// Moving from the original implementation: the writer continues the old day file, whose
/// first lines carry no chain. Those lines are another system's, not tampering.
#[test]
fn the_original_implementations_day_file_continued_by_the_writer_verifies() {
    use audit_sink::AuditLogger;

    let dir = tempfile::tempdir().unwrap();
    let today = Timestamp::now().utc_date();
    let compat = tests::compat_dir("01-default");
    let old = fs::read(compat.join("audit-2026-12-03.jsonl")).unwrap();
    fs::write(dir.path().join(format!("audit-{today}.jsonl")), old).unwrap();
    let logger = AuditLogger::builder().dir(dir.path()).build().unwrap();
    logger.log(AuditEvent::code_execution_start("return 1"));
    logger.shutdown().unwrap();

    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.findings_of(FindingKind::ForeignLines).len(), 27);
}

/// Verifying a directory while writers rotate, compress and prune in it sees one consistent
/// instant: never a false alarm.
#[test]
fn verifying_while_writers_rotate_gives_no_false_alarm() {
    use std::sync::atomic::{AtomicBool, Ordering};

    use audit_sink::{AuditLogger, Retention};

    let dir = tempfile::tempdir().unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for writer_idx in 0..2 {
            let (dir, done) = (dir.path(), &done);
            scope.spawn(move || {
                let logger = AuditLogger::builder()
                    .dir(dir)
                    .max_file_size_bytes(3_000)
                    .compress_rotated(true)
                    .retention(Retention { max_files: 4, ..Retention::default() })
                    .build()
                    .unwrap();
                let mut idx = 0;
                while !done.load(Ordering::Relaxed) {
                    idx += 1;
                    logger.log(
                        AuditEvent::binding_accessed("GitHub", "list_repos", Default::default())
                            .with_detail("writer", writer_idx)
                            .with_detail("i", idx),
                    );
                    if idx % 5 == 0 {
                        logger.flush().unwrap();
                    }
                }
                logger.shutdown().unwrap();
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        for _ in 0..15 {
            let report = verify_dir(dir.path(), |_| {}).unwrap();
            assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
        }
        done.store(true, Ordering::Relaxed);
    });
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
}

/// Lines cut from the end of the active file stay a gap in the chain when a writer carries on
/// afterwards, whether it restarts or keeps running.
#[test]
fn a_writer_carrying_on_after_a_cut_leaves_the_gap_visible() {
    use audit_sink::AuditLogger;

    let log_some = |logger: &AuditLogger, n: usize| {
        for idx in 0..n {
            logger.log(
                AuditEvent::binding_accessed("fs", "read", Default::default())
                    .with_detail("i", idx),
            );
        }
        logger.flush().unwrap();
    };
    let cut_tail = |dir: &Path, n: usize| {
        let active = dir.join(format!("audit-{}.jsonl", Timestamp::now().utc_date()));
        let mut lines = read_lines(&active);
        lines.truncate(lines.len() - n);
        write_lines(&active, &lines);
    };

    // A restart after the cut.
    let dir = tempfile::tempdir().unwrap();
    let logger = AuditLogger::builder().dir(dir.path()).build().unwrap();
    log_some(&logger, 50);
    logger.shutdown().unwrap();
    cut_tail(dir.path(), 10);
    let logger = AuditLogger::builder().dir(dir.path()).build().unwrap();
    log_some(&logger, 3);
    logger.shutdown().unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::Deleted), "{kinds:?}");

    // A writer that keeps running through the cut.
    let dir = tempfile::tempdir().unwrap();
    let logger = AuditLogger::builder().dir(dir.path()).build().unwrap();
    log_some(&logger, 50);
    cut_tail(dir.path(), 10);
    log_some(&logger, 3);
    logger.shutdown().unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(has(&kinds, FindingKind::Deleted), "{kinds:?}");
}

#[test]
fn an_empty_file_left_by_a_crash_after_rotation_is_not_tampering() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 2, 5);
    fs::write(dir.path().join("audit-2026-12-04.jsonl"), "").unwrap();
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
}

/// Regression: a chainless file under the writer's rotated name (`.NNNNNN.`) passed as another
/// system's when its events were old. No other system uses that name, and the writer gives it
/// only to files it wrote into, so it was added, whatever its timestamps.
#[test]
fn a_chainless_file_under_the_writers_rotated_name_is_inserted_however_old() {
    let dir = tempfile::tempdir().unwrap();
    log_events(dir.path(), 3);
    let old = r#"{"timestamp":"2024-01-01T00:00:00.000Z","type":"binding_accessed","severity":"info","context":{},"details":{},"outcome":"success"}"#;
    let name = format!("audit-{}.000001.jsonl", Timestamp::now().utc_date());
    fs::write(dir.path().join(&name), format!("{old}\n")).unwrap();

    let output = tests::ncp_audit().arg("verify").arg(dir.path()).arg("--json").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    let planted = files.iter().find(|file| file["file"] == name.as_str()).unwrap();
    assert_eq!(planted["status"], "inserted", "{report:#}");

    // Compressed, it is the same name.
    gzip(&dir.path().join(&name));
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    let gz_name = format!("{name}.gz");
    assert_eq!(kinds, [(FindingKind::Inserted, Some(gz_name), None)]);
}

/// The original implementation's day file, already past the size limit when the writer
/// adopts it: the adoption checkpoint goes into it before the first rotation renames it, so
/// the rotated file carries chain data and the log verifies.
#[test]
fn the_original_implementations_day_file_rotated_by_the_writer_verifies() {
    use audit_sink::AuditLogger;

    let dir = tempfile::tempdir().unwrap();
    let today = Timestamp::now().utc_date();
    let compat = tests::compat_dir("01-default");
    let old = fs::read(compat.join("audit-2026-12-03.jsonl")).unwrap();
    assert!(old.len() > 4_000);
    fs::write(dir.path().join(format!("audit-{today}.jsonl")), &old).unwrap();
    let logger = AuditLogger::builder().dir(dir.path()).max_file_size_bytes(4_000).build().unwrap();
    logger.log(AuditEvent::code_execution_start("return 1"));
    logger.shutdown().unwrap();

    let rotated = read_lines(&dir.path().join(format!("audit-{today}.000001.jsonl")));
    assert_eq!(rotated.len(), 28, "the foreign lines and the adoption checkpoint");
    assert!(rotated[27].contains(r#""reason":"adopted""#), "{}", rotated[27]);
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    assert_eq!(report.verdict(), Verdict::Intact, "{report:#?}");
    assert_eq!(report.findings_of(FindingKind::ForeignLines).len(), 27);
}

/// An anchor file that is there but unreadable as an anchor is reported as damaged, not as
/// missing; it is tampering all the same.
#[test]
fn a_damaged_head_anchor_is_named_as_damaged() {
    let dir = tempfile::tempdir().unwrap();
    write_log(dir.path(), 2, 4);
    for (content, said) in [
        ("garbage\n", ".audit-head is damaged (not JSON)"),
        (r#"{"seq":"eight"}"#, ".audit-head is damaged (no valid seq and hash)"),
    ] {
        fs::write(dir.path().join(HEAD_FILE), content).unwrap();
        let output = tests::ncp_audit().arg("verify").arg(dir.path()).output().unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains(&format!("anchor-missing   {said}: ")), "{stdout}");
        assert!(!stdout.contains("is missing"), "{stdout}");
    }

    fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
    let report = verify_dir(dir.path(), |_| {}).unwrap();
    let missing = report.findings_of(FindingKind::AnchorMissing);
    assert!(missing[0].1.detail.starts_with(".audit-head is missing: "), "{missing:?}");
}

/// Another system wrote the next day's file after the chain began, past the size limit: the
/// writer does not rename it to a rotated name while it holds none of the writer's lines, so
/// every rotated file carries chain data; those lines are reported, as any other system's
/// lines from after the chain began.
#[test]
fn the_writer_never_gives_a_rotated_name_to_a_file_of_foreign_lines_alone() {
    use std::sync::Arc;

    use audit_sink::{AuditLogger, ManualClock};

    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::parse("2026-12-02T10:00:00.000Z").unwrap()));
    let log_one = |clock: &Arc<ManualClock>, i: u64| {
        let logger = AuditLogger::builder()
            .dir(dir.path())
            .clock(Arc::clone(clock) as _)
            .max_file_size_bytes(4_000)
            .build()
            .unwrap();
        logger.log(
            AuditEvent::binding_accessed("GitHub", "list_repos", Default::default())
                .with_detail("i", i),
        );
        logger.shutdown().unwrap();
    };
    log_one(&clock, 0);
    let compat = tests::compat_dir("01-default");
    fs::copy(compat.join("audit-2026-12-03.jsonl"), dir.path().join("audit-2026-12-03.jsonl"))
        .unwrap();
    clock.set(Timestamp::parse("2026-12-03T20:00:00.000Z").unwrap());
    log_one(&clock, 1);
    log_one(&clock, 2);

    for entry in fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if SegmentName::parse(&name).is_some_and(|segment| segment.sequence.is_some()) {
            let chained = read_lines(&path)
                .iter()
                .any(|line| audit_core::split_chained_line(line.as_bytes()).is_some());
            assert!(chained, "{name} holds no chain data");
        }
    }
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(kinds.iter().all(|(kind, file, line)| *kind == FindingKind::Inserted
        && file.as_deref() == Some("audit-2026-12-03.000001.jsonl")
        && line.is_some()));
}

/// `"seq":017` still names seq 17, but it is not JSON: readers skip the line as damaged, so
/// the edit that hid an event from them is a modification.
#[test]
fn a_sequence_number_padded_with_zeros_is_a_modification() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 2, 4);
    let mut lines = read_lines(&paths[0]);
    lines[2] = lines[2].replace(r#""seq":3,"#, r#""seq":00003,"#);
    write_lines(&paths[0], &lines);
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    let name = paths[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert_eq!(kinds, [(FindingKind::Modified, Some(name), Some(3))]);
}

/// Another system's history must be shown to predate the chain: times are compared as
/// instants (an offset counts), and an event whose time cannot be read proves nothing.
#[test]
fn a_foreign_file_must_be_dated_before_the_chain_in_any_spelling() {
    let event = |timestamp: &str| {
        format!(
            r#"{{"timestamp":{timestamp},"type":"network_request_allowed","severity":"info","context":{{}},"details":{{}},"outcome":"success"}}"#
        ) + "\n"
    };
    let cases = [
        // 09:30 at -01:00 is 10:30 UTC, after the chain's first line at 10:00 UTC.
        (event(r#""2026-12-03T09:30:00.000-01:00""#), FindingKind::Inserted),
        (event("1796330000000"), FindingKind::Inserted),
        (event(r#""yesterday""#), FindingKind::Inserted),
        (event(r#""2026-12-03T10:30:00.000+01:00""#), FindingKind::ForeignFile),
        ("not json at all\n".to_owned(), FindingKind::ForeignFile),
    ];
    for (text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), 2, 3);
        fs::write(dir.path().join("audit-2026-12-01.jsonl"), &text).unwrap();
        let report = verify_dir(dir.path(), |_| {}).unwrap();
        let file = report.files.iter().find(|file| file.name == "audit-2026-12-01.jsonl").unwrap();
        let kinds: Vec<FindingKind> = file.findings.iter().map(|finding| finding.kind).collect();
        assert_eq!(kinds, [expected], "{text}");
    }
}

/// Lines moved from one file to the next, or a file appended to the one before it, keep the
/// chain whole; the checkpoint that opened the next file says where the earlier one ended.
#[test]
fn lines_moved_between_files_are_a_modification() {
    let file_name = |path: &Path| path.file_name().unwrap().to_str().unwrap().to_owned();
    // The last line of the first file moved to the top of the second.
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 4);
    let mut first = read_lines(&paths[0]);
    let moved = first.pop().unwrap();
    write_lines(&paths[0], &first);
    let second = [vec![moved], read_lines(&paths[1])].concat();
    write_lines(&paths[1], &second);
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(
        kinds.contains(&(FindingKind::Modified, Some(file_name(&paths[0])), None)),
        "{kinds:?}"
    );

    // The second file appended to the first and removed.
    let dir = tempfile::tempdir().unwrap();
    let paths = write_log(dir.path(), 3, 4);
    let joined = [read_lines(&paths[0]), read_lines(&paths[1])].concat();
    write_lines(&paths[0], &joined);
    fs::remove_file(&paths[1]).unwrap();
    let (verdict, kinds) = tamper_kinds(dir.path());
    assert_eq!(verdict, Verdict::Tampered);
    assert!(
        kinds.contains(&(FindingKind::Modified, Some(file_name(&paths[0])), None)),
        "{kinds:?}"
    );
}
