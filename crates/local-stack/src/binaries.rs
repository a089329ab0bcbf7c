//! Finding the project's compiled Lambda binaries, building them first when they are missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// The Lambda functions this project ships, by binary name.
pub const FUNCTIONS: [&str; 3] = ["authorizer", "protected-fn", "caller-fn"];

/// Why the function binaries could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BinariesError {
    /// No cargo target directory could be found next to the running executable.
    #[error("cannot tell the cargo target directory from {0}")]
    NoTargetDir(PathBuf),
    /// `cargo build` could not be started or failed.
    #[error("`cargo build` of the function binaries failed: {0}")]
    Build(String),
    /// A binary is still missing after the build.
    #[error("function binary {0} is missing after the build")]
    Missing(PathBuf),
}

/// Serializes builds: tests in one process may all ask at once.
static BUILD: Mutex<()> = Mutex::new(());

/// Returns the directory holding the function binaries of the running build profile.
///
/// Looks next to the running executable (`target/<profile>/`, or its parent for test binaries in
/// `target/<profile>/deps/`). When a binary is missing it runs `cargo build` for the three
/// function packages in the same profile, once, so `cargo run -p local-stack` and the end-to-end
/// tests work on a fresh clone without a separate build step.
///
/// # Errors
///
/// A [`BinariesError`] when the target directory cannot be found or the build fails.
pub fn function_dir() -> Result<PathBuf, BinariesError> {
    let exe = std::env::current_exe().map_err(|e| BinariesError::Build(e.to_string()))?;
    let dir = profile_dir(&exe).ok_or_else(|| BinariesError::NoTargetDir(exe.clone()))?;
    let _guard = BUILD.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if FUNCTIONS.iter().all(|name| dir.join(name).is_file()) {
        return Ok(dir);
    }

    build(&dir)?;
    match FUNCTIONS.iter().map(|name| dir.join(name)).find(|path| !path.is_file()) {
        Some(missing) => Err(BinariesError::Missing(missing)),
        None => Ok(dir),
    }
}

/// `target/<profile>` for an executable in it or in its `deps/` folder.
fn profile_dir(exe: &Path) -> Option<PathBuf> {
    let parent = exe.parent()?;
    if parent.file_name().is_some_and(|name| name == "deps") {
        parent.parent().map(Path::to_path_buf)
    } else {
        Some(parent.to_path_buf())
    }
}

fn build(dir: &Path) -> Result<(), BinariesError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    // The workspace this crate was compiled from, so the build works from any working directory.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    command.arg("build").arg("--bins").arg("--manifest-path").arg(manifest);
    for name in FUNCTIONS {
        command.args(["-p", name]);
    }
    if dir.file_name().is_some_and(|name| name == "release") {
        command.arg("--release");
    }
    if let Some(target) = dir.parent() {
        command.env("CARGO_TARGET_DIR", target);
    }
    eprintln!("building the Lambda function binaries (first run only)…");
    let status = command.status().map_err(|e| BinariesError::Build(e.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(BinariesError::Build(status.to_string()))
    }
}
