//! This installation's id: 22 random characters made once and kept in a file of the
//! app's config folder. It is no secret and names no one: the server keeps it on the
//! audit lines of this app's requests, so the desk can see them under a support code.

use std::path::Path;

use base64::Engine;
use rand::RngCore;

/// The file's name in the config folder.
pub const FILE: &str = "instance-id";

/// A fresh id: 16 random bytes, base64url.
pub fn fresh() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The id kept in `dir`, made and written on first use. When the folder cannot be
/// written the id lives as long as the process (the desk then sees this run's attempts).
pub fn load_or_create(dir: &Path) -> String {
    let path = dir.join(FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let id = text.trim();
        if bhxh_protocol::valid_instance(id) {
            return id.to_string();
        }
    }
    let id = fresh();
    let _ = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, format!("{id}\n")));
    id
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create(dir.path());
        assert!(bhxh_protocol::valid_instance(&a) && a.len() == 22, "{a}");
        assert_eq!(load_or_create(dir.path()), a);
        std::fs::write(dir.path().join(FILE), "not an id!\n").unwrap();
        assert_ne!(load_or_create(dir.path()), a, "a damaged file is replaced");
    }
}
