//! Helpers shared by the integration tests in `integration/`.

use std::path::PathBuf;

/// The root of the workspace.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // OK because this crate lives one level below the workspace root.
    manifest_dir.parent().expect("tests/ sits inside the workspace").to_path_buf()
}

/// The `shared/` folder that sits beside the checkout, holding the redaction corpus and the
/// files written by the original implementation.
///
/// # Panics
///
/// When the folder is not there: the tests that need it cannot run, and say where they
/// looked.
pub fn shared_dir() -> PathBuf {
    let dir = workspace_root().join("..").join("shared");
    assert!(
        dir.is_dir(),
        "{} is missing: these tests read the redaction corpus and the original \
         implementation's files from `shared/` beside the checkout",
        dir.display()
    );
    dir
}

/// One directory of files the original implementation wrote, `shared/ncp-compat/<name>`.
pub fn compat_dir(name: &str) -> PathBuf {
    shared_dir().join("ncp-compat").join(name)
}

/// A `Command` for the `ncp-audit` binary of this build, brought up to date first.
///
/// The binary sits in the same target folder as this test executable (`target/<profile>/`,
/// one level above `deps/`). `cargo test --workspace` builds it, but running this crate alone
/// does not, and a binary left from an older build would test old code; so the first call of
/// each test run asks the same cargo to build it, which costs little when it is current.
pub fn ncp_audit() -> std::process::Command {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(build_cli);
    std::process::Command::new(binary_path("ncp-audit"))
}

/// Runs `ncp-audit ARGS` with `input` on its stdin and returns what it printed and its exit.
pub fn ncp_audit_with_stdin(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;

    let mut child = ncp_audit()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ncp-audit starts");
    // OK because the child's stdin was just made a pipe.
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(input.as_bytes()).expect("ncp-audit reads its stdin");
    drop(stdin);
    child.wait_with_output().expect("ncp-audit runs")
}

fn binary_path(name: &str) -> PathBuf {
    // OK because a test executable always lives in a folder inside the target folder.
    let test_exe = std::env::current_exe().expect("the test executable has a path");
    let profile_dir = test_exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn build_cli() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet", "--package", "ncp-audit-cli", "--bin", "ncp-audit"])
        .args(if cfg!(debug_assertions) { &[][..] } else { &["--release"][..] })
        .current_dir(workspace_root())
        .status();
    assert!(matches!(status, Ok(status) if status.success()), "building ncp-audit failed");
}
