//! The hand-written JSON writer for [`AuditEvent`]: the writer's hot path.
//!
//! The key order is fixed and every part is a string, an enum spelled as a string or a
//! `serde_json::Value`, so the line is written directly into the caller's buffer without
//! serde's visitor machinery. The bytes are exactly those `serde_json` writes for the derived
//! `Serialize` (same key order, same escapes, numbers as their stored text); a property test
//! holds the two together.

use serde_json::{Map, Value};

use crate::{AuditEvent, EventContext};

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

    #[test]
    fn writes_every_control_character_as_serde_does() {
        let all_ascii: String = (0_u8..=0x7f).map(char::from).collect();
        check(&AuditEvent::code_execution_start(&all_ascii).with_user_id(all_ascii.clone()));
    }
}
