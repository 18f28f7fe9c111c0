//! The support staff's commands, run as the real binary against a real database.
//! Staff never see or set a password: no command takes one, none prints one.

use std::process::Command;

use crate::common::*;

fn cli(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bhxh-server"))
        .args(args)
        .env("BHXH_DATA_DIR", data)
        .env("BHXH_LOG", "warn")
        .env_remove("BHXH_CONFIG")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_commands_work_and_never_show_a_password() {
    let data = tempfile::tempdir().unwrap();
    let server_dir = data.path().join("server");
    let d = server_dir.as_path();

    let (ok, out, err) =
        cli(d, &["account", "add", "--username", "KeToan01", "--mst", MST, "--email", "ketoan@congty.vn"]);
    assert!(ok, "{err}");
    assert!(out.contains("ketoan01") && out.contains("RC-"), "{out}");
    let (ok, _, err) = cli(d, &["account", "add", "--username", "ketoan01", "--mst", MST, "--email", "x@congty.vn"]);
    assert!(!ok && err.contains("ACCOUNT_EXISTS"), "{err}");
    let (ok, _, err) = cli(d, &["account", "add", "--username", "x", "--mst", "123", "--email", "x@congty.vn"]);
    assert!(!ok && err.contains("INVALID_MST") && err.contains("Mã số thuế không hợp lệ"), "{err}");
    let pem = fixture("other-mst.cert.pem");
    let (ok, _, err) = cli(
        d,
        &["account", "add", "--username", "y", "--mst", MST, "--email", "y@congty.vn", "--cert", pem.to_str().unwrap()],
    );
    assert!(!ok && err.contains("does not carry"), "a certificate of another MST is not pinned: {err}");
    let pem = fixture("rsa-valid.cert.pem");
    let (ok, out, err) = cli(
        d,
        &[
            "account",
            "add",
            "--username",
            "pinned",
            "--mst",
            MST,
            "--email",
            "p@congty.vn",
            "--cert",
            pem.to_str().unwrap(),
        ],
    );
    assert!(ok && out.contains("pinned certificate"), "{out}{err}");

    // A reset through the server on the same data dir, with a real SMTP server.
    let smtp = SmtpSink::start(&data.path().join("received"), 0);
    let config = test_config(d, Some(smtp.port));
    let srv = TestServer::start_config(config, tempfile::tempdir().unwrap(), Some(smtp)).await;
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), "ketoan01").await;
    assert_eq!(status, 200);
    let reference = body["reference"].as_str().unwrap().to_string();
    let mail = srv.smtp().wait_for("ketoan@congty.vn", "Mật khẩu tạm thời").await;
    let temp = password_in(&mail);
    let (status, _) = srv.login("ketoan01", "Sai-mat-khau-1").await;
    assert_eq!(status, 401);

    let mut outputs = String::new();
    let (ok, out, err) = cli(d, &["account", "show", "ketoan01"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("ketoan@congty.vn") && out.contains("chưa dùng / unused") && out.contains("INVALID_CREDENTIALS"),
        "{out}"
    );
    outputs += &out;
    let (ok, out, _) = cli(d, &["audit", "show", &reference.to_lowercase().replace('-', " ")]);
    assert!(ok && out.contains("complete") && out.contains(&reference), "{out}");
    outputs += &out;
    let (ok, out, _) = cli(d, &["audit", "list", "--username", "KETOAN01"]);
    assert!(ok && out.lines().count() >= 3, "{out}");
    outputs += &out;
    let (ok, out, _) = cli(d, &["outbox", "list"]);
    assert!(ok && out.contains("reset") && out.contains("sent"), "{out}");
    outputs += &out;
    let (ok, _, err) = cli(d, &["outbox", "retry", "1"]);
    assert!(!ok && err.contains("no pending mail"), "a delivered mail is not re-queued: {err}");
    let (ok, out, _) = cli(d, &["account", "unlock", "ketoan01"]);
    assert!(ok && out.contains("Limits cleared"), "{out}");
    outputs += &out;
    let (ok, _, err) = cli(d, &["account", "show", "nobody"]);
    assert!(!ok && err.contains("ACCOUNT_NOT_FOUND"));
    // Disable: a reason is required; the temporary password stops working; enable.
    let (ok, _, err) = cli(d, &["account", "disable", "ketoan01"]);
    assert!(!ok && err.contains("--reason"), "{err}");
    let (ok, out, err) = cli(d, &["account", "disable", "ketoan01", "--reason", "kế toán đã nghỉ việc"]);
    assert!(ok && out.contains("Disabled: ketoan01") && out.contains("RC-"), "{out}{err}");
    outputs += &out;
    let (ok, out, _) = cli(d, &["account", "disable", "ketoan01", "--reason", "again"]);
    assert!(ok && out.contains("Already disabled"), "{out}");
    let (ok, out, _) = cli(d, &["account", "show", "ketoan01"]);
    assert!(ok && out.contains("Disabled") && out.contains("kế toán đã nghỉ việc") && out.contains("none"), "{out}");
    assert_eq!(code(&srv.login("ketoan01", &temp).await.1), "INVALID_CREDENTIALS");
    let (ok, out, _) = cli(d, &["account", "enable", "ketoan01"]);
    assert!(ok && out.contains("Enabled: ketoan01"), "{out}");
    let (ok, _, err) = cli(d, &["account", "disable", "nobody", "--reason", "x"]);
    assert!(!ok && err.contains("ACCOUNT_NOT_FOUND"), "{err}");

    assert!(!outputs.contains(&temp), "a staff command showed the temporary password");
    assert!(!outputs.contains("$argon2"), "a staff command showed a hash");
    // No command takes a password at all.
    let (_, out, _) = cli(d, &["account", "add", "--help"]);
    assert!(out.contains("--username") && !out.to_lowercase().contains("--password"), "{out}");
}

