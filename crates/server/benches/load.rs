//! Load generator and verify-path timing for the reset backend (`cargo bench -p
//! bhxh-server --bench load`). It reports figures; it asserts nothing.
//!
//! 1. The verify path (parse, chain, CRL, signature) in-process: p50 and p99 over many
//!    runs, RSA-2048 and P-256.
//! 2. argon2id: one hash's time, and the machine's limit (cores ÷ that time).
//! 3. The portal captcha: one image's time in-process, and captchas per second served by
//!    the real binary (each one rendered and stored).
//! 4. The real `bhxh-server` binary under load from this process over loopback:
//!    challenges per second, completed resets per second with p50/p95 (alone, under a
//!    challenge flood, under a login flood), one owner's resets alone, quiet and while 50
//!    addresses flood her username (wrong passwords; then challenges, empty certificates,
//!    junk signatures and wrong passwords), and the server's memory (VmRSS, VmHWM). The load
//!    generator shares the machine's cores.
//!    `BHXH_BENCH_ONLY=server` runs 2 to 4 alone.
//! 5. The desk's rooms (`BHXH_BENCH_ONLY=desk` alone): token-proven email changes and
//!    support codes per second.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bhxh_protocol::{to_be_signed, Purpose};
use bhxh_server::verify::{check_signature, TrustStore};

#[path = "support/mod.rs"]
mod support;
use support::Token;

const ACCOUNTS: usize = 200;

fn fixtures() -> PathBuf {
    bhxh_testkit::fixtures().to_path_buf()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(mut v: Vec<f64>) -> (f64, f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&v, 0.5), percentile(&v, 0.95), percentile(&v, 0.99), *v.last().unwrap())
}

fn verify_path(dir: &Path) {
    let trust = TrustStore::load(Some(&dir.join("trust.pem")), Some(&dir.join("intermediates.pem"))).unwrap();
    let (rt, revocation) = support::revocation(dir, &dir.join("crl.pem"), None);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    for name in ["rsa-valid", "ec-valid"] {
        let t = Token::load(dir, name);
        let data = to_be_signed(Purpose::PasswordRecovery, "https://reset.example.vn", "ketoan01", "nonce");
        let sig = t.sign(&data);
        let mut times = Vec::with_capacity(20_000);
        for _ in 0..20_000 {
            let start = Instant::now();
            let checked = trust.check_certificate(&t.cert, &[], t.alg, now).unwrap();
            std::hint::black_box(rt.block_on(revocation.check(&checked.links, now)).unwrap());
            check_signature(&t.cert, t.alg, &data, &sig).unwrap();
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
        let (p50, _, p99, max) = summary(times);
        println!("verify path {name:9} (parse + chain + CRL + signature): p50 {p50:6.1} µs  p99 {p99:6.1} µs  max {max:7.1} µs");
    }
}

fn captcha_time() {
    let mut times = Vec::new();
    for _ in 0..300 {
        let start = Instant::now();
        std::hint::black_box(bhxh_server::portal::make_captcha().unwrap());
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, _, p99, _) = summary(times);
    println!("captcha image (5 characters, 280×70 PNG): p50 {p50:.2} ms  p99 {p99:.2} ms");
}

async fn argon2_limit() -> f64 {
    let hasher = bhxh_server::passwords::Hasher::new(&Default::default()).unwrap();
    for _ in 0..4 {
        // Warm-up: each hashing thread touches its working area once.
        hasher.hash(bhxh_server::passwords::Lane::Login, zeroize::Zeroizing::new("warm-up".into())).await.unwrap();
    }
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        hasher
            .hash(bhxh_server::passwords::Lane::Login, zeroize::Zeroizing::new("Mua-thu-2026!".into()))
            .await
            .unwrap();
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let (p50, ..) = summary(times);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
    let limit = cores / (p50 / 1e3);
    println!("argon2id (m=19 MiB, t=2, p=1): {p50:.1} ms a hash → limit {limit:.0} hashes/s on {cores} cores");
    limit
}

fn memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_string())
            .unwrap_or_default()
    };
    format!("VmRSS {} kB, VmHWM {} kB", field("VmRSS:"), field("VmHWM:"))
}

