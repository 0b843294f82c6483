//! Turning one merged value into a typed setting, with an error naming its origin.
//!
//! Values from the environment arrive as text and values from settings.json arrive typed, so
//! every reader here accepts both: `true` and `"yes"`, `10` and `"10"`. Text is trimmed,
//! except paths.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use figment::value::{Num, Value};

use crate::config::{BYTES_PER_MB, Backpressure, Durability};
use crate::error::{ConfigError, ValueSource};
use crate::setting::Setting;

/// The longest stretch of a value an error message quotes.
const MAX_QUOTED_CHARS: usize = 40;

/// A short description of a value for error messages, such as `the text "ten"`.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::String(_, text) => format!("the text {:?}", shorten(text)),
        Value::Char(_, char) => format!("the text {:?}", char.to_string()),
        Value::Bool(_, boolean) => format!("the boolean {boolean}"),
        Value::Num(_, num) => format!("the number {}", num_text(*num)),
        Value::Empty(..) => "null".to_owned(),
        Value::Dict(..) => "an object".to_owned(),
        Value::Array(..) => "an array".to_owned(),
    }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

fn num_text(num: Num) -> String {
    match (num.to_u128(), num.to_i128(), num.to_f64()) {
        (Some(unsigned), _, _) => unsigned.to_string(),
        (None, Some(signed), _) => signed.to_string(),
        (None, None, Some(float)) => float.to_string(),
        (None, None, None) => "?".to_owned(),
    }
}

fn invalid(origin: &ValueSource, expected: impl Into<String>, value: &Value) -> ConfigError {
    ConfigError::InvalidValue {
        origin: origin.clone(),
        expected: expected.into(),
        found: describe(value),
    }
}

/// A number as written: whole, or with a fraction. Never NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Number {
    Whole(i128),
    Fraction(f64),
}

fn number(value: &Value) -> Option<Number> {
    match value {
        Value::Num(_, num) => {
            let whole =
                num.to_i128().or_else(|| num.to_u128().and_then(|n| i128::try_from(n).ok()));
            whole.map(Number::Whole).or_else(|| num.to_f64().and_then(float_number))
        }
        Value::String(_, text) => {
            let text = text.trim();
            match text.parse::<i128>() {
                Ok(whole) => Some(Number::Whole(whole)),
                // Rust also reads `inf` and `NaN`; `float_number` refuses both.
                Err(_) => text.parse::<f64>().ok().and_then(float_number),
            }
        }
        _ => None,
    }
}

fn float_number(float: f64) -> Option<Number> {
    // 2^100 is far past every limit, and keeps the cast to i128 exact and in range.
    const WHOLE_LIMIT: f64 = 1_267_650_600_228_229_401_496_703_205_376.0;
    if !float.is_finite() {
        None
    } else if float.fract() == 0.0 && float.abs() < WHOLE_LIMIT {
        #[expect(clippy::cast_possible_truncation, reason = "whole and within i128, checked above")]
        Some(Number::Whole(float as i128))
    } else {
        Some(Number::Fraction(float))
    }
}

