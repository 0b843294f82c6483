//! The table of settings: one row per knob, shared by the loader, the warnings and the
//! `ncp-audit config` listing, so that a name is spelled in one place only.

use std::fmt;

/// One knob of the configuration, with its name in settings.json and in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setting {
    /// `enabled`, `NCP_AUDIT_ENABLED`.
    Enabled,
    /// `auditDir`, `NCP_AUDIT_DIR`.
    Dir,
    /// `maxFileSizeMB`, `NCP_AUDIT_MAX_SIZE_MB`.
    MaxFileSize,
    /// `maxFiles`, `NCP_AUDIT_MAX_FILES`.
    MaxFiles,
    /// `includeCodeSnippets`, `NCP_AUDIT_INCLUDE_CODE`.
    IncludeCodeSnippets,
    /// `redactSensitiveData`, `NCP_AUDIT_REDACT_SENSITIVE`.
    RedactSensitiveData,
    /// `compressRotated`, `NCP_AUDIT_COMPRESS_ROTATED`.
    CompressRotated,
    /// `maxAgeDays`, `NCP_AUDIT_MAX_AGE_DAYS`.
    MaxAgeDays,
    /// `maxTotalSizeMB`, `NCP_AUDIT_MAX_TOTAL_SIZE_MB`.
    MaxTotalSize,
    /// `flushIntervalMs`, `NCP_AUDIT_FLUSH_INTERVAL_MS`.
    FlushInterval,
    /// `durability`, `NCP_AUDIT_DURABILITY`.
    Durability,
    /// `backpressure`, `NCP_AUDIT_BACKPRESSURE`.
    Backpressure,
    /// `queueBudgetMB`, `NCP_AUDIT_QUEUE_BUDGET_MB`.
    QueueBudget,
    /// `sampleRates`, `NCP_AUDIT_SAMPLE_RATES`.
    SampleRates,
}

/// Everything the documentation says about one setting.
struct Row {
    json_key: &'static str,
    env_var: &'static str,
    default: &'static str,
    expected: &'static str,
    meaning: &'static str,
}

impl Setting {
    /// Every setting, in the documented order.
    pub const ALL: &'static [Setting] = &[
        Setting::Enabled,
        Setting::Dir,
        Setting::MaxFileSize,
        Setting::MaxFiles,
        Setting::IncludeCodeSnippets,
        Setting::RedactSensitiveData,
        Setting::CompressRotated,
        Setting::MaxAgeDays,
        Setting::MaxTotalSize,
        Setting::FlushInterval,
        Setting::Durability,
        Setting::Backpressure,
        Setting::QueueBudget,
        Setting::SampleRates,
    ];

    /// The prefix every variable of ours starts with.
    pub const ENV_PREFIX: &'static str = "NCP_AUDIT_";

    /// The key in the `"audit"` section of settings.json, such as `maxFileSizeMB`.
    pub const fn json_key(self) -> &'static str {
        self.row().json_key
    }

    /// The environment variable, such as `NCP_AUDIT_MAX_SIZE_MB`.
    pub const fn env_var(self) -> &'static str {
        self.row().env_var
    }

    /// The default, as the documentation states it.
    pub const fn default_text(self) -> &'static str {
        self.row().default
    }

    /// What a valid value looks like, as error messages state it.
    pub const fn expected(self) -> &'static str {
        self.row().expected
    }

    /// What the setting does, in one sentence.
    pub const fn meaning(self) -> &'static str {
        self.row().meaning
    }

    /// The setting whose settings.json key is exactly `key`.
    pub fn from_json_key(key: &str) -> Option<Setting> {
        Setting::ALL.iter().copied().find(|setting| setting.json_key() == key)
    }

    /// The setting read from the environment variable named exactly `var`.
    pub fn from_env_var(var: &str) -> Option<Setting> {
        Setting::ALL.iter().copied().find(|setting| setting.env_var() == var)
    }

    const fn row(self) -> Row {
        const BOOL: &str = "a boolean (true/false, 1/0, yes/no, on/off)";
        let (json_key, env_var, default, expected, meaning) = match self {
            Setting::Enabled => {
                ("enabled", "NCP_AUDIT_ENABLED", "true", BOOL, "whether events are recorded at all")
            }
            Setting::Dir => (
                "auditDir",
                "NCP_AUDIT_DIR",
                "<ncp home>/audit",
                "a path",
                "the directory holding the audit files",
            ),
            Setting::MaxFileSize => (
                "maxFileSizeMB",
                "NCP_AUDIT_MAX_SIZE_MB",
                "10",
                "a size in megabytes, 0 or more (0 turns size rotation off)",
                "size at which the active file rotates, in MB of 2^20 bytes; 0 turns it off",
            ),
            Setting::MaxFiles => (
                "maxFiles",
                "NCP_AUDIT_MAX_FILES",
                "5",
                "a whole number of files, 0 or more (0 keeps all)",
                "how many rotated files retention keeps; 0 keeps all",
            ),
            Setting::IncludeCodeSnippets => (
                "includeCodeSnippets",
                "NCP_AUDIT_INCLUDE_CODE",
                "true",
                BOOL,
                "whether code snippets are logged (redacted, truncated) or left out",
            ),
            Setting::RedactSensitiveData => (
                "redactSensitiveData",
                "NCP_AUDIT_REDACT_SENSITIVE",
                "true",
                BOOL,
                "whether secrets are redacted before they reach disk",
            ),
            Setting::CompressRotated => (
                "compressRotated",
                "NCP_AUDIT_COMPRESS_ROTATED",
                "false",
                BOOL,
                "whether rotated files are gzipped in the background (never the active file)",
            ),
            Setting::MaxAgeDays => (
                "maxAgeDays",
                "NCP_AUDIT_MAX_AGE_DAYS",
                "0 (off)",
                "a whole number of days, 0 or more (0 keeps files of any age)",
                "rotated files older than this many days are deleted; 0 keeps them",
            ),
            Setting::MaxTotalSize => (
                "maxTotalSizeMB",
                "NCP_AUDIT_MAX_TOTAL_SIZE_MB",
                "0 (off)",
                "a size in megabytes, 0 or more (0 sets no limit)",
                "rotated files past this total size are deleted, oldest first; 0 sets no limit",
            ),
            Setting::FlushInterval => (
                "flushIntervalMs",
                "NCP_AUDIT_FLUSH_INTERVAL_MS",
                "100",
                "a whole number of milliseconds, 0 or more",
                "how often the writer flushes what it buffered; 0 flushes as soon as possible",
            ),
            Setting::Durability => (
                "durability",
                "NCP_AUDIT_DURABILITY",
                "group-commit",
                "one of none, group-commit, sync",
                "when events reach stable storage: page cache, shared fdatasync, or every flush",
            ),
            Setting::Backpressure => (
                "backpressure",
                "NCP_AUDIT_BACKPRESSURE",
                "block",
                "one of block, drop",
                "what logging does when the queue is full: wait, or drop and count",
            ),
            Setting::QueueBudget => (
                "queueBudgetMB",
                "NCP_AUDIT_QUEUE_BUDGET_MB",
                "64",
                "a size in megabytes, more than 0",
                "the most memory queued events may take",
            ),
            Setting::SampleRates => (
                "sampleRates",
                "NCP_AUDIT_SAMPLE_RATES",
                "{} (keep all)",
                "event type names with rates from 0 to 1, such as binding_accessed=0.1",
                "share of events kept per event type; security-relevant types are never sampled",
            ),
        };
        Row { json_key, env_var, default, expected, meaning }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json_key())
    }
}

