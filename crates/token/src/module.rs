//! Finding the vendor's PKCS#11 module: an explicit path, then `BHXH_PKCS11_MODULE`,
//! then the configured one, then the known modules of Vietnamese CA tokens in the usual
//! places of this OS. What was searched is reported when nothing is found.

use std::path::{Path, PathBuf};

use crate::TokenError;

/// Known module file names (a `*` matches a version) per OS, Vietnamese CAs first.
pub fn known_names() -> &'static [&'static str] {
    if cfg!(windows) {
        &[
            "vnpt-ca_csp11.dll",
            "vnptca_p11_v*.dll",
            "viettel-ca_v*.dll",
            "fptca_v*.dll",
            "BkavCA.dll",
            "eps2003csp11.dll",
            "eTPKCS11.dll",
            "bit4xpki.dll",
            "opensc-pkcs11.dll",
        ]
    } else if cfg!(target_os = "macos") {
        &["libcastle.1.0.0.dylib", "libeTPkcs11.dylib", "libbit4xpki.dylib", "opensc-pkcs11.so"]
    } else {
        &[
            "libcastle.so.1.0.0",
            "libshuttle_p11v220.so.1.0.0",
            "libeTPkcs11.so",
            "libbit4xpki.so",
            "opensc-pkcs11.so",
        ]
    }
}

/// Folders where vendors install their modules.
pub fn known_dirs() -> Vec<PathBuf> {
    let dirs: &[&str] = if cfg!(windows) {
        &["C:\\Windows\\System32", "C:\\Windows\\SysWOW64"]
    } else if cfg!(target_os = "macos") {
        &["/usr/local/lib", "/Library/OpenSC/lib", "/usr/lib"]
    } else {
        &[
            "/usr/lib",
            "/usr/local/lib",
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu/pkcs11",
            "/usr/lib/pkcs11",
            "/usr/lib64",
            "/usr/lib64/pkcs11",
        ]
    };
    dirs.iter().map(PathBuf::from).collect()
}

/// The module to load. `explicit` (a command-line flag or the app's setting) wins, then
/// `BHXH_PKCS11_MODULE`, then `configured`; a path given that way must exist: there is
/// no silent fallback from a path someone chose.
pub fn find_module(explicit: Option<&Path>, configured: Option<&Path>) -> Result<PathBuf, TokenError> {
    let env = std::env::var_os("BHXH_PKCS11_MODULE").filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(chosen) = explicit.map(Path::to_path_buf).or(env).or(configured.map(Path::to_path_buf)) {
        return if chosen.is_file() { Ok(chosen) } else { Err(TokenError::ModuleNotFound { searched: vec![chosen] }) };
    }
    search(&known_dirs(), known_names())
}

/// Every known module installed on this computer (the Vietnamese CAs' middlewares in
/// their usual folders), in the order of [`known_names`]: what a user may choose from.
pub fn discover() -> Vec<PathBuf> {
    discover_in(&known_dirs(), known_names())
}

/// Every file in `dirs` matching one of `names` (`*` wildcards), each once.
pub fn discover_in(dirs: &[PathBuf], names: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for name in names {
        for dir in dirs {
            let mut hits: Vec<PathBuf> = match name.split_once('*') {
                Some((prefix, suffix)) => std::fs::read_dir(dir)
                    .map(|entries| {
                        entries
                            .filter_map(|e| e.ok())
                            .map(|e| e.path())
                            .filter(|p| {
                                p.is_file()
                                    && p.file_name().and_then(|f| f.to_str()).is_some_and(|f| {
                                        f.starts_with(prefix) && f.ends_with(suffix) && f.len() >= name.len() - 1
                                    })
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                None => Some(dir.join(name)).filter(|p| p.is_file()).into_iter().collect(),
            };
            hits.sort();
            for h in hits {
                if !out.contains(&h) {
                    out.push(h);
                }
            }
        }
    }
    out
}

/// Searches `dirs` for `names` (with `*` wildcards), in the order of `names`.
pub fn search(dirs: &[PathBuf], names: &[&str]) -> Result<PathBuf, TokenError> {
    let mut searched = Vec::new();
    for name in names {
        for dir in dirs {
            searched.push(dir.join(name));
            if let Some((prefix, suffix)) = name.split_once('*') {
                if let Ok(entries) = std::fs::read_dir(dir) {
                    let mut hits: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok())
                        .map(|e| e.path())
                        .filter(|p| {
                            p.file_name()
                                .and_then(|f| f.to_str())
                                .is_some_and(|f| f.starts_with(prefix) && f.ends_with(suffix) && f.len() >= name.len() - 1)
                        })
                        .collect();
                    hits.sort();
                    if let Some(last) = hits.pop() {
                        return Ok(last);
                    }
                }
            } else if dir.join(name).is_file() {
                return Ok(dir.join(name));
            }
        }
    }
    Err(TokenError::ModuleNotFound { searched })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_every_installed_module_once() {
        let dir = std::env::temp_dir().join(format!("bhxh-module-discover-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["vnptca_p11_v6.dll", "vnptca_p11_v7.dll", "eps2003csp11.dll", "unrelated.dll"] {
            std::fs::write(dir.join(f), b"").unwrap();
        }
        let names = ["vnptca_p11_v*.dll", "eps2003csp11.dll", "BkavCA.dll"];
        let found = discover_in(&[dir.clone(), dir.clone()], &names);
        assert_eq!(found, vec![dir.join("vnptca_p11_v6.dll"), dir.join("vnptca_p11_v7.dll"), dir.join("eps2003csp11.dll")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn search_reports_what_it_looked_at_and_matches_versions() {
        let dir = std::env::temp_dir().join(format!("bhxh-module-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let names = ["vnptca_p11_v*.dll", "libcastle.so.1.0.0"];
        match search(&[dir.clone()], &names) {
            Err(TokenError::ModuleNotFound { searched }) => {
                assert_eq!(searched, vec![dir.join(names[0]), dir.join(names[1])]);
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(dir.join("vnptca_p11_v8.dll"), b"").unwrap();
        std::fs::write(dir.join("vnptca_p11_v9.dll"), b"").unwrap();
        std::fs::write(dir.join("libcastle.so.1.0.0"), b"").unwrap();
        assert_eq!(search(&[dir.clone()], &names).unwrap(), dir.join("vnptca_p11_v9.dll"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_chosen_path_must_exist() {
        let missing = Path::new("/nonexistent/libvendor.so");
        assert_eq!(
            find_module(Some(missing), None),
            Err(TokenError::ModuleNotFound { searched: vec![missing.to_path_buf()] })
        );
    }
}
