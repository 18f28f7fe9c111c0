//! Real parts for tests, shared by every crate: the fixture PKI
//! (`scripts/make-fixtures.sh`), a real SMTP server (aiosmtpd) that writes what it
//! receives into a folder, and freshly provisioned SoftHSM2 tokens
//! (`scripts/provision-softhsm.sh`). Only ever a dev-dependency.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_debug_implementations)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod nginx;
pub mod ocsp;
pub mod pcsc;
pub mod wine;

/// The MST of the fixture certificates and the demo account.
pub const MST: &str = "0101234567";
/// The user PIN of the provisioned SoftHSM2 tokens.
pub const TEST_PIN: &str = "123456";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Scratch space under the target dir, kept between runs.
fn scratch() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    target.join("test-scratch")
}

/// The fixture PKI, made once a week (its CRL is valid 30 days, its leaves a year).
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let week = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / (7 * 86_400);
        // `pki7`: the three-level PKI with distribution points and OCSP responders (bump
        // when make-fixtures.sh changes what it makes).
        let dir = scratch().join(format!("pki7-week{week}"));
        let ok = Command::new("bash")
            .arg(root().join("scripts/make-fixtures.sh"))
            .arg(&dir)
            .status()
            .expect("bash")
            .success();
        assert!(ok, "scripts/make-fixtures.sh failed");
        dir
    })
}

/// A file of the fixture PKI, e.g. `rsa-valid.cert.pem`.
pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// SoftHSM2 tokens made fresh for this test process (`BHXH Test RSA`, `BHXH Test EC`,
/// `BHXH Other MST`, and `BHXH Test Always-Auth` when [`softhsm_with`] names `always`;
/// user PIN [`TEST_PIN`]), with `SOFTHSM2_CONF` pointing at them. Never a token that was
/// already on the machine.
pub struct SoftHsm {
    pub dir: PathBuf,
    pub module: PathBuf,
    pub conf: PathBuf,
}

/// Provisions the tokens once per test process and sets `SOFTHSM2_CONF` for it (before
/// any PKCS#11 module is loaded: SoftHSM reads it at C_Initialize): the three tokens,
/// unless an earlier [`softhsm_with`] in the process chose others.
pub fn softhsm() -> &'static SoftHsm {
    softhsm_with("")
}

/// [`softhsm`] with the tokens chosen (`provision-softhsm.sh`'s `BHXH_TOKENS`, e.g.
/// `"rsa ec other always"`; "" for the three `rsa ec other`). Both share one provisioning
/// per process: the first call of either, in the process, decides which tokens there
/// are, and later calls get those whatever they ask (SoftHSM reads its configuration
/// once, at C_Initialize). A test binary that needs a token outside the three therefore
/// calls this, with the same list, everywhere it would call [`softhsm`].
pub fn softhsm_with(tokens: &str) -> &'static SoftHsm {
    static HSM: OnceLock<SoftHsm> = OnceLock::new();
    HSM.get_or_init(|| {
        let dir = scratch().join(format!("softhsm-{}", std::process::id()));
        let conf = provision_softhsm(&dir, tokens);
        // Set once, before any thread of the test loads a module.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        SoftHsm { dir, module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"), conf }
    })
}

