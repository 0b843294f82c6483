//! The effective configuration and its defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::setting::Setting;

/// One megabyte as the settings count it: 2^20 bytes, as the original implementation does.
pub const BYTES_PER_MB: u64 = 1 << 20;

/// Default size at which the active file rotates, in megabytes (the design's value).
pub const DEFAULT_MAX_FILE_SIZE_MB: u64 = 10;
/// Default number of rotated files retention keeps (the design's value).
pub const DEFAULT_MAX_FILES: u32 = 5;
/// Default flush interval in milliseconds: what a `kill -9` may lose at most.
pub const DEFAULT_FLUSH_INTERVAL_MS: u64 = 100;
/// Default memory budget of the writer's queue, in megabytes.
pub const DEFAULT_QUEUE_BUDGET_MB: u64 = 64;

/// When written events reach stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Left to the page cache: fastest, loses what the kernel had not written at a power cut.
    None,
    /// One `fdatasync` per batch or every few milliseconds, shared by all events written since.
    #[default]
    GroupCommit,
    /// `fdatasync` before `flush` returns and after every batch.
    Sync,
}

impl Durability {
    /// Every mode, in the order the documentation lists them.
    pub const ALL: &'static [Durability] =
        &[Durability::None, Durability::GroupCommit, Durability::Sync];

