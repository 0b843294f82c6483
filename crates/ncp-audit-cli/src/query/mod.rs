//! Deciding which lines answer a question, and counting them, fast.
//!
//! A [`Filter`] holds what the operator asked for; [`Filter::judge`] decides one line. Lines
//! in the shape our writer produces (`{"timestamp":"…","type":"…","severity":"…",…,
//! "outcome":"…"}`) are judged on their bytes by [`Canonical`], without a JSON parse, when the
//! question is only about time, type, severity, outcome and text; every other line, and every
//! question about other fields, goes through a real parse. [`Stats`] counts in fixed memory.
//!
//! Nothing here prints.

mod predicate;
mod stats;
mod time;

use std::sync::OnceLock;

use audit_core::serde_json::Value;
use audit_core::{LenientEvent, Severity, Timestamp};

pub(crate) use predicate::Predicate;
pub(crate) use stats::{Stats, StatsOptions, TopK};
pub(crate) use time::{BoundKind, parse_bound};

/// How far out of time order lines may be and still be found by the searches that skip files
/// or seek inside them. Concurrent writers stamp events before they take the lock, so lines
/// of one file are only roughly in time order.
// FIXME: a line written more than a minute after its timestamp (a writer stalled that long,
// or events backfilled through `record` with old timestamps) can be missed by a time-range
// query unless `--unordered` is given. Scanning whole files always would lose the speed of
// ranges; the writer could note each file's true time span in the next file's checkpoint
// for the skipping to use, which is not done yet.
pub(crate) const TIME_SLACK_MILLIS: i64 = 60_000;

const TIMESTAMP_PREFIX: &[u8] = b"{\"timestamp\":\"";
const TYPE_INFIX: &[u8] = b"\",\"type\":\"";
const SEVERITY_INFIX: &[u8] = b",\"severity\":\"";
const CONTEXT_MCP_INFIX: &[u8] = b",\"context\":{\"mcpName\":\"";
const OUTCOME_KEY: &[u8] = b",\"outcome\":\"";

/// The fields of a line in canonical shape, read from its bytes: the timestamp and type at
/// once, the others on demand. A field is `None` when the bytes do not say it plainly
/// (another key order, escapes); the caller then parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Canonical<'a> {
    line: &'a [u8],
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub(crate) timestamp: &'a [u8],
    pub(crate) event_type: &'a [u8],
    /// What follows the type's closing quote.
    after_type: &'a [u8],
}

impl<'a> Canonical<'a> {
    /// Reads the timestamp and type; `None` when the line does not start the canonical way.
    pub(crate) fn parse(line: &'a [u8]) -> Option<Canonical<'a>> {
        let (timestamp, rest) = canonical_prefix(line)?;
        let (event_type, after_type) = plain_string(rest)?;
        Some(Canonical { line, timestamp, event_type, after_type })
    }

    /// `severity`, written right after the type.
    pub(crate) fn severity(&self) -> Option<&'a [u8]> {
        self.after_type.strip_prefix(SEVERITY_INFIX).and_then(plain_string).map(|(word, _)| word)
    }

    /// `context.mcpName` when it is the context's first key; `Some(None)` when the context is
    /// plainly empty.
    pub(crate) fn mcp_name(&self) -> Option<Option<&'a [u8]>> {
        let after_severity = self.after_type.strip_prefix(SEVERITY_INFIX).and_then(plain_string)?.1;
        if let Some(after) = after_severity.strip_prefix(CONTEXT_MCP_INFIX) {
            plain_string(after).map(|(name, _)| Some(name))
        } else if after_severity.starts_with(b",\"context\":{}") {
            Some(None)
        } else {
            None
        }
    }

    /// The type, severity and MCP name at once, with the bytes of the line that hold the
    /// three (from the type to the end of the MCP name): equal spans mean equal fields.
    pub(crate) fn head(&self) -> Option<Head<'a>> {
        let (severity, after_severity) =
            self.after_type.strip_prefix(SEVERITY_INFIX).and_then(plain_string)?;
        let (mcp_name, after) = if let Some(after) = after_severity.strip_prefix(CONTEXT_MCP_INFIX)
        {
            let (name, after) = plain_string(after)?;
            (Some(name), after)
        } else {
            (None, after_severity.strip_prefix(b",\"context\":{}")?)
        };
        let start = TIMESTAMP_PREFIX.len() + 24 + TYPE_INFIX.len();
        let span = &self.line[start..self.line.len() - after.len()];
        Some(Head { span, event_type: self.event_type, severity, mcp_name })
    }

    /// `outcome`, written last.
    pub(crate) fn outcome(&self) -> Option<&'a [u8]> {
        trailing_outcome(self.line)
    }
}

