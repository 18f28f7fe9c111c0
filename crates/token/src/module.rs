//! Finding the vendor's PKCS#11 module: an explicit path, then `BHXH_PKCS11_MODULE`,
//! then the configured one, then the known modules of Vietnamese CA tokens in the usual
//! places of this OS. What was searched is reported when nothing is found.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::TokenError;

/// The table of known modules (`modules.tsv`, one line per file name), parsed once.
const TABLE: &str = include_str!("../modules.tsv");

/// One line of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownModule {
    /// `windows`, `macos` or `linux`.
    pub os: &'static str,
    /// The file name; `*` matches a version.
    pub name: &'static str,
    /// Who ships it (a CA, a token maker).
    pub vendor: &'static str,
}

/// Every line of the table, every OS.
pub fn table() -> &'static [KnownModule] {
    static PARSED: OnceLock<Vec<KnownModule>> = OnceLock::new();
    PARSED.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut cols = l.split('\t');
                Some(KnownModule {
                    os: cols.next()?.trim(),
                    name: cols.next()?.trim(),
                    vendor: cols.next().unwrap_or("").trim(),
                })
            })
            .collect()
    })
}

/// This OS's name in the table.
pub fn this_os() -> &'static str {
    if cfg!(windows) {
        "windows"
    } else if cfg!(target_os = "macos") {
        "macos"
    } else {
        "linux"
    }
}

/// Known module file names (a `*` matches a version) for this OS, in the table's order.
pub fn known_names() -> Vec<&'static str> {
    table().iter().filter(|m| m.os == this_os()).map(|m| m.name).collect()
}

/// Who ships a module file, from the table (any OS).
pub fn vendor_of(path: &Path) -> Option<&'static str> {
    // The file name after the last separator of either OS (a Windows path read anywhere).
    let text = path.to_str()?;
    let file = text.rsplit(['/', '\\']).next()?;
    table().iter().find(|m| matches_name(m.name, file)).map(|m| m.vendor).filter(|v| !v.is_empty())
}

/// Whether a file name fits a table name (`*` stands for a version). Windows compares
/// names without regard to case (`VNPTCA_P11_V6.DLL` is `vnptca_p11_v6.dll` there).
fn matches_name(pattern: &str, file: &str) -> bool {
    if cfg!(windows) {
        return matches_exactly(&pattern.to_ascii_lowercase(), &file.to_ascii_lowercase());
    }
    matches_exactly(pattern, file)
}

fn matches_exactly(pattern: &str, file: &str) -> bool {
    match pattern.split_once('*') {
        Some((prefix, suffix)) => file.len() >= pattern.len() - 1 && file.starts_with(prefix) && file.ends_with(suffix),
        None => file == pattern,
    }
}

