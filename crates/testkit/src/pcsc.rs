//! A real pcscd with the virtual readers of Debian vsmartcard-vpcd, and a virtual ISO 7816
//! card (Debian vsmartcard-vpicc's `vicc`) put in and taken out of them, for the tests
//! that talk PC/SC through libpcsclite like the app does.
//!
//! [`Pcscd::start`] starts the daemon and returns once its readers are listed;
//! [`Pcscd::insert`] starts a `vicc` and returns once pcscd reports the card with its ATR;
//! [`VirtualCard::remove`] stops it and returns once pcscd's own reader poll has seen the
//! card go. Every wait asks pcscd through [`pcsc::Context`] until the condition holds and
//! panics, with the log to read, after `BHXH_PCSC_TIMEOUT` seconds (default 60).
//! Dropping a [`VirtualCard`] or the [`Pcscd`] stops its processes.
//!
//! # Isolation
//!
//! Each test process gets a pcscd of its own, never the machine's. Its folder,
//! `test-scratch/pcsc-<pid>/` under the target dir (under the temp dir if that path is
//! too long for a Unix socket), holds its reader configuration (`--config`), its socket
//! `pcscd.comm` and its logs (`pcscd.log`, `vicc-<slot>.log`, kept until the next run).
//! The socket is bound here and handed to pcscd the way systemd socket activation does
//! (`LISTEN_FDS`/`LISTEN_PID`), so pcscd neither uses nor checks `/run/pcscd/pcscd.comm`
//! (a system pcscd may run alongside), and [`Pcscd::start`] points libpcsclite at it for
//! the whole test process with `PCSCLITE_CSOCK_NAME` (libpcsclite reads it once: start
//! the pcscd before anything in the process uses PC/SC). The vpcd readers listen on two
//! consecutive free TCP ports chosen at start (slot N on base + N, on all interfaces as
//! vpcd does), not on Debian's fixed 35963. One pcscd per process at a time. What is not
//! isolated: pcscd's pid file, `/run/pcscd/pcscd.pid` (compiled in; nothing here reads
//! it, but a system pcscd's is overwritten, then removed), and USB readers, which any
//! pcscd would also try to open.
//!
//! # Processes
//!
//! pcscd and the `vicc`s run in a process group of their own (not the test's: a Ctrl-C
//! does not reach them half-way), which [`Pcscd`]'s `Drop` signals as one. A watchdog
//! shell holds the read end of a pipe only this process writes to: when the test process
//! ends, however it ends (even SIGKILL), the pipe closes and the watchdog stops the group.
//! A leftover of a run the watchdog could not clean up either (its folder names a dead
//! pid) is stopped and its folder removed at the next start; being on other ports and
//! another socket, it could not disturb this run anyway.
//!
//! Run as root (pcscd creates `/run/pcscd` for its pid file), with the Debian packages of
//! `scripts/lib.sh` and the Python env for vicc that its `vicc_env` makes in
//! `target/tools/vicc-venv` (`scripts/test.sh` sets up both).

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ::pcsc::{Context, ReaderState, Scope, State};
use rustix::process::{kill_process, kill_process_group, test_kill_process, Pid, Signal};

/// The readers' name in our reader configuration, as in Debian's `/etc/reader.conf.d/vpcd`:
/// pcscd names them `Virtual PCD 00 00`, `Virtual PCD 00 01` (reader index, slot).
pub const FRIENDLY_NAME: &str = "Virtual PCD";
/// The slots of the vpcd reader (Debian builds it with two).
pub const SLOTS: u8 = 2;
const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const VICC: &str = "/usr/bin/vicc";
/// The vicc env, relative to the workspace root (made by `scripts/lib.sh` `vicc_env`).
const VICC_VENV: &str = "target/tools/vicc-venv";
/// How often the waits that cannot block on pcscd look again.
const POLL: Duration = Duration::from_millis(50);
/// The longest a blocking wait on pcscd lasts before the processes are checked again.
const SLICE: Duration = Duration::from_millis(200);

/// The watchdog shell: blocks until its stdin ends (the test process is gone), then
/// stops the process group `$1`: SIGTERM, and SIGKILL if it is still there after 5 s.
const WATCHDOG: &str = r#"read -r _; kill -TERM -"$1"
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -"$1" || exit 0; sleep 0.5; done
kill -KILL -"$1""#;

