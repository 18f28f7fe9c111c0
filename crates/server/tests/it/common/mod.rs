//! Test support: the fixture PKI, a real SMTP server, the server on port 0, and a
//! "token" in software (the fixture keys) that signs exactly as a client would.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bhxh_protocol::wire::ChallengeResponse;
use bhxh_protocol::{to_be_signed, Algorithm, Purpose};
use bhxh_server::store::Store;
pub use bhxh_server::store::{Actor, Detail};
use bhxh_server::{Application, Clock, Config};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256};
use serde_json::{json, Value};

#[allow(unused_imports)]
pub use bhxh_testkit::ocsp::{OcspResponder, OCSP_URL};
#[allow(unused_imports)]
pub use bhxh_testkit::{
    fixture, fixtures, free_port, password_in, portal_secrets_in, postgres_database, ReceivedMail, SmtpSink, MST,
};

// ---- the server ---------------------------------------------------------------------

pub struct TestServer {
    pub base: String,
    /// The staff console, when `staff_listen` is on.
    pub staff_base: Option<String>,
    /// Every captcha's answer, seen in process (a test cannot read the image).
    pub captchas: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    pub origin: String,
    pub store: Store,
    pub clock: Clock,
    pub data: tempfile::TempDir,
    pub smtp: Option<SmtpSink>,
    pub http: reqwest::Client,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// A config for tests: loopback port 0, the fixture trust anchors and CRL, quick retries,
/// limits high enough not to get in the way (rate-limit tests lower them).
pub fn test_config(data: &Path, smtp_port: Option<u16>) -> Config {
    let mut c = Config {
        listen: "127.0.0.1:0".into(),
        staff_listen: "127.0.0.1:0".into(),
        data_dir: data.to_path_buf(),
        ..Config::default()
    };
    c.trust_anchors = Some(fixture("trust.pem"));
    c.trust_intermediates = Some(fixture("intermediates.pem"));
    c.crl_file = Some(fixture("crl.pem"));
    // Offline, as a site with a CRL file is: the OCSP and fetching tests turn these on.
    c.revocation.ocsp = false;
    c.revocation.fetch_crls = false;
    c.smtp_url = smtp_port.map(|p| format!("smtp://127.0.0.1:{p}")).unwrap_or_default();
    c.outbox.poll_ms = 100;
    c.outbox.base_backoff_ms = 100;
    c.outbox.max_backoff_ms = 1000;
    c.limits.per_client = 100_000;
    c.limits.per_username = 100_000;
    c.limits.per_username_total = 100_000;
    c.limits.reset_mails_per_day = 100_000;
    // Every test client is on loopback: the one test of the per-client cap lowers it.
    c.http.max_connections_per_client = 100_000;
    c
}

/// A second server on `first`'s database shares its outbox key, as a deployment does
/// (a server with another key refuses to start).
pub fn share_outbox_key(first: &TestServer, c: &mut Config) {
    let key = std::fs::read(first.data.path().join("server/outbox.key")).expect("the first server's outbox key");
    std::fs::create_dir_all(&c.data_dir).unwrap();
    std::fs::write(c.data_dir.join("outbox.key"), key).unwrap();
}

impl TestServer {
    /// Server with a real SMTP sink.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let smtp = SmtpSink::start(&data.path().join("received"), 0);
        let mut config = test_config(&data.path().join("server"), Some(smtp.port));
        adjust(&mut config);
        Self::start_config(config, data, Some(smtp)).await
    }

    pub async fn start_config(config: Config, data: tempfile::TempDir, smtp: Option<SmtpSink>) -> TestServer {
        let clock = Clock::system();
        let mut app = Application::build_with_clock(config, clock.clone()).await.expect("server builds");
        let captchas = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
        let tap = captchas.clone();
        app.tap_captchas(move |id, answer| {
            tap.lock().unwrap().insert(id.to_string(), answer.to_string());
        });
        let base = format!("http://127.0.0.1:{}", app.port());
        let staff_base = app.staff_port().map(|p| format!("http://127.0.0.1:{p}"));
        let origin = app.origin();
        let store = app.store();
        let handle = app.spawn();
        let http = http_client();
        TestServer { base, staff_base, captchas, origin, store, clock, data, smtp, http, handle }
    }

    /// A fresh captcha: (id, its answer).
    pub async fn captcha(&self) -> (String, String) {
        let resp = self.http.get(format!("{}/v1/portal/captcha", self.base)).send().await.expect("captcha");
        assert_eq!(resp.status().as_u16(), 200);
        let body: Value = resp.json().await.unwrap();
        let id = body["captcha_id"].as_str().unwrap().to_string();
        let png = STANDARD.decode(body["image_png"].as_str().unwrap()).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the captcha is a PNG");
        let answer = self.captchas.lock().unwrap().get(&id).cloned().expect("the tap saw the captcha");
        (id, answer)
    }