/// Provisions SoftHSM2 tokens into `dir` (`scripts/provision-softhsm.sh`; `tokens` as its
/// `BHXH_TOKENS`, "" for the three `rsa ec other`) and returns their `softhsm2.conf`.
/// Sets nothing in this process's environment.
pub fn provision_softhsm(dir: &Path, tokens: &str) -> PathBuf {
    let out = Command::new("bash")
        .arg(root().join("scripts/provision-softhsm.sh"))
        .arg(dir)
        .arg(fixtures())
        .env("BHXH_TOKENS", tokens)
        .output()
        .expect("bash");
    assert!(out.status.success(), "provision-softhsm.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    dir.join("softhsm2.conf")
}

/// opencryptoki's soft token (`scripts/provision-opencryptoki.sh`), held by this test
/// alone while the guard lives: the machine has one such token, so every test that uses
/// it, in any test process, takes its turn (a lock in the process and a file lock
/// across processes). Each turn starts from the same state: user PIN [`TEST_PIN`] set
/// by the SO (`C_InitPIN`, which ends a lock), no wrong try counted.
pub struct Opencryptoki {
    pub module: PathBuf,
    pub slot: u64,
    pub label: &'static str,
    _turn: std::sync::MutexGuard<'static, ()>,
    _file_lock: std::fs::File,
}

/// The opencryptoki soft token's SO PIN (the tests unlock the user PIN with it).
pub const OCK_SO_PIN: &str = "87654321";

impl Opencryptoki {
    /// The SO sets the user PIN again (`C_InitPIN`): a locked or counting PIN is whole.
    pub fn reset_user_pin(&self) {
        let so = Command::new("pkcs11-tool")
            .args(["--module"])
            .arg(&self.module)
            .args([
                "--slot",
                &self.slot.to_string(),
                "--login",
                "--login-type",
                "so",
                "--so-pin",
                OCK_SO_PIN,
                "--init-pin",
                "--new-pin",
                TEST_PIN,
            ])
            .output()
            .expect("pkcs11-tool");
        assert!(so.status.success(), "C_InitPIN by the SO: {}", String::from_utf8_lossy(&so.stderr));
        // A right PIN clears what the wrong ones counted (COUNT_LOW stays after C_InitPIN).
        let user = Command::new("pkcs11-tool")
            .args(["--module"])
            .arg(&self.module)
            .args(["--slot", &self.slot.to_string(), "--login", "--pin", TEST_PIN, "--list-objects"])
            .output()
            .expect("pkcs11-tool");
        assert!(user.status.success(), "login with the reset PIN: {}", String::from_utf8_lossy(&user.stderr));
    }

    /// One login with a wrong PIN, by another program (as the CA's tool would count it).
    pub fn wrong_login(&self) {
        let _ = Command::new("pkcs11-tool")
            .args(["--module"])
            .arg(&self.module)
            .args(["--slot", &self.slot.to_string(), "--login", "--pin", "00000000", "--list-objects"])
            .output()
            .expect("pkcs11-tool");
    }

    /// The token's flags as `pkcsconf -t` names them (e.g. `USER_PIN_FINAL_TRY`).
    pub fn flags(&self) -> String {
        let out = Command::new("pkcsconf").args(["-c", &self.slot.to_string(), "-t"]).output().expect("pkcsconf");
        String::from_utf8_lossy(&out.stdout).lines().find(|l| l.contains("Flags:")).unwrap_or_default().to_string()
    }
}

/// Takes the opencryptoki token for this test (see [`Opencryptoki`]); provisions it
/// first if this machine has not (or pkcsslotd is not running).
pub fn opencryptoki() -> Opencryptoki {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
    let _ = std::fs::create_dir_all("/var/lib/opencryptoki");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/var/lib/opencryptoki/.bhxh-test.lock")
        .expect("the opencryptoki test lock (scripts/test.sh runs as root)");
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).expect("flock");
    let ock = Opencryptoki {
        module: PathBuf::from("/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so"),
        slot: 3,
        label: "BHXH OCK RSA",
        _turn: turn,
        _file_lock: file,
    };
    let running = Command::new("pgrep").args(["-x", "pkcsslotd"]).output().map(|o| o.status.success()).unwrap_or(false);
    // Provisioned again only when it is not this fixture PKI's token or the daemon is
    // gone: it restarts pkcsslotd, which other test processes with the module loaded
    // would not survive. (The marker is the script's last write: a run stopped half-way
    // is redone.)
    // The marker holds the SHA-256 of the certificate provisioned: another fixture PKI
    // (a new week, another target dir) is provisioned anew.
    let cert_sum = Command::new("sha256sum").arg(fixture("rsa-valid.cert.der")).output().expect("sha256sum");
    let wanted = String::from_utf8_lossy(&cert_sum.stdout).split_whitespace().next().unwrap_or_default().to_string();
    let marked = std::fs::read_to_string("/var/lib/opencryptoki/.bhxh-test-token").unwrap_or_default();
    if !running || marked.trim() != wanted {
        let out = Command::new("bash")
            .arg(root().join("scripts/provision-opencryptoki.sh"))
            .arg(fixtures())
            .output()
            .expect("bash");
        assert!(out.status.success(), "provision-opencryptoki.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        ock.flags().contains("TOKEN_INITIALIZED") && token_label_is(&ock),
        "opencryptoki's token is not the provisioned one ({}); run scripts/provision-opencryptoki.sh again",
        ock.flags()
    );
    ock.reset_user_pin();
    ock
}

fn token_label_is(ock: &Opencryptoki) -> bool {
    let out = Command::new("pkcsconf").args(["-c", &ock.slot.to_string(), "-t"]).output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == format!("Label: {}", ock.label)))
        .unwrap_or(false)
}

