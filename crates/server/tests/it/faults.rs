//! Faults: an account support disabled, rows past their lifetime, a second server with
//! another outbox key, PostgreSQL stopped mid-run, slow and idle connections, and the
//! server killed between a mail's delivery and its mark.
//!
//! Isolation: each test has its own data dir, database (a SQLite file, or a PostgreSQL
//! cluster of its own for the outage), ports and SMTP sink or scripted relay; the
//! processes it starts are killed on drop.

use std::time::{Duration, Instant};

use bhxh_protocol::Purpose;
use bhxh_server::store::{AuditEntry, AuditEvent, Outcome, Store};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::common::*;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

async fn audit_detail(store: &Store, reference: &str) -> String {
    let lines = store.audit_by_reference(reference).await.unwrap();
    lines.iter().map(|l| detail_en(&l.detail)).filter(|d| !d.is_empty()).collect::<Vec<_>>().join("; ")
}

/// A disabled account gets the answer an unknown one gets on every public path (the
/// audit says why), and what it had — a session, a temporary password, a pending
/// activation link — stops working; enabled again, it recovers as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_is_answered_like_an_unknown_one_on_every_path() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    let token = SoftToken::load("rsa-valid");
    // Before: a temporary password, a session made with it, then a portal link waiting.
    assert_eq!(srv.recover(&token, USER).await.0, 200);
    let temp = password_in(&srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await);
    let (status, login) = srv.login(USER, &temp).await;
    assert_eq!(status, 200, "{login}");
    let session = login["session_token"].as_str().unwrap().to_string();
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let (portal_password, link) = portal_secrets_in(&srv.smtp().wait_for(EMAIL, "kích hoạt").await);
    let clock = bhxh_server::Clock::system();
    let out = bhxh_server::admin::account_set_disabled(&srv.store, &clock, USER, Some("nhân viên đã nghỉ việc"))
        .await
        .unwrap();
    assert!(out.contains("Đã vô hiệu hóa / Disabled"), "{out}");

    // Login: the same code as an unknown username, with either password.
    let (unknown_status, unknown) = srv.login("khongco01", &temp).await;
    for password in [temp.as_str(), portal_password.as_str()] {
        let (status, body) = srv.login(USER, password).await;
        assert_eq!((status, code(&body)), (unknown_status, code(&unknown)), "{body}");
        assert_eq!(audit_detail(&srv.store, body["reference"].as_str().unwrap()).await, "account disabled");
    }
    // The session made before: refused like a made-up one.
    let change = json!({"current_password": temp, "new_password": "Mua-thu-2026!"});
    let (status, body) = srv.post_auth("/v1/auth/change-password", &session, change.clone()).await;
    let (made_up_status, made_up) = srv.post_auth("/v1/auth/change-password", "khong-phai-phien", change).await;
    assert_eq!((status, code(&body)), (made_up_status, code(&made_up)));
    assert_eq!(code(&body), "SESSION_INVALID");
    // The token: refused as for a username of no account (the token is valid and bound).
    let (status, body) = srv.recover(&token, USER).await;
    let (ghost_status, ghost) = srv.recover(&token, "khongco01").await;
    assert_eq!((status, code(&body)), (ghost_status, code(&ghost)), "{body}");
    assert_eq!(code(&body), "CERT_NOT_BOUND");
    assert!(audit_detail(&srv.store, body["reference"].as_str().unwrap()).await.contains("account disabled"));
    // The forgotten username: not listed.
    let ch = srv.challenge("", Purpose::UsernameLookup).await;
    let (status, body) = srv.complete(&token, "", Purpose::UsernameLookup, &ch).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["usernames"].as_array().unwrap().iter().any(|u| u == USER), "{body}");
    // The portal: the registered email answers like a wrong one.
    let (status, body) = srv.portal(MST, EMAIL).await;
    let (wrong_status, wrong) = srv.portal(MST, "nguoi-khac@congty.vn").await;
    assert_eq!((status, code(&body)), (wrong_status, code(&wrong)));
    assert_eq!(code(&body), "PORTAL_EMAIL_MISMATCH");
    assert!(audit_detail(&srv.store, body["reference"].as_str().unwrap()).await.contains("account disabled: ketoan01"));
    // The link waiting since before does not activate.
    let token_param = link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let resp = srv
        .http
        .post(format!("{}/portal/activate", srv.base))
        .form(&[("t", token_param.as_str())])
        .send()
        .await
        .unwrap();
    let page = resp.text().await.unwrap();
    assert!(!page.contains("data-testid=\"activated\""), "{page}");
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    assert!(account.temp_password_hash.is_none() && account.temp_reference.is_none());
    assert!(srv.store.pending_activation(account.id, clock.now()).await.unwrap().is_none());
    // Support sees why.
    let shown = bhxh_server::admin::account_show(&srv.store, &clock, USER).await.unwrap();
    assert!(shown.contains("nhân viên đã nghỉ việc"), "{shown}");

    // Enabled again: the token recovers a password as before; the old ones stay dead.
    bhxh_server::admin::account_set_disabled(&srv.store, &clock, USER, None).await.unwrap();
    assert_eq!(code(&srv.login(USER, &temp).await.1), "INVALID_CREDENTIALS");
    let (status, body) = srv.recover(&token, USER).await;
    assert_eq!(status, 200, "{body}");
}

