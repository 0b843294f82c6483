//! UTC instants with millisecond precision, written the one way the log writes them.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::DateTime;
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

    /// The instant as the 24 bytes of `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    ///
    /// Computed with integer arithmetic (days to a civil date after Howard Hinnant's
    /// `civil_from_days`), because the writer spells one per event and a general calendar
    /// library costs several times as much for this one fixed shape.
    pub fn to_iso_bytes(self) -> [u8; 24] {
        let days = self.millis.div_euclid(MILLIS_PER_DAY);
        // OK because `rem_euclid` lies in 0..MILLIS_PER_DAY, which fits a u32.
        let millis_of_day = self.millis.rem_euclid(MILLIS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        let (seconds_of_day, millis) = (millis_of_day / 1000, millis_of_day % 1000);
        let (hour, minute, second) =
            (seconds_of_day / 3600, seconds_of_day / 60 % 60, seconds_of_day % 60);

        let mut out = *b"0000-00-00T00:00:00.000Z";
        put_digits(&mut out[0..4], year);
        put_digits(&mut out[5..7], month);
        put_digits(&mut out[8..10], day);
        put_digits(&mut out[11..13], hour);
        put_digits(&mut out[14..16], minute);
        put_digits(&mut out[17..19], second);
        put_digits(&mut out[20..23], millis);
        out
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_iso_bytes();
        // OK because `to_iso_bytes` writes ASCII digits and punctuation only.
        f.write_str(std::str::from_utf8(&bytes).expect("ASCII is UTF-8"))
    }
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01, for the years the
/// constructors allow (0000 to 9999, so the year is never negative).
fn civil_from_days(days: i64) -> (u32, u32, u32) {
    // Shift the epoch to 0000-03-01, so that leap days fall at the end of a year, and count
    // in 400-year eras of 146,097 days.
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    // OK because `rem_euclid` lies in 0..146_097.
    let day_of_era = shifted.rem_euclid(146_097) as u32;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = era * 400 + i64::from(year_of_era) + i64::from(month <= 2);
    // OK because the constructors keep instants within the years 0000 to 9999.
    (u32::try_from(year).expect("year within 0000 to 9999"), month, day)
}

/// Writes `value` as decimal digits filling `out`, zero-padded on the left.
fn put_digits(out: &mut [u8], mut value: u32) {
    for digit in out.iter_mut().rev() {
        // OK because `value % 10` is a single digit.
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
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
    fn civil_dates_follow_the_calendar_on_every_day() {
        // Walks every day of the years 0000 to 9999 with a plain calendar.
        let is_leap = |year: u32| {
            year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
        };
        let month_len = |year: u32, month: u32| match month {
            2 if is_leap(year) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut year, mut month, mut day) = (0, 1, 1);
        for days in MIN_MILLIS / MILLIS_PER_DAY..=MAX_MILLIS / MILLIS_PER_DAY {
            assert_eq!(civil_from_days(days), (year, month, day), "days {days}");
            day += 1;
            if day > month_len(year, month) {
                (month, day) = (month + 1, 1);
            }
            if month > 12 {
                (year, month) = (year + 1, 1);
            }
        }
        assert_eq!((year, month, day), (10_000, 1, 1));
    }

    #[test]
    fn the_arithmetic_formatter_agrees_with_chrono() {
        // Every 97th day at a different time of day, and the edges.
        let mut samples = vec![MIN_MILLIS, MAX_MILLIS, 0, -1, 951_782_400_000];
        let mut millis_of_day = 0;
        for day in (MIN_MILLIS / MILLIS_PER_DAY..=MAX_MILLIS / MILLIS_PER_DAY).step_by(97) {
            millis_of_day = (millis_of_day + 7_654_321) % MILLIS_PER_DAY;
            samples.push(day * MILLIS_PER_DAY + millis_of_day);
        }
        for millis in samples {
            let expected = chrono::DateTime::from_timestamp_millis(millis)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            assert_eq!(Timestamp { millis }.to_string(), expected, "millis {millis}");
        }
    }

    #[test]
    fn utc_date_is_the_day_in_utc() {
        let late = Timestamp::parse("2025-11-19T23:30:00.000-02:00").unwrap();
        assert_eq!(late.utc_date(), "2025-11-20");
    }
}
