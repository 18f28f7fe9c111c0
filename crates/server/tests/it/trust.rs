//! Trust in the shape of the real Vietnamese PKI: a path from the token's certificate
//! through intermediates to a root (rustls-webpki), the holes of the old one-level check
//! closed, revocation at every level. Each refusal is shown with its code, its audit
//! line and nothing changed; each acceptance with the path recorded for the staff.

use std::path::PathBuf;

use crate::common::*;
use bhxh_protocol::ErrorCode;
use bhxh_server::revocation::load_crl_file;
use bhxh_server::verify::{decode_chain, TrustStore};
use serde_json::Value;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

async fn server_with(adjust: impl FnOnce(&mut bhxh_server::Config)) -> TestServer {
    let srv = TestServer::start_with(adjust).await;
    srv.enrol(USER, MST, EMAIL).await;
    srv
}

/// The refusal, its audit line with the reason, and nothing written.
async fn assert_refused(srv: &TestServer, (status, body): (u16, Value), want_status: u16, want_code: &str) -> String {
    assert_eq!((status, code(&body)), (want_status, want_code), "{body}");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert_eq!(lines.len(), 1, "one audit line per attempt");
    assert_eq!(lines[0].error_code(), Some(want_code));
    assert_eq!(srv.side_effects(USER).await, (0, false), "a refused attempt changed something");
    detail_en(&lines[0].detail)
}

async fn refused(token: SoftToken, want_status: u16, want_code: &str) -> String {
    let srv = server_with(|_| {}).await;
    let r = srv.recover(&token, USER).await;
    assert_refused(&srv, r, want_status, want_code).await
}

/// The audit line of an accepted recovery names the path that decided.
async fn accepted_path(srv: &TestServer, token: &SoftToken) -> String {
    let (status, body) = srv.recover(token, USER).await;
    assert_eq!(status, 200, "{body}");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    detail_en(&lines[0].detail)
}

#[tokio::test]
async fn root_anchor_and_configured_intermediate() {
    let srv = server_with(|_| {}).await;
    let path = accepted_path(&srv, &SoftToken::load("rsa-valid")).await;
    assert!(path.contains("BHXH Test Issuing CA < BHXH Test Root CA (anchor)"), "{path}");
}

#[tokio::test]
async fn intermediate_only_in_the_requests_chain() {
    let srv = server_with(|c| c.trust_intermediates = None).await;
    // Without the intermediate no path reaches the root …
    let r = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    let detail = assert_refused(&srv, r, 403, "CERT_UNTRUSTED").await;
    assert!(detail.contains("UnknownIssuer"), "{detail}");
    // … with it in `chain` (read from the token) the path is built.
    let path = accepted_path(&srv, &SoftToken::load("rsa-valid").with_chain(&["ica"])).await;
    assert!(path.contains("BHXH Test Issuing CA < BHXH Test Root CA (anchor)"), "{path}");
}

#[tokio::test]
async fn an_intermediate_trusted_directly_as_an_anchor_still_works() {
    let srv = server_with(|c| {
        c.trust_anchors = Some(fixture("ica.cert.pem"));
        c.trust_intermediates = None;
    })
    .await;
    let path = accepted_path(&srv, &SoftToken::load("rsa-valid")).await;
    assert!(path.contains("< BHXH Test Issuing CA (anchor);"), "{path}");
}

#[tokio::test]
async fn an_intermediate_is_never_trusted_by_itself() {
    // The chain carries the untrusted CA itself: a path to it is no path to an anchor.
    let r = refused(SoftToken::load("untrusted").with_chain(&["untrusted-ca"]), 403, "CERT_UNTRUSTED").await;
    assert!(r.contains("UnknownIssuer"), "{r}");
}

#[tokio::test]
async fn issuer_that_is_not_a_ca() {
    // via-leaf is issued by rsa-valid's key; rsa-valid is configured as an "intermediate".
    let srv = server_with(|c| {
        let bundle = std::env::temp_dir().join(format!("bhxh-bundle-{}.pem", std::process::id()));
        let mut pem = std::fs::read(fixture("intermediates.pem")).unwrap();
        pem.extend(std::fs::read(fixture("rsa-valid.cert.pem")).unwrap());
        std::fs::write(&bundle, pem).unwrap();
        c.trust_intermediates = Some(bundle);
    })
    .await;
    let r = srv.recover(&SoftToken::load("via-leaf"), USER).await;
    let detail = assert_refused(&srv, r, 403, "CERT_ISSUER_INVALID").await;
    assert!(detail.contains("EndEntityUsedAsCa"), "{detail}");
}