    /// `POST /v1/portal/recover` with a freshly solved captcha.
    pub async fn portal(&self, mst: &str, email: &str) -> (u16, Value) {
        let (id, answer) = self.captcha().await;
        self.post("/v1/portal/recover", json!({"mst": mst, "email": email, "captcha_id": id, "captcha_answer": answer}))
            .await
    }

    /// Sets a long-term password directly (as if the user had changed it earlier).
    pub async fn set_password(&self, username: &str, password: &str) {
        let account = self.store.account_by_username(username).await.unwrap().unwrap();
        let hasher = bhxh_server::passwords::Hasher::new(&bhxh_server::config::Argon2Config::default()).unwrap();
        let hash = hasher
            .hash(bhxh_server::passwords::Lane::Login, zeroize::Zeroizing::new(password.to_string()))
            .await
            .unwrap();
        let notice = bhxh_server::store::NewMail {
            message_id: format!("setup-{username}@test"),
            account_id: Some(account.id),
            kind: bhxh_server::store::MailKind::NoticeChanged,
            recipient: "setup@test.invalid".into(),
            subject: "setup".into(),
            body: "setup".into(),
            secret: None,
            key_id: None,
            reference: "RC-TEST-0000".into(),
        };
        let audit = bhxh_server::store::AuditEntry::new(
            "RC-TEST-0000".into(),
            self.clock.now(),
            bhxh_server::store::AuditEvent::ChangePassword,
            bhxh_server::store::Outcome::Ok,
            Actor::User,
        );
        self.store.change_password(account.id, &hash, self.clock.now(), &notice, &audit).await.unwrap();
    }

    pub fn smtp(&self) -> &SmtpSink {
        self.smtp.as_ref().expect("this server has an SMTP sink")
    }

    pub async fn enrol(&self, username: &str, mst: &str, email: &str) {
        bhxh_server::admin::account_add(&self.store, &self.clock, username, mst, email, None).await.expect("enrol");
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, body.to_string(), None).await
    }

    pub async fn post_raw(&self, path: &str, body: String, token: Option<&str>) -> (u16, Value) {
        let mut req =
            self.http.post(format!("{}{path}", self.base)).header("content-type", "application/json").body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let header_ref = resp.headers().get("x-reference").map(|v| v.to_str().unwrap().to_string());
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        // Every answer carries a reference, in the body and the header alike.
        let body_ref = body.get("reference").and_then(Value::as_str).map(str::to_string);
        assert!(bhxh_protocol::Reference::parse(body_ref.as_deref().unwrap_or("")).is_some(), "no reference in {body}");
        assert_eq!(header_ref, body_ref, "X-Reference differs from the body's");
        (status, body)
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.post_raw(path, body.to_string(), Some(token)).await
    }

    pub async fn challenge(&self, username: &str, purpose: Purpose) -> ChallengeResponse {
        let (status, body) =
            self.post("/v1/recovery/challenge", json!({"username": username, "purpose": purpose.as_str()})).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// Signs a challenge as a client would and completes it.
    pub async fn complete(
        &self,
        token: &SoftToken,
        username: &str,
        purpose: Purpose,
        ch: &ChallengeResponse,
    ) -> (u16, Value) {
        let data = to_be_signed(purpose, &ch.origin, username, &ch.nonce);
        let sig = token.sign(&data);
        self.complete_raw(token, username, purpose, ch, &sig, token.alg).await
    }

    pub async fn complete_raw(
        &self,
        token: &SoftToken,
        username: &str,
        purpose: Purpose,
        ch: &ChallengeResponse,
        sig: &[u8],
        alg: Algorithm,
    ) -> (u16, Value) {
        let mut body = json!({
            "challenge_id": ch.challenge_id,
            "username": username,
            "purpose": purpose.as_str(),
            "certificate": STANDARD.encode(&token.cert_der),
            "algorithm": alg,
            "signature": STANDARD.encode(sig),
        });
        if !token.chain.is_empty() {
            body["chain"] = json!(token.chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>());
        }
        self.post("/v1/recovery/complete", body).await
    }

    /// The raw answer of a password recovery's complete, signed like a token (for its
    /// headers).
    pub async fn complete_response(
        &self,
        token: &SoftToken,
        username: &str,
        ch: &ChallengeResponse,
    ) -> reqwest::Response {
        let data = to_be_signed(Purpose::PasswordRecovery, &ch.origin, username, &ch.nonce);
        self.http
            .post(format!("{}/v1/recovery/complete", self.base))
            .json(&json!({
                "challenge_id": ch.challenge_id, "username": username, "purpose": Purpose::PasswordRecovery.as_str(),
                "certificate": STANDARD.encode(&token.cert_der), "algorithm": token.alg, "signature": STANDARD.encode(token.sign(&data)),
            }))
            .send()
            .await
            .unwrap()
    }

    /// Challenge → sign → complete for a password recovery.
    pub async fn recover(&self, token: &SoftToken, username: &str) -> (u16, Value) {
        let ch = self.challenge(username, Purpose::PasswordRecovery).await;
        self.complete(token, username, Purpose::PasswordRecovery, &ch).await
    }

    pub async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        self.post("/v1/auth/login", json!({"username": username, "password": password})).await
    }

    /// Rows in the outbox and whether the account holds a temporary password: what a
    /// refused attempt must leave unchanged.
    pub async fn side_effects(&self, username: &str) -> (usize, bool) {
        let mails = self.store.list_mail(10_000).await.unwrap().len();
        let temp =
            self.store.account_by_username(username).await.unwrap().is_some_and(|a| a.temp_password_hash.is_some());
        (mails, temp)
    }
}

