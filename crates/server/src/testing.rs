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
    /// The staff console, when the test turned it on (`staff_listen = "127.0.0.1:0"`).
    pub staff_base: Option<String>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl Backend {
    /// A staff member's console page at `path`, logged in through the login page as a
    /// browser does (the member is added first, an agent).
    pub async fn staff_page(&self, path: &str) -> String {
        let base = self.staff_base.as_deref().expect("the staff console is on");
        let hasher = crate::passwords::Hasher::new(&crate::config::Argon2Config::default()).unwrap();
        let _ = crate::admin::staff_add(
            &self.store,
            &Clock::system(),
            &hasher,
            "hotro.test",
            "Nhân viên thử",
            crate::store::StaffRole::Agent,
            zeroize::Zeroizing::new("Ban-ho-tro-2026!".into()),
        )
        .await;
        let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let cookie_of = |r: &reqwest::Response, name: &str| {
            r.headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|c| c.to_str().ok())
                .find(|c| c.contains(name))
                .map(|c| c.split(';').next().unwrap_or("").to_string())
        };
        let r = http.get(format!("{base}/login")).send().await.unwrap();
        let login_cookie = cookie_of(&r, "bhxh_staff_login=").expect("the login page's cookie");
        let page = r.text().await.unwrap();
        let at = page.find("name=\"csrf\" value=\"").expect("the login form") + 19;
        let csrf = page[at..at + page[at..].find('"').expect("the token's end")].to_string();
        let r = http
            .post(format!("{base}/login"))
            .header("cookie", login_cookie)
            .form(&[("csrf", csrf.as_str()), ("username", "hotro.test"), ("password", "Ban-ho-tro-2026!")])
            .send()
            .await
            .unwrap();
        let session = cookie_of(&r, "bhxh_staff=").expect("a staff session");
        http.get(format!("{base}{path}")).header("cookie", session).send().await.unwrap().text().await.unwrap()
    }

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

    /// The portal path over HTTP as a user walks it (captcha, MST and `email`, the mail,
    /// the activation button): the account's new temporary password, active now.
    pub async fn portal_password(&self, email: &str) -> String {
        let http = reqwest::Client::new();
        let captcha: serde_json::Value =
            http.get(format!("{}/v1/portal/captcha", self.origin)).send().await.unwrap().json().await.unwrap();
        let id = captcha["captcha_id"].as_str().expect("a captcha id").to_string();
        let body = serde_json::json!({"mst": MST, "email": email, "captcha_id": id, "captcha_answer": self.captcha_answer(&id)});
        let answer = http.post(format!("{}/v1/portal/recover", self.origin)).json(&body).send().await.unwrap();
        assert!(answer.status().is_success(), "portal recovery refused: {}", answer.text().await.unwrap_or_default());
        let reference =
            answer.json::<serde_json::Value>().await.unwrap()["reference"].as_str().unwrap_or_default().to_string();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mail = loop {
            let m = self.smtp.wait_for(email, "cần kích hoạt").await;
            if m.text.contains(&reference) {
                break m;
            }
            assert!(std::time::Instant::now() < deadline, "no activation mail with {reference}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let (password, link) = bhxh_testkit::portal_secrets_in(&mail);
        self.activate(&link).await;
        password
    }

    /// Opens a portal mail's activation link and presses its button.
    pub async fn activate(&self, link: &str) {
        let token = link.split("t=").nth(1).and_then(|t| t.split('&').next()).expect("the link's token").to_string();
        let page = reqwest::Client::new()
            .post(format!("{}/portal/activate", self.origin))
            .form(&[("t", token)])
            .send()
            .await
            .unwrap();
        assert!(page.status().is_success(), "activation refused: {}", page.status());
        let text = page.text().await.unwrap_or_default();
        assert!(text.contains("data-testid=\"activated\""), "not activated: {text}");
    }
}

/// Starts a backend with `accounts` (username, email) enrolled under [`MST`];
/// `adjust` may change the configuration first.
pub async fn start(accounts: &[(&str, &str)], adjust: impl FnOnce(&mut Config)) -> Backend {
    let data = tempfile::tempdir().unwrap();
    let smtp = SmtpSink::start(&data.path().join("received"), 0);
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        staff_listen: String::new(),
        data_dir: data.path().join("server"),
        ..Config::default()
    };
    config.trust_anchors = Some(fixture("trust.pem"));
    config.trust_intermediates = Some(fixture("intermediates.pem"));
    config.crl_file = Some(fixture("crl.pem"));
    // The fixture CRLs, offline: no responder or distribution point to reach.
    config.revocation.ocsp = false;
    config.revocation.fetch_crls = false;
    config.smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    config.outbox.poll_ms = 100;
    config.limits.reset_mails_per_day = 100_000;
    config.http.max_connections_per_client = 100_000;
    adjust(&mut config);
    let mut app = Application::build_with_clock(config, Clock::system()).await.unwrap();
    let captchas = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let tap = captchas.clone();
    app.tap_captchas(move |id, answer| tap.lock().unwrap().push((id.to_string(), answer.to_string())));
    let origin = app.origin();
    let staff_base = app.staff_port().map(|p| format!("http://127.0.0.1:{p}"));
    let store = app.store();
    for (username, email) in accounts {
        crate::admin::account_add(&store, &Clock::system(), username, MST, email, None).await.unwrap();
    }
    let handle = app.spawn();
    Backend { origin, store, captchas, smtp, data, staff_base, handle }
}
