//! `cargo xtask bench-query`: generates realistic audit logs and times `ncp-audit query`,
//! `stats` and `.gz` reading against jq, ripgrep and gunzip. A benchmark, never a test.
//!
//! Needs `jq`, `rg` (ripgrep: `apt-get install -y ripgrep`), `gzip` and `/usr/bin/time` on
//! the PATH.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Days of logs; each day has one size-rotated file and the day file.
const DAYS: [&str; 7] = [
    "2026-11-27",
    "2026-11-28",
    "2026-11-29",
    "2026-11-30",
    "2026-12-01",
    "2026-12-02",
    "2026-12-03",
];
const RARE_TYPE: &str = "network_request_denied";

/// A small deterministic generator (xorshift64*), so every run writes the same logs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const MCPS: [&str; 6] = ["code-mode", "github", "lg-remote", "Worker Code", "filesystem", "slack"];
const BINDINGS: [&str; 6] =
    ["list_repos", "read_file", "send_message", "get_status", "search", "write_file"];
const HOSTS: [&str; 6] = [
    "api.github.com",
    "registry.npmjs.org",
    "evil.com",
    "192.168.1.100:3000",
    "pastebin.com",
    "example.org",
];
const SNIPPETS: [&str; 4] = [
    "const repos = await github.list_repos({owner: 'anthropics'});\\nreturn repos.length;",
    "const files = await fs.read_dir('/workspace');\\nfor (const f of files) {\\n  console.log(f.name, f.size);\\n}\\nreturn files.filter(f => f.name.endsWith('.ts')).map(f => f.name);",
    "let total = 0;\\nfor (let i = 0; i < 1000; i++) { total += i * i; }\\nconst msg = `sum is ${total}`;\\nawait slack.send_message({channel: '#builds', text: msg});\\nreturn {ok: true, total};",
    "const res = await fetch('https://api.github.com/repos/anthropics/claude/issues?state=open&per_page=100');\\nconst issues = await res.json();\\nreturn issues.map(i => ({n: i.number, t: i.title, labels: i.labels.map(l => l.name)}));",
];

