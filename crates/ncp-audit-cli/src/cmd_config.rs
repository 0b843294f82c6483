//! `ncp-audit config`: the effective configuration and where each value came from.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use audit_config::{ConfigLoader, LoadedConfig, Setting, ValueSource};
use audit_core::EventType;
use serde_json::{Map, Value, json};

/// Options of `ncp-audit config`.
#[derive(Debug, clap::Args)]
pub(crate) struct ConfigArgs {
    /// Print one JSON object for scripts instead of a table.
    #[arg(long)]
    json: bool,
}

/// Loads the configuration of this process and prints it; warnings go to stderr.
///
/// Exit codes: 0 the configuration is valid (warnings or not), 1 it is not (the error is
/// printed on stderr and nothing on stdout).
pub(crate) fn run(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let loaded = match ConfigLoader::from_process().load() {
        Ok(loaded) => loaded,
        Err(error) => {
            // Through anyhow for `{:#}`, which adds the cause, such as the system's reason a
            // settings file could not be read.
            let error = anyhow::Error::from(error);
            let message = crate::scrub(&format!("{error:#}"));
            eprintln!("ncp-audit: error: invalid configuration: {message}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let warnings = warnings_of(&loaded);
    for warning in &warnings {
        eprintln!("ncp-audit: warning: {warning}");
    }

    let output = if args.json { to_json(&loaded, &warnings) } else { to_table(&loaded) };
    let mut stdout = io::stdout().lock();
    match stdout.write_all(output.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`| head`): it saw what it wanted.
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(error) => Err(error).context("writing to stdout"),
    }
}

/// Every warning of `loaded`, sample rates the writer will not use included, as printed: with
/// any secret a warning quotes (a token pasted as a key) redacted.
pub(crate) fn warnings_of(loaded: &LoadedConfig) -> Vec<String> {
    let mut warnings: Vec<String> = loaded.warnings().iter().map(ToString::to_string).collect();
    warnings.extend(sample_rate_warnings(loaded));
    warnings.iter().map(|warning| crate::scrub(warning)).collect()
}

/// Sample rates the writer will not use as written: unknown event types, and types that are
/// security-relevant and therefore never sampled. audit-config cannot check these itself, since
/// it does not know the event model.
fn sample_rate_warnings(loaded: &LoadedConfig) -> Vec<String> {
    let origin = loaded.source(Setting::SampleRates);
    let mut warnings = Vec::new();
    for name in loaded.config().sample_rates.keys() {
        match EventType::ALL.iter().find(|event_type| event_type.as_str() == name) {
            None => {
                warnings.push(format!("{origin}: unknown event type {name:?}; its rate is unused"))
            }
            Some(event_type) if event_type.is_security_relevant() => warnings.push(format!(
                "{origin}: {name} is security-relevant and never sampled; its rate is ignored"
            )),
            Some(_) => {}
        }
    }
    warnings
}

/// One line per setting: key, value, source, aligned.
fn to_table(loaded: &LoadedConfig) -> String {
    let config = loaded.config();
    let settings_state = match (loaded.settings_found(), loaded.settings_path().exists()) {
        (true, _) => "read",
        // There, but blank: the larger application left it empty.
        (false, true) => "empty",
        (false, false) => "not found",
    };
    let mut rows = vec![
        (
            "ncp home".to_owned(),
            loaded.ncp_home().display().to_string(),
            loaded.home_source().to_string(),
        ),
        (
            "settings file".to_owned(),
            loaded.settings_path().display().to_string(),
            settings_state.to_owned(),
        ),
    ];
    for &setting in Setting::ALL {
        let value = match config.setting_json(setting) {
            // A path can hold a secret put there by mistake (a connection string).
            Value::String(text) => crate::scrub(&text),
            other => other.to_string(),
        };
        rows.push((setting.json_key().to_owned(), value, source_text(loaded.source(setting))));
    }

    let key_width = rows.iter().map(|(key, _, _)| key.len()).max().unwrap_or(0);
    let value_width = rows.iter().map(|(_, value, _)| value.chars().count()).max().unwrap_or(0);
    let mut output = String::new();
    for (key, value, source) in rows {
        let line = format!("{key:key_width$}  {value:value_width$}  {source}");
        output.push_str(line.trim_end());
        output.push('\n');
    }
    output
}

/// The source as the table shows it: the settings key is implied by the row.
fn source_text(source: &ValueSource) -> String {
    match source {
        ValueSource::SettingsFile { path, .. } => format!("settings file {}", path.display()),
        other => other.to_string(),
    }
}

/// The whole report as one JSON object, for scripts.
fn to_json(loaded: &LoadedConfig, warnings: &[String]) -> String {
    let config = loaded.config();
    let mut settings = Map::new();
    for &setting in Setting::ALL {
        let value = match config.setting_json(setting) {
            Value::String(text) => Value::String(crate::scrub(&text)),
            other => other,
        };
        let entry = json!({
            "value": value,
            "envVar": setting.env_var(),
            "source": source_json(loaded.source(setting)),
        });
        settings.insert(setting.json_key().to_owned(), entry);
    }
    let report = json!({
        "ncpHome": {
            "path": loaded.ncp_home().to_string_lossy(),
            "source": loaded.home_source().to_string(),
        },
        "settingsFile": {
            "path": loaded.settings_path().to_string_lossy(),
            "found": loaded.settings_found(),
        },
        "settings": settings,
        "warnings": warnings,
    });
    format!("{report:#}\n")
}

fn source_json(source: &ValueSource) -> Value {
    match source {
        ValueSource::Default => json!({"kind": "default"}),
        ValueSource::SettingsFile { path, key } => json!({
            "kind": "settingsFile",
            "path": path.to_string_lossy(),
            "key": format!("audit.{key}"),
        }),
        ValueSource::Env { var } => json!({"kind": "env", "var": var}),
    }
}