async fn purge_keeps_what_matters(url: &str) {
    let store = Store::open(url).await.unwrap();
    let now = 2_000_000_000i64;
    let day = 86_400;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    store.insert_account(USER, MST, EMAIL, None, now - 1000 * day).await.unwrap();
    let account: i64 = sqlx::query_scalar("SELECT id FROM accounts").fetch_one(&pool).await.unwrap();
    for (at, event) in [(now - 731 * day, "login"), (now - 729 * day, "login"), (now - day, "complete")] {
        let mut e = AuditEntry::new(
            bhxh_protocol::Reference::new().to_string(),
            at,
            AuditEvent::parse(event).unwrap(),
            Outcome::Ok,
            Actor::User,
        );
        e.username = Some(USER.into());
        store.audit(&e).await.unwrap();
    }
    for (i, (created, status)) in
        [(now - 91 * day, "sent"), (now - 91 * day, "failed"), (now - 89 * day, "sent"), (now - day, "pending")]
            .iter()
            .enumerate()
    {
        sqlx::query(
            "INSERT INTO outbox (message_id, account_id, kind, recipient, subject, body, reference, status, next_attempt_ms, created_at)
             VALUES ($1, $2, 'notice-reset', $3, 's', 'b', 'RC-TEST', $4, 0, $5)",
        )
        .bind(format!("m{i}@test"))
        .bind(account)
        .bind(EMAIL)
        .bind(*status)
        .bind(*created)
        .execute(&pool)
        .await
        .unwrap();
    }
    for (hash, expires) in [("old", now - 1), ("live", now + 3600)] {
        sqlx::query("INSERT INTO sessions (token_hash, account_id, must_change, created_at, expires_at) VALUES ($1, $2, 0, $3, $4)")
            .bind(hash)
            .bind(account)
            .bind(now - 7200)
            .bind(expires)
            .execute(&pool)
            .await
            .unwrap();
    }
    // A client known to an account is kept a month after it was last seen, not a day.
    for (key, start) in [
        ("old-window", now - 2 * day),
        ("live-window", now - 60),
        ("known:ketoan01:203.0.113.10", now - 2 * day),
        ("known:ketoan01:198.51.100.7", now - 31 * day),
    ] {
        sqlx::query("INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)")
            .bind(key)
            .bind(start)
            .execute(&pool)
            .await
            .unwrap();
    }
    let counts = store.purge(now, &bhxh_server::config::RetentionConfig::default()).await.unwrap();
    let gone = |table: &str| counts.iter().find(|(t, _)| *t == table).map(|(_, n)| *n).unwrap();
    assert_eq!(
        (
            gone("audit"),
            gone("outbox"),
            gone("sessions"),
            gone("rate_limits"),
            gone("known_clients"),
            gone("outbox_stale")
        ),
        (1, 2, 1, 1, 1, 0),
        "{counts:?}"
    );
    let left = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(left("SELECT count(*) FROM audit").await, 2, "audit lines younger than two years stay");
    assert_eq!(left("SELECT count(*) FROM outbox WHERE status = 'pending'").await, 1, "a waiting mail stays");
    assert_eq!(left("SELECT count(*) FROM sessions WHERE token_hash = 'live'").await, 1);
    assert_eq!(left("SELECT count(*) FROM rate_limits WHERE key = 'live-window'").await, 1);
    assert_eq!(
        left("SELECT count(*) FROM rate_limits WHERE key LIKE 'known:%'").await,
        1,
        "the client seen two days ago is still known; the one seen a month ago is forgotten"
    );
    // Nothing left to do a second time.
    let again = store.purge(now, &bhxh_server::config::RetentionConfig::default()).await.unwrap();
    assert!(again.iter().all(|(_, n)| *n == 0), "{again:?}");
    pool.close().await;
    store.close().await;
}

