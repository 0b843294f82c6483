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
