//! Loading: defaults, then the `"audit"` section of settings.json, then `NCP_AUDIT_*`
//! variables, merged by figment, which also remembers which source each value came from.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Num, Value};
use figment::{Figment, Metadata, Profile, Provider};

use crate::config::AuditConfig;
use crate::error::{ConfigError, ConfigWarning, ValueSource};
use crate::setting::{Setting, closest, closest_env_var};
use crate::values::{self, PathBase};

/// The variable that moves the ncp home away from `~/.ncp`.
pub const NCP_HOME_VAR: &str = "NCP_HOME";

/// The name of the settings file inside the ncp home.
pub const SETTINGS_FILE_NAME: &str = "settings.json";

/// The section of the settings file that belongs to ncp-audit.
pub const SETTINGS_SECTION: &str = "audit";

/// The figment provider name of the environment, recognized when mapping metadata back.
const ENV_PROVIDER_NAME: &str = "environment variable";

/// Where the ncp home was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeSource {
    /// The caller set it with [`ConfigLoader::home`].
    Explicit,
    /// The `NCP_HOME` variable.
    NcpHomeVar,
    /// The default, `.ncp` in the user's home.
    Default,
}

impl fmt::Display for HomeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HomeSource::Explicit => "set by the caller",
            HomeSource::NcpHomeVar => "environment variable NCP_HOME",
            HomeSource::Default => "default, ~/.ncp",
        })
    }
}

/// Builds an [`AuditConfig`] from an injected environment; nothing is read from the process
/// unless asked with [`ConfigLoader::from_process`].
///
/// ```
/// use audit_config::{ConfigLoader, Setting, ValueSource};
///
/// let home = tempfile::tempdir()?;
/// let loaded = ConfigLoader::new()
///     .home(home.path())
///     .env([("NCP_AUDIT_MAX_FILES", "9"), ("NCP_AUDIT_ENABLED", "")])
///     .load()?;
/// assert_eq!(loaded.config().max_files, 9);
/// assert!(loaded.config().enabled, "an empty variable counts as unset");
/// assert_eq!(loaded.source(Setting::Enabled), &ValueSource::Default);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConfigLoader {
    ncp_home: Option<PathBuf>,
    user_home: Option<PathBuf>,
    current_dir: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
}

impl ConfigLoader {
    /// A loader with an empty environment, no user home and no current directory.
    pub fn new() -> Self {
        ConfigLoader::default()
    }

    /// A loader reading this process's environment and current directory.
    pub fn from_process() -> Self {
        // An unknown current directory only matters for a relative path in a variable, which
        // then fails with its own error.
        let current_dir = std::env::current_dir().ok();
        ConfigLoader { current_dir, env: std::env::vars_os().collect(), ..ConfigLoader::new() }
    }

    /// Uses this ncp home, ignoring `NCP_HOME` and the user's home.
    pub fn home(mut self, ncp_home: impl Into<PathBuf>) -> Self {
        self.ncp_home = Some(ncp_home.into());
        self
    }

    /// Uses this user home for `~`, instead of the environment's `HOME`.
    pub fn user_home(mut self, user_home: impl Into<PathBuf>) -> Self {
        self.user_home = Some(user_home.into());
        self
    }

    /// The directory that relative paths in variables are resolved against.
    pub fn current_dir(mut self, current_dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(current_dir.into());
        self
    }

    /// Replaces the environment with these variables.
    pub fn env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env = vars.into_iter().map(|(key, value)| (key.into(), value.into())).collect();
        self
    }

    /// Loads the configuration. Reads the settings file and nothing else; writes nothing.
    ///
    /// # Errors
    ///
    /// When the ncp home cannot be located, the settings file cannot be read or is not JSON
    /// of the right shape, or a value is of the wrong type or out of range.
    pub fn load(&self) -> Result<LoadedConfig, ConfigError> {
        let env = EnvVars::collect(&self.env)?;
        let user_home = self.user_home.clone().or_else(|| env.home.clone());
        let (ncp_home, home_source) = self.locate_ncp_home(&env, user_home.as_deref())?;

        let settings_path = ncp_home.join(SETTINGS_FILE_NAME);
        let mut warnings = Vec::new();
        let settings = read_settings(&settings_path, &mut warnings)?;
        let env_values = env_values(&env.audit_vars, &mut warnings);
        let figment = Figment::new()
            .merge(SettingsProvider {
                path: settings_path.clone(),
                values: settings.clone().unwrap_or_default(),
            })
            .merge(EnvProvider { values: env_values });

        let settings_base =
            PathBase { user_home: user_home.as_deref(), relative_to: Some(&ncp_home) };
        let env_base =
            PathBase { user_home: user_home.as_deref(), relative_to: self.current_dir.as_deref() };
        let mut config = AuditConfig::defaults_in(&ncp_home);
        let mut sources = BTreeMap::new();
        for &setting in Setting::ALL {
            let Ok(value) = figment.find_value(setting.json_key()) else {
                sources.insert(setting, ValueSource::Default);
                continue;
            };
            let origin = value_source(&figment, setting, &settings_path);
            let base =
                if matches!(origin, ValueSource::Env { .. }) { env_base } else { settings_base };
            apply(&mut config, setting, &value, &origin, base)?;
            sources.insert(setting, origin);
        }

        Ok(LoadedConfig {
            config,
            sources,
            warnings,
            ncp_home,
            home_source,
            settings_path,
            settings_found: settings.is_some(),
        })
    }

    fn locate_ncp_home(
        &self,
        env: &EnvVars,
        user_home: Option<&Path>,
    ) -> Result<(PathBuf, HomeSource), ConfigError> {
        if let Some(ncp_home) = &self.ncp_home {
            return Ok((ncp_home.clone(), HomeSource::Explicit));
        }
        if let Some(written) = &env.ncp_home {
            let origin = ValueSource::Env { var: NCP_HOME_VAR.to_owned() };
            let base = PathBase { user_home, relative_to: self.current_dir.as_deref() };
            return Ok((values::resolve_path(written, &origin, base)?, HomeSource::NcpHomeVar));
        }
        match user_home {
            Some(user_home) => Ok((user_home.join(".ncp"), HomeSource::Default)),
            None => Err(ConfigError::NoHome),
        }
    }
}

