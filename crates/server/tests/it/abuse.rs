//! Limits that bind the attacker, never the owner: tries counted per identity *and*
//! client (the identity-wide count refuses no one), wrong passwords and failed proofs
//! counted only when they fail and only against the client that made them, a proof of
//! ownership ending the owner's own windows, the portal's MST count only after a correct
//! captcha, password mails per account per day. Clients are told apart as behind a proxy: the test's own connection is the
//! trusted proxy (127.0.0.1) and says which client it forwards. Each test has its own
//! server, data dir and SMTP sink.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bhxh_protocol::Purpose;
use serde_json::{json, Value};

use crate::common::*;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

async fn server(adjust: impl FnOnce(&mut bhxh_server::config::Limits)) -> TestServer {
    let srv = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        adjust(&mut c.limits);
    })
    .await;
    srv.enrol(USER, MST, EMAIL).await;
    srv
}

/// A challenge for `user` from the client `from`.
async fn challenge_from(srv: &TestServer, from: &str, user: &str) -> (u16, Value) {
    let resp = srv
        .http
        .post(format!("{}/v1/recovery/challenge", srv.base))
        .header("x-forwarded-for", from)
        .json(&json!({"username": user, "purpose": Purpose::PasswordRecovery.as_str()}))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn one_client_flooding_a_username_does_not_lock_its_owner_out() {
    let srv = server(|l| {
        l.per_username = 3;
        l.per_username_total = 100;
    })
    .await;
    for i in 0..10 {
        let (status, body) = challenge_from(&srv, "198.51.100.66", USER).await;
        assert_eq!(status, if i < 3 { 200 } else { 429 }, "try {i}: {body}");
    }
    // The owner, from their own office, is not affected.
    let (status, body) = challenge_from(&srv, "203.0.113.10", USER).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn many_clients_together_do_not_lock_the_owner_out() {
    let srv = server(|l| {
        l.per_username = 3;
        l.per_username_total = 7;
    })
    .await;
    // Ten clients (IPv4 addresses and IPv6 /64s) each spend their own tries on the
    // username, well past the identity-wide mark; each is refused only past its own.
    let clients: Vec<String> =
        (1..=5).map(|i| format!("198.51.100.{i}")).chain((1..=5).map(|i| format!("2001:db8:{i}::66"))).collect();
    for from in &clients {
        for i in 0..4 {
            let (status, body) = challenge_from(&srv, from, USER).await;
            assert_eq!(status, if i < 3 { 200 } else { 429 }, "{from} try {i}: {body}");
        }
    }
    // 30 challenges were handed out, over four times the mark: the owner still gets one.
    let (status, body) = challenge_from(&srv, "203.0.113.10", USER).await;
    assert_eq!(status, 200, "the owner is never refused for other people's tries: {body}");
}

#[tokio::test]
async fn the_portal_counts_an_mst_only_after_a_correct_captcha() {
    let srv = server(|l| l.per_username = 2).await;
    // Wrong answers cost the sender a captcha each, and the MST nothing.
    for _ in 0..5 {
        let (id, answer) = srv.captcha().await;
        let wrong: String = answer.chars().rev().chain("x".chars()).collect();
        let (status, body) = srv
            .post("/v1/portal/recover", json!({"mst": MST, "email": EMAIL, "captcha_id": id, "captcha_answer": wrong}))
            .await;
        assert_eq!((status, code(&body)), (400, "CAPTCHA_INCORRECT"), "{body}");
    }
    let (status, body) = srv.portal(MST, EMAIL).await;
    assert_eq!(status, 200, "{body}");
}

/// A complete for `user` from the client `from`: the real certificate with a junk
/// signature, or no certificate at all (failed proofs of the account).
async fn junk_proof_from(srv: &TestServer, from: &str, user: &str, empty_certificate: bool) -> (u16, Value) {
    let token = SoftToken::load("rsa-valid");
    let (status, ch) = challenge_from(srv, from, user).await;
    assert_eq!(status, 200, "{ch}");
    let certificate = if empty_certificate { String::new() } else { STANDARD.encode(&token.cert_der) };
    let body = json!({
        "challenge_id": ch["challenge_id"], "username": user, "purpose": Purpose::PasswordRecovery.as_str(),
        "certificate": certificate, "algorithm": token.alg, "signature": STANDARD.encode([1u8; 256]),
    });
    let resp = srv
        .http
        .post(format!("{}/v1/recovery/complete", srv.base))
        .header("x-forwarded-for", from)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn failed_proofs_bind_the_client_that_made_them_never_the_owner() {
    let srv = server(|l| {
        l.failed_proofs_per_client = 3;
        l.failed_proofs_per_account = 5;
        l.failed_proofs_window_secs = 3600;
        l.per_username = 1000;
    })
    .await;
    // One client's junk proofs: three are verified and fail, then that client is refused
    // before anything is verified, told for how long, in words and in Retry-After.
    for i in 0..3 {
        assert_eq!(
            code(&junk_proof_from(&srv, "198.51.100.66", USER, i % 2 == 0).await.1),
            if i % 2 == 0 { "CERT_MALFORMED" } else { "SIGNATURE_INVALID" }
        );
    }
    let (status, body) = junk_proof_from(&srv, "198.51.100.66", USER, false).await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    let wait = body["retry_after"].as_u64().unwrap();
    assert!((3590..=3600).contains(&wait), "{body}");
    assert_eq!(body["message"], "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau 1 giờ.");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert!(detail_en(&lines[0].detail).contains("3 failed proofs from this client"), "{lines:?}");
    // Twenty more clients fail twice each: 43 failed proofs, far past the account's mark.
    for c in 1..=20 {
        for _ in 0..2 {
            let from = if c % 2 == 0 { format!("198.51.100.{c}") } else { format!("2001:db8:{c:x}::1") };
            let expected = if c % 3 == 0 { "CERT_MALFORMED" } else { "SIGNATURE_INVALID" };
            assert_eq!(code(&junk_proof_from(&srv, &from, USER, c % 3 == 0).await.1), expected, "{from}");
        }
    }
    let account_wide =
        srv.store.limit_count(&bhxh_server::context::failed_proofs_key(USER), 3600, srv.clock.now()).await.unwrap();
    assert_eq!(account_wide, 43, "every real failure is counted for the desk");
    // The owner's token still proves the account, at once, from the owner's client.
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "a valid proof is never refused for other people's failures: {body}");
    // It ends the owner's own windows only: the flooder stays refused, and the
    // account-wide mark of the attack stays for the desk.
    assert_eq!(code(&junk_proof_from(&srv, "198.51.100.66", USER, false).await.1), "RATE_LIMITED");
    assert_eq!(
        srv.store.limit_count(&bhxh_server::context::failed_proofs_key(USER), 3600, srv.clock.now()).await.unwrap(),
        43
    );
    // Never a hard lock either: a refused client's window passes.
    for _ in 0..3 {
        junk_proof_from(&srv, "198.51.100.77", USER, false).await;
    }
    assert_eq!(code(&junk_proof_from(&srv, "198.51.100.77", USER, false).await.1), "RATE_LIMITED");
    srv.clock.shift(3601);
    assert_eq!(code(&junk_proof_from(&srv, "198.51.100.77", USER, false).await.1), "SIGNATURE_INVALID");
}

async fn login_from(srv: &TestServer, from: &str, user: &str, password: &str) -> (u16, Value, Option<String>) {
    let resp = srv
        .http
        .post(format!("{}/v1/auth/login", srv.base))
        .header("x-forwarded-for", from)
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), resp.json().await.unwrap(), retry_after)
}

