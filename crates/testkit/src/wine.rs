//! Windows programs under Debian's Wine, for the tests of the Windows build
//! (`scripts/build-windows.sh`): the `.exe`s found where that script puts them, and one
//! Wine prefix per test process, made at its first use and shared by that process's
//! tests. Isolation: a prefix is a folder of its own (`WINEPREFIX`) with its own
//! `wineserver`, registry and Credential Manager, so two test processes never meet; the
//! tests of one process that share it keep apart by what they name (each backend has its
//! own origin, hence its own credential; each test its own `%APPDATA%` where it says so).
//! Prefixes of processes that are gone are removed when a new one is made.
//!
//! The prefix's Windows user is [`USER`], "Nguyễn Văn A": Wine names the profile after
//! `$USER`, so `%USERPROFILE%`, `%APPDATA%` and `%LOCALAPPDATA%` (and the known folders
//! behind them) all have Vietnamese letters and spaces, as on a Vietnamese user's PC.
//!
//! Wine 8 has no `bcryptprimitives.dll`, which Rust's std takes its random bytes from
//! (`ProcessPrng`) on Windows 10 and later: the prefix gets one built from
//! `scripts/windows/bcryptprimitives.c` in its `system32`, where Windows keeps the real
//! one. That DLL belongs to this rig only, never to the installer.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::root;

/// The Windows user of every prefix (the profile `C:\users\Nguyễn Văn A`).
pub const USER: &str = "Nguyễn Văn A";

/// Debian's 64-bit Wine loader (`wine` itself insists on a 32-bit Wine as well).
pub const WINE64: &str = "/usr/lib/wine/wine64";
const WINESERVER: &str = "/usr/lib/wine/wineserver";

/// The Windows target's products: `target/windows/x86_64-pc-windows-gnu/release`, or
/// `BHXH_WINDOWS_BIN_DIR`.
pub fn windows_bin_dir() -> PathBuf {
    std::env::var_os("BHXH_WINDOWS_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/windows/x86_64-pc-windows-gnu/release"))
}

/// A product of the Windows build (`bhxh.exe`, `bhxh-desktop.exe`, …); fails the test
/// with what to run when it was not built.
pub fn windows_exe(name: &str) -> PathBuf {
    let path = windows_bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it with `bash scripts/build-windows.sh` (scripts/test.sh does, before the tests)",
        path.display()
    );
    path
}

/// SoftHSM2 built for Windows (`scripts/windows/build-softhsm2.sh`, which
/// `scripts/build-windows.sh` runs): `target/windows/softhsm2/softhsm2.dll`, or
/// `BHXH_WINDOWS_SOFTHSM2_DLL`. A real PKCS#11 module for Windows, as a CA's middleware
/// DLL is; it belongs to the test rig, never to the installer.
pub fn softhsm2_dll() -> PathBuf {
    let path = std::env::var_os("BHXH_WINDOWS_SOFTHSM2_DLL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/windows/softhsm2/softhsm2.dll"));
    assert!(path.is_file(), "{} is missing: build it with `bash scripts/build-windows.sh`", path.display());
    path
}

/// Tokens for Windows programs in a prefix: SoftHSM2 for Windows installed as a vendor
/// installs its middleware, its tokens in the prefix's `C:\ProgramData`.
pub struct WindowsSoftHsm {
    /// `C:\Program Files\SoftHSM2\lib\softhsm2-x64.dll`
    pub module: String,
    /// The `softhsm2.conf` the Windows module reads (`SOFTHSM2_CONF`), as a Windows path.
    pub conf: String,
    /// The same tokens' configuration for Linux's SoftHSM2 and pkcs11-tool.
    pub linux_conf: PathBuf,
}

/// A Wine prefix: a Windows installation in a folder.
pub struct Wine {
    prefix: PathBuf,
}

/// This test process's prefix, made (booted) at first use.
pub fn wine() -> &'static Wine {
    static W: OnceLock<Wine> = OnceLock::new();
    W.get_or_init(|| Wine::boot(""))
}

impl Wine {
    /// A prefix of its own for one test (one that installs and removes the product,
    /// which the shared prefix's other tests must not see), removed when dropped.
    pub fn fresh(name: &str) -> Wine {
        Wine::boot(&format!("-{name}"))
    }

