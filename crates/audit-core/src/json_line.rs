//! The hand-written JSON writer for [`AuditEvent`]: the writer's hot path.
//!
//! The key order is fixed and every part is a string, an enum spelled as a string or a
//! `serde_json::Value`, so the line is written directly into the caller's buffer without
//! serde's visitor machinery. The bytes are exactly those `serde_json` writes for the derived
//! `Serialize` (same key order, same escapes, numbers as their stored text); a property test
//! holds the two together.
//!
//! Both write a number too large for a 64-bit float (`1e400`, which only a `Value` parsed from
//! text can hold) as `null`, as `serde_json` writes an infinite `f64`: JavaScript and Python
//! would read it as infinity, and the log never holds a number its readers disagree on.

use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::{AuditEvent, Details, EventContext};

/// Whether `number` is beyond the range of a finite `f64`, so that a reader taking JSON
/// numbers as 64-bit floats (JavaScript, Python, jq) would not read its value: infinity, or
/// the largest float.
///
/// Under `arbitrary_precision` a number keeps its text, of any size. Text without an exponent
/// and of at most 308 characters is below 10^308 and cannot overflow; only the rest is parsed,
/// so the writer's hot path does not parse every number.
pub(crate) fn is_beyond_f64(number: &Number) -> bool {
    let text = number.as_str();
    let may_overflow = text.len() > 308 || text.bytes().any(|byte| matches!(byte, b'e' | b'E'));
    may_overflow && text.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// Appends `event` as one compact JSON object, without a newline, to `out`.
pub(crate) fn write_event(event: &AuditEvent, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    out.extend_from_slice(&event.timestamp.to_iso_bytes());
    out.extend_from_slice(b"\",\"type\":\"");
    out.extend_from_slice(event.event_type.as_str().as_bytes());
    out.extend_from_slice(b"\",\"severity\":\"");
    out.extend_from_slice(event.severity.as_str().as_bytes());
    out.extend_from_slice(b"\",\"context\":");
    write_context(&event.context, out);
    out.extend_from_slice(b",\"details\":");
    write_object(&event.details, out);
    out.extend_from_slice(b",\"outcome\":\"");
    out.extend_from_slice(event.outcome.as_str().as_bytes());
    out.extend_from_slice(b"\"}");
}

fn write_context(context: &EventContext, out: &mut Vec<u8>) {
    let fields = [&context.mcp_name, &context.binding_name, &context.user_id, &context.session_id];
    out.push(b'{');
    let mut first = true;
    for (name, field) in EventContext::FIELD_NAMES.iter().zip(fields) {
        let Some(text) = field else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        write_str(name, out);
        out.push(b':');
        write_str(text, out);
    }
    out.push(b'}');
}

fn write_object(object: &Map<String, Value>, out: &mut Vec<u8>) {
    out.push(b'{');
    for (idx, (key, value)) in object.iter().enumerate() {
        if idx > 0 {
            out.push(b',');
        }
        write_str(key, out);
        out.push(b':');
        write_value(value, out);
    }
    out.push(b'}');
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) if is_beyond_f64(number) => out.extend_from_slice(b"null"),
        // Under `arbitrary_precision` a number is kept as the text it is written as.
        Value::Number(number) => out.extend_from_slice(number.as_str().as_bytes()),
        Value::String(text) => write_str(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(object) => write_object(object, out),
    }
}

/// `serialize_with` for [`AuditEvent::details`]: the map as `serde_json` writes it, but with
/// a number beyond the range of a 64-bit float as `null`, as [`write_event`] writes it.
pub(crate) fn serialize_details<S: Serializer>(
    details: &Details,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(details.iter().map(|(key, value)| (key, Finite(value))))
}

/// A JSON value that serializes with its out-of-range numbers as `null`.
struct Finite<'a>(&'a Value);

impl Serialize for Finite<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Number(number) if is_beyond_f64(number) => serializer.serialize_unit(),
            Value::Array(items) => serializer.collect_seq(items.iter().map(Finite)),
            Value::Object(object) => {
                serializer.collect_map(object.iter().map(|(key, value)| (key, Finite(value))))
            }
            other => other.serialize(serializer),
        }
    }
}

