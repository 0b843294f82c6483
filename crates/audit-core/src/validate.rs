//! Strict reading: a line becomes an [`AuditEvent`] only if every field is what the design
//! says, and otherwise the error names the field and what was wrong with it.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::json_line::is_beyond_f64;
use crate::{AuditEvent, ChainLink, Details, EventContext, Timestamp, TimestampError, UnknownWord};

/// The six top-level keys, in the order they are written.
pub const TOP_LEVEL_KEYS: [&str; 6] =
    ["timestamp", "type", "severity", "context", "details", "outcome"];

/// Why a line or a value is not a valid audit event.
///
/// Its message names the field (`details.durationMs`, `type`, ...) and the problem. It never
/// repeats a details value: those may hold secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    field: String,
    problem: Problem,
}

impl ValidationError {
    fn new(field: impl Into<String>, problem: Problem) -> ValidationError {
        ValidationError { field: field.into(), problem }
    }

    /// The path of the field at fault, such as `details.durationMs`; `event` for the whole
    /// line.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What was wrong with it.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

/// What was wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The text is not JSON at all.
    #[error("not valid JSON ({0})")]
    Syntax(String),
    /// A required field is absent.
    #[error("missing")]
    Missing,
    /// The field holds the wrong kind of JSON value.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the field must hold.
        expected: &'static str,
        /// The JSON kind it held.
        found: &'static str,
    },
    /// A type, severity or outcome outside the vocabulary.
    #[error(transparent)]
    UnknownWord(#[from] UnknownWord),
    /// A timestamp that is not one.
    #[error("{0}")]
    Timestamp(#[from] TimestampError),
    /// A key the design does not have at this place.
    #[error("unknown field; expected one of {expected}")]
    UnknownField {
        /// The keys allowed here.
        expected: String,
    },
    /// A key that appears twice in one object. JSON readers disagree on which value wins
    /// (`jq` takes the last, others the first), so such a line is refused rather than read
    /// one way here and another way by an auditor's tool.
    #[error("duplicate key: readers disagree on which of its values counts")]
    DuplicateKey,
    /// A number too large for a 64-bit float (`1e400`, or an integer of more than 308
    /// digits). It would be kept exactly here, but JavaScript and Python read it as infinity
    /// and jq as the largest float, so the line would mean one thing here and another to an
    /// auditor's tool. The message does not repeat the number: it is a details value.
    #[error("number too large for a 64-bit float: most readers would read it as infinity")]
    NumberOutOfRange,
}

/// The JSON kind of `value`, for messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(field: impl Into<String>, expected: &'static str, found: &Value) -> ValidationError {
    ValidationError::new(field, Problem::WrongType { expected, found: number_kind(found) })
}

/// [`json_kind`], with a number told apart by what a field expecting numbers can refuse in
/// it: its sign or its fraction.
fn number_kind(value: &Value) -> &'static str {
    let Value::Number(number) = value else { return json_kind(value) };
    if number.as_str().starts_with('-') {
        "a negative number"
    } else if !(number.is_u64() || number.is_i64()) {
        "a number with a fraction or an exponent"
    } else {
        "a number"
    }
}

/// The optional seventh key the writer appends: the line's link in the integrity chain.
pub const CHAIN_KEY: &str = "chain";