#[tokio::test]
async fn path_length_exceeded() {
    let detail = refused(SoftToken::load("via-sub-ica"), 403, "CERT_ISSUER_INVALID").await;
    assert!(detail.contains("PathLenConstraintViolated"), "{detail}");
}

#[tokio::test]
async fn expired_intermediate() {
    let detail = refused(SoftToken::load("via-expired-ica"), 403, "CERT_ISSUER_INVALID").await;
    assert!(detail.contains("CertExpired"), "{detail}");
}

#[tokio::test]
async fn intermediate_revoked_by_the_roots_crl() {
    let detail = refused(SoftToken::load("via-revoked-ica"), 403, "CERT_REVOKED").await;
    assert!(detail.contains("BHXH Test Revoked CA: revoked per CRL file"), "{detail}");
}

#[tokio::test]
async fn leaf_listed_in_the_issuing_cas_crl() {
    let detail = refused(SoftToken::load("revoked"), 403, "CERT_REVOKED").await;
    assert!(detail.contains("revoked per CRL file"), "{detail}");
}

#[tokio::test]
async fn sha1_signature_on_the_token_certificate() {
    let detail = refused(SoftToken::load("sha1"), 403, "CERT_WEAK_SIGNATURE").await;
    assert!(detail.contains("SHA-1"), "{detail}");
}

#[tokio::test]
async fn no_key_usage_extension() {
    let detail = refused(SoftToken::load("no-ku"), 403, "CERT_KEY_USAGE").await;
    assert!(detail.contains("no keyUsage"), "{detail}");
}

#[tokio::test]
async fn unknown_critical_extension() {
    refused(SoftToken::load("critical-ext"), 403, "CERT_EXTENSION_UNSUPPORTED").await;
}

#[tokio::test]
async fn extended_key_usage_without_client_auth() {
    refused(SoftToken::load("eku-email"), 403, "CERT_PURPOSE").await;
}

#[tokio::test]
async fn a_ca_with_the_issuing_cas_exact_name_and_another_key_anchors_nothing() {
    // The forger's leaf names the issuing CA as its issuer; only the key tells them apart.
    // Alone, with the forger in `chain`, and with both CAs in `chain`: refused every time.
    for chain in [&[][..], &["fake-ica"][..], &["fake-ica", "ica"][..], &["ica", "fake-ica"][..]] {
        let detail = refused(SoftToken::load("forged").with_chain(chain), 403, "CERT_UNTRUSTED").await;
        assert!(!detail.is_empty(), "{chain:?}: the reason is recorded");
    }
    // The impostor in the token's chain costs the owner nothing: the path goes through
    // the real issuing CA whichever comes first.
    let srv = server_with(|c| c.trust_intermediates = None).await;
    for chain in [&["fake-ica", "ica"][..], &["ica", "fake-ica"][..]] {
        let path = accepted_path(&srv, &SoftToken::load("rsa-valid").with_chain(chain)).await;
        assert!(path.contains("BHXH Test Issuing CA < BHXH Test Root CA (anchor)"), "{chain:?}: {path}");
    }
}

/// The test CA's organisation policy and its personal one (RFC 5612's example arc).
const ORG_POLICY: &str = "1.3.6.1.4.1.32473.1.1";
const PERSONAL_POLICY: &str = "1.3.6.1.4.1.32473.1.2";