/// Loads the configuration of this process: its environment, `NCP_HOME` or `~/.ncp`, and
/// its current directory for relative paths in variables.
///
/// # Errors
///
/// As [`ConfigLoader::load`].
pub fn load_from_process() -> Result<LoadedConfig, ConfigError> {
    ConfigLoader::from_process().load()
}

/// The effective configuration with the source of every value and the warnings met.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    config: AuditConfig,
    sources: BTreeMap<Setting, ValueSource>,
    warnings: Vec<ConfigWarning>,
    ncp_home: PathBuf,
    home_source: HomeSource,
    settings_path: PathBuf,
    settings_found: bool,
}

impl LoadedConfig {
    /// The effective configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// The effective configuration, by value.
    pub fn into_config(self) -> AuditConfig {
        self.config
    }

    /// Where the value of `setting` came from.
    pub fn source(&self, setting: Setting) -> &ValueSource {
        // Every setting gets a source in `load`; the fallback is never reached.
        self.sources.get(&setting).unwrap_or(&ValueSource::Default)
    }

    /// What was suspicious but did not stop loading, in the order met: settings file first.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// The ncp home the settings file and the default directory are in.
    pub fn ncp_home(&self) -> &Path {
        &self.ncp_home
    }

    /// Where the ncp home came from.
    pub fn home_source(&self) -> HomeSource {
        self.home_source
    }

    /// The settings file that was read, or would have been had it existed.
    pub fn settings_path(&self) -> &Path {
        &self.settings_path
    }

    /// Whether the settings file existed (and was not empty).
    pub fn settings_found(&self) -> bool {
        self.settings_found
    }
}

/// The variables that matter, taken from the whole environment.
struct EnvVars {
    home: Option<PathBuf>,
    ncp_home: Option<String>,
    /// `NCP_AUDIT_*` variables with a non-empty value, sorted by name.
    audit_vars: BTreeMap<String, Option<String>>,
}

impl EnvVars {
    fn collect(vars: &[(OsString, OsString)]) -> Result<EnvVars, ConfigError> {
        let mut env = EnvVars { home: None, ncp_home: None, audit_vars: BTreeMap::new() };
        for (name, value) in vars {
            // None of our names are outside UTF-8, so such a variable is not ours.
            let Some(name) = name.to_str() else { continue };
            // Windows spells the user's home USERPROFILE.
            let is_home = name == "HOME" || (cfg!(windows) && name == "USERPROFILE");
            if is_home && !value.is_empty() {
                env.home = Some(PathBuf::from(value));
            } else if name == NCP_HOME_VAR {
                env.ncp_home = non_empty_text(name, value)?;
            } else if name.starts_with(Setting::ENV_PREFIX) {
                // Unknown variables are kept by name only, for the warning: their value is
                // never read.
                let value = match Setting::from_env_var(name) {
                    Some(_) => non_empty_text(name, value)?,
                    None => None,
                };
                env.audit_vars.insert(name.to_owned(), value);
            }
        }
        Ok(env)
    }
}

/// The value as text; `None` when empty or blank, which counts as unset. Not trimmed here:
/// each reader trims what it reads, except paths.
fn non_empty_text(name: &str, value: &OsString) -> Result<Option<String>, ConfigError> {
    let text = value.to_str().ok_or_else(|| ConfigError::NotUnicode { var: name.to_owned() })?;
    Ok((!text.trim().is_empty()).then(|| text.to_owned()))
}

/// The known variables as figment values keyed by JSON key, warning about the unknown ones.
fn env_values(vars: &BTreeMap<String, Option<String>>, warnings: &mut Vec<ConfigWarning>) -> Dict {
    let mut values = Dict::new();
    for (name, value) in vars {
        match Setting::from_env_var(name) {
            Some(setting) => {
                if let Some(value) = value {
                    values.insert(setting.json_key().to_owned(), Value::from(value.as_str()));
                }
            }
            None => warnings.push(ConfigWarning::UnknownEnvVar {
                var: name.clone(),
                closest: closest_env_var(name),
            }),
        }
    }
    values
}