/// Rows past their lifetime are deleted, on both engines; what is still needed stays.
#[tokio::test]
async fn the_purge_removes_rows_past_their_lifetime_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    purge_keeps_what_matters(&format!("sqlite://{}/p.db", dir.path().display())).await;
    purge_keeps_what_matters(&postgres_database()).await;
}

/// A second server on the database with an outbox key of its own would leave mails that
/// nobody can open: it refuses to start and says what to do. A mail sealed with another
/// key is left alone (a server with that key delivers it); `outbox adopt-key` gives
/// such mails up when that key is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_another_outbox_key_refuses_to_start_and_leaves_foreign_mail_alone() {
    let srv = TestServer::start().await;
    let db = format!("sqlite://{}", srv.data.path().join("server/bhxh.db").display());
    let other = tempfile::tempdir().unwrap();
    let mut config = test_config(other.path(), None);
    config.database_url = db.clone();
    let err = bhxh_server::Application::build(config).await.expect_err("a second key must be refused");
    let msg = format!("{err:#}");
    assert!(msg.contains("is not the database's") && msg.contains("Copy outbox.key"), "{msg}");

    // A mail sealed with a key this server does not have (written by a server that had it).
    srv.enrol(USER, MST, EMAIL).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db).await.unwrap();
    sqlx::query(
        "INSERT INTO outbox (message_id, kind, recipient, subject, body, secret, key_id, reference, status, next_attempt_ms, created_at)
         VALUES ('foreign@test', 'reset', $1, 's', 'b', $2, 'k1-0000000000000000', 'RC-TEST', 'pending', 0, $3)",
    )
    .bind(EMAIL)
    .bind(vec![1u8; 40])
    .bind(srv.clock.now())
    .execute(&pool)
    .await
    .unwrap();
    // A reset's own mail is delivered past it; it is never tried.
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let foreign = srv.store.list_mail(10).await.unwrap().into_iter().find(|m| m.message_id == "foreign@test").unwrap();
    assert_eq!((foreign.status.as_str(), foreign.attempts, foreign.has_secret()), ("pending", 0, true));
    let key = bhxh_server::mail::OutboxKey::load_or_create(&srv.data.path().join("server")).unwrap();
    assert_eq!(srv.store.foreign_key_mail_count(key.id()).await.unwrap(), 1);

    // The other key is lost for good: the second server's key is adopted, the foreign
    // mail given up and wiped, and that server starts.
    let other_key = bhxh_server::mail::OutboxKey::load_or_create(other.path()).unwrap();
    let out = bhxh_server::admin::outbox_adopt_key(&srv.store, &srv.clock, &other_key).await.unwrap();
    assert!(out.contains(other_key.id()), "{out}");
    let gone = srv.store.list_mail(10).await.unwrap().into_iter().find(|m| m.message_id == "foreign@test").unwrap();
    assert_eq!((gone.status.as_str(), gone.has_secret()), ("failed", false));
    let mut config = test_config(other.path(), None);
    config.database_url = db;
    bhxh_server::Application::build(config).await.expect("the adopted key's server starts");
    pool.close().await;
}

