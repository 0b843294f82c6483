//! Time bounds as operators type them: RFC 3339, dates, durations back from now, day words.

use audit_core::Timestamp;

const DAY_MILLIS: i64 = 86_400_000;

/// A time bound that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{flag} {text:?}: expected an RFC 3339 time (2026-12-03T10:00:00Z), a date (2026-12-03), \
     a duration back from now (30s, 15m, 1h, 7d, 2w), now, today or yesterday"
)]
pub(crate) struct TimeError {
    flag: &'static str,
    text: String,
}

/// Which end of a range a bound is; a day named as an upper bound means its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BoundKind {
    /// `--since`: inclusive; a day means its first millisecond.
    Since,
    /// `--until`: exclusive; a day means the start of the next day, so the whole day is in.
    Until,
}

/// Reads a bound into the canonical timestamp text (`YYYY-MM-DDTHH:MM:SS.mmmZ`), which sorts
/// bytewise in time order like the lines themselves.
///
/// # Errors
///
/// [`TimeError`] naming the flag and the text.
pub(crate) fn parse_bound(
    text: &str,
    kind: BoundKind,
    now: Timestamp,
) -> Result<String, TimeError> {
    let flag = match kind {
        BoundKind::Since => "--since",
        BoundKind::Until => "--until",
    };
    let error = || TimeError { flag, text: text.chars().take(64).collect() };
    let day_end = |start: i64| if kind == BoundKind::Until { start + DAY_MILLIS } else { start };
    let today = now.as_unix_millis().div_euclid(DAY_MILLIS) * DAY_MILLIS;

    let millis = match text.trim() {
        "now" => now.as_unix_millis(),
        "today" => day_end(today),
        "yesterday" => day_end(today - DAY_MILLIS),
        trimmed => {
            if let Some(back) = parse_duration(trimmed) {
                now.as_unix_millis().checked_sub(back).ok_or_else(error)?
            } else if is_date(trimmed) {
                let start =
                    Timestamp::parse(&format!("{trimmed}T00:00:00Z")).map_err(|_| error())?;
                day_end(start.as_unix_millis())
            } else {
                Timestamp::parse(trimmed).map_err(|_| error())?.as_unix_millis()
            }
        }
    };
    Ok(Timestamp::from_unix_millis(millis).map_err(|_| error())?.to_string())
}

/// `30s`, `15m`, `1h`, `7d`, `2w` in milliseconds.
fn parse_duration(text: &str) -> Option<i64> {
    let unit_at = text.len().checked_sub(1)?;
    let (number, unit) = text.split_at(unit_at);
    let unit_millis = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MILLIS,
        "w" => 7 * DAY_MILLIS,
        _ => return None,
    };
    if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    number.parse::<i64>().ok()?.checked_mul(unit_millis)
}

fn is_date(text: &str) -> bool {
    text.len() == 10
        && text.bytes().enumerate().all(|(idx, byte)| match idx {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, kind: BoundKind, expected: &str) {
        let now = Timestamp::parse("2026-12-03T18:30:00.250Z").unwrap();
        let got = match parse_bound(text, kind, now) {
            Ok(bound) => bound,
            Err(error) => error.to_string(),
        };
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn bounds_in_every_spelling() {
        use BoundKind::{Since, Until};
        check("2026-12-01T10:00:00+02:00", Since, "2026-12-01T08:00:00.000Z");
        check("2026-12-01", Since, "2026-12-01T00:00:00.000Z");
        check("2026-12-01", Until, "2026-12-02T00:00:00.000Z");
        check("today", Since, "2026-12-03T00:00:00.000Z");
        check("today", Until, "2026-12-04T00:00:00.000Z");
        check("yesterday", Since, "2026-12-02T00:00:00.000Z");
        check("yesterday", Until, "2026-12-03T00:00:00.000Z");
        check("now", Until, "2026-12-03T18:30:00.250Z");
        check("90s", Since, "2026-12-03T18:28:30.250Z");
        check("1h", Since, "2026-12-03T17:30:00.250Z");
        check("7d", Since, "2026-11-26T18:30:00.250Z");
        check("2w", Since, "2026-11-19T18:30:00.250Z");
        let message = "--since \"last week\": expected an RFC 3339 time (2026-12-03T10:00:00Z), a \
                       date (2026-12-03), a duration back from now (30s, 15m, 1h, 7d, 2w), now, \
                       today or yesterday";
        check("last week", Since, message);
        assert!(parse_bound("2026-13-01", Since, Timestamp::UNIX_EPOCH).is_err());
        assert!(parse_bound("h", Since, Timestamp::UNIX_EPOCH).is_err());
        assert!(parse_bound("-5h", Since, Timestamp::UNIX_EPOCH).is_err());
    }
}