static RUNNING: AtomicBool = AtomicBool::new(false);

/// Holds [`RUNNING`] for a [`Pcscd`], from the start of [`Pcscd::start`] (a panic half-way
/// releases it too).
struct Running;

impl Running {
    fn acquire() -> Running {
        assert!(
            !RUNNING.swap(true, Ordering::SeqCst),
            "one Pcscd per test process at a time (libpcsclite reads PCSCLITE_CSOCK_NAME once)"
        );
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.store(false, Ordering::SeqCst);
    }
}

/// How long any wait may last: `BHXH_PCSC_TIMEOUT` seconds, default 60 (every wait is
/// for something to happen, and pcscd and the Python card start slowly on a loaded
/// 2-core machine).
fn timeout() -> Duration {
    let secs = std::env::var("BHXH_PCSC_TIMEOUT").ok().and_then(|s| s.parse::<f64>().ok()).unwrap_or(60.0);
    Duration::from_secs_f64(secs.max(0.1))
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).expect("pid fits i32")).expect("a child's pid is not 0")
}

/// The last lines of a log, for a panic message.
fn tail(log: &Path) -> String {
    match std::fs::read_to_string(log) {
        Ok(text) if !text.trim().is_empty() => {
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(15);
            let shown: Vec<String> = lines[from..].iter().map(|l| format!("    | {l}")).collect();
            format!("log {}:\n{}", log.display(), shown.join("\n"))
        }
        _ => format!("log {} (empty or absent: nothing logged there yet)", log.display()),
    }
}

/// Waits (polling, until `deadline`) for `child` to exit; `None` if it still runs.
fn exited_by(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// Stops `child` (and with `group`, every process of its process group): SIGTERM, then
/// SIGKILL after 5 s; reaps it. Never panics (it runs in `Drop`).
fn stop(child: &mut Child, group: bool) {
    if matches!(child.try_wait(), Ok(Some(_))) && !group {
        return;
    }
    let pid = pid_of(child);
    let signal = |sig| if group { kill_process_group(pid, sig) } else { kill_process(pid, sig) };
    let _ = signal(Signal::TERM);
    if exited_by(child, Instant::now() + Duration::from_secs(5)).is_none() {
        eprintln!("pcsc testkit: pid {pid:?} ignored SIGTERM for 5 s, sending SIGKILL");
    }
    // The group's other members (a vicc whose card was leaked) get no second chance.
    let _ = signal(Signal::KILL);
    let _ = child.wait();
}

/// Consecutive TCP ports free on every interface (vpcd slot N listens on base + N),
/// each a [`super::free_port`]: below the ephemeral range, so no outgoing connection
/// takes one before vpcd binds it, and handed out to nothing else of this process.
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let ports: Vec<u16> = (0..SLOTS).map(|_| super::free_port()).collect();
        if ports.windows(2).all(|w| w[1] == w[0].wrapping_add(1))
            && ports.iter().all(|&p| TcpListener::bind(("0.0.0.0", p)).is_ok())
        {
            return ports[0];
        }
    }
    panic!("no {SLOTS} consecutive free TCP ports for the vpcd readers");
}

/// The folder of this process's pcscd, and the folder such folders are in.
fn folders() -> (PathBuf, PathBuf) {
    let name = format!("pcsc-{}", std::process::id());
    let parent = super::scratch();
    // A Unix socket's path holds at most 107 bytes.
    let socket_len = parent.join(&name).join("pcscd.comm").as_os_str().len();
    let parent = if socket_len < 108 { parent } else { std::env::temp_dir().join("bhxh-test-scratch") };
    (parent.join(&name), parent)
}

