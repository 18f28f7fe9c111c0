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

/// The support desk's number the app shows: the server's, as `GET /v1/health` told it
/// last (kept in `service.json`, so it is shown while the server cannot be reached); the
/// build's default only until a server has answered once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hotline {
    /// As the server writes it: "1800 1260".
    pub number: String,
    /// For a `tel:` link: the digits (and a leading `+`).
    pub tel: String,
    /// Told by a server (now or earlier), not the build's default.
    pub from_server: bool,
}

/// Until a server has told its own: the number of the desk this build is made for.
pub const DEFAULT_HOTLINE: &str = "1800 1260";

impl Hotline {
    pub fn new(number: &str, from_server: bool) -> Hotline {
        let number = number.trim().to_string();
        let tel = number.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        Hotline { number, tel, from_server }
    }

    /// The last number a server told, or the default.
    pub fn load(dir: &Path) -> Hotline {
        #[derive(Deserialize)]
        struct Stored {
            hotline: String,
        }
        std::fs::read(dir.join("service.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Stored>(&b).ok())
            .filter(|s| is_number(&s.hotline))
            .map(|s| Hotline::new(&s.hotline, true))
            .unwrap_or_else(|| Hotline::new(DEFAULT_HOTLINE, false))
    }

    /// Keeps a number a server told (atomically), when it is one.
    pub fn told(dir: &Path, number: &str) -> Option<Hotline> {
        if !is_number(number) {
            return None;
        }
        let h = Hotline::new(number, true);
        let tmp = dir.join(".service.json.tmp");
        let saved = std::fs::create_dir_all(dir)
            .and_then(|()| {
                std::fs::write(
                    &tmp,
                    serde_json::to_vec(&serde_json::json!({ "hotline": h.number })).unwrap_or_default(),
                )
            })
            .and_then(|()| std::fs::rename(&tmp, dir.join("service.json")));
        if let Err(e) = saved {
            eprintln!("bhxh-desktop: the hotline could not be kept: {e}");
        }
        Some(h)
    }
}

/// A phone number as a desk would print it: digits with spaces, dots or dashes, an
/// optional leading `+`, 3 to 20 digits, nothing else (a server's answer is shown as it
/// is, so nothing but a number is).
fn is_number(s: &str) -> bool {
    let s = s.trim();
    let body = s.strip_prefix('+').unwrap_or(s);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    s.len() <= 32
        && (3..=20).contains(&digits)
        && body.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-'))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod hotline_tests {
    use super::*;

    #[test]
    fn the_hotline_is_the_servers_and_kept_and_only_a_number_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Hotline::load(dir.path()), Hotline::new(DEFAULT_HOTLINE, false), "before any server: the default");
        assert_eq!(Hotline::told(dir.path(), "1900 6868 99"), Some(Hotline::new("1900 6868 99", true)));
        let kept = Hotline::load(dir.path());
        assert_eq!((kept.number.as_str(), kept.tel.as_str(), kept.from_server), ("1900 6868 99", "1900686899", true));
        for bad in ["", "  ", "call us", "<script>", "12", "1800 1260 ext 5", "+84 ".repeat(9).as_str()] {
            assert_eq!(Hotline::told(dir.path(), bad), None, "{bad:?}");
        }
        assert_eq!(Hotline::load(dir.path()).number, "1900 6868 99", "a refused answer leaves the kept number");
        assert_eq!(Hotline::told(dir.path(), "+84 24 3773 1234").map(|h| h.tel), Some("+842437731234".into()));
    }
}
