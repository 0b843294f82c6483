//! Lenient reading: any JSON object is an event, whoever wrote it.

use serde_json::{Map, Value};

use crate::validate::ValidationError;
use crate::{AuditEvent, EventType, Outcome, Severity, Timestamp};

/// A line read without judging it: every key and value kept as written, with typed views of
/// the fields the design names.
///
/// This is how files written by other versions or other systems are read (the original
/// implementation, a producer with a bug, a type added later): unknown types, severities and
/// outcomes, extra keys and `null`s are all kept, and each accessor says `None` where the
/// value is absent or not what the design expects. Only text that is not a JSON object is
/// refused.
#[derive(Debug, Clone, PartialEq)]
pub struct LenientEvent {
    fields: Map<String, Value>,
}

/// Why a line could not be read even leniently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LenientError {
    /// The text is not JSON.
    #[error("not valid JSON ({0})")]
    Syntax(String),
    /// The text is JSON, but not an object.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
}

impl LenientEvent {
    /// Reads one line of JSON.
    ///
    /// # Errors
    ///
    /// [`LenientError`] when the text is not a JSON object.
    pub fn parse(text: &str) -> Result<LenientEvent, LenientError> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| LenientError::Syntax(error.to_string()))?;
        LenientEvent::from_value(value)
    }

    /// Wraps a JSON value.
    ///
    /// # Errors
    ///
    /// [`LenientError::NotAnObject`] when the value is not an object.
    pub fn from_value(value: Value) -> Result<LenientEvent, LenientError> {
        match value {
            Value::Object(fields) => Ok(LenientEvent { fields }),
            other => Err(LenientError::NotAnObject(crate::validate::json_kind(&other))),
        }
    }

    /// Every top-level key and value, as read.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Gives back the fields.
    pub fn into_fields(self) -> Map<String, Value> {
        self.fields
    }

    fn str_field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// `timestamp`, if it is an RFC 3339 string.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.str_field("timestamp").and_then(|text| Timestamp::parse(text).ok())
    }

    /// `type` as written, known or not.
    pub fn type_name(&self) -> Option<&str> {
        self.str_field("type")
    }

    /// `type`, if it is one this version knows.
    pub fn event_type(&self) -> Option<EventType> {
        self.type_name().and_then(|word| word.parse().ok())
    }

    /// `severity`, if it is one of the four.
    pub fn severity(&self) -> Option<Severity> {
        self.str_field("severity").and_then(|word| word.parse().ok())
    }

    /// `outcome`, if it is one of the four.
    pub fn outcome(&self) -> Option<Outcome> {
        self.str_field("outcome").and_then(|word| word.parse().ok())
    }

    /// `context`, if it is an object.
    pub fn context(&self) -> Option<&Map<String, Value>> {
        self.fields.get("context").and_then(Value::as_object)
    }

    /// One context field (`mcpName`, `sessionId`, ...), if it is a string.
    pub fn context_str(&self, key: &str) -> Option<&str> {
        self.context().and_then(|context| context.get(key)).and_then(Value::as_str)
    }

    /// `details`, if it is an object.
    pub fn details(&self) -> Option<&Map<String, Value>> {
        self.fields.get("details").and_then(Value::as_object)
    }

    /// The value at a dotted path such as `details.durationMs` or `context.userId`; array
    /// elements are addressed by index (`details.methods.0`).
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let mut current = self.fields.get(parts.next()?)?;
        for part in parts {
            current = match current {
                Value::Object(object) => object.get(part)?,
                Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Judges the line strictly.
    ///
    /// # Errors
    ///
    /// As [`AuditEvent::from_value`].
    pub fn to_strict(&self) -> Result<AuditEvent, ValidationError> {
        AuditEvent::from_value(Value::Object(self.fields.clone()))
    }
}

impl From<AuditEvent> for LenientEvent {
    fn from(event: AuditEvent) -> LenientEvent {
        // OK because an `AuditEvent` always serializes to a JSON object.
        match serde_json::to_value(&event) {
            Ok(Value::Object(fields)) => LenientEvent { fields },
            _ => unreachable!("an audit event serializes to an object"),
        }
    }
}