/// A boolean: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
pub(crate) fn boolean(
    value: &Value,
    origin: &ValueSource,
    setting: Setting,
) -> Result<bool, ConfigError> {
    let parsed = match value {
        Value::Bool(_, boolean) => Some(*boolean),
        Value::Num(..) => match number(value) {
            Some(Number::Whole(1)) => Some(true),
            Some(Number::Whole(0)) => Some(false),
            _ => None,
        },
        Value::String(_, text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| invalid(origin, setting.expected(), value))
}

/// A whole number from 0 to `max`.
pub(crate) fn whole(
    value: &Value,
    origin: &ValueSource,
    setting: Setting,
    max: u64,
) -> Result<u64, ConfigError> {
    match number(value) {
        Some(Number::Whole(whole)) if whole > i128::from(max) => {
            Err(invalid(origin, format!("{}, at most {max}", setting.expected()), value))
        }
        // In range of u64 by the arm above and the check here, so the conversion cannot fail.
        Some(Number::Whole(whole)) if whole >= 0 => Ok(u64::try_from(whole).unwrap_or(max)),
        _ => Err(invalid(origin, setting.expected(), value)),
    }
}

/// A size in megabytes (fractions allowed), as bytes, rounded down. The multiplication is
/// checked, and a positive size too small to make one byte is refused rather than read as 0,
/// which would mean "off".
pub(crate) fn megabytes(
    value: &Value,
    origin: &ValueSource,
    setting: Setting,
) -> Result<u64, ConfigError> {
    const MAX_MB: u64 = u64::MAX / BYTES_PER_MB;
    #[expect(clippy::cast_precision_loss, reason = "2^20 is exact in f64")]
    const BYTES_PER_MB_F64: f64 = BYTES_PER_MB as f64;
    let too_large = || invalid(origin, format!("{}, at most {MAX_MB}", setting.expected()), value);

    match number(value) {
        Some(Number::Whole(megabytes)) if megabytes >= 0 => u64::try_from(megabytes)
            .ok()
            .and_then(|megabytes| megabytes.checked_mul(BYTES_PER_MB))
            .ok_or_else(too_large),
        Some(Number::Fraction(megabytes)) if megabytes > 0.0 => {
            let bytes = (megabytes * BYTES_PER_MB_F64).floor();
            // 2^64 as f64; anything at or above it does not fit.
            if bytes >= 18_446_744_073_709_551_616.0 {
                Err(too_large())
            } else if bytes < 1.0 {
                let expected =
                    format!("{}, and at least one byte (0.000001 MB)", setting.expected());
                Err(invalid(origin, expected, value))
            } else {
                #[expect(clippy::cast_possible_truncation, reason = "whole, in 1..2^64, checked")]
                #[expect(clippy::cast_sign_loss, reason = "positive, checked above")]
                Ok(bytes as u64)
            }
        }
        _ => Err(invalid(origin, setting.expected(), value)),
    }
}

/// Text with surrounding whitespace removed; empty text is refused.
fn text<'v>(
    value: &'v Value,
    origin: &ValueSource,
    setting: Setting,
) -> Result<&'v str, ConfigError> {
    match value {
        Value::String(_, text) if !text.trim().is_empty() => Ok(text.trim()),
        _ => Err(invalid(origin, setting.expected(), value)),
    }
}

/// A durability mode by name.
pub(crate) fn durability(value: &Value, origin: &ValueSource) -> Result<Durability, ConfigError> {
    let name = text(value, origin, Setting::Durability)?;
    Durability::from_name(name)
        .ok_or_else(|| invalid(origin, Setting::Durability.expected(), value))
}

/// A backpressure policy by name.
pub(crate) fn backpressure(
    value: &Value,
    origin: &ValueSource,
) -> Result<Backpressure, ConfigError> {
    let name = text(value, origin, Setting::Backpressure)?;
    Backpressure::from_name(name)
        .ok_or_else(|| invalid(origin, Setting::Backpressure.expected(), value))
}

/// What relative paths and `~` are resolved against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathBase<'a> {
    /// The user's home, for `~`; `None` when `HOME` is not set.
    pub(crate) user_home: Option<&'a Path>,
    /// The directory relative paths start from; `None` when it is unknown.
    pub(crate) relative_to: Option<&'a Path>,
}

/// A path, with `~` and `~/...` expanded and a relative path joined to its base.
pub(crate) fn path(
    value: &Value,
    origin: &ValueSource,
    setting: Setting,
    base: PathBase<'_>,
) -> Result<PathBuf, ConfigError> {
    // A number such as `NCP_AUDIT_DIR=2024` arrives as text from the environment and stays a
    // path; in settings.json a number is a type error, since a path there is always a string.
    // Taken as written, untrimmed: a trailing space is a legal part of a file name.
    match value {
        Value::String(_, written) if !written.trim().is_empty() => {
            resolve_path(written, origin, base)
        }
        _ => Err(invalid(origin, setting.expected(), value)),
    }
}