/// Changes the user PIN of the provisioned token `label` (so a test can search logs and
/// files for a PIN nothing else contains: `123456` is inside the MST `0101234567`).
pub fn change_pin(label: &str, old: &str, new: &str) {
    change_pin_in(&softhsm().conf, label, old, new);
}

/// [`change_pin`] for the tokens of another `softhsm2.conf` ([`provision_softhsm`]).
pub fn change_pin_in(conf: &Path, label: &str, old: &str, new: &str) {
    let out = Command::new("pkcs11-tool")
        .args(["--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label", label, "--login", "--pin", old])
        .args(["--change-pin", "--new-pin", new])
        .env("SOFTHSM2_CONF", conf)
        .output()
        .expect("pkcs11-tool (Debian opensc)");
    assert!(out.status.success(), "changing the PIN of {label}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Builds `crates/token/tests/shim/p11shim.c` (a FAKE PKCS#11 module over SoftHSM2,
/// named as such: a PIN-pad reader and a misbehaving module, which no real part here
/// can show; its header says how it is driven) into `dir`; the module's path.
pub fn build_p11shim(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let module = dir.join("p11shim.so");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../token/tests/shim/p11shim.c");
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-Wall", "-o"])
        .arg(&module)
        .arg(&source)
        .arg("-ldl")
        .output()
        .expect("cc (gcc) to build the PKCS#11 shim");
    assert!(out.status.success(), "building {}: {}", source.display(), String::from_utf8_lossy(&out.stderr));
    module
}

// ---- SMTP -------------------------------------------------------------------------

/// A received mail, decoded by the sink.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ReceivedMail {
    pub message_id: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
}

/// A real SMTP server (Debian python3-aiosmtpd) writing what it receives into a folder.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl SmtpSink {
    /// Starts on `port` (0: a [`free_port`], another if that one was taken meanwhile)
    /// and waits until it listens.
    pub fn start(dir: &Path, port: u16) -> SmtpSink {
        use std::io::BufRead;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py");
        // Its errors go beside its folder, for the panic that says why it did not start.
        let errors = dir.with_extension("stderr");
        let mut said = Vec::new();
        for _ in 0..if port == 0 { 5 } else { 1 } {
            let mut child = Command::new("/usr/bin/python3")
                .arg(&script)
                .arg(dir)
                .arg(if port == 0 { free_port() } else { port }.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(&errors).expect("the SMTP sink's error file"))
                .spawn()
                .expect("starting the SMTP sink (Debian python3-aiosmtpd)");
            let stdout = child.stdout.take().unwrap();
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
            if let Some(port) = line.trim().strip_prefix("READY ") {
                return SmtpSink { child, port: port.parse().unwrap(), dir: dir.to_path_buf() };
            }
            let _ = child.kill();
            let _ = child.wait();
            said.push(format!("{line:?}: {}", std::fs::read_to_string(&errors).unwrap_or_default()));
        }
        panic!("the SMTP sink did not start: {said:#?}")
    }

    /// Every mail received so far, in order.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }

    /// Waits (60 s at most: a loaded 2-core machine delivers late, never early) for the
    /// newest mail to `to` whose subject contains `subject`.
    pub async fn wait_for(&self, to: &str, subject: &str) -> ReceivedMail {
        self.wait_match(0, &format!("to {to} with subject {subject:?}"), |m| {
            m.to.iter().any(|t| t == to) && m.subject.contains(subject)
        })
        .await
    }

    /// Waits (60 s at most) for the newest mail, of those after the first `since`, that
    /// `wanted` accepts; `what` names it when none comes.
    pub async fn wait_match(&self, since: usize, what: &str, wanted: impl Fn(&ReceivedMail) -> bool) -> ReceivedMail {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(m) = self.mails().into_iter().skip(since).rev().find(|m| wanted(m)) {
                return m;
            }
            assert!(Instant::now() < deadline, "no mail {what}; got {:#?}", self.mails());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until at least `n` mails have arrived or `within` passed.
    pub async fn wait_count(&self, n: usize, within: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + within;
        loop {
            let mails = self.mails();
            if mails.len() >= n || Instant::now() > deadline {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (for a server started later on it).
pub fn free_port() -> u16 {
    // Below Linux's ephemeral range (32768–60999): a port the kernel handed out for
    // port 0 and this process let go of can be taken, before the test's server binds it,
    // as the source port of any outgoing connection (a real window's driver once lost
    // its port that way). Here no connection takes one by chance; each is handed out
    // once, and only if it can be bound now.
    //
    // Once per machine, not only per process: two test processes run at once
    // (scripts/test.sh runs the Wine tests beside the rest) and their walks through the
    // range can meet. A port handed out is held with a lock on its file in
    // `<temp>/bhxh-test-ports/` for the rest of the process (the kernel lets the lock go
    // however the process ends), and a port another live process holds is skipped.
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static HELD: std::sync::Mutex<Vec<std::fs::File>> = std::sync::Mutex::new(Vec::new());
    let locks = port_locks();
    let _ = std::fs::create_dir_all(&locks);
    let base = 20_000 + (std::process::id() % 500) * 20;
    for _ in 0..12_000 {
        let port = 20_000 + (base - 20_000 + NEXT.fetch_add(1, Ordering::Relaxed)) % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_err() {
            continue;
        }
        let opened =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(locks.join(port.to_string()));
        let Ok(file) = opened else { return port as u16 }; // no folder for locks: as before
        if rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok() {
            HELD.lock().unwrap_or_else(|p| p.into_inner()).push(file);
            return port as u16;
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where [`free_port`] keeps a lock file per port it handed out (machine-wide).
fn port_locks() -> PathBuf {
    std::env::temp_dir().join("bhxh-test-ports")
}

/// The temporary password in a reset mail.
pub fn password_in(mail: &ReceivedMail) -> String {
    mail.text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Mật khẩu tạm thời:"))
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("no password in {:?}", mail.text))
}

/// The new password and the activation link of a portal mail (the link is the
/// mail's last line).
pub fn portal_secrets_in(mail: &ReceivedMail) -> (String, String) {
    let password = mail
        .text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Mật khẩu mới:"))
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|| panic!("no password in {:?}", mail.text));
    let link = mail.text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string();
    assert!(link.contains("/portal/activate?t="), "the mail does not end with the link: {:?}", mail.text);
    (password, link)
}

// ---- PostgreSQL ---------------------------------------------------------------------

/// A PostgreSQL cluster of its own (Debian `postgresql`) on a free loopback port, in
/// its own folder. It stops when dropped, and when the test process ends however it
/// ends (the server's watchdog reads a pipe we hold); [`PgCluster::stop`] and
/// [`PgCluster::start`] take it down and bring it back on the same port and data, as an
/// outage would.
pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    root: bool,
    watchdog: Option<Child>,
}

impl PgCluster {
    /// `initdb` and start.
    pub fn new() -> PgCluster {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Debian postgresql (scripts/test.sh installs it)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .collect();
        versions.sort();
        let bin = versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin");
        let root = is_root();
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("bhxh-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if root {
            let ok = Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().unwrap().success();
            assert!(ok, "chown of the PostgreSQL test dir");
        }
        let out = pg_command(&bin, "initdb", root)
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "bhxh", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let mut cluster = PgCluster { bin, dir, port: free_port(), root, watchdog: None };
        cluster.start();
        cluster
    }

    /// The port it listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&mut self) {
        assert!(self.watchdog.is_none(), "already running");
        // The server runs until our end of the pipe says "restart" (stop, keep the data)
        // or closes (we exit, however we exit: stop and remove the folder).
        let script = format!(
            "{postgres} -D {dir}/data -p {port} -k {dir} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200 >>{dir}/log 2>&1 & pid=$!; \
             read -r cmd; kill -INT $pid; wait $pid; [ \"$cmd\" = restart ] || rm -rf {dir}",
            postgres = self.bin.join("postgres").display(),
            dir = self.dir.display(),
            port = self.port,
        );
        let mut watchdog = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", "bash", "-c", &script]);
            c
        } else {
            let mut c = Command::new("bash");
            c.args(["-c", &script]);
            c
        };
        let child = watchdog.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("bash");
        self.watchdog = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "bhxh", "-d", "postgres"])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start: {}",
                std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (fast shutdown: connections are cut) and waits until it is gone;
    /// the data stays for [`PgCluster::start`].
    pub fn stop(&mut self) {
        use std::io::Write;
        let mut child = self.watchdog.take().expect("running");
        let _ = child.stdin.take().expect("piped").write_all(b"restart\n");
        let _ = child.wait();
    }

    /// A fresh, empty database: its `postgres://` URL.
    pub fn create_database(&self, name: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "bhxh",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
            ])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql");
        assert!(out.status.success(), "CREATE DATABASE: {}", String::from_utf8_lossy(&out.stderr));
        format!("postgres://bhxh@127.0.0.1:{}/{name}", self.port)
    }
}

