//! The event model against the design's golden lines, the original implementation's files,
//! and arbitrary events.

use std::fs;

use audit_core::{AuditEvent, EventType, LenientEvent, Outcome, Severity, Timestamp};
use proptest::prelude::*;
use serde_json::{Map, Value};

const GOLDEN_LINES: &str = r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"code_execution_success","severity":"info","context":{"mcpName":"code-mode","sessionId":"session-1732008930123-abc123"},"details":{"codeSnippet":"const repos = await github.list_repos({owner: 'anthropics'});\nreturn repos.length;","resultPreview":"42","durationMs":1234},"outcome":"success"}
{"timestamp":"2025-11-19T10:16:15.789Z","type":"network_permission_granted","severity":"info","context":{"mcpName":"lg-remote","bindingName":"LG Remote","sessionId":"session-1732008930123-abc123"},"details":{"url":"http://192.168.1.100:3000/status","permanent":true,"expiresIn":"never"},"outcome":"success"}
{"timestamp":"2025-11-19T10:17:22.345Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"Worker Code","sessionId":"session-1732008930123-abc123"},"details":{"url":"http://evil.com/exfiltrate","reason":"Domain not in whitelist"},"outcome":"blocked"}
{"timestamp":"2025-11-19T10:18:45.678Z","type":"security_violation","severity":"critical","context":{"mcpName":"code-mode","sessionId":"session-1732008930123-abc123"},"details":{"violation":"Prototype pollution attempt","code":"Object.prototype.isAdmin = true;","blocked":true},"outcome":"blocked"}"#;

#[test]
fn golden_lines_round_trip_byte_for_byte() {
    for line in GOLDEN_LINES.lines() {
        let event = AuditEvent::from_json(line).unwrap();
        assert_eq!(event.to_json_line(), line);
        let lenient = LenientEvent::parse(line).unwrap();
        assert_eq!(serde_json::to_string(lenient.fields()).unwrap(), line);
    }
}

#[test]
fn big_integers_and_exact_decimals_survive() {
    let line = r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"binding_accessed","severity":"info","context":{},"details":{"big":123456789012345678901234567890,"id":9007199254740993,"neg":-9007199254740993,"f":0.10000000000000000555,"e":1.5e+300,"max":1.7976931348623157e+308,"long":12345678901234567890123},"outcome":"success"}"#;
    let event = AuditEvent::from_json(line).unwrap();
    assert_eq!(event.to_json_line(), line);
    // An integer of 309 digits still fits in a 64-bit float, inexactly; its text is kept.
    let widest = line.replace("1.5e+300", &format!("1{}", "0".repeat(308)));
    assert_eq!(AuditEvent::from_json(&widest).unwrap().to_json_line(), widest);
}