/// The known keys of the `"audit"` section as figment values, `None` when the file does not
/// exist or is blank. Unknown keys become warnings; `null` counts as unset.
fn read_settings(
    path: &Path,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Option<Dict>, ConfigError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(cause) => return Err(ConfigError::ReadSettings { path: path.to_owned(), cause }),
    };
    // Editors on Windows may start the file with a byte order mark, which JSON does not allow.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // The file belongs to a larger application, which may leave it empty.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }

    let document: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        // The parser's message ends with its own position; ours is given as fields.
        let message = error.to_string();
        let reason = message.rfind(" at line ").map_or(message.as_str(), |cut| &message[..cut]);
        ConfigError::SettingsSyntax {
            path: path.to_owned(),
            line: error.line(),
            column: error.column(),
            reason: reason.to_owned(),
        }
    })?;
    // Only the section read here concerns this program.
    for key in crate::repeated::repeated_keys(bytes) {
        if key.starts_with("audit.") {
            warnings.push(ConfigWarning::RepeatedKey { path: path.to_owned(), key });
        }
    }
    let shape_error =
        |what, found| ConfigError::SettingsShape { path: path.to_owned(), what, found };
    let serde_json::Value::Object(top) = document else {
        return Err(shape_error("the top level", json_kind(&document)));
    };
    let section = match top.get(SETTINGS_SECTION) {
        None | Some(serde_json::Value::Null) => return Ok(Some(Dict::new())),
        Some(serde_json::Value::Object(section)) => section,
        Some(other) => return Err(shape_error("audit", json_kind(other))),
    };

    let mut values = Dict::new();
    for (key, value) in section {
        if Setting::from_json_key(key).is_none() {
            let known_keys = Setting::ALL.iter().map(|setting| setting.json_key());
            let closest = closest(key, known_keys);
            warnings.push(ConfigWarning::UnknownKey {
                path: path.to_owned(),
                key: key.clone(),
                closest,
            });
        } else if let Some(value) = figment_value(value) {
            values.insert(key.clone(), value);
        }
    }
    Ok(Some(values))
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A JSON value as a figment value; `None` for `null`, which counts as unset.
///
/// Written by hand rather than through serde because the workspace's `arbitrary_precision`
/// serializes numbers as a private map that figment would keep as a dictionary.
fn figment_value(value: &serde_json::Value) -> Option<Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(boolean) => Value::from(*boolean),
        serde_json::Value::String(text) => Value::from(text.as_str()),
        serde_json::Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(unsigned), _) => Value::from(Num::U64(unsigned)),
            (None, Some(signed)) => Value::from(Num::I64(signed)),
            // Past ±2^64 or fractional; a number too large even for f64 stays text so that the
            // error can still quote it.
            (None, None) => match number.as_f64() {
                Some(float) => Value::from(Num::F64(float)),
                None => Value::from(number.to_string()),
            },
        },
        serde_json::Value::Array(items) => {
            Value::from(items.iter().filter_map(figment_value).collect::<Vec<_>>())
        }
        serde_json::Value::Object(entries) => Value::from(
            entries
                .iter()
                .filter_map(|(key, value)| Some((key.clone(), figment_value(value)?)))
                .collect::<Dict>(),
        ),
    })
}

/// The `"audit"` section, already checked, as a figment provider tagged with the file's path.
struct SettingsProvider {
    path: PathBuf,
    values: Dict,
}

impl Provider for SettingsProvider {
    fn metadata(&self) -> Metadata {
        Metadata::from("settings file", figment::Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.values.clone()))
    }
}

/// The known `NCP_AUDIT_*` variables as a figment provider. Unlike figment's own `Env`, it
/// takes an injected environment, keeps every value as text (so `NCP_AUDIT_DIR=2024` stays a
/// path) and maps names by table, not by splitting on `_`.
struct EnvProvider {
    values: Dict,
}

impl Provider for EnvProvider {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_PROVIDER_NAME).interpolater(|_profile: &Profile, keys: &[&str]| {
            let setting = keys.first().and_then(|key| Setting::from_json_key(key));
            setting.map_or_else(|| keys.join("."), |setting| setting.env_var().to_owned())
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.values.clone()))
    }
}

/// Which provider the merged value of `setting` came from, from figment's metadata.
fn value_source(figment: &Figment, setting: Setting, settings_path: &Path) -> ValueSource {
    let key = setting.json_key();
    match figment.find_metadata(key) {
        Some(metadata) if metadata.name == ENV_PROVIDER_NAME => {
            ValueSource::Env { var: metadata.interpolate(&Profile::Default, &[key]) }
        }
        Some(metadata) => {
            let path = metadata.source.as_ref().and_then(figment::Source::file_path);
            let path = path.unwrap_or(settings_path).to_owned();
            ValueSource::SettingsFile { path, key: key.to_owned() }
        }
        // Only our two providers add values, and both tag them; kept total for safety.
        None => ValueSource::SettingsFile { path: settings_path.to_owned(), key: key.to_owned() },
    }
}

/// Converts `value` and stores it in its field.
fn apply(
    config: &mut AuditConfig,
    setting: Setting,
    value: &Value,
    origin: &ValueSource,
    base: PathBase<'_>,
) -> Result<(), ConfigError> {
    let some_unless_zero = |number: u64| (number != 0).then_some(number);
    match setting {
        Setting::Enabled => config.enabled = values::boolean(value, origin, setting)?,
        Setting::Dir => config.dir = values::path(value, origin, setting, base)?,
        Setting::MaxFileSize => {
            config.max_file_size_bytes = values::megabytes(value, origin, setting)?;
        }
        Setting::MaxFiles => config.max_files = whole_u32(value, origin, setting)?,
        Setting::IncludeCodeSnippets => {
            config.include_code_snippets = values::boolean(value, origin, setting)?;
        }
        Setting::RedactSensitiveData => {
            config.redact_sensitive_data = values::boolean(value, origin, setting)?;
        }
        Setting::CompressRotated => {
            config.compress_rotated = values::boolean(value, origin, setting)?;
        }
        Setting::MaxAgeDays => {
            let days = whole_u32(value, origin, setting)?;
            config.max_age_days = (days != 0).then_some(days);
        }
        Setting::MaxTotalSize => {
            config.max_total_bytes = some_unless_zero(values::megabytes(value, origin, setting)?);
        }
        Setting::FlushInterval => {
            config.flush_interval_ms = values::whole(value, origin, setting, u64::MAX)?;
        }
        Setting::Durability => config.durability = values::durability(value, origin)?,
        Setting::Backpressure => config.backpressure = values::backpressure(value, origin)?,
        Setting::QueueBudget => {
            let bytes = values::megabytes(value, origin, setting)?;
            if bytes == 0 {
                return Err(ConfigError::InvalidValue {
                    origin: origin.clone(),
                    expected: setting.expected().to_owned(),
                    found: values::describe(value),
                });
            }
            config.queue_budget_bytes = bytes;
        }
        Setting::SampleRates => config.sample_rates = values::sample_rates(value, origin)?,
    }
    Ok(())
}