pub fn code(body: &Value) -> &str {
    body.get("code").and_then(Value::as_str).unwrap_or("<none>")
}

// ---- the token, in software -----------------------------------------------------------

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    None,
}

/// A fixture certificate and its private key, signing like a token would.
pub struct SoftToken {
    pub cert_der: Vec<u8>,
    pub alg: Algorithm,
    /// CA certificates sent along as `chain` (as a token that carries them would).
    pub chain: Vec<Vec<u8>>,
    key: Key,
}

impl SoftToken {
    /// `name` is a fixture such as `rsa-valid` or `ec-valid`.
    pub fn load(name: &str) -> SoftToken {
        let cert_der = std::fs::read(fixture(&format!("{name}.cert.der"))).unwrap();
        let pem = std::fs::read(fixture(&format!("{name}.key.pem"))).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let rng = SystemRandom::new();
        let (key, alg) = if let Ok(k) = RsaKeyPair::from_pkcs8(&pem.contents) {
            (Key::Rsa(k), Algorithm::RS256)
        } else if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pem.contents, &rng) {
            (Key::Ec(k), Algorithm::ES256)
        } else {
            // ring refuses RSA keys under 2048 bits; the server refuses them before it
            // ever looks at the signature, so such a token signs with zeros.
            (Key::None, Algorithm::RS256)
        };
        SoftToken { cert_der, alg, chain: Vec::new(), key }
    }

    /// The same token carrying these fixture CA certificates (e.g. `ica`).
    pub fn with_chain(mut self, names: &[&str]) -> SoftToken {
        self.chain = names.iter().map(|n| std::fs::read(fixture(&format!("{n}.cert.der"))).unwrap()).collect();
        self
    }

    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.key {
            Key::Rsa(k) => {
                let mut sig = vec![0u8; k.public().modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, data, &mut sig).unwrap();
                sig
            }
            Key::Ec(k) => k.sign(&rng, data).unwrap().as_ref().to_vec(),
            Key::None => vec![0u8; 128],
        }
    }
}

// ---- a CA's CRL distribution point ------------------------------------------------------