/// The type, severity and MCP name of a canonical line; see [`Canonical::head`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    pub(crate) span: &'a [u8],
    pub(crate) event_type: &'a [u8],
    pub(crate) severity: &'a [u8],
    pub(crate) mcp_name: Option<&'a [u8]>,
}

/// The timestamp of a canonical line and what follows `"type":"`, without looking further.
fn canonical_prefix(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = line.strip_prefix(TIMESTAMP_PREFIX)?;
    let timestamp = rest.get(..24)?;
    if !is_canonical_timestamp(timestamp) {
        return None;
    }
    Some((timestamp, rest[24..].strip_prefix(TYPE_INFIX)?))
}

/// The shape of a canonical timestamp: `D` a digit, anything else itself.
const TIMESTAMP_SHAPE: &[u8; 24] = b"DDDD-DD-DDTDD:DD:DD.DDDZ";

/// Whether 24 bytes have the shape `YYYY-MM-DDTHH:MM:SS.mmmZ`, checked eight bytes at a time:
/// each byte minus its expected base (`0` for a digit, the character itself otherwise) must
/// be at most 9 for a digit and 0 elsewhere. This runs on every line, so it avoids a loop.
fn is_canonical_timestamp(timestamp: &[u8]) -> bool {
    const fn word_of(bytes: [u8; 24], start: usize) -> u64 {
        let mut word = 0;
        let mut idx = 8;
        while idx > 0 {
            idx -= 1;
            word = (word << 8) | bytes[start + idx] as u64;
        }
        word
    }
    const fn tables() -> ([u64; 3], [u64; 3]) {
        // base: what each byte must be at least; add: 0x7f minus the largest excess allowed,
        // so that an excess too large sets the byte's high bit.
        let (mut base, mut add) = ([0_u8; 24], [0_u8; 24]);
        let mut idx = 0;
        while idx < 24 {
            let shape = TIMESTAMP_SHAPE[idx];
            (base[idx], add[idx]) = if shape == b'D' { (b'0', 0x7f - 9) } else { (shape, 0x7f) };
            idx += 1;
        }
        let base = [word_of(base, 0), word_of(base, 8), word_of(base, 16)];
        let add = [word_of(add, 0), word_of(add, 8), word_of(add, 16)];
        (base, add)
    }
    const TABLES: ([u64; 3], [u64; 3]) = tables();
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

    let Ok(bytes) = <&[u8; 24]>::try_from(timestamp) else { return false };
    let mut failed = 0;
    for (chunk, (base, add)) in bytes.chunks_exact(8).zip(TABLES.0.iter().zip(&TABLES.1)) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        // A byte below its base borrows from the next one, but is itself then far above any
        // limit, so the result is a failure either way.
        let excess = u64::from_le_bytes(word).wrapping_sub(*base);
        failed |= (excess | excess.wrapping_add(*add)) & HIGH_BITS;
    }
    failed == 0
}