/// One line of a realistic mix: mostly tool calls, code runs with snippets, network traffic,
/// a few denials and violations.
fn event_line(rng: &mut Rng, timestamp: &str, out: &mut String) {
    let session = format!("session-17963{:08}-{:06x}", rng.below(100_000_000), rng.below(1 << 24));
    let mcp = rng.pick(&MCPS);
    let roll = rng.below(1000);
    let (kind, severity, outcome, context, details) = match roll {
        0..=549 => {
            let binding = rng.pick(&BINDINGS);
            let context = format!(
                r#"{{"mcpName":"{mcp}","bindingName":"{binding}","sessionId":"{session}"}}"#
            );
            let details = format!(
                r#"{{"method":"{binding}","argsPreview":"{{\"owner\":\"anthropics\",\"page\":{}}}","resultSize":{}}}"#,
                rng.below(20),
                rng.below(100_000)
            );
            ("binding_accessed", "info", "success", context, details)
        }
        550..=649 => {
            let snippet = rng.pick(&SNIPPETS);
            let details =
                format!(r#"{{"codeSnippet":"{snippet}","codeLength":{}}}"#, snippet.len());
            ("code_execution_start", "info", "pending", session_context(mcp, &session), details)
        }
        650..=739 => {
            let duration = 5 + rng.below(50) * rng.below(40);
            let details = format!(
                r#"{{"codeSnippet":"{}","resultPreview":"{}","durationMs":{duration}}}"#,
                rng.pick(&SNIPPETS),
                rng.below(1_000_000)
            );
            ("code_execution_success", "info", "success", session_context(mcp, &session), details)
        }
        740..=754 => {
            let details = format!(
                r#"{{"error":"TypeError: Cannot read properties of undefined (reading 'map')","stack":"TypeError: Cannot read properties of undefined\n    at <anonymous>:3:22","durationMs":{}}}"#,
                rng.below(3000)
            );
            ("code_execution_error", "error", "failure", session_context(mcp, &session), details)
        }
        755..=904 => {
            let host = rng.pick(&HOSTS);
            let details = format!(
                r#"{{"url":"https://{host}/v1/items/{}?page={}","method":"GET","status":200,"bytes":{}}}"#,
                rng.below(100_000),
                rng.below(50),
                rng.below(1_000_000)
            );
            ("network_request_allowed", "info", "success", session_context(mcp, &session), details)
        }
        905..=934 => {
            let host = rng.pick(&["evil.com", "pastebin.com", "10.0.0.5", "exfil.example.net"]);
            let details = format!(
                r#"{{"url":"http://{host}/upload/{}","method":"POST","reason":"Domain not in whitelist"}}"#,
                rng.below(500)
            );
            (RARE_TYPE, "warning", "blocked", session_context(mcp, &session), details)
        }
        935..=964 => {
            let details = format!(
                r#"{{"url":"https://{}/","permanent":true,"expiresIn":"never"}}"#,
                rng.pick(&HOSTS)
            );
            (
                "network_permission_granted",
                "info",
                "success",
                session_context(mcp, &session),
                details,
            )
        }
        965..=989 => {
            let details =
                format!(r#"{{"binding":"{}","methods":["get","list"]}}"#, rng.pick(&BINDINGS));
            ("binding_created", "info", "success", session_context(mcp, &session), details)
        }
        _ => {
            let details = r#"{"violation":"Prototype pollution attempt","code":"Object.prototype.isAdmin = true;","blocked":true}"#.to_owned();
            ("security_violation", "critical", "blocked", session_context(mcp, &session), details)
        }
    };
    // OK to ignore: writing to a String cannot fail.
    let _ = writeln!(
        out,
        r#"{{"timestamp":"{timestamp}","type":"{kind}","severity":"{severity}","context":{context},"details":{details},"outcome":"{outcome}"}}"#
    );
}

fn session_context(mcp: &str, session: &str) -> String {
    format!(r#"{{"mcpName":"{mcp}","sessionId":"{session}"}}"#)
}

/// Writes about `total_mb` MB over the days; returns the files in time order.
fn generate(dir: &Path, total_mb: u64) -> std::io::Result<Vec<PathBuf>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let per_day = total_mb * 1_000_000 / DAYS.len() as u64;
    let mut files = Vec::new();
    for day in DAYS {
        // The day's lines, evenly spread over the day; the first two thirds went into the
        // size-rotated file, the rest into the day file.
        let rotated = dir.join(format!("audit-{day}.000001.jsonl"));
        let active = dir.join(format!("audit-{day}.jsonl"));
        let mut writer = BufWriter::new(File::create(&rotated)?);
        let (mut written, mut line, mut switched) = (0_u64, String::new(), false);
        let n_lines_guess = per_day / 400;
        let mut line_idx = 0_u64;
        while written < per_day {
            if !switched && written >= per_day * 2 / 3 {
                writer.flush()?;
                writer = BufWriter::new(File::create(&active)?);
                switched = true;
            }
            let millis = (line_idx * 86_400_000 / n_lines_guess.max(1)).min(86_399_999);
            let timestamp = format!(
                "{day}T{:02}:{:02}:{:02}.{:03}Z",
                millis / 3_600_000,
                millis / 60_000 % 60,
                millis / 1000 % 60,
                millis % 1000
            );
            line.clear();
            event_line(&mut rng, &timestamp, &mut line);
            writer.write_all(line.as_bytes())?;
            written += line.len() as u64;
            line_idx += 1;
        }
        writer.flush()?;
        files.push(rotated);
        files.push(active);
    }
    Ok(files)
}

/// Runs a shell command with stdout to /dev/null, the best wall time of `runs` runs.
/// The best wall time of each command over `runs` rounds, the commands taking turns within a
/// round, so that a busy spell of a shared machine weighs on all of them alike.
fn time_best_of_each<const N: usize>(shells: [&str; N], runs: usize) -> [f64; N] {
    time_rounds(shells, runs).0
}

/// [`time_best_of_each`], with the median over the rounds of the first command's time over
/// the second's: on a shared machine, the ratio within a round is steadier than either time.
fn time_rounds<const N: usize>(shells: [&str; N], runs: usize) -> ([f64; N], f64) {
    let mut best = [f64::INFINITY; N];
    let mut ratios = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut round = [0.0; N];
        for ((shell, best), time) in shells.iter().zip(&mut best).zip(&mut round) {
            *time = time_best(shell, 1);
            *best = best.min(*time);
        }
        if N >= 2 {
            ratios.push(round[0] / round[1]);
        }
    }
    ratios.sort_by(f64::total_cmp);
    (best, ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN))
}

