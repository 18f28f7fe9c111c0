//! One test per check of protocol v1 step 4: each shows the rejection with its code,
//! and that a refused attempt leaves no password and no mail behind.

use std::time::Duration;

use crate::common::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bhxh_protocol::{to_be_signed, Algorithm, Purpose};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

async fn server() -> TestServer {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    srv
}

/// Asserts the refusal, its audit line, and that nothing changed.
async fn assert_refused(srv: &TestServer, (status, body): (u16, Value), want_status: u16, want_code: &str) {
    assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    assert!(!body["hint"].as_str().unwrap().is_empty());
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert_eq!(lines.len(), 1, "one audit line per attempt");
    assert_eq!(lines[0].error_code(), Some(want_code));
    assert_eq!(srv.side_effects(USER).await, (0, false), "a refused attempt changed something");
}

async fn refused_with(token: &str, want_status: u16, want_code: &str) {
    let srv = server().await;
    let r = srv.recover(&SoftToken::load(token), USER).await;
    assert_refused(&srv, r, want_status, want_code).await;
}

#[tokio::test]
async fn replayed_challenge() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let (status, _) = srv.complete(&token, USER, Purpose::PasswordRecovery, &ch).await;
    assert_eq!(status, 200);
    let before = srv.side_effects(USER).await;
    let (status, body) = srv.complete(&token, USER, Purpose::PasswordRecovery, &ch).await;
    assert_eq!((status, code(&body)), (400, "CHALLENGE_USED"));
    assert_eq!(srv.side_effects(USER).await, before, "the replay changed something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_completes_exactly_one_wins() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    for _ in 0..10 {
        let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
        let (a, b) = tokio::join!(
            srv.complete(&token, USER, Purpose::PasswordRecovery, &ch),
            srv.complete(&token, USER, Purpose::PasswordRecovery, &ch)
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "{a:?} {b:?}");
        let loser = if a.0 == 400 { &a.1 } else { &b.1 };
        assert_eq!(code(loser), "CHALLENGE_USED");
    }
    let resets = srv.store.list_mail(1000).await.unwrap().iter().filter(|m| m.kind == "reset").count();
    assert_eq!(resets, 10, "one reset mail per won challenge");
}

#[tokio::test]
async fn unknown_challenge() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    let mut ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    ch.challenge_id = "AAAAAAAAAAAAAAAAAAAAAA".into();
    let r = srv.complete(&token, USER, Purpose::PasswordRecovery, &ch).await;
    assert_refused(&srv, r, 400, "CHALLENGE_NOT_FOUND").await;
}

#[tokio::test]
async fn expired_challenge() {
    let srv = server().await;
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    srv.clock.shift(301);
    let r = srv.complete(&SoftToken::load("rsa-valid"), USER, Purpose::PasswordRecovery, &ch).await;
    assert_refused(&srv, r, 400, "CHALLENGE_EXPIRED").await;
}

#[tokio::test]
async fn challenge_for_another_username() {
    let srv = server().await;
    srv.enrol("ketoan02", MST, "k2@congty.vn").await;
    let ch = srv.challenge("ketoan02", Purpose::PasswordRecovery).await;
    let r = srv.complete(&SoftToken::load("rsa-valid"), USER, Purpose::PasswordRecovery, &ch).await;
    assert_refused(&srv, r, 400, "CHALLENGE_MISMATCH").await;
}

#[tokio::test]
async fn challenge_for_another_purpose() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    // A lookup challenge presented as a recovery…
    let ch = srv.challenge("", Purpose::UsernameLookup).await;
    let r = srv.complete(&token, USER, Purpose::PasswordRecovery, &ch).await;
    assert_refused(&srv, r, 400, "CHALLENGE_MISMATCH").await;
    // …and a recovery challenge whose signature was made for the lookup purpose.
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let sig = token.sign(&to_be_signed(Purpose::UsernameLookup, &ch.origin, USER, &ch.nonce));
    let r = srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &sig, Algorithm::RS256).await;
    assert_refused(&srv, r, 403, "SIGNATURE_INVALID").await;
}