fn whole_u32(value: &Value, origin: &ValueSource, setting: Setting) -> Result<u32, ConfigError> {
    let number = values::whole(value, origin, setting, u64::from(u32::MAX))?;
    // `whole` refused anything past u32::MAX, so the fallback is never taken.
    Ok(u32::try_from(number).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::config::{BYTES_PER_MB, Backpressure, Durability};

    /// An ncp home in a temporary folder, with an optional settings file.
    struct Home {
        dir: tempfile::TempDir,
    }

    impl Home {
        fn new(settings: Option<&str>) -> Home {
            let dir = tempfile::tempdir().unwrap();
            if let Some(settings) = settings {
                fs::write(dir.path().join(SETTINGS_FILE_NAME), settings).unwrap();
            }
            Home { dir }
        }

        fn path(&self) -> &Path {
            self.dir.path()
        }

        fn settings_path(&self) -> PathBuf {
            self.path().join(SETTINGS_FILE_NAME)
        }

        fn load(&self, env: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
            ConfigLoader::new()
                .home(self.path())
                .user_home("/home/user")
                .current_dir("/cwd")
                .env(env.iter().copied())
                .load()
        }

        fn error(&self, env: &[(&str, &str)]) -> String {
            self.load(env).unwrap_err().to_string()
        }
    }

    #[test]
    fn without_settings_or_variables_everything_is_default() {
        let home = Home::new(None);
        let loaded = home.load(&[]).unwrap();
        assert_eq!(loaded.config(), &AuditConfig::defaults_in(home.path()));
        assert_eq!(loaded.config().dir, home.path().join("audit"));
        for &setting in Setting::ALL {
            assert_eq!(loaded.source(setting), &ValueSource::Default, "{setting}");
        }
        assert!(!loaded.settings_found());
        assert!(loaded.warnings().is_empty());
    }

    #[test]
    fn variables_override_the_settings_file_which_overrides_defaults() {
        let home = Home::new(Some(
            r#"{"other": {"keep": 1},
                "audit": {"maxFiles": 3, "enabled": false, "maxFileSizeMB": 20}}"#,
        ));
        let loaded = home.load(&[("NCP_AUDIT_MAX_FILES", "8")]).unwrap();
        let config = loaded.config();
        assert_eq!(config.max_files, 8);
        assert!(!config.enabled);
        assert_eq!(config.max_file_size_bytes, 20 * BYTES_PER_MB);
        assert_eq!(config.max_age_days, None);

        let var = |var: &str| ValueSource::Env { var: var.to_owned() };
        let file = |key: &str| ValueSource::SettingsFile {
            path: home.settings_path(),
            key: key.to_owned(),
        };
        assert_eq!(loaded.source(Setting::MaxFiles), &var("NCP_AUDIT_MAX_FILES"));
        assert_eq!(loaded.source(Setting::Enabled), &file("enabled"));
        assert_eq!(loaded.source(Setting::MaxFileSize), &file("maxFileSizeMB"));
        assert_eq!(loaded.source(Setting::Dir), &ValueSource::Default);
        assert!(loaded.settings_found());
    }

    #[test]
    fn every_variable_maps_to_its_own_field() {
        let home = Home::new(None);
        let env = [
            ("NCP_AUDIT_ENABLED", "off"),
            ("NCP_AUDIT_DIR", "/var/log/ncp"),
            ("NCP_AUDIT_MAX_SIZE_MB", "3"),
            ("NCP_AUDIT_MAX_FILES", "4"),
            ("NCP_AUDIT_INCLUDE_CODE", "no"),
            ("NCP_AUDIT_REDACT_SENSITIVE", "0"),
            ("NCP_AUDIT_COMPRESS_ROTATED", "YES"),
            ("NCP_AUDIT_MAX_AGE_DAYS", "30"),
            ("NCP_AUDIT_MAX_TOTAL_SIZE_MB", "500"),
            ("NCP_AUDIT_FLUSH_INTERVAL_MS", "250"),
            ("NCP_AUDIT_DURABILITY", "sync"),
            ("NCP_AUDIT_BACKPRESSURE", "drop"),
            ("NCP_AUDIT_QUEUE_BUDGET_MB", "8"),
            ("NCP_AUDIT_SAMPLE_RATES", "binding_accessed=0.25"),
        ];
        let loaded = home.load(&env).unwrap();
        let config = loaded.config();
        assert!(!config.enabled);
        assert_eq!(config.dir, Path::new("/var/log/ncp"));
        assert_eq!(config.max_file_size_bytes, 3 * BYTES_PER_MB);
        assert_eq!(config.max_files, 4);
        assert!(!config.include_code_snippets);
        assert!(!config.redact_sensitive_data);
        assert!(config.compress_rotated);
        assert_eq!(config.max_age_days, Some(30));
        assert_eq!(config.max_total_bytes, Some(500 * BYTES_PER_MB));
        assert_eq!(config.flush_interval_ms, 250);
        assert_eq!(config.durability, Durability::Sync);
        assert_eq!(config.backpressure, Backpressure::Drop);
        assert_eq!(config.queue_budget_bytes, 8 * BYTES_PER_MB);
        assert_eq!(config.sample_rates.get("binding_accessed"), Some(&0.25));
        for ((var, _), &setting) in env.iter().zip(Setting::ALL) {
            assert_eq!(loaded.source(setting), &ValueSource::Env { var: (*var).to_owned() });
        }
        assert!(loaded.warnings().is_empty(), "{:?}", loaded.warnings());
    }

    #[test]
    fn a_number_in_the_dir_variable_is_a_path() {
        let loaded = Home::new(None).load(&[("NCP_AUDIT_DIR", "2024")]).unwrap();
        assert_eq!(loaded.config().dir, Path::new("/cwd/2024"));
    }

    #[test]
    fn empty_and_blank_variables_count_as_unset() {
        let home = Home::new(Some(r#"{"audit": {"maxFiles": 2}}"#));
        let loaded = home
            .load(&[
                ("NCP_AUDIT_MAX_FILES", ""),
                ("NCP_AUDIT_ENABLED", "  "),
                ("NCP_AUDIT_DIR", ""),
            ])
            .unwrap();
        assert_eq!(loaded.config().max_files, 2);
        assert!(matches!(loaded.source(Setting::MaxFiles), ValueSource::SettingsFile { .. }));
        assert_eq!(loaded.source(Setting::Enabled), &ValueSource::Default);
        assert_eq!(loaded.config().dir, home.path().join("audit"));
    }

    #[test]
    fn paths_in_settings_are_relative_to_the_ncp_home_and_in_variables_to_the_cwd() {
        let home = Home::new(Some(r#"{"audit": {"auditDir": "logs/audit"}}"#));
        assert_eq!(home.load(&[]).unwrap().config().dir, home.path().join("logs/audit"));
        let loaded = home.load(&[("NCP_AUDIT_DIR", "rel")]).unwrap();
        assert_eq!(loaded.config().dir, Path::new("/cwd/rel"));
        let loaded = home.load(&[("NCP_AUDIT_DIR", "~/audit")]).unwrap();
        assert_eq!(loaded.config().dir, Path::new("/home/user/audit"));

        let home = Home::new(Some(r#"{"audit": {"auditDir": "~"}}"#));
        assert_eq!(home.load(&[]).unwrap().config().dir, Path::new("/home/user"));
    }

    #[test]
    fn a_url_is_refused_as_a_directory_without_repeating_it() {
        let home = Home::new(Some(r#"{"audit": {"auditDir": "s3://bucket/audit"}}"#));
        let error = home.load(&[]).unwrap_err().to_string();
        assert!(error.contains("auditDir") && error.contains("a URL"), "{error}");
        let url = "https://bob:s3cretpassw0rd@example.com/x";
        let error = home.load(&[("NCP_AUDIT_DIR", url)]).unwrap_err().to_string();
        assert!(error.contains("NCP_AUDIT_DIR"), "{error}");
        assert!(!error.contains("s3cretpassw0rd"), "{error}");
        // A colon inside a name is a path all the same, and so is a drive letter.
        let loaded = home.load(&[("NCP_AUDIT_DIR", "/var/log/a:b//c")]).unwrap();
        assert_eq!(loaded.config().dir, Path::new("/var/log/a:b/c"));
        let loaded = home.load(&[("NCP_AUDIT_DIR", "C://logs")]).unwrap();
        assert_eq!(loaded.config().dir, Path::new("/cwd/C:/logs"));
    }

    #[test]
    fn the_ncp_home_comes_from_ncp_home_then_home() {
        let ncp_home = tempfile::tempdir().unwrap();
        let ncp_home_text = ncp_home.path().to_str().unwrap();
        fs::write(ncp_home.path().join(SETTINGS_FILE_NAME), r#"{"audit":{"maxFiles":7}}"#).unwrap();
        let loaded = ConfigLoader::new()
            .env([("NCP_HOME", ncp_home_text), ("HOME", "/nowhere")])
            .load()
            .unwrap();
        assert_eq!(loaded.ncp_home(), ncp_home.path());
        assert_eq!(loaded.home_source(), HomeSource::NcpHomeVar);
        assert_eq!(loaded.config().max_files, 7);

        let loaded =
            ConfigLoader::new().env([("HOME", "/nowhere"), ("NCP_HOME", "")]).load().unwrap();
        assert_eq!(loaded.ncp_home(), Path::new("/nowhere/.ncp"));
        assert_eq!(loaded.home_source(), HomeSource::Default);
        assert_eq!(loaded.config().dir, Path::new("/nowhere/.ncp/audit"));

        let loaded =
            ConfigLoader::new().env([("NCP_HOME", "ncp")]).current_dir("/cwd").load().unwrap();
        assert_eq!(loaded.ncp_home(), Path::new("/cwd/ncp"));

        let error = ConfigLoader::new().load().unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot locate the ncp home: neither NCP_HOME nor HOME is set"
        );
    }

    #[test]
    fn stray_variables_warn_and_never_panic() {
        let home = Home::new(None);
        let env = [
            ("NCP_AUDIT_", "1"),
            ("NCP_AUDIT__X", "1"),
            ("NCP_AUDIT__MAX_FILES", "1"),
            ("NCP_AUDIT_MAX_FILE", "1"),
            ("NCP_AUDIT_MAX", ""),
            ("NCP_AUDITOR", "1"),
        ];
        let loaded = home.load(&env).unwrap();
        assert_eq!(loaded.config(), &AuditConfig::defaults_in(home.path()));
        let warnings: Vec<String> = loaded.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                "unknown environment variable \"NCP_AUDIT_\" ignored",
                "unknown environment variable \"NCP_AUDIT_MAX\" ignored",
                "unknown environment variable \"NCP_AUDIT_MAX_FILE\" ignored; did you mean \
                 NCP_AUDIT_MAX_FILES?",
                "unknown environment variable \"NCP_AUDIT__MAX_FILES\" ignored; did you mean \
                 NCP_AUDIT_MAX_FILES?",
                "unknown environment variable \"NCP_AUDIT__X\" ignored",
            ]
        );
    }

    #[test]
    fn unknown_keys_warn_with_the_closest_known_key() {
        let home = Home::new(Some(r#"{"audit": {"maxFileSizeMb": 20, "colour": "red"}}"#));
        let loaded = home.load(&[]).unwrap();
        assert_eq!(loaded.config().max_file_size_bytes, 10 * BYTES_PER_MB, "the typo is ignored");
        let path = home.settings_path();
        assert_eq!(
            loaded.warnings(),
            [
                ConfigWarning::UnknownKey {
                    path: path.clone(),
                    key: "maxFileSizeMb".into(),
                    closest: Some("maxFileSizeMB"),
                },
                ConfigWarning::UnknownKey {
                    path: path.clone(),
                    key: "colour".into(),
                    closest: None
                },
            ],
            "in the order of the file"
        );
        assert_eq!(
            loaded.warnings()[0].to_string(),
            format!(
                "settings file {}: unknown key audit.\"maxFileSizeMb\" ignored; did you mean \
                 maxFileSizeMB?",
                path.display()
            )
        );
    }

    #[test]
    fn zero_means_off_and_negative_is_refused() {
        let home = Home::new(None);
        let zeros = [
            ("NCP_AUDIT_MAX_SIZE_MB", "0"),
            ("NCP_AUDIT_MAX_FILES", "0"),
            ("NCP_AUDIT_MAX_AGE_DAYS", "0"),
            ("NCP_AUDIT_MAX_TOTAL_SIZE_MB", "0"),
            ("NCP_AUDIT_FLUSH_INTERVAL_MS", "0"),
        ];
        let config = home.load(&zeros).unwrap().into_config();
        assert_eq!(config.max_file_size_bytes, 0);
        assert_eq!(config.max_files, 0);
        assert_eq!(config.max_age_days, None);
        assert_eq!(config.max_total_bytes, None);
        assert_eq!(config.flush_interval_ms, 0);

        for (var, _) in zeros {
            let message = home.error(&[(var, "-1")]);
            assert!(
                message.starts_with(&format!("environment variable {var}: expected")),
                "{message}"
            );
            assert!(message.ends_with("found the text \"-1\""), "{message}");
        }
        let message = home.error(&[("NCP_AUDIT_QUEUE_BUDGET_MB", "0")]);
        assert_eq!(
            message,
            "environment variable NCP_AUDIT_QUEUE_BUDGET_MB: expected a size in megabytes, more \
             than 0, found the text \"0\""
        );
        let home = Home::new(Some(r#"{"audit": {"maxFiles": -2}}"#));
        assert_eq!(
            home.error(&[]),
            format!(
                "settings file {}, key audit.maxFiles: expected a whole number of files, 0 or \
                 more (0 keeps all), found the number -2",
                home.settings_path().display()
            )
        );
    }

    #[test]
    fn megabytes_overflow_is_an_error_not_a_wrap() {
        let home = Home::new(Some(r#"{"audit": {"maxTotalSizeMB": 18446744073709551615}}"#));
        let message = home.error(&[]);
        assert!(message.contains("key audit.maxTotalSizeMB: expected"), "{message}");
        assert!(message.contains("at most 17592186044415"), "{message}");
        assert!(message.ends_with("found the number 18446744073709551615"), "{message}");
        let home = Home::new(Some(r#"{"audit": {"maxTotalSizeMB": 1e400}}"#));
        assert!(home.error(&[]).contains("key audit.maxTotalSizeMB"));
    }

    #[test]
    fn wrong_types_name_the_key_the_value_and_the_expectation() {
        let home = Home::new(Some(r#"{"audit": {"enabled": "sometimes"}}"#));
        assert_eq!(
            home.error(&[]),
            format!(
                "settings file {}, key audit.enabled: expected a boolean (true/false, 1/0, \
                 yes/no, on/off), found the text \"sometimes\"",
                home.settings_path().display()
            )
        );
        let home = Home::new(Some(r#"{"audit": {"auditDir": 2024}}"#));
        assert!(home.error(&[]).ends_with("expected a path, found the number 2024"));
        let home = Home::new(Some(r#"{"audit": {"maxFiles": [1]}}"#));
        assert!(home.error(&[]).ends_with("found an array"));
        let home = Home::new(Some(r#"{"audit": {"durability": "fsync"}}"#));
        assert!(home.error(&[]).ends_with(
            "key audit.durability: expected one of none, group-commit, sync, found the text \
             \"fsync\""
        ));
        let message = Home::new(None).error(&[("NCP_AUDIT_BACKPRESSURE", "wait")]);
        assert_eq!(
            message,
            "environment variable NCP_AUDIT_BACKPRESSURE: expected one of block, drop, found the \
             text \"wait\""
        );
    }

    #[test]
    fn a_variable_that_is_not_utf8_is_named() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let value = OsString::from_vec(vec![0x66, 0xff]);
            let error = ConfigLoader::new()
                .home("/h")
                .env([(OsString::from("NCP_AUDIT_DIR"), value)])
                .load()
                .unwrap_err();
            assert_eq!(error.to_string(), "environment variable NCP_AUDIT_DIR is not valid UTF-8");
        }
    }

    #[test]
    fn malformed_settings_name_file_line_and_column() {
        let home = Home::new(Some("{\n  \"audit\": {\n    \"maxFiles\": 3,\n  }\n}\n"));
        let error = home.load(&[]).unwrap_err();
        let ConfigError::SettingsSyntax { line, column, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!((*line, *column), (4, 3));
        assert_eq!(
            error.to_string(),
            format!(
                "settings file {} is not valid JSON at line 4, column 3: trailing comma",
                home.settings_path().display()
            )
        );
    }

    #[test]
    fn a_malformed_settings_file_never_repeats_its_contents() {
        let settings = "{\"mcpServers\": {\"x\": {\"token\": \"sk-live-SECRET\" \"more\": 1}}}";
        let message = Home::new(Some(settings)).error(&[]);
        assert!(message.ends_with("line 1, column 49: expected `,` or `}`"), "{message}");
        assert!(!message.contains("SECRET"), "{message}");
        let settings = "{\"mcpServers\": {\"token\": \"sk-live-SECRET\u{1}\"}}";
        let message = Home::new(Some(settings)).error(&[]);
        assert!(!message.contains("SECRET"), "{message}");
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let home = Home::new(Some("\u{feff}{\"audit\": {\"maxFiles\": 1}}"));
        assert_eq!(home.load(&[]).unwrap().config().max_files, 1);
    }

    #[test]
    fn long_unknown_names_are_cut_in_warnings() {
        let key = "k".repeat(500);
        let home = Home::new(Some(&format!("{{\"audit\": {{\"{key}\": 1}}}}")));
        let warning = home.load(&[]).unwrap().warnings()[0].to_string();
        assert!(warning.len() < 200, "{warning}");
        assert!(warning.contains(&format!("\"{}...\"", "k".repeat(60))), "{warning}");
    }

    #[test]
    fn settings_of_the_wrong_shape_are_refused_and_blank_files_are_empty() {
        let home = Home::new(Some("[1, 2]"));
        assert!(home.error(&[]).ends_with("the top level: expected an object, found an array"));
        let home = Home::new(Some(r#"{"audit": true}"#));
        assert!(home.error(&[]).ends_with("audit: expected an object, found a boolean"));
        let home = Home::new(Some(r#"{"audit": null, "other": 1}"#));
        assert!(home.load(&[]).unwrap().settings_found());
        let home = Home::new(Some("  \n"));
        assert!(!home.load(&[]).unwrap().settings_found());
        let home = Home::new(Some(r#"{"audit": {"maxFiles": null, "maxAgeDays": 4}}"#));
        let loaded = home.load(&[]).unwrap();
        assert_eq!(loaded.source(Setting::MaxFiles), &ValueSource::Default);
        assert_eq!(loaded.config().max_age_days, Some(4));
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_settings_file_is_an_error_naming_it() {
        // A directory where the file should be fails to read on every system, root included.
        let home = Home::new(None);
        fs::create_dir(home.settings_path()).unwrap();
        let error = home.load(&[]).unwrap_err();
        assert!(matches!(error, ConfigError::ReadSettings { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            format!("cannot read settings file {}", home.settings_path().display())
        );
    }

    #[test]
    fn the_settings_file_is_never_written() {
        let text = "{\"theme\": \"dark\",\n \"audit\": {\"maxFiles\": 2, \"oops\": 1}}\n";
        let home = Home::new(Some(text));
        let before = fs::metadata(home.settings_path()).unwrap().modified().unwrap();
        home.load(&[("NCP_AUDIT_MAX_FILES", "3")]).unwrap();
        assert_eq!(fs::read_to_string(home.settings_path()).unwrap(), text);
        assert_eq!(fs::metadata(home.settings_path()).unwrap().modified().unwrap(), before);
    }

    #[test]
    fn sample_rates_from_settings_and_the_variable_replacing_them() {
        let home = Home::new(Some(
            r#"{"audit": {"sampleRates": {"binding_accessed": 0.1, "code_execution_start": 1}}}"#,
        ));
        let rates = home.load(&[]).unwrap().into_config().sample_rates;
        assert_eq!(rates.len(), 2);
        assert_eq!(rates["binding_accessed"], 0.1);
        let loaded = home.load(&[("NCP_AUDIT_SAMPLE_RATES", "binding_created=0")]).unwrap();
        assert_eq!(loaded.config().sample_rates.keys().collect::<Vec<_>>(), ["binding_created"]);
        let home = Home::new(Some(r#"{"audit": {"sampleRates": {"binding_accessed": 1.01}}}"#));
        assert!(
            home.error(&[]).contains("key audit.sampleRates.binding_accessed: expected a rate")
        );
    }

    #[test]
    fn the_settings_json_of_a_config_loads_back_to_it() {
        let mut config = AuditConfig::defaults_in(Path::new("/somewhere/else"));
        config.max_total_bytes = Some(3 * BYTES_PER_MB / 2);
        config.max_age_days = Some(9);
        config.sample_rates.insert("binding_accessed".into(), 0.125);
        config.durability = Durability::None;
        let settings = serde_json::json!({"audit": config.to_settings_json()});
        let home = Home::new(Some(&settings.to_string()));
        let loaded = home.load(&[]).unwrap();
        assert_eq!(loaded.config(), &config);
        assert!(loaded.warnings().is_empty());
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// A value a user might plausibly type, or not.
        fn arb_text() -> impl Strategy<Value = String> {
            prop_oneof![
                "\\PC{0,12}",
                "-?[0-9]{1,25}(\\.[0-9]{0,4})?(e-?[0-9]{1,3})?",
                "(true|off|YES|none|sync|drop|~|~/x|\\.\\./x|[a-z_]{1,10}=[0-9.]{1,5},?)",
            ]
        }

        fn arb_json() -> impl Strategy<Value = String> {
            prop_oneof![
                arb_text().prop_map(|text| serde_json::Value::from(text).to_string()),
                any::<i64>().prop_map(|number| number.to_string()),
                any::<u64>().prop_map(|number| number.to_string()),
                any::<f64>().prop_map(|number| serde_json::json!(number).to_string()),
                Just("null".to_owned()),
                Just("[1, 2]".to_owned()),
                Just(r#"{"binding_accessed": 0.5, "x": "y"}"#.to_owned()),
                Just("1e400".to_owned()),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Any mix of our variables, stray ones and odd values loads or fails with a
            /// message; nothing panics, and a stray variable is always warned about.
            #[test]
            fn any_environment_loads_or_fails_cleanly(
                stray in prop::collection::vec(("NCP_AUDIT_[A-Z_]{0,12}", arb_text()), 0..4),
                known in prop::collection::vec((0..Setting::ALL.len(), arb_text()), 0..6),
            ) {
                let known = known.into_iter().map(|(setting_idx, value)| {
                    (Setting::ALL[setting_idx].env_var().to_owned(), value)
                });
                let env: Vec<(String, String)> = stray.iter().cloned().chain(known).collect();
                let result = ConfigLoader::new()
                    .home("/h")
                    .user_home("/u")
                    .current_dir("/c")
                    .env(env)
                    .load();
                match result {
                    Ok(loaded) => {
                        let unknown =
                            stray.iter().filter(|(var, _)| Setting::from_env_var(var).is_none());
                        for (var, _) in unknown {
                            let is_warned = |warning: &ConfigWarning| match warning {
                                ConfigWarning::UnknownEnvVar { var: seen, .. } => seen == var,
                                _ => false,
                            };
                            prop_assert!(loaded.warnings().iter().any(is_warned), "{var}");
                        }
                    }
                    Err(error) => prop_assert!(error.to_string().contains("NCP_AUDIT_")),
                }
            }

            /// Any value under any known key of settings.json loads or fails naming the key.
            #[test]
            fn any_settings_value_loads_or_fails_naming_its_key(
                setting_idx in 0..Setting::ALL.len(),
                value in arb_json(),
            ) {
                let key = Setting::ALL[setting_idx].json_key();
                let home = Home::new(Some(&format!(r#"{{"audit": {{"{key}": {value}}}}}"#)));
                if let Err(error) = home.load(&[]) {
                    let message = error.to_string();
                    prop_assert!(message.contains(&format!("key audit.{key}")), "{message}");
                }
            }

            /// Whatever a config holds, its settings.json form loads back to it.
            #[test]
            fn settings_json_round_trips(
                enabled: bool,
                dir in "(/[a-z0-9 ._-]{1,8}){1,4}",
                max_file_size_mb in 0..=(u64::MAX / BYTES_PER_MB),
                max_files: u32,
                flags in prop::array::uniform3(any::<bool>()),
                max_age_days in prop::option::of(1..=u32::MAX),
                max_total_mb in prop::option::of(1..=(u64::MAX / BYTES_PER_MB)),
                flush_interval_ms: u64,
                mode_idx in 0..3_usize,
                drop: bool,
                queue_mb in 1..=(u64::MAX / BYTES_PER_MB),
                sample_rates in prop::collection::btree_map("[a-z_]{1,12}", 0.0..=1.0_f64, 0..4),
            ) {
                let [include_code_snippets, redact_sensitive_data, compress_rotated] = flags;
                let config = AuditConfig {
                    enabled,
                    dir: PathBuf::from(dir),
                    max_file_size_bytes: max_file_size_mb * BYTES_PER_MB,
                    max_files,
                    include_code_snippets,
                    redact_sensitive_data,
                    compress_rotated,
                    max_age_days,
                    max_total_bytes: max_total_mb.map(|megabytes| megabytes * BYTES_PER_MB),
                    flush_interval_ms,
                    durability: Durability::ALL[mode_idx],
                    backpressure: if drop { Backpressure::Drop } else { Backpressure::Block },
                    queue_budget_bytes: queue_mb * BYTES_PER_MB,
                    sample_rates,
                };
                let settings = serde_json::json!({"audit": config.to_settings_json()});
                let home = Home::new(Some(&settings.to_string()));
                let loaded = home.load(&[]).unwrap();
                prop_assert_eq!(loaded.config(), &config);
            }
        }
    }
}
