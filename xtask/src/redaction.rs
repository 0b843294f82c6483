//! `cargo xtask score-redaction` and `cargo xtask bench-redact`: measuring the redactor.

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use serde_json::{Value, json};

/// Scores `ncp-audit redact` on the shared corpus: feeds each input through the command (the
/// `snippet500` ones with `--snippet`), writes the `{id, output}` lines the scorer reads to a
/// temporary folder, and runs `score.py -v` on them.
pub(crate) fn score() -> Result<(), String> {
    let root = workspace_root();
    let corpus = root.join("..").join("shared").join("redaction-corpus");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "--package", "ncp-audit-cli", "--bin", "ncp-audit"])
        .current_dir(&root)
        .status()
        .map_err(|error| format!("running cargo build: {error}"))?;
    if !built.success() {
        return Err("building ncp-audit failed".into());
    }
    let binary = root.join("target").join("release").join("ncp-audit");

    let mut records = Vec::new();
    for file in ["positives.jsonl", "negatives.jsonl"] {
        let path = corpus.join(file);
        let text = fs::read_to_string(&path)
            .map_err(|error| format!("reading {}: {error}", path.display()))?;
        for (line_idx, line) in text.lines().enumerate().filter(|(_, line)| !line.is_empty()) {
            let record: Value = serde_json::from_str(line)
                .map_err(|error| format!("{}:{}: {error}", path.display(), line_idx + 1))?;
            records.push(record);
        }
    }
    let is_snippet = |record: &Value| record["pipeline"] == "snippet500";
    let (snippets, plain): (Vec<&Value>, Vec<&Value>) = records.iter().partition(|r| is_snippet(r));
    let mut outputs = redact_inputs(&binary, &[], &plain)?;
    outputs.extend(redact_inputs(&binary, &["--snippet"], &snippets)?);

    let out_dir = env::temp_dir().join(format!("ncp-audit-score-{}", std::process::id()));
    fs::create_dir_all(&out_dir)
        .map_err(|error| format!("creating {}: {error}", out_dir.display()))?;
    let outputs_path = out_dir.join("outputs.jsonl");
    let lines: String = outputs.iter().map(|line| format!("{line}\n")).collect();
    fs::write(&outputs_path, lines)
        .map_err(|error| format!("writing {}: {error}", outputs_path.display()))?;
    eprintln!("==> outputs in {}", outputs_path.display());
    let scored = Command::new("python3")
        .arg(corpus.join("score.py"))
        .arg("--outputs")
        .arg(&outputs_path)
        .arg("-v")
        .status()
        .map_err(|error| format!("running python3 score.py: {error}"))?;
    if scored.success() { Ok(()) } else { Err("score.py failed".into()) }
}

/// Runs `ncp-audit redact ARGS` on the records' inputs, one per line; returns one
/// `{"id", "output"}` line per record.
fn redact_inputs(binary: &Path, args: &[&str], records: &[&Value]) -> Result<Vec<String>, String> {
    let mut child = Command::new(binary)
        .arg("redact")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("running {}: {error}", binary.display()))?;
    let input: String = records.iter().map(|record| format!("{}\n", record["input"])).collect();
    let mut stdin = child.stdin.take().ok_or("no stdin for ncp-audit")?;
    // A writer thread keeps the pipe from filling while this thread reads the output.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|error| format!("ncp-audit redact: {error}"))?;
    writer.join().map_err(|_| "the writer thread panicked")?.map_err(|e| e.to_string())?;
    let text = String::from_utf8(output.stdout).map_err(|error| error.to_string())?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != records.len() {
        return Err(format!("{} inputs but {} outputs", records.len(), lines.len()));
    }
    records
        .iter()
        .zip(lines)
        .map(|(record, line)| {
            let output: Value = serde_json::from_str(line)
                .map_err(|error| format!("output for {}: {error}", record["id"]))?;
            Ok(json!({"id": record["id"], "output": output}).to_string())
        })
        .collect()
}

/// Runs the redaction benchmark in release mode.
pub(crate) fn bench() -> ExitCode {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["run", "--release", "--quiet", "-p", "audit-redact", "--example", "bench_redact"])
        .current_dir(workspace_root())
        .status();
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // OK because xtask/ sits directly inside the workspace root.
    manifest_dir.parent().expect("xtask/ is inside the workspace").to_path_buf()
}
