//! Finding the project's compiled Lambda binaries, building them first when they are missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;

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

/// The workspace crates whose sources go into the function binaries.
const SOURCE_CRATES: [&str; 6] = [
    "authorizer",
    "protected-fn",
    "caller-fn",
    "sts-verifier",
    "token-source",
    "lambda-logging",
];

/// Returns the directory holding the function binaries of the running build profile.
///
/// Looks next to the running executable (`target/<profile>/`, or its parent for test binaries in
/// `target/<profile>/deps/`). When a binary is missing, or older than a source file of the crates
/// it is built from, it runs `cargo build` for the three function packages in the same profile,
/// so `cargo run -p local-stack` and the end-to-end tests never run stale functions and work on
/// a fresh clone without a separate build step.
///
/// # Errors
///
/// A [`BinariesError`] when the target directory cannot be found or the build fails.
pub fn function_dir() -> Result<PathBuf, BinariesError> {
    let exe = std::env::current_exe().map_err(|e| BinariesError::Build(e.to_string()))?;
    let dir = profile_dir(&exe).ok_or_else(|| BinariesError::NoTargetDir(exe.clone()))?;
    let _guard = BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if FUNCTIONS.iter().all(|name| is_fresh(&dir.join(name))) {
        return Ok(dir);
    }

    build(&dir)?;
    // Cargo's own fingerprints decide what to rebuild; a binary it left alone is current even
    // when a time stamp moved without a change.
    match FUNCTIONS
        .iter()
        .map(|name| dir.join(name))
        .find(|path| !path.is_file())
    {
        Some(missing) => Err(BinariesError::Missing(missing)),
        None => Ok(dir),
    }
}

/// The workspace root this crate was compiled in.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `binary` exists and is newer than every source, manifest and the lock file it is
/// built from. A workspace moved or unpacked without its sources counts as fresh.
fn is_fresh(binary: &Path) -> bool {
    let Ok(built) = binary.metadata().and_then(|meta| meta.modified()) else {
        return false;
    };
    let root = workspace();
    let mut newest = modified(&root.join("Cargo.lock"));
    for name in SOURCE_CRATES {
        let crate_dir = root.join("crates").join(name);
        newest = newest.max(modified(&crate_dir.join("Cargo.toml")));
        newest = newest.max(newest_in(&crate_dir.join("src")));
    }
    newest.is_none_or(|newest| newest <= built)
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|meta| meta.modified()).ok()
}

/// The newest modification time of the files below `dir`.
fn newest_in(dir: &Path) -> Option<SystemTime> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                newest_in(&path)
            } else {
                modified(&path)
            }
        })
        .max()
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
    let manifest = workspace().join("Cargo.toml");
    command
        .arg("build")
        .arg("--bins")
        .arg("--manifest-path")
        .arg(manifest);
    for name in FUNCTIONS {
        command.args(["-p", name]);
    }
    if dir.file_name().is_some_and(|name| name == "release") {
        command.arg("--release");
    }
    if let Some(target) = dir.parent() {
        command.env("CARGO_TARGET_DIR", target);
    }
    eprintln!("building the Lambda function binaries (missing or older than their sources)…");
    let status = command
        .status()
        .map_err(|e| BinariesError::Build(e.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(BinariesError::Build(status.to_string()))
    }
}