/// PostgreSQL stopped in the middle of resets: every answer meanwhile is a 200 or a
/// `SERVICE_UNAVAILABLE` with `Retry-After`, on every route that needs the database; the
/// database holds no half reset; when it is back the server serves again by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_mid_run_answers_503_and_service_resumes_by_itself() {
    let mut pg = bhxh_testkit::PgCluster::new();
    let url = pg.create_database("outage");
    let for_server = url.clone();
    let srv = TestServer::start_with(move |c| {
        c.database_url = for_server;
        c.database_timeout_secs = 1;
    })
    .await;
    for i in 0..4 {
        srv.enrol(&format!("user{i}"), MST, &format!("user{i}@congty.vn")).await;
    }
    let token = std::sync::Arc::new(SoftToken::load("rsa-valid"));
    // Resets keep going from two clients while the database goes away.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..2 {
        let (http, base, token, stop) = (srv.http.clone(), srv.base.clone(), token.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut i = w;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 2;
                let user = format!("user{}", i % 4);
                let resp = http
                    .post(format!("{base}/v1/recovery/challenge"))
                    .json(&json!({"username": user, "purpose": Purpose::PasswordRecovery.as_str()}))
                    .send()
                    .await
                    .unwrap();
                let (status, retry_after) = (resp.status().as_u16(), resp.headers().get("retry-after").is_some());
                let ch: serde_json::Value = resp.json().await.unwrap();
                if status != 200 {
                    answers.push((status, code(&ch).to_string(), retry_after));
                    continue;
                }
                let ch: bhxh_protocol::wire::ChallengeResponse = serde_json::from_value(ch).unwrap();
                let data = bhxh_protocol::to_be_signed(Purpose::PasswordRecovery, &ch.origin, &user, &ch.nonce);
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD;
                let resp = http
                    .post(format!("{base}/v1/recovery/complete"))
                    .json(&json!({
                        "challenge_id": ch.challenge_id, "username": user, "purpose": Purpose::PasswordRecovery.as_str(),
                        "certificate": b64.encode(&token.cert_der), "algorithm": token.alg, "signature": b64.encode(token.sign(&data)),
                    }))
                    .send()
                    .await
                    .unwrap();
                let retry_after = resp.headers().get("retry-after").is_some();
                let status = resp.status().as_u16();
                let body: serde_json::Value = resp.json().await.unwrap();
                answers.push((status, code(&body).to_string(), retry_after));
            }
            answers
        }));
    }
    let wait_for = |want_ok: bool| {
        let (http, base) = (srv.http.clone(), srv.base.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let r = http.get(format!("{base}/v1/health")).send().await.unwrap();
                if r.status().is_success() == want_ok {
                    return r;
                }
                assert!(Instant::now() < deadline, "health never became {want_ok}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    // Some resets go through first.
    let deadline = Instant::now() + Duration::from_secs(60);
    while srv.store.list_mail(100).await.unwrap().len() < 4 {
        assert!(
            Instant::now() < deadline,
            "no reset went through before the outage: {:?}",
            srv.store.audit_by_username("user1", 5).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.stop();
    let health = wait_for(false).await;
    assert_eq!(health.status().as_u16(), 503);
    assert!(health.headers().get("retry-after").is_some());
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(code(&body), "SERVICE_UNAVAILABLE");
    // Not ready (the database), yet alive: an orchestrator takes it out of rotation and
    // does not restart it for an outage a restart would not mend.
    let ready = srv.http.get(format!("{}/v1/health/ready", srv.base)).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!((&ready["status"], &ready["database"]), (&json!("not_ready"), &json!(false)), "{ready}");
    let live = srv.http.get(format!("{}/v1/health/live", srv.base)).send().await.unwrap();
    assert_eq!(live.status().as_u16(), 200);
    // Every route that needs the database says the same, with Retry-After.
    for (path, body) in [
        ("/v1/auth/login", json!({"username": "user1", "password": "Mua-thu-2026!"})),
        (
            "/v1/portal/recover",
            json!({"mst": MST, "email": "user1@congty.vn", "captcha_id": "x", "captcha_answer": "y"}),
        ),
    ] {
        let resp = srv.http.post(format!("{}{path}", srv.base)).json(&body).send().await.unwrap();
        let status = resp.status().as_u16();
        let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!((status, code(&body), retry.as_deref()), (503, "SERVICE_UNAVAILABLE", Some("5")), "{path}: {body}");
    }
    let captcha = srv.http.get(format!("{}/v1/portal/captcha", srv.base)).send().await.unwrap();
    assert_eq!(captcha.status().as_u16(), 503);
    // Let the load meet the outage for a moment, measured by answers, not time.
    // scripts/bench-faults.sh keeps it down for 30 s.
    let down: f64 = std::env::var("BHXH_BENCH_OUTAGE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(1.5);
    tokio::time::sleep(Duration::from_secs_f64(down)).await;
    pg.start();
    let restarted = Instant::now();
    wait_for(true).await;
    let recovered_in = restarted.elapsed();
    let ready = srv.http.get(format!("{}/v1/health/ready", srv.base)).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200, "ready again once the database is back");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers = Vec::new();
    for l in load {
        answers.extend(l.await.unwrap());
    }
    let unavailable = answers.iter().filter(|(s, _, _)| *s == 503).count();
    assert!(unavailable > 0, "the load never met the outage: {answers:?}");
    for (status, code, retry_after) in &answers {
        assert!(
            *status == 200 || (*status == 503 && code == "SERVICE_UNAVAILABLE" && *retry_after),
            "an answer during the outage was neither a success nor a 503 with Retry-After: {status} {code}"
        );
    }
    // Back by itself: a reset goes through and its mail arrives.
    let (status, body) = srv.recover(&token, "user1").await;
    assert_eq!(status, 200, "{body}");
    // No half reset: every reset answered 200 is whole (audit line, its mail, temp).
    let store = Store::open(&url).await.unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let scalar = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&pool).await.unwrap() }
    };
    let won = scalar("SELECT count(*) FROM audit WHERE event = 'complete' AND outcome = 'ok'").await;
    assert_eq!(won, scalar("SELECT count(*) FROM outbox WHERE kind = 'reset'").await);
    assert_eq!(0, scalar("SELECT count(*) FROM outbox WHERE kind = 'notice-reset'").await, "one mail per reset");
    assert_eq!(won, scalar("SELECT count(*) FROM challenges WHERE outcome = 'ok'").await);
    let ok = answers.iter().filter(|(s, _, _)| *s == 200).count() as i64 + 1;
    assert!(won >= ok, "a reset answered 200 was lost ({won} < {ok})");
    eprintln!(
        "outage: {} answers during the load, {unavailable} were 503 with Retry-After, {ok} resets whole; serving {:.2} s after PostgreSQL accepted connections again",
        answers.len(),
        recovered_in.as_secs_f64()
    );
    pool.close().await;
    store.close().await;
}

fn process_config(dir: &std::path::Path, port: u16, smtp_port: u16, extra: &str) -> std::path::PathBuf {
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\nstaff_listen = \"\"\ndata_dir = {:?}\ntrust_anchors = {:?}\ntrust_intermediates = {:?}\ncrl_file = {:?}\n\
             smtp_url = \"smtp://127.0.0.1:{smtp_port}\"\n{extra}\n[revocation]\nocsp = false\nfetch_crls = false\n",
            dir.join("data"),
            fixture("trust.pem"),
            fixture("intermediates.pem"),
            fixture("crl.pem")
        ),
    )
    .unwrap();
    config
}