/// Whether the type value at the start of `rest` is one of `literals`: `None` when an escape
/// comes before the first difference, so only a parse can tell.
///
/// Up to the first byte that differs, the raw bytes are the value (no escape came yet); a
/// plain byte that differs, or the closing quote, makes the value differ.
fn literal_type_verdict(rest: &[u8], literals: &[Vec<u8>]) -> Option<bool> {
    let mut undecided = false;
    for literal in literals {
        let common = rest.iter().zip(literal).take_while(|(left, right)| left == right).count();
        match rest.get(common) {
            Some(b'"') if common == literal.len() => return Some(true),
            Some(b'\\') => undecided = true,
            _ => {}
        }
    }
    if undecided { None } else { Some(false) }
}

/// A string value up to its closing quote, when it holds no escape; and what follows.
fn plain_string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    // The values read this way are short words: a plain loop beats a vectorised search,
    // whose setup costs more than the few bytes it would skip.
    for (idx, byte) in bytes.iter().enumerate() {
        match byte {
            b'"' => return Some((&bytes[..idx], &bytes[idx + 1..])),
            b'\\' => return None,
            _ => {}
        }
    }
    None
}

/// The `outcome` written last, as `,"outcome":"…"}` at the end of the line.
fn trailing_outcome(line: &[u8]) -> Option<&[u8]> {
    let body = line.strip_suffix(b"\"}")?;
    let start = memchr::memrchr(b'"', body)? + 1;
    let value = &body[start..];
    if value.contains(&b'\\') || !body[..start].ends_with(OUTCOME_KEY) {
        return None;
    }
    Some(value)
}

/// The canonical timestamp text of a line, by its bytes or by a parse; `None` without one.
pub(crate) fn line_timestamp(line: &[u8]) -> Option<String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(canonical) = Canonical::parse(line) {
        return std::str::from_utf8(canonical.timestamp).ok().map(str::to_owned);
    }
    let text = std::str::from_utf8(line).ok()?;
    let event = LenientEvent::parse(text).ok()?;
    event.timestamp().map(|timestamp| timestamp.to_string())
}

/// A minimum or exact severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeverityFilter {
    pub(crate) level: Severity,
    pub(crate) exact: bool,
}

impl SeverityFilter {
    /// Reads `warning` (that or worse) or `=warning` (exactly).
    ///
    /// # Errors
    ///
    /// The vocabulary's error for an unknown word.
    pub(crate) fn parse(text: &str) -> Result<SeverityFilter, audit_core::UnknownWord> {
        let (word, exact) = match text.strip_prefix('=') {
            Some(word) => (word, true),
            None => (text, false),
        };
        Ok(SeverityFilter { level: word.parse()?, exact })
    }

    fn accepts(self, word: &[u8]) -> bool {
        let Some(severity) =
            std::str::from_utf8(word).ok().and_then(|word| word.parse::<Severity>().ok())
        else {
            return false;
        };
        if self.exact { severity == self.level } else { severity >= self.level }
    }
}

/// What the operator asked for. Empty lists accept everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// Type globs (`*`, `?`); any may match.
    pub(crate) types: Vec<String>,
    pub(crate) severity: Option<SeverityFilter>,
    pub(crate) outcomes: Vec<String>,
    pub(crate) mcp_names: Vec<String>,
    pub(crate) bindings: Vec<String>,
    pub(crate) sessions: Vec<String>,
    /// Inclusive, canonical timestamp text.
    pub(crate) since: Option<String>,
    /// Exclusive, canonical timestamp text.
    pub(crate) until: Option<String>,
    pub(crate) predicates: Vec<Predicate>,
    /// Texts that must all appear in the raw line.
    pub(crate) texts: Vec<String>,
    /// The types as bytes when none is a glob, for the quick check; made on first use, so
    /// leave it default and do not change `types` after judging.
    pub(crate) literal_types: OnceLock<Option<Vec<Vec<u8>>>>,
    /// Read everything for a time range: events may be far out of time order.
    pub(crate) unordered: bool,
}