/// Stops what a run that was killed left (its folder names a dead pid) and removes its
/// folder. A folder of a live process (another test run) is left alone.
fn sweep(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("pcsc-")).and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        let dir = entry.path();
        let Some(owner) = Pid::from_raw(pid).filter(|_| u32::try_from(pid).ok() != Some(std::process::id())) else {
            continue;
        };
        if test_kill_process(owner) != Err(rustix::io::Errno::SRCH) {
            continue; // alive (or not ours to signal): another run's
        }
        // The group leader is the pcscd of that run if its command line names that folder.
        let group = std::fs::read_to_string(dir.join("pgid"))
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            .and_then(Pid::from_raw);
        if let Some(group) = group {
            let cmdline = std::fs::read(format!("/proc/{}/cmdline", group.as_raw_nonzero())).unwrap_or_default();
            let needle = dir.as_os_str().as_encoded_bytes();
            if cmdline.windows(needle.len()).any(|w| w == needle) {
                eprintln!("pcsc testkit: stopping the leftover pcscd (process group {group:?}) of {}", dir.display());
                let _ = kill_process_group(group, Signal::KILL);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A pcscd of this test process's own with the vpcd readers (see the module docs); it
/// stops, with its cards, when dropped.
pub struct Pcscd {
    dir: PathBuf,
    socket: PathBuf,
    log: PathBuf,
    base_port: u16,
    readers: Vec<String>,
    ctx: Option<Context>,
    child: Child,
    watchdog: Child,
    _running: Running,
}

impl Pcscd {
    /// Starts pcscd and waits until it lists its [`SLOTS`] vpcd readers; points this
    /// process's libpcsclite at it (`PCSCLITE_CSOCK_NAME`).
    ///
    /// `BHXH_PCSCD_ARGS` adds pcscd log options (it always logs at `-i`: insertion,
    /// removal, ATRs; `-d -a` logs everything, APDUs included).
    pub fn start() -> Pcscd {
        let running = Running::acquire();
        let (dir, parent) = folders();
        sweep(&parent);
        let _ = std::fs::remove_dir_all(&dir);
        let conf = dir.join("reader.conf.d");
        std::fs::create_dir_all(&conf).unwrap_or_else(|e| panic!("creating {}: {e}", conf.display()));
        let base_port = free_port_pair();
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"{FRIENDLY_NAME}\"\nDEVICENAME   /dev/null:{base_port}\nLIBPATH      {VPCD_DRIVER}\n"
            ),
        )
        .expect("writing the reader configuration");
        let socket = dir.join("pcscd.comm");
        let log = dir.join("pcscd.log");
        std::env::set_var("PCSCLITE_CSOCK_NAME", &socket);

        let bin = ["/usr/sbin/pcscd", "/sbin/pcscd"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists())
            .unwrap_or(Path::new("pcscd"));
        assert!(
            Path::new(VPCD_DRIVER).exists(),
            "{VPCD_DRIVER} is missing: Debian vsmartcard-vpcd (scripts/test.sh installs it)"
        );
        let child = {
            let listener = UnixListener::bind(&socket).unwrap_or_else(|e| panic!("binding {}: {e}", socket.display()));
            let out = File::create(&log).expect("creating pcscd.log");
            let mut cmd = Command::new("/bin/sh");
            // The socket comes in as stdin and goes to fd 3, where socket activation
            // passes it; `$$` is pcscd's pid, since the shell execs it.
            cmd.arg("-c")
                .arg(r#"LISTEN_PID=$$; export LISTEN_PID; exec "$@" 3<&0 </dev/null"#)
                .arg("pcscd")
                .arg(bin)
                .args(["--foreground", "--info", "--config"])
                .arg(&conf)
                .args(std::env::var("BHXH_PCSCD_ARGS").unwrap_or_default().split_whitespace())
                .env("LISTEN_FDS", "1")
                .env_remove("LISTEN_FDNAMES")
                .stdin(Stdio::from(OwnedFd::from(listener)))
                .stdout(out.try_clone().expect("log file"))
                .stderr(out)
                .process_group(0);
            cmd.spawn().unwrap_or_else(|e| {
                panic!("starting {} (Debian pcscd, scripts/test.sh installs it): {e}", bin.display())
            })
            // `cmd`, and with it our copy of the socket, is dropped here: once pcscd is
            // gone, a client is refused at once rather than left waiting on the backlog.
        };
        let group = pid_of(&child);
        // For the sweep of a later run, should this one be killed with its watchdog.
        let _ = std::fs::write(dir.join("pgid"), format!("{}\n", group.as_raw_nonzero()));
        let watchdog = match Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("pcsc-watchdog")
            .arg(group.as_raw_nonzero().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
        {
            Ok(w) => w,
            Err(e) => {
                let mut child = child;
                stop(&mut child, true);
                panic!("starting the watchdog shell: {e}");
            }
        };
        let mut pcscd =
            Pcscd { dir, socket, log, base_port, readers: Vec::new(), ctx: None, child, watchdog, _running: running };
        pcscd.wait_ready();
        pcscd
    }

    /// Until pcscd answers and lists both vpcd readers (or panics).
    fn wait_ready(&mut self) {
        let limit = timeout();
        let deadline = Instant::now() + limit;
        let mut last = String::from("no answer yet");
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pcscd exited during startup ({status})\n{}", tail(&self.log));
            }
            if self.ctx.is_none() {
                match Context::establish(Scope::User) {
                    Ok(ctx) => self.ctx = Some(ctx),
                    Err(e) => last = format!("SCardEstablishContext: {e}"),
                }
            }
            if let Some(ctx) = &self.ctx {
                match ctx.list_readers_owned() {
                    Ok(names) => {
                        let names: Vec<String> = names.iter().map(|n| n.to_string_lossy().into_owned()).collect();
                        let ours: Option<Vec<String>> =
                            (0..SLOTS).map(|slot| names.iter().find(|n| is_slot(n, slot)).cloned()).collect();
                        if let Some(ours) = ours {
                            self.readers = ours;
                            return;
                        }
                        last = format!("readers: {names:?}");
                    }
                    Err(e) => last = format!("SCardListReaders: {e}"),
                }
            }
            assert!(
                Instant::now() < deadline,
                "no {SLOTS} vpcd readers from pcscd {:?} after {limit:?} (last: {last}); if PC/SC was used in this \
                 process before Pcscd::start, libpcsclite is on another socket\n{}",
                self.socket,
                tail(&self.log)
            );
            std::thread::sleep(POLL);
        }
    }

    /// The vpcd readers' names, slot 0 first (`Virtual PCD 00 00`, `Virtual PCD 00 01`).
    pub fn readers(&self) -> &[String] {
        &self.readers
    }

    /// The name of the reader of `slot`.
    pub fn reader(&self, slot: u8) -> &str {
        self.readers.get(usize::from(slot)).unwrap_or_else(|| panic!("vpcd has slots 0..{SLOTS}, not {slot}"))
    }

    /// The TCP port vicc connects to for `slot`.
    pub fn port(&self, slot: u8) -> u16 {
        self.base_port + u16::from(slot)
    }

    /// The pcscd's socket (what `PCSCLITE_CSOCK_NAME` names).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The folder of its configuration, socket and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Puts a virtual card (vicc, ISO 7816) in the reader of `slot` and waits until pcscd
    /// reports it present with its ATR.
    pub fn insert(&self, slot: u8) -> VirtualCard<'_> {
        let reader = self.reader(slot).to_string();
        let (state, _, _) = self.state_now(&reader);
        assert!(!state.contains(State::PRESENT), "'{reader}' already has a card (is a VirtualCard of it still alive?)");
        let venv = super::root().join(VICC_VENV);
        let python = venv.join("bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/test.sh (scripts/lib.sh vicc_env makes it)",
            venv.display()
        );
        let log = self.dir.join(format!("vicc-{slot}.log"));
        let mut out = OpenOptions::new().create(true).append(true).open(&log).expect("opening the vicc log");
        let port = self.port(slot);
        let _ = writeln!(out, "=== vicc -t iso7816 -H 127.0.0.1 -P {port}");
        let child = Command::new(python)
            .arg(VICC)
            .args(["-t", "iso7816", "-H", "127.0.0.1", "-P", &port.to_string(), "-vv"])
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("PYTHONHOME")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .process_group(pid_of(&self.child).as_raw_nonzero().get())
            .spawn()
            .unwrap_or_else(|e| panic!("starting vicc ({VICC}, Debian vsmartcard-vpicc): {e}"));
        let mut card =
            VirtualCard { pcscd: self, slot, reader, atr: String::new(), events: 0, log, child: Some(child) };
        let (_, atr, events) =
            card.wait("the card to be present", |state, atr, _| state.contains(State::PRESENT) && !atr.is_empty());
        card.atr = atr.iter().map(|b| format!("{b:02X}")).collect();
        card.events = events;
        card
    }

    /// The reader's state, ATR and event count, without waiting.
    fn state_now(&self, reader: &str) -> (State, Vec<u8>, u32) {
        let ctx = self.ctx.as_ref().expect("a context once started");
        let mut rs = [ReaderState::new(CString::new(reader).expect("reader name"), State::UNAWARE)];
        match ctx.get_status_change(Duration::ZERO, &mut rs) {
            Ok(()) | Err(::pcsc::Error::Timeout) => {}
            Err(e) => panic!("PC/SC status of '{reader}': {e}\n{}", tail(&self.log)),
        }
        (rs[0].event_state(), rs[0].atr().to_vec(), rs[0].event_count())
    }
}

