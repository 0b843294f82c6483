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
fn original_implementation_files_are_foreign_not_tampered() {
    let dir = tempfile::tempdir().unwrap();
    // The writer took over after the original implementation: its chain begins now, after
    // every event of the copied files.
    log_events(dir.path(), 5);
    let compat = tests::shared_dir().join("ncp-compat").join("06-rotation-manual");
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
    let compat = tests::shared_dir().join("ncp-compat").join("01-default");
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

/// Logs `n` events through the real writer into `dir`.
fn log_events(dir: &Path, n: usize) {
    let logger = audit_sink::AuditLogger::builder().dir(dir).build().unwrap();
    for idx in 0..n {
        logger.log(
            AuditEvent::binding_accessed("GitHub", "list_repos", Default::default())
                .with_detail("i", idx),
        );
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
    for idx in 0..40 {
        logger.log(
            AuditEvent::binding_accessed("GitHub", "list_repos", Default::default())
                .with_detail("i", idx),
        );
        logger.flush().unwrap();
    }
    logger.shutdown().unwrap();
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

/// One tampering, as the property test applies it.
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

const N_FILES: usize = 3;
const LINES_PER_FILE: usize = 8;

fn arb_tamper() -> impl Strategy<Value = Tamper> {
    let file = 0..N_FILES;
    let line = 0..LINES_PER_FILE;
    prop_oneof![
        (file.clone(), line.clone(), 0..400usize, 0x20u8..0x7f)
            .prop_map(|(file, line, at, with)| Tamper::FlipByte { file, line, at, with }),
        (file.clone(), line.clone()).prop_map(|(file, line)| Tamper::DeleteLine { file, line }),
        (file.clone(), 0..=LINES_PER_FILE)
            .prop_map(|(file, line)| Tamper::InsertLine { file, line }),
        (file.clone(), 0..LINES_PER_FILE - 1)
            .prop_map(|(file, line)| Tamper::SwapLines { file, line }),
        (file.clone(), line.clone(), 0..LINES_PER_FILE).prop_map(|(file, line, after)| {
            Tamper::DuplicateLine { file, line, after: line.max(after) }
        }),
        (file.clone(), 0..LINES_PER_FILE).prop_map(|(file, keep)| Tamper::CutTail { file, keep }),
        file.clone().prop_map(|file| Tamper::DeleteFile { file }),
        (0..N_FILES - 1).prop_map(|file| Tamper::SwapFiles { file }),
    ]
}

/// Applies `tamper` and says which finding kinds name it correctly.
fn apply(tamper: &Tamper, paths: &[PathBuf]) -> Vec<FindingKind> {
    use FindingKind::*;
    match *tamper {
        Tamper::FlipByte { file, line, at, with } => {
            let mut lines = read_lines(&paths[file]);
            let mut bytes = lines[line].clone().into_bytes();
            let at = at % bytes.len();
            let with =
                if bytes[at] == with { if with == b'a' { b'b' } else { b'a' } } else { with };
            bytes[at] = with;
            lines[line] = String::from_utf8(bytes).unwrap();
            write_lines(&paths[file], &lines);
            vec![Modified]
        }
        Tamper::DeleteLine { file, line } => {
            let mut lines = read_lines(&paths[file]);
            lines.remove(line);
            write_lines(&paths[file], &lines);
            match (file, line) {
                // The very first lines of a chain: nothing before them says how many there
                // were, so deleted lines and removed files look alike.
                (0, 0) => vec![Deleted, FileMissing],
                (_, line) if line + 1 == LINES_PER_FILE => vec![Deleted, TailTruncated],
                _ => vec![Deleted],
            }
        }
        Tamper::InsertLine { file, line } => {
            let mut lines = read_lines(&paths[file]);
            let forged = AuditEvent::network_request_allowed("https://ok.test/", "GET")
                .at(Timestamp::parse("2026-12-03T10:00:00.000Z").unwrap());
            lines.insert(line, forged.to_json_line());
            write_lines(&paths[file], &lines);
            vec![Inserted]
        }
        Tamper::SwapLines { file, line } => {
            let mut lines = read_lines(&paths[file]);
            lines.swap(line, line + 1);
            write_lines(&paths[file], &lines);
            vec![Reordered]
        }
        Tamper::DuplicateLine { file, line, after } => {
            let mut lines = read_lines(&paths[file]);
            let copy = lines[line].clone();
            lines.insert(after + 1, copy);
            write_lines(&paths[file], &lines);
            vec![Duplicated]
        }
        Tamper::CutTail { file, keep } => {
            let lines = read_lines(&paths[file]);
            write_lines(&paths[file], &lines[..keep.max(1)]);
            if keep == 0 {
                fs::write(&paths[file], "").unwrap();
                return vec![TailTruncated, FileMissing, Deleted];
            }
            vec![TailTruncated]
        }
        Tamper::DeleteFile { file } => {
            fs::remove_file(&paths[file]).unwrap();
            vec![FileMissing]
        }
        Tamper::SwapFiles { file } => {
            let (a, b) = (&paths[file], &paths[file + 1]);
            let parked = a.with_extension("parked");
            fs::rename(a, &parked).unwrap();
            fs::rename(b, a).unwrap();
            fs::rename(&parked, b).unwrap();
            vec![FilesSwapped]
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_tampering_is_detected_and_named(tamper in arb_tamper(), compress in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_log(dir.path(), N_FILES, LINES_PER_FILE);
        let expected = apply(&tamper, &paths);
        if compress {
            // Compress the rotated files (not the day file) after tampering: the verdict
            // must not change.
            for path in &paths[..N_FILES - 1] {
                if path.exists() {
                    gzip(path);
                }
            }
        }
        let (verdict, kinds) = tamper_kinds(dir.path());
        prop_assert_eq!(verdict, Verdict::Tampered, "{:?}: {:?}", tamper, kinds);
        let first = kinds.first().map(|(kind, _, _)| *kind);
        prop_assert!(
            kinds.iter().any(|(kind, _, _)| expected.contains(kind)),
            "{:?} expected one of {:?}, found {:?} (first {:?})", tamper, expected, kinds, first
        );
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
    let compat = tests::shared_dir().join("ncp-compat").join("01-default");
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
    let compat = tests::shared_dir().join("ncp-compat").join("01-default");
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
    let compat = tests::shared_dir().join("ncp-compat").join("01-default");
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