impl Default for PgCluster {
    fn default() -> Self {
        PgCluster::new()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(mut child) = self.watchdog.take() {
            drop(child.stdin.take()); // EOF: stop and remove the folder
            let _ = child.wait();
        } else {
            let _ = Command::new("rm").arg("-rf").arg(&self.dir).status();
        }
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// `prog` from the PostgreSQL binaries, as the `postgres` user when we are root (the
/// server refuses to run as root).
fn pg_command(bin: &Path, prog: &str, root: bool) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(prog));
        c
    } else {
        Command::new(bin.join(prog))
    }
}

/// A fresh, empty database on a PostgreSQL cluster of this test process's own (Debian
/// `postgresql`, started on first use on a loopback port, stopped when the process
/// ends): its `postgres://` URL.
pub fn postgres_database() -> String {
    static PG: OnceLock<std::sync::Mutex<PgCluster>> = OnceLock::new();
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let pg = PG.get_or_init(|| std::sync::Mutex::new(PgCluster::new()));
    let name = format!("bhxh_{}", N.fetch_add(1, std::sync::atomic::Ordering::SeqCst));
    pg.lock().unwrap_or_else(|e| e.into_inner()).create_database(&name)
}

/// An X display of its own (Debian's Xvfb), stopped with its process group when dropped.
pub struct Xvfb {
    child: Child,
    /// `:N`, for `DISPLAY`.
    pub display: String,
}

