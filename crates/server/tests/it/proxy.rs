//! The deployment for more than one machine: Debian nginx in front of two real
//! `bhxh-server` processes on one PostgreSQL database (the README's config). Clients
//! come from their own loopback addresses (127.0.0.2, 127.0.0.3: Linux routes all of
//! 127/8 to lo), so nginx sees each as a different peer and appends it to
//! `X-Forwarded-For`; the servers trust only nginx (127.0.0.1). Each test has its own
//! database (the testkit's cluster), data dir, ports, nginx prefix and SMTP sink.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use bhxh_server::store::Store;
use bhxh_testkit::nginx::Nginx;

const ORIGIN: &str = "https://reset.example.vn";

/// Two server processes on one fresh database, sharing a data dir (the outbox key) and
/// an SMTP sink, behind nginx.
struct Farm {
    nginx: Nginx,
    servers: Vec<ServerProcess>,
    ports: Vec<u16>,
    db: String,
    _smtp: SmtpSink,
    _dir: tempfile::TempDir,
}

async fn farm(limits: &str) -> Farm {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(&dir.path().join("received"), 0);
    let db = postgres_database();
    let data = dir.path().join("data");
    let ports = [free_port(), free_port()];
    let http = client(None);
    let mut servers = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let config = dir.path().join(format!("server{i}.toml"));
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\nstaff_listen = \"\"\npublic_origin = \"{ORIGIN}\"\ndata_dir = {data:?}\ndatabase_url = {db:?}\n\
                 smtp_url = \"smtp://127.0.0.1:{}\"\ntrust_anchors = {:?}\ntrust_intermediates = {:?}\ncrl_file = {:?}\n\
                 trusted_proxies = [\"127.0.0.1\"]\n[limits]\n{limits}\n[outbox]\npoll_ms = 50\nclaim_lease_secs = 2\ndelivery_timeout_secs = 1\n\
                 [revocation]\nocsp = false\nfetch_crls = false\n",
                smtp.port,
                fixture("trust.pem"),
                fixture("intermediates.pem"),
                fixture("crl.pem")
            ),
        )
        .unwrap();
        // One after the other: the first creates the outbox key the second reads.
        servers.push(ServerProcess::start(&config));
        wait_healthy(&http, &format!("http://127.0.0.1:{port}")).await;
    }
    let nginx = Nginx::start(dir.path().join("nginx"), &ports);
    Farm { nginx, servers, ports: ports.to_vec(), db, _smtp: smtp, _dir: dir }
}

/// A client whose connections come from `from` (a loopback address of its own).
fn client(from: Option<&str>) -> reqwest::Client {
    let mut b = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(20));
    if let Some(from) = from {
        b = b.local_address(from.parse::<IpAddr>().unwrap());
    }
    b.build().unwrap()
}

/// A login with a wrong password, optionally with a made-up `X-Forwarded-For`. Logins
/// are limited in the database, so every server counts the same client.
async fn login(http: &reqwest::Client, base: &str, spoof: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = http
        .post(format!("{base}/v1/auth/login"))
        .json(&serde_json::json!({"username": "ketoan01", "password": "Sai-mat-khau-1!"}));
    if let Some(s) = spoof {
        req = req.header("x-forwarded-for", s);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn enrol(db: &str, users: &[String]) {
    let store = Store::open(db).await.unwrap();
    let clock = bhxh_server::Clock::system();
    for u in users {
        bhxh_server::admin::account_add(&store, &clock, u, MST, &format!("{u}@congty.vn"), None).await.unwrap();
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_nginx_a_spoofed_header_escapes_no_limit_and_each_client_is_limited_alone() {
    let farm =
        farm("per_client = 3\nper_client_window_secs = 600\nper_username = 1000\nper_username_total = 1000").await;
    enrol(&farm.db, &["ketoan01".to_string()]).await;
    let x = client(Some("127.0.0.2"));
    // Five challenges, each claiming another address: the client is what nginx saw.
    let mut statuses = Vec::new();
    let mut references = Vec::new();
    for i in 0..5 {
        let (status, body) = login(&x, &farm.nginx.base, Some(&format!("198.51.100.{i}"))).await;
        statuses.push(status);
        references.push(body["reference"].as_str().unwrap().to_string());
        if status != 401 {
            assert_eq!(code(&body), "RATE_LIMITED", "{body}");
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429], "round robin over two servers, one shared count");
    // Another client is limited on its own.
    let (status, body) = login(&client(Some("127.0.0.3")), &farm.nginx.base, None).await;
    assert_eq!(status, 401, "{body}");
    // Straight to a server (not through the trusted proxy), the header is not read at all.
    let (status, _) = login(&x, &format!("http://127.0.0.1:{}", farm.ports[1]), Some("203.0.113.9")).await;
    assert_eq!(status, 429, "the same client, its own bucket, whatever it claims");
    // The audit records the real address, never the claimed one.
    let store = Store::open(&farm.db).await.unwrap();
    for r in &references {
        let lines = store.audit_by_reference(r).await.unwrap();
        assert_eq!(lines[0].client_addr.as_deref(), Some("127.0.0.2"), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_load_loses_no_reset() {
    let mut farm =
        farm("per_client = 100000\nper_username = 100000\nper_username_total = 100000\nreset_mails_per_day = 100000")
            .await;
    let users: Vec<String> = (0..6).map(|i| format!("nv{i:02}")).collect();
    enrol(&farm.db, &users).await;
    let token = Arc::new(SoftToken::load("rsa-valid"));
    let answered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..3 {
        let (base, token, answered, stop, users) =
            (farm.nginx.base.clone(), token.clone(), answered.clone(), stop.clone(), users.clone());
        workers.push(tokio::spawn(async move {
            let http = client(Some(&format!("127.0.0.{}", 10 + w)));
            let mut refs = Vec::new();
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                i += 3;
                // A request cut by the kill gets 502 or an error: the user tries again.
                if let Ok(Some(r)) = one_reset(&http, &base, &token, &users[i % users.len()]).await {
                    refs.push(r);
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            }
            refs
        }));
    }
    // Some resets through both servers, then one is SIGKILLed wherever it is.
    wait_until(|| answered.load(Ordering::SeqCst) >= 10).await;
    farm.servers[0].kill().unwrap();
    farm.servers[0].wait().unwrap();
    let at_kill = answered.load(Ordering::SeqCst);
    // Service goes on through the other one.
    wait_until(|| answered.load(Ordering::SeqCst) >= at_kill + 10).await;
    stop.store(true, Ordering::Relaxed);
    let mut refs = Vec::new();
    for w in workers {
        refs.extend(w.await.unwrap());
    }
    // Every reset answered 200 is whole in the shared database: its reset mail, once.
    let store = Store::open(&farm.db).await.unwrap();
    let mails = store.list_mail(100_000).await.unwrap();
    for r in &refs {
        let n = mails.iter().filter(|m| m.reference == *r && m.kind == "reset").count();
        assert_eq!(n, 1, "reset {r} answered 200 has {n} reset mails");
    }
    assert!(refs.len() >= 20, "{} resets", refs.len());
    let log = std::fs::read_to_string(farm.nginx.dir.join("access.log")).unwrap();
    assert!(log.lines().count() >= refs.len() * 2, "every request went through nginx");
}

/// Waits (polling a counter the workers raise) until `cond` holds, at most a minute.
async fn wait_until(cond: impl Fn() -> bool) {
    for _ in 0..6000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in a minute");
}
