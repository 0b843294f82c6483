//! The redactor against the shared redaction corpus (scored by its own scorer), the
//! `ncp-audit redact` command, and properties over generated inputs.

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};

use audit_redact::{Redactor, TRUNCATION_SUFFIX};
use serde_json::{Value, json};

/// Redacts one corpus input the way its record asks: JSON as details, text as free text,
/// `snippet500` as a code snippet.
fn redact_corpus_input(redactor: &Redactor, record: &Value) -> Value {
    let input = record["input"].clone();
    match (record["input_type"].as_str(), record["pipeline"].as_str()) {
        (Some("text"), Some("snippet500")) => {
            Value::String(redactor.redact_snippet(input.as_str().unwrap_or_default()))
        }
        (Some("text"), _) => {
            Value::String(redactor.redact_text(input.as_str().unwrap_or_default()).into_owned())
        }
        _ => redactor.redact_json(input),
    }
}

/// The two numbers the scorer prints: recall and the false-positive rate, in percent.
fn parse_score(report: &str) -> (f64, f64) {
    let percent_after = |label: &str| -> f64 {
        let line = report.lines().find(|line| line.starts_with(label)).unwrap_or_else(|| {
            panic!("no line starting with {label:?} in the scorer's report:\n{report}")
        });
        let after_equals = line.split(" = ").nth(1).expect("a `= N%` figure");
        after_equals.split('%').next().unwrap().trim().parse().expect("a percentage")
    };
    (percent_after("recall"), percent_after("false positives"))
}

#[test]
fn the_corpus_scores_full_recall_and_at_most_one_percent_false_positives() {
    let corpus = tests::shared_dir().join("redaction-corpus");
    let redactor = Redactor::default();
    let temp = tempfile::tempdir().unwrap();
    let outputs_path = temp.path().join("outputs.jsonl");
    let mut outputs = fs::File::create(&outputs_path).unwrap();
    for file in ["positives.jsonl", "negatives.jsonl"] {
        let text = fs::read_to_string(corpus.join(file)).unwrap();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let record: Value = serde_json::from_str(line).unwrap();
            let output = redact_corpus_input(&redactor, &record);
            writeln!(outputs, "{}", json!({"id": record["id"], "output": output})).unwrap();
        }
    }
    drop(outputs);

    let scored = Command::new("python3")
        .arg(corpus.join("score.py"))
        .arg("--outputs")
        .arg(&outputs_path)
        .arg("-v")
        .output()
        .expect("python3 runs the corpus scorer");
    let report = String::from_utf8_lossy(&scored.stdout);
    assert!(
        scored.status.success(),
        "scorer failed: {report}{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    let (recall, false_positives) = parse_score(&report);
    assert_eq!(recall, 100.0, "{report}");
    assert!(false_positives <= 1.0, "{report}");
}

fn run_redact(args: &[&str], input: &str) -> (String, String, Option<i32>) {
    let mut child = tests::ncp_audit()
        .arg("redact")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (text(output.stdout), text(output.stderr), output.status.code())
}

#[test]
fn redact_command_writes_one_line_per_line_and_reports_bad_ones() {
    let input = concat!(
        "\"export GITHUB_TOKEN=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\"\n",
        "{\"headers\":[[\"X-Api-Key\",\"pXoNhPElNaH6R5e7pXv5\"]]}\n",
        "{oops password=hunter2hunter2\n",
        "\"plain text stays\"\n",
    );
    let (stdout, stderr, code) = run_redact(&[], input);
    assert_eq!(
        stdout,
        concat!(
            "\"export GITHUB_TOKEN=<redacted>\"\n",
            "{\"headers\":[[\"X-Api-Key\",\"<redacted>\"]]}\n",
            "{oops password=<redacted>\n",
            "\"plain text stays\"\n",
        )
    );
    assert!(stderr.contains("stdin:3:"), "{stderr}");
    assert_eq!(code, Some(1));
}

#[test]
fn redact_command_text_mode_and_snippet_mode() {
    let (stdout, _, code) = run_redact(&["--text"], "curl -u admin:Xf.d4Y2-HPjOWv https://x\n");
    assert_eq!(stdout, "curl -u admin:<redacted> https://x\n");
    assert_eq!(code, Some(0));

    let long = format!("\"{}api_key=KES5qdcOhvQQXZDOJE8oppfle15FxgRj\"\n", "é".repeat(495));
    let (stdout, _, code) = run_redact(&["--snippet"], &long);
    let value: Value = serde_json::from_str(stdout.trim()).unwrap();
    let snippet = value.as_str().unwrap();
    assert_eq!(snippet, format!("{}api_k{TRUNCATION_SUFFIX}", "é".repeat(495)));
    assert_eq!(code, Some(0));
}

#[test]
fn redact_command_scrubs_whole_audit_events() {
    let line = r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"network_request_allowed","severity":"info","context":{"sessionId":"session-1"},"details":{"url":"https://u:pw123456@db.example/x?token=abc123def456","method":"GET"},"outcome":"success"}"#;
    let (stdout, _, code) = run_redact(&[], &format!("{line}\n"));
    assert_eq!(
        stdout.trim_end(),
        line.replace("pw123456", "<redacted>").replace("abc123def456", "<redacted>")
    );
    assert_eq!(code, Some(0));
}