#[tokio::test]
async fn wrong_passwords_refuse_the_clients_that_sent_them_never_the_right_one() {
    let srv = server(|l| {
        l.per_username = 3;
        l.per_username_total = 5;
        l.per_username_window_secs = 900;
    })
    .await;
    srv.set_password(USER, "Dung-Mat-Khau-2026").await;
    for c in 1..=6 {
        let from = if c % 2 == 0 { format!("198.51.100.{c}") } else { format!("2001:db8:{c:x}::1") };
        for i in 0..4 {
            let (status, body, retry_after) = login_from(&srv, &from, USER, &format!("Sai-{c}-{i}")).await;
            if i < 3 {
                assert_eq!((status, code(&body)), (401, "INVALID_CREDENTIALS"), "{from} {i}: {body}");
            } else {
                assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{from} {i}: {body}");
                let wait: u64 = retry_after.expect("Retry-After").parse().unwrap();
                assert!((880..=900).contains(&wait), "{wait}");
                assert_eq!(body["message"], "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau 15 phút.");
            }
        }
    }
    // Eighteen wrong passwords, over three times the mark: the owner's right one, from
    // the owner's office, logs in.
    let (status, body, _) = login_from(&srv, "203.0.113.10", USER, "Dung-Mat-Khau-2026").await;
    assert_eq!(status, 200, "{body}");
    // Only wrong passwords count: the owner logs in again and again.
    for _ in 0..5 {
        assert_eq!(login_from(&srv, "203.0.113.10", USER, "Dung-Mat-Khau-2026").await.0, 200);
    }
    // A right password ends its own client's window of wrong ones.
    for i in 0..2 {
        assert_eq!(login_from(&srv, "203.0.113.10", USER, &format!("Go-nham-{i}")).await.0, 401);
    }
    assert_eq!(login_from(&srv, "203.0.113.10", USER, "Dung-Mat-Khau-2026").await.0, 200);
    for i in 0..3 {
        assert_eq!(login_from(&srv, "203.0.113.10", USER, &format!("Lai-go-nham-{i}")).await.0, 401, "try {i}");
    }
}