#[tokio::test]
async fn required_policies_of_a_ca_refuse_its_other_kinds_of_certificate() {
    let require = |issuer: &str, oids: &[&str]| bhxh_server::config::RequiredPolicy {
        issuer: issuer.into(),
        oids: oids.iter().map(|o| o.to_string()).collect(),
    };
    // Named by CN: the organisation's certificate passes, the person's is refused for
    // its policy (not for anything else: without the requirement it passes).
    let srv = server_with(|c| c.required_policies = vec![require("BHXH Test Issuing CA", &[ORG_POLICY])]).await;
    let r = srv.recover(&SoftToken::load("personal"), USER).await;
    let detail = assert_refused(&srv, r, 403, "CERT_POLICY").await;
    assert!(
        detail.contains(PERSONAL_POLICY) && detail.contains(ORG_POLICY) && detail.contains("BHXH Test Issuing CA"),
        "{detail}"
    );
    // The check before the PIN says the same, so no PIN try is spent on it.
    let (status, body) = check(&srv, &SoftToken::load("personal")).await;
    assert_eq!((status, code(&body)), (403, "CERT_POLICY"), "{body}");
    accepted_path(&srv, &SoftToken::load("rsa-valid")).await;
    // Named by the CA certificate's SHA-256 fingerprint, requiring the other kind.
    let fp = bhxh_server::verify::fingerprint(&std::fs::read(fixture("ica.cert.der")).unwrap());
    let srv = server_with(|c| c.required_policies = vec![require(&fp, &[PERSONAL_POLICY])]).await;
    let r = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_refused(&srv, r, 403, "CERT_POLICY").await;
    accepted_path(&srv, &SoftToken::load("personal")).await;
    // Another CA's requirement binds nothing here; no requirement accepts both kinds.
    for required in [vec![require("VNPT Certification Authority", &[ORG_POLICY])], vec![]] {
        let srv = server_with(|c| c.required_policies = required).await;
        accepted_path(&srv, &SoftToken::load("personal")).await;
    }
    // A requirement that is not an OID stops the start.
    let c = bhxh_server::Config {
        required_policies: vec![require("BHXH Test Issuing CA", &["organisation"])],
        ..bhxh_server::Config::default()
    };
    assert!(c.check().unwrap_err().to_string().contains("required_policies"));
}

#[tokio::test]
async fn chain_of_more_than_four() {
    let token = SoftToken::load("rsa-valid").with_chain(&["ica", "ica", "ica", "ica", "ica"]);
    let detail = refused(token, 400, "CERT_CHAIN_INVALID").await;
    assert!(detail.contains("5 certificates"), "{detail}");
}

#[tokio::test]
async fn chain_with_a_certificate_that_is_not_a_ca() {
    let detail =
        refused(SoftToken::load("rsa-valid").with_chain(&["ica", "ec-valid"]), 400, "CERT_CHAIN_INVALID").await;
    assert!(detail.contains("chain[1]: not a CA"), "{detail}");
}

#[tokio::test]
async fn stale_crl_of_the_issuing_ca_fails_closed() {
    // The root's CRL is current, the issuing CA's is past nextUpdate.
    let srv = server_with(|c| c.crl_file = Some(fixture("expired-crl.pem"))).await;
    let r = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    let detail = assert_refused(&srv, r, 503, "CERT_REVOCATION_UNKNOWN").await;
    assert!(detail.contains("CRL of BHXH Test Issuing CA is stale (nextUpdate 01/02/2020"), "{detail}");
}

#[tokio::test]
async fn a_crl_missing_for_one_level_fails_closed() {
    // Only the issuing CA's CRL: the intermediate's own status (the root's CRL) is unknown.
    let srv = server_with(|c| c.crl_file = Some(fixture("ica-crl.pem"))).await;
    let r = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    let detail = assert_refused(&srv, r, 503, "CERT_REVOCATION_UNKNOWN").await;
    assert!(
        detail.contains("BHXH Test Issuing CA: no CRL of BHXH Test Root CA is configured or distributed"),
        "{detail}"
    );
}

fn fixture_trust() -> TrustStore {
    TrustStore::load(Some(&fixture("trust.pem")), Some(&fixture("intermediates.pem"))).unwrap()
}

#[test]
fn a_forged_crl_is_refused_when_loaded() {
    // Same issuer name as the issuing CA, signed by another key: not believed.
    let err = load_crl_file(&fixture("forged-crl.pem"), &fixture_trust()).unwrap_err().to_string();
    assert!(err.contains("not signed by a configured trust anchor or intermediate"), "{err}");
    // The genuine one loads.
    load_crl_file(&fixture("ica-crl.pem"), &fixture_trust()).unwrap();
}

#[test]
fn decode_chain_refuses_what_is_not_base64_der_ca() {
    assert_eq!(decode_chain(&["!!".into()]).unwrap_err().code, ErrorCode::CertChainInvalid);
    assert_eq!(decode_chain(&["AAAA".into()]).unwrap_err().code, ErrorCode::CertChainInvalid);
    assert!(decode_chain(&[]).unwrap().is_empty());
}