/// The least CPU time (user + system, all threads) of `runs` runs of a shell command, from
/// `/usr/bin/time`: unlike wall time, it hardly moves when other work shares the machine.
fn cpu_best(shell: &str, runs: usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%U %S", "sh", "-c", &format!("{shell} > /dev/null")])
            .stdout(Stdio::null())
            .output();
        let Ok(output) = output else { return f64::NAN };
        let stderr = String::from_utf8_lossy(&output.stderr);
        let seconds: Option<f64> = stderr
            .lines()
            .last()
            .and_then(|line| line.split_whitespace().map(|part| part.parse::<f64>().ok()).sum());
        best = best.min(seconds.unwrap_or(f64::NAN));
    }
    best
}

fn time_best(shell: &str, runs: usize) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let started = Instant::now();
        let status = Command::new("sh").args(["-c", shell]).stdout(Stdio::null()).status();
        let elapsed = started.elapsed().as_secs_f64();
        if !matches!(status, Ok(status) if status.code().is_some_and(|code| code <= 1)) {
            eprintln!("bench: command failed: {shell}");
        }
        best = best.min(elapsed);
    }
    best
}

/// A command's standard output, trimmed.
fn output_of(shell: &str) -> String {
    Command::new("sh")
        .args(["-c", shell])
        .output()
        .map(|output| {
            let mut text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            text.push_str(String::from_utf8_lossy(&output.stderr).trim());
            text
        })
        .unwrap_or_default()
}

/// Peak resident memory in MB of `binary` run with `args` (stdout to /dev/null), from
/// `/usr/bin/time -f %M`.
fn peak_mb(binary: &str, args: &[&str]) -> f64 {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(binary)
        .args(args)
        .stdout(Stdio::null())
        .output();
    let Ok(output) = output else { return f64::NAN };
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .last()
        .and_then(|kb| kb.trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// `cargo xtask bench-query [MB] [--keep DIR]`: `--keep` writes the logs to DIR and leaves
/// them there, for profiling.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask bench-query [MB] [--keep DIR]";
    let (mut total_mb, mut keep) = (210_u64, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--keep" => keep = Some(PathBuf::from(args.next().ok_or(usage)?)),
            mb => total_mb = mb.parse().map_err(|_| usage)?,
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let built = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "-p", "ncp-audit-cli", "--bin", "ncp-audit"])
        .status()
        .map_err(|error| format!("cargo: {error}"))?;
    if !built.success() {
        return Err("building ncp-audit failed".to_owned());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/release/ncp-audit");
    let binary = binary.canonicalize().map_err(|error| format!("{}: {error}", binary.display()))?;
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ncp-audit-bench-query-{}", std::process::id()))
    });
    fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let result = bench(&binary, &dir, total_mb);
    if keep.is_none() {
        // OK to ignore: a leftover temp dir is harmless and the result matters more.
        let _ = fs::remove_dir_all(&dir);
    }
    result
}