#[tokio::test]
async fn a_token_recovery_ends_the_owners_own_windows_so_the_mailed_password_logs_in() {
    let srv = server(|l| l.per_username = 3).await;
    srv.set_password(USER, "Mat-Khau-Cu-2025").await;
    // She forgot it: three wrong passwords, and the fourth try is refused.
    for i in 0..3 {
        assert_eq!(srv.login(USER, &format!("Quen-roi-{i}")).await.0, 401);
    }
    let (status, body) = srv.login(USER, "Quen-roi-3").await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    // She proves with the token, from the same computer.
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    let temp = password_in(&srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await);
    let (status, body) = srv.login(USER, &temp).await;
    assert_eq!(status, 200, "the emailed password logs in at once: {body}");
    assert_eq!(body["must_change_password"], true);
    // The day's count of password mails is not a window of tries: it stays.
    let mails = srv
        .store
        .limit_count(&format!("{}mails", bhxh_server::context::user_limit_prefix(USER)), 86400, srv.clock.now())
        .await
        .unwrap();
    assert_eq!(mails, 1);
}

#[tokio::test]
async fn a_username_that_cannot_be_one_is_never_a_limit_key_or_audited_whole() {
    let srv = server(|_| {}).await;
    let huge = "a".repeat(60 * 1024);
    let (status, body) = srv.login(&huge, "Bat-ky").await;
    assert_eq!((status, code(&body)), (401, "INVALID_CREDENTIALS"), "{body}");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert_eq!(lines[0].username, None, "{lines:?}");
    assert_eq!(lines[0].detail, Some(Detail::NotAUsername { bytes: 61440 }));
    let token = SoftToken::load("rsa-valid");
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let (status, body) = srv.complete(&token, &huge, Purpose::PasswordRecovery, &ch).await;
    assert_eq!((status, code(&body)), (400, "INVALID_USERNAME"), "{body}");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert_eq!((lines[0].username.as_deref(), &lines[0].detail), (None, &Some(Detail::NotAUsername { bytes: 61440 })));
    let keys = srv.store.limits_with_prefix("", 0).await.unwrap();
    assert!(keys.iter().all(|(k, _, _)| k.len() < 300), "{:?}", keys.iter().map(|k| k.0.len()).collect::<Vec<_>>());
    // The challenge is still whole: the real user completes it.
    assert_eq!(srv.complete(&token, USER, Purpose::PasswordRecovery, &ch).await.0, 200);
}