async fn enrol_offline(dir: &std::path::Path, users: &[&str]) {
    let store = Store::open(&format!("sqlite://{}", dir.join("data/bhxh.db").display())).await.unwrap();
    let clock = bhxh_server::Clock::system();
    for u in users {
        bhxh_server::admin::account_add(&store, &clock, u, MST, &format!("{u}@congty.vn"), None).await.unwrap();
    }
    store.close().await;
}

/// 500 connections that send half a request head and then nothing (slowloris) do not
/// stop a recovery, and the server closes each once its head is late.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_slow_connections_do_not_stop_a_recovery_and_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sink = SmtpSink::start(&dir.path().join("received"), 0);
    let config = process_config(
        dir.path(),
        port,
        sink.port,
        "[http]\nheader_read_timeout_secs = 3\nmax_connections_per_client = 100000\n[limits]\nper_client = 100000\nper_username = 100000\nper_username_total = 100000\nreset_mails_per_day = 100000\n",
    );
    enrol_offline(dir.path(), &[USER]).await;
    let _server = ServerProcess::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap();
    wait_healthy(&http, &base).await;
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        c.write_all(b"POST /v1/recovery/challenge HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
        slow.push(c);
    }
    let token = SoftToken::load("rsa-valid");
    // scripts/bench-faults.sh asks for more, for a p95.
    let n: usize = std::env::var("BHXH_BENCH_SLOW_RECOVERIES").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let mut took = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let reference = one_reset(&http, &base, &token, USER).await.unwrap();
        assert!(reference.is_some(), "the recovery failed with 500 slow connections open");
        took.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    took.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    // Each slow connection is closed by the server (EOF or reset), none is answered.
    let deadline = Instant::now() + Duration::from_secs(30);
    for mut c in slow {
        let mut buf = [0u8; 256];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {}
            Ok(Ok(n)) => {
                // hyper may answer a late head with 408 before closing; never a 2xx.
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                assert!(!text.starts_with("HTTP/1.1 2"), "a slow connection was served: {text}");
            }
            Err(_) => panic!("a slow connection is still open 30 s later"),
        }
    }
    eprintln!("slowloris: {n} recoveries with 500 slow connections open: p50 {:.1} ms, p95 {:.1} ms", p(0.5), p(0.95));
}