/// The candidate closest to `word`, ignoring case, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let (distance, best) = candidates
        .map(|candidate| (edit_distance(&word, &candidate.to_ascii_lowercase()), candidate))
        .min_by_key(|&(distance, _)| distance)?;
    // A third of the longer name catches transpositions and a missing unit without suggesting
    // `enabled` for every short stray name.
    let longer = word.chars().count().max(best.chars().count());
    (distance <= (longer / 3).max(2)).then_some(best)
}

/// The variable of ours closest to `var`, comparing what follows the shared prefix so that the
/// prefix alone does not make every name look close.
pub(crate) fn closest_env_var(var: &str) -> Option<&'static str> {
    let suffix = var.strip_prefix(Setting::ENV_PREFIX).unwrap_or(var);
    let suffixes =
        Setting::ALL.iter().map(|setting| &setting.env_var()[Setting::ENV_PREFIX.len()..]);
    let best = closest(suffix, suffixes)?;
    Setting::ALL
        .iter()
        .map(|setting| setting.env_var())
        .find(|var| &var[Setting::ENV_PREFIX.len()..] == best)
}

/// Levenshtein distance over chars, one row at a time.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (left_idx, left_char) in left.chars().enumerate() {
        let mut current = vec![left_idx + 1];
        for (right_idx, &right_char) in right.iter().enumerate() {
            let substitution = previous[right_idx] + usize::from(left_char != right_char);
            let insertion = current[right_idx] + 1;
            let deletion = previous[right_idx + 1] + 1;
            current.push(substitution.min(insertion).min(deletion));
        }
        previous = current;
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_prefixed() {
        for (idx, setting) in Setting::ALL.iter().enumerate() {
            assert!(setting.env_var().starts_with(Setting::ENV_PREFIX), "{setting}");
            assert_eq!(Setting::from_json_key(setting.json_key()), Some(*setting));
            assert_eq!(Setting::from_env_var(setting.env_var()), Some(*setting));
            for other in &Setting::ALL[idx + 1..] {
                assert_ne!(setting.json_key(), other.json_key());
                assert_ne!(setting.env_var(), other.env_var());
            }
        }
    }

    #[test]
    fn closest_suggests_typos_only() {
        let keys = || Setting::ALL.iter().map(|setting| setting.json_key());
        assert_eq!(closest("maxFileSizeMb", keys()), Some("maxFileSizeMB"));
        assert_eq!(closest("maxfile", keys()), Some("maxFiles"));
        assert_eq!(closest("enabeld", keys()), Some("enabled"));
        assert_eq!(closest("colour", keys()), None);
        assert_eq!(closest("", keys()), None);
        assert_eq!(closest_env_var("NCP_AUDIT_MAX_FILE"), Some("NCP_AUDIT_MAX_FILES"));
        assert_eq!(closest_env_var("NCP_AUDIT_MAX_SIZE"), Some("NCP_AUDIT_MAX_SIZE_MB"));
        assert_eq!(closest_env_var("NCP_AUDIT_"), None);
        assert_eq!(closest_env_var("NCP_AUDIT__X"), None);
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