/// The real binary on a database of its own with the bench's accounts, ready.
struct Server {
    child: std::process::Child,
    base: String,
    http: reqwest::Client,
    _work: tempfile::TempDir,
}

async fn start_server(dir: &Path, extra_config: &str) -> Server {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    // BHXH_BENCH_DB=postgres: the same load on a PostgreSQL cluster of the bench's own.
    let db_url = match std::env::var("BHXH_BENCH_DB").as_deref() {
        Ok("postgres") => bhxh_testkit::postgres_database(),
        _ => format!("sqlite://{}", data.join("bhxh.db").display()),
    };
    println!("database: {}", db_url.split('@').next_back().unwrap_or(&db_url));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = work.path().join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\nstaff_listen = \"\"\ntrusted_proxies = [\"127.0.0.1\"]\ndata_dir = {data:?}\ndatabase_url = {db_url:?}\n\
             trust_anchors = {:?}\ntrust_intermediates = {:?}\ncrl_file = {:?}\n[http]\nmax_connections_per_client = 100000000\n[limits]\nper_client = 100000000\nper_username = 100000000\nper_username_total = 100000000\nreset_mails_per_day = 100000000\n\
             [revocation]\nocsp = false\nfetch_crls = false\n{extra_config}",
            dir.join("trust.pem"),
            dir.join("intermediates.pem"),
            dir.join("crl.pem")
        ),
    )
    .unwrap();
    {
        let store = bhxh_server::store::Store::open(&db_url).await.unwrap();
        let clock = bhxh_server::Clock::system();
        for i in 0..ACCOUNTS {
            bhxh_server::admin::account_add(
                &store,
                &clock,
                &format!("user{i:03}"),
                "0101234567",
                &format!("u{i}@congty.vn"),
                None,
            )
            .await
            .unwrap();
        }
        store.close().await;
    }
    let child = Command::new(env!("CARGO_BIN_EXE_bhxh-server"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("BHXH_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(64).build().unwrap();
    for _ in 0..200 {
        if http.get(format!("{base}/v1/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Server { child, base, http, _work: work }
}

async fn server_load(dir: &Path, argon2_limit: f64) {
    let Server { mut child, base, http, _work } = start_server(dir, "").await;
    println!("server idle: {}", memory(child.id()));

    // Challenges per second.
    let b = base.clone();
    let run = drive(&http, 16, 5.0, move |http, i| {
        let base = b.clone();
        async move {
            let r = http
                .post(format!("{base}/v1/recovery/challenge"))
                .json(&serde_json::json!({"username": format!("user{:03}", i % ACCOUNTS), "purpose": "bhxh-password-recovery/v1"}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            let _ = r.bytes().await;
        }
    })
    .await;
    println!("challenges: {:.0}/s {run}; server {}", run.rate(), memory(child.id()));

    // Portal captchas per second (rendered, stored, answered as PNG).
    let b = base.clone();
    let run = drive(&http, 8, 5.0, move |http, _| {
        let base = b.clone();
        async move {
            let r = http.get(format!("{base}/v1/portal/captcha")).send().await.unwrap();
            assert!(r.status().is_success());
            let _ = r.bytes().await;
        }
    })
    .await;
    println!("portal captchas: {:.0}/s {run}; server {}", run.rate(), memory(child.id()));

    // Completed resets per second.
    let token = Arc::new(Token::load(dir, "rsa-valid"));
    let (b, t) = (base.clone(), token.clone());
    let run = drive(&http, 8, 10.0, move |http, i| {
        let (base, token) = (b.clone(), t.clone());
        async move {
            let status = reset(&http, &base, &token, &format!("user{:03}", i % ACCOUNTS), None).await;
            assert_eq!(status, 200);
        }
    })
    .await;
    println!(
        "resets (challenge + sign + complete): {:.1}/s = {:.0} % of the argon2 limit {run}; server {}",
        run.rate(),
        100.0 * run.rate() / argon2_limit,
        memory(child.id())
    );

    // The same resets while 16 clients flood the challenge endpoint.
    let (b, t, o) = (base.clone(), token.clone(), Arc::new(AtomicUsize::new(0)));
    let ok = o.clone();
    let b2 = base.clone();
    let (run, flood) = tokio::join!(
        drive(&http, 8, 10.0, move |http, i| {
            let (base, token, ok) = (b.clone(), t.clone(), o.clone());
            async move {
                if reset(&http, &base, &token, &format!("user{:03}", i % ACCOUNTS), None).await == 200 {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }),
        drive(&http, 16, 10.0, move |http, i| {
            let base = b2.clone();
            async move {
                let _ = http
                    .post(format!("{base}/v1/recovery/challenge"))
                    .json(&serde_json::json!({"username": format!("flood{:05}", i % 50_000), "purpose": "bhxh-password-recovery/v1"}))
                    .send()
                    .await;
            }
        })
    );
    println!(
        "resets during a challenge flood ({:.0} challenges/s): {:.1}/s, {:.1} % succeeded {run}; server {}",
        flood.rate(),
        run.rate(),
        100.0 * ok.load(Ordering::Relaxed) as f64 / run.lat.len().max(1) as f64,
        memory(child.id())
    );

    // The same resets while an unauthenticated login flood arrives at 10× the argon2
    // limit (open loop: a login costs two hashes), for 10 s.
    let flood_rate = 10.0 * argon2_limit / 2.0;
    let flood =
        Flood::start(&http, &base, flood_rate, Tries::Passwords, |n| (format!("user{:03}", n % ACCOUNTS), None));
    let ok = Arc::new(AtomicUsize::new(0));
    let (b, t, o) = (base.clone(), token.clone(), ok.clone());
    let run = drive(&http, 8, 10.0, move |http, i| {
        let (base, token, ok) = (b.clone(), t.clone(), o.clone());
        async move {
            if reset(&http, &base, &token, &format!("user{:03}", i % ACCOUNTS), None).await == 200 {
                ok.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
    .await;
    let answers = flood.end().await;
    println!(
        "resets under a login flood of {flood_rate:.0} logins/s (10× the argon2 limit): {:.1}/s, {:.1} % succeeded {run}; \
         the flood's answers: {answers}; server {}",
        run.rate(),
        100.0 * ok.load(Ordering::Relaxed) as f64 / run.lat.len().max(1) as f64,
        memory(child.id())
    );

    // One owner alone, from an address of her own that proved the account (good standing,
    // the trusted lanes): her resets' latency quiet, then while 50 other addresses flood
    // her username at the same rate, with wrong passwords, then with every kind of try.
    // The 8 clients above measure the resets' rate; this, what a lone user meets.
    let owner = "user007";
    let from = Some("203.0.113.10");
    assert_eq!(reset(&http, &base, &token, owner, from).await, 200);
    let alone = || async {
        let (mut lat, start) = (Vec::new(), Instant::now());
        while start.elapsed() < Duration::from_secs(10) {
            let t = Instant::now();
            assert_eq!(reset(&http, &base, &token, owner, from).await, 200, "the owner's reset");
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        Run { clients: 1, lat, elapsed: start.elapsed().as_secs_f64() }
    };
    println!("one owner's resets alone: quiet {}", alone().await);
    let everything = Tries::Everything { certificate: STANDARD.encode(&token.cert) };
    for (tries, what) in [(Tries::Passwords, "wrong passwords"), (everything, "tries of every kind")] {
        let flood = Flood::start(&http, &base, flood_rate, tries, move |n| {
            (owner.to_string(), Some(format!("198.51.100.{}", n % 50 + 1)))
        });
        let during = alone().await;
        let answers = flood.end().await;
        println!(
            "one owner's resets alone: under a flood of {flood_rate:.0} {what}/s for her username from 50 addresses \
             {during}; the flood's answers: {answers}"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// What a flood sends.
enum Tries {
    /// Wrong passwords.
    Passwords,
    /// In turn: a wrong password, a challenge, a challenge completed with no
    /// certificate, one completed with `certificate` (the owner's, public) and a junk
    /// signature — every kind of try the issue names.
    Everything { certificate: String },
}

/// An open-loop flood of `tries`, `rate` a second until it ends: the n-th for the
/// username `to(n)` gives, from the `X-Forwarded-For` address it gives (or the bench's
/// own); the answers counted by HTTP status (0: no answer).
struct Flood {
    stop: Arc<AtomicBool>,
    counts: Arc<Mutex<BTreeMap<u16, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Flood {
    fn start(
        http: &reqwest::Client,
        base: &str,
        rate: f64,
        tries: Tries,
        to: impl Fn(usize) -> (String, Option<String>) + Send + 'static,
    ) -> Flood {
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        // One copy of what it sends (the certificate), shared by every try.
        let tries = Arc::new(tries);
        let task = {
            let (http, base, counts, stop) = (http.clone(), base.to_string(), counts.clone(), stop.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    tick.tick().await;
                    n += 1;
                    let ((user, from), base) = (to(n), base.clone());
                    let post = move |http: &reqwest::Client, path: &str, body: serde_json::Value| {
                        post_from(http, &base, path, from.as_deref()).json(&body).send()
                    };
                    let (http, counts, tries) = (http.clone(), counts.clone(), tries.clone());
                    tokio::spawn(async move {
                        let recovery = "bhxh-password-recovery/v1";
                        let status = match (&*tries, n % 4) {
                            (Tries::Passwords, _) | (Tries::Everything { .. }, 0) => {
                                post(
                                    &http,
                                    "/v1/auth/login",
                                    serde_json::json!({"username": user, "password": format!("doan-mo-{n}")}),
                                )
                                .await
                            }
                            (Tries::Everything { certificate }, k) => {
                                let ch = post(
                                    &http,
                                    "/v1/recovery/challenge",
                                    serde_json::json!({"username": user, "purpose": recovery}),
                                )
                                .await;
                                match ch {
                                    Ok(r) if k > 1 && r.status() == 200 => {
                                        let ch: serde_json::Value = r.json().await.unwrap_or_default();
                                        let certificate = if k == 2 { "" } else { certificate };
                                        post(&http, "/v1/recovery/complete", serde_json::json!({
                                            "challenge_id": ch["challenge_id"], "username": user, "purpose": recovery,
                                            "certificate": certificate, "algorithm": "RS256", "signature": STANDARD.encode([7u8; 256]),
                                        }))
                                        .await
                                    }
                                    other => other,
                                }
                            }
                        };
                        let status = status.map(|r| r.status().as_u16()).unwrap_or(0);
                        *counts.lock().unwrap().entry(status).or_insert(0) += 1;
                    });
                }
            })
        };
        Flood { stop, counts, task }
    }

    /// Stops the flood; its answers so far, as "401 ×192, 503 ×5800".
    async fn end(self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        let counts = self.counts.lock().unwrap();
        counts.iter().map(|(status, n)| format!("{status} ×{n}")).collect::<Vec<_>>().join(", ")
    }
}

/// The support desk's rooms under load: token-proven email changes (challenge with the
/// address, sign the 160 bytes, complete: no argon2, a confirmation mail written) and
/// support codes (a 2 KiB report sealed and stored), each from 8 clients for 10 s.
async fn desk_load(dir: &Path) {
    let limits = "[email_change]\nper_account_per_day = 100000000\nper_mst_per_day = 100000000\n[support]\ncodes_per_client_per_hour = 100000000\ncodes_per_network_per_hour = 100000000\ncodes_per_hour = 100000000\n";
    let Server { mut child, base, http, _work } = start_server(dir, limits).await;
    let token = Arc::new(Token::load(dir, "rsa-valid"));
    let (b, t) = (base.clone(), token.clone());
    let run = drive(&http, 8, 10.0, move |http, i| {
        let (base, token) = (b.clone(), t.clone());
        async move {
            let user = format!("user{:03}", i % ACCOUNTS);
            let email = format!("moi{i}@congty.vn");
            let ch: serde_json::Value = http
                .post(format!("{base}/v1/recovery/challenge"))
                .json(&serde_json::json!({"username": user, "purpose": "bhxh-email-change/v1", "new_email": email}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let (origin, nonce) = (ch["origin"].as_str().unwrap(), ch["nonce"].as_str().unwrap());
            let sig = token.sign(&bhxh_protocol::signed_data(Purpose::EmailChange, origin, &user, nonce, Some(&email)));
            let r = http
                .post(format!("{base}/v1/recovery/complete"))
                .json(&serde_json::json!({
                    "challenge_id": ch["challenge_id"], "username": user, "purpose": "bhxh-email-change/v1",
                    "certificate": STANDARD.encode(&token.cert), "algorithm": token.alg, "signature": STANDARD.encode(sig),
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    })
    .await;
    println!(
        "email changes (challenge + sign 160 bytes + complete + confirmation mail): {:.1}/s {run}; server {}",
        run.rate(),
        memory(child.id())
    );

    let report: String = (0..40)
        .map(|i| format!("[ ĐẠT ] check{i:02}      something the app saw, in a line of fifty bytes\n"))
        .collect();
    let b = base.clone();
    let run = drive(&http, 8, 10.0, move |http, i| {
        let (base, report) = (b.clone(), report.clone());
        async move {
            let r = http
                .post(format!("{base}/v1/support/reports"))
                .header(bhxh_protocol::INSTANCE_HEADER, format!("bench-instance-{i:016}"))
                .json(&serde_json::json!({"report": report}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    })
    .await;
    println!(
        "support codes (a {} KiB report sealed and stored): {:.1}/s {run}; server {}",
        2,
        run.rate(),
        memory(child.id())
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// A POST to `path` from the bench's own address (`None`), or from the one a trusted
/// proxy (loopback) forwards.
fn post_from(http: &reqwest::Client, base: &str, path: &str, from: Option<&str>) -> reqwest::RequestBuilder {
    let req = http.post(format!("{base}{path}"));
    match from {
        Some(from) => req.header("x-forwarded-for", from),
        None => req,
    }
}

/// Challenge → sign → complete for `user`: the complete's status.
async fn reset(http: &reqwest::Client, base: &str, token: &Token, user: &str, from: Option<&str>) -> u16 {
    let post = |path: &str| post_from(http, base, path, from);
    let Ok(r) = post("/v1/recovery/challenge")
        .json(&serde_json::json!({"username": user, "purpose": "bhxh-password-recovery/v1"}))
        .send()
        .await
    else {
        return 0;
    };
    let Ok(ch) = r.json::<serde_json::Value>().await else { return 0 };
    let (Some(origin), Some(nonce)) = (ch["origin"].as_str(), ch["nonce"].as_str()) else { return 0 };
    let sig = token.sign(&to_be_signed(Purpose::PasswordRecovery, origin, user, nonce));
    let r = post("/v1/recovery/complete")
        .json(&serde_json::json!({
            "challenge_id": ch["challenge_id"], "username": user, "purpose": "bhxh-password-recovery/v1",
            "certificate": STANDARD.encode(&token.cert), "algorithm": token.alg, "signature": STANDARD.encode(sig),
        }))
        .send()
        .await;
    r.map(|r| r.status().as_u16()).unwrap_or(0)
}

/// What one load phase measured: every operation's latency (ms), over `elapsed` seconds.
struct Run {
    clients: usize,
    lat: Vec<f64>,
    elapsed: f64,
}

impl Run {
    fn rate(&self) -> f64 {
        self.lat.len() as f64 / self.elapsed
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (p50, p95, p99, _) = summary(self.lat.clone());
        write!(
            f,
            "with {} clients ({} in {:.1} s), latency p50 {p50:.2} ms p95 {p95:.2} ms p99 {p99:.2} ms",
            self.clients,
            self.lat.len(),
            self.elapsed
        )
    }
}

/// Runs `op` back to back from `clients` concurrent tasks for `secs` seconds; `op` gets
/// the HTTP client and a running number (spread over the clients).
async fn drive<F, Fut>(http: &reqwest::Client, clients: usize, secs: f64, op: F) -> Run
where
    F: Fn(reqwest::Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (http, op, stop) = (http.clone(), op.clone(), stop.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = c;
                while !stop.load(Ordering::Relaxed) {
                    i += clients;
                    let t = Instant::now();
                    op(http.clone(), i).await;
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    Run { clients, lat, elapsed: start.elapsed().as_secs_f64() }
}

/// The audit table at 1,000,000 lines (two years of a busy desk): how long the support
/// look-ups take (`audit show REF`, `audit list --username`, the console's timeline), and
/// how long the retention purge takes to remove the oldest half. SQLite, or PostgreSQL
/// with `BHXH_BENCH_DB=postgres`.
async fn audit_at_scale() {
    use bhxh_server::store::{Actor, AuditEntry, AuditEvent, Outcome, Store};
    const LINES: i64 = 1_000_000;
    let work = tempfile::tempdir().unwrap();
    let url = match std::env::var("BHXH_BENCH_DB").as_deref() {
        Ok("postgres") => bhxh_testkit::postgres_database(),
        _ => format!("sqlite://{}/audit.db", work.path().display()),
    };
    let store = Store::open(&url).await.unwrap();
    let now = 2_000_000_000i64;
    let span = 2 * 730 * 86_400; // four years back: half of it is past the two-year retention
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    let started = Instant::now();
    let mut refs = Vec::new();
    for batch in 0..(LINES / 1000) {
        let mut tx = pool.begin().await.unwrap();
        let mut sql =
            String::from("INSERT INTO audit (reference, at, event, username, outcome, actor, detail) VALUES ");
        for i in 0..1000 {
            let n = batch * 1000 + i;
            let reference = bhxh_protocol::Reference::new().to_string();
            if n % 5000 == 0 {
                refs.push(reference.clone());
            }
            let at = now - span + n * span / LINES;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('{reference}', {at}, 'login', 'user{:05}', 'ok', 'user', 'a line of detail')",
                n % 20_000
            ));
        }
        sqlx::raw_sql(&sql).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    let filled = started.elapsed();
    let mut show = Vec::new();
    for r in &refs {
        let t = Instant::now();
        std::hint::black_box(bhxh_server::admin::audit_show(&store, r).await.unwrap());
        show.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut list = Vec::new();
    for u in 0..200 {
        let t = Instant::now();
        std::hint::black_box(bhxh_server::admin::audit_list(&store, &format!("user{:05}", u * 97), 50).await.unwrap());
        list.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (s50, s95, _, _) = summary(show);
    let (l50, l95, _, _) = summary(list);
    let t = Instant::now();
    let counts = store.purge(now, &bhxh_server::config::RetentionConfig::default()).await.unwrap();
    let purged = counts.iter().find(|(t, _)| *t == "audit").map(|(_, n)| *n).unwrap_or(0);
    let purge_time = t.elapsed();
    let mut e =
        AuditEntry::new(bhxh_protocol::Reference::new().to_string(), now, AuditEvent::Login, Outcome::Ok, Actor::User);
    e.username = Some("user00001".into());
    let t = Instant::now();
    for _ in 0..200 {
        store.audit(&e).await.unwrap();
    }
    let write = t.elapsed().as_secs_f64() * 1000.0 / 200.0;
    println!(
        "audit at {LINES} lines ({}): filled in {:.1} s; `audit show REF` p50 {s50:.2} ms p95 {s95:.2} ms; \
         `audit list --username` p50 {l50:.2} ms p95 {l95:.2} ms; one audit write {write:.2} ms; \
         the purge removed {purged} lines past two years in {:.1} s",
        url.split(':').next().unwrap_or("?"),
        filled.as_secs_f64(),
        purge_time.as_secs_f64()
    );
    pool.close().await;
    store.close().await;
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this with no argument:
    // then only a smoke run is wanted, so stop before the long phases.
    let benching = std::env::args().any(|a| a == "--bench");
    let dir = fixtures();
    if !benching {
        return;
    }
    verify_path(&dir);
    captcha_time();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        match std::env::var("BHXH_BENCH_ONLY").as_deref() {
            Ok("audit") => return audit_at_scale().await,
            Ok("desk") => return desk_load(&dir).await,
            Ok("server") => return server_load(&dir, argon2_limit().await).await,
            _ => {}
        }
        let limit = argon2_limit().await;
        server_load(&dir, limit).await;
        desk_load(&dir).await;
        audit_at_scale().await;
    });
}
