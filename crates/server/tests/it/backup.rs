//! Backups that restore: `bhxh-server backup` (the real binary) while the server takes
//! recoveries, then `bhxh-server restore` into a new data folder (and, for PostgreSQL, a
//! new database), and a new server there delivers the mail that was waiting — its
//! passwords sealed with the restored outbox key — and the accounts, the audit and the
//! passwords are the backup's. The first server's relay is a port nothing listens on, so
//! every reset's mail waits. Each test has its own folders, database and ports.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;
use bhxh_server::store::{MailKind, MailStatus, Store};

fn server_cli(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bhxh-server"));
    cmd.args(args).env_remove("BHXH_CONFIG").env("BHXH_DATA_DIR", data_dir).env("BHXH_LOG", "warn");
    if let Some(url) = database_url {
        cmd.env("BHXH_DATABASE_URL", url);
    }
    let out = cmd.output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Accounts enrolled and recovered one after another, from before the backup starts
/// until it has ended (so the server writes all through it); once `before` mails wait,
/// the backup is taken into `dir`. Returns its words and how many accounts were made.
async fn backup_under_load(srv: &TestServer, before: usize, dir: &Path, url: Option<&str>) -> (String, usize) {
    let token = SoftToken::load("rsa-valid");
    let done = std::sync::atomic::AtomicBool::new(false);
    let load = async {
        let mut n = 0;
        while n < before || !done.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(n < 100, "the backup never ended");
            let u = format!("ketoan{n:02}");
            srv.enrol(&u, MST, &format!("{u}@congty.vn")).await;
            assert_eq!(srv.recover(&token, &u).await.0, 200, "{u}");
            n += 1;
        }
        n
    };
    let backup = async {
        let deadline = Instant::now() + Duration::from_secs(120);
        while srv.store.list_mail(1000).await.unwrap().len() < before {
            assert!(Instant::now() < deadline, "the load never reached {before} mails");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (data_dir, dir, url) = (srv.data.path().join("server"), dir.to_path_buf(), url.map(str::to_string));
        let said = tokio::task::spawn_blocking(move || {
            server_cli(&data_dir, url.as_deref(), &["backup", dir.to_str().unwrap()])
        })
        .await
        .unwrap();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        said
    };
    let (made, (ok, out)) = tokio::join!(load, backup);
    assert!(ok, "backup: {out}");
    (out, made)
}

/// The copy is the database at one instant: every account holding a temporary
/// password has its mail waiting, sealed, and no mail is there without its password.
/// Returns the accounts that hold one.
async fn consistent(copy: &Store) -> Vec<(String, String)> {
    let mails = copy.list_mail(10_000).await.unwrap();
    let mut holders = Vec::new();
    for m in &mails {
        assert_eq!((m.kind, m.status), (MailKind::Reset, MailStatus::Pending), "{m:?}");
        assert!(m.secret.is_some(), "the password is sealed in the mail");
    }
    for i in 0..100 {
        let Some(a) = copy.account_by_username(&format!("ketoan{i:02}")).await.unwrap() else { break };
        let mailed = mails.iter().any(|m| m.account_id == Some(a.id));
        assert_eq!(a.temp_password_hash.is_some(), mailed, "{}: password and mail together", a.username);
        if mailed {
            holders.push((a.username.clone(), a.email.clone()));
        }
    }
    holders
}

/// A new server on the restored data delivers the waiting mails; each password logs in.
async fn delivered_after_restore(srv: &TestServer, holders: &[(String, String)]) {
    for (user, email) in holders {
        let mail = srv.smtp().wait_for(email, "Mật khẩu tạm thời").await;
        let (status, body) = srv.login(user, &password_in(&mail)).await;
        assert_eq!((status, body["must_change_password"].as_bool()), (200, Some(true)), "{user}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_backup_taken_under_load_restores_and_its_waiting_mail_is_delivered() {
    let relay_down = free_port();
    let srv = TestServer::start_with(|c| c.smtp_url = format!("smtp://127.0.0.1:{relay_down}")).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("backup");
    let (said, made) = backup_under_load(&srv, 3, &dir, None).await;
    assert!(said.contains("engine: Sqlite") && said.contains("outbox key: outbox.key"), "{said}");
    #[cfg(unix)]
    for f in ["bhxh.db", "outbox.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    let copy = Store::open(&format!("sqlite://{}", dir.join("bhxh.db").display())).await.unwrap();
    let holders = consistent(&copy).await;
    let audit = copy.backup_counts().await.unwrap().audit;
    copy.close().await;
    assert!(holders.len() >= 3, "taken with at least three mails waiting: {holders:?}");
    assert!(holders.len() <= made, "{} in the copy, {made} made", holders.len());
    eprintln!("sqlite backup: {} of {made} recoveries in the copy", holders.len());
    drop(srv);

    // Restored into a new data folder; a second restore onto it is refused.
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("server");
    let (ok, out) = server_cli(&data_dir, None, &["restore", dir.to_str().unwrap()]);
    assert!(ok, "restore: {out}");
    assert!(out.contains(&format!("{} mails waiting", holders.len())), "{out}");
    let (ok, out) = server_cli(&data_dir, None, &["restore", dir.to_str().unwrap()]);
    assert!(!ok && out.contains("--replace"), "{out}");
    let smtp = SmtpSink::start(&data.path().join("received"), 0);
    let restored = TestServer::start_config(test_config(&data_dir, Some(smtp.port)), data, Some(smtp)).await;
    assert_eq!(restored.store.backup_counts().await.unwrap().audit, audit, "the audit is the backup's");
    delivered_after_restore(&restored, &holders).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_taken_under_load_restores_into_another_database() {
    let relay_down = free_port();
    let url = postgres_database();
    let for_server = url.clone();
    let srv = TestServer::start_with(move |c| {
        c.database_url = for_server;
        c.smtp_url = format!("smtp://127.0.0.1:{relay_down}");
    })
    .await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("backup");
    let (said, made) = backup_under_load(&srv, 2, &dir, Some(&url)).await;
    assert!(said.contains("engine: Postgres") && dir.join("bhxh.pgdump").exists(), "{said}");
    drop(srv);

    let other = postgres_database();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("server");
    let (ok, out) = server_cli(&data_dir, Some(&other), &["restore", dir.to_str().unwrap()]);
    assert!(ok, "restore: {out}");
    let store = Store::open(&other).await.unwrap();
    let holders = consistent(&store).await;
    store.close().await;
    assert!(holders.len() >= 2 && holders.len() <= made, "{holders:?} of {made}");
    eprintln!("postgres backup: {} of {made} recoveries in the copy", holders.len());
    // Onto a database with accounts, only with --replace.
    let (ok, out) = server_cli(&data_dir, Some(&other), &["restore", dir.to_str().unwrap()]);
    assert!(!ok && out.contains("--replace"), "{out}");
    let smtp = SmtpSink::start(&data.path().join("received"), 0);
    let mut config = test_config(&data_dir, Some(smtp.port));
    config.database_url = other;
    let restored = TestServer::start_config(config, data, Some(smtp)).await;
    delivered_after_restore(&restored, &holders).await;
}