/// Appends `text` as a JSON string with `serde_json`'s escapes: `\"`, `\\`, the short forms
/// `\b \t \n \f \r`, and `\u00XX` (lowercase hex) for the other control characters.
fn write_str(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len() + 2);
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut run_start = 0;
    let mut idx = first_to_escape(bytes, 0);
    while idx < bytes.len() {
        let byte = bytes[idx];
        out.extend_from_slice(&bytes[run_start..idx]);
        run_start = idx + 1;
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
        }
        idx = first_to_escape(bytes, idx + 1);
    }
    out.extend_from_slice(&bytes[run_start..]);
    out.push(b'"');
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// The index of the first byte at or after `from` that needs an escape, or `bytes.len()`.
///
/// Skips eight bytes at a time while a word holds no such byte: most text has nothing to
/// escape, and a byte-by-byte loop was the largest part of writing a line. The word test may
/// flag a word that holds none (it is exact only about whether some byte is below 0x20), so
/// the last stretch is looked at byte by byte.
fn first_to_escape(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let mut idx = from;
    while let Some(chunk) = bytes.get(idx..idx + 8) {
        // OK because `get` returned exactly eight bytes.
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        let quote = has_zero(word ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
        if below_space | quote | backslash != 0 {
            break;
        }
        idx += 8;
    }
    while idx < bytes.len() && !needs_escape(bytes[idx]) {
        idx += 1;
    }
    idx
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{AuditEvent, EventType, Outcome, Severity, Timestamp};

    use super::*;

    /// The hand-written line must equal serde's, byte for byte.
    fn check(event: &AuditEvent) {
        let expected = serde_json::to_vec(event).unwrap();
        let mut written = Vec::new();
        write_event(event, &mut written);
        assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&expected));
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,12}",
            "[\\x00-\\x1f\"\\\\\\x7f]{0,6}",
            any::<String>(),
            Just("é😀\u{2028}\u{fffd}".to_owned()),
        ]
    }

    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            Just(serde_json::from_str("123456789012345678901234567890.5e-3").unwrap()),
            Just(serde_json::from_str("-1.5E400").unwrap()),
            Just(serde_json::from_str(&format!("1{}", "0".repeat(400))).unwrap()),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            number(),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..4)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    prop_compose! {
        fn event()(
            millis in -62_167_219_200_000_i64..=253_402_300_799_999,
            type_idx in 0..EventType::ALL.len(),
            context in prop::collection::vec(prop::option::of(text()), 4),
            details in prop::collection::vec((text(), value()), 0..5),
            severity_idx in 0..4_usize,
            outcome_idx in 0..4_usize,
        ) -> AuditEvent {
            let event_type = EventType::ALL[type_idx];
            let severity = [Severity::Info, Severity::Warning, Severity::Error, Severity::Critical]
                [severity_idx];
            let outcome =
                [Outcome::Success, Outcome::Failure, Outcome::Blocked, Outcome::Pending]
                    [outcome_idx];
            let mut event = AuditEvent::new(event_type, details.into_iter().collect())
                .at(Timestamp::from_unix_millis(millis).unwrap())
                .with_severity(severity)
                .with_outcome(outcome);
            event.context.mcp_name = context[0].clone();
            event.context.binding_name = context[1].clone();
            event.context.user_id = context[2].clone();
            event.context.session_id = context[3].clone();
            event
        }
    }

    proptest! {
        #[test]
        fn writes_what_serde_writes(event in event()) {
            check(&event);
        }
    }

    /// A `Value` parsed from text can hold a number no reader can take as a 64-bit float.
    #[test]
    fn numbers_beyond_f64_are_written_as_null() {
        let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap();
        let huge_integer = format!("1{}", "0".repeat(400));
        let event = AuditEvent::code_execution_start("x")
            .with_detail("n", parse("1e400"))
            .with_detail("nested", parse(&format!(r#"{{"a":[-1E999,{huge_integer}]}}"#)))
            .with_detail("max", parse("1.7976931348623157e308"))
            .with_detail("big", parse("12345678901234567890123"));
        let line = event.to_json_line();
        assert!(
            line.ends_with(
                r#""n":null,"nested":{"a":[null,null]},"max":1.7976931348623157e+308,"big":12345678901234567890123},"outcome":"pending"}"#
            ),
            "{line}"
        );
        check(&event);
    }

    #[test]
    fn only_numbers_beyond_f64_count_as_beyond() {
        let beyond = |text: &str| is_beyond_f64(&serde_json::from_str(text).unwrap());
        assert!(beyond("1e309") && beyond("-1e400") && beyond("2E+308"));
        assert!(beyond(&format!("1{}", "0".repeat(309))));
        assert!(!beyond("1.7976931348623157e308") && !beyond("1e-400") && !beyond("1e308"));
        assert!(!beyond(&format!("1{}", "0".repeat(308))));
        assert!(!beyond(&format!("0.{}1", "0".repeat(400))));
    }

    #[test]
    fn writes_every_control_character_as_serde_does() {
        let all_ascii: String = (0_u8..=0x7f).map(char::from).collect();
        check(&AuditEvent::code_execution_start(&all_ascii).with_user_id(all_ascii.clone()));
    }
}