/// A keep-alive connection on which nothing moves is closed after the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let srv = TestServer::start_with(|c| {
        c.limits.request_timeout_secs = 1;
        c.http.idle_timeout_secs = 2;
    })
    .await;
    let port: u16 = srv.base.rsplit(':').next().unwrap().parse().unwrap();
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // Before the request: the idle time starts after the answer, never before this.
    let opened = Instant::now();
    c.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let mut reader = tokio::io::BufReader::new(c);
    let mut status = String::new();
    reader.read_line(&mut status).await.unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let mut rest = Vec::new();
    // The answer's rest, then the close (read returns 0) — within the idle timeout and a margin.
    let closed = tokio::time::timeout(Duration::from_secs(20), reader.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the idle connection was not closed");
    assert!(opened.elapsed() >= Duration::from_millis(1500), "closed before the idle timeout: {:?}", opened.elapsed());
}

/// The server is killed after the relay took a mail's data and before the relay's "250"
/// reached it, so the mail is not marked sent: after the restart it goes again, once,
/// with the same Message-ID (a receiving server drops a duplicate by it), and is
/// then marked sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_send_and_mark_sends_at_most_one_duplicate_with_the_same_message_id() {
    // Every mail whose data ended, by Message-ID; the first one is held without a reply.
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (held_tx, mut held_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let got = received.clone();
    let first = std::sync::atomic::AtomicBool::new(true);
    let (relay_port, serving) = scripted_relay(move |event| match event {
        RelayEvent::EndOfData(id) => {
            got.lock().unwrap().push(id.to_string());
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                let _ = held_tx.send(id.to_string());
                RelayReply::Hold // never answered: the server dies waiting
            } else {
                RelayReply::Send(b"250 2.0.0 queued\r\n")
            }
        }
        RelayEvent::Command(_) => RelayReply::Send(b"250 OK\r\n"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = process_config(
        dir.path(),
        port,
        relay_port,
        "[outbox]\npoll_ms = 50\nclaim_lease_secs = 3\ndelivery_timeout_secs = 2\nconcurrency = 1\n",
    );
    enrol_offline(dir.path(), &[USER]).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap();
    let mut server = ServerProcess::start(&config);
    wait_healthy(&http, &base).await;
    let reference = one_reset(&http, &base, &SoftToken::load("rsa-valid"), USER).await.unwrap();
    assert!(reference.is_some());
    let held =
        tokio::time::timeout(Duration::from_secs(30), held_rx.recv()).await.expect("the relay got a mail").unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let db_url = format!("sqlite://{}", dir.path().join("data/bhxh.db").display());
    {
        let store = Store::open(&db_url).await.unwrap();
        let held_row =
            store.list_mail(10).await.unwrap().into_iter().find(|m| format!("<{}>", m.message_id) == held).unwrap();
        assert_eq!(held_row.status, "pending", "the mail was not marked: the server died first");
        store.close().await;
    }
    let _server = ServerProcess::start(&config);
    wait_healthy(&http, &base).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let store = Store::open(&db_url).await.unwrap();
        let mails = store.list_mail(10).await.unwrap();
        store.close().await;
        if mails.len() == 1 && mails.iter().all(|m| m.status == "sent") {
            break;
        }
        assert!(Instant::now() < deadline, "not delivered after the restart: {mails:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = received.lock().unwrap().clone();
    let copies = |id: &str| got.iter().filter(|m| *m == id).count();
    assert_eq!(copies(&held), 2, "the held mail went exactly twice, under one Message-ID: {got:?}");
    assert!(got.iter().all(|id| copies(id) <= 2), "{got:?}");
    assert_eq!(got.iter().collect::<std::collections::HashSet<_>>().len(), 1, "one mail, no new Message-ID: {got:?}");
    serving.abort();
}

/// Disabling withdraws the account's password mails still waiting (wiped, not counted
/// as dead letters), drops its long-term password, and a reset written after the
/// disable — one that read the account before — writes nothing.
#[tokio::test]
async fn disabling_withdraws_waiting_password_mails_and_a_late_reset_writes_nothing() {
    use bhxh_server::store::{AuditEntry, AuditEvent, Outcome, Store};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/d.db", dir.path().display());
    let store = Store::open(&url).await.unwrap();
    let now = 2_000_000_000i64;
    let id = store.insert_account(USER, MST, EMAIL, None, now).await.unwrap().unwrap();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE accounts SET password_hash = 'x' WHERE id = $1").bind(id).execute(&pool).await.unwrap();
    sqlx::query(
        "INSERT INTO outbox (message_id, account_id, kind, recipient, subject, body, secret, key_id, reference, status, next_attempt_ms, created_at)
         VALUES ('waiting@test', $1, 'reset', $2, 's', 'b', $3, 'k1-test', 'RC-TEST', 'pending', 0, $4)",
    )
    .bind(id)
    .bind(EMAIL)
    .bind(vec![1u8; 40])
    .bind(now)
    .execute(&pool)
    .await
    .unwrap();
    let audit = AuditEntry::new(
        "RC-TEST-0001".into(),
        now,
        AuditEvent::AdminAccountDisable,
        Outcome::Ok,
        Actor::Cli("test".into()),
    );
    assert!(store.set_account_disabled(id, Some("left the company"), now, &audit).await.unwrap());
    let mail = store.mail(1).await.unwrap().unwrap();
    assert_eq!((mail.status.as_str(), mail.has_secret()), ("failed", false), "{mail:?}");
    assert_eq!(store.dead_mail_count(now - 86_400).await.unwrap(), 0, "withdrawn mails are no dead letters");
    let a = store.account_by_username(USER).await.unwrap().unwrap();
    assert!(a.password_hash.is_none() && a.is_disabled());
    // A staff reset that read the account before the disable: nothing is written.
    let late = store.staff_reset(id, "hash", now + 3600, "RC-LATE", now, &[], &audit).await;
    assert!(late.is_err(), "a reset on a disabled account was written");
    let a = store.account_by_username(USER).await.unwrap().unwrap();
    assert!(a.temp_password_hash.is_none() && a.temp_reference.is_none());
    assert_eq!(
        store.audit_by_reference("RC-TEST-0001").await.unwrap().len(),
        1,
        "only the disable's audit line: the reset rolled back"
    );
    pool.close().await;
    store.close().await;
}
