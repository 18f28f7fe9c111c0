//! Limits that cannot lock a chosen account: tries counted per identity *and* client
//! with a looser identity-wide cap, the portal's MST count only after a correct captcha,
//! failed proofs per account (cleared by a success), password mails per account per
//! day. Clients are told apart as behind a proxy: the test's own connection is the
//! trusted proxy (127.0.0.1) and says which client it forwards. Each test has its own
//! server, data dir and SMTP sink.

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
async fn all_clients_together_meet_a_looser_cap() {
    let srv = server(|l| {
        l.per_username = 3;
        l.per_username_total = 7;
    })
    .await;
    let mut ok = 0;
    for client in 1..=4 {
        for _ in 0..3 {
            if challenge_from(&srv, &format!("198.51.100.{client}"), USER).await.0 == 200 {
                ok += 1;
            }
        }
    }
    assert_eq!(ok, 7, "three clients' worth and one more, then the identity-wide cap");
    // Another username is not touched by it.
    assert_eq!(challenge_from(&srv, "198.51.100.9", "khac01").await.0, 200);
}

#[tokio::test]
async fn the_portal_counts_an_mst_only_after_a_correct_captcha() {
    let srv = server(|l| l.per_username = 2).await;
    // Wrong answers cost the sender a captcha each, and the MST nothing.
    for _ in 0..5 {
        let (id, answer) = srv.captcha().await;
        let wrong: String = answer.chars().rev().chain("x".chars()).collect();
        let (status, body) = srv.post("/v1/portal/recover", json!({"mst": MST, "email": EMAIL, "captcha_id": id, "captcha_answer": wrong})).await;
        assert_eq!((status, code(&body)), (400, "CAPTCHA_INCORRECT"), "{body}");
    }
    let (status, body) = srv.portal(MST, EMAIL).await;
    assert_eq!(status, 200, "{body}");
}

/// A complete for `user` with a junk signature (a failed proof).
async fn junk_proof(srv: &TestServer, user: &str) -> (u16, Value) {
    let token = SoftToken::load("rsa-valid");
    let ch = srv.challenge(user, Purpose::PasswordRecovery).await;
    srv.complete_raw(&token, user, Purpose::PasswordRecovery, &ch, &[1; 256], token.alg).await
}

#[tokio::test]
async fn failed_proofs_per_account_are_bounded_and_a_success_clears_them() {
    let srv = server(|l| {
        l.failed_proofs_per_account = 3;
        l.failed_proofs_window_secs = 3600;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(code(&junk_proof(&srv, USER).await.1), "SIGNATURE_INVALID");
    }
    // A success clears the count: three more failures are taken.
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    for _ in 0..3 {
        assert_eq!(code(&junk_proof(&srv, USER).await.1), "SIGNATURE_INVALID");
    }
    // Then even a good proof waits for the window: no more verifications for this account.
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    assert_eq!(body["retry_after"], 3600);
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert!(lines[0].detail.as_deref().unwrap_or_default().contains("3 failed proofs"), "{lines:?}");
    // Never a hard lock: the window passes.
    srv.clock.shift(3601);
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
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