/// An HTTP server on a loopback port of its own serving fixture CRLs as a CA's
/// distribution point would, counting what it serves; `stop` makes it unreachable.
pub struct CrlServer {
    pub base: String,
    pub hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl CrlServer {
    /// Serves `name` → the fixture file `file` (e.g. `ica.crl` → `ica-crl.pem`).
    pub async fn start(files: &[(&str, &str)]) -> CrlServer {
        Self::serve(
            files.iter().map(|(name, file)| (name.to_string(), std::fs::read(fixture(file)).unwrap())).collect(),
        )
        .await
    }

    /// Serves `name` → these bytes.
    pub async fn serve(files: Vec<(String, Vec<u8>)>) -> CrlServer {
        let map: std::collections::HashMap<String, Vec<u8>> =
            files.into_iter().map(|(name, body)| (format!("/{name}"), body)).collect();
        let map = std::sync::Arc::new(map);
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (m, h) = (map.clone(), hits.clone());
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let (m, h) = (m.clone(), h.clone());
            async move {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                match m.get(uri.path()) {
                    Some(body) => (axum::http::StatusCode::OK, body.clone()),
                    None => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CrlServer { base, hits, handle: Some(handle) }
    }

    /// The mirrors a server is configured with to reach this one for the fixture CAs'
    /// distribution points.
    pub fn mirrors(&self) -> std::collections::BTreeMap<String, String> {
        ["ica.crl", "root.crl"]
            .iter()
            .map(|n| (format!("http://crl.bhxh-test.invalid/{n}"), format!("{}/{n}", self.base)))
            .collect()
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Stops serving: connections are refused from now on.
    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
            let _ = h.await;
        }
    }
}

impl Drop for CrlServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

// ---- the real binary ---------------------------------------------------------------------

/// The real `bhxh-server` binary as a child process on a config file; killed when
/// dropped, so a failing assertion leaves none behind.
pub struct ServerProcess(std::process::Child);

impl ServerProcess {
    pub fn start(config: &Path) -> ServerProcess {
        ServerProcess(
            std::process::Command::new(env!("CARGO_BIN_EXE_bhxh-server"))
                .arg("--config")
                .arg(config)
                .arg("serve")
                .env("BHXH_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("starting bhxh-server"),
        )
    }

    /// SIGKILL: the process dies wherever it is.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.0.kill()
    }

    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.0.wait()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A client for the test servers on loopback: no proxy from the environment, 30 s at most.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap()
}

/// Waits (60 s at most: a start hashes the dummy password and migrates, slow on a
/// loaded 2-core machine) until `base` answers its health check.
pub async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{base}/v1/health")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("server at {base} did not come up in 60 s");
}

/// One challenge → sign → complete at `base`: the reference of a reset answered 200.
pub async fn one_reset(
    http: &reqwest::Client,
    base: &str,
    token: &SoftToken,
    user: &str,
) -> anyhow::Result<Option<String>> {
    use base64::Engine;
    use bhxh_protocol::{to_be_signed, Purpose};
    let ch: bhxh_protocol::wire::ChallengeResponse = http
        .post(format!("{base}/v1/recovery/challenge"))
        .json(&serde_json::json!({"username": user, "purpose": Purpose::PasswordRecovery.as_str()}))
        .send()
        .await?
        .json()
        .await?;
    let sig = token.sign(&to_be_signed(Purpose::PasswordRecovery, &ch.origin, user, &ch.nonce));
    let resp = http
        .post(format!("{base}/v1/recovery/complete"))
        .json(&serde_json::json!({
            "challenge_id": ch.challenge_id, "username": user, "purpose": Purpose::PasswordRecovery.as_str(),
            "certificate": base64::engine::general_purpose::STANDARD.encode(&token.cert_der),
            "algorithm": token.alg, "signature": base64::engine::general_purpose::STANDARD.encode(sig),
        }))
        .send()
        .await?;
    if !resp.status().is_success() {
        return Ok(None);
    }
    let body: Value = resp.json().await?;
    Ok(body["reference"].as_str().map(String::from))
}

// ---- a scripted SMTP relay ---------------------------------------------------------------

/// What a scripted relay is told: a command line, or the end of a mail's data (with its
/// Message-ID header's value).
pub enum RelayEvent<'a> {
    Command(&'a str),
    EndOfData(&'a str),
}

/// What it answers: these bytes, or nothing ever again on this connection.
pub enum RelayReply {
    Send(&'static [u8]),
    Hold,
}

/// A relay on a loopback port that speaks just enough SMTP for lettre, answering what
/// `script` says to MAIL FROM, RCPT TO and the end of DATA (EHLO, DATA and QUIT have
/// their usual answers): for the failures no real server can be asked to show on cue.
/// Returns its port and the task serving it.
pub async fn scripted_relay(
    script: impl Fn(RelayEvent<'_>) -> RelayReply + Send + Sync + 'static,
) -> (u16, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = relay.local_addr().unwrap().port();
    let script = std::sync::Arc::new(script);
    let task = tokio::spawn(async move {
        while let Ok((conn, _)) = relay.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                let (r, mut w) = conn.into_split();
                let mut lines = tokio::io::BufReader::new(r).lines();
                let _ = w.write_all(b"220 relay.test ESMTP\r\n").await;
                let (mut in_data, mut message_id) = (false, String::new());
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply = if in_data {
                        if line.to_ascii_lowercase().starts_with("message-id:") {
                            message_id = line[11..].trim().to_string();
                        }
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        script(RelayEvent::EndOfData(&message_id))
                    } else {
                        let cmd = line.to_ascii_uppercase();
                        if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                            RelayReply::Send(b"250-relay.test\r\n250 8BITMIME\r\n")
                        } else if cmd.starts_with("DATA") {
                            in_data = true;
                            RelayReply::Send(b"354 go ahead\r\n")
                        } else if cmd.starts_with("QUIT") {
                            let _ = w.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            script(RelayEvent::Command(&line))
                        }
                    };
                    match reply {
                        RelayReply::Send(bytes) => {
                            if w.write_all(bytes).await.is_err() {
                                break;
                            }
                        }
                        RelayReply::Hold => std::future::pending::<()>().await,
                    }
                }
            });
        }
    });
    (port, task)
}

/// An audit line's detail in its English words ("" when it has none), for tests that
/// look for a name, a URL or a number in it.
pub fn detail_en(detail: &Option<Detail>) -> String {
    detail.as_ref().map(|d| bhxh_server::staff::words::detail(bhxh_protocol::Lang::En, d)).unwrap_or_default()
}