    /// The name used in settings.json and `NCP_AUDIT_DURABILITY`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Durability::None => "none",
            Durability::GroupCommit => "group-commit",
            Durability::Sync => "sync",
        }
    }

    /// Reads a mode name in any case; `group_commit` and `groupcommit` are accepted too.
    pub fn from_name(name: &str) -> Option<Durability> {
        let folded = name.to_ascii_lowercase().replace(['_', '-'], "");
        match folded.as_str() {
            "none" => Some(Durability::None),
            "groupcommit" => Some(Durability::GroupCommit),
            "sync" => Some(Durability::Sync),
            _ => None,
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `log` does when the writer falls behind and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backpressure {
    /// Wait for room: lossless, may slow the caller.
    #[default]
    Block,
    /// Drop the event and count it; the count is written to the log as a loss record.
    Drop,
}

impl Backpressure {
    /// Every policy, in the order the documentation lists them.
    pub const ALL: &'static [Backpressure] = &[Backpressure::Block, Backpressure::Drop];

    /// The name used in settings.json and `NCP_AUDIT_BACKPRESSURE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Backpressure::Block => "block",
            Backpressure::Drop => "drop",
        }
    }

    /// Reads a policy name in any case.
    pub fn from_name(name: &str) -> Option<Backpressure> {
        Backpressure::ALL.iter().copied().find(|policy| policy.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Backpressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The effective configuration: every value the writer and the reader need.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// Whether auditing is on at all.
    pub enabled: bool,
    /// The directory holding the audit files.
    pub dir: PathBuf,
    /// Size at which the active file rotates, in bytes. `0` turns size rotation off.
    pub max_file_size_bytes: u64,
    /// How many rotated files retention keeps. `0` keeps all.
    pub max_files: u32,
    /// Whether code snippets are logged (redacted and truncated) or replaced.
    pub include_code_snippets: bool,
    /// Whether secrets are redacted.
    pub redact_sensitive_data: bool,
    /// Whether rotated files are gzipped in the background.
    pub compress_rotated: bool,
    /// Rotated files older than this many days are deleted. `None` keeps them.
    pub max_age_days: Option<u32>,
    /// Rotated files beyond this total size, in bytes, oldest first, are deleted. `None` keeps
    /// them.
    pub max_total_bytes: Option<u64>,
    /// How often the writer flushes what it has buffered, in milliseconds.
    pub flush_interval_ms: u64,
    /// When written events reach stable storage.
    pub durability: Durability,
    /// What `log` does when the queue is full.
    pub backpressure: Backpressure,
    /// The most memory queued events may take, in bytes.
    pub queue_budget_bytes: u64,
    /// Sampling rate per event type (its wire name), from 0.0 (none kept) to 1.0 (all kept).
    /// Types not listed are all kept; security-relevant types are never sampled.
    pub sample_rates: BTreeMap<String, f64>,
}

impl Default for AuditConfig {
    /// The defaults, with the directory in the ncp home of this process: `$NCP_HOME/audit`,
    /// else `$HOME/.ncp/audit`, else `.ncp/audit` in the current directory when neither variable
    /// is set (the loader reports that case as an error instead of guessing).
    fn default() -> Self {
        let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        let ncp_home = match (non_empty("NCP_HOME"), non_empty("HOME")) {
            (Some(ncp_home), _) => PathBuf::from(ncp_home),
            (None, Some(home)) => PathBuf::from(home).join(".ncp"),
            (None, None) => PathBuf::from(".ncp"),
        };
        AuditConfig::defaults_in(&ncp_home)
    }
}

impl AuditConfig {
    /// The defaults, with the audit directory `<ncp_home>/audit`. Reads nothing.
    pub fn defaults_in(ncp_home: &Path) -> Self {
        AuditConfig {
            enabled: true,
            dir: ncp_home.join("audit"),
            max_file_size_bytes: DEFAULT_MAX_FILE_SIZE_MB * BYTES_PER_MB,
            max_files: DEFAULT_MAX_FILES,
            include_code_snippets: true,
            redact_sensitive_data: true,
            compress_rotated: false,
            max_age_days: None,
            max_total_bytes: None,
            flush_interval_ms: DEFAULT_FLUSH_INTERVAL_MS,
            durability: Durability::GroupCommit,
            backpressure: Backpressure::Block,
            queue_budget_bytes: DEFAULT_QUEUE_BUDGET_MB * BYTES_PER_MB,
            sample_rates: BTreeMap::new(),
        }
    }

    /// This configuration as the `"audit"` section of settings.json would spell it, every key
    /// present, in the documented order.
    ///
    /// Loading the result back gives this configuration again, except that sizes which are not
    /// a whole number of bytes' worth of megabytes come back rounded down to the byte.
    pub fn to_settings_json(&self) -> Value {
        let mut section = Map::new();
        for &setting in Setting::ALL {
            section.insert(setting.json_key().to_owned(), self.setting_json(setting));
        }
        Value::Object(section)
    }

    /// The value of one setting as settings.json spells it; `0` for a limit that is off.
    pub fn setting_json(&self, setting: Setting) -> Value {
        match setting {
            Setting::Enabled => json!(self.enabled),
            Setting::Dir => json!(self.dir.to_string_lossy()),
            Setting::MaxFileSize => megabytes_json(self.max_file_size_bytes),
            Setting::MaxFiles => json!(self.max_files),
            Setting::IncludeCodeSnippets => json!(self.include_code_snippets),
            Setting::RedactSensitiveData => json!(self.redact_sensitive_data),
            Setting::CompressRotated => json!(self.compress_rotated),
            Setting::MaxAgeDays => json!(self.max_age_days.unwrap_or(0)),
            Setting::MaxTotalSize => megabytes_json(self.max_total_bytes.unwrap_or(0)),
            Setting::FlushInterval => json!(self.flush_interval_ms),
            Setting::Durability => json!(self.durability.as_str()),
            Setting::Backpressure => json!(self.backpressure.as_str()),
            Setting::QueueBudget => megabytes_json(self.queue_budget_bytes),
            Setting::SampleRates => Value::Object(
                self.sample_rates.iter().map(|(k, v)| (k.clone(), json!(v))).collect(),
            ),
        }
    }
}

/// A byte count in megabytes: a whole number when it divides evenly, else a fraction.
fn megabytes_json(bytes: u64) -> Value {
    if bytes.is_multiple_of(BYTES_PER_MB) {
        json!(bytes / BYTES_PER_MB)
    } else {
        #[expect(clippy::cast_precision_loss, reason = "a display value; loading rounds to bytes")]
        let megabytes = bytes as f64 / BYTES_PER_MB as f64;
        json!(megabytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_designs() {
        let config = AuditConfig::defaults_in(Path::new("/h/.ncp"));
        assert!(config.enabled);
        assert_eq!(config.dir, Path::new("/h/.ncp/audit"));
        assert_eq!(config.max_file_size_bytes, 10 * 1024 * 1024);
        assert_eq!(config.max_files, 5);
        assert!(config.include_code_snippets);
        assert!(config.redact_sensitive_data);
        assert_eq!(config.durability, Durability::GroupCommit);
        assert_eq!(config.backpressure, Backpressure::Block);
    }

    #[test]
    fn default_differs_from_the_documented_defaults_only_in_where_the_home_is() {
        let config = AuditConfig::default();
        assert!(config.dir.ends_with("audit"), "{}", config.dir.display());
        // OK because the directory is always `<ncp home>/audit`.
        let ncp_home = config.dir.parent().expect("the audit folder has a parent");
        assert_eq!(config, AuditConfig::defaults_in(ncp_home));
    }

    #[test]
    fn mode_names_read_back() {
        for &mode in Durability::ALL {
            assert_eq!(Durability::from_name(mode.as_str()), Some(mode));
        }
        assert_eq!(Durability::from_name("Group_Commit"), Some(Durability::GroupCommit));
        assert_eq!(Durability::from_name("fsync"), None);
        for &policy in Backpressure::ALL {
            assert_eq!(Backpressure::from_name(&policy.as_str().to_uppercase()), Some(policy));
        }
        assert_eq!(Backpressure::from_name("wait"), None);
    }

    #[test]
    fn settings_json_spells_sizes_in_megabytes() {
        let mut config = AuditConfig::defaults_in(Path::new("/h"));
        config.max_total_bytes = Some(BYTES_PER_MB / 2);
        let section = config.to_settings_json();
        assert_eq!(section["maxFileSizeMB"], json!(10));
        assert_eq!(section["maxTotalSizeMB"], json!(0.5));
        assert_eq!(section["maxAgeDays"], json!(0));
        assert_eq!(section["durability"], json!("group-commit"));
        let keys: Vec<&String> = section.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), Setting::ALL.len());
    }
}