#[test]
fn the_real_national_root_and_vnpt_intermediate_are_the_default_and_chain() {
    // Offline: the public certificates of the Vietnamese PKI the product ships
    // (crates/server/trust/, copies of ../shared/pki/).
    let store = TrustStore::load(None, None).unwrap();
    assert_eq!(store.anchor_count(), 1);
    assert_eq!(
        bhxh_server::verify::fingerprint(
            &bhxh_server::verify::read_pem_or_der(&trust_file("vietnam-national-root-ca.pem"), "CERTIFICATE").unwrap()
                [0]
        ),
        "bac8bf609ab420a8ee1780d74f4de5c7f7184959d2a7375b0a75e4c29f0908e7"
    );
    // The VNPT intermediate chains to the national root (2025-06-01, inside both validities).
    let der = bhxh_server::verify::read_pem_or_der(&trust_file("vnpt-ca-sha2.pem"), "CERTIFICATE").unwrap().remove(0);
    let path = store.ca_path(&der, 1_748_736_000).unwrap();
    assert_eq!(path.render(bhxh_protocol::Lang::En), "VNPT-CA SHA2 < Vietnam National Root CA (anchor)");
    assert_eq!(path.render(bhxh_protocol::Lang::Vi), "VNPT-CA SHA2 < Vietnam National Root CA (gốc tin cậy)");
    // After the intermediate's validity it is refused as such.
    assert_eq!(store.ca_path(&der, 1_893_456_000).unwrap_err().code, ErrorCode::CertIssuerInvalid);
    // The copies shipped are the shared ones, byte for byte.
    let shared = bhxh_testkit::root().join("../shared/pki/vnpt-ca-sha2.pem");
    if shared.exists() {
        assert_eq!(std::fs::read(shared).unwrap(), std::fs::read(trust_file("vnpt-ca-sha2.pem")).unwrap());
    }
}

fn trust_file(name: &str) -> PathBuf {
    bhxh_testkit::root().join("crates/server/trust").join(name)
}

#[tokio::test]
async fn trust_show_reports_anchors_intermediates_and_stale_crls() {
    let srv = server_with(|_| {}).await;
    let store = fixture_trust();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let mut config = bhxh_server::config::RevocationConfig::default();
    (config.ocsp, config.fetch_crls) = (false, false);
    let file = load_crl_file(&fixture("expired-crl.pem"), &store).unwrap();
    let revocation =
        bhxh_server::revocation::Revocation::new(srv.store.clone(), srv.clock.clone(), config, file).unwrap();
    let out = format!("{}{}", store.report(now), revocation.report().await.unwrap());
    assert!(out.contains("Revocation / Thu hồi: required (OCSP off"), "{out}");
    assert!(out.contains("BHXH Test Issuing CA < BHXH Test Root CA (anchor)"), "{out}");
    assert!(out.contains("BHXH Test Expired CA (outside its validity)"), "{out}");
    assert!(out.contains("BHXH Test Sub CA (no anchor issued it)"), "{out}");
    let stale = out.lines().find(|l| l.contains("BHXH Test Issuing CA  number")).unwrap();
    assert!(stale.contains("nextUpdate 2020-02-01") && stale.contains("STALE"), "{out}");
    let root = out.lines().find(|l| l.contains("BHXH Test Root CA  number")).unwrap();
    assert!(root.contains("1 revoked") && root.ends_with("current"), "{out}");
}

async fn check(srv: &TestServer, token: &SoftToken) -> (u16, Value) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut body = serde_json::json!({"certificate": b64.encode(&token.cert_der)});
    if !token.chain.is_empty() {
        body["chain"] = serde_json::json!(token.chain.iter().map(|c| b64.encode(c)).collect::<Vec<_>>());
    }
    srv.post("/v1/certificate/check", body).await
}

