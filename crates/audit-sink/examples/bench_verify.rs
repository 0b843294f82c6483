//! Measures `verify_dir` on a generated chained log.
//!
//! `cargo run --release -p audit-sink --example bench_verify -- [MEGABYTES]` writes about
//! MEGABYTES (default 512) of chained lines into a temporary directory, split into 64 MB files
//! with a checkpoint at each file start, and prints the verification speed. The page cache is
//! warm (the files were just written), so this measures hashing and parsing, not the disk.

use std::fs;
use std::time::{Duration, Instant};

use audit_core::{AuditEvent, ChainLink, EventType, Timestamp, append_chained_line};
use audit_sink::{HEAD_FILE, SegmentName, Verdict, verify_dir};

const FILE_BYTES: usize = 64 << 20;

fn main() {
    let megabytes: usize = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(512);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let total = megabytes << 20;

    let mut head = ChainLink::GENESIS;
    let mut written = 0;
    let mut file_idx = 0;
    let start = Timestamp::parse("2026-12-03T00:00:00.000Z").expect("valid").as_unix_millis();
    let mut n_events: i64 = 0;
    while written < total {
        file_idx += 1;
        let mut bytes = Vec::with_capacity(FILE_BYTES + 4096);
        if file_idx > 1 {
            let checkpoint = AuditEvent::new(EventType::AuditCheckpoint, Default::default());
            head = append_chained_line(head, checkpoint.to_json_line().as_bytes(), &mut bytes);
        }
        while bytes.len() < FILE_BYTES && written + bytes.len() < total {
            n_events += 1;
            let event = sample_event(n_events)
                .at(Timestamp::from_unix_millis(start + n_events).expect("in range"));
            head = append_chained_line(head, event.to_json_line().as_bytes(), &mut bytes);
        }
        written += bytes.len();
        let name = SegmentName::rotated("2026-12-03", file_idx);
        fs::write(dir.path().join(name.to_string()), &bytes).expect("write a segment");
    }

    let anchor = format!(r#"{{"seq":{},"hash":"{}"}}"#, head.seq, head.hash_hex());
    fs::write(dir.path().join(HEAD_FILE), anchor).expect("write the head anchor");

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let report = verify_dir(dir.path(), |_| {}).expect("verify");
    let cpu = cpu_seconds() - cpu_before;
    let elapsed = started.elapsed();
    assert_eq!(report.verdict(), Verdict::Intact);
    print_result(written, n_events, file_idx, elapsed, cpu);
}

fn sample_event(n: i64) -> AuditEvent {
    let code =
        "const repos = await github.list_repos({owner: 'anthropics'});\nreturn repos.length;";
    match n % 4 {
        0 => AuditEvent::code_execution_success(code, "42", Duration::from_millis(12)),
        1 => AuditEvent::network_request_allowed("https://api.github.com/repos?page=2", "GET"),
        _ => AuditEvent::binding_accessed("GitHub", "list_repos", Duration::from_millis(3)),
    }
    .with_mcp_name("code-mode")
    .with_session_id("session-1732008930123-k3v9x0q2m7ab")
}

#[expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn print_result(bytes: usize, n_events: i64, n_files: u32, elapsed: Duration, cpu: f64) {
    let megabytes = bytes as f64 / 1e6;
    println!(
        "verified {megabytes:.0} MB ({n_events} lines, {n_files} files) in {:.2}s: {:.0} MB/s; \
         {cpu:.2} CPU-seconds: {:.0} MB per CPU-second",
        elapsed.as_secs_f64(),
        megabytes / elapsed.as_secs_f64(),
        megabytes / cpu.max(1e-9),
    );
}

/// CPU time (user and system) this process has used, from `/proc/self/stat`, so that the
/// result means something on a machine shared with other work. `NaN` where unavailable.
fn cpu_seconds() -> f64 {
    let Ok(stat) = fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    // Fields after the command name (which is in parentheses and may hold spaces): utime and
    // stime are the 12th and 13th of them, in clock ticks (100 per second on Linux).
    let Some(after_name) = stat.rsplit_once(')').map(|(_, rest)| rest) else { return f64::NAN };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |idx: usize| fields.get(idx).and_then(|field| field.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}
