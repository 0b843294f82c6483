//! The redactor against the shared redaction corpus (scored by its own scorer), the
//! `ncp-audit redact` command, and properties over generated inputs.

use std::fs;
use std::io::Write;
use std::process::Command;

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
    let all: Vec<&str> = std::iter::once("redact").chain(args.iter().copied()).collect();
    let output = tests::ncp_audit_with_stdin(&all, input);
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

mod properties {
    use std::time::Duration;

    use audit_core::AuditEvent;
    use audit_redact::{
        CODE_SNIPPET_LIMIT, MARKER, RESULT_PREVIEW_LIMIT, Redactor, TRUNCATION_SUFFIX,
    };
    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;
    use serde_json::{Value, json};

    /// Secrets of several kinds, each generated in its documented shape.
    fn provider_token() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9]{36}".prop_map(|tail| format!("ghp_{tail}")),
            "[A-Z0-9]{16}".prop_map(|tail| format!("AKIA{tail}")),
            "[0-9]{12}-[0-9]{13}-[A-Za-z0-9]{24}".prop_map(|tail| format!("xoxb-{tail}")),
            "[A-Za-z0-9]{24,40}".prop_map(|tail| format!("sk_live_{tail}")),
            "[A-Za-z0-9_-]{20}".prop_map(|tail| format!("glpat-{tail}")),
            "[A-Za-z0-9_-]{35}".prop_map(|tail| format!("AIza{tail}")),
            "[A-Za-z0-9_-]{40,60}".prop_map(|tail| format!("sk-proj-{tail}")),
            ("[A-Za-z0-9_-]{20,40}", "[A-Za-z0-9_-]{20,40}", "[A-Za-z0-9_-]{20,43}").prop_map(
                |(header, payload, signature)| format!("eyJ{header}.eyJ{payload}.{signature}")
            ),
        ]
    }

    /// A password: letters first, then digits and symbols that free text does not end a
    /// value on.
    fn password() -> impl Strategy<Value = String> {
        "[A-Za-z]{4}[0-9]{2}[A-Za-z0-9!*~_^-]{6,14}"
    }

    fn sensitive_name() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "password",
            "apiKey",
            "api_key",
            "API-KEY",
            "client_secret",
            "SECRET_KEY_BASE",
            "db-password",
            "accessToken",
            "x-api-key",
            "refresh_token",
            "Authorization",
        ])
        .prop_map(str::to_owned)
    }

    /// A secret placed in one of the ways the redactor must see through, as a JSON value.
    fn planted() -> impl Strategy<Value = (String, Value)> {
        prop_oneof![
            (sensitive_name(), password()).prop_map(|(name, secret)| {
                let value = json!({ name: secret.clone() });
                (secret, value)
            }),
            (sensitive_name(), password()).prop_map(|(name, secret)| {
                let value = json!([{"name": name, "value": secret.clone()}]);
                (secret, value)
            }),
            password().prop_map(|secret| {
                let url = format!("https://api.example.com/v1?page=2&api_key={secret}&x=1");
                (secret, Value::String(url))
            }),
            password().prop_map(|secret| {
                (secret.clone(), Value::String(format!("postgres://app:{secret}@db:5432/app")))
            }),
            (sensitive_name(), password(), 0..4_usize).prop_map(|(name, secret, style)| {
                let text = match style {
                    0 => format!("{name} = \"{secret}\"\nnext();"),
                    1 => format!("config:\n  {name}: {secret}\n  ttl: 3600"),
                    2 => format!("./run --{name} {secret} --verbose"),
                    _ => format!("level=error {name}={secret} status=403"),
                };
                (secret, Value::String(text))
            }),
            provider_token().prop_map(|token| {
                (token.clone(), Value::String(format!("loaded {token} from the environment")))
            }),
            provider_token().prop_map(|token| (token.clone(), json!({"value": token}))),
        ]
    }

    /// Wraps `value` in `depth` layers of benign objects and arrays.
    fn nest(value: Value, path: &[u8]) -> Value {
        path.iter().fold(value, |inner, step| match step % 3 {
            0 => json!({"data": inner, "count": 3}),
            1 => json!([1, inner, "x"]),
            _ => Value::String(inner.to_string()),
        })
    }

    fn encodings(secret: &str) -> Vec<String> {
        let json_escaped = serde_json::to_string(secret).unwrap();
        let percent: String = secret
            .bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() {
                    (byte as char).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect();
        vec![secret.to_owned(), json_escaped[1..json_escaped.len() - 1].to_owned(), percent]
    }

    /// Text made only of words that name nothing secret.
    fn benign_text() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "the",
            "repos",
            "filter",
            "map",
            "return",
            "const",
            "value",
            "items",
            "index",
            "42",
            "=",
            ":",
            "(",
            ")",
            "{",
            "}",
            ",",
            ";",
            "\n",
            "https://example.com/a?b=c",
            "é",
            "😀",
            "user",
            "count",
            "name",
            "status=200",
            "2024-05-01T12:00:00Z",
        ]);
        prop::collection::vec(words, 0..40).prop_map(|words| words.join(" "))
    }

    /// Text dense in the bytes and words the parsers react to, to shake out panics.
    fn tricky_text() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            prop::sample::select(vec![
                "password",
                "apiKey",
                "token",
                "=",
                ":",
                "\"",
                "'",
                "\\",
                "\\\"",
                "://",
                "@",
                "?",
                "&",
                ";",
                "#",
                "%",
                "%4",
                "%5F",
                "Bearer ",
                "Basic ",
                "-----BEGIN ",
                "PRIVATE KEY-----",
                "-----END",
                "ghp_",
                "AKIA",
                "eyJ",
                ".equals(",
                " -p",
                " -u ",
                "mysql",
                "login",
                ":AA",
                "{",
                "}",
                "[",
                "]",
                "(",
                ")",
                "<",
                ">",
                "é",
                "😀",
                " ",
                "\n",
                "Some(",
                "discord",
                "Q~",
                "IDENTIFIED BY ",
                "value",
            ])
            .prop_map(str::to_owned),
            "\\PC{0,12}",
        ];
        prop::collection::vec(pieces, 0..30).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        // A fixed seed keeps the suite deterministic; the regressions file keeps past failures.
        #![proptest_config(ProptestConfig {
            cases: 64,
            rng_seed: RngSeed::Fixed(0x5ec2e7),
            ..ProptestConfig::default()
        })]

        #[test]
        fn planted_secrets_never_come_out(
            (secret, planted) in planted(),
            path in prop::collection::vec(any::<u8>(), 0..4),
        ) {
            let redactor = Redactor::default();
            let value = nest(planted, &path);
            let event = AuditEvent::code_execution_start("return 1").with_detail("payload", value);
            let mut line = Vec::new();
            redactor.redact(event).write_json_line(&mut line);
            let line = String::from_utf8(line).unwrap();
            for form in encodings(&secret) {
                prop_assert!(!line.contains(&form), "{form:?} leaked in {line}");
            }
            // The line holds a JSON string nested `n` times; decode to see every layer.
            let mut layer = line.clone();
            for _ in 0..path.len() {
                layer = layer.replace("\\\\", "\\").replace("\\\"", "\"");
                prop_assert!(!layer.contains(&secret), "{secret:?} leaked in a layer of {line}");
            }
        }

        #[test]
        fn redaction_is_idempotent_and_writes_valid_json(
            (_, planted) in planted(),
            text in tricky_text(),
        ) {
            let redactor = Redactor::default();
            let event = AuditEvent::code_execution_error(&text, &text, Duration::ZERO)
                .with_detail("payload", planted)
                .with_user_id(text.clone());
            let once = redactor.redact(event);
            let twice = redactor.redact(once.as_event().clone());
            prop_assert_eq!(once.as_event(), twice.as_event());
            let mut line = Vec::new();
            once.write_json_line(&mut line);
            let line = std::str::from_utf8(&line).unwrap();
            prop_assert!(line.ends_with('\n'));
            prop_assert!(AuditEvent::from_json(line.trim_end()).is_ok(), "{line}");
        }

        #[test]
        fn input_without_secrets_comes_out_unchanged(text in benign_text()) {
            let redactor = Redactor::default();
            prop_assert_eq!(redactor.redact_text(&text), text.as_str());
            let details = json!({"query": text.clone(), "nested": [{"count": 3, "note": text}]});
            prop_assert_eq!(redactor.redact_json(details.clone()), details);
        }

        #[test]
        fn truncation_keeps_whole_characters_within_the_limit(text in "\\PC{0,700}") {
            let redactor = Redactor::default();
            let event = AuditEvent::code_execution_success(&text, &text, Duration::ZERO);
            let redacted = redactor.redact(event);
            let details = &redacted.as_event().details;
            let limits = [("codeSnippet", CODE_SNIPPET_LIMIT), ("resultPreview", RESULT_PREVIEW_LIMIT)];
            for (key, limit) in limits {
                let out = details[key].as_str().unwrap();
                // A text that ends as the original implementation ended its cuts (`...`) counts
                // as already cut.
                let kept = out.strip_suffix(TRUNCATION_SUFFIX).unwrap_or(out);
                let kept = if kept == text { kept.strip_suffix("...").unwrap_or(kept) } else { kept };
                let n_chars = kept.chars().count();
                prop_assert!(n_chars <= limit, "{key}: {n_chars} chars");
                let unredacted = redactor.redact_text(&text);
                prop_assert!(unredacted.starts_with(kept) || kept.contains(MARKER));
            }
            prop_assert_eq!(details["codeLength"].as_u64(), Some(text.chars().count() as u64));
        }

        #[test]
        fn nothing_panics_on_arbitrary_input(text in tricky_text(), raw in "\\PC{0,200}") {
            let redactor = Redactor::default();
            let _ = redactor.redact_text(&text);
            let _ = redactor.redact_text(&raw);
            let _ = redactor.redact_snippet(&text);
            let pair = json!({"name": raw.clone(), "value": text.clone()});
            let _ = redactor.redact_json(json!({text.clone(): [text, pair]}));
        }
    }
}