#[tokio::test]
async fn password_mails_per_account_are_capped_per_day() {
    let srv = server(|l| l.reset_mails_per_day = 2).await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(srv.recover(&token, USER).await.0, 200);
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200, "the portal's mails count too");
    let (status, body) = srv.recover(&token, USER).await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    let (status, body) = srv.portal(MST, EMAIL).await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    srv.clock.shift(24 * 3600 + 1);
    assert_eq!(srv.recover(&token, USER).await.0, 200);
}

/// The owner's three journeys from the owner's own client (203.0.113.10): a login with
/// the right password, an email change by token, a token recovery. Each step retried on
/// `SERVER_BUSY` after its `Retry-After`, as a person presses again; the time of each.
/// `http` is the owner's own client (its own connections).
async fn owner_journeys(http: &reqwest::Client, base: &str, password: &str) -> Vec<f64> {
    let owner = "203.0.113.10";
    let token = SoftToken::load("rsa-valid");
    let post = |path: &'static str, body: Value| async move {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let resp =
                http.post(format!("{base}{path}")).header("x-forwarded-for", owner).json(&body).send().await.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            if status == 503 && code(&body) == "SERVER_BUSY" && std::time::Instant::now() < deadline {
                tokio::time::sleep(std::time::Duration::from_secs(body["retry_after"].as_u64().unwrap_or(1))).await;
                continue;
            }
            return (status, body);
        }
    };
    let mut took = Vec::new();
    let started = std::time::Instant::now();
    let (status, body) = post("/v1/auth/login", json!({"username": USER, "password": password})).await;
    assert_eq!(status, 200, "the owner's login: {body}");
    took.push(started.elapsed().as_secs_f64() * 1000.0);

    let started = std::time::Instant::now();
    let new_email = "ketoan.moi@congty.vn";
    let (status, ch) = post(
        "/v1/recovery/challenge",
        json!({"username": USER, "purpose": Purpose::EmailChange.as_str(), "new_email": new_email}),
    )
    .await;
    assert_eq!(status, 200, "the owner's email-change challenge: {ch}");
    let data = bhxh_protocol::signed_data(
        Purpose::EmailChange,
        ch["origin"].as_str().unwrap(),
        USER,
        ch["nonce"].as_str().unwrap(),
        Some(new_email),
    );
    let body = json!({"challenge_id": ch["challenge_id"], "username": USER, "purpose": Purpose::EmailChange.as_str(),
        "certificate": STANDARD.encode(&token.cert_der), "algorithm": token.alg, "signature": STANDARD.encode(token.sign(&data))});
    let (status, body) = post("/v1/recovery/complete", body).await;
    assert_eq!(status, 200, "the owner's email change: {body}");
    took.push(started.elapsed().as_secs_f64() * 1000.0);

    let started = std::time::Instant::now();
    let (status, ch) =
        post("/v1/recovery/challenge", json!({"username": USER, "purpose": Purpose::PasswordRecovery.as_str()})).await;
    assert_eq!(status, 200, "the owner's recovery challenge: {ch}");
    let data = bhxh_protocol::to_be_signed(
        Purpose::PasswordRecovery,
        ch["origin"].as_str().unwrap(),
        USER,
        ch["nonce"].as_str().unwrap(),
    );
    let body = json!({"challenge_id": ch["challenge_id"], "username": USER, "purpose": Purpose::PasswordRecovery.as_str(),
        "certificate": STANDARD.encode(&token.cert_der), "algorithm": token.alg, "signature": STANDARD.encode(token.sign(&data))});
    let (status, body) = post("/v1/recovery/complete", body).await;
    assert_eq!(status, 200, "the owner's recovery: {body}");
    took.push(started.elapsed().as_secs_f64() * 1000.0);
    took
}