fn bench(binary: &Path, dir: &Path, total_mb: u64) -> Result<(), String> {
    let files = generate(dir, total_mb).map_err(|error| format!("generating logs: {error}"))?;
    let size: u64 =
        files.iter().filter_map(|file| fs::metadata(file).ok()).map(|meta| meta.len()).sum();
    let size_mb = size as f64 / 1e6;
    let file_list: Vec<String> = files.iter().map(|file| file.display().to_string()).collect();
    let file_list = file_list.join(" ");
    let (ncp, dir) = (binary.display().to_string(), dir.display().to_string());
    // Warm the page cache so every tool reads from memory.
    let _ = output_of(&format!("cat {file_list} > /dev/null"));
    println!("generated {size_mb:.0} MB in {} files ({} days)", files.len(), DAYS.len());

    let row = |name: &str, seconds: f64, note: String| {
        println!("  {name:<52} {seconds:>8.3} s  {:>8.0} MB/s  {note}", size_mb / seconds);
    };

    let query = format!("{ncp} query --dir {dir} --type {RARE_TYPE}");
    let jq_select = format!("jq -c 'select(.type==\"{RARE_TYPE}\")' {file_list}");
    let rg_count = format!("rg -c '\"type\":\"{RARE_TYPE}\"' {file_list}");
    let n_ours = output_of(&format!("{query} --count"));
    let n_jq = output_of(&format!("{jq_select} | wc -l"));
    // Best of many runs for the fast tools: the machine may be shared, and the best run is
    // the one least disturbed.
    let ([ours, rg], median_ratio) = time_rounds([&query, &rg_count], 20);
    let jq = time_best(&jq_select, 1);
    row("ncp-audit query --type X", ours, format!("{n_ours} events"));
    row("jq -c 'select(.type==\"X\")'", jq, format!("{n_jq} events"));
    row("rg -c '\"type\":\"X\"'", rg, String::new());
    println!(
        "  -> query is {:.0}x jq, {:.2}x the time of rg (best against best; median of the \
         per-round ratios {median_ratio:.2}x)",
        jq / ours,
        ours / rg
    );

    let [cpu_ours, cpu_rg] = [cpu_best(&query, 10), cpu_best(&rg_count, 10)];
    println!(
        "  CPU time (user + system, all threads, best of 10): query {cpu_ours:.3} s, rg \
         {cpu_rg:.3} s ({:.2}x)",
        cpu_ours / cpu_rg
    );

    let stats = format!("{ncp} stats --dir {dir}");
    let jq_reduce = format!("jq -n 'reduce inputs as $e ({{}}; .[$e.type] += 1)' {file_list}");
    let ours_stats = time_best(&stats, 20);
    let jq_stats = time_best(&jq_reduce, 1);
    row("ncp-audit stats", ours_stats, String::new());
    row("jq -n 'reduce inputs as $e ({}; .[$e.type] += 1)'", jq_stats, String::new());
    println!(
        "  -> stats is {:.0}x jq (CPU time: stats {:.3} s)",
        jq_stats / ours_stats,
        cpu_best(&stats, 10)
    );
    let (first, second) = (files[0].display().to_string(), files[1].display().to_string());
    println!(
        "  stats peak memory: {:.1} MB over {size_mb:.0} MB of logs, {:.1} MB over one day",
        peak_mb(&ncp, &["stats", "--dir", &dir]),
        peak_mb(&ncp, &["stats", "--file", &first, "--file", &second])
    );

    let range = format!(
        "{ncp} query --dir {dir} --since 2026-12-02T10:00:00Z --until 2026-12-02T10:05:00Z"
    );
    let wide = format!(
        "{ncp} query --dir {dir} --since 2026-11-29T00:00:00Z --until 2026-12-02T00:00:00Z"
    );
    let n_range = output_of(&format!("{range} --count"));
    let n_wide = output_of(&format!("{wide} --count"));
    row("ncp-audit query, 5-minute range", time_best(&range, 5), format!("{n_range} events"));
    row("ncp-audit query, 3-day range", time_best(&wide, 3), format!("{n_wide} events"));

    let gz = Path::new(&dir).join("audit-2026-12-03.000001.jsonl");
    let _ = output_of(&format!("gzip -k -6 {}", gz.display()));
    let gz = format!("{}.gz", gz.display());
    let raw_mb =
        fs::metadata(gz.trim_end_matches(".gz")).map_or(0.0, |meta| meta.len() as f64 / 1e6);
    let [ours_gz, ours_gz_query, gunzip] = time_best_of_each(
        [
            &format!("{ncp} stats --file {gz}"),
            &format!("{ncp} query --type {RARE_TYPE} --file {gz}"),
            &format!("gunzip -c {gz}"),
        ],
        10,
    );
    println!(
        "  .gz ({raw_mb:.0} MB decompressed): ncp-audit stats {ours_gz:.3} s, query \
         {ours_gz_query:.3} s, gunzip -c {gunzip:.3} s -> stats at {:.0}%, query at {:.0}% of \
         gunzip speed",
        gunzip / ours_gz * 100.0,
        gunzip / ours_gz_query * 100.0
    );
    Ok(())
}
