//! `ncp-audit config` end to end: sources, warnings, errors and exit codes, with the
//! environment of the child process set from scratch.

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// Runs `ncp-audit config ARGS` with only `NCP_HOME` and `vars` in its environment, from `cwd`.
fn run_config(ncp_home: &Path, cwd: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    tests::ncp_audit()
        .arg("config")
        .args(args)
        .env_clear()
        .env("NCP_HOME", ncp_home)
        .envs(vars.iter().copied())
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

const SETTINGS: &str = r#"{
  "theme": "dark",
  "mcpServers": {"github": {"command": "gh"}},
  "audit": {"maxFiles": 3, "maxFileSizeMb": 20, "sampleRates": {"binding_accessed": 0.1}}
}
"#;

#[test]
fn config_json_reports_each_value_with_its_source() {
    let ncp_home = tempfile::tempdir().unwrap();
    let settings_path = ncp_home.path().join("settings.json");
    fs::write(&settings_path, SETTINGS).unwrap();
    let vars = [("NCP_AUDIT_MAX_SIZE_MB", "25"), ("NCP_AUDIT_ENABLED", "OFF")];

    let output = run_config(ncp_home.path(), ncp_home.path(), &vars, &["--json"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let settings = &report["settings"];

    assert_eq!(settings["enabled"]["value"], false);
    assert_eq!(settings["enabled"]["source"]["var"], "NCP_AUDIT_ENABLED");
    assert_eq!(settings["maxFileSizeMB"]["value"], 25);
    assert_eq!(settings["maxFileSizeMB"]["source"]["kind"], "env");
    assert_eq!(settings["maxFiles"]["value"], 3);
    assert_eq!(settings["maxFiles"]["source"]["kind"], "settingsFile");
    assert_eq!(settings["maxFiles"]["source"]["path"], settings_path.to_str().unwrap());
    assert_eq!(settings["maxFiles"]["source"]["key"], "audit.maxFiles");
    assert_eq!(settings["sampleRates"]["value"]["binding_accessed"], 0.1);
    assert_eq!(settings["durability"]["source"]["kind"], "default");
    let audit_dir = ncp_home.path().join("audit");
    assert_eq!(settings["auditDir"]["value"], audit_dir.to_str().unwrap());
    assert_eq!(report["settingsFile"]["found"], true);

    let warning = "unknown key audit.\"maxFileSizeMb\" ignored; did you mean maxFileSizeMB?";
    assert!(stderr.contains(warning), "{stderr}");
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1, "{stderr}");
    assert_eq!(fs::read_to_string(&settings_path).unwrap(), SETTINGS, "never written");
}

#[test]
fn config_table_names_the_source_of_each_line() {
    let ncp_home = tempfile::tempdir().unwrap();
    fs::write(ncp_home.path().join("settings.json"), SETTINGS).unwrap();
    let vars = [("NCP_AUDIT_DIR", "2024"), ("NCP_AUDIT_DURABILITY", "sync")];

    let output = run_config(ncp_home.path(), ncp_home.path(), &vars, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let line = |key: &str| -> Vec<String> {
        let line = stdout.lines().find(|line| line.starts_with(&format!("{key} "))).unwrap();
        line.split_whitespace().map(str::to_owned).collect()
    };

    // `2024` is a folder relative to the current directory, not a number.
    let dir = ncp_home.path().canonicalize().unwrap().join("2024");
    assert_eq!(line("auditDir")[1], dir.to_str().unwrap());
    assert_eq!(line("auditDir")[2..], ["environment", "variable", "NCP_AUDIT_DIR"]);
    assert_eq!(
        line("durability")[1..],
        ["sync", "environment", "variable", "NCP_AUDIT_DURABILITY"]
    );
    assert_eq!(line("maxFiles")[1..4], ["3", "settings", "file"]);
    assert_eq!(line("maxFileSizeMB")[1..], ["10", "default"]);
    let settings_path = ncp_home.path().join("settings.json");
    assert_eq!(line("settings")[2..], [settings_path.to_str().unwrap(), "read"]);
}

#[test]
fn a_malformed_settings_file_fails_with_its_position() {
    let ncp_home = tempfile::tempdir().unwrap();
    let settings_path = ncp_home.path().join("settings.json");
    fs::write(&settings_path, "{\n  \"audit\": {\"maxFiles\": 3,}\n}\n").unwrap();

    let output = run_config(ncp_home.path(), ncp_home.path(), &[], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let expected = format!(
        "ncp-audit: error: invalid configuration: settings file {} is not valid JSON at line 2, \
         column 27: trailing comma\n",
        settings_path.display()
    );
    assert_eq!(text(&output.stderr), expected);
}

#[test]
fn a_bad_variable_fails_naming_it_and_its_value() {
    let ncp_home = tempfile::tempdir().unwrap();
    let vars = [("NCP_AUDIT_MAX_FILES", "-3")];
    let output = run_config(ncp_home.path(), ncp_home.path(), &vars, &["--json"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        text(&output.stderr),
        "ncp-audit: error: invalid configuration: environment variable NCP_AUDIT_MAX_FILES: \
         expected a whole number of files, 0 or more (0 keeps all), found the text \"-3\"\n"
    );
}

/// A value in the wrong place may still be a secret (a token pasted into the wrong variable,
/// used as a key of settings.json): the messages that quote it redact it.
#[test]
fn a_secret_in_a_bad_value_or_unknown_key_is_not_printed() {
    let token = "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";
    let ncp_home = tempfile::tempdir().unwrap();
    for (var, value) in [("NCP_AUDIT_MAX_FILES", token), ("NCP_AUDIT_ENABLED", "password=hunter2x")]
    {
        let output = run_config(ncp_home.path(), ncp_home.path(), &[(var, value)], &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(var) && stderr.contains("<redacted>"), "{stderr}");
        assert!(!stderr.contains("hunter2x") && !stderr.contains("3SKGt2axVt2W"), "{stderr}");
    }

    let settings = format!(r#"{{"audit": {{"{token}": 1}}}}"#);
    fs::write(ncp_home.path().join("settings.json"), settings).unwrap();
    let output = run_config(ncp_home.path(), ncp_home.path(), &[], &["--json"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("unknown key") && stderr.contains("<redacted>"), "{stderr}");
    assert!(!stderr.contains("3SKGt2axVt2W") && !stdout.contains("3SKGt2axVt2W"), "{stdout}");
}

#[test]
fn stray_variables_and_doubtful_sample_rates_only_warn() {
    let ncp_home = tempfile::tempdir().unwrap();
    let vars = [
        ("NCP_AUDIT_", "x"),
        ("NCP_AUDIT__X", "x"),
        ("NCP_AUDIT_SAMPLE_RATES", "security_violation=0.5,no_such_type=0.2"),
    ];
    let output = run_config(ncp_home.path(), ncp_home.path(), &vars, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("unknown environment variable \"NCP_AUDIT_\" ignored"), "{stderr}");
    assert!(stderr.contains("unknown environment variable \"NCP_AUDIT__X\" ignored"), "{stderr}");
    assert!(stderr.contains("security_violation is security-relevant and never sampled"));
    assert!(stderr.contains("unknown event type \"no_such_type\""), "{stderr}");
    assert!(!stderr.contains("=0.5"), "values of variables are not echoed: {stderr}");
}

#[cfg(unix)]
#[test]
fn an_unreadable_settings_file_fails_with_the_systems_reason() {
    let ncp_home = tempfile::tempdir().unwrap();
    let settings_path = ncp_home.path().join("settings.json");
    // A folder where the file should be fails to read for every user, root included.
    fs::create_dir(&settings_path).unwrap();
    let output = run_config(ncp_home.path(), ncp_home.path(), &[], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let expected = format!(
        "ncp-audit: error: invalid configuration: cannot read settings file {}: ",
        settings_path.display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");
    assert!(stderr.contains("directory"), "the system's reason: {stderr}");
}

#[test]
fn a_closed_stdout_is_success() {
    let ncp_home = tempfile::tempdir().unwrap();
    let mut child = tests::ncp_audit()
        .args(["config", "--json"])
        .env_clear()
        .env("NCP_HOME", ncp_home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the reader at once, as `| head -0` would, makes the write fail with a broken pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
}

/// A settings file the larger application left blank is there, and says so: not "not found".
#[test]
fn a_blank_settings_file_is_named_empty() {
    let ncp_home = tempfile::tempdir().unwrap();
    let state = |ncp_home: &Path| {
        let output = run_config(ncp_home, ncp_home, &[], &[]);
        let stdout = text(&output.stdout);
        let line = stdout.lines().find(|line| line.starts_with("settings file")).unwrap();
        line.split_whitespace().skip(3).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(state(ncp_home.path()), "not found");
    fs::write(ncp_home.path().join("settings.json"), " \n").unwrap();
    assert_eq!(state(ncp_home.path()), "empty");
}

/// A key given twice: the last value counts, and the warning says so.
#[test]
fn a_repeated_key_warns_and_the_last_value_counts() {
    let ncp_home = tempfile::tempdir().unwrap();
    let settings = r#"{"theme":"a","theme":"b","audit":{"maxFiles":3,"maxFiles":4}}"#;
    fs::write(ncp_home.path().join("settings.json"), settings).unwrap();
    let output = run_config(ncp_home.path(), ncp_home.path(), &[], &["--json"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("key audit.maxFiles is given twice"), "{stderr}");
    assert!(!stderr.contains("theme"), "other sections are not ours: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["settings"]["maxFiles"]["value"], 4);
}