/// `{"n":1e400}` is valid JSON that JavaScript and Python read as infinity. Any number beyond
/// a 64-bit float is refused, at any depth, with its path.
#[test]
fn numbers_beyond_f64_are_refused_with_their_path() {
    let golden = GOLDEN_LINES.lines().next().unwrap();
    let refused = |number: &str| {
        let line = golden.replacen(
            r#""durationMs":1234}"#,
            &format!(r#""durationMs":1234,{number}}}"#),
            1,
        );
        AuditEvent::from_json(&line).unwrap_err().to_string()
    };
    let message = "number too large for a 64-bit float: most readers would read it as infinity";
    assert_eq!(refused(r#""n":1e400"#), format!("details.n: {message}"));
    assert_eq!(refused(r#""n":-1.5E+309"#), format!("details.n: {message}"));
    let huge_integer = format!("1{}", "0".repeat(400));
    assert_eq!(refused(&format!(r#""n":{huge_integer}"#)), format!("details.n: {message}"));
    assert_eq!(
        refused(r#""args":[1,{"limits":{"max":1e999}}]"#),
        format!("details.args[1].limits.max: {message}")
    );
    assert_eq!(refused(r#""deep":[[0,[2e308]]]"#), format!("details.deep[0][1][0]: {message}"));
    assert!(!refused(r#""n":1e400"#).contains("400"));

    // A typed field is refused the same way, and so is an event built in Rust.
    let timed = golden.replacen(r#""durationMs":1234"#, r#""durationMs":1e400"#, 1);
    let error = AuditEvent::from_json(&timed).unwrap_err();
    assert_eq!(error.to_string(), format!("details.durationMs: {message}"));
    let built = AuditEvent::code_execution_start("x")
        .with_detail("n", serde_json::from_str::<Value>("[1e400]").unwrap());
    assert_eq!(built.validate().unwrap_err().to_string(), format!("details.n[0]: {message}"));
}

/// What a library caller puts into details unchecked never reaches a line as a number
/// readers would take for infinity: the redacted event, as the sink writes it, says `null`.
#[test]
fn a_number_beyond_f64_built_in_rust_is_written_as_null() {
    let event = AuditEvent::code_execution_start("x")
        .at(Timestamp::parse("2025-11-19T10:15:30.456Z").unwrap())
        .with_detail("n", serde_json::from_str::<Value>("1e400").unwrap())
        .with_detail("list", serde_json::from_str::<Value>("[1,-1e400]").unwrap());
    let mut line = Vec::new();
    audit_redact::Redactor::default().redact(event.clone()).write_json_line(&mut line);
    let expected = r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"code_execution_start","severity":"info","context":{},"details":{"codeSnippet":"x","codeLength":1,"n":null,"list":[1,null]},"outcome":"pending"}"#;
    assert_eq!(String::from_utf8(line).unwrap(), format!("{expected}\n"));
    assert_eq!(serde_json::to_string(&event).unwrap(), expected);
}

#[test]
fn null_context_keys_are_read_and_not_written() {
    let line = r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"binding_accessed","severity":"info","context":{"mcpName":null,"sessionId":"s"},"details":{},"outcome":"success"}"#;
    let event = AuditEvent::from_json(line).unwrap();
    assert_eq!(event.context.mcp_name, None);
    assert!(event.to_json_line().contains(r#""context":{"sessionId":"s"}"#));
}

/// Each class of validation error, with the message an operator sees.
#[test]
fn validation_errors_name_the_field_and_the_problem() {
    let valid: Value = serde_json::from_str(GOLDEN_LINES.lines().next().unwrap()).unwrap();
    let check = |edit: &dyn Fn(&mut Map<String, Value>), expected: &str| {
        let mut value = valid.clone();
        edit(value.as_object_mut().unwrap());
        let error = AuditEvent::from_value(value).unwrap_err();
        assert_eq!(error.to_string(), expected);
    };

    check(
        &|event| {
            event.insert("type".into(), "code_exec".into());
        },
        "type: unknown event type \"code_exec\"; expected one of code_execution_start, \
         code_execution_success, code_execution_error, code_execution_timeout, \
         network_request_allowed, network_request_denied, network_permission_granted, \
         network_permission_denied, network_permission_revoked, binding_accessed, \
         binding_created, security_violation, prototype_pollution_blocked, \
         worker_thread_failed",
    );
    check(
        &|event| {
            event.insert("severity".into(), "fatal".into());
        },
        "severity: unknown severity \"fatal\"; expected one of info, warning, error, critical",
    );
    check(
        &|event| {
            event.insert("outcome".into(), "maybe".into());
        },
        "outcome: unknown outcome \"maybe\"; expected one of success, failure, blocked, pending",
    );
    check(
        &|event| {
            event.remove("timestamp");
        },
        "timestamp: missing",
    );
    check(
        &|event| {
            event.insert("timestamp".into(), "19/11/2025 10:15".into());
        },
        "timestamp: not an RFC 3339 date-time such as 2025-11-19T10:15:30.123Z",
    );
    check(
        &|event| {
            event.insert("timestamp".into(), 1_732_008_930_123_u64.into());
        },
        "timestamp: expected a string, found a number",
    );
    check(
        &|event| {
            event.insert("details".into(), "oops".into());
        },
        "details: expected an object, found a string",
    );
    check(
        &|event| {
            event["details"]["durationMs"] = "12ms".into();
        },
        "details.durationMs: expected a non-negative number, found a string",
    );
    check(
        &|event| {
            event["details"]["durationMs"] = (-5).into();
        },
        "details.durationMs: expected a non-negative number, found a negative number",
    );
    check(
        &|event| {
            event["details"]["codeLength"] = 1.5.into();
        },
        "details.codeLength: expected a non-negative integer, found a number with a fraction or \
         an exponent",
    );
    check(
        &|event| {
            event["context"]["sessionId"] = 7.into();
        },
        "context.sessionId: expected a string or null, found a number",
    );
    check(
        &|event| {
            event["context"]["tenant"] = "x".into();
        },
        "context.tenant: unknown field; expected one of mcpName, bindingName, userId, sessionId",
    );
    check(
        &|event| {
            event.insert("detail".into(), Value::Object(Map::new()));
        },
        "detail: unknown field; expected one of timestamp, type, severity, context, details, \
         outcome, chain",
    );

    let error = AuditEvent::from_json("[1, 2]").unwrap_err();
    assert_eq!(error.to_string(), "event: expected an object, found an array");
    let error = AuditEvent::from_json("{\"timestamp\":").unwrap_err();
    assert_eq!(
        error.to_string(),
        "event: not valid JSON (EOF while parsing a value at line 1 column 13)"
    );
}

/// A key given twice is refused with its path, at any depth: `jq` would read the last value
/// and other readers the first, so the line would mean two things.
#[test]
fn repeated_keys_are_refused_with_their_path() {
    let golden = GOLDEN_LINES.lines().next().unwrap();
    let refused = |line: &str| AuditEvent::from_json(line).unwrap_err().to_string();
    let duplicated = golden.replacen(
        r#""type":"code_execution_success","#,
        r#""type":"code_execution_success","type":"security_violation","#,
        1,
    );
    assert_eq!(
        refused(&duplicated),
        "type: duplicate key: readers disagree on which of its values counts"
    );
    let nested = golden.replacen(
        r#""durationMs":1234}"#,
        r#""durationMs":1234,"headers":[{"name":"a"},{"name":"b","name":"c"}]}"#,
        1,
    );
    assert!(refused(&nested).starts_with("details.headers[1].name: duplicate key"));
    let in_context =
        golden.replacen(r#""mcpName":"code-mode","#, r#""mcpName":"a","mcpName":"b","#, 1);
    assert!(refused(&in_context).starts_with("context.mcpName: duplicate key"));

    // The same key in sibling objects, and exact numbers, are not repeats.
    let siblings = golden.replacen(
        r#""durationMs":1234}"#,
        r#""durationMs":1234,"a":{"x":1},"b":{"x":123456789012345678901234567890}}"#,
        1,
    );
    AuditEvent::from_json(&siblings).unwrap();
}

#[test]
fn validation_errors_never_repeat_a_details_value() {
    let line = r#"{"timestamp":"2025-11-19T10:15:30.456Z","type":"binding_accessed","severity":"info","context":{},"details":{"durationMs":"hunter2-secret"},"outcome":"success"}"#;
    let message = AuditEvent::from_json(line).unwrap_err().to_string();
    assert!(!message.contains("hunter2"), "{message}");
}

#[test]
fn every_line_of_the_original_implementation_reads_leniently() {
    let compat = tests::shared_dir().join("ncp-compat");
    let mut n_lines = 0;
    let mut n_strict = 0;
    for scenario in fs::read_dir(&compat).unwrap() {
        for file in fs::read_dir(scenario.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let text = fs::read_to_string(&path).unwrap();
            for (line_idx, line) in text.lines().enumerate() {
                let event = LenientEvent::parse(line)
                    .unwrap_or_else(|error| panic!("{}:{}: {error}", path.display(), line_idx + 1));
                assert!(event.timestamp().is_some(), "{}:{}", path.display(), line_idx + 1);
                assert!(event.type_name().is_some());
                assert_eq!(serde_json::to_string(event.fields()).unwrap(), line);
                n_lines += 1;
                n_strict += usize::from(event.to_strict().is_ok());
            }
        }
    }
    assert!(n_lines >= 388, "read only {n_lines} lines from {}", compat.display());
    // Everything but the planted odd line (unknown type, severity and outcome, an extra
    // context key) is also valid strictly.
    assert_eq!(n_strict, n_lines - 1);
}

#[test]
fn lenient_reading_keeps_what_strict_reading_refuses() {
    let line = r#"{"timestamp":"2026-12-03T18:00:30.202Z","type":"totally_bogus_type","severity":"loud","context":{"sessionId":"s","userId":null,"extraKey":"kept"},"details":{"x":1},"outcome":"maybe","extra":[1]}"#;
    let event = LenientEvent::parse(line).unwrap();
    assert_eq!(event.type_name(), Some("totally_bogus_type"));
    assert_eq!(event.event_type(), None);
    assert_eq!(event.severity(), None);
    assert_eq!(event.context_str("extraKey"), Some("kept"));
    assert_eq!(event.get_path("details.x"), Some(&Value::from(1)));
    assert_eq!(event.get_path("context.userId"), Some(&Value::Null));
    assert_eq!(serde_json::to_string(event.fields()).unwrap(), line);
    assert!(LenientEvent::parse("\"just a string\"").is_err());
}

fn arb_details() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".*".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(("[a-zA-Z_]{1,8}", inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    });
    let free = prop::collection::vec(("[a-zA-Z_]{1,12}", value), 0..6)
        .prop_map(|pairs| pairs.into_iter().filter(|(key, _)| !is_typed_detail(key)).collect());
    (free, arb_typed_details()).prop_map(|(free, typed): (Map<String, Value>, Vec<_>)| {
        // The design's fields first, as the constructors write them, then the free ones.
        typed.into_iter().flatten().chain(free).collect()
    })
}

/// The fields the design gives a type, each present or not, with a value of that type.
fn arb_typed_details() -> impl Strategy<Value = Vec<Option<(String, Value)>>> {
    let field = |key: &'static str, value: BoxedStrategy<Value>| {
        prop::option::of(value.prop_map(move |value| (key.to_owned(), value)))
    };
    let text = || ".*".prop_map(Value::from).boxed();
    let count = || any::<u64>().prop_map(Value::from).boxed();
    let non_negative = || {
        prop_oneof![any::<u64>().prop_map(Value::from), (0.0..1e300_f64).prop_map(Value::from)]
            .boxed()
    };
    let flag = || any::<bool>().prop_map(Value::from).boxed();
    vec![
        field("codeSnippet", text()),
        field("codeLength", count()),
        field("resultPreview", text()),
        field("durationMs", non_negative()),
        field("timeoutMs", non_negative()),
        field("error", text()),
        field("url", text()),
        field("method", text()),
        field("reason", text()),
        field("permanent", flag()),
        field("expiresIn", text()),
        field("violation", text()),
        field("code", text()),
        field("blocked", flag()),
        field("binding", text()),
        field("exitCode", any::<i64>().prop_map(Value::from).boxed()),
    ]
}

/// Keys whose type strict validation checks; arbitrary values under them would be refused.
fn is_typed_detail(key: &str) -> bool {
    ["codeLength", "durationMs", "timeoutMs", "permanent", "blocked", "exitCode"].contains(&key)
        || ["codeSnippet", "resultPreview", "error", "url", "method", "reason"].contains(&key)
        || ["expiresIn", "violation", "code", "binding"].contains(&key)
}

prop_compose! {
    fn arb_event()(
        millis in -62_167_219_200_000_i64..=253_402_300_799_999,
        type_idx in 0..EventType::ALL.len(),
        severity_idx in 0..Severity::ALL.len(),
        outcome_idx in 0..Outcome::ALL.len(),
        context in prop::array::uniform4(prop::option::of(".*")),
        details in arb_details(),
    ) -> AuditEvent {
        let [mcp_name, binding_name, user_id, session_id] = context;
        AuditEvent {
            timestamp: Timestamp::from_unix_millis(millis).unwrap(),
            event_type: EventType::ALL[type_idx],
            severity: Severity::ALL[severity_idx],
            context: audit_core::EventContext { mcp_name, binding_name, user_id, session_id },
            details,
            outcome: Outcome::ALL[outcome_idx],
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_events_round_trip(event in arb_event()) {
        let line = event.to_json_line();
        prop_assert!(!line.contains('\n'));
        let back = AuditEvent::from_json(&line).unwrap();
        prop_assert_eq!(back.to_json_line(), line);
        prop_assert_eq!(back, event);
    }
}

#[test]
fn check_command_names_bad_lines() {
    let golden = GOLDEN_LINES.lines().next().unwrap();
    // A byte order mark starting a line (concatenated Windows files) is not part of it.
    let input = format!("{golden}\n{{\"oops\":1}}\n\u{feff}{golden}\n");
    let output = tests::ncp_audit_with_stdin(&["check"], &input);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stdin:2: oops: unknown field"), "{stderr}");
    assert!(stderr.contains("2 valid, 1 invalid"), "{stderr}");
}

/// `check` refuses a number no 64-bit float reader can take (`{"n":1e400}`).
#[test]
fn check_command_refuses_a_number_beyond_f64() {
    let line = r#"{"timestamp":"2025-11-19T10:17:22.345Z","type":"code_execution_success","severity":"info","context":{},"details":{"n":1e400},"outcome":"success"}"#;
    let output = tests::ncp_audit_with_stdin(&["check"], &format!("{line}\n"));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stdin:1: details.n: number too large for a 64-bit float"), "{stderr}");
    assert!(stderr.contains("0 valid, 1 invalid"), "{stderr}");
}

/// `redact` looks for secrets and is no validator: an event holding a number beyond a 64-bit
/// float is redacted like any other JSON and keeps the number (its text as `serde_json`
/// spells it, `1e+400`), rather than going through the writer, which would write `null`.
#[test]
fn redact_command_keeps_a_number_beyond_f64() {
    let line = r#"{"timestamp":"2025-11-19T10:17:22.345Z","type":"code_execution_success","severity":"info","context":{},"details":{"n":1e400,"password":"hunter2hunter2"},"outcome":"success"}"#;
    let output = tests::ncp_audit_with_stdin(&["redact"], &format!("{line}\n{{\"n\":1e400}}\n"));
    assert_eq!(output.status.code(), Some(0));
    let expected = line.replace("1e400", "1e+400").replace("hunter2hunter2", "<redacted>");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("{expected}\n{{\"n\":1e+400}}\n")
    );
}

#[test]
fn chained_lines_read_strictly_and_malformed_chains_are_named() {
    let event = GOLDEN_LINES.lines().next().unwrap();
    let mut chained = Vec::new();
    audit_core::append_chained_line(audit_core::ChainLink::GENESIS, event.as_bytes(), &mut chained);
    let chained = String::from_utf8(chained).unwrap();
    let parsed = AuditEvent::from_json(chained.trim_end()).unwrap();
    assert_eq!(parsed.to_json_line(), event);

    let bad_hash = event.replace(
        r#""outcome":"success"}"#,
        r#""outcome":"success","chain":{"seq":1,"hash":"xyz"}}"#,
    );
    let error = AuditEvent::from_json(&bad_hash).unwrap_err();
    assert_eq!(error.to_string(), "chain.hash: expected 64 lowercase hex digits, found a string");
    let no_seq =
        event.replace(r#""outcome":"success"}"#, r#""outcome":"success","chain":{"hash":"00"}}"#);
    assert_eq!(AuditEvent::from_json(&no_seq).unwrap_err().to_string(), "chain.seq: missing");
}