/// A `chain` field must be `{"seq": <integer>, "hash": "<64 hex digits>"}`. It describes the
/// line, not the event, so a parsed event does not keep it.
fn check_chain(chain: &Value) -> Result<(), ValidationError> {
    let Value::Object(fields) = chain else {
        return Err(wrong_type(CHAIN_KEY, "an object", chain));
    };
    if let Some(unknown) = fields.keys().find(|key| !["seq", "hash"].contains(&key.as_str())) {
        let expected = "seq, hash".to_owned();
        return Err(ValidationError::new(
            format!("chain.{unknown}"),
            Problem::UnknownField { expected },
        ));
    }
    match fields.get("seq") {
        None => return Err(ValidationError::new("chain.seq", Problem::Missing)),
        Some(Value::Number(number)) if number.is_u64() => {}
        Some(other) => return Err(wrong_type("chain.seq", "a non-negative integer", other)),
    }
    match fields.get("hash") {
        None => Err(ValidationError::new("chain.hash", Problem::Missing)),
        Some(Value::String(hex)) if ChainLink::parse_hash(hex.as_bytes()).is_some() => Ok(()),
        Some(other) => Err(wrong_type("chain.hash", "64 lowercase hex digits", other)),
    }
}

/// The details fields the design gives a meaning to, and what each must hold. Other details
/// keys may hold anything.
const KNOWN_DETAILS: &[(&str, Expect)] = &[
    ("codeSnippet", Expect::String),
    ("codeLength", Expect::Count),
    ("resultPreview", Expect::String),
    ("durationMs", Expect::NonNegative),
    ("timeoutMs", Expect::NonNegative),
    ("error", Expect::String),
    ("url", Expect::String),
    ("method", Expect::String),
    ("reason", Expect::String),
    ("permanent", Expect::Bool),
    ("expiresIn", Expect::String),
    ("violation", Expect::String),
    ("code", Expect::String),
    ("blocked", Expect::Bool),
    ("binding", Expect::String),
    ("exitCode", Expect::Integer),
];

#[derive(Clone, Copy)]
enum Expect {
    String,
    Bool,
    Integer,
    Count,
    NonNegative,
}

impl Expect {
    fn describe(self) -> &'static str {
        match self {
            Expect::String => "a string",
            Expect::Bool => "a boolean",
            Expect::Integer => "an integer",
            Expect::Count => "a non-negative integer",
            Expect::NonNegative => "a non-negative number",
        }
    }

    fn accepts(self, value: &Value) -> bool {
        match (self, value) {
            (Expect::String, Value::String(_)) | (Expect::Bool, Value::Bool(_)) => true,
            (Expect::Integer, Value::Number(number)) => number.is_i64() || number.is_u64(),
            (Expect::Count, Value::Number(number)) => number.is_u64(),
            (Expect::NonNegative, Value::Number(number)) => {
                number.is_u64() || number.as_f64().is_some_and(|float| float >= 0.0)
            }
            _ => false,
        }
    }
}

fn check_details(details: &Details) -> Result<(), ValidationError> {
    // First, so that `"durationMs":1e400` is named for its range, not as the wrong kind.
    if let Some(path) = number_beyond_f64_in_map(details) {
        return Err(ValidationError::new(format!("details.{path}"), Problem::NumberOutOfRange));
    }
    for (key, expect) in KNOWN_DETAILS {
        if let Some(value) = details.get(*key)
            && !expect.accepts(value)
        {
            return Err(wrong_type(format!("details.{key}"), expect.describe(), value));
        }
    }
    Ok(())
}

/// The path (`a[1].b`) of the first number in `map`, at any depth, that is too large for a
/// 64-bit float.
fn number_beyond_f64_in_map(map: &Map<String, Value>) -> Option<String> {
    map.iter().find_map(|(key, value)| Some(child_path(key.clone(), number_beyond_f64(value)?)))
}

/// As [`number_beyond_f64_in_map`] for any value: `""` when `value` is itself such a number.
fn number_beyond_f64(value: &Value) -> Option<String> {
    match value {
        Value::Number(number) if is_beyond_f64(number) => Some(String::new()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(idx, item)| Some(child_path(format!("[{idx}]"), number_beyond_f64(item)?))),
        Value::Object(object) => number_beyond_f64_in_map(object),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => None,
    }
}

/// `head` (a key or `[idx]`) followed by the path `tail` below it, which may be empty.
fn child_path(head: String, tail: String) -> String {
    if tail.is_empty() { head } else { head + &dotted(&tail) }
}

