//! `--where` predicates: a field path, an operator and a value, such as
//! `details.durationMs>1000`, `details.url~^https://` or `context.userId=null`.

use std::cmp::Ordering;

use audit_core::LenientEvent;
use audit_core::serde_json::Value;
use regex::Regex;

/// A predicate that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PredicateError {
    /// No operator in the text.
    #[error(
        "--where {0:?}: expected FIELD OP VALUE with OP one of = != < <= > >= ~ !~, \
         e.g. details.durationMs>1000"
    )]
    NoOperator(String),
    /// The field path is empty or has an empty part.
    #[error("--where {0:?}: the field path is empty or has an empty part")]
    BadPath(String),
    /// An unquoted value that starts with an operator character: a mistyped operator.
    #[error(
        "--where {0:?}: the value starts with an operator character; write one operator, or \
         quote a text value as JSON (details.x=\"=a\")"
    )]
    DoubledOperator(String),
    /// The regex does not compile.
    #[error("--where {text:?}: bad regular expression: {reason}")]
    BadRegex { text: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NotMatch,
}

#[derive(Debug, Clone)]
enum Operand {
    Null,
    Bool(bool),
    /// A number with its text, so that integers past 2^53 compare exactly.
    Number(f64, String),
    Text(String),
    Pattern(Regex),
}

/// One `--where` predicate.
#[derive(Debug, Clone)]
pub(crate) struct Predicate {
    path: String,
    op: Op,
    operand: Operand,
}

impl Predicate {
    /// Reads `FIELD OP VALUE`.
    ///
    /// # Errors
    ///
    /// [`PredicateError`] naming the text.
    pub(crate) fn parse(text: &str) -> Result<Predicate, PredicateError> {
        let op_at = text
            .find(['=', '!', '<', '>', '~'])
            .ok_or_else(|| PredicateError::NoOperator(text.to_owned()))?;
        let path = text[..op_at].trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(PredicateError::BadPath(text.to_owned()));
        }
        let rest = &text[op_at..];
        let (op, op_len) = [
            ("!=", Op::Ne),
            ("!~", Op::NotMatch),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
            ("~", Op::Match),
        ]
        .into_iter()
        .find(|(spelling, _)| rest.starts_with(spelling))
        .map(|(spelling, op)| (op, spelling.len()))
        .ok_or_else(|| PredicateError::NoOperator(text.to_owned()))?;
        let value = &rest[op_len..];

        let operand = if matches!(op, Op::Match | Op::NotMatch) {
            let pattern = Regex::new(value).map_err(|error| PredicateError::BadRegex {
                text: text.to_owned(),
                reason: error.to_string(),
            })?;
            Operand::Pattern(pattern)
        } else {
            let value = value.trim();
            if value.starts_with(['=', '!', '<', '>', '~']) {
                return Err(PredicateError::DoubledOperator(text.to_owned()));
            }
            parse_operand(value)
        };
        Ok(Predicate { path: path.to_owned(), op, operand })
    }

    /// Whether the event satisfies the predicate. A missing field counts as `null`.
    pub(crate) fn matches(&self, event: &LenientEvent) -> bool {
        let value = event.get_path(&self.path).filter(|value| !value.is_null());
        match self.op {
            Op::Eq => equals(value, &self.operand),
            Op::Ne => !equals(value, &self.operand),
            Op::Lt => compare(value, &self.operand) == Some(Ordering::Less),
            Op::Le => {
                matches!(compare(value, &self.operand), Some(Ordering::Less | Ordering::Equal))
            }
            Op::Gt => compare(value, &self.operand) == Some(Ordering::Greater),
            Op::Ge => {
                matches!(compare(value, &self.operand), Some(Ordering::Greater | Ordering::Equal))
            }
            Op::Match => regex_matches(value, &self.operand),
            Op::NotMatch => !regex_matches(value, &self.operand),
        }
    }
}

fn parse_operand(value: &str) -> Operand {
    match value {
        "null" => return Operand::Null,
        "true" => return Operand::Bool(true),
        "false" => return Operand::Bool(false),
        _ => {}
    }
    if let Ok(Value::String(text)) = audit_core::serde_json::from_str::<Value>(value) {
        return Operand::Text(text);
    }
    let looks_numeric =
        value.bytes().next().is_some_and(|byte| byte == b'-' || byte.is_ascii_digit());
    match value.parse::<f64>() {
        Ok(number) if looks_numeric && number.is_finite() => {
            Operand::Number(number, value.to_owned())
        }
        _ => Operand::Text(value.to_owned()),
    }
}

