//! Where a value came from, what went wrong with it, and what only deserves a warning.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// Nothing set it: the built-in default.
    Default,
    /// The `"audit"` section of the settings file.
    SettingsFile {
        /// The settings file.
        path: PathBuf,
        /// The key inside the `"audit"` section, such as `maxFiles` or `sampleRates.x`.
        key: String,
    },
    /// An environment variable.
    Env {
        /// Its name, such as `NCP_AUDIT_MAX_FILES`.
        var: String,
    },
}

impl fmt::Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::Default => f.write_str("default"),
            ValueSource::SettingsFile { path, key } => {
                write!(f, "settings file {}, key audit.{key}", path.display())
            }
            ValueSource::Env { var } => write!(f, "environment variable {var}"),
        }
    }
}

/// Why the configuration could not be loaded. Messages name the file, key or variable, and
/// never quote more than a short value (all settings are non-secret; file contents are never
/// repeated).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither `NCP_HOME` nor `HOME` says where the ncp home is.
    #[error("cannot locate the ncp home: neither NCP_HOME nor HOME is set")]
    NoHome,
    /// The settings file exists but cannot be read.
    #[error("cannot read settings file {}", path.display())]
    ReadSettings {
        /// The settings file.
        path: PathBuf,
        /// What the system said.
        #[source]
        cause: io::Error,
    },
    /// The settings file is not JSON.
    #[error(
        "settings file {} is not valid JSON at line {line}, column {column}: {reason}",
        path.display()
    )]
    SettingsSyntax {
        /// The settings file.
        path: PathBuf,
        /// The line of the error, from 1.
        line: usize,
        /// The column of the error, from 1.
        column: usize,
        /// What the JSON parser expected, without the text it saw.
        reason: String,
    },
    /// The settings file is JSON of the wrong shape (not an object, or `"audit"` not an object).
    #[error("settings file {}: {what}: expected an object, found {found}", path.display())]
    SettingsShape {
        /// The settings file.
        path: PathBuf,
        /// `the top level` or `audit`.
        what: &'static str,
        /// The kind of JSON value found, such as `an array`.
        found: &'static str,
    },
    /// A value has the wrong type or is out of range.
    #[error("{origin}: expected {expected}, found {found}")]
    InvalidValue {
        /// The key or variable that set it.
        origin: ValueSource,
        /// What a valid value looks like.
        expected: String,
        /// A short description of the value seen, such as `the text "ten"`.
        found: String,
    },
    /// A path cannot be made absolute.
    #[error("{origin}: cannot resolve the path: {reason}")]
    UnresolvablePath {
        /// The key or variable that set it.
        origin: ValueSource,
        /// Why, such as `HOME is not set to expand ~`.
        reason: &'static str,
    },
    /// One of our variables holds bytes that are not UTF-8.
    #[error("environment variable {var} is not valid UTF-8")]
    NotUnicode {
        /// The variable.
        var: String,
    },
}

/// Something suspicious that does not stop loading, such as a misspelled key. The library
/// returns warnings as values; showing them is the caller's job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// A key of the `"audit"` section that no setting has; it is ignored.
    UnknownKey {
        /// The settings file.
        path: PathBuf,
        /// The key as written.
        key: String,
        /// The known key it most likely meant.
        closest: Option<&'static str>,
    },
    /// A key given twice in one object of the settings file: the last value counts, as
    /// `serde_json` reads it (JSON leaves it open; other readers take the first).
    RepeatedKey {
        /// The settings file.
        path: PathBuf,
        /// Where the key is, as `audit.maxFiles`.
        key: String,
    },
    /// A variable starting with `NCP_AUDIT_` that no setting has; it is ignored.
    UnknownEnvVar {
        /// The variable's name (its value is never kept).
        var: String,
        /// The known variable it most likely meant.
        closest: Option<&'static str>,
    },
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let closest = match self {
            ConfigWarning::UnknownKey { path, key, closest } => {
                let key = shorten(key);
                write!(f, "settings file {}: unknown key audit.{key:?} ignored", path.display())?;
                closest
            }
            ConfigWarning::RepeatedKey { path, key } => {
                let key = shorten(key);
                return write!(
                    f,
                    "settings file {}: key {key} is given twice in one object; the last value \
                     is used",
                    path.display()
                );
            }
            ConfigWarning::UnknownEnvVar { var, closest } => {
                let var = shorten(var);
                write!(f, "unknown environment variable {var:?} ignored")?;
                closest
            }
        };
        match closest {
            Some(closest) => write!(f, "; did you mean {closest}?"),
            None => Ok(()),
        }
    }
}

/// A name cut to a length fit for one line of a message.
fn shorten(name: &str) -> String {
    const MAX_CHARS: usize = 60;
    match name.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &name[..cut]),
        None => name.to_owned(),
    }
}