/// The judgement on one line.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// The line answers; the parsed event when it was parsed.
    Match(Option<Box<LenientEvent>>),
    /// The line does not answer.
    Skip,
    /// The line is not a readable event: why.
    Bad(String),
}

impl Filter {
    /// Whether every line answers.
    fn is_empty(&self) -> bool {
        self.types.is_empty()
            && self.severity.is_none()
            && self.outcomes.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && self.texts.is_empty()
            && !self.needs_parse()
    }

    /// Whether judging needs a parse even for canonical lines.
    fn needs_parse(&self) -> bool {
        !self.mcp_names.is_empty()
            || !self.bindings.is_empty()
            || !self.sessions.is_empty()
            || !self.predicates.is_empty()
    }

    /// The `--until` bound plus the slack, past which a time-ordered file holds no answer.
    pub(crate) fn until_with_slack(&self) -> Option<String> {
        let until = self.until.as_deref().filter(|_| !self.unordered)?;
        Some(shift(until, TIME_SLACK_MILLIS))
    }

    /// The `--since` bound minus the slack.
    pub(crate) fn since_with_slack(&self) -> Option<String> {
        let since = self.since.as_deref().filter(|_| !self.unordered)?;
        Some(shift(since, -TIME_SLACK_MILLIS))
    }

    /// Decides one line. `want_event` asks for the parsed event even when the bytes decide;
    /// `validate` checks that a line the bytes decided is UTF-8 and JSON (what is printed must
    /// be sound; what is only counted need not be).
    pub(crate) fn judge(&self, line: &[u8], want_event: bool, validate: bool) -> Verdict {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Verdict::Skip;
        }
        if !want_event && !validate && self.is_empty() {
            // Nothing to decide: the caller reads the line itself. It must still be text, so
            // that what is counted is what query would print.
            if !is_utf8(line) {
                return Verdict::Bad("invalid UTF-8".to_owned());
            }
            return Verdict::Match(None);
        }
        let finder = |text: &String| memchr::memmem::find(line, text.as_bytes()).is_some();
        if !self.texts.iter().all(finder) {
            return Verdict::Skip;
        }

        let literal_types = self.literal_types.get_or_init(|| {
            let is_glob = |glob: &String| glob.contains(['*', '?']);
            let all_literal = !self.types.is_empty() && !self.types.iter().any(is_glob);
            all_literal
                .then(|| self.types.iter().map(|literal| literal.as_bytes().to_vec()).collect())
        });
        if let Some(literals) = literal_types {
            // Most lines of a query by type are another type: reject them before anything else.
            // The timestamp needs no check for this: only the type's place matters.
            let rest = line
                .strip_prefix(TIMESTAMP_PREFIX)
                .and_then(|rest| rest.get(24..))
                .and_then(|rest| rest.strip_prefix(TYPE_INFIX));
            if rest.and_then(|rest| literal_type_verdict(rest, literals)) == Some(false) {
                return Verdict::Skip;
            }
        }

        let canonical = Canonical::parse(line);
        let mut decided = false;
        if let Some(canonical) = &canonical {
            match self.judge_canonical(canonical) {
                Some(false) => return Verdict::Skip,
                Some(true) => decided = true,
                None => {}
            }
        }
        if decided && !want_event && !self.needs_parse() {
            if !validate {
                if !is_utf8(line) {
                    return Verdict::Bad("invalid UTF-8".to_owned());
                }
                return Verdict::Match(None);
            }
            return match check_json(line) {
                Ok(()) => Verdict::Match(None),
                Err(reason) => Verdict::Bad(reason),
            };
        }