/// Folders where vendors install their modules. On Windows: `System32` and `SysWOW64`
/// of `%SystemRoot%` (where the VN CAs' installers put theirs), and every folder up to
/// two levels under `%ProgramFiles%` and `%ProgramFiles(x86)%` (`VNPT-CA\Token Manager\…`,
/// where some vendors keep a copy).
pub fn known_dirs() -> Vec<PathBuf> {
    if cfg!(windows) {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let root = env("SystemRoot").unwrap_or_else(|| PathBuf::from("C:\\Windows"));
        let mut dirs = vec![root.join("System32"), root.join("SysWOW64")];
        for base in [env("ProgramFiles"), env("ProgramFiles(x86)")].into_iter().flatten() {
            if !dirs.contains(&base) {
                dirs.extend(subdirs(&base, 2));
            }
        }
        return dirs;
    }
    let dirs: &[&str] = if cfg!(target_os = "macos") {
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

/// The folders under `base` down to `depth` levels (not `base` itself), sorted; links
/// are not followed.
pub fn subdirs(base: &Path, depth: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut level = vec![base.to_path_buf()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(entries) = std::fs::read_dir(dir) else { continue };
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect();
            found.sort();
            next.extend(found);
        }
        out.extend(next.iter().cloned());
        level = next;
    }
    out
}

/// The module to load. `explicit` (a command-line flag or the app's setting) wins, then
/// `BHXH_PKCS11_MODULE`, then `configured`; a path given that way must exist: there is
/// no silent fallback from a path someone chose.
pub fn find_module(explicit: Option<&Path>, configured: Option<&Path>) -> Result<PathBuf, TokenError> {
    let env = std::env::var_os("BHXH_PKCS11_MODULE").filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(chosen) = explicit.map(Path::to_path_buf).or(env).or(configured.map(Path::to_path_buf)) {
        return if chosen.is_file() { Ok(chosen) } else { Err(TokenError::ModuleNotFound { searched: vec![chosen] }) };
    }
    search(&known_dirs(), &known_names())
}

/// Every known module installed on this computer (the Vietnamese CAs' middlewares in
/// their usual folders), in the order of [`known_names`], then the modules registered
/// with p11-kit: what a user may choose from.
pub fn discover() -> Vec<PathBuf> {
    candidates(None).into_iter().map(|c| c.path).collect()
}

/// Why a module is a candidate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "from")]
pub enum Origin {
    /// Configured (the app's settings).
    Configured,
    /// A known VN CA module name found in a usual folder.
    Known,
    /// Registered with p11-kit (Linux): the `.module` file.
    P11Kit(PathBuf),
}

/// A module to try, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    pub path: PathBuf,
    pub origin: Origin,
}

/// Every module to try when none was chosen: the configured one, the known VN CA
/// modules in this OS's usual folders, and (Linux) the p11-kit registrations; each file
/// once, in that order.
pub fn candidates(configured: Option<&Path>) -> Vec<Candidate> {
    let registrations = if cfg!(target_os = "linux") { p11kit_dirs() } else { Vec::new() };
    candidates_in(configured, &known_dirs(), &known_names(), &registrations, Path::new(P11KIT_MODULE_DIR))
}

/// [`candidates`] over given folders (tests mimic each OS's layout).
pub fn candidates_in(
    configured: Option<&Path>,
    dirs: &[PathBuf],
    names: &[&str],
    registrations: &[PathBuf],
    module_dir: &Path,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut push = |path: PathBuf, origin: Origin| {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if !out.iter().any(|c| c.path.canonicalize().unwrap_or_else(|_| c.path.clone()) == key) {
            out.push(Candidate { path, origin });
        }
    };
    if let Some(c) = configured.filter(|c| c.is_file()) {
        push(c.to_path_buf(), Origin::Configured);
    }
    for p in discover_in(dirs, names) {
        push(p, Origin::Known);
    }
    for (file, module) in p11kit_modules(registrations, module_dir) {
        push(module, Origin::P11Kit(file));
    }
    out
}

/// Where p11-kit's relative module names live (Debian's multiarch folder).
pub const P11KIT_MODULE_DIR: &str = if cfg!(target_arch = "aarch64") {
    "/usr/lib/aarch64-linux-gnu/pkcs11"
} else {
    "/usr/lib/x86_64-linux-gnu/pkcs11"
};

/// The folders p11-kit reads module registrations from: the system's, the admin's and
/// the user's.
pub fn p11kit_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/usr/share/p11-kit/modules"), PathBuf::from("/etc/pkcs11/modules")];
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".config/pkcs11/modules"));
    }
    dirs
}

/// The modules registered in `*.module` files of `dirs` (`module: <path or name>`; a
/// name is relative to `module_dir`), skipping those whose file does not exist. p11-kit's
/// `enable-in:`/`disable-in:` name other programs and are not read.
pub fn p11kit_modules(dirs: &[PathBuf], module_dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "module"))
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else { continue };
            let Some(module) = text
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == "module")
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            let path = if Path::new(&module).is_absolute() { PathBuf::from(module) } else { module_dir.join(module) };
            if path.is_file() {
                out.push((file, path));
            }
        }
    }
    out
}