/// The original implementation's files (`shared/ncp-compat/`) kept `apiKey`, nested passwords,
/// headers in arrays and `user:pass@` in URLs; scrubbed, none is left, and every line is still
/// there.
#[test]
fn files_of_the_original_implementation_scrub_clean() {
    let compat = tests::shared_dir().join("ncp-compat");
    let leaked = [
        "NOT-REDACTED",
        "NESTED-TOKEN",
        "IN-ARRAY",
        "hunter2",
        "user:pass@",
        "api_key=SECRET",
        "token=abc",
    ];
    let mut n_files = 0;
    for case in fs::read_dir(&compat).unwrap() {
        for file in fs::read_dir(case.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let input = fs::read_to_string(&path).unwrap();
            let (stdout, stderr, code) = run_redact(&[], &input);
            assert_eq!(code, Some(0), "{}: {stderr}", path.display());
            assert_eq!(stdout.lines().count(), input.lines().count(), "{}", path.display());
            for secret in leaked {
                assert!(!stdout.contains(secret), "{secret} left in {}", path.display());
            }
            n_files += 1;
        }
    }
    assert!(n_files >= 8, "only {n_files} files found under {}", compat.display());
}

/// Regressions from a tester's run: credentials after an auth scheme in an authentication
/// header go whatever they look like, and `pw` names a password.
#[test]
fn auth_headers_and_short_password_names() {
    let redactor = Redactor::new(audit_redact::RedactionPolicy::default());
    let check = |input: &str, expected: &str| {
        assert_eq!(redactor.redact_text(input), expected, "input {input:?}");
    };
    check("Authorization: Bearer abc.def.ghi", "Authorization: Bearer <redacted>");
    check("auth=Bearer abcdefghijk", "auth=Bearer <redacted>");
    check(
        r#"curl -H "Authorization: Bearer abcdefghijklmnopqrstuvwxyz" x"#,
        r#"curl -H "Authorization: Bearer <redacted>" x"#,
    );
    check("x-auth: Basic dXNlcg", "x-auth: Basic <redacted>");
    // Prose and placeholders stay.
    check("Bearer token required", "Bearer token required");
    check("Authorization: Bearer <token>", "Authorization: Bearer <token>");
    check("set the header to Bearer authentication", "set the header to Bearer authentication");

    let value = serde_json::json!({"pw": "hunter2x", "db_pw": "x", "pwLength": 12, "pwa": "app"});
    assert_eq!(
        redactor.redact_json(value),
        serde_json::json!({"pw": "<redacted>", "db_pw": "<redacted>", "pwLength": 12, "pwa": "app"})
    );
}