    fn boot(suffix: &str) -> Wine {
        assert!(Path::new(WINE64).is_file(), "{WINE64} is missing: apt-get install wine64 (scripts/lib.sh lists it)");
        let base = std::env::temp_dir();
        remove_stale_prefixes(&base);
        let prefix = base.join(format!("bhxh-wine-{}{suffix}", std::process::id()));
        let _ = std::fs::remove_dir_all(&prefix);
        let wine = Wine { prefix };
        // Boot the prefix and wait for its wineserver to be done with it: a program
        // started earlier would race the registry being written.
        let out = wine.command(OsStr::new("wineboot")).arg("--init").output().expect("wine64 wineboot");
        assert!(
            wine.drive_c().join("windows/system32").is_dir(),
            "wineboot made no prefix: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        wine.wait_server();
        // Wine links Desktop, Documents, … to the Linux home folder: make them the
        // profile's own folders, so nothing a test writes there leaves the prefix.
        for e in std::fs::read_dir(wine.profile()).expect("the profile folder").flatten() {
            if e.file_type().is_ok_and(|t| t.is_symlink()) {
                std::fs::remove_file(e.path()).unwrap();
                std::fs::create_dir(e.path()).unwrap();
            }
        }
        // Rust's std needs ProcessPrng (see the module's doc).
        let dll = wine.drive_c().join("windows/system32/bcryptprimitives.dll");
        let ok = Command::new("x86_64-w64-mingw32-gcc")
            .args(["-shared", "-O2", "-Wl,--kill-at", "-o"])
            .arg(&dll)
            .arg(root().join("scripts/windows/bcryptprimitives.c"))
            .arg("-ladvapi32")
            .status()
            .expect("x86_64-w64-mingw32-gcc (apt-get install gcc-mingw-w64-x86-64)")
            .success();
        assert!(ok, "the test rig's bcryptprimitives.dll did not build");
        wine
    }

    /// The prefix folder (`WINEPREFIX`).
    pub fn prefix(&self) -> &Path {
        &self.prefix
    }

    /// `C:\` of this prefix, as a Linux folder.
    pub fn drive_c(&self) -> PathBuf {
        self.prefix.join("drive_c")
    }

    /// The user's profile folder (`%USERPROFILE%`), as a Linux folder.
    pub fn profile(&self) -> PathBuf {
        self.drive_c().join("users").join(USER)
    }

    /// A path under `C:\` (given with `\`), as a Linux path.
    pub fn on_c(&self, windows_path: &str) -> PathBuf {
        let rest = windows_path.trim_start_matches(['C', 'c']).trim_start_matches(':').trim_start_matches('\\');
        let mut p = self.drive_c();
        for part in rest.split('\\').filter(|s| !s.is_empty()) {
            p.push(part);
        }
        p
    }

    /// `wine64 PROGRAM` in this prefix, quiet, with no Mono or Gecko to install and no
    /// display: the programs under test are console programs.
    pub fn command(&self, program: &OsStr) -> Command {
        let mut cmd = Command::new(WINE64);
        cmd.arg(program)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env("USER", USER)
            .env("LOGNAME", USER)
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }

    /// Runs `PROGRAM ARGS` with `stdin`, and its output. Wine's own start-up lines
    /// (`wine: …`, fixme) are on stderr with `WINEDEBUG=-all` silenced.
    pub fn run(&self, program: &Path, args: &[&OsStr], env: &[(&str, &OsStr)], stdin: &str) -> Output {
        let mut cmd = self.command(program.as_os_str());
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("wine64");
        {
            use std::io::Write;
            let mut input = child.stdin.take().expect("stdin");
            let _ = input.write_all(stdin.as_bytes());
        }
        child.wait_with_output().expect("wine64 output")
    }

    /// SoftHSM2 for Windows in this prefix, with tokens of its own (`tokens` as
    /// `provision-softhsm.sh`'s `BHXH_TOKENS`, "" for all three), made anew at each call.
    /// They are provisioned by the Linux tools into the prefix's
    /// `C:\ProgramData\SoftHSM2\tokens`: SoftHSM2's file store is the same on both
    /// systems (it writes every number as 8 bytes, big-endian), so the Windows module reads
    /// the tokens the Linux one wrote, as a Windows PC reads a token a CA provisioned.
    pub fn softhsm(&self, tokens: &str) -> WindowsSoftHsm {
        let module = r"C:\Program Files\SoftHSM2\lib\softhsm2-x64.dll";
        let dll = self.on_c(module);
        std::fs::create_dir_all(dll.parent().unwrap()).unwrap();
        std::fs::copy(softhsm2_dll(), &dll).expect("copy softhsm2.dll into the prefix");
        let data = r"C:\ProgramData\SoftHSM2";
        let dir = self.on_c(data);
        let _ = std::fs::remove_dir_all(&dir);
        let linux_conf = crate::provision_softhsm(&dir, tokens);
        let conf = format!(r"{data}\softhsm2-windows.conf");
        std::fs::write(
            self.on_c(&conf),
            format!("directories.tokendir = {data}\\tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"),
        )
        .unwrap();
        WindowsSoftHsm { module: module.to_string(), conf, linux_conf }
    }

    /// Runs `reg.exe ARGS` in the prefix (to read or set what a program stored).
    pub fn reg(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(OsStr::new("reg"));
        cmd.args(args);
        cmd.output().expect("wine64 reg")
    }

    /// Waits (bounded) until the prefix's wineserver has written everything and exited.
    pub fn wait_server(&self) {
        let mut child = Command::new(WINESERVER)
            .arg("-w")
            .env("WINEPREFIX", &self.prefix)
            .env("USER", USER)
            .spawn()
            .expect("wineserver -w");
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        if rx.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("the Wine prefix's server did not finish within 120 s");
        }
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let _ = Command::new(WINESERVER).arg("-k").env("WINEPREFIX", &self.prefix).env("USER", USER).status();
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}

/// Removes `bhxh-wine-<pid>[-name]` prefixes whose process is gone (a run that was killed).
fn remove_stale_prefixes(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) =
            name.to_str().and_then(|n| n.strip_prefix("bhxh-wine-")).map(|n| n.split('-').next().unwrap_or(n))
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