        let Ok(text) = std::str::from_utf8(line) else {
            return Verdict::Bad("invalid UTF-8".to_owned());
        };
        let event = match LenientEvent::parse(text) {
            Ok(event) => event,
            Err(error) => return Verdict::Bad(error.to_string()),
        };
        if self.accepts_event(&event) {
            Verdict::Match(Some(Box::new(event)))
        } else {
            Verdict::Skip
        }
    }

    /// `Some(answer)` when the bytes decide every byte-decidable filter, `None` when a field
    /// needed is not plain.
    fn judge_canonical(&self, canonical: &Canonical<'_>) -> Option<bool> {
        if !self.accepts_time(canonical.timestamp) {
            return Some(false);
        }
        if !self.types.is_empty()
            && !self.types.iter().any(|glob| glob_matches(glob, canonical.event_type))
        {
            return Some(false);
        }
        let mut undecided = false;
        if let Some(severity) = self.severity {
            match canonical.severity() {
                Some(word) if !severity.accepts(word) => return Some(false),
                Some(_) => {}
                None => undecided = true,
            }
        }
        if !self.outcomes.is_empty() {
            match canonical.outcome() {
                Some(word) if !self.outcomes.iter().any(|outcome| outcome.as_bytes() == word) => {
                    return Some(false);
                }
                Some(_) => {}
                None => undecided = true,
            }
        }
        if !self.mcp_names.is_empty()
            && let Some(name) = canonical.mcp_name()
        {
            let wanted = |mcp: &String| name == Some(mcp.as_bytes());
            if !self.mcp_names.iter().any(wanted) {
                return Some(false);
            }
        }
        if undecided { None } else { Some(true) }
    }

    fn accepts_time(&self, timestamp: &[u8]) -> bool {
        let after_since = self.since.as_ref().is_none_or(|since| timestamp >= since.as_bytes());
        let before_until = self.until.as_ref().is_none_or(|until| timestamp < until.as_bytes());
        after_since && before_until
    }

    fn accepts_event(&self, event: &LenientEvent) -> bool {
        let str_field = |key: &str| event.fields().get(key).and_then(Value::as_str);
        if self.since.is_some() || self.until.is_some() {
            let Some(timestamp) = event.timestamp() else { return false };
            if !self.accepts_time(timestamp.to_string().as_bytes()) {
                return false;
            }
        }
        let type_name = str_field("type").unwrap_or("");
        if !self.types.is_empty()
            && !self.types.iter().any(|glob| glob_matches(glob, type_name.as_bytes()))
        {
            return false;
        }
        if let Some(severity) = self.severity
            && !severity.accepts(str_field("severity").unwrap_or("").as_bytes())
        {
            return false;
        }
        let listed = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|value| list.iter().any(|item| item == value))
        };
        listed(&self.outcomes, str_field("outcome"))
            && listed(&self.mcp_names, event.context_str("mcpName"))
            && listed(&self.bindings, event.context_str("bindingName"))
            && listed(&self.sessions, event.context_str("sessionId"))
            && self.predicates.iter().all(|predicate| predicate.matches(event))
    }
}

/// Whether `line` is UTF-8: every line a scan counts or prints is checked, and SIMD does it
/// several times faster than the standard library's check (which showed in `stats`'s
/// profile).
pub(crate) fn is_utf8(line: &[u8]) -> bool {
    simdutf8::basic::from_utf8(line).is_ok()
}

/// Checks that a line is UTF-8 and one JSON value, without building it.
fn check_json(line: &[u8]) -> Result<(), String> {
    if !is_utf8(line) {
        return Err("invalid UTF-8".to_owned());
    }
    audit_core::serde_json::from_slice::<serde::de::IgnoredAny>(line)
        .map(|_| ())
        .map_err(|error| format!("not valid JSON ({error})"))
}

/// A canonical timestamp moved by `millis`; unchanged if it does not parse.
fn shift(timestamp: &str, millis: i64) -> String {
    Timestamp::parse(timestamp)
        .ok()
        .and_then(|parsed| Timestamp::from_unix_millis(parsed.as_unix_millis() + millis).ok())
        .map_or_else(|| timestamp.to_owned(), |moved| moved.to_string())
}

