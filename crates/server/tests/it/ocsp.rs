//! OCSP against a real responder (`openssl ocsp -index … -port`, Debian openssl) on a
//! loopback port of each test's own, reached through the configured mirror as a site
//! that cannot resolve the CA's host would; the root's CRL (for the issuing CA's own
//! status) served by the test's own HTTP server. Each test has its own responder,
//! CRL server, data dir and SQLite file; the responders read the fixture CA database
//! (read only). The nonce and "another certificate" checks run `openssl ocsp` on
//! request files, without a network.

use crate::common::*;
use bhxh_server::facts::{stored_failure, OcspProblem};
use bhxh_server::revocation::ocsp::{check_response, request, Freshness, NoncePolicy, OcspStatus};

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

/// A server asking the responder first, then the CRLs of `crls`' distribution points,
/// with the account enrolled.
async fn ocsp_server(responder: &str, crls: &CrlServer, adjust: impl FnOnce(&mut bhxh_server::Config)) -> TestServer {
    let srv = ocsp_server_on(responder, crls, adjust).await;
    srv.enrol(USER, MST, EMAIL).await;
    srv
}

async fn ocsp_server_on(
    responder: &str,
    crls: &CrlServer,
    adjust: impl FnOnce(&mut bhxh_server::Config),
) -> TestServer {
    let mut mirrors = crls.mirrors();
    mirrors.insert(OCSP_URL.to_string(), responder.to_string());
    TestServer::start_with(|c| {
        c.crl_file = None;
        c.revocation.ocsp = true;
        c.revocation.fetch_crls = true;
        c.revocation.mirrors = mirrors;
        adjust(c);
    })
    .await
}

/// Only the root's CRL: the issuing CA's own status is known, the token certificate's
/// only through OCSP (its CRL is not served).
async fn root_crl_only() -> CrlServer {
    CrlServer::start(&[("root.crl", "root-crl.pem")]).await
}

/// The audit detail of an attempt.
async fn detail(srv: &TestServer, body: &serde_json::Value) -> String {
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    detail_en(&lines[0].detail)
}

/// A refusal with its code, nothing changed, and the audit detail.
async fn refused(srv: &TestServer, token: &SoftToken, status: u16, want: &str) -> String {
    let (s, body) = srv.recover(token, USER).await;
    assert_eq!((s, code(&body)), (status, want), "{body}");
    assert_eq!(srv.side_effects(USER).await, (0, false));
    detail(srv, &body).await
}

#[tokio::test]
async fn a_good_answer_from_the_certificates_responder_is_accepted_and_recorded() {
    let responder = OcspResponder::start("ica", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    let d = detail(&srv, &body).await;
    assert!(d.contains("OCSP good (http://ocsp.bhxh-test.invalid/"), "{d}");
    assert!(
        d.contains("BHXH Test Issuing CA: CRL http://crl.bhxh-test.invalid/root.crl"),
        "the intermediate by the root's CRL: {d}"
    );
    let rows = srv.store.cached_ocsp_all().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status.as_str(), rows[0].signer.as_str()), ("good", "issuer"));
    // Reused until nextUpdate (60 minutes), not longer.
    assert!(rows[0].good_until - rows[0].fetched_at <= 3600, "{rows:?}");
}