#[tokio::test]
async fn signature_for_another_origin() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let sig = token.sign(&to_be_signed(Purpose::PasswordRecovery, "https://phishing.example.vn", USER, &ch.nonce));
    let r = srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &sig, Algorithm::RS256).await;
    assert_refused(&srv, r, 403, "SIGNATURE_INVALID").await;
}

#[tokio::test]
async fn untrusted_ca() {
    refused_with("untrusted", 403, "CERT_UNTRUSTED").await;
}

#[tokio::test]
async fn expired_certificate() {
    refused_with("expired", 403, "CERT_EXPIRED").await;
}

#[tokio::test]
async fn not_yet_valid_certificate() {
    refused_with("not-yet-valid", 403, "CERT_NOT_YET_VALID").await;
}

#[tokio::test]
async fn valid_certificate_seen_from_an_injected_clock() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    srv.clock.shift(2 * 365 * 86_400);
    let r = srv.recover(&token, USER).await;
    assert_refused(&srv, r, 403, "CERT_EXPIRED").await;
    srv.clock.shift(-2 * 365 * 86_400 - 3 * 86_400);
    let r = srv.recover(&token, USER).await;
    assert_refused(&srv, r, 403, "CERT_NOT_YET_VALID").await;
}

#[tokio::test]
async fn revoked_certificate() {
    refused_with("revoked", 403, "CERT_REVOKED").await;
}

#[tokio::test]
async fn stale_crl_fails_closed() {
    let srv = TestServer::start_with(|c| c.crl_file = Some(fixture("expired-crl.pem"))).await;
    srv.enrol(USER, MST, EMAIL).await;
    let r = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_refused(&srv, r, 503, "CERT_REVOCATION_UNKNOWN").await;
}

#[tokio::test]
async fn mst_mismatch() {
    refused_with("other-mst", 403, "CERT_NOT_BOUND").await;
}

#[tokio::test]
async fn unknown_username_at_complete_looks_like_a_mismatch() {
    let srv = server().await;
    let r = srv.recover(&SoftToken::load("rsa-valid"), "khongtontai").await;
    assert_refused(&srv, r, 403, "CERT_NOT_BOUND").await;
}

/// A verified proof refused for the account claimed names the accounts it does reach
/// (the lookup's answer for the same token), never the one claimed; a proof that did
/// not verify, or a refusal for the certificate itself, names none.
#[tokio::test]
async fn a_verified_refusal_names_the_accounts_the_token_proves_and_no_other_refusal_does() {
    let srv = TestServer::start().await;
    srv.enrol("ketoan01", MST, EMAIL).await;
    srv.enrol("ketoan02", MST, EMAIL).await;
    srv.enrol("khac01", "0309999999", "khac@congtykhac.vn").await;
    let token = SoftToken::load("rsa-valid");
    let named = |body: &Value| body["usernames"].clone();
    // A mistyped username, and an account of another business.
    for claimed in ["ketoan03", "khac01"] {
        let (status, body) = srv.recover(&token, claimed).await;
        assert_eq!((status, code(&body)), (403, "CERT_NOT_BOUND"), "{body}");
        assert_eq!(named(&body), json!(["ketoan01", "ketoan02"]), "{claimed}");
    }
    // Another business's token names its own accounts, not the one it claimed.
    let (_, body) = srv.recover(&SoftToken::load("other-mst"), "ketoan01").await;
    assert_eq!((code(&body), named(&body)), ("CERT_NOT_BOUND", json!(["khac01"])));
    // A token with no account: an empty list, not an absent one.
    let (_, body) = srv.recover(&SoftToken::load("branch"), "ketoan01").await;
    assert_eq!((code(&body), named(&body)), ("CERT_NOT_BOUND", json!([])));
    // The lookup with the same token answers the same accounts.
    let ch = srv.challenge("", Purpose::UsernameLookup).await;
    let (status, body) = srv.complete(&token, "", Purpose::UsernameLookup, &ch).await;
    assert_eq!((status, &body["usernames"]), (200, &json!(["ketoan01", "ketoan02"])), "{body}");
    // A junk signature over the same certificate: refused for it, nothing named.
    let ch = srv.challenge("ketoan03", Purpose::PasswordRecovery).await;
    let (status, body) =
        srv.complete_raw(&token, "ketoan03", Purpose::PasswordRecovery, &ch, &[0x5a; 256], token.alg).await;
    assert_eq!((status, code(&body)), (403, "SIGNATURE_INVALID"));
    assert!(body.get("usernames").is_none(), "{body}");
    // A certificate refused for itself: nothing named.
    let (_, body) = srv.recover(&SoftToken::load("revoked"), "ketoan03").await;
    assert_eq!(code(&body), "CERT_REVOKED");
    assert!(body.get("usernames").is_none(), "{body}");
    assert_eq!(srv.side_effects("ketoan01").await, (0, false));
}