fn cli_stdin(data: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bhxh-server"))
        .args(args)
        .env("BHXH_DATA_DIR", data)
        .env("BHXH_LOG", "warn")
        .env_remove("BHXH_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_members_are_managed_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let add = ["staff", "add", "--username", "hotro.an", "--name", "Nguyễn Văn An"];
    let (ok, _, err) = cli_stdin(d, &add, "ngan\n");
    assert!(!ok && err.contains("PASSWORD_POLICY"), "a weak console password is refused: {err}");
    let (ok, _, err) = cli_stdin(d, &add, "");
    assert!(!ok && err.contains("no password"), "{err}");
    let (ok, out, err) = cli_stdin(d, &add, "Ban-ho-tro-2026!\n");
    assert!(ok, "{err}");
    assert!(out.contains("hotro.an") && out.contains("RC-"), "{out}");
    let (ok, _, err) = cli_stdin(d, &add, "Ban-ho-tro-2026!\n");
    assert!(!ok && err.contains("ACCOUNT_EXISTS"), "{err}");
    let (ok, out, _) = cli(d, &["staff", "list"]);
    assert!(ok && out.contains("hotro.an\tNguyễn Văn An\tagent") && out.contains("active"), "{out}");
    // Roles: a supervisor at once, or an agent made one later; nothing else is a role.
    let (ok, out, err) = cli_stdin(
        d,
        &["staff", "add", "--username", "giamsat", "--name", "Trần Thị Bình", "--role", "supervisor"],
        "Ban-giam-sat-2026!\n",
    );
    assert!(ok && out.contains("supervisor"), "{err}");
    let (ok, _, err) =
        cli_stdin(d, &["staff", "add", "--username", "sep", "--name", "X", "--role", "boss"], "Ban-giam-sat-2026!\n");
    assert!(!ok && err.contains("agent hoặc supervisor"), "{err}");
    let (ok, out, err) = cli(d, &["staff", "role", "hotro.an", "supervisor"]);
    assert!(ok && out.contains("RC-"), "{err}");
    let (_, out, _) = cli(d, &["staff", "list"]);
    assert!(
        out.contains("hotro.an\tNguyễn Văn An\tsupervisor") && out.contains("giamsat\tTrần Thị Bình\tsupervisor"),
        "{out}"
    );
    assert!(cli(d, &["staff", "role", "hotro.an", "agent"]).0);
    assert!(!out.contains("$argon2") && !out.contains("Ban-ho-tro"), "{out}");
    let (ok, out, _) = cli(d, &["staff", "disable", "hotro.an"]);
    assert!(ok && out.contains("disabled"), "{out}");
    let (_, out, _) = cli(d, &["staff", "list"]);
    assert!(out.contains("disabled"), "{out}");
    let (ok, out, err) = cli_stdin(d, &["staff", "password", "hotro.an"], "Mat-khau-moi-2026!\n");
    assert!(ok && out.contains("Password set"), "{err}");
    let (_, out, _) = cli(d, &["staff", "list"]);
    assert!(out.contains("active"), "setting a password enables the member again: {out}");
    let (ok, _, err) = cli(d, &["staff", "disable", "nobody"]);
    assert!(!ok && err.contains("ACCOUNT_NOT_FOUND"), "{err}");
}
