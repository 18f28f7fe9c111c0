//! The API contract (issue 26, item 1): the OpenAPI 3.1 document the server generates
//! from its handlers is the one served at `/v1/openapi.json` and the one kept in
//! `docs/openapi.json`; and Schemathesis (PyPI, in `target/tools/st-venv`, set up by
//! `scripts/lib.sh`) runs every one of its default checks, on every operation, against a
//! live server with that document, and finds nothing: no 5xx, no status, content type,
//! header or body the document does not say, nothing accepted that it refuses.
//!
//! Isolation: the server is this test's own (port 0, its own folder and database);
//! Schemathesis keeps no example database (`--generation-database none`) and its seed
//! is fixed, so a run asks the same requests each time.

use std::path::PathBuf;
use std::process::Command;

use crate::common::*;

fn docs_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// The document served is the code's, and `docs/openapi.json` is that document
/// (`BHXH_UPDATE_GENERATED=1` writes it).
#[tokio::test(flavor = "multi_thread")]
async fn the_served_document_is_the_codes_and_the_one_in_docs() {
    let srv = TestServer::start().await;
    let r = srv.http.get(format!("{}/v1/openapi.json", srv.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served = r.text().await.unwrap();
    assert_eq!(served, bhxh_server::http::document_json(), "served as generated");
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every public route is in it, each refusal under its code's own status.
    for path in [
        "/v1/health",
        "/v1/health/live",
        "/v1/health/ready",
        "/v1/recovery/challenge",
        "/v1/recovery/complete",
        "/v1/certificate/check",
        "/v1/auth/login",
        "/v1/auth/change-password",
        "/v1/auth/logout",
        "/v1/auth/session",
        "/v1/portal/captcha",
        "/v1/portal/recover",
        "/portal/activate",
        "/email-change/confirm",
        "/email-change/cancel",
        "/v1/support/reports",
        "/v1/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let complete = &doc["paths"]["/v1/recovery/complete"]["post"]["responses"];
    let codes_403 = &complete["403"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]["code"]["enum"];
    for code in ["CERT_NOT_BOUND", "SIGNATURE_INVALID", "CERT_REVOKED", "CERT_UNTRUSTED"] {
        assert!(codes_403.as_array().unwrap().iter().any(|c| c == code), "{code} under 403: {codes_403}");
    }
    assert!(complete["503"].to_string().contains("CERT_REVOCATION_UNKNOWN"));
    assert!(doc["paths"]["/v1/auth/login"]["post"]["responses"]["429"]["headers"]["Retry-After"].is_object());
    // Every example answer carries a reference of the real form (RC-XXXX-XXXX).
    let examples = &complete["403"]["content"]["application/json"]["examples"];
    for (code, example) in examples.as_object().unwrap() {
        let reference = example["value"]["reference"].as_str().unwrap();
        assert_eq!(
            bhxh_protocol::Reference::parse(reference).map(|r| r.to_string()).as_deref(),
            Some(reference),
            "{code}"
        );
    }
    // Not ready is a Readiness that says which check failed, not an error body.
    assert_eq!(
        doc["paths"]["/v1/health/ready"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Readiness"
    );
    let path = docs_file();
    if std::env::var_os("BHXH_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &served).unwrap();
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == served,
        "docs/openapi.json is not the server's document: run BHXH_UPDATE_GENERATED=1 cargo test -p bhxh-server --test it openapi"
    );
}

/// Schemathesis against a live server: every default check, every operation, a bounded
/// number of examples per operation, a fixed seed.
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_nothing_outside_the_document() {
    let st = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/st-venv/bin/st");
    assert!(st.exists(), "Schemathesis: run `source scripts/lib.sh && schemathesis_env` (the test command does)");
    let srv = TestServer::start_with(|c| {
        // Its support reports reach the report's own checks, not the hourly budget.
        c.support.codes_per_client_per_hour = 100_000;
        c.support.codes_per_network_per_hour = 100_000;
        c.support.codes_per_hour = 100_000;
    })
    .await;
    srv.enrol("ketoan01", "0312345678", "ketoan@congty.vn").await;
    // A live session, so the session's operations are reached past their 401.
    srv.set_password("ketoan01", "Mat-khau-cu-2024!").await;
    let (status, login) = srv.login("ketoan01", "Mat-khau-cu-2024!").await;
    assert_eq!(status, 200, "{login}");
    let bearer = format!("Authorization: Bearer {}", login["session_token"].as_str().unwrap());
    let doc: serde_json::Value = serde_json::from_str(bhxh_server::http::document_json()).unwrap();
    let operations: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    // The document as kept in docs/ (the test above holds it equal to the one served; read
    // from its URL, Schemathesis leaves out the operation that serves it).
    let url = docs_file().to_string_lossy().into_owned();
    let base = srv.base.clone();
    let report = srv.data.path().join("schemathesis.xml");
    let junit = report.clone();
    // Its own files (a cache, crash files) go to this test's folder, not the source tree.
    let cwd = srv.data.path().to_path_buf();
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis.toml");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&st)
            .args(["--no-color", "--config-file"])
            .arg(&config)
            .args(["run", &url, "--url", &base, "--header", &bearer])
            .args(["--max-examples", "25", "--seed", "20261206", "--generation-database", "none", "--workers", "1"])
            .args(["--request-timeout", "60", "--report", "junit", "--report-junit-path"])
            .arg(&report)
            .current_dir(&cwd)
            .env("NO_PROXY", "*")
            .output()
            .expect("running Schemathesis")
    })
    .await
    .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "Schemathesis found what the document does not say:\n{text}");
    // It did test every operation of the document, and many cases.
    let junit = std::fs::read_to_string(&junit).expect("the JUnit report");
    for op in &operations {
        assert!(junit.contains(&format!("testcase name=\"{op}\"")), "{op} was not tested:\n{text}");
    }
    let cases = text.lines().find(|l| l.contains(" generated, ")).unwrap_or_default();
    let generated: usize = cases.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(generated >= 20 * operations.len(), "{cases}");
}