fn take_word<T>(
    object: &Map<String, Value>,
    key: &'static str,
    parse: impl FnOnce(&str) -> Result<T, ValidationError>,
) -> Result<T, ValidationError> {
    match object.get(key) {
        None => Err(ValidationError::new(key, Problem::Missing)),
        Some(Value::String(text)) => parse(text),
        Some(other) => Err(wrong_type(key, "a string", other)),
    }
}

fn parse_context(value: Option<Value>) -> Result<EventContext, ValidationError> {
    let object = match value {
        None => return Err(ValidationError::new("context", Problem::Missing)),
        Some(Value::Object(object)) => object,
        Some(other) => return Err(wrong_type("context", "an object", &other)),
    };
    let mut context = EventContext::default();
    for (key, value) in object {
        let Some(slot) = context.field_mut(&key) else {
            let expected = EventContext::FIELD_NAMES.join(", ");
            return Err(ValidationError::new(
                format!("context.{key}"),
                Problem::UnknownField { expected },
            ));
        };
        *slot = match value {
            Value::Null => None,
            Value::String(text) => Some(text),
            other => return Err(wrong_type(format!("context.{key}"), "a string or null", &other)),
        };
    }
    Ok(context)
}

impl AuditEvent {
    /// Reads one line of JSON as an event, strictly.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming the field at fault: text that is not JSON, a value that is
    /// not an object, a missing or unknown top-level key, a malformed `chain` field, an
    /// unknown type, severity or outcome, a malformed timestamp, context or details that are
    /// not objects, a field of the wrong JSON kind, a number too large for a 64-bit float
    /// anywhere in details, or a key repeated in one object.
    pub fn from_json(text: &str) -> Result<AuditEvent, ValidationError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|error| ValidationError::new("event", Problem::Syntax(syntax_only(&error))))?;
        // `Value` keeps the last of repeated keys without a word, so look for them apart.
        if let Some(path) = duplicate_key(text) {
            return Err(ValidationError::new(path, Problem::DuplicateKey));
        }
        AuditEvent::from_value(value)
    }

    /// Checks a JSON value strictly and turns it into an event.
    ///
    /// # Errors
    ///
    /// As [`AuditEvent::from_json`], apart from JSON syntax.
    pub fn from_value(value: Value) -> Result<AuditEvent, ValidationError> {
        let mut object = match value {
            Value::Object(object) => object,
            other => return Err(wrong_type("event", "an object", &other)),
        };
        let is_known = |key: &str| TOP_LEVEL_KEYS.contains(&key) || key == CHAIN_KEY;
        if let Some(unknown) = object.keys().find(|key| !is_known(key)) {
            let expected = format!("{}, {CHAIN_KEY}", TOP_LEVEL_KEYS.join(", "));
            return Err(ValidationError::new(unknown.clone(), Problem::UnknownField { expected }));
        }

        let timestamp = take_word(&object, "timestamp", |text| {
            Timestamp::parse(text).map_err(|error| ValidationError::new("timestamp", error.into()))
        })?;
        let event_type = take_word(&object, "type", |word| {
            word.parse().map_err(|error: UnknownWord| ValidationError::new("type", error.into()))
        })?;
        let severity = take_word(&object, "severity", |word| {
            word.parse()
                .map_err(|error: UnknownWord| ValidationError::new("severity", error.into()))
        })?;
        let outcome = take_word(&object, "outcome", |word| {
            word.parse().map_err(|error: UnknownWord| ValidationError::new("outcome", error.into()))
        })?;
        let context = parse_context(object.remove("context"))?;
        let details = match object.remove("details") {
            None => return Err(ValidationError::new("details", Problem::Missing)),
            Some(Value::Object(details)) => details,
            Some(other) => return Err(wrong_type("details", "an object", &other)),
        };
        check_details(&details)?;
        if let Some(chain) = object.get(CHAIN_KEY) {
            check_chain(chain)?;
        }

        Ok(AuditEvent { timestamp, event_type, severity, context, details, outcome })
    }

    /// Checks the details fields the design gives a meaning to (`durationMs` a non-negative
    /// number, `url` a string, ...), and that no details number, at any depth, is too large
    /// for a 64-bit float. The rest of an event is checked by its types.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming the first details field of the wrong kind, or the path of
    /// the first number too large for a 64-bit float.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_details(&self.details)
    }
}