/// Every file in `dirs` matching one of `names` (`*` wildcards), each once, in the
/// order of `names`, then of `dirs`. Each folder is listed once, whatever the number of
/// names (Program Files has hundreds of folders).
pub fn discover_in(dirs: &[PathBuf], names: &[&str]) -> Vec<PathBuf> {
    let listings: Vec<Vec<PathBuf>> = dirs.iter().map(|d| files_of(d)).collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for name in names {
        for files in &listings {
            for h in matching(files, name) {
                if !out.contains(&h) {
                    out.push(h);
                }
            }
        }
    }
    out
}

/// The files of `dir`, sorted (none when it cannot be read).
fn files_of(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok()).filter(|e| e.file_type().is_ok_and(|t| !t.is_dir())).map(|e| e.path()).collect();
    files.sort();
    files
}

/// The files of a listing that `name` (with a `*` wildcard) names.
fn matching(files: &[PathBuf], name: &str) -> Vec<PathBuf> {
    files
        .iter()
        .filter(|p| p.file_name().and_then(|f| f.to_str()).is_some_and(|f| matches_name(name, f)))
        .cloned()
        .collect()
}

/// Searches `dirs` for `names` (with `*` wildcards), in the order of `names`; of several
/// versions, the last in order.
pub fn search(dirs: &[PathBuf], names: &[&str]) -> Result<PathBuf, TokenError> {
    let listings: Vec<Vec<PathBuf>> = dirs.iter().map(|d| files_of(d)).collect();
    let mut searched = Vec::new();
    for name in names {
        for (dir, files) in dirs.iter().zip(&listings) {
            // What the error names, for a log: bounded (Program Files has many folders).
            if searched.len() < 64 {
                searched.push(dir.join(name));
            }
            if let Some(last) = matching(files, name).pop() {
                return Ok(last);
            }
        }
    }
    Err(TokenError::ModuleNotFound { searched })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failure is the test's failure
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
        assert_eq!(
            found,
            vec![dir.join("vnptca_p11_v6.dll"), dir.join("vnptca_p11_v7.dll"), dir.join("eps2003csp11.dll")]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn search_reports_what_it_looked_at_and_matches_versions() {
        let dir = std::env::temp_dir().join(format!("bhxh-module-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let names = ["vnptca_p11_v*.dll", "libcastle.so.1.0.0"];
        match search(std::slice::from_ref(&dir), &names) {
            Err(TokenError::ModuleNotFound { searched }) => {
                assert_eq!(searched, vec![dir.join(names[0]), dir.join(names[1])]);
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(dir.join("vnptca_p11_v8.dll"), b"").unwrap();
        std::fs::write(dir.join("vnptca_p11_v9.dll"), b"").unwrap();
        std::fs::write(dir.join("libcastle.so.1.0.0"), b"").unwrap();
        assert_eq!(search(std::slice::from_ref(&dir), &names).unwrap(), dir.join("vnptca_p11_v9.dll"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_table_lists_every_os_and_the_field_names() {
        let t = table();
        assert!(t.iter().all(|m| ["windows", "macos", "linux"].contains(&m.os) && !m.name.is_empty()), "{t:?}");
        let mut seen = std::collections::HashSet::new();
        assert!(t.iter().all(|m| seen.insert((m.os, m.name))), "a line twice");
        for name in [
            "vnpt-ca_csp11.dll",
            "VNPT-CA_v34.dll",
            "vnptca_p11_v*.dll",
            "viettel-ca_v*.dll",
            "BkavCA.dll",
            "BkavCAPKCS11.dll",
            "fpt-ca.dll",
            "fptca_v*.dll",
            "ShuttleCsp11_3003.dll",
            "eps2003csp11.dll",
            "nca_v6.dll",
            "ncca_csp11_v1.dll",
            "CA2_csp11.dll",
            "wdpkcs.dll",
            "eTPKCS11.dll",
            "gclib.dll",
        ] {
            assert!(t.iter().any(|m| m.os == "windows" && m.name == name), "{name}");
        }
        for name in ["viettel-ca_v*.dylib", "nca_v6.dylib"] {
            assert!(t.iter().any(|m| m.os == "macos" && m.name == name), "{name}");
        }
        assert!(
            matches_name("vnptca_p11_v*.dll", "vnptca_p11_v8.dll")
                && !matches_name("vnptca_p11_v*.dll", "vnptca_p11_.dl")
        );
        assert_eq!(vendor_of(Path::new("C:\\Windows\\System32\\viettel-ca_v5.dll")), Some("Viettel-CA"));
    }

    /// Three folder trees laid out as each OS installs modules: each finds its own.
    #[test]
    fn candidates_in_a_tree_like_each_os() {
        let root = std::env::temp_dir().join(format!("bhxh-module-trees-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let names_of =
            |os: &str| -> Vec<&'static str> { table().iter().filter(|m| m.os == os).map(|m| m.name).collect() };
        // Windows: System32 with two CAs' middlewares (a renewal with another CA) and SysWOW64.
        let sys32 = root.join("Windows/System32");
        let wow = root.join("Windows/SysWOW64");
        for (d, f) in [
            (&sys32, "vnptca_p11_v8.dll"),
            (&sys32, "viettel-ca_v5.dll"),
            (&wow, "eps2003csp11.dll"),
            (&sys32, "kernel32.dll"),
        ] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join(f), b"").unwrap();
        }
        let found =
            candidates_in(None, &[sys32.clone(), wow.clone()], &names_of("windows"), &[], Path::new("/nonexistent"));
        let files: Vec<_> = found.iter().map(|c| c.path.file_name().unwrap().to_str().unwrap().to_string()).collect();
        assert_eq!(files, ["vnptca_p11_v8.dll", "viettel-ca_v5.dll", "eps2003csp11.dll"]);
        assert!(found.iter().all(|c| c.origin == Origin::Known));
        // macOS: /usr/local/lib with Viettel's and Newtel's.
        let local = root.join("usr/local/lib");
        std::fs::create_dir_all(&local).unwrap();
        for f in ["viettel-ca_v6.dylib", "nca_v6.dylib", "libz.dylib"] {
            std::fs::write(local.join(f), b"").unwrap();
        }
        let found =
            candidates_in(None, std::slice::from_ref(&local), &names_of("macos"), &[], Path::new("/nonexistent"));
        assert_eq!(found.len(), 2, "{found:?}");
        // Linux: a vendor's module in /usr/lib, two p11-kit registrations (one by name, one
        // by path, one pointing at nothing), the configured module first, each once.
        let lib = root.join("usr/lib");
        let p11dir = root.join("usr/lib/x86_64-linux-gnu/pkcs11");
        let reg = root.join("usr/share/p11-kit/modules");
        for d in [&lib, &p11dir, &reg] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(lib.join("libcastle.so.1.0.0"), b"").unwrap();
        std::fs::write(p11dir.join("opensc-pkcs11.so"), b"").unwrap();
        std::fs::write(p11dir.join("libsofthsm2.so"), b"").unwrap();
        std::fs::write(reg.join("opensc.module"), "# comment\nmodule: opensc-pkcs11.so\n").unwrap();
        std::fs::write(reg.join("softhsm2.module"), format!("module: {}\n", p11dir.join("libsofthsm2.so").display()))
            .unwrap();
        std::fs::write(reg.join("gone.module"), "module: /nonexistent/libgone.so\n").unwrap();
        let configured = p11dir.join("libsofthsm2.so");
        let found = candidates_in(
            Some(&configured),
            &[lib.clone(), p11dir.clone()],
            &names_of("linux"),
            std::slice::from_ref(&reg),
            &p11dir,
        );
        let got: Vec<(String, &Origin)> =
            found.iter().map(|c| (c.path.file_name().unwrap().to_string_lossy().into_owned(), &c.origin)).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], ("libsofthsm2.so".into(), &Origin::Configured));
        assert_eq!(got[1], ("libcastle.so.1.0.0".into(), &Origin::Known));
        assert_eq!(got[2].0, "opensc-pkcs11.so", "found by name, known and registered, listed once: {got:?}");
        std::fs::remove_dir_all(&root).unwrap();
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