/// One flooding client: every kind of try on the owner's username, through its whole
/// budget and past it, through `http` (the attackers' connections). Returns how many
/// answers were refusals of its own limits.
async fn flood_from(http: &reqwest::Client, base: &str, from: String) -> usize {
    let mut refused = 0;
    let send = |path: &'static str, body: Value| {
        let from = from.clone();
        async move {
            let resp =
                http.post(format!("{base}{path}")).header("x-forwarded-for", from).json(&body).send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let mut challenges = Vec::new();
    for _ in 0..12 {
        let (status, body) =
            send("/v1/recovery/challenge", json!({"username": USER, "purpose": Purpose::PasswordRecovery.as_str()}))
                .await;
        match status {
            200 => challenges.push(body),
            429 => refused += 1,
            _ => panic!("{from}: {body}"),
        }
    }
    let cert = STANDARD.encode(&SoftToken::load("rsa-valid").cert_der);
    for (i, ch) in challenges.iter().enumerate() {
        // Half with no certificate at all, half with the real one and a junk signature.
        let certificate = if i % 2 == 0 { String::new() } else { cert.clone() };
        let (status, body) = send("/v1/recovery/complete", json!({"challenge_id": ch["challenge_id"], "username": USER,
            "purpose": Purpose::PasswordRecovery.as_str(), "certificate": certificate, "algorithm": "RS256", "signature": STANDARD.encode([7u8; 256])})).await;
        assert!(
            matches!(code(&body), "CERT_MALFORMED" | "SIGNATURE_INVALID" | "RATE_LIMITED"),
            "{from}: {status} {body}"
        );
        refused += usize::from(status == 429);
    }
    // Wrong passwords past this client's budget (4 in this test); a try the server was
    // too busy to hash is sent again, as an attacker would (it counts for nothing).
    let mut logins_refused = 0;
    for i in 0..6 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let (status, body) =
                send("/v1/auth/login", json!({"username": USER, "password": format!("Doan-bua-{i}")})).await;
            match code(&body) {
                "SERVER_BUSY" if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
                "INVALID_CREDENTIALS" => {}
                "RATE_LIMITED" => logins_refused += 1,
                _ => panic!("{from}: {status} {body}"),
            }
            break;
        }
    }
    assert_eq!(logins_refused, 2, "{from}: 4 wrong passwords, then its own refusals");
    refused + logins_refused
}