#[tokio::test]
async fn pinned_fingerprint_binds_one_certificate() {
    let srv = TestServer::start().await;
    let pem = fixture("rsa-valid.cert.pem");
    bhxh_server::admin::account_add(&srv.store, &srv.clock, USER, MST, EMAIL, Some(&pem)).await.unwrap();
    // Same MST, other certificate: refused, because the account is pinned.
    let r = srv.recover(&SoftToken::load("ec-valid"), USER).await;
    assert_refused(&srv, r, 403, "CERT_NOT_BOUND").await;
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn branch_certificate_does_not_match_the_head_office() {
    refused_with("branch", 403, "CERT_NOT_BOUND").await;
}

#[tokio::test]
async fn no_digital_signature_key_usage() {
    refused_with("no-digisig", 403, "CERT_KEY_USAGE").await;
}

#[tokio::test]
async fn rsa_below_2048_bits() {
    refused_with("rsa1024", 403, "CERT_KEY_UNSUPPORTED").await;
}

#[tokio::test]
async fn algorithm_does_not_match_the_key() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let sig = token.sign(&to_be_signed(Purpose::PasswordRecovery, &ch.origin, USER, &ch.nonce));
    let r = srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &sig, Algorithm::ES256).await;
    assert_refused(&srv, r, 400, "ALGORITHM_MISMATCH").await;
}

#[tokio::test]
async fn bad_signature() {
    for name in ["rsa-valid", "ec-valid"] {
        let srv = server().await;
        let token = SoftToken::load(name);
        let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
        let mut sig = token.sign(&to_be_signed(Purpose::PasswordRecovery, &ch.origin, USER, &ch.nonce));
        sig[10] ^= 0x01;
        let r = srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &sig, token.alg).await;
        assert_refused(&srv, r, 403, "SIGNATURE_INVALID").await;
    }
}

#[tokio::test]
async fn signature_over_the_decoded_nonce() {
    let srv = server().await;
    let token = SoftToken::load("rsa-valid");
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    // What a client that decoded the nonce before hashing would sign.
    let mut data = Vec::new();
    for part in [Purpose::PasswordRecovery.as_str().as_bytes(), ch.origin.as_bytes(), USER.as_bytes()] {
        data.extend_from_slice(&Sha256::digest(part));
    }
    data.extend_from_slice(&Sha256::digest(STANDARD.decode(&ch.nonce).unwrap()));
    let sig = token.sign(&data);
    let r = srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &sig, Algorithm::RS256).await;
    assert_refused(&srv, r, 403, "SIGNATURE_INVALID").await;
}

#[tokio::test]
async fn signature_by_another_key_of_the_same_mst() {
    let srv = server().await;
    let cert_of = SoftToken::load("rsa-valid");
    let signer = SoftToken::load("multi-id");
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let sig = signer.sign(&to_be_signed(Purpose::PasswordRecovery, &ch.origin, USER, &ch.nonce));
    let r = srv.complete_raw(&cert_of, USER, Purpose::PasswordRecovery, &ch, &sig, Algorithm::RS256).await;
    assert_refused(&srv, r, 403, "SIGNATURE_INVALID").await;
}