/// Whether `written` starts with a URL scheme and `://` (`https://`, `s3://`, `file://`). A
/// scheme has two characters or more, so a drive letter (`C://logs`) is not one.
fn looks_like_url(written: &str) -> bool {
    let Some((scheme, _)) = written.split_once("://") else { return false };
    let mut chars = scheme.chars();
    scheme.len() >= 2
        && chars.next().is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Expands `~` and joins a relative path to `base.relative_to`.
pub(crate) fn resolve_path(
    written: &str,
    origin: &ValueSource,
    base: PathBase<'_>,
) -> Result<PathBuf, ConfigError> {
    let unresolvable = |reason| ConfigError::UnresolvablePath { origin: origin.clone(), reason };
    // A URL would become a directory named after its scheme, with its `//` collapsed (and
    // with it the shape that lets a password in it be recognised and redacted on display).
    if looks_like_url(written) {
        return Err(unresolvable("it is a URL, not a directory; give a local path"));
    }
    let path = if written == "~" || written.starts_with("~/") {
        let home = base.user_home.ok_or_else(|| unresolvable("HOME is not set to expand ~"))?;
        home.join(written.trim_start_matches('~').trim_start_matches('/'))
    } else if written.starts_with('~') {
        return Err(unresolvable("~user is not supported; write the full path"));
    } else {
        PathBuf::from(written)
    };

    let path = if path.is_absolute() {
        path
    } else {
        let relative_to =
            base.relative_to.ok_or_else(|| unresolvable("the current directory is unknown"))?;
        relative_to.join(path)
    };
    // `.` components go; `..` stays, since it cannot be resolved without following links.
    Ok(path.components().filter(|component| *component != Component::CurDir).collect())
}

/// Sample rates: an object of event type names to rates, or the text `name=rate,name=rate`.
/// Every rate is from 0 to 1; a name is lowercase letters, digits and `_`.
pub(crate) fn sample_rates(
    value: &Value,
    origin: &ValueSource,
) -> Result<BTreeMap<String, f64>, ConfigError> {
    let mut rates = BTreeMap::new();
    match value {
        Value::Dict(_, entries) => {
            for (name, rate_value) in entries {
                let entry_origin = match origin {
                    ValueSource::SettingsFile { path, key } => ValueSource::SettingsFile {
                        path: path.clone(),
                        key: format!("{key}.{name}"),
                    },
                    other => other.clone(),
                };
                check_name(name, origin)?;
                rates.insert(name.clone(), rate(rate_value, &entry_origin, name)?);
            }
        }
        Value::String(_, text) => {
            // Empty entries are skipped, so a trailing comma is harmless.
            for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
                let Some((name, rate_text)) = entry.split_once('=') else {
                    let expected = "name=rate pairs separated by commas, such as \
                                    binding_accessed=0.1";
                    return Err(invalid(origin, expected, &Value::from(entry)));
                };
                let name = name.trim();
                check_name(name, origin)?;
                let rate = rate(&Value::from(rate_text), origin, name)?;
                if rates.insert(name.to_owned(), rate).is_some() {
                    let expected = format!("each event type once, found {name} twice");
                    return Err(ConfigError::InvalidValue {
                        origin: origin.clone(),
                        expected,
                        found: describe(value),
                    });
                }
            }
        }
        _ => return Err(invalid(origin, Setting::SampleRates.expected(), value)),
    }
    Ok(rates)
}

fn check_name(name: &str, origin: &ValueSource) -> Result<(), ConfigError> {
    let is_name_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if !name.is_empty() && name.chars().all(is_name_char) {
        Ok(())
    } else {
        Err(ConfigError::InvalidValue {
            origin: origin.clone(),
            expected: "event type names in lowercase letters, digits and _, such as \
                       binding_accessed"
                .to_owned(),
            found: format!("the name {:?}", shorten(name)),
        })
    }
}

