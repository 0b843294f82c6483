//! Measures redaction time per typical audit event, on one core.
//!
//! ```sh
//! cargo run --release -p audit-redact --example bench_redact
//! ```
//!
//! A typical event is about 500 bytes: a code snippet, a URL, a few details keys. The
//! benchmark times three sets: events with nothing to redact (the common case), events with a
//! secret in the snippet, the URL and a header, and the mix of nine clean events to one with
//! secrets. Cloning the input event is timed on its own and subtracted, since the logger hands
//! the redactor an event it owns.

use std::hint::black_box;
use std::time::{Duration, Instant};

use audit_core::AuditEvent;
use audit_redact::Redactor;
use serde_json::json;

const SNIPPET: &str = "const repos = await github.list_repos({ owner: 'anthropics' });\n\
return repos.filter((repo) => !repo.archived).map((repo) => repo.full_name);";

const SECRET_SNIPPET: &str = "const gh = new Octokit({ auth: \
'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' });\n\
return (await gh.repos.listForOrg({ org: 'anthropics' })).data.length;";

fn clean_event(idx: usize) -> AuditEvent {
    AuditEvent::code_execution_success(
        SNIPPET,
        "{\"names\":[\"anthropics/x\"],\"stars\":42}",
        Duration::from_millis(12),
    )
    .with_mcp_name("code-mode")
    .with_session_id(format!("session-1732008930123-{idx:06}"))
    .with_detail(
        "url",
        format!("https://api.github.com/orgs/anthropics/repos?page={idx}&per_page=100"),
    )
    .with_detail("method", "GET")
    .with_detail("status", 200)
}

fn secret_event(idx: usize) -> AuditEvent {
    AuditEvent::code_execution_success(SECRET_SNIPPET, "{\"count\":42}", Duration::from_millis(12))
        .with_mcp_name("code-mode")
        .with_session_id(format!("session-1732008930123-{idx:06}"))
        .with_detail(
            "url",
            format!("https://api.example.com/v1/items?page={idx}&api_key=JR29kjNo4vnTPrneCOOY"),
        )
        .with_detail(
            "headers",
            json!({"Accept": "application/json", "Authorization": "Bearer 6U8u6aC0aVP1x"}),
        )
}

/// Nanoseconds per event to redact `events`, best of a few rounds, minus the cost of cloning.
fn time_per_event(redactor: &Redactor, events: &[AuditEvent]) -> (f64, f64) {
    // Best of many short rounds: on a shared machine, the quiet moments are the measurement.
    let rounds = 25;
    let repeats = 50;
    let mut best_redact = f64::MAX;
    let mut best_clone = f64::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..repeats {
            for event in events {
                black_box(event.clone());
            }
        }
        let clone_ns = start.elapsed().as_nanos() as f64 / (repeats * events.len()) as f64;
        let start = Instant::now();
        for _ in 0..repeats {
            for event in events {
                black_box(redactor.redact(black_box(event.clone())));
            }
        }
        let total_ns = start.elapsed().as_nanos() as f64 / (repeats * events.len()) as f64;
        best_clone = best_clone.min(clone_ns);
        best_redact = best_redact.min(total_ns - clone_ns);
    }
    (best_redact, best_clone)
}

fn main() {
    let redactor = Redactor::default();
    let clean: Vec<AuditEvent> = (0..1000).map(clean_event).collect();
    let secret: Vec<AuditEvent> = (0..1000).map(secret_event).collect();
    let mixed: Vec<AuditEvent> = (0..1000)
        .map(|idx| if idx % 10 == 0 { secret_event(idx) } else { clean_event(idx) })
        .collect();

    let size = |events: &[AuditEvent]| {
        events.iter().map(|event| event.to_json_line().len()).sum::<usize>() / events.len()
    };
    println!("{:<34} {:>10} {:>12} {:>12}", "set", "bytes/evt", "redact ns", "clone ns");
    for (name, events) in [
        ("clean (nothing to redact)", &clean),
        ("secrets (snippet, url, header)", &secret),
        ("mixed (1 in 10 with secrets)", &mixed),
    ] {
        let (redact_ns, clone_ns) = time_per_event(&redactor, events);
        println!("{name:<34} {:>10} {redact_ns:>12.0} {clone_ns:>12.0}", size(events));
    }
}