#[tokio::test]
async fn malformed_truncated_and_oversized_bodies() {
    let srv = server().await;
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let token = SoftToken::load("rsa-valid");
    let good = json!({
        "challenge_id": ch.challenge_id, "username": USER, "purpose": Purpose::PasswordRecovery.as_str(),
        "certificate": STANDARD.encode(&token.cert_der), "algorithm": "RS256", "signature": "AAAA",
    })
    .to_string();
    let cases: Vec<(String, u16, &str)> = vec![
        ("{not json".into(), 400, "MALFORMED_REQUEST"),
        (good[..good.len() / 2].to_string(), 400, "MALFORMED_REQUEST"),
        (String::new(), 400, "MALFORMED_REQUEST"),
        ("[]".into(), 400, "MALFORMED_REQUEST"),
        (json!({"challenge_id": ch.challenge_id}).to_string(), 400, "MALFORMED_REQUEST"),
        (good.replace("RS256", "PS512"), 400, "MALFORMED_REQUEST"),
        (good.replacen('{', "{\"extra\": 1, ", 1), 400, "MALFORMED_REQUEST"),
        (format!("{{\"username\": \"{}\"}}", "a".repeat(200 * 1024)), 413, "BODY_TOO_LARGE"),
    ];
    for (body, want_status, want_code) in cases {
        let (status, answer) = srv.post_raw("/v1/recovery/complete", body.clone(), None).await;
        assert_eq!((status, code(&answer)), (want_status, want_code), "body {:.80}", body);
    }
    // Well-formed JSON, broken fields: the certificate is checked and refused.
    for cert in ["%%%not-base64%%%", "", "AAECAwQ="] {
        let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
        let body = json!({
            "challenge_id": ch.challenge_id, "username": USER, "purpose": Purpose::PasswordRecovery.as_str(),
            "certificate": cert, "algorithm": "RS256", "signature": "AAAA",
        });
        let r = srv.post("/v1/recovery/complete", body).await;
        assert_refused(&srv, r, 400, "CERT_MALFORMED").await;
    }
    // A truncated certificate.
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let body = json!({
        "challenge_id": ch.challenge_id, "username": USER, "purpose": Purpose::PasswordRecovery.as_str(),
        "certificate": STANDARD.encode(&token.cert_der[..token.cert_der.len() - 20]), "algorithm": "RS256", "signature": "AAAA",
    });
    let r = srv.post("/v1/recovery/complete", body).await;
    assert_refused(&srv, r, 400, "CERT_MALFORMED").await;
    // Signature that is not base64.
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let body = json!({
        "challenge_id": ch.challenge_id, "username": USER, "purpose": Purpose::PasswordRecovery.as_str(),
        "certificate": STANDARD.encode(&token.cert_der), "algorithm": "RS256", "signature": "***",
    });
    let r = srv.post("/v1/recovery/complete", body).await;
    assert_refused(&srv, r, 403, "SIGNATURE_INVALID").await;
    // Unknown route and bad usernames.
    let (status, body) = srv.post("/v1/nope", json!({})).await;
    assert_eq!((status, code(&body)), (404, "NOT_FOUND"));
    for bad in ["", "a b", &"x".repeat(65)] {
        let (status, body) = srv
            .post("/v1/recovery/challenge", json!({"username": bad, "purpose": Purpose::PasswordRecovery.as_str()}))
            .await;
        assert_eq!((status, code(&body)), (400, "INVALID_USERNAME"));
    }
    assert_eq!(srv.side_effects(USER).await, (0, false));
}