#[tokio::test]
async fn a_delegated_responder_with_ocsp_signing_is_believed() {
    let responder = OcspResponder::start("ocsp-responder", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    let (status, body) = srv.recover(&SoftToken::load("ec-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    let rows = srv.store.cached_ocsp_all().await.unwrap();
    assert_eq!(rows[0].signer, "delegated BHXH Test OCSP Responder");
}

#[tokio::test]
async fn revoked_per_ocsp_is_refused() {
    let responder = OcspResponder::start("ica", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    let d = refused(&srv, &SoftToken::load("revoked"), 403, "CERT_REVOKED").await;
    assert!(d.contains("revoked per OCSP http://ocsp.bhxh-test.invalid/"), "{d}");
}

#[tokio::test]
async fn unknown_is_not_good() {
    let responder = OcspResponder::start("ica", &["-nmin", "60"]);
    // Even with the issuing CA's CRL at hand (which does not list it): the CA's own
    // responder does not know this certificate.
    let crls = CrlServer::start(&[("root.crl", "root-crl.pem"), ("ica.crl", "ica-crl.pem")]).await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    let d = refused(&srv, &SoftToken::load("ocsp-unknown"), 503, "CERT_REVOCATION_UNKNOWN").await;
    assert!(d.contains("answered unknown"), "{d}");
    assert!(
        srv.store.cached_ocsp_all().await.unwrap().iter().all(|r| r.good_until <= r.fetched_at),
        "an unknown answer is not reused"
    );
}

#[tokio::test]
async fn an_answer_signed_by_another_key_is_no_answer_and_fails_closed() {
    // The forger carries the issuing CA's name with another key.
    let responder = OcspResponder::start("fake-ica", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    let ch = srv.challenge(USER, bhxh_protocol::Purpose::PasswordRecovery).await;
    let (status, body) =
        srv.complete(&SoftToken::load("rsa-valid"), USER, bhxh_protocol::Purpose::PasswordRecovery, &ch).await;
    assert_eq!((status, code(&body)), (503, "CERT_REVOCATION_UNKNOWN"), "{body}");
    let d = detail(&srv, &body).await;
    assert!(d.contains("signature by the issuer: does not verify"), "{d}");
    assert!(d.contains("ica.crl"), "the CRL was tried next, and why it failed is said too: {d}");
    let rows = srv.store.cached_ocsp_all().await.unwrap();
    assert_eq!(rows[0].status, "none");
    // The cache keeps the failure as a value, read in either language.
    let kept = rows[0].last_error.as_deref().unwrap_or_default();
    assert_eq!(stored_failure(bhxh_protocol::Lang::En, kept), "signature by the issuer: does not verify", "{rows:?}");
    assert_eq!(stored_failure(bhxh_protocol::Lang::Vi, kept), "chữ ký của CA phát hành: không khớp", "{rows:?}");
}

#[tokio::test]
async fn a_delegated_responder_without_ocsp_signing_is_not_believed() {
    let responder = OcspResponder::start("ocsp-no-eku", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    let d = refused(&srv, &SoftToken::load("rsa-valid"), 503, "CERT_REVOCATION_UNKNOWN").await;
    assert!(d.contains("BHXH Test Not A Responder lacks id-kp-OCSPSigning"), "{d}");
}

#[tokio::test]
async fn a_stale_answer_is_not_used() {
    // nextUpdate one minute after thisUpdate; the server's clock 10 minutes on (more
    // than the 5 minutes of skew tolerated).
    let responder = OcspResponder::start("ica", &["-nmin", "1"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    srv.clock.shift(-600);
    let d = refused(&srv, &SoftToken::load("rsa-valid"), 503, "CERT_REVOCATION_UNKNOWN").await;
    assert!(
        d.contains("thisUpdate") && d.contains("in the future"),
        "a clock 10 minutes behind sees the answer from its future: {d}"
    );
    srv.clock.shift(1200);
    let d = refused(&srv, &SoftToken::load("rsa-valid"), 503, "CERT_REVOCATION_UNKNOWN").await;
    assert!(d.contains("stale answer (nextUpdate"), "{d}");
}

#[tokio::test]
async fn responder_down_and_the_crl_good_is_accepted() {
    let dead = format!("http://127.0.0.1:{}/", free_port());
    let crls = CrlServer::start(&[("root.crl", "root-crl.pem"), ("ica.crl", "ica-crl.pem")]).await;
    let srv = ocsp_server(&dead, &crls, |_| {}).await;
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    let d = detail(&srv, &body).await;
    assert!(d.contains("CRL http://crl.bhxh-test.invalid/ica.crl"), "{d}");
    // And the CRL still refuses what it lists.
    let (status, body) = srv.recover(&SoftToken::load("revoked"), USER).await;
    assert_eq!((status, code(&body)), (403, "CERT_REVOKED"), "{body}");
    let d = detail(&srv, &body).await;
    assert!(d.contains("revoked per CRL http://crl.bhxh-test.invalid/ica.crl"), "{d}");
}

#[tokio::test]
async fn responder_and_crl_down_fails_closed_with_retry_after() {
    let dead = format!("http://127.0.0.1:{}/", free_port());
    let crls = root_crl_only().await;
    let srv = ocsp_server(&dead, &crls, |_| {}).await;
    let ch = srv.challenge(USER, bhxh_protocol::Purpose::PasswordRecovery).await;
    let resp = srv.complete_response(&SoftToken::load("rsa-valid"), USER, &ch).await;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["retry-after"], "60");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "CERT_REVOCATION_UNKNOWN");
    let d = detail(&srv, &body).await;
    assert!(
        d.contains("OCSP http://ocsp.bhxh-test.invalid/: http://127.0.0.1:") && d.contains("HTTP 404"),
        "both failures: {d}"
    );
}

#[tokio::test]
async fn a_cached_answer_is_reused_with_the_responder_stopped_and_shared_by_another_server() {
    let mut responder = OcspResponder::start("ica", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    responder.stop();
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "the cached answer, no network: {body}");
    // Another server on the same database: the database copy.
    let db = format!("sqlite://{}/bhxh.db", srv.data.path().join("server").display());
    let base = responder.base.clone();
    let other = ocsp_server_on(&base, &crls, |c| {
        share_outbox_key(&srv, c);
        c.database_url = db;
    })
    .await;
    let (status, body) = other.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    // Once past the cap on reuse, the stopped responder means no answer.
    other.clock.shift(3601);
    let (status, body) = other.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!((status, code(&body)), (503, "CERT_REVOCATION_UNKNOWN"), "{body}");
}

#[tokio::test]
async fn the_check_before_the_pin_asks_the_responder_too() {
    let responder = OcspResponder::start("ica", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |_| {}).await;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let (status, body) = srv
        .post(
            "/v1/certificate/check",
            serde_json::json!({ "certificate": b64.encode(SoftToken::load("revoked").cert_der) }),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "CERT_REVOKED"), "{body}");
    // A good one says what decided, for the support desk (`bhxh doctor`).
    let (status, body) = srv
        .post(
            "/v1/certificate/check",
            serde_json::json!({ "certificate": b64.encode(SoftToken::load("rsa-valid").cert_der) }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let revocation = body["revocation"].as_str().unwrap();
    // In the asker's language (Vietnamese by default), its time in Vietnam time.
    assert!(
        revocation.starts_with("CÔNG TY TNHH THỬ NGHIỆM BHXH: OCSP: còn hiệu lực (http://ocsp.bhxh-test.invalid/"),
        "{revocation}"
    );
    assert!(revocation.contains(", cập nhật lúc ") && !revocation.contains("Z)"), "{revocation}");
    assert!(revocation.contains("BHXH Test Issuing CA: CRL http://crl.bhxh-test.invalid/root.crl"), "{revocation}");
}

/// A responder answering from the CA's database of before the revocation: the "good" a
/// replay of an old answer would bring about `revoked`. The CRL of the file, which lists
/// it, wins.
#[tokio::test]
async fn a_crl_at_hand_that_lists_the_certificate_wins_over_a_good_answer() {
    let responder = OcspResponder::start_from("ica-index-before.txt", "ica", &["-nmin", "60"]);
    let crls = root_crl_only().await;
    let srv = ocsp_server(&responder.base, &crls, |c| c.crl_file = Some(fixture("crl.pem"))).await;
    let d = refused(&srv, &SoftToken::load("revoked"), 403, "CERT_REVOKED").await;
    assert!(
        d.contains("revoked per CRL file") && d.contains("although OCSP http://ocsp.bhxh-test.invalid/ answered good"),
        "{d}"
    );
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "a good answer the CRL does not contradict: {body}");
}

/// A "good" two hours old when fetched (the server's clock two hours on), without our
/// nonce: it may be a replay from before a revocation, so the CRL must agree.
#[tokio::test]
async fn an_old_good_answer_without_our_nonce_needs_the_crl_to_agree() {
    let responder = OcspResponder::start_from("ica-index-before.txt", "ica", &["-ndays", "2"]);
    let crls = CrlServer::start(&[("root.crl", "root-crl.pem"), ("ica.crl", "ica-crl.pem")]).await;
    let srv = ocsp_server(&responder.base, &crls, |c| c.revocation.ocsp_nonce = NoncePolicy::Off).await;
    srv.clock.shift(2 * 3600);
    let d = refused(&srv, &SoftToken::load("revoked"), 403, "CERT_REVOKED").await;
    assert!(d.contains("revoked per CRL http://crl.bhxh-test.invalid/ica.crl"), "{d}");
    assert!(d.contains("older than 3600 s and not bound to our nonce"), "{d}");
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "the CRL agrees: {body}");
    assert!(detail(&srv, &body).await.contains("the CRL decides"));

    // No CRL to agree: not a pass.
    let alone = root_crl_only().await;
    let other = ocsp_server(&responder.base, &alone, |c| c.revocation.ocsp_nonce = NoncePolicy::Off).await;
    other.clock.shift(2 * 3600);
    let d = refused(&other, &SoftToken::load("rsa-valid"), 503, "CERT_REVOCATION_UNKNOWN").await;
    assert!(d.contains("not bound to our nonce") && d.contains("ica.crl"), "{d}");

    // The same old answer bound to our nonce (required, and echoed): it decides alone.
    let bound = ocsp_server(&responder.base, &alone, |c| c.revocation.ocsp_nonce = NoncePolicy::Require).await;
    bound.clock.shift(2 * 3600);
    let (status, body) = bound.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    assert!(detail(&bound, &body).await.contains("OCSP good"));
}

// ---- the answer's checks, on request files -------------------------------------------------

fn der(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("{name}.cert.der"))).unwrap()
}

/// `openssl ocsp` answering one request file, signed by the issuing CA.
fn answer(req: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("req.der"), req).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["ocsp", "-index"])
        .arg(fixture("ica-index.txt"))
        .arg("-rsigner")
        .arg(fixture("ica.cert.pem"))
        .arg("-rkey")
        .arg(fixture("ica.key.pem"))
        .arg("-CA")
        .arg(fixture("ica.cert.pem"))
        .args(["-nmin", "60", "-reqin"])
        .arg(dir.path().join("req.der"))
        .arg("-respout")
        .arg(dir.path().join("resp.der"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(dir.path().join("resp.der")).unwrap()
}

const FRESH: Freshness = Freshness { skew_secs: 300, max_age_secs: 3600 };

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn our_request_is_answered_and_the_nonce_echoed() {
    let q = request(&der("rsa-valid"), &der("ica"), Some([7; 16])).unwrap();
    let a = check_response(&answer(&q.der), &q, &der("ica"), NoncePolicy::Require, FRESH, now()).unwrap();
    assert_eq!(a.status, OcspStatus::Good);
    assert!(a.next_update.is_some());
}

#[test]
fn an_answer_to_another_nonce_is_a_replay() {
    let ours = request(&der("rsa-valid"), &der("ica"), Some([1; 16])).unwrap();
    let theirs = request(&der("rsa-valid"), &der("ica"), Some([2; 16])).unwrap();
    let err = check_response(&answer(&theirs.der), &ours, &der("ica"), NoncePolicy::Prefer, FRESH, now()).unwrap_err();
    assert_eq!(err, OcspProblem::NonceNotOurs);
}

#[test]
fn a_required_nonce_must_be_echoed() {
    let ours = request(&der("rsa-valid"), &der("ica"), Some([1; 16])).unwrap();
    let without = request(&der("rsa-valid"), &der("ica"), None).unwrap();
    let resp = answer(&without.der);
    let err = check_response(&resp, &ours, &der("ica"), NoncePolicy::Require, FRESH, now()).unwrap_err();
    assert_eq!(err, OcspProblem::NonceMissing);
    // A responder that ignores nonces (policy prefer): judged by its dates.
    assert_eq!(
        check_response(&resp, &ours, &der("ica"), NoncePolicy::Prefer, FRESH, now()).unwrap().status,
        OcspStatus::Good
    );
}

#[test]
fn an_answer_about_another_certificate_is_refused() {
    let ours = request(&der("rsa-valid"), &der("ica"), None).unwrap();
    let other = request(&der("ec-valid"), &der("ica"), None).unwrap();
    let err = check_response(&answer(&other.der), &ours, &der("ica"), NoncePolicy::Off, FRESH, now()).unwrap_err();
    assert_eq!(err, OcspProblem::OtherCertificate);
}

#[test]
fn what_is_not_an_ocsp_answer_is_refused() {
    let q = request(&der("rsa-valid"), &der("ica"), None).unwrap();
    for junk in [&b""[..], b"<html>proxy error</html>"] {
        let err = check_response(junk, &q, &der("ica"), NoncePolicy::Off, FRESH, now()).unwrap_err();
        assert!(matches!(err, OcspProblem::NotOcsp { .. }), "{err:?}");
    }
    // A well-formed refusal (internalError), by its RFC 6960 name.
    let err =
        check_response(&[0x30, 0x03, 0x0a, 0x01, 0x02], &q, &der("ica"), NoncePolicy::Off, FRESH, now()).unwrap_err();
    assert_eq!(err, OcspProblem::Refused { status: "internalError".into() });
}

/// How a misbehaving responder answers (a named stand-in: no CA's responder can be made
/// to misbehave on purpose, and `openssl ocsp` always answers in full).
#[derive(Clone, Copy, Debug)]
enum Rogue {
    /// Accepts the connection, reads the request and never answers.
    Silent,
    /// Sends its headers (chunked, no length), then one byte of body every half second, for ever.
    Trickle,
    /// A 200 declaring (Content-Length) a body larger than any OCSP answer may be.
    Declared,
    /// The same body sent chunked, with no length to refuse it by in advance.
    Chunked,
}

/// A responder on a loopback port of its own, answering every connection as `how`;
/// dropped with the test's runtime.
async fn rogue(how: Rogue) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let big = 64 * 1024 + 1;
                match how {
                    Rogue::Silent => {
                        let _ = conn.read(&mut buf).await; // until the client gives up
                    }
                    Rogue::Trickle => {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/ocsp-response\r\ntransfer-encoding: chunked\r\n\r\n";
                        let _ = conn.write_all(head.as_bytes()).await;
                        while conn.write_all(b"1\r\n0\r\n").await.is_ok() {
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        }
                    }
                    Rogue::Declared => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/ocsp-response\r\ncontent-length: {big}\r\n\r\n"
                        );
                        let _ = conn.write_all(head.as_bytes()).await;
                        let _ = conn.write_all(&vec![0x30; big]).await;
                    }
                    Rogue::Chunked => {
                        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/ocsp-response\r\ntransfer-encoding: chunked\r\n\r\n";
                        let _ = conn.write_all(head.as_bytes()).await;
                        for _ in 0..(big / 4096 + 1) {
                            let chunk = format!("1000\r\n{}\r\n", "0".repeat(4096));
                            if conn.write_all(chunk.as_bytes()).await.is_err() {
                                break;
                            }
                        }
                        let _ = conn.write_all(b"0\r\n\r\n").await;
                    }
                }
            });
        }
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_that_accepts_and_hangs_costs_one_fetch_timeout_and_the_crl_decides() {
    let crls = CrlServer::start(&[("root.crl", "root-crl.pem"), ("ica.crl", "ica-crl.pem")]).await;
    for how in [Rogue::Silent, Rogue::Trickle] {
        let responder = rogue(how).await;
        let srv = ocsp_server(&responder, &crls, |c| c.revocation.fetch_timeout_secs = 2).await;
        // A hung responder is no "good": the CRL still refuses what it lists.
        let d = refused(&srv, &SoftToken::load("revoked"), 403, "CERT_REVOKED").await;
        assert!(d.contains("revoked per CRL http://crl.bhxh-test.invalid/ica.crl"), "{how:?}: {d}");
        let started = std::time::Instant::now();
        let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
        let took = started.elapsed();
        assert_eq!(status, 200, "{how:?}: {body}");
        let d = detail(&srv, &body).await;
        assert!(
            d.contains("CRL http://crl.bhxh-test.invalid/ica.crl") && d.contains(&responder) && d.contains("timed out"),
            "{how:?}: the CRL decided, the responder's timeout noted: {d}"
        );
        // It waited for the responder (the hang was real), and the answer came within
        // the request's own timeout (else it would be REQUEST_TIMEOUT, not 200).
        assert!(took >= std::time::Duration::from_secs(2), "{how:?}: {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_ocsp_answer_is_refused_unread_and_with_no_crl_fails_closed() {
    let with_crl = CrlServer::start(&[("root.crl", "root-crl.pem"), ("ica.crl", "ica-crl.pem")]).await;
    let root_only = root_crl_only().await;
    for how in [Rogue::Declared, Rogue::Chunked] {
        let responder = rogue(how).await;
        let srv = ocsp_server(&responder, &with_crl, |_| {}).await;
        let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
        assert_eq!(status, 200, "{how:?}: {body}");
        let d = detail(&srv, &body).await;
        assert!(d.contains("larger than 65536 bytes"), "{how:?}: {d}");
        let row = &srv.store.cached_ocsp_all().await.unwrap()[0];
        assert_ne!(row.status.as_str(), "good", "{how:?}: nothing of it was kept as an answer: {row:?}");
        // Without the CRL the oversized answer decides nothing: fail closed.
        let srv = ocsp_server(&responder, &root_only, |_| {}).await;
        let d = refused(&srv, &SoftToken::load("rsa-valid"), 503, "CERT_REVOCATION_UNKNOWN").await;
        assert!(d.contains("larger than 65536 bytes"), "{how:?}: {d}");
    }
}