/// The path (`details.headers[2].name`) of the first key that appears twice in one object of
/// `text`, which must be valid JSON; `None` when no key repeats (or `text` is not JSON).
pub fn duplicate_key(text: &str) -> Option<String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    // The text parsed as a `Value` already, so this cannot fail on syntax; were it to, the
    // line is no worse than a `Value` says.
    DuplicateKeys::deserialize(&mut deserializer).ok().and_then(|found| found.0)
}

/// Walks a JSON document without building it and keeps the path of its first repeated key.
struct DuplicateKeys(Option<String>);

impl<'de> Deserialize<'de> for DuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DuplicateKeys, D::Error> {
        deserializer.deserialize_any(DuplicateKeysVisitor)
    }
}

struct DuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for DuplicateKeysVisitor {
    type Value = DuplicateKeys;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<DuplicateKeys, E> {
        Ok(DuplicateKeys(None))
    }

    fn visit_i64<E>(self, _: i64) -> Result<DuplicateKeys, E> {
        Ok(DuplicateKeys(None))
    }

    fn visit_u64<E>(self, _: u64) -> Result<DuplicateKeys, E> {
        Ok(DuplicateKeys(None))
    }

    fn visit_f64<E>(self, _: f64) -> Result<DuplicateKeys, E> {
        Ok(DuplicateKeys(None))
    }

    fn visit_str<E>(self, _: &str) -> Result<DuplicateKeys, E> {
        Ok(DuplicateKeys(None))
    }

    fn visit_unit<E>(self) -> Result<DuplicateKeys, E> {
        Ok(DuplicateKeys(None))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<DuplicateKeys, A::Error> {
        let mut found = None;
        let mut idx = 0usize;
        while let Some(DuplicateKeys(inner)) = seq.next_element()? {
            if found.is_none() {
                found = inner.map(|path| format!("[{idx}]{}", dotted(&path)));
            }
            idx += 1;
        }
        Ok(DuplicateKeys(found))
    }

    // Numbers kept exact (serde_json's `arbitrary_precision`) arrive as a one-key map, which
    // has nothing to repeat.
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<DuplicateKeys, A::Error> {
        // A hash set, not a list: a line may hold an object of a million keys.
        let mut seen = std::collections::HashSet::new();
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            let DuplicateKeys(inner) = map.next_value()?;
            if found.is_some() {
                continue;
            }
            found = inner.map(|path| format!("{key}{}", dotted(&path)));
            if !seen.insert(key.clone()) {
                found = Some(key);
            }
        }
        Ok(DuplicateKeys(found))
    }
}

/// `path` as it follows a parent: `.name` for a key, `[2]` for an index as is.
fn dotted(path: &str) -> String {
    if path.starts_with('[') { path.to_owned() } else { format!(".{path}") }
}

/// serde_json's message for a syntax error, which names the line and column. Its messages for
/// type errors may quote the value, but parsing into `Value` raises only syntax errors.
fn syntax_only(error: &serde_json::Error) -> String {
    error.to_string()
}

/// Through a [`Value`], which keeps the last of repeated keys: use [`AuditEvent::from_json`]
/// on text that may repeat one.
impl<'de> Deserialize<'de> for AuditEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AuditEvent, D::Error> {
        let value = Value::deserialize(deserializer)?;
        AuditEvent::from_value(value).map_err(serde::de::Error::custom)
    }
}
