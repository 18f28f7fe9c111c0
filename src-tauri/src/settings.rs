//! The app's settings (server URL, PKCS#11 module path, language), stored as JSON in
//! the platform config dir (`BHXH_DESKTOP_CONFIG_DIR` overrides it, for tests).

use std::path::{Path, PathBuf};

use bhxh_protocol::Lang;
use serde::{Deserialize, Serialize};

/// What the Settings screen edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub server_url: String,
    pub pkcs11_module: Option<String>,
    pub lang: Lang,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server_url: std::env::var("BHXH_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
            pkcs11_module: std::env::var("BHXH_PKCS11_MODULE").ok().filter(|v| !v.is_empty()),
            lang: Lang::Vi,
        }
    }
}

impl Settings {
    /// Reads `settings.json` in `dir`; defaults when absent or unreadable.
    pub fn load(dir: &Path) -> Settings {
        std::fs::read(dir.join("settings.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes `settings.json` atomically.
    pub fn save(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("settings.json");
        let tmp = dir.join(".settings.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}
