//! The operators' probes and metrics: liveness and readiness on the public listener;
//! metrics served by the staff listener only, in the text format
//! `promtool check metrics` accepts (Debian's `prometheus` package), counting what
//! happened; a real Prometheus server scrapes a running backend; the example alert rules
//! (docs/prometheus/) pass `promtool check rules` and `promtool test rules`.
//!
//! Counters are process-wide and other tests of this binary run beside these: the
//! assertions are lower bounds on them, exact values only on what is read from this
//! test's own server when scraped (its CRL file, its outbox, its database).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

/// The value of the sample `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let all = labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        (metric == name && all).then(|| value.parse().ok()).flatten()
    })
}

async fn scrape(srv: &TestServer) -> (u16, String, String) {
    let r = reqwest::Client::new()
        .get(format!("{}/metrics", srv.staff_base.as_ref().expect("staff listener")))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ctype, r.text().await.unwrap())
}

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package; scripts/lib.sh installs it)");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_on_the_staff_listener_only_and_count_what_happened() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    assert_eq!(code(&srv.recover(&SoftToken::load("other-mst"), USER).await.1), "CERT_NOT_BOUND");
    assert_eq!(code(&srv.recover(&SoftToken::load("revoked"), USER).await.1), "CERT_REVOKED");
    // Never on the public listener.
    let r = srv.http.get(format!("{}/metrics", srv.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "NOT_FOUND");

    let (status, ctype, text) = scrape(&srv).await;
    assert_eq!(status, 200);
    assert_eq!(ctype, "text/plain; version=0.0.4");
    let (ok, lint) = promtool(&["check", "metrics"], Some(&text));
    assert!(ok, "promtool check metrics: {lint}\n{text}");

    let recovery = "bhxh-password-recovery/v1";
    let at_least_one = |name: &str, labels: &[(&str, &str)]| {
        let v = sample(&text, name, labels).unwrap_or_else(|| panic!("{name} {labels:?} missing:\n{text}"));
        assert!(v >= 1.0, "{name} {labels:?} = {v}");
    };
    at_least_one("bhxh_token_proofs_total", &[("purpose", recovery), ("code", "ok")]);
    at_least_one("bhxh_token_proofs_total", &[("purpose", recovery), ("code", "CERT_NOT_BOUND")]);
    at_least_one("bhxh_token_proofs_total", &[("purpose", recovery), ("code", "CERT_REVOKED")]);
    at_least_one("bhxh_http_requests_total", &[("route", "/v1/recovery/complete"), ("code", "CERT_NOT_BOUND")]);
    at_least_one("bhxh_http_requests_total", &[("route", "/v1/recovery/challenge"), ("code", "ok")]);
    at_least_one("bhxh_http_requests_total", &[("route", "unmatched"), ("code", "NOT_FOUND")]);
    at_least_one("bhxh_http_request_duration_seconds_count", &[("route", "/v1/recovery/complete")]);
    at_least_one("bhxh_certificate_verdict_duration_seconds_count", &[("outcome", "accepted")]);
    at_least_one("bhxh_certificate_verdict_duration_seconds_count", &[("outcome", "refused")]);
    at_least_one("bhxh_argon2_duration_seconds_count", &[("lane", "recovery")]);
    at_least_one("bhxh_argon2_queue_wait_seconds_count", &[("lane", "recovery")]);
    // The first proof came from a stranger; the answers after it from a client in good standing.
    at_least_one("bhxh_turn_wait_seconds_count", &[("class", "stranger")]);
    at_least_one("bhxh_turn_wait_seconds_count", &[("class", "good")]);
    at_least_one("bhxh_build_info", &[("version", env!("CARGO_PKG_VERSION"))]);
    // Read from this server when scraped: its database, its outbox, its CRL file.
    assert_eq!(sample(&text, "bhxh_database_up", &[]), Some(1.0));
    assert!(sample(&text, "bhxh_outbox_pending_mails", &[]).is_some(), "{text}");
    assert!(sample(&text, "bhxh_outbox_oldest_pending_age_seconds", &[]).is_some(), "{text}");
    assert_eq!(sample(&text, "bhxh_outbox_dead_letters", &[]), Some(0.0));
    for lane in ["recovery", "staff", "known_login", "login"] {
        assert!(sample(&text, "bhxh_argon2_queue_depth", &[("lane", lane)]).is_some(), "{lane}");
    }
    let crl = bhxh_server::revocation::load_crl_file(
        &fixture("crl.pem"),
        &bhxh_server::verify::TrustStore::load(Some(&fixture("trust.pem")), Some(&fixture("intermediates.pem")))
            .unwrap(),
    )
    .unwrap();
    for c in &crl {
        let source = format!("file:{}", c.issuer_cn);
        assert_eq!(
            sample(&text, "bhxh_crl_next_update_timestamp_seconds", &[("source", &source)]),
            Some(c.next_update as f64),
            "{source}"
        );
    }
    // No label holds what a user sent: the username, the address, a path as typed.
    assert!(!text.contains(USER) && !text.contains(EMAIL), "{text}");
}