#[tokio::test]
async fn errors_speak_the_accept_language() {
    let srv = server().await;
    let ask = |lang: &'static str| {
        srv.http
            .post(format!("{}/v1/auth/login", srv.base))
            .header("accept-language", lang)
            .json(&json!({"username": USER, "password": "sai-mat-khau"}))
            .send()
    };
    let vi: Value = ask("vi-VN,vi;q=0.9").await.unwrap().json().await.unwrap();
    let en: Value = ask("en-US,en;q=0.9").await.unwrap().json().await.unwrap();
    assert_eq!(vi["code"], "INVALID_CREDENTIALS");
    assert_eq!(vi["message"], "Tên đăng nhập hoặc mật khẩu không đúng.");
    assert_eq!(en["message"], "Wrong username or password.");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_and_never_lock() {
    let srv = TestServer::start_with(|c| {
        c.limits.per_username = 3;
        c.limits.per_username_window_secs = 600;
    })
    .await;
    srv.enrol(USER, MST, EMAIL).await;
    for _ in 0..3 {
        srv.challenge(USER, Purpose::PasswordRecovery).await;
    }
    let resp = srv
        .http
        .post(format!("{}/v1/recovery/challenge", srv.base))
        .json(&json!({"username": USER, "purpose": Purpose::PasswordRecovery.as_str()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");
    assert_eq!(body["retry_after"], retry);
    // Other usernames are not affected.
    srv.challenge("ketoan02", Purpose::PasswordRecovery).await;
    // A flood of refusals writes one audit line, which says so.
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert!(detail_en(&lines[0].detail).contains("further refusals in this window"), "{lines:?}");
    let again = srv
        .post("/v1/recovery/challenge", json!({"username": USER, "purpose": Purpose::PasswordRecovery.as_str()}))
        .await;
    assert_eq!(again.0, 429);
    assert!(
        srv.store.audit_by_reference(again.1["reference"].as_str().unwrap()).await.unwrap().is_empty(),
        "not written again"
    );
    // Time clears it (challenge windows are kept in memory: there is no hard lock).
    for _ in 0..5 {
        let _ = srv
            .post("/v1/recovery/challenge", json!({"username": USER, "purpose": Purpose::PasswordRecovery.as_str()}))
            .await;
    }
    srv.clock.shift(601);
    srv.challenge(USER, Purpose::PasswordRecovery).await;
}

#[tokio::test]
async fn per_client_limit() {
    let srv = TestServer::start_with(|c| c.limits.per_client = 5).await;
    let mut last = 0;
    for i in 0..7 {
        let (status, _) = srv
            .post(
                "/v1/recovery/challenge",
                json!({"username": format!("user{i}"), "purpose": Purpose::PasswordRecovery.as_str()}),
            )
            .await;
        last = status;
        if i < 5 {
            assert_eq!(status, 200);
        }
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn slow_requests_time_out_with_a_coded_answer() {
    // A request that never finishes its body is cut off by the request timeout.
    let srv = TestServer::start_with(|c| c.limits.request_timeout_secs = 1).await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(srv.base.trim_start_matches("http://")).await.unwrap();
    s.write_all(b"POST /v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"user")
        .await
        .unwrap();
    let mut buf = Vec::new();
    // The answer comes after 1 s; 30 s lets a loaded machine be late (it returns at the close).
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_TIMEOUT"));
}

#[tokio::test]
async fn the_staff_timeline_says_why_a_proof_was_not_bound_and_the_user_learns_nothing_more() {
    let srv = server().await;
    let other = SoftToken::load("other-mst");
    let (s1, known) = srv.recover(&other, USER).await;
    let (s2, unknown) = srv.recover(&SoftToken::load("rsa-valid"), "dem0").await;
    assert_eq!((s1, code(&known)), (403, "CERT_NOT_BOUND"));
    assert_eq!((s2, code(&unknown)), (403, "CERT_NOT_BOUND"));
    assert_eq!((&known["message"], &known["hint"]), (&unknown["message"], &unknown["hint"]), "the same words for both");
    let detail = |user: &str| {
        let store = srv.store.clone();
        let user = user.to_string();
        async move {
            store
                .audit_by_username(&user, 10)
                .await
                .unwrap()
                .into_iter()
                .find(|l| l.event == "complete")
                .and_then(|l| l.detail)
        }
    };
    assert_eq!(
        detail(USER).await,
        Some(Detail::MstMismatch { cert_msts: vec!["0309999999".into()], account_mst: MST.into() })
    );
    assert_eq!(detail("dem0").await, Some(Detail::NoSuchAccount { cert_msts: vec![MST.into()] }));
}
