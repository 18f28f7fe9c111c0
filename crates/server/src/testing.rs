//! A real reset backend for the client-side crates' tests (feature `testing`):
//! `bhxh-server` on a loopback port with its own data dir and SQLite file, a real SMTP
//! server, and the fixture PKI as trust anchors and CRL. It lives here, not in the
//! testkit, so that the testkit never depends on the server (no back-arrow).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failure is the test's failure

use bhxh_testkit::{fixture, SmtpSink, MST};

use crate::store::Store;
use crate::{Application, Clock, Config};

/// A running backend; everything stops when it is dropped.
#[allow(missing_debug_implementations)] // holds a task handle and a child process
pub struct Backend {
    pub origin: String,
    pub store: Store,
    /// Every captcha's (id, answer), seen in process: a test cannot read the image.
    pub captchas: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    pub smtp: SmtpSink,
    pub data: tempfile::TempDir,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl Backend {
    /// The support report stored under `code`, opened with the server's outbox key (a
    /// test searches it for secrets).
    pub async fn support_report(&self, code: &str) -> Option<String> {
        let key = crate::mail::OutboxKey::load_or_create(&self.data.path().join("server")).ok()?;
        let code = bhxh_protocol::SupportCode::parse(code)?;
        let now = Clock::system().now();
        crate::support::open_with(&self.store, &key, &code, now).await.ok().flatten().map(|r| r.text.to_string())
    }

    /// The answer of the captcha with this id.
    pub fn captcha_answer(&self, id: &str) -> String {
        let seen = self.captchas.lock().unwrap();
        seen.iter().find(|(i, _)| i == id).map(|(_, a)| a.clone()).expect("the tap saw this captcha")
    }
}

/// Starts a backend with `accounts` (username, email) enrolled under [`MST`];
/// `adjust` may change the configuration first.
pub async fn start(accounts: &[(&str, &str)], adjust: impl FnOnce(&mut Config)) -> Backend {
    let data = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(&data.path().join("received"), 0);
    let mut config = Config::default();
    config.listen = "127.0.0.1:0".into();
    config.staff_listen = String::new();
    config.data_dir = data.path().join("server");
    config.trust_anchors = Some(fixture("trust.pem"));
    config.trust_intermediates = Some(fixture("intermediates.pem"));
    config.crl_file = Some(fixture("crl.pem"));
    // The fixture CRLs, offline: no responder or distribution point to reach.
    config.revocation.ocsp = false;
    config.revocation.fetch_crls = false;
    config.smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    config.outbox.poll_ms = 100;
    config.limits.reset_mails_per_day = 100_000;
    adjust(&mut config);
    let mut app = Application::build_with_clock(config, Clock::system()).await.unwrap();
    let captchas = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let tap = captchas.clone();
    app.tap_captchas(move |id, answer| tap.lock().unwrap().push((id.to_string(), answer.to_string())));
    let origin = app.origin();
    let store = app.store();
    for (username, email) in accounts {
        crate::admin::account_add(&store, &Clock::system(), username, MST, email, None).await.unwrap();
    }
    let handle = app.spawn();
    Backend { origin, store, captchas, smtp, data, handle }
}
