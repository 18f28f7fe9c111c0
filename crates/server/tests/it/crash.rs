//! The server killed with SIGKILL in the middle of resets, many times over: the
//! database never holds half a reset.
//!
//! How the crash is produced: the real `bhxh-server` binary runs as a child process;
//! four client tasks keep challenge → sign → complete going against it; after a random
//! 50–600 ms the test sends SIGKILL (`Child::kill`), so the process dies wherever it is
//! (parsing, hashing, inside the SQLite transaction, writing an .eml file). The test
//! then opens the database and checks that every reset is whole: a consumed challenge,
//! its audit line, its mail and the account's temporary password all exist
//! together or not at all. Then it restarts the server on the same files and repeats.

use std::time::Duration;

use crate::common::*;
use bhxh_server::store::Store;
use rand::Rng;
use sqlx::Row;

const ACCOUNTS: usize = 12;

/// Rounds of SIGKILL: `BHXH_BENCH_KILL_ROUNDS` (scripts/bench-faults.sh) or the default.
fn rounds(default: usize) -> usize {
    std::env::var("BHXH_BENCH_KILL_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn check_no_half_reset(db_url: &str) -> (i64, i64) {
    let store = Store::open(db_url).await.unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(db_url).await.unwrap();
    if db_url.starts_with("sqlite:") {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
        assert_eq!(integrity, "ok");
    }
    let scalar = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(sql).fetch_one(&pool).await.unwrap().get::<i64, _>(0) }
    };
    let won = scalar("SELECT count(*) FROM challenges WHERE outcome = 'ok'").await;
    let audited = scalar("SELECT count(*) FROM audit WHERE event = 'complete' AND outcome = 'ok'").await;
    let reset_mails = scalar("SELECT count(*) FROM outbox WHERE kind = 'reset'").await;
    let notices = scalar("SELECT count(*) FROM outbox WHERE kind = 'notice-reset'").await;
    assert_eq!(won, audited, "a consumed challenge without its audit line (or the reverse)");
    assert_eq!(won, reset_mails, "a reset without its mail (or the reverse)");
    assert_eq!(notices, 0, "a mailed password is its own notice");
    // Every account's current temporary password belongs to a whole reset.
    let orphans = scalar(
        "SELECT count(*) FROM accounts a WHERE a.temp_reference IS NOT NULL AND (
           NOT EXISTS (SELECT 1 FROM audit WHERE reference = a.temp_reference AND event = 'complete' AND outcome = 'ok')
           OR NOT EXISTS (SELECT 1 FROM outbox WHERE reference = a.temp_reference AND kind = 'reset'))",
    )
    .await;
    assert_eq!(orphans, 0, "an account holds a temporary password of no whole reset");
    let with_temp = scalar("SELECT count(*) FROM accounts WHERE temp_password_hash IS NOT NULL").await;
    let no_ref =
        scalar("SELECT count(*) FROM accounts WHERE (temp_password_hash IS NULL) <> (temp_reference IS NULL)").await;
    assert_eq!(no_ref, 0);
    // A delivered mail never keeps its secret; a pending reset mail always has it.
    let bad_secret = scalar(
        "SELECT count(*) FROM outbox WHERE (status = 'sent' AND secret IS NOT NULL)
           OR (status = 'pending' AND kind = 'reset' AND secret IS NULL)",
    )
    .await;
    assert_eq!(bad_secret, 0);
    pool.close().await;
    store.close().await;
    (won, with_temp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_resets_never_leaves_half_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("data").join("bhxh.db").display());
    sigkill_rounds(&dir, &db_url, rounds(25)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_resets_on_postgres_never_leaves_half_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    sigkill_rounds(&dir, &postgres_database(), rounds(8)).await;
}

async fn sigkill_rounds(dir: &tempfile::TempDir, db_url: &str, rounds: usize) {
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\nstaff_listen = \"\"\ndata_dir = {:?}\ndatabase_url = {db_url:?}\ntrust_anchors = {:?}\ntrust_intermediates = {:?}\ncrl_file = {:?}\n\
             [limits]\nper_client = 1000000\nper_username = 1000000\nper_username_total = 1000000\nreset_mails_per_day = 1000000\n[outbox]\npoll_ms = 50\nclaim_lease_secs = 2\ndelivery_timeout_secs = 1\n\
             [revocation]\nocsp = false\nfetch_crls = false\n",
            data,
            fixture("trust.pem"),
            fixture("intermediates.pem"),
            fixture("crl.pem")
        ),
    )
    .unwrap();
    {
        let store = Store::open(db_url).await.unwrap();
        let clock = bhxh_server::Clock::system();
        for i in 0..ACCOUNTS {
            bhxh_server::admin::account_add(
                &store,
                &clock,
                &format!("user{i:02}"),
                MST,
                &format!("u{i}@congty.vn"),
                None,
            )
            .await
            .unwrap();
        }
        store.close().await;
    }
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap();
    let token = std::sync::Arc::new(SoftToken::load("rsa-valid"));
    let mut total_ok = 0usize;
    for round in 0..rounds {
        let mut child = ServerProcess::start(&config);
        wait_healthy(&http, &base).await;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut workers = Vec::new();
        for w in 0..4 {
            let (http, base, token, stop) = (http.clone(), base.clone(), token.clone(), stop.clone());
            workers.push(tokio::spawn(async move {
                let mut ok = 0usize;
                let mut i = w;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 4;
                    let user = format!("user{:02}", i % ACCOUNTS);
                    if let Ok(Some(_)) = one_reset(&http, &base, &token, &user).await {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let delay = rand::thread_rng().gen_range(50..600);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for w in workers {
            total_ok += w.await.unwrap();
        }
        let (won, _) = check_no_half_reset(db_url).await;
        assert!(won as usize >= total_ok, "round {round}: a reset answered 200 was lost ({won} < {total_ok})");
    }
    assert!(total_ok > 0, "no reset went through at all; the test proved nothing");

    // After the last crash the server comes back and delivers everything still queued.
    let mut child = ServerProcess::start(&config);
    wait_healthy(&http, &base).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let store = Store::open(db_url).await.unwrap();
        let pending = store.list_mail(1_000_000).await.unwrap().iter().filter(|m| m.status == "pending").count();
        store.close().await;
        if pending == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{pending} mails still pending after restart");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (won, _) = check_no_half_reset(db_url).await;
    eprintln!(
        "crash test ({}): {rounds} SIGKILLs, {won} whole resets committed, {total_ok} answered 200, 0 half resets",
        db_url.split(':').next().unwrap_or("?")
    );
}