/// Starts Xvfb on a free display (`-displayfd`: the server picks the number and says it).
pub fn xvfb(size: &str) -> Xvfb {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("Xvfb")
        .process_group(0)
        .args(["-displayfd", "1", "-screen", "0", size, "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb (Debian xvfb)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    Xvfb { child, display: format!(":{}", line.trim()) }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Locks port `port`'s file as another test process would (a lock of its own open
    /// file, which conflicts with this process's like another process's does).
    fn lock_as_another(port: u16) -> Result<std::fs::File, rustix::io::Errno> {
        let dir = port_locks();
        std::fs::create_dir_all(&dir).unwrap();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(port.to_string()))
            .unwrap();
        rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map(|()| file)
    }

    /// A port handed out stays held for the process (another test process cannot take
    /// it), and a port another process holds is not handed out.
    #[test]
    fn a_free_port_is_handed_out_once_per_machine() {
        let port = free_port();
        assert!(lock_as_another(port).is_err(), "port {port} was handed out but not held");
        // The next in this process's walk, held by "another process" first (by this test,
        // or by a test process running beside it), is skipped.
        let next = 20_000 + (port - 20_000 + 1) % 12_000;
        let _theirs = lock_as_another(next);
        let mine = free_port();
        assert_ne!(mine, next, "a port another process holds was handed out");
        assert!(lock_as_another(mine).is_err());
    }
}
