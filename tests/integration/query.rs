//! `ncp-audit query`, `stats` and `tail` end to end: the binary on files laid out the way the
//! writer and the original implementation lay them out.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

/// Runs `ncp-audit` with `args`; returns the exit code, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let output = tests::ncp_audit().args(args).output().expect("ncp-audit runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs `ncp-audit` on a directory.
fn run_dir(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = args.to_vec();
    let dir = dir.to_str().unwrap();
    all.extend(["--dir", dir]);
    run(&all)
}

/// A canonical line.
fn event(time: &str, kind: &str, severity: &str, outcome: &str, details: &str) -> String {
    format!(
        r#"{{"timestamp":"{time}","type":"{kind}","severity":"{severity}","context":{{"mcpName":"code-mode","sessionId":"s-1"}},"details":{details},"outcome":"{outcome}"}}"#
    )
}

/// `seq` of each line of JSON output.
fn seqs(stdout: &str) -> Vec<i64> {
    stdout
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            value["details"]["seq"].as_i64().unwrap()
        })
        .collect()
}

fn seq_line(time: &str, seq: u32) -> String {
    event(time, "binding_accessed", "info", "success", &format!(r#"{{"seq":{seq}}}"#))
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// Files of one day in every naming scheme, written out of order.
fn mixed_directory() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| fs::write(dir.path().join(name), text).unwrap();
    write("audit-2026-12-03.jsonl", seq_line("2026-12-03T18:00:00.000Z", 8) + "\n");
    write("audit-2026-12-03.000002.jsonl", seq_line("2026-12-03T17:00:00.000Z", 7) + "\n");
    let gz = [seq_line("2026-12-03T16:00:00.000Z", 5), seq_line("2026-12-03T16:30:00.000Z", 6)];
    fs::write(dir.path().join("audit-2026-12-03.000001.jsonl.gz"), gzip(&(gz.join("\n") + "\n")))
        .unwrap();
    write("audit-2026-12-03-1796320830781.jsonl", seq_line("2026-12-03T15:00:00.000Z", 4) + "\n");
    write("audit-2026-12-03T14-00-00-000Z.jsonl", seq_line("2026-12-03T13:00:00.000Z", 3) + "\n");
    let previous =
        [seq_line("2026-12-02T10:00:00.000Z", 1), seq_line("2026-12-02T11:00:00.000Z", 2)];
    write("audit-2026-12-02.jsonl", previous.join("\n") + "\n");
    write(".audit.lock", String::new());
    dir
}

#[test]
fn files_of_every_naming_scheme_come_out_in_time_order() {
    let dir = mixed_directory();
    let (code, stdout, stderr) = run_dir(dir.path(), &["query"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(seqs(&stdout), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(stderr, "");

    // Files named on the command line are ordered the same way.
    let mut args = vec!["query".to_owned()];
    let mut names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    names.retain(|path| !path.ends_with(".audit.lock"));
    names.reverse();
    for name in names {
        args.extend(["--file".to_owned(), name.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, _) = run(&args);
    assert_eq!(code, 0);
    assert_eq!(seqs(&stdout), [1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn original_implementation_files_are_read_in_order() {
    let dir = tests::compat_dir("14-v2.0.1-live-rotation");
    let (code, stdout, stderr) = run_dir(&dir, &["query"]);
    assert_eq!(code, 0, "{stderr}");
    let expected: Vec<i64> = (18..=39).collect();
    assert_eq!(seqs(&stdout), expected);

    let dir = tests::compat_dir("01-default");
    let (code, stdout, _) = run_dir(&dir, &["query", "--type", "totally_bogus_type"]);
    assert_eq!((code, stdout.lines().count()), (0, 1));
}

#[test]
fn output_is_the_original_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"binding_accessed","severity":"info","context":{},"details":{"big":123456789012345678901234567890,"id":9007199254740993,"f":1.50,"e":1E+400},"outcome":"success","extra":{"z":1,"a":2}}"#,
        r#"{ "outcome" : "success", "type": "binding_accessed", "timestamp": "2026-12-03T11:00:00.000+01:00", "severity": "info", "details": {"b": 2, "a": 1} }"#,
        r#"{"timestamp":"2026-12-03T10:30:00.000Z","type":"binding\u005faccessed","severity":"info","context":{},"details":{"s":"caf\u00e9 \"q\""},"outcome":"success"}"#,
    ];
    fs::write(dir.path().join("audit-2026-12-03.jsonl"), lines.join("\n") + "\n").unwrap();
    let (code, stdout, stderr) = run_dir(dir.path(), &["query", "--type", "binding_accessed"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, lines.join("\n") + "\n");
}

/// One file with each kind of damage; every good line comes out, every bad one is named.
#[test]
fn damaged_lines_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = |seq| seq_line("2026-12-03T10:00:00.000Z", seq);
    let huge = event(
        "2026-12-03T10:00:01.000Z",
        "code_execution_start",
        "info",
        "pending",
        &format!(r#"{{"codeSnippet":"{}","seq":99}}"#, "x".repeat(10 << 20)),
    );
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"\xEF\xBB\xBF");
    bytes.extend_from_slice(format!("{}\n", good(1)).as_bytes()); // line 1, after a BOM
    bytes.extend_from_slice(format!("{}\r\n", good(2)).as_bytes()); // line 2, CRLF
    bytes.extend_from_slice(b"not json at all\n"); // line 3
    bytes.extend_from_slice(b"[1,2,3]\n"); // line 4
    let mut invalid_utf8 = good(5).into_bytes();
    invalid_utf8.splice(60..60, [0xff, 0xfe]);
    bytes.extend_from_slice(&invalid_utf8); // line 5
    bytes.push(b'\n');
    bytes.extend_from_slice(format!("{huge}\n").as_bytes()); // line 6, 10 MB
    bytes.extend_from_slice(format!("{}\n", good(7)).as_bytes()); // line 7
    bytes.extend_from_slice(&good(8).as_bytes()[..50]); // line 8, torn
    let path = dir.path().join("audit-2026-12-03.jsonl");
    fs::write(&path, &bytes).unwrap();

    let (code, stdout, stderr) = run_dir(dir.path(), &["query"]);
    assert_eq!(code, 0, "{stderr}");
    let out_lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(out_lines.len(), 4);
    assert_eq!(out_lines[0], good(1));
    assert_eq!(out_lines[1], good(2));
    assert_eq!(out_lines[2], huge);
    assert_eq!(out_lines[3], good(7));
    let name = path.display().to_string();
    for (line_no, reason) in [
        (3, "not valid JSON"),
        (4, "expected a JSON object, found an array"),
        (5, "invalid UTF-8"),
        (8, "torn last line"),
    ] {
        let expected = format!("ncp-audit: skipped {name}:{line_no}: {reason}");
        assert!(stderr.contains(&expected), "{expected:?} not in {stderr}");
    }
    assert!(stderr.contains("skipped 4 unreadable line(s) or file(s) in all"), "{stderr}");

    let (code, stdout, stderr) = run_dir(dir.path(), &["query", "--strict"]);
    assert_eq!(code, 2);
    assert!(stderr.contains(&format!("{name}:3: not valid JSON")), "{stderr}");
    assert!(stderr.contains("(--strict)"), "{stderr}");
    assert!(!stdout.contains(r#""seq":7"#));
}

#[test]
fn damaged_gzip_files_are_skipped_after_their_good_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for seq in 0..5000 {
        text.push_str(&seq_line("2026-12-03T09:00:00.000Z", seq));
        text.push('\n');
    }
    let compressed = gzip(&text);
    let truncated = dir.path().join("audit-2026-12-03.000001.jsonl.gz");
    fs::write(&truncated, &compressed[..compressed.len() / 2]).unwrap();
    let corrupt = dir.path().join("audit-2026-12-03.000002.jsonl.gz");
    let mut garbage = compressed[..10].to_vec();
    garbage.extend(std::iter::repeat_n(0xAB, 500));
    fs::write(&corrupt, &garbage).unwrap();
    fs::write(
        dir.path().join("audit-2026-12-03.jsonl"),
        seq_line("2026-12-03T10:00:00.000Z", 9999) + "\n",
    )
    .unwrap();

    let (code, stdout, stderr) = run_dir(dir.path(), &["query"]);
    assert_eq!(code, 0, "{stderr}");
    let found = seqs(&stdout);
    assert!(found.len() > 100 && found.len() < 5001, "{}", found.len());
    assert_eq!(found.last(), Some(&9999));
    // Every line that came out is whole and in order.
    assert!(found[..found.len() - 1].windows(2).all(|pair| pair[1] == pair[0] + 1));
    assert!(stderr.contains(&format!("{}: gzip stream damaged", truncated.display())), "{stderr}");
    assert!(stderr.contains(&format!("{}: gzip stream damaged", corrupt.display())), "{stderr}");
}

fn filter_directory() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"timestamp":"2026-12-01T10:00:00.000Z","type":"code_execution_success","severity":"info","context":{"mcpName":"code-mode","sessionId":"s-1","userId":"u-1"},"details":{"durationMs":120,"seq":1},"outcome":"success"}"#,
        r#"{"timestamp":"2026-12-02T10:00:00.000Z","type":"code_execution_success","severity":"info","context":{"mcpName":"github","sessionId":"s-2"},"details":{"durationMs":2500,"seq":2},"outcome":"success"}"#,
        r#"{"timestamp":"2026-12-02T11:00:00.000Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"Worker Code","sessionId":"s-2"},"details":{"url":"http://evil.com/exfiltrate","seq":3},"outcome":"blocked"}"#,
        r#"{"timestamp":"2026-12-02T12:00:00.000Z","type":"network_request_allowed","severity":"info","context":{"mcpName":"github","bindingName":"GitHub","sessionId":"s-3"},"details":{"url":"https://api.github.com/repos","seq":4},"outcome":"success"}"#,
        r#"{"timestamp":"2026-12-03T09:00:00.000Z","type":"security_violation","severity":"critical","context":{"mcpName":"code-mode","sessionId":"s-3"},"details":{"violation":"Prototype pollution attempt","seq":5},"outcome":"blocked"}"#,
        r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"Worker Code","sessionId":"s-4"},"details":{"url":"http://10.0.0.5/admin","seq":6},"outcome":"blocked"}"#,
    ];
    for (day, wanted) in
        [("2026-12-01", "2026-12-01"), ("2026-12-02", "2026-12-02"), ("2026-12-03", "2026-12-03")]
    {
        let text: String = lines
            .iter()
            .filter(|line| line.contains(wanted))
            .map(|line| format!("{line}\n"))
            .collect();
        fs::write(dir.path().join(format!("audit-{day}.jsonl")), text).unwrap();
    }
    dir
}

/// Each filter kind through one door: the flags, and the `seq`s that answer.
#[test]
fn each_filter_selects_its_events() {
    let dir = filter_directory();
    let check = |args: &[&str], expected: &[i64]| {
        let mut all = vec!["query"];
        all.extend_from_slice(args);
        let (code, stdout, stderr) = run_dir(dir.path(), &all);
        assert_eq!(seqs(&stdout), expected, "{args:?}: {stderr}");
        assert_eq!(code, if expected.is_empty() { 1 } else { 0 }, "{args:?}");
    };
    check(&[], &[1, 2, 3, 4, 5, 6]);
    check(&["--type", "network_request_denied"], &[3, 6]);
    check(&["--type", "network_*"], &[3, 4, 6]);
    check(&["--type", "security_violation", "--type", "code_execution_*"], &[1, 2, 5]);
    check(&["--severity", "warning"], &[3, 5, 6]);
    check(&["--severity", "=warning"], &[3, 6]);
    check(&["--outcome", "blocked"], &[3, 5, 6]);
    check(&["--mcp", "github"], &[2, 4]);
    check(&["--binding", "GitHub"], &[4]);
    check(&["--session", "s-2"], &[2, 3]);
    check(&["--since", "2026-12-02T10:30:00Z"], &[3, 4, 5, 6]);
    check(&["--since", "2026-12-02", "--until", "2026-12-02"], &[2, 3, 4]);
    check(&["--until", "2026-12-02T11:00:00Z"], &[1, 2]);
    check(&["--since", "2026-12-02T12:00:00+01:00"], &[3, 4, 5, 6]);
    check(&["--where", "details.durationMs>1000"], &[2]);
    check(&["--where", "details.url~^http://"], &[3, 6]);
    check(&["--where", "context.userId=null"], &[2, 3, 4, 5, 6]);
    check(&["--where", "context.userId!=null"], &[1]);
    check(&["--where", "details.seq>=5", "--where", "details.seq<6"], &[5]);
    check(&["--grep", "evil.com"], &[3]);
    check(&["10.0.0.5"], &[6]);
    check(&["--type", "binding_created"], &[]);
    check(&["--limit", "2", "--severity", "warning"], &[3, 5]);

    let (code, stdout, _) = run_dir(dir.path(), &["query", "--count", "--outcome", "blocked"]);
    assert_eq!((code, stdout.as_str()), (0, "3\n"));
    let (code, stdout, _) = run_dir(dir.path(), &["query", "--count", "--type", "nothing"]);
    assert_eq!((code, stdout.as_str()), (1, "0\n"));
}

#[test]
fn bad_arguments_exit_2_with_a_message_naming_them() {
    let dir = filter_directory();
    let check = |args: &[&str], message: &str| {
        let (code, _, stderr) = run_dir(dir.path(), args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    };
    check(&["query", "--where", "details.durationMs"], "--where \"details.durationMs\": expected");
    check(&["query", "--where", "details.url~("], "bad regular expression");
    check(&["query", "--since", "last tuesday"], "--since \"last tuesday\": expected an RFC 3339");
    check(&["query", "--severity", "loud"], "unknown severity \"loud\"");
    check(&["stats", "--until", "soon"], "--until \"soon\"");
    let (code, _, stderr) = run(&["query", "--dir", "/nonexistent-ncp-audit-dir"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("audit directory /nonexistent-ncp-audit-dir does not exist"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["query", "--file", "/nonexistent-ncp-audit-file.jsonl"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent-ncp-audit-file.jsonl: no such file"), "{stderr}");
}

#[test]
fn table_and_csv_escape_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"evil\u001b]0;pwned\u0007"},"details":{"url":"http://x/a,b","note":"\u009b31m"},"outcome":"blocked"}"#;
    fs::write(dir.path().join("audit-2026-12-03.jsonl"), format!("{line}\n")).unwrap();

    let (code, stdout, _) = run_dir(dir.path(), &["query", "--format", "table"]);
    assert_eq!(code, 0);
    assert!(!stdout.chars().any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{9b}'), "{stdout:?}");
    assert!(stdout.starts_with("TIMESTAMP "));
    assert!(stdout.contains(r"evil\u001b]0;pw…"), "{stdout}");
    assert!(stdout.contains(r#""note":"\u009b31m""#), "{stdout}");

    let (code, stdout, _) = run_dir(dir.path(), &["query", "--format", "csv"]);
    assert_eq!(code, 0);
    let mut rows = stdout.lines();
    assert_eq!(
        rows.next(),
        Some("timestamp,type,severity,outcome,mcpName,bindingName,sessionId,details")
    );
    let row = rows.next().unwrap();
    assert!(
        row.starts_with("2026-12-03T10:00:00.000Z,network_request_denied,warning,blocked,"),
        "{row}"
    );
    // A pipe gets the values as logged; only a terminal gets them escaped.
    assert!(
        row.ends_with(",\"{\"\"url\"\":\"\"http://x/a,b\"\",\"\"note\"\":\"\"\u{9b}31m\"\"}\""),
        "{row}"
    );
}

#[test]
fn stats_counts_everything_in_json() {
    let dir = filter_directory();
    let (code, stdout, stderr) =
        run_dir(dir.path(), &["stats", "--json", "--by", "context.sessionId"]);
    assert_eq!(code, 0, "{stderr}");
    let stats: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(stats["events"], 6);
    assert_eq!(stats["first"], "2026-12-01T10:00:00.000Z");
    assert_eq!(stats["last"], "2026-12-03T10:00:00.000Z");
    assert_eq!(stats["byType"]["network_request_denied"], 2);
    assert_eq!(stats["byType"]["code_execution_success"], 2);
    assert_eq!(stats["bySeverity"]["warning"], 2);
    assert_eq!(stats["bySeverity"]["critical"], 1);
    assert_eq!(stats["byOutcome"]["blocked"], 3);
    assert_eq!(stats["byMcp"]["github"], 2);
    assert_eq!(stats["byDay"]["2026-12-02"], 3);
    assert_eq!(stats["byField"]["context.sessionId"]["s-2"], 2);
    assert_eq!(stats["codeExecutionDurationMs"]["count"], 2);
    assert_eq!(stats["codeExecutionDurationMs"]["max"], 2500.0);
    assert_eq!(stats["topDeniedUrls"]["http://evil.com/exfiltrate"], 1);
    assert_eq!(stats["topDeniedDomains"]["10.0.0.5"], 1);

    let (code, stdout, _) = run_dir(dir.path(), &["stats", "--json", "--since", "2026-12-03"]);
    assert_eq!(code, 0);
    let stats: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(stats["events"], 2);

    let (code, stdout, _) = run_dir(dir.path(), &["stats", "--type", "nothing"]);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("0 events"), "{stdout}");
}

/// A time range over a large file answers exactly what a full scan with the same bounds
/// answers: seeking and stopping early lose nothing.
#[test]
fn time_ranges_over_large_files_match_a_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for second in 0..40_000_u32 {
        let time = format!(
            "2026-12-03T{:02}:{:02}:{:02}.000Z",
            second / 3600,
            second / 60 % 60,
            second % 60
        );
        text.push_str(&seq_line(&time, second));
        text.push('\n');
    }
    fs::write(dir.path().join("audit-2026-12-03.jsonl"), &text).unwrap();
    fs::write(
        dir.path().join("audit-2026-12-02.jsonl"),
        seq_line("2026-12-02T23:00:00.000Z", 0) + "\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run_dir(
        dir.path(),
        &["query", "--since", "2026-12-03T05:00:00Z", "--until", "2026-12-03T05:10:00Z"],
    );
    assert_eq!(code, 0, "{stderr}");
    let expected: Vec<i64> = (5 * 3600..5 * 3600 + 600).collect();
    assert_eq!(seqs(&stdout), expected);
}

#[test]
fn tail_prints_the_last_events_across_files() {
    let dir = mixed_directory();
    let (code, stdout, stderr) = run_dir(dir.path(), &["tail", "-n", "4"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(seqs(&stdout), [5, 6, 7, 8]);
    let (_, stdout, _) = run_dir(dir.path(), &["tail", "-n", "2", "--type", "binding_accessed"]);
    assert_eq!(seqs(&stdout), [7, 8]);
    let (_, stdout, _) = run_dir(dir.path(), &["tail", "-n", "100"]);
    assert_eq!(seqs(&stdout), [1, 2, 3, 4, 5, 6, 7, 8]);
}

/// Reads a child's stdout lines on a thread, to wait for them with a timeout.
struct Follower {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Everything the child wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
}

impl Follower {
    fn start(dir: &Path) -> Follower {
        let mut child = tests::ncp_audit()
            .args(["tail", "-f", "-n", "1", "--poll-ms", "20", "--dir", dir.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut child_stderr = child.stderr.take().unwrap();
        let stderr_text = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buffer = [0_u8; 4096];
            while let Ok(n_read @ 1..) = child_stderr.read(&mut buffer) {
                stderr_text.lock().unwrap().push_str(&String::from_utf8_lossy(&buffer[..n_read]));
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Follower { child, lines, stderr }
    }

    /// Waits, at most 10 s, until the child has written `text` on stderr.
    fn wait_for_stderr(&self, text: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !self.stderr.lock().unwrap().contains(text) {
            assert!(std::time::Instant::now() < deadline, "no {text:?} on stderr in 10 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn expect(&self, seq: i64) {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("seq {seq} within 10 s"));
        assert_eq!(seqs(&line), [seq]);
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tail_follows_across_rotation_and_midnight() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("audit-2026-12-03.jsonl");
    let append = |path: &Path, text: &str| {
        let mut file = fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    };
    let yesterday = dir.path().join("audit-2026-12-02.jsonl");
    append(&yesterday, &format!("{}\n", seq_line("2026-12-02T12:00:00.000Z", 100)));
    append(
        &active,
        &format!(
            "{}\n{}\n",
            seq_line("2026-12-03T23:00:00.000Z", 1),
            seq_line("2026-12-03T23:00:01.000Z", 2)
        ),
    );
    let follower = Follower::start(dir.path());
    follower.expect(2);

    // A line written in two pieces comes out once, whole.
    let third = seq_line("2026-12-03T23:00:02.000Z", 3);
    append(&active, &third[..40]);
    std::thread::sleep(Duration::from_millis(100));
    append(&active, &format!("{}\n", &third[40..]));
    follower.expect(3);

    // Size rotation: a last line, the rename, compression of the rotated file (for a moment
    // yesterday's file is the newest plain file: it must not be printed again), then the new
    // active file.
    append(&active, &format!("{}\n", seq_line("2026-12-03T23:00:03.000Z", 4)));
    let rotated = dir.path().join("audit-2026-12-03.000001.jsonl");
    fs::rename(&active, &rotated).unwrap();
    follower.expect(4);
    fs::write(rotated.with_extension("jsonl.gz"), gzip(&fs::read_to_string(&rotated).unwrap()))
        .unwrap();
    fs::remove_file(&rotated).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    append(&active, &format!("{}\n", seq_line("2026-12-03T23:00:04.000Z", 5)));
    follower.expect(5);

    // Midnight: the next day's file.
    let next_day = dir.path().join("audit-2026-12-04.jsonl");
    append(&active, &format!("{}\n", seq_line("2026-12-03T23:59:59.999Z", 6)));
    append(&next_day, &format!("{}\n", seq_line("2026-12-04T00:00:00.000Z", 7)));
    follower.expect(6);
    follower.expect(7);
    append(&next_day, &format!("{}\n", seq_line("2026-12-04T00:00:01.000Z", 8)));
    follower.expect(8);
}

#[test]
fn a_closed_pipe_is_success() {
    let dir = tempfile::tempdir().unwrap();
    let text: String =
        (0..200_000).map(|seq| seq_line("2026-12-03T10:00:00.000Z", seq) + "\n").collect();
    fs::write(dir.path().join("audit-2026-12-03.jsonl"), text).unwrap();
    let mut child = tests::ncp_audit()
        .args(["query", "--dir", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0_u8; 100];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

/// A large file is read by several threads over byte ranges; the lines they name are still
/// numbered from the start of the file, and a file of garbage is only counted past the first
/// problems.
#[test]
fn problems_in_large_files_keep_their_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    let n_lines = 40_000;
    for seq in 1..=n_lines {
        if seq == 31_234 {
            text.push_str("{\"broken\": \n");
        } else {
            text.push_str(&seq_line("2026-12-03T10:00:00.000Z", seq));
            text.push('\n');
        }
    }
    assert!(text.len() > 5 << 20, "large enough for several threads");
    let path = dir.path().join("audit-2026-12-03.jsonl");
    fs::write(&path, &text).unwrap();
    fs::write(dir.path().join("audit-2026-12-04.jsonl"), "garbage\n".repeat(50_000)).unwrap();

    let (code, stdout, stderr) = run_dir(dir.path(), &["query", "--count"]);
    assert_eq!((code, stdout.as_str()), (0, "39999\n"), "{stderr}");
    assert!(stderr.contains(&format!("{}:31234: not valid JSON", path.display())), "{stderr}");
    assert!(stderr.contains("skipped 50001 unreadable line(s)"), "{stderr}");
    assert!(stderr.lines().count() < 30, "only the first problems are printed");
}

#[test]
fn a_file_being_compressed_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = seq_line("2026-12-03T10:00:00.000Z", 1) + "\n";
    let plain = dir.path().join("audit-2026-12-03.000001.jsonl");
    fs::write(&plain, &text).unwrap();
    let gz = dir.path().join("audit-2026-12-03.000001.jsonl.gz");
    fs::write(&gz, gzip(&text)).unwrap();
    let (_, stdout, _) = run_dir(dir.path(), &["query"]);
    assert_eq!(seqs(&stdout), [1]);
    // Named alone, the .gz is read even though its twin is beside it.
    let (code, stdout, _) = run(&["query", "--file", gz.to_str().unwrap()]);
    assert_eq!((code, seqs(&stdout)), (0, vec![1]));
}

/// `seq_line` with chain data at its end, as the writer puts it (the hash is made up: `tail`
/// does not check it, only tells lines apart by it).
fn chained_seq_line(time: &str, seq: u32) -> String {
    let line = seq_line(time, seq);
    let event = line.strip_suffix('}').unwrap();
    format!(r#"{event},"chain":{{"seq":{seq},"hash":"{:064x}"}}}}"#, u64::from(seq) * 7919)
}

/// Several rotations between two looks of `tail -f` leave whole files in between; none of
/// their lines may be skipped, and none printed twice.
#[test]
fn tail_follows_through_several_rotations_between_two_looks() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("audit-2026-12-03.jsonl");
    fs::write(&active, format!("{}\n", chained_seq_line("2026-12-03T10:00:00.000Z", 1))).unwrap();
    let follower = Follower::start(dir.path());
    follower.expect(1);
    // Let the follower settle on the file it follows (see the FIXME in `cmd_tail::reopen`).
    std::thread::sleep(Duration::from_millis(200));
    // Three rotations at once, as a fast writer does between two polls.
    for rotation in 1..=3 {
        let mut text = String::new();
        for idx in 0..3 {
            text.push_str(&chained_seq_line("2026-12-03T10:00:01.000Z", rotation * 10 + idx));
            text.push('\n');
        }
        let mut file = fs::OpenOptions::new().append(true).open(&active).unwrap();
        file.write_all(text.as_bytes()).unwrap();
        drop(file);
        let rotated = dir.path().join(format!("audit-2026-12-03.{rotation:06}.jsonl"));
        fs::rename(&active, &rotated).unwrap();
        fs::write(&active, "").unwrap();
        if rotation < 3 {
            // Compressed before the follower's next look, as a fast writer's compressor does.
            let text = fs::read_to_string(&rotated).unwrap();
            fs::write(rotated.with_extension("jsonl.gz"), gzip(&text)).unwrap();
            fs::remove_file(&rotated).unwrap();
        }
    }
    fs::write(&active, format!("{}\n", chained_seq_line("2026-12-03T10:00:02.000Z", 99))).unwrap();
    // Every line, once, in order.
    let mut seen = Vec::new();
    while seen.last() != Some(&99) {
        let line = follower.lines.recv_timeout(Duration::from_secs(10)).expect("seq 99 in 10 s");
        seen.extend(seqs(&line));
    }
    assert_eq!(seen, [10, 11, 12, 20, 21, 22, 30, 31, 32, 99]);
}

/// A rotated file that retention deleted before `tail -f` looked: its lines cannot be printed,
/// but their loss is said, naming their sequence numbers.
#[test]
fn tail_names_lines_removed_before_it_could_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("audit-2026-12-03.jsonl");
    let line = |seq| chained_seq_line("2026-12-03T10:00:00.000Z", seq) + "\n";
    fs::write(&active, line(1)).unwrap();
    let follower = Follower::start(dir.path());
    follower.expect(1);
    std::thread::sleep(Duration::from_millis(200));
    // Two rotations between two looks; retention with a small maxFiles deletes the file in
    // between at once. (The followed file itself stays readable through its open handle.)
    fs::rename(&active, dir.path().join("audit-2026-12-03.000001.jsonl")).unwrap();
    fs::write(&active, [line(2), line(3), line(4)].concat()).unwrap();
    let pruned = dir.path().join("audit-2026-12-03.000002.jsonl");
    fs::rename(&active, &pruned).unwrap();
    fs::remove_file(&pruned).unwrap();
    fs::write(&active, line(5)).unwrap();

    let mut printed = Vec::new();
    while printed.last() != Some(&5) {
        let line = follower.lines.recv_timeout(Duration::from_secs(10)).expect("seq 5 in 10 s");
        printed.extend(seqs(&line));
    }
    let stderr = follower.stderr.lock().unwrap().clone();
    // What was printed and what was declared gone make up every line after the first.
    let declared: Vec<i64> = match stderr.split("(chain seq ").nth(1) {
        Some(rest) => {
            let range: Vec<i64> =
                rest.split(')').next().unwrap().split(" to ").map(|n| n.parse().unwrap()).collect();
            (range[0]..=range[1]).collect()
        }
        None => Vec::new(),
    };
    let mut all = [printed.clone(), declared].concat();
    all.sort_unstable();
    assert_eq!(all, [2, 3, 4, 5], "printed {printed:?}, stderr: {stderr}");
}

/// Events backfilled with old timestamps after newer ones: a time range skips them unless
/// `--unordered` asks to read every line.
#[test]
fn unordered_reads_every_line_for_a_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = seq_line("2026-12-03T18:00:00.000Z", 0) + "\n";
    for seq in 1..=3 {
        text.push_str(&seq_line(&format!("2026-12-03T05:0{seq}:00.000Z"), seq));
        text.push('\n');
    }
    fs::write(dir.path().join("audit-2026-12-03.jsonl"), text).unwrap();
    let range = ["query", "--since", "2026-12-03T05:00:00Z", "--until", "2026-12-03T06:00:00Z"];
    let mut unordered = range.to_vec();
    unordered.extend(["--unordered", "--count"]);
    let (code, stdout, stderr) = run_dir(dir.path(), &unordered);
    assert_eq!((code, stdout.trim()), (0, "3"), "{stderr}");

    let (_, stdout, stderr) = run_dir(dir.path(), &["query", "--outcome", "blok", "--count"]);
    assert_eq!(stdout.trim(), "0");
    assert!(stderr.contains("--outcome \"blok\" is none of success, failure"), "{stderr}");
}

#[test]
fn stats_and_query_count_the_same_lines_when_one_is_not_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes =
        seq_line("2026-12-03T10:00:00.000Z", 1).replace("\"seq\":1", "\"seq\":\"\u{1}\"");
    bytes = bytes.replace('\u{1}', "\u{fffd}");
    let mut file = bytes.into_bytes();
    // Swap the replacement character for a lone invalid byte.
    let at = file.windows(3).position(|w| w == "\u{fffd}".as_bytes()).unwrap();
    file.splice(at..at + 3, [0xff]);
    file.push(b'\n');
    file.extend_from_slice((seq_line("2026-12-03T10:00:01.000Z", 2) + "\n").as_bytes());
    fs::write(dir.path().join("audit-2026-12-03.jsonl"), file).unwrap();

    let (_, count, _) = run_dir(dir.path(), &["query", "--count"]);
    let (_, stats, _) = run_dir(dir.path(), &["stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(count.trim(), "1");
    assert_eq!(stats["events"], 1, "{stats}");
}

#[test]
fn a_file_named_twice_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit-2026-12-03.jsonl");
    fs::write(&path, seq_line("2026-12-03T10:00:00.000Z", 1) + "\n").unwrap();
    let again = dir.path().join(".").join("audit-2026-12-03.jsonl");
    let (code, stdout, stderr) = run(&[
        "query",
        "--count",
        "--file",
        path.to_str().unwrap(),
        "--file",
        again.to_str().unwrap(),
    ]);
    assert_eq!((code, stdout.as_str()), (0, "1\n"), "{stderr}");
}

/// `tail -f` started on an empty directory: files rotated before its first look at one are
/// printed too, in order, before the file it then follows.
#[test]
fn tail_started_on_an_empty_directory_prints_what_was_rotated_before_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let follower = Follower::start(dir.path());
    // Files written before the follower first looked would be history, not news.
    follower.wait_for_stderr("no audit files");
    let line = |seq| chained_seq_line("2026-12-03T10:00:00.000Z", seq) + "\n";
    fs::write(dir.path().join("audit-2026-12-03.000001.jsonl"), [line(1), line(2)].concat())
        .unwrap();
    fs::write(dir.path().join("audit-2026-12-03.000002.jsonl"), line(3)).unwrap();
    fs::write(dir.path().join("audit-2026-12-03.jsonl"), line(4)).unwrap();
    let mut seen = Vec::new();
    while seen.last() != Some(&4) {
        let line = follower.lines.recv_timeout(Duration::from_secs(10)).expect("seq 4 in 10 s");
        seen.extend(seqs(&line));
    }
    assert_eq!(seen, [1, 2, 3, 4]);
}
