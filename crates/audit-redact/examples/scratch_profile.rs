//! scratch
use audit_core::AuditEvent;
use audit_redact::Redactor;
use std::hint::black_box;
use std::time::{Duration, Instant};
fn t(name: &str, f: &mut dyn FnMut()) {
    let n = 200000;
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    println!("{name:30} {:8.0} ns", start.elapsed().as_nanos() as f64 / n as f64);
}
fn main() {
    let r = Redactor::default();
    let snippet = "const repos = await github.list_repos({ owner: 'anthropics' });\nreturn repos.filter((repo) => !repo.archived).map((repo) => repo.full_name);";
    let event = AuditEvent::code_execution_success(
        snippet,
        "{\"names\":[\"anthropics/x\"],\"stars\":42}",
        Duration::from_millis(12),
    )
    .with_mcp_name("code-mode")
    .with_session_id("session-1732008930123-000001")
    .with_detail("url", "https://api.github.com/orgs/anthropics/repos?page=1&per_page=100")
    .with_detail("method", "GET")
    .with_detail("status", 200);
    let mut empty = AuditEvent::code_execution_start("");
    empty.details.clear();
    t("clone", &mut || {
        black_box(event.clone());
    });
    t("redact full", &mut || {
        black_box(r.redact(black_box(event.clone())));
    });
    t("redact empty event", &mut || {
        black_box(r.redact(black_box(empty.clone())));
    });
    let details = serde_json::Value::Object(event.details.clone());
    t("clone details", &mut || {
        black_box(details.clone());
    });
    t("redact_json details", &mut || {
        black_box(r.redact_json(black_box(details.clone())));
    });
    let mut ctx_only = event.clone();
    ctx_only.details.clear();
    t("redact ctx only", &mut || {
        black_box(r.redact(black_box(ctx_only.clone())));
    });
    for (k, v) in event.details.iter() {
        let one = serde_json::json!({k: v});
        t(&format!("json {k}"), &mut || {
            black_box(r.redact_json(black_box(one.clone())));
        });
    }
    t("text snippet", &mut || {
        black_box(r.redact_text(black_box(snippet)));
    });
    t("text url", &mut || {
        black_box(r.redact_text(black_box(
            "https://api.github.com/orgs/anthropics/repos?page=1&per_page=100",
        )));
    });
    t("text session", &mut || {
        black_box(r.redact_text(black_box("session-1732008930123-000001")));
    });
    t("text short", &mut || {
        black_box(r.redact_text(black_box("GET")));
    });
    t("text key", &mut || {
        black_box(r.redact_text(black_box("codeSnippet")));
    });
}