#[tokio::test]
async fn certificate_check_before_the_pin_gives_the_verdict_and_nothing_about_accounts() {
    let srv = server_with(|c| c.trust_intermediates = None).await;
    // Good, through the chain the token carries.
    let (status, body) = check(&srv, &SoftToken::load("rsa-valid").with_chain(&["ica"])).await;
    assert_eq!(status, 200, "{body}");
    // In the asker's language (Vietnamese by default), as the app shows it before the PIN.
    assert_eq!(body["path"], "CÔNG TY TNHH THỬ NGHIỆM BHXH < BHXH Test Issuing CA < BHXH Test Root CA (gốc tin cậy)");
    assert_eq!(body["revocation_checked"], true);
    // A certificate of an MST that has no account answers exactly the same way.
    let (status, other) = check(&srv, &SoftToken::load("other-mst").with_chain(&["ica"])).await;
    assert_eq!(status, 200, "{other}");
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&body), keys(&other));
    // Refusals carry the code a recovery would get; nothing about an account is written.
    for (name, want) in [("revoked", "CERT_REVOKED"), ("expired", "CERT_EXPIRED"), ("sha1", "CERT_WEAK_SIGNATURE")] {
        let (status, body) = check(&srv, &SoftToken::load(name).with_chain(&["ica"])).await;
        assert_eq!((status, code(&body)), (403, want), "{name}: {body}");
        let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
        assert_eq!((lines.len(), lines[0].username.as_deref()), (1, None), "{name}");
    }
    assert_eq!(srv.side_effects(USER).await, (0, false), "a check changed something");
    // Without the chain, the path does not reach the root.
    let (status, body) = check(&srv, &SoftToken::load("rsa-valid")).await;
    assert_eq!((status, code(&body)), (403, "CERT_UNTRUSTED"), "{body}");
}

/// `bhxh-server trust check`, the real binary on its own database, configured as the
/// test server is (the fixture anchors, intermediates and CRL file, OCSP off).
fn trust_check(data: &std::path::Path, crl: &str, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bhxh-server"))
        .arg("trust")
        .arg("check")
        .args(args)
        .env_remove("BHXH_CONFIG")
        .env("BHXH_DATA_DIR", data)
        .env("BHXH_LOG", "warn")
        .env("BHXH_TRUST_ANCHORS", fixture("trust.pem"))
        .env("BHXH_INTERMEDIATES", fixture("intermediates.pem"))
        .env("BHXH_CRL_FILE", fixture(crl))
        .env("BHXH_OCSP", "false")
        .env("BHXH_FETCH_CRLS", "false")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// The desk's and operators' certificate checker gives, certificate by certificate, the
/// verdict the server's own check before the PIN gives (the same code reaches both):
/// accepted, or refused with the same code; exit 0 or 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_check_gives_the_servers_verdict_for_every_kind_of_certificate() {
    let srv = server_with(|_| {}).await;
    let data = tempfile::tempdir().unwrap();
    // Each certificate with the code pinned here, or (None) held to the server's answer
    // alone, whatever it is (rsa-valid's acceptance is pinned by the text below).
    let want = [
        ("rsa-valid", None),
        ("ec-valid", None),
        ("branch", None),
        ("revoked", Some("CERT_REVOKED")),
        ("untrusted", Some("CERT_UNTRUSTED")),
        ("expired", Some("CERT_EXPIRED")),
        ("not-yet-valid", Some("CERT_NOT_YET_VALID")),
        ("no-digisig", Some("CERT_KEY_USAGE")),
        ("sha1", Some("CERT_WEAK_SIGNATURE")),
        ("rsa1024", Some("CERT_KEY_UNSUPPORTED")),
        ("ica-revoked", None),
        ("forged", None),
        ("critical-ext", None),
    ];
    for (name, expected) in want {
        let (status, body) = check(&srv, &SoftToken::load(name)).await;
        let server = if status == 200 { None } else { Some(code(&body).to_string()) };
        let pem = fixture(&format!("{name}.cert.pem"));
        let (exit, out) = trust_check(data.path(), "crl.pem", &[pem.to_str().unwrap(), "--json"]);
        let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
        let cli = json["code"].as_str().map(str::to_string);
        assert_eq!(cli, server, "{name}: the checker and the server differ: {out}");
        assert_eq!(exit, if server.is_none() { 0 } else { 2 }, "{name}: {out}");
        assert_eq!(json["outcome"], if server.is_none() { "accepted" } else { "refused" }, "{name}");
        if let Some(code) = expected {
            assert_eq!(cli.as_deref(), Some(code), "{name}");
        }
    }
    // The text the desk reads: the verdict, the MST, the path, where revocation came from.
    let der = fixture("rsa-valid.cert.der");
    let (exit, out) = trust_check(data.path(), "crl.pem", &[der.to_str().unwrap()]);
    assert_eq!(exit, 0, "{out}");
    for line in [
        "Kết luận / Verdict: CHẤP NHẬN / ACCEPTED",
        &format!("MST: {MST}"),
        "Chuỗi chứng thư / Path: CÔNG TY TNHH THỬ NGHIỆM BHXH < BHXH Test Issuing CA < BHXH Test Root CA (gốc tin cậy)",
        "Thu hồi / Revocation: CÔNG TY TNHH THỬ NGHIỆM BHXH: tệp CRL",
        "Mục đích khóa / Key usage: digitalSignature",
    ] {
        assert!(out.contains(line), "{line:?} missing:\n{out}");
    }
    let pem = fixture("revoked.cert.pem");
    let (_, out) = trust_check(data.path(), "crl.pem", &[pem.to_str().unwrap()]);
    assert!(out.contains("TỪ CHỐI / REFUSED [CERT_REVOKED]") && out.contains("Chứng thư số đã bị thu hồi."), "{out}");
}