/// 50 clients (IPv4 addresses and IPv6 /64s) flood one username with challenges, empty
/// certificates, junk signatures and wrong passwords through a whole window and past
/// their budgets; the owner's login, email change and token recovery succeed meanwhile.
/// The owner's times with and without the flood are printed (tests assert behaviour,
/// not timings; scripts and the closing note keep the figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_flooding_one_username_hold_the_owner_back_from_nothing() {
    let srv = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        // 4 wrong passwords per client: 50 clients' tries at production's argon2 cost
        // fit a busy 2-core machine (it is the limits that are tested, not the hash).
        (c.limits.per_username, c.limits.per_username_total) = (4, 100);
        (c.limits.failed_proofs_per_client, c.limits.failed_proofs_per_account) = (10, 100);
        // The owner asks up to 35 times in the test; the attackers never reach this budget.
        (c.email_change.per_account_per_day, c.email_change.per_mst_per_day) = (100, 100);
    })
    .await;
    srv.enrol(USER, MST, EMAIL).await;
    let password = "Dung-Mat-Khau-2026";
    srv.set_password(USER, password).await;
    // The owner's client stands for the owner's own computer: a thread and connections of
    // its own, never the server's runtime nor a connection the attackers' threads drive.
    let owner = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("owner")
        .enable_all()
        .build()
        .unwrap();
    let owner_http = http_client();
    let journeys = || {
        let (http, base) = (owner_http.clone(), srv.base.clone());
        owner.spawn(async move { owner_journeys(&http, &base, password).await })
    };
    let mut quiet = Vec::new();
    for _ in 0..5 {
        quiet.extend(journeys().await.unwrap());
    }
    let clients: Vec<String> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                format!("198.51.{}.{}", 100 + i / 250, i % 250 + 1)
            } else {
                format!("2001:db8:{i:x}::7")
            }
        })
        .collect();
    // The flooding clients stand for other computers: they run on threads of their own
    // at nice 10, so that on this one 2-core machine their own work (building and reading
    // 1,500 requests) does not take the CPU from the server as it would not in the field.
    let attackers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("attacker")
        .enable_all()
        .on_thread_start(|| {
            let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10);
        })
        .build()
        .unwrap();
    let attackers_http = http_client();
    let cpu_before = cpu_by_thread();
    let flood_started = std::time::Instant::now();
    let flood: Vec<_> = clients
        .into_iter()
        .map(|from| {
            let (http, base) = (attackers_http.clone(), srv.base.clone());
            attackers.spawn(async move { flood_from(&http, &base, from).await })
        })
        .collect();
    // The owner goes on through the whole flood (at least three rounds, at most 30).
    let mut during = Vec::new();
    for round in 0..30 {
        during.extend(journeys().await.unwrap());
        if round >= 2 && flood.iter().all(|f| f.is_finished()) {
            break;
        }
    }
    let mut refused = 0;
    for f in flood {
        refused += f.await.unwrap();
    }
    let flood_took = flood_started.elapsed().as_secs_f64();
    let cpu_after = cpu_by_thread();
    attackers.shutdown_background();
    owner.shutdown_background();
    assert!(refused >= 50 * 4, "every flooding client met its own limits: {refused} refusals");
    // Every journey's time: the first ones under the flood meet its opening burst.
    println!("owner's journeys, ms: quiet {quiet:.0?}, under the flood {during:.0?}");
    println!("the owner went {} times through the flood", during.len() / 3);
    let p95 = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[((v.len() - 1) as f64 * 0.95).round() as usize]
    };
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    println!(
        "owner's journeys (login, email change, recovery), ms: p95 {:.0} quiet, {:.0} under the flood of 50 clients ({refused} refusals of theirs); the slowest {:.0} quiet, {:.0} under the flood",
        p95(&quiet),
        p95(&during),
        max(&quiet),
        max(&during)
    );
    // Where the CPU went while the owner went through the flood, by thread.
    let spent: Vec<String> = cpu_after
        .iter()
        .map(|(name, s)| (name, s - cpu_before.get(name).copied().unwrap_or(0.0)))
        .filter(|(_, s)| *s >= 0.05)
        .map(|(name, s)| format!("{name} {s:.1} s"))
        .collect();
    println!("CPU in the {flood_took:.1} s of the flood, by thread: {}", spent.join(", "));
    // Each journey alone (the vectors go login, email change, recovery, in turn).
    let kind = |v: &[f64], k: usize| v.iter().skip(k).step_by(3).copied().collect::<Vec<_>>();
    for (k, name) in ["login", "email change", "recovery"].iter().enumerate() {
        println!("  {name}: p95 {:.0} quiet, {:.0} under the flood", p95(&kind(&quiet, k)), p95(&kind(&during, k)));
    }
    // Every try was counted against the client that made it: the account-wide marks were
    // passed, and the desk can see it.
    // The owner's client is known to the account (its logins were hashed ahead of the
    // flood's); no flooding client is.
    let known = srv.store.limits_with_prefix(&format!("known:{USER}:"), 0).await.unwrap();
    assert_eq!(known.iter().map(|(k, _, _)| k.as_str()).collect::<Vec<_>>(), [format!("known:{USER}:203.0.113.10")]);
    let marks = srv.store.limits_with_prefix(&bhxh_server::context::user_limit_prefix(USER), 0).await.unwrap();
    assert!(
        marks.iter().any(|(k, n, _)| k.ends_with(":login:failed") && !k.contains("client:") && *n > 100),
        "{marks:?}"
    );
}