fn rate(value: &Value, origin: &ValueSource, name: &str) -> Result<f64, ConfigError> {
    #[expect(clippy::cast_precision_loss, reason = "only 0 and 1 pass the range check")]
    let rate = match number(value) {
        Some(Number::Whole(whole)) => whole as f64,
        Some(Number::Fraction(fraction)) => fraction,
        None => f64::NAN,
    };
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(invalid(origin, format!("a rate from 0 to 1 for {name}"), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(var: &str) -> ValueSource {
        ValueSource::Env { var: var.to_owned() }
    }

    /// Every accepted spelling of a boolean, and a few refused ones.
    #[test]
    fn booleans_in_every_spelling() {
        let origin = env("NCP_AUDIT_ENABLED");
        let check = |value: Value, expected: Option<bool>| {
            let parsed = boolean(&value, &origin, Setting::Enabled).ok();
            assert_eq!(parsed, expected, "{value:?}");
        };
        for word in ["true", "TRUE", "True", "1", "yes", "YES", "Yes", "on", "ON", " On "] {
            check(Value::from(word), Some(true));
        }
        for word in ["false", "FALSE", "False", "0", "no", "NO", "off", "Off"] {
            check(Value::from(word), Some(false));
        }
        check(Value::from(true), Some(true));
        check(Value::from(0_u8), Some(false));
        for word in ["2", "y", "enabled", "tru", ""] {
            check(Value::from(word), None);
        }
        check(Value::from(2_u8), None);
    }

    #[test]
    fn boolean_error_names_the_variable_and_the_value() {
        let error = boolean(&Value::from("maybe"), &env("NCP_AUDIT_ENABLED"), Setting::Enabled)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable NCP_AUDIT_ENABLED: expected a boolean (true/false, 1/0, \
             yes/no, on/off), found the text \"maybe\""
        );
    }

    #[test]
    fn megabytes_convert_checked() {
        let origin = env("NCP_AUDIT_MAX_SIZE_MB");
        let check = |value: Value| megabytes(&value, &origin, Setting::MaxFileSize);
        assert_eq!(check(Value::from("10")).unwrap(), 10 << 20);
        assert_eq!(check(Value::from(0_u8)).unwrap(), 0);
        assert_eq!(check(Value::from("0.5")).unwrap(), 1 << 19);
        assert_eq!(check(Value::from("17592186044415")).unwrap(), 17_592_186_044_415 << 20);
        let message = check(Value::from("17592186044416")).unwrap_err().to_string();
        assert!(message.contains("at most 17592186044415"), "{message}");
        let message = check(Value::from(u64::MAX)).unwrap_err().to_string();
        assert!(message.contains("at most"), "{message}");
        assert!(check(Value::from("1e300")).is_err());
        assert!(check(Value::from("-1")).is_err());
        assert!(check(Value::from(-1_i64)).is_err());
        assert!(check(Value::from("-0.5")).is_err());
        assert!(check(Value::from("1e-9")).unwrap_err().to_string().contains("one byte"));
        assert!(check(Value::from("NaN")).is_err());
        assert!(check(Value::from("inf")).is_err());
        assert!(check(Value::from("10MB")).is_err());
        assert!(check(Value::from(true)).is_err());
    }

    #[test]
    fn whole_numbers_refuse_negatives_fractions_and_overflow() {
        let origin = env("NCP_AUDIT_MAX_FILES");
        let check = |value: Value| whole(&value, &origin, Setting::MaxFiles, u64::from(u32::MAX));
        assert_eq!(check(Value::from("5")).unwrap(), 5);
        assert_eq!(check(Value::from(" 0 ")).unwrap(), 0);
        assert_eq!(check(Value::from(7.0_f64)).unwrap(), 7);
        assert_eq!(check(Value::from("4294967295")).unwrap(), 4_294_967_295);
        let message = check(Value::from("4294967296")).unwrap_err().to_string();
        assert_eq!(
            message,
            "environment variable NCP_AUDIT_MAX_FILES: expected a whole number of files, 0 or \
             more (0 keeps all), at most 4294967295, found the text \"4294967296\""
        );
        let message = check(Value::from("-1")).unwrap_err().to_string();
        assert!(message.ends_with("found the text \"-1\""), "{message}");
        assert!(check(Value::from("2.5")).is_err());
        assert!(check(Value::from("99999999999999999999999999999999999999999")).is_err());
    }

    #[test]
    fn paths_expand_home_and_join_relative_ones() {
        let origin = env("NCP_AUDIT_DIR");
        let base = PathBase {
            user_home: Some(Path::new("/home/u")),
            relative_to: Some(Path::new("/cwd")),
        };
        let check = |written: &str| path(&Value::from(written), &origin, Setting::Dir, base);
        assert_eq!(check("2024").unwrap(), Path::new("/cwd/2024"));
        assert_eq!(check("~").unwrap(), Path::new("/home/u"));
        assert_eq!(check("~/logs").unwrap(), Path::new("/home/u/logs"));
        assert_eq!(check("/var/log/ncp").unwrap(), Path::new("/var/log/ncp"));
        assert_eq!(check("a/../b").unwrap(), Path::new("/cwd/a/../b"));
        assert_eq!(check("./a/./b").unwrap(), Path::new("/cwd/a/b"));
        assert_eq!(check(".").unwrap(), Path::new("/cwd"));
        assert!(check("~bob/logs").unwrap_err().to_string().contains("~user is not supported"));
        let no_home = PathBase { user_home: None, relative_to: None };
        let error = path(&Value::from("~/x"), &origin, Setting::Dir, no_home).unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable NCP_AUDIT_DIR: cannot resolve the path: HOME is not set to \
             expand ~"
        );
        assert!(path(&Value::from(2024_u32), &origin, Setting::Dir, base).is_err());
    }

    #[test]
    fn sample_rates_from_text_and_objects() {
        let origin = env("NCP_AUDIT_SAMPLE_RATES");
        let parsed =
            sample_rates(&Value::from(" binding_accessed=0.1, code_execution_start = 1,"), &origin)
                .unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed["binding_accessed"], 0.1);
        assert_eq!(parsed["code_execution_start"], 1.0);

        let check_error = |text: &str, expected: &str| {
            let message = sample_rates(&Value::from(text), &origin).unwrap_err().to_string();
            assert!(message.contains(expected), "{text}: {message}");
        };
        check_error("binding_accessed=1.5", "expected a rate from 0 to 1 for binding_accessed");
        check_error("binding_accessed=-0.1", "a rate from 0 to 1");
        check_error("binding_accessed=NaN", "a rate from 0 to 1");
        check_error("binding_accessed", "name=rate pairs");
        check_error("=0.5", "event type names");
        check_error("Binding=0.5", "event type names");
        check_error("a=0.1,a=0.2", "found a twice");

        let settings = ValueSource::SettingsFile {
            path: PathBuf::from("/h/settings.json"),
            key: "sampleRates".to_owned(),
        };
        let mut object = figment::value::Dict::new();
        object.insert("binding_accessed".to_owned(), Value::from(2_u8));
        let message = sample_rates(&Value::from(object), &settings).unwrap_err().to_string();
        assert_eq!(
            message,
            "settings file /h/settings.json, key audit.sampleRates.binding_accessed: expected a \
             rate from 0 to 1 for binding_accessed, found the number 2"
        );
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(100);
        let described = describe(&Value::from(long.as_str()));
        assert_eq!(described, format!("the text \"{}...\"", "x".repeat(40)));
    }
}