/// `--at` moves the validity and the path check; a CRL past its nextUpdate leaves no
/// verdict (exit 3), as a recovery then fails closed; the token's CA certificates come
/// with `--chain`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_check_at_a_time_with_a_chain_and_without_a_current_crl() {
    let data = tempfile::tempdir().unwrap();
    let pem = fixture("rsa-valid.cert.pem");
    let cert = pem.to_str().unwrap();
    let in_two_years = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
        + 2 * 365 * 86_400)
        .to_string();
    let (exit, out) = trust_check(data.path(), "crl.pem", &[cert, "--at", &in_two_years, "--json"]);
    assert_eq!((exit, serde_json::from_str::<Value>(&out).unwrap()["code"].clone()), (2, "CERT_EXPIRED".into()));
    let (exit, out) = trust_check(data.path(), "crl.pem", &[cert, "--at", "2020-01-01T00:00:00+07:00", "--json"]);
    assert_eq!((exit, serde_json::from_str::<Value>(&out).unwrap()["code"].clone()), (2, "CERT_NOT_YET_VALID".into()));
    let (exit, out) = trust_check(data.path(), "crl.pem", &[cert, "--at", "yesterday"]);
    assert!(exit != 0 && out.contains("RFC 3339"), "{out}");
    // A stale CRL: no verdict now.
    let (exit, out) = trust_check(data.path(), "expired-crl.pem", &[cert, "--json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((exit, &json["outcome"], &json["code"]), (3, &"undecided".into(), &"CERT_REVOCATION_UNKNOWN".into()));
    // The issuing CA only from --chain: with it the path is found through it.
    let chain = fixture("ica.cert.pem");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bhxh-server"))
        .args(["trust", "check", cert, "--json", "--chain", chain.to_str().unwrap()])
        .env_remove("BHXH_CONFIG")
        .env("BHXH_DATA_DIR", data.path())
        .env("BHXH_LOG", "warn")
        .env("BHXH_TRUST_ANCHORS", fixture("trust.pem"))
        .env("BHXH_CRL_FILE", fixture("crl.pem"))
        .env("BHXH_OCSP", "false")
        .env("BHXH_FETCH_CRLS", "false")
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((out.status.code(), &json["outcome"]), (Some(0), &"accepted".into()), "{json}");
    // A file that is no certificate: an error, not a verdict.
    let junk = data.path().join("junk.cer");
    std::fs::write(&junk, b"not a certificate").unwrap();
    let (exit, out) = trust_check(data.path(), "crl.pem", &[junk.to_str().unwrap(), "--json"]);
    assert_eq!(exit, 2, "{out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["code"], "CERT_MALFORMED");
}

/// A real certificate of the national PKI (the shipped copy of ../shared/pki's), with the
/// default trust (the national root and VNPT-CA shipped with the server): the VNPT-CA SHA2 intermediate is a CA, not a token
/// certificate, and is refused before any revocation source is asked.
#[test]
fn trust_check_of_a_real_vnpt_ca_certificate_with_the_shipped_trust() {
    let data = tempfile::tempdir().unwrap();
    let real = trust_file("vnpt-ca-sha2.pem");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bhxh-server"))
        .args(["trust", "check", real.to_str().unwrap(), "--json"])
        .env_remove("BHXH_CONFIG")
        .env("BHXH_DATA_DIR", data.path())
        .env("BHXH_LOG", "warn")
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{out:?}"));
    assert_eq!((out.status.code(), &json["code"]), (Some(2), &"CERT_ISSUER_INVALID".into()), "{json}");
    assert_eq!(json["fingerprint"], "7d6ba5245317f9ed5d8bc765a4634d26ac6340d36b9f584df3b52d9c4a81a306");
    assert!(json["subject"].as_str().unwrap().contains("CN=VNPT-CA SHA2"), "{json}");
    assert!(json["problem"]["en"].as_str().unwrap().contains("CaUsedAsEndEntity"), "{json}");
}
