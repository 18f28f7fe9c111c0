//! Revocation from the certificates' own CRL distribution points: fetched over HTTP
//! from a server the test runs on its own loopback port (through the configured
//! mirrors, as a site that mirrors its CAs' CRLs would), cached in the database,
//! reused without the network, fail-closed with `Retry-After` when nothing fresh can be
//! had. Each server has its own data dir and SQLite file; the second server of the
//! sharing test opens the first one's file on purpose.

use crate::common::*;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

async fn fetching_server(mirrors: std::collections::BTreeMap<String, String>) -> TestServer {
    let srv = TestServer::start_with(|c| {
        c.crl_file = None;
        c.revocation.fetch_crls = true;
        c.revocation.mirrors = mirrors;
    })
    .await;
    srv.enrol(USER, MST, EMAIL).await;
    srv
}

fn crl_files() -> [(&'static str, &'static str); 2] {
    [("ica.crl", "ica-crl.pem"), ("root.crl", "root-crl.pem")]
}

#[tokio::test]
async fn crls_from_the_distribution_points_accept_a_good_token_and_refuse_revoked_ones() {
    let crls = CrlServer::start(&crl_files()).await;
    let srv = fetching_server(crls.mirrors()).await;
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(crls.hits(), 2, "the issuing CA's CRL and the root's, once each");
    let (status, body) = srv.recover(&SoftToken::load("revoked"), USER).await;
    assert_eq!((status, code(&body)), (403, "CERT_REVOKED"), "{body}");
    // The revoked intermediate's distribution point is the root's CRL, which lists it.
    let (status, body) = srv.recover(&SoftToken::load("via-revoked-ica"), USER).await;
    assert_eq!((status, code(&body)), (403, "CERT_REVOKED"), "{body}");
    let cached = srv.store.cached_crls().await.unwrap();
    assert_eq!(
        cached.iter().map(|c| c.url.as_str()).collect::<Vec<_>>(),
        ["http://crl.bhxh-test.invalid/ica.crl", "http://crl.bhxh-test.invalid/root.crl"]
    );
}

#[tokio::test]
async fn an_unreachable_distribution_point_fails_closed_with_retry_after() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mirrors = ["ica.crl", "root.crl"]
        .iter()
        .map(|n| (format!("http://crl.bhxh-test.invalid/{n}"), format!("{dead}/{n}")))
        .collect();
    let srv = fetching_server(mirrors).await;
    let ch = srv.challenge(USER, bhxh_protocol::Purpose::PasswordRecovery).await;
    let resp = srv.complete_response(&SoftToken::load("rsa-valid"), USER, &ch).await;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(resp.headers()["retry-after"], "60");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(code(&body), "CERT_REVOCATION_UNKNOWN");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    let detail = detail_en(&lines[0].detail);
    assert!(
        detail.contains("crl.bhxh-test.invalid") && detail.contains("127.0.0.1"),
        "staff see which CRL and why: {detail}"
    );
    assert_eq!(srv.side_effects(USER).await, (0, false));
    // The failure is recorded for `trust show` and the next server.
    let cached = srv.store.cached_crls().await.unwrap();
    assert!(cached.iter().all(|c| c.der.is_none() && c.last_error.is_some()), "{cached:?}");
}

#[tokio::test]
async fn a_cached_crl_is_reused_without_the_network_and_shared_by_another_server() {
    let mut crls = CrlServer::start(&crl_files()).await;
    let srv = fetching_server(crls.mirrors()).await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    let fetched = crls.hits();
    crls.stop().await;
    // Same server: the parsed CRLs, no network.
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(crls.hits(), fetched, "no fetch on the hot path for a cached CRL");
    // Another server on the same database, the distribution point down: the database copy.
    let db = format!("sqlite://{}/bhxh.db", srv.data.path().join("server").display());
    let other = TestServer::start_with(|c| {
        share_outbox_key(&srv, c);
        c.database_url = db;
        c.crl_file = None;
        c.revocation.fetch_crls = true;
        c.revocation.mirrors = crls.mirrors();
    })
    .await;
    let (status, body) = other.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_stale_cached_crl_that_cannot_be_refreshed_fails_closed() {
    let mut crls = CrlServer::start(&crl_files()).await;
    let srv = fetching_server(crls.mirrors()).await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    crls.stop().await;
    // 31 days on: past the CRLs' nextUpdate (30 days), the certificates still valid.
    srv.clock.shift(31 * 86_400);
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!((status, code(&body)), (503, "CERT_REVOCATION_UNKNOWN"), "{body}");
}

#[tokio::test]
async fn a_fetched_crl_with_a_bad_signature_or_another_key_is_not_believed() {
    // The issuing CA's own CRL with one bit of its signature flipped (name and key
    // identifier right), and a forger's CRL under the issuing CA's name (another key).
    let pem = std::fs::read(fixture("ica-crl.pem")).unwrap();
    let mut der = x509_parser::pem::parse_x509_pem(&pem).unwrap().1.contents;
    *der.last_mut().unwrap() ^= 1;
    let forged = std::fs::read(fixture("forged-crl.pem")).unwrap();
    let root = std::fs::read(fixture("root-crl.pem")).unwrap();
    for (ica, why) in [
        (der, "the signature does not verify with the issuer's key"),
        (forged, "does not cover this certificate (issuer BHXH Test Issuing CA"),
    ] {
        let crls = CrlServer::serve(vec![("ica.crl".into(), ica), ("root.crl".into(), root.clone())]).await;
        let srv = fetching_server(crls.mirrors()).await;
        let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
        assert_eq!((status, code(&body)), (503, "CERT_REVOCATION_UNKNOWN"), "{body}");
        let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
        let detail = detail_en(&lines[0].detail);
        assert!(detail.contains(why), "{detail}");
        assert_eq!(srv.side_effects(USER).await, (0, false));
    }
}

/// A CA that partitions its CRL: partition A (first in the file) does not list `part-b`,
/// partition B, the one `part-b`'s distribution point names, does. Read by scope, B
/// decides; a reader that lets the issuer's first CRL decide would let it in.
#[tokio::test]
async fn a_partitioned_crl_decides_only_for_the_certificates_it_covers() {
    let srv = TestServer::start_with(|c| c.crl_file = Some(fixture("crl-partitions.pem"))).await;
    srv.enrol(USER, MST, EMAIL).await;
    let (status, body) = srv.recover(&SoftToken::load("part-b"), USER).await;
    assert_eq!((status, code(&body)), (403, "CERT_REVOKED"), "{body}");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert!(detail_en(&lines[0].detail).contains("revoked per CRL file (number"), "{lines:?}");
    // rsa-valid names ica.crl, which neither partition is: nothing covers it, nothing
    // passes it.
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!((status, code(&body)), (503, "CERT_REVOCATION_UNKNOWN"), "{body}");
    assert_eq!(srv.side_effects(USER).await, (0, false));
}