/// Matches `*` (any run) and `?` (any one byte) globs.
pub(crate) fn glob_matches(glob: &str, text: &[u8]) -> bool {
    let glob = glob.as_bytes();
    if !glob.contains(&b'*') && !glob.contains(&b'?') {
        return glob == text;
    }
    // The classic two-pointer match with one backtrack point: linear for one star, fine for
    // the short type names it sees.
    let (mut glob_idx, mut text_idx) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while text_idx < text.len() {
        match glob.get(glob_idx) {
            Some(b'*') => {
                star = Some((glob_idx, text_idx));
                glob_idx += 1;
            }
            Some(&byte) if byte == b'?' || byte == text[text_idx] => {
                glob_idx += 1;
                text_idx += 1;
            }
            _ => match star {
                Some((star_glob, star_text)) => {
                    glob_idx = star_glob + 1;
                    text_idx = star_text + 1;
                    star = Some((star_glob, star_text + 1));
                }
                None => return false,
            },
        }
    }
    glob[glob_idx..].iter().all(|byte| *byte == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &str = r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"network_request_denied","severity":"warning","context":{"mcpName":"Worker Code"},"details":{"url":"http://evil.com/x","note":"a \"quoted\" word"},"outcome":"blocked"}"#;

    #[test]
    fn canonical_fields_from_bytes() {
        let canonical = Canonical::parse(CANONICAL.as_bytes()).unwrap();
        assert_eq!(canonical.timestamp, b"2026-12-03T10:00:00.000Z");
        assert_eq!(canonical.event_type, b"network_request_denied");
        assert_eq!(canonical.severity(), Some(&b"warning"[..]));
        assert_eq!(canonical.mcp_name(), Some(Some(&b"Worker Code"[..])));
        assert_eq!(canonical.outcome(), Some(&b"blocked"[..]));

        let spaced = CANONICAL.replace("\"type\":", "\"type\": ");
        assert_eq!(Canonical::parse(spaced.as_bytes()), None);
        let escaped = CANONICAL.replace("network_request_denied", "network\\u005frequest_denied");
        assert_eq!(Canonical::parse(escaped.as_bytes()), None);
        let odd_outcome = CANONICAL.replace("\"blocked\"", "\"blo\\\"cked\"");
        assert_eq!(Canonical::parse(odd_outcome.as_bytes()).unwrap().outcome(), None);
        let empty_context = CANONICAL.replace("{\"mcpName\":\"Worker Code\"}", "{}");
        assert_eq!(Canonical::parse(empty_context.as_bytes()).unwrap().mcp_name(), Some(None));
    }

    fn judge(filter: &Filter, line: &str) -> &'static str {
        match filter.judge(line.as_bytes(), false, true) {
            Verdict::Match(_) => "match",
            Verdict::Skip => "skip",
            Verdict::Bad(_) => "bad",
        }
    }

    #[test]
    fn fast_and_parsed_paths_agree() {
        let odd = r#"{ "type" : "network_request_denied", "timestamp": "2026-12-03T12:00:00+02:00", "severity":"warning", "outcome":"blocked", "context": {"mcpName": "Worker Code"}, "details": {"url": "http://evil.com/x"}}"#;
        let escaped = CANONICAL.replace("network_request_denied", "network\\u005frequest_denied");
        let cases: Vec<(Filter, &str)> = vec![
            (Filter { types: vec!["network_*".into()], ..Filter::default() }, "match"),
            (Filter { types: vec!["code_*".into()], ..Filter::default() }, "skip"),
            (Filter { types: vec!["network_request_?enied".into()], ..Filter::default() }, "match"),
            (
                Filter { severity: SeverityFilter::parse("warning").ok(), ..Filter::default() },
                "match",
            ),
            (Filter { severity: SeverityFilter::parse("error").ok(), ..Filter::default() }, "skip"),
            (
                Filter { severity: SeverityFilter::parse("=warning").ok(), ..Filter::default() },
                "match",
            ),
            (Filter { severity: SeverityFilter::parse("=info").ok(), ..Filter::default() }, "skip"),
            (Filter { outcomes: vec!["blocked".into()], ..Filter::default() }, "match"),
            (Filter { outcomes: vec!["success".into()], ..Filter::default() }, "skip"),
            (Filter { mcp_names: vec!["Worker Code".into()], ..Filter::default() }, "match"),
            (Filter { mcp_names: vec!["code-mode".into()], ..Filter::default() }, "skip"),
            (
                Filter { since: Some("2026-12-03T10:00:00.000Z".into()), ..Filter::default() },
                "match",
            ),
            (
                Filter { until: Some("2026-12-03T10:00:00.000Z".into()), ..Filter::default() },
                "skip",
            ),
            (Filter { texts: vec!["evil.com".into()], ..Filter::default() }, "match"),
            (Filter { texts: vec!["good.com".into()], ..Filter::default() }, "skip"),
        ];
        for (filter, expected) in &cases {
            assert_eq!(judge(filter, CANONICAL), *expected, "{filter:?}");
            assert_eq!(judge(filter, odd), *expected, "odd: {filter:?}");
            assert_eq!(judge(filter, &escaped), *expected, "escaped: {filter:?}");
        }
    }

    #[test]
    fn bad_lines_are_named() {
        let filter = Filter::default();
        assert_eq!(judge(&filter, "not json"), "bad");
        assert_eq!(judge(&filter, "[1,2]"), "bad");
        assert_eq!(judge(&filter, "   "), "skip");
        let glued = r#"{"timestamp":"2026-12-03T10:00:00.000Z","type":"binding_accessed","sev{"timestamp":"2026-12-03T10:00:00.000Z","type":"x","outcome":"success"}"#;
        assert_eq!(judge(&filter, glued), "bad");
        let invalid =
            [&CANONICAL.as_bytes()[..60], b"\xff\xfe", &CANONICAL.as_bytes()[60..]].concat();
        assert!(
            matches!(filter.judge(&invalid, false, true), Verdict::Bad(reason) if reason == "invalid UTF-8")
        );
    }

    #[test]
    fn canonical_timestamps_by_shape() {
        let check = |text: &[u8], expected: bool| {
            assert_eq!(is_canonical_timestamp(text), expected, "{}", String::from_utf8_lossy(text));
        };
        check(b"2026-12-03T10:00:00.000Z", true);
        check(b"9999-19-39T99:99:99.999Z", true);
        check(b"0000-00-00T00:00:00.000Z", true);
        check(b"2026-12-03T10:00:00.000+", false);
        check(b"2026-12-03 10:00:00.000Z", false);
        check(b"2026/12/03T10:00:00.000Z", false);
        check(b"2026-12-03T10:00:00,000Z", false);
        check(b"2026-12-0:T10:00:00.000Z", false);
        check(b"2026-12-03T10:00:00.00\"Z", false);
        check(b"/026-12-03T10:00:00.000Z", false);
        check(b"\xff026-12-03T10:00:00.000Z", false);
        check(b"2026-12-03T10:00:00.000", false);
        for idx in 0..24 {
            for byte in [b'0' - 1, b'9' + 1, b'a', 0, 0x80, 0xff] {
                let mut text = *b"2026-12-03T10:00:00.000Z";
                if text[idx].is_ascii_digit() {
                    text[idx] = byte;
                    check(&text, false);
                }
            }
        }
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*", b"anything"));
        assert!(glob_matches("network_*", b"network_request_denied"));
        assert!(glob_matches("*_denied", b"network_request_denied"));
        assert!(glob_matches("*request*", b"network_request_denied"));
        assert!(!glob_matches("network_*", b"code_execution_start"));
        assert!(!glob_matches("a?c", b"abbc"));
        assert!(glob_matches("a*b*c", b"axxbyyc"));
    }
}