fn is_slot(name: &str, slot: u8) -> bool {
    name.starts_with(FRIENDLY_NAME) && name.ends_with(&format!(" {slot:02X}"))
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        self.ctx = None;
        stop(&mut self.child, true);
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(self.dir.join("pgid"));
    }
}

/// A virtual card in a reader of a [`Pcscd`]: a vicc process connected to vpcd. Dropping
/// it stops vicc without waiting for pcscd to notice; [`VirtualCard::remove`] waits.
pub struct VirtualCard<'a> {
    pcscd: &'a Pcscd,
    slot: u8,
    reader: String,
    /// Hex, upper case, no separators (`3B9513…`).
    atr: String,
    /// The reader's event count when the card was seen.
    events: u32,
    log: PathBuf,
    child: Option<Child>,
}

impl VirtualCard<'_> {
    /// The card's ATR as pcscd reported it: hex, upper case, no separators.
    pub fn atr(&self) -> &str {
        &self.atr
    }

    /// The reader it is in.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// The slot it is in.
    pub fn slot(&self) -> u8 {
        self.slot
    }

    /// Takes the card out (stops vicc) and waits until pcscd reports the reader empty
    /// and its reader poll has counted the removal (the event count moved).
    ///
    /// The count matters after a vicc crash (vicc 0.8 dies on some APDUs, e.g. SELECT
    /// with P2=00): the failing SCardTransmit marks the reader empty before pcscd's poll
    /// (every 400 ms) has seen the card go, and a card inserted before that poll would
    /// never be reported.
    pub fn remove(mut self) {
        let mut child = self.child.take().expect("a card being removed has its vicc");
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!(
                "pcsc testkit: the vicc of '{}' had exited by itself ({status}); {}",
                self.reader,
                tail(&self.log)
            );
        }
        stop(&mut child, false);
        let inserted = self.events;
        self.wait("the reader to be empty, its removal counted", move |state, _, events| {
            state.contains(State::EMPTY) && events != inserted
        });
    }

    /// Until `until(state, atr, event count)` holds for the reader (or panics), checking
    /// between slices of waiting that vicc, when it should run, still does.
    fn wait(&mut self, what: &str, until: impl Fn(State, &[u8], u32) -> bool) -> (State, Vec<u8>, u32) {
        let pcscd = self.pcscd;
        let ctx = pcscd.ctx.as_ref().expect("a context once started");
        let limit = timeout();
        let deadline = Instant::now() + limit;
        let mut rs = [ReaderState::new(CString::new(self.reader.as_str()).expect("reader name"), State::UNAWARE)];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ctx.get_status_change(left.min(SLICE), &mut rs) {
                Ok(()) => {
                    let (state, atr, events) = (rs[0].event_state(), rs[0].atr(), rs[0].event_count());
                    if until(state, atr, events) {
                        return (state, atr.to_vec(), events);
                    }
                    rs[0].sync_current_state();
                }
                Err(::pcsc::Error::Timeout) => {}
                Err(e) => panic!("PC/SC on '{}' while waiting for {what}: {e}\n{}", self.reader, tail(&pcscd.log)),
            }
            if let Some(child) = &mut self.child {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("vicc exited ({status}) while waiting for {what} in '{}'\n{}", self.reader, tail(&self.log));
                }
            }
            if left.is_zero() {
                let (state, atr, events) = (rs[0].event_state(), rs[0].atr().to_vec(), rs[0].event_count());
                panic!(
                    "waiting for {what} in '{}': not within {limit:?} (last: {state:?}, ATR {atr:02X?}, event count {events})\n{}\n{}",
                    self.reader,
                    tail(&self.log),
                    tail(&pcscd.log)
                );
            }
        }
    }
}

impl Drop for VirtualCard<'_> {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop(&mut child, false);
        }
    }
}
