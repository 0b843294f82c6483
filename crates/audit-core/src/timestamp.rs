//! UTC instants with millisecond precision, written the one way the log writes them.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The earliest instant a log line can spell: `0000-01-01T00:00:00.000Z`.
const MIN_MILLIS: i64 = -62_167_219_200_000;
/// The latest instant a log line can spell: `9999-12-31T23:59:59.999Z`.
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// An instant in UTC, in whole milliseconds since the Unix epoch.
///
/// On the wire it is always `YYYY-MM-DDTHH:MM:SS.mmmZ` (the shape JavaScript's
/// `Date.prototype.toISOString` writes), so lines sort and grep the same everywhere. Only the
/// years 0000 to 9999 can be spelled that way; anything outside is refused when it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

/// Why a string is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The text is not an RFC 3339 date and time.
    #[error("not an RFC 3339 date-time such as 2025-11-19T10:15:30.123Z")]
    Malformed,
    /// The instant lies outside the years 0000 to 9999.
    #[error("outside the years 0000 to 9999")]
    OutOfRange,
}

impl Timestamp {
    /// The Unix epoch, `1970-01-01T00:00:00.000Z`.
    pub const UNIX_EPOCH: Timestamp = Timestamp { millis: 0 };

    /// The current time of the system clock, cut to the millisecond.
    pub fn now() -> Timestamp {
        let millis = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_millis()).unwrap_or(MAX_MILLIS),
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(-MIN_MILLIS),
        };
        Timestamp { millis: millis.clamp(MIN_MILLIS, MAX_MILLIS) }
    }

    /// The instant `millis` milliseconds after the Unix epoch.
    ///
    /// # Errors
    ///
    /// [`TimestampError::OutOfRange`] when the instant falls outside the years 0000 to 9999.
    pub fn from_unix_millis(millis: i64) -> Result<Timestamp, TimestampError> {
        if (MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
            Ok(Timestamp { millis })
        } else {
            Err(TimestampError::OutOfRange)
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn as_unix_millis(self) -> i64 {
        self.millis
    }

    /// Parses any RFC 3339 date-time, with any offset and any fraction, into UTC, dropping
    /// digits below the millisecond.
    ///
    /// # Errors
    ///
    /// [`TimestampError::Malformed`] for text that is not RFC 3339, and
    /// [`TimestampError::OutOfRange`] for an instant outside the years 0000 to 9999.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let parsed = DateTime::parse_from_rfc3339(text).map_err(|_| TimestampError::Malformed)?;
        Timestamp::from_unix_millis(parsed.timestamp_millis())
    }

    /// The calendar day of this instant in UTC, as `YYYY-MM-DD`.
    pub fn utc_date(self) -> String {
        let mut text = self.to_string();
        text.truncate(10);
        text
    }

    fn to_chrono(self) -> DateTime<Utc> {
        // OK because the constructors keep `millis` inside the years 0000 to 9999, which chrono
        // represents.
        DateTime::from_timestamp_millis(self.millis).expect("timestamp within chrono's range")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written by hand rather than through chrono's formatting machinery: the writer prints
        // one of these per event, and the fixed shape needs no parsing of a format string.
        let time = self.to_chrono();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            time.year(),
            time.month(),
            time.day(),
            time.hour(),
            time.minute(),
            time.second(),
            time.timestamp_subsec_millis(),
        )
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        Timestamp::parse(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let parsed = Timestamp::parse(input).unwrap();
        assert_eq!(parsed.to_string(), expected, "input {input}");
    }

    #[test]
    fn parses_and_writes_the_canonical_shape() {
        check("2025-11-19T10:15:30.123Z", "2025-11-19T10:15:30.123Z");
        check("2025-11-19T10:15:30Z", "2025-11-19T10:15:30.000Z");
        check("2025-11-19T10:15:30.123456789Z", "2025-11-19T10:15:30.123Z");
        check("2025-11-19T12:15:30.5+02:00", "2025-11-19T10:15:30.500Z");
        check("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z");
        check("0000-01-01T00:00:00.000Z", "0000-01-01T00:00:00.000Z");
        check("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in ["", "2025-11-19", "yesterday", "2025-13-01T00:00:00Z", "1732008930123"] {
            assert_eq!(Timestamp::parse(bad), Err(TimestampError::Malformed), "input {bad:?}");
        }
        assert_eq!(Timestamp::from_unix_millis(MAX_MILLIS + 1), Err(TimestampError::OutOfRange));
        assert_eq!(Timestamp::from_unix_millis(MIN_MILLIS - 1), Err(TimestampError::OutOfRange));
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59.999-01:00"),
            Err(TimestampError::OutOfRange)
        );
    }

    #[test]
    fn utc_date_is_the_day_in_utc() {
        let late = Timestamp::parse("2025-11-19T23:30:00.000-02:00").unwrap();
        assert_eq!(late.utc_date(), "2025-11-20");
    }
}
