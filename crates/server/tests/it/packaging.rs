//! The backend as a Debian package (`scripts/package-server.sh`, packaging/server/): it
//! builds, installs, its service starts under the unit's settings and answers its
//! probes, and a purge leaves nothing behind.
//!
//! systemd is not PID 1 in this container and `systemd-run` needs a running systemd, so
//! the unit's sandbox is not enforced here: the unit is checked by `systemd-analyze
//! verify` and scored by `systemd-analyze security --offline=yes`, and the service is
//! started as the unit's `ExecStart` with its `User`, `Group` and `Environment`, no new
//! privileges and no capability (`setpriv`). A machine with systemd runs it with
//! `systemctl start bhxh-server` (the postinst does).
//!
//! Shared state: this test installs into the machine itself (dpkg's database,
//! /usr/bin/bhxh-server, /etc/bhxh, /var/lib/bhxh, the `bhxh` user). It is the only test
//! that does, it refuses to run over an installed bhxh-server, and it purges the package
//! when it ends, failed or not.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Purges the package when the test ends, however it ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "bhxh-server"]).output();
    }
}

fn mode_owner(path: &str) -> (u32, String) {
    use std::os::unix::fs::PermissionsExt;
    let m = std::fs::metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let owner = run(Command::new("stat").args(["-c", "%U:%G", path])).1.trim().to_string();
    (m.permissions().mode() & 0o7777, owner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_package_installs_serves_under_its_unit_and_purges_cleanly() {
    assert_eq!(run(Command::new("id").arg("-u")).1.trim(), "0", "installing a package needs root (CI runs as root)");
    let (installed, _) = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "bhxh-server"]));
    assert!(!installed, "a bhxh-server package is installed on this machine: this test would replace it");
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("deb");
    let (ok, said) = run(Command::new("bash").arg(bhxh_testkit::root().join("scripts/package-server.sh")).args([
        "--binary",
        env!("CARGO_BIN_EXE_bhxh-server"),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(ok, "{said}");
    let deb = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let (_, contents) = run(Command::new("dpkg-deb").arg("--contents").arg(&deb));
    for path in [
        "./usr/bin/bhxh-server",
        "./lib/systemd/system/bhxh-server.service",
        "./etc/bhxh/bhxh-server.toml",
        "./usr/share/doc/bhxh-server/examples/nginx-bhxh.conf",
        "./usr/share/doc/bhxh-server/examples/prometheus-alerts.yml",
    ] {
        assert!(contents.contains(path), "{path} not in the package:\n{contents}");
    }

    let _guard = Installed;
    let (ok, said) = run(Command::new("dpkg").arg("-i").arg(&deb));
    assert!(ok, "dpkg -i: {said}");
    assert!(run(Command::new("getent").args(["passwd", "bhxh"])).0, "its own user");
    assert_eq!(mode_owner("/var/lib/bhxh"), (0o700, "bhxh:bhxh".into()));
    assert_eq!(mode_owner("/etc/bhxh/bhxh-server.toml"), (0o640, "root:bhxh".into()));
    let unit = "/lib/systemd/system/bhxh-server.service";
    let (ok, said) = run(Command::new("systemd-analyze").args(["verify", unit]));
    assert!(ok, "systemd-analyze verify: {said}");
    let (_, said) = run(Command::new("systemd-analyze").args(["security", "--offline=yes", unit]));
    let score: f64 = said
        .lines()
        .find_map(|l| l.split("exposure level for bhxh-server.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level:\n{said}"));
    eprintln!("systemd-analyze security exposure: {score}");
    assert!(score <= 2.0, "the unit is exposed ({score}):\n{said}");

    // The unit's ExecStart as its user, with its environment, no privilege.
    let (public, staff) = (free_port(), free_port());
    let log = work.path().join("server.log");
    let mut server = Command::new("setpriv")
        .args(["--reuid=bhxh", "--regid=bhxh", "--clear-groups", "--no-new-privs", "--bounding-set=-all"])
        .args(["--inh-caps=-all", "env", "-i"])
        .arg("BHXH_CONFIG=/etc/bhxh/bhxh-server.toml")
        .arg("BHXH_DATA_DIR=/var/lib/bhxh")
        .arg("BHXH_LOG=info,sqlx=warn")
        .arg("BHXH_LOG_FORMAT=json")
        .arg(format!("BHXH_LISTEN=127.0.0.1:{public}"))
        .arg(format!("BHXH_STAFF_LISTEN=127.0.0.1:{staff}"))
        .args(["/usr/bin/bhxh-server", "serve"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let ready = loop {
        if let Some(status) = server.try_wait().unwrap() {
            panic!("the service ended ({status}):\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        }
        if let Ok(r) = http.get(format!("http://127.0.0.1:{public}/v1/health/ready")).send().await {
            break r;
        }
        assert!(Instant::now() < deadline, "no answer in 90 s:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let ready_status = ready.status().as_u16();
    let body: serde_json::Value = ready.json().await.unwrap();
    let live = http.get(format!("http://127.0.0.1:{public}/v1/health/live")).send().await.unwrap().status();
    let metrics = http.get(format!("http://127.0.0.1:{staff}/metrics")).send().await.unwrap().status();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!((ready_status, &body["database"]), (200, &serde_json::json!(true)), "{body}");
    assert_eq!((live.as_u16(), metrics.as_u16()), (200, 200));
    // Its data, its own: the database and the outbox key 0600, owned by bhxh.
    assert_eq!(mode_owner("/var/lib/bhxh/bhxh.db"), (0o600, "bhxh:bhxh".into()));
    assert_eq!(mode_owner("/var/lib/bhxh/outbox.key"), (0o600, "bhxh:bhxh".into()));
    // The journal gets one JSON object a line.
    let text = std::fs::read_to_string(&log).unwrap();
    let first = text.lines().next().unwrap_or_else(|| panic!("no log line"));
    let line: serde_json::Value = serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert!(line["level"].is_string() && line["fields"].is_object(), "{line}");

    let (ok, said) = run(Command::new("dpkg").args(["--purge", "bhxh-server"]));
    assert!(ok, "dpkg --purge: {said}");
    for gone in ["/usr/bin/bhxh-server", unit, "/etc/bhxh", "/var/lib/bhxh"] {
        assert!(!std::path::Path::new(gone).exists(), "{gone} is left after the purge");
    }
    assert!(!run(Command::new("getent").args(["passwd", "bhxh"])).0, "the user is gone");
    assert!(!run(Command::new("dpkg-query").args(["-W", "bhxh-server"])).0, "dpkg no longer knows it");
}