/// The text a scalar value is written as, for comparing with text operands.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn equals(value: Option<&Value>, operand: &Operand) -> bool {
    match (value, operand) {
        (None, Operand::Null) => true,
        (None, _) | (Some(_), Operand::Null) => false,
        (Some(Value::Bool(flag)), Operand::Bool(expected)) => flag == expected,
        (Some(Value::Number(_)), Operand::Number(..)) => {
            compare(value, operand) == Some(Ordering::Equal)
        }
        (Some(value), Operand::Number(_, text)) | (Some(value), Operand::Text(text)) => {
            scalar_text(value).as_deref() == Some(text.as_str())
        }
        (Some(value), Operand::Bool(expected)) => {
            scalar_text(value).as_deref() == Some(if *expected { "true" } else { "false" })
        }
        (Some(_), Operand::Pattern(_)) => false,
    }
}

fn compare(value: Option<&Value>, operand: &Operand) -> Option<Ordering> {
    match (value?, operand) {
        (Value::Number(number), Operand::Number(expected, expected_text)) => {
            let text = number.to_string();
            match (text.parse::<i128>(), expected_text.parse::<i128>()) {
                (Ok(left), Ok(right)) => Some(left.cmp(&right)),
                _ => text.parse::<f64>().ok()?.partial_cmp(expected),
            }
        }
        // `"590"` quoted still orders a number numerically, as `=` compares it by its text:
        // a number is never ordered as a string.
        (Value::Number(_), Operand::Text(expected)) => match parse_operand(expected) {
            number @ Operand::Number(..) => compare(value, &number),
            _ => None,
        },
        (Value::String(text), Operand::Text(expected)) => Some(text.as_str().cmp(expected)),
        (Value::String(text), Operand::Number(_, expected)) => Some(text.as_str().cmp(expected)),
        _ => None,
    }
}

fn regex_matches(value: Option<&Value>, operand: &Operand) -> bool {
    let Operand::Pattern(pattern) = operand else { return false };
    value.and_then(scalar_text).is_some_and(|text| pattern.is_match(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"code_execution_success","severity":"info","context":{"mcpName":"code-mode","userId":null},"details":{"durationMs":1500,"url":"https://api.github.com/x","big":9007199254740993,"flag":true,"list":[1,"two"],"code":"200"},"outcome":"success"}"#;

    fn check(predicate: &str, expected: bool) {
        let event = LenientEvent::parse(LINE).unwrap();
        let predicate = Predicate::parse(predicate).unwrap();
        assert_eq!(predicate.matches(&event), expected, "{predicate:?}");
    }

    #[test]
    fn each_operator() {
        check("details.durationMs>1000", true);
        check("details.durationMs>1500", false);
        check("details.durationMs>=1500", true);
        check("details.durationMs<2000", true);
        check("details.durationMs<=1499.5", false);
        check("details.durationMs=1500", true);
        check("details.durationMs!=1500", false);
        check("details.big=9007199254740993", true);
        check("details.big>9007199254740992", true);
        check("details.big=9007199254740992", false);
        check("details.url~^https://api\\.github", true);
        check("details.url!~github", false);
        check("details.url=https://api.github.com/x", true);
        check(r#"details.url="https://api.github.com/x""#, true);
        check("context.userId=null", true);
        check("context.sessionId=null", true);
        check("context.mcpName=null", false);
        check("context.mcpName!=null", true);
        check("details.flag=true", true);
        check("details.list.1=two", true);
        check("details.code=200", true);
        check("timestamp>=2026-12-03T09", true);
        check("details.missing>1", false);
        check(r#"details.durationMs>"1000""#, true);
        check(r#"details.durationMs<"1000""#, false);
        check(r#"details.durationMs="1500""#, true);
        check(r#"details.durationMs>"abc""#, false);
    }

    #[test]
    fn errors_name_the_text() {
        let error = |text: &str| Predicate::parse(text).unwrap_err().to_string();
        assert_eq!(
            error("details.durationMs"),
            "--where \"details.durationMs\": expected FIELD OP VALUE with OP one of = != < <= > \
             >= ~ !~, e.g. details.durationMs>1000"
        );
        assert_eq!(error("=3"), "--where \"=3\": the field path is empty or has an empty part");
        assert!(error("details.url~(").starts_with("--where \"details.url~(\": bad regular"));
        assert!(error("details.i>>3").contains("the value starts with an operator character"));
        assert!(error("details.i==3").contains("the value starts with an operator character"));
        Predicate::parse(r#"details.x="=a""#).unwrap();
    }
}