/// A real Prometheus server (Debian's `prometheus`, its own port and data folder)
/// scrapes a running backend's staff listener: the target is up and the server's
/// series arrive. Waits on Prometheus' own query API, with a deadline for a busy machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_server_scrapes_a_running_backend() {
    let srv = TestServer::start().await;
    let target = srv.staff_base.as_ref().unwrap().trim_start_matches("http://").to_string();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: bhxh\n    static_configs:\n      - targets: ['{target}']\n",
            bhxh_testkit::root().join("docs/prometheus/alerts.yml").display()
        ),
    )
    .unwrap();
    let port = free_port();
    let mut prometheus = KillOnDrop(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).unwrap())
            .spawn()
            .expect("prometheus (Debian's prometheus package; scripts/lib.sh installs it)"),
    );
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap();
    let query = |q: &'static str| {
        let http = http.clone();
        async move {
            let r =
                http.get(format!("http://127.0.0.1:{port}/api/v1/query")).query(&[("query", q)]).send().await.ok()?;
            let v: Value = r.json().await.ok()?;
            let result = v["data"]["result"].as_array()?.clone();
            result.first().and_then(|s| s["value"][1].as_str().map(str::to_string))
        }
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = prometheus.0.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default();
            panic!("prometheus ended ({status}):\n{log}");
        }
        let up = query("up{job=\"bhxh\"}").await;
        let build = query("bhxh_build_info{job=\"bhxh\"}").await;
        let db = query("bhxh_database_up{job=\"bhxh\"}").await;
        if (up.as_deref(), build.as_deref(), db.as_deref()) == (Some("1"), Some("1"), Some("1")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no scrape within 120 s: up={up:?} build={build:?} db={db:?}\n{}",
            std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The example rules were loaded by the real server too.
    let rules: Value =
        http.get(format!("http://127.0.0.1:{port}/api/v1/rules")).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()))
        .collect();
    assert!(names.contains(&"BhxhCrlNearNextUpdate") && names.contains(&"BhxhOutboxStuck"), "{names:?}");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example alert rules are valid and each fires on the series that should fire it
/// (docs/prometheus/alerts.test.yml), and not on healthy ones.
#[test]
fn the_example_alert_rules_check_and_fire_when_they_must() {
    let dir = bhxh_testkit::root().join("docs/prometheus");
    let (ok, out) = promtool(&["check", "rules", dir.join("alerts.yml").to_str().unwrap()], None);
    assert!(ok && out.contains("SUCCESS: 8 rules found"), "{out}");
    let (ok, out) = promtool(&["test", "rules", dir.join("alerts.test.yml").to_str().unwrap()], None);
    assert!(ok && out.contains("SUCCESS"), "{out}");
}

/// Liveness says the process serves; readiness says a recovery can be served now: the
/// database answers and no CRL is past its nextUpdate (a stale one fails recoveries
/// closed). The database outage is in `faults::postgres_stopped_mid_run_answers_503_and_service_resumes_by_itself`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_the_database_and_current_revocation_liveness_the_process() {
    let get = |srv: &TestServer, path: &str| {
        let url = format!("{}{path}", srv.base);
        let http = srv.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let srv = TestServer::start().await;
    let (status, live) = get(&srv, "/v1/health/live").await;
    assert_eq!((status, &live["status"]), (200, &"alive".into()));
    let (status, ready) = get(&srv, "/v1/health/ready").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        (&ready["status"], &ready["database"], &ready["revocation"]),
        (&"ready".into(), &true.into(), &true.into())
    );
    // The same server with a CRL file past its nextUpdate: alive, not ready, and why.
    let stale = TestServer::start_with(|c| c.crl_file = Some(fixture("expired-crl.pem"))).await;
    assert_eq!(get(&stale, "/v1/health/live").await.0, 200);
    let (status, ready) = get(&stale, "/v1/health/ready").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(
        (&ready["status"], &ready["database"], &ready["revocation"]),
        (&"not_ready".into(), &true.into(), &false.into())
    );
    // The recovery it warns of: refused, fail-closed.
    stale.enrol(USER, MST, EMAIL).await;
    assert_eq!(code(&stale.recover(&SoftToken::load("rsa-valid"), USER).await.1), "CERT_REVOCATION_UNKNOWN");
}