/// CPU seconds spent so far by this process's threads, summed by thread name (digits
/// dropped: `argon2-0` and `argon2-1` are one line), from `/proc/self/task`.
fn cpu_by_thread() -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        // pid (comm) state … utime stime: the 14th and 15th fields, counted after the ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let name: String = stat[open + 1..close].chars().filter(|c| !c.is_ascii_digit()).collect();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        *by_name.entry(name.trim_end_matches('-').to_string()).or_insert(0.0) += ticks / 100.0;
    }
    by_name
}

/// When more passwords wait to be hashed than the server takes (a burst past
/// `argon2.max_queued`), the surplus is answered `SERVER_BUSY` over HTTP: 503, a
/// `Retry-After` header and the same figure in the body, in Vietnamese; nothing is
/// counted against the account for it, and the owner who presses again once the burst
/// is over logs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_past_the_hash_queue_is_server_busy_with_retry_after_and_the_owner_gets_in_after() {
    let srv = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        // The production cost (tens of ms a hash here), one waiting hash per lane.
        c.argon2 = bhxh_server::config::Argon2Config { max_queued: 1, ..Default::default() };
    })
    .await;
    srv.enrol(USER, MST, EMAIL).await;
    srv.set_password(USER, "Dung-Mat-Khau-2026").await;
    // Bursts of 24 wrong passwords from 24 addresses at once, until one is refused busy
    // (the first burst is, unless the machine serialises the requests by itself).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    // Each burst from addresses of its own: an address refused three times takes turns
    // with the others that were (crate::standing), and could no longer burst.
    let mut bursts = 0;
    let busy = loop {
        let mut burst = tokio::task::JoinSet::new();
        bursts += 1;
        for i in 0..24 {
            let (http, base) = (srv.http.clone(), srv.base.clone());
            let from = format!("198.51.{bursts}.{}", 100 + i);
            burst.spawn(async move {
                let resp = http
                    .post(format!("{base}/v1/auth/login"))
                    .header("x-forwarded-for", &from)
                    .json(&json!({"username": USER, "password": format!("Sai-{i}")}))
                    .send()
                    .await
                    .unwrap();
                let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
                (resp.status().as_u16(), resp.json::<Value>().await.unwrap(), retry_after, from)
            });
        }
        let answers = burst.join_all().await;
        for (status, body, _, _) in &answers {
            assert!(
                (*status == 401 && code(body) == "INVALID_CREDENTIALS")
                    || (*status == 503 && code(body) == "SERVER_BUSY"),
                "{status} {body}"
            );
        }
        if let Some(b) = answers.into_iter().find(|(s, _, _, _)| *s == 503) {
            break b;
        }
        assert!(std::time::Instant::now() < deadline, "no burst ever filled the queue");
    };
    let (_, body, retry_after, from) = busy;
    // The busy answer was given before any of the try's work: not even the client's own
    // count of logins was written for it (its one request was never made, as far as the
    // limits go).
    let counted = srv.store.limits_with_prefix(&format!("client:{from}:"), 0).await.unwrap();
    assert!(counted.is_empty(), "{from} was answered busy, yet counted: {counted:?}");
    assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
    assert_eq!(body["retry_after"], 1);
    assert!(body["reference"].as_str().is_some_and(|r| !r.is_empty()), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.chars().any(|c| "ảạấầẫậắằẳặđêếềểễệ".contains(c)), "in Vietnamese: {message}");
    // After the wait it says, the owner's right password logs in (busy answers were no
    // failed tries of hers).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, body, _) = login_from(&srv, "203.0.113.10", USER, "Dung-Mat-Khau-2026").await;
        if status == 200 {
            break;
        }
        // A "try again" (hashes queued, or a database saturated by a loaded machine), as
        // a person presses again; never a refusal of her password.
        assert!(matches!(code(&body), "SERVER_BUSY" | "SERVICE_UNAVAILABLE"), "{body}");
        assert!(std::time::Instant::now() < deadline, "the owner never got in");
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
