//! The configuration of ncp-audit: what the writer and the reader are told to do, and where
//! each of those values came from.
//!
//! A [`ConfigLoader`] merges three sources, lowest to highest, with figment:
//!
//! 1. the defaults of [`AuditConfig::defaults_in`];
//! 2. the `"audit"` section of `<ncp home>/settings.json` (read only, never written: the file
//!    belongs to a larger application and holds sections we do not own);
//! 3. `NCP_AUDIT_*` environment variables.
//!
//! The result is a [`LoadedConfig`]: the typed [`AuditConfig`] the other crates take, the
//! [`ValueSource`] of every [`Setting`] (default, settings file and key, or variable), and the
//! [`ConfigWarning`]s met, such as a misspelled key. Anything invalid is a [`ConfigError`]
//! naming the file and position, the key or the variable, the value seen and what was
//! expected. The library never prints.
//!
//! ```
//! use audit_config::{ConfigLoader, Setting, ValueSource};
//!
//! let ncp_home = tempfile::tempdir()?;
//! std::fs::write(
//!     ncp_home.path().join("settings.json"),
//!     r#"{"theme": "dark", "audit": {"maxFiles": 3, "maxFileSizeMb": 20}}"#,
//! )?;
//! let loaded = ConfigLoader::new()
//!     .home(ncp_home.path())
//!     .env([("NCP_AUDIT_MAX_SIZE_MB", "50")])
//!     .load()?;
//!
//! assert_eq!(loaded.config().max_files, 3);
//! assert_eq!(loaded.config().max_file_size_bytes, 50 * 1024 * 1024);
//! assert_eq!(
//!     loaded.source(Setting::MaxFileSize).to_string(),
//!     "environment variable NCP_AUDIT_MAX_SIZE_MB",
//! );
//! assert!(matches!(loaded.source(Setting::MaxFiles), ValueSource::SettingsFile { .. }));
//! assert!(loaded.warnings()[0].to_string().ends_with("did you mean maxFileSizeMB?"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Settings
//!
//! | settings.json key | variable | default | meaning |
//! |---|---|---|---|
//! | `enabled` | `NCP_AUDIT_ENABLED` | `true` | record events at all |
//! | `auditDir` | `NCP_AUDIT_DIR` | `<ncp home>/audit` | the folder of the audit files |
//! | `maxFileSizeMB` | `NCP_AUDIT_MAX_SIZE_MB` | `10` | rotate past this size; `0`: never |
//! | `maxFiles` | `NCP_AUDIT_MAX_FILES` | `5` | rotated files kept; `0`: all |
//! | `includeCodeSnippets` | `NCP_AUDIT_INCLUDE_CODE` | `true` | log code (redacted, cut) |
//! | `redactSensitiveData` | `NCP_AUDIT_REDACT_SENSITIVE` | `true` | redact secrets |
//! | `compressRotated` | `NCP_AUDIT_COMPRESS_ROTATED` | `false` | gzip rotated files |
//! | `maxAgeDays` | `NCP_AUDIT_MAX_AGE_DAYS` | `0` | delete rotated files older; `0`: off |
//! | `maxTotalSizeMB` | `NCP_AUDIT_MAX_TOTAL_SIZE_MB` | `0` | cap rotated files; `0`: off |
//! | `flushIntervalMs` | `NCP_AUDIT_FLUSH_INTERVAL_MS` | `100` | flush period; `0`: at once |
//! | `durability` | `NCP_AUDIT_DURABILITY` | `group-commit` | or `none`, `sync` |
//! | `backpressure` | `NCP_AUDIT_BACKPRESSURE` | `block` | or `drop` (counted) |
//! | `queueBudgetMB` | `NCP_AUDIT_QUEUE_BUDGET_MB` | `64` | queue memory; above `0` |
//! | `sampleRates` | `NCP_AUDIT_SAMPLE_RATES` | `{}` | rate from 0 to 1 per event type |
//!
//! [`Setting`] holds the same table for programs.
//!
//! # Rules of reading
//!
//! - The ncp home is `NCP_HOME` when set, else `~/.ncp`.
//! - An empty (or blank) variable and a JSON `null` count as unset. Values are trimmed,
//!   except paths, which are taken as written.
//! - Booleans are `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, in any case.
//! - Numbers may be JSON numbers or text. Sizes are in megabytes of 2^20 bytes and may have a
//!   fraction (`0.5`); a positive size below one byte is refused rather than read as `0`.
//!   Counts are whole. Negative values are refused, and so is any size whose byte count does
//!   not fit in 64 bits. `0` means "off" or "no limit" for every limit, as the table says.
//! - Paths: `~` and `~/...` expand to the user's home (`HOME`); `~user` is refused. A
//!   relative path in settings.json is relative to the ncp home (the folder holding
//!   settings.json); a relative path in a variable (`NCP_AUDIT_DIR`, `NCP_HOME`) is relative
//!   to the current directory. `NCP_AUDIT_DIR=2024` is the folder `2024`, not a number.
//! - Variables are mapped by exact name, never by splitting on `_`. A variable starting with
//!   `NCP_AUDIT_` that is not in the table (`NCP_AUDIT_`, `NCP_AUDIT__X`) is a warning, as is
//!   an unknown key in the `"audit"` section; both name the closest known name when one is
//!   near.
//! - Sample rates are a JSON object (`{"binding_accessed": 0.1}`) or, in the variable,
//!   `binding_accessed=0.1,code_execution_start=0.5`. The variable replaces the whole object.
//!   Which types may be sampled is the writer's decision: security-relevant types never are.
//!
//! Creating the directory (mode 0700, files 0600) is the writer's job; this crate only
//! resolves the path.

#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod config;
mod error;
mod load;
mod repeated;
mod setting;
mod values;

pub use config::{
    AuditConfig, BYTES_PER_MB, Backpressure, DEFAULT_FLUSH_INTERVAL_MS, DEFAULT_MAX_FILE_SIZE_MB,
    DEFAULT_MAX_FILES, DEFAULT_QUEUE_BUDGET_MB, Durability,
};
pub use error::{ConfigError, ConfigWarning, ValueSource};
pub use load::{
    ConfigLoader, HomeSource, LoadedConfig, NCP_HOME_VAR, SETTINGS_FILE_NAME, SETTINGS_SECTION,
    load_from_process,
};
pub use setting::Setting;
