//! The app's log file, for the support desk: the app has no console on Windows, so what
//! went wrong is written to Tauri's app log folder — `%LOCALAPPDATA%\vn.bhxh.recovery\logs`
//! on Windows, `~/.local/share/vn.bhxh.recovery/logs` on Linux — or to `logs` beside the
//! settings when `BHXH_DESKTOP_CONFIG_DIR` names their folder. Error codes, references and
//! the errors' technical detail only: no PIN, password or session token is ever in a
//! tracing event of this workspace (ARCHITECTURE.md). When the file has passed 1 MiB at a
//! start, it becomes `bhxh-desktop.log.old` (one kept) and a new one begins.

use std::path::PathBuf;
use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime};

/// The log file's name.
pub const FILE: &str = "bhxh-desktop.log";
const ROTATE_BYTES: u64 = 1 << 20;

/// Starts writing the log; the file's path, or `None` when no folder can be written (the
/// app then runs without one) or a log was already started in this process.
pub fn start<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    let dir = match std::env::var_os("BHXH_DESKTOP_CONFIG_DIR") {
        Some(config) => PathBuf::from(config).join("logs"),
        None => app.path().app_log_dir().ok()?,
    };
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > ROTATE_BYTES) {
        let _ = std::fs::rename(&path, dir.join(format!("{FILE}.old")));
    }
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).ok()?;
    tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .try_init()
        .ok()?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), os = std::env::consts::OS, "bhxh-desktop started");
    Some(path)
}
