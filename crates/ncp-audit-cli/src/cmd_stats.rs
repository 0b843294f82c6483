//! `ncp-audit stats`: counts, durations and denials over the log, in flat memory.

use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::process::ExitCode;

use audit_core::serde_json::{Map, Value, json};
use audit_core::{LenientEvent, Timestamp};
use clap::Args;

use crate::cmd_common::{
    FilterArgs, ProgressReport, SourceArgs, Stdout, default_threads, escape_controls,
    report_problems,
};
use crate::query::{Stats, StatsOptions, TopK};
use crate::read::Line;
use crate::scan::{self, Accumulator, Problems, ScanOptions};

/// Arguments of `stats`.
#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    filter: FilterArgs,
    /// Also count the values of this field path, e.g. context.userId (repeatable).
    #[arg(long = "by", value_name = "FIELD")]
    by: Vec<String>,
    /// How many entries the ranked lists show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Threads that count lines [default: the number of cores, at most 8].
    #[arg(long, value_name = "N", hide = true)]
    threads: Option<usize>,
}

/// Per-thread counters.
struct Counting {
    stats: Stats,
    options: StatsOptions,
    /// `--strict`: check every counted line is JSON, so that a damaged one is an error.
    strict: bool,
}

impl Accumulator for Counting {
    fn fresh(&self) -> Counting {
        Counting { stats: Stats::new(&self.options), options: self.options.clone(), ..*self }
    }

    fn accept(&mut self, line: &Line<'_>, event: Option<&LenientEvent>) -> Result<(), String> {
        self.stats.add_line(line.bytes, event)
    }

    fn absorb(&mut self, later: Counting) {
        self.stats.merge(later.stats);
    }

    fn validates(&self) -> bool {
        self.strict
    }
}

/// Runs `stats`: exit 0 when events were counted, 1 when none, 2 on error.
pub(crate) fn run(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let filter = args.filter.to_filter(Timestamp::now())?;
    let segments = args.source.segments()?;
    let options = StatsOptions { by: args.by.clone(), cap: 1000.max(args.top) };
    let mut counting =
        Counting { stats: Stats::new(&options), options, strict: args.source.strict };
    let scan_options = ScanOptions {
        strict: args.source.strict,
        n_threads: args.threads.unwrap_or_else(default_threads).max(1),
    };
    let mut problems = Problems::default();
    let mut progress = ProgressReport::new();
    let result = scan::scan(
        &segments,
        &filter,
        &scan_options,
        &mut counting,
        &mut problems,
        &mut |_, at| {
            progress.update(at);
            ControlFlow::Continue(())
        },
    );
    progress.finish();
    report_problems(&problems);
    result?;

    counting.stats.finish();
    let stats = &counting.stats;
    let text = if args.json {
        let mut text = audit_core::serde_json::to_string_pretty(&to_json(stats, args.top))?;
        text.push('\n');
        text
    } else {
        to_text(stats, args.top)
    };
    Stdout::new().write(text.as_bytes())?;
    Ok(if stats.n_events > 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn counts_json(counts: &TopK, entries: Vec<(String, u64)>) -> Value {
    let mut object = Map::new();
    for (key, count) in entries {
        object.insert(key, json!(count));
    }
    if counts.is_approximate() {
        object.insert("(approximate: counts are lower bounds)".to_owned(), json!(true));
    }
    Value::Object(object)
}

fn to_json(stats: &Stats, top: usize) -> Value {
    let durations = &stats.durations;
    let percentile = |p: f64| durations.percentile(p).map_or(Value::Null, |ms| json!(ms));
    let mut by_field = Map::new();
    for (path, counts) in &stats.by_field {
        by_field.insert(path.clone(), counts_json(counts, counts.top(top)));
    }
    json!({
        "events": stats.n_events,
        "first": stats.first_timestamp(),
        "last": stats.last_timestamp(),
        "byType": counts_json(&stats.by_type, stats.by_type.top(usize::MAX)),
        "bySeverity": counts_json(&stats.by_severity, stats.by_severity.top(usize::MAX)),
        "byOutcome": counts_json(&stats.by_outcome, stats.by_outcome.top(usize::MAX)),
        "byMcp": counts_json(&stats.by_mcp, stats.by_mcp.top(top)),
        "byDay": counts_json(&stats.by_day, stats.by_day.by_key()),
        "byField": by_field,
        "codeExecutionDurationMs": {
            "count": durations.count(),
            "p50": percentile(50.0),
            "p90": percentile(90.0),
            "p99": percentile(99.0),
            "max": durations.max(),
        },
        "topDeniedUrls": counts_json(&stats.denied_urls, stats.denied_urls.top(top)),
        "topDeniedDomains": counts_json(&stats.denied_domains, stats.denied_domains.top(top)),
    })
}

fn to_text(stats: &Stats, top: usize) -> String {
    let mut text = String::new();
    let range = match (stats.first_timestamp(), stats.last_timestamp()) {
        (Some(first), Some(last)) => format!(" from {first} to {last}"),
        _ => String::new(),
    };
    // OK to ignore: writing to a String cannot fail.
    let _ = writeln!(text, "{} events{range}", stats.n_events);
    let total = stats.n_events.max(1) as f64;
    let mut section = |title: &str, counts: &TopK, entries: Vec<(String, u64)>| {
        // Shares of all events make sense for partitions of them, not for the denial lists.
        let with_share = !title.starts_with("most denied");
        if entries.is_empty() {
            return;
        }
        let approximate = if counts.is_approximate() { " (approximate)" } else { "" };
        let _ = writeln!(text, "\n{title}{approximate}:");
        for (key, count) in entries {
            // Keys are logged values: escape them so they cannot drive a terminal.
            let mut escaped = String::new();
            escape_controls(&key, &mut escaped);
            let key = escaped;
            let share = count as f64 * 100.0 / total;
            if with_share {
                let _ = writeln!(text, "  {key:<40} {count:>12} {share:>6.2}%");
            } else {
                let _ = writeln!(text, "  {key:<40} {count:>12}");
            }
        }
    };
    section("by type", &stats.by_type, stats.by_type.top(usize::MAX));
    section("by severity", &stats.by_severity, stats.by_severity.top(usize::MAX));
    section("by outcome", &stats.by_outcome, stats.by_outcome.top(usize::MAX));
    section("by MCP", &stats.by_mcp, stats.by_mcp.top(top));
    for (path, counts) in &stats.by_field {
        section(&format!("by {path}"), counts, counts.top(top));
    }
    section("per day", &stats.by_day, stats.by_day.by_key());
    section("most denied URLs", &stats.denied_urls, stats.denied_urls.top(top));
    section("most denied domains", &stats.denied_domains, stats.denied_domains.top(top));

    let durations = &stats.durations;
    if durations.count() > 0 {
        let ms = |p: f64| durations.percentile(p).unwrap_or(0.0);
        let _ = writeln!(
            text,
            "\ncode execution duration ({} runs): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max \
             {:.1} ms",
            durations.count(),
            ms(50.0),
            ms(90.0),
            ms(99.0),
            durations.max().unwrap_or(0.0)
        );
    }
    text
}
