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
pub fn shared_dir() -> PathBuf {
    workspace_root().join("..").join("shared")
}

/// A `Command` for the `ncp-audit` binary of this build, building it first if needed.
///
/// The binary sits in the same target folder as this test executable (`target/<profile>/`,
/// one level above `deps/`). `cargo test --workspace` builds it; running this crate alone may
/// not, so a missing binary is built with the same cargo.
pub fn ncp_audit() -> std::process::Command {
    let binary = binary_path("ncp-audit");
    if !binary.exists() {
        build_cli();
    }
    std::process::Command::new(binary)
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
        .current_dir(workspace_root())
        .status();
    assert!(matches!(status, Ok(status) if status.success()), "building ncp-audit failed");
}
