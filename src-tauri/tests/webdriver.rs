//! The real app window, driven over WebDriver: Xvfb, a D-Bus session, tauri-driver and
//! Debian's WebKitWebDriver, the built `bhxh-desktop`, a real bhxh-server with a real
//! SMTP server, and a SoftHSM2 token. A full token recovery ends with the mail received.
//! tauri-driver is installed by scripts/test.sh (`cargo install tauri-driver --locked`).
#![cfg(not(windows))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use bhxh_testkit::{password_in, softhsm, MST, TEST_PIN};
use serde_json::{json, Value};

/// A child process, killed with its whole process group when dropped (dbus-run-session
/// leaves tauri-driver, WebKitWebDriver and the app behind otherwise).
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tauri_driver() -> PathBuf {
    if let Some(p) = std::env::var_os("BHXH_TAURI_DRIVER") {
        return p.into();
    }
    let local = bhxh_testkit::root().join("target/tools/bin/tauri-driver");
    if local.exists() {
        return local;
    }
    let home = PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo/bin/tauri-driver");
    assert!(home.exists(), "tauri-driver is not installed: scripts/test.sh installs it (cargo install tauri-driver --locked --root target/tools)");
    home
}

/// Starts Xvfb on a free display and returns it with its number.
struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Driver {
    async fn req(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut r = self.http.request(method, url);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let v: Value = r.send().await.expect("WebDriver request").json().await.expect("WebDriver JSON");
        v["value"].clone()
    }

    /// Waits (bounded) for an element matching `css` (or an XPath starting with `//`)
    /// and returns its id.
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let using = if css.starts_with("//") { "xpath" } else { "css selector" };
        loop {
            let v = self.req(reqwest::Method::POST, "/element", Some(json!({"using": using, "value": css}))).await;
            if let Some(id) = v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str) {
                if v.get("error").is_none() {
                    return id.to_string();
                }
            }
            if Instant::now() > deadline {
                self.screenshot("webdriver-failure").await;
                let body = self
                    .req(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": "main"})))
                    .await;
                let text = match body.as_object().and_then(|o| o.values().next()).and_then(Value::as_str) {
                    Some(id) => self.req(reqwest::Method::GET, &format!("/element/{id}/text"), None).await.to_string(),
                    None => String::new(),
                };
                panic!("no element {css}: {v}; the window shows: {text}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element, again (bounded) while the driver answers with an error (the
    /// element not yet interactable, or moved under the pointer by a late layout).
    async fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let id = self.find(css).await;
            let v = self.req(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
            if v.get("error").is_none() {
                return;
            }
            assert!(Instant::now() < deadline, "clicking {css}: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.req(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    async fn enabled(&self, css: &str) -> bool {
        let id = self.find(css).await;
        self.req(reqwest::Method::GET, &format!("/element/{id}/enabled"), None).await.as_bool().unwrap_or(false)
    }

    async fn property(&self, css: &str, name: &str) -> String {
        let id = self.find(css).await;
        self.req(reqwest::Method::GET, &format!("/element/{id}/property/{name}"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.req(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn attribute(&self, css: &str, name: &str) -> String {
        let id = self.find(css).await;
        self.req(reqwest::Method::GET, &format!("/element/{id}/attribute/{name}"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn screenshot(&self, name: &str) {
        let v = self.req(reqwest::Method::GET, "/screenshot", None).await;
        if let Some(b64) = v.as_str() {
            let dir = bhxh_testkit::root().join("target/test-scratch/screenshots");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join(format!("{name}.png")),
                base64::engine::general_purpose::STANDARD.decode(b64).unwrap(),
            )
            .unwrap();
        }
    }
}

/// What keeps a window alive: the display, the drivers, the app's config folder.
struct Window {
    /// The X display the window is on (its clipboard is read with xclip).
    display: String,
    _x: bhxh_testkit::Xvfb,
    _driver: Kill,
    _config: tempfile::TempDir,
}

/// The app in a real window on its own display, talking to `origin`, with `module` as
/// its PKCS#11 module (and `env` for it): the driver session and what keeps it alive.
async fn window(origin: &str, module: &std::path::Path, env: &[(&str, &std::ffi::OsStr)]) -> (Driver, Window) {
    let x = bhxh_testkit::xvfb("1280x900x24");
    let display = x.display.clone();
    let port = bhxh_testkit::free_port();
    let native = bhxh_testkit::free_port();
    let config_dir = tempfile::tempdir().unwrap();
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new("dbus-run-session");
    cmd.process_group(0)
        .arg("--")
        .arg(tauri_driver())
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
            "--native-driver",
            "/usr/bin/WebKitWebDriver",
        ])
        .env("DISPLAY", &display)
        .env("NO_AT_BRIDGE", "1")
        .env("BHXH_SERVER", origin)
        .env("BHXH_PKCS11_MODULE", module)
        .env("BHXH_DESKTOP_CONFIG_DIR", config_dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let driver = Kill(cmd.spawn().expect("dbus-run-session tauri-driver"));
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/status")).send().await.is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": env!("CARGO_BIN_EXE_bhxh-desktop")}}}});
    let created: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
    let session = created["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_string();
    (Driver { http, base, session }, Window { display, _x: x, _driver: driver, _config: config_dir })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_token_recovery_in_the_real_window() {
    // The backend, its mail server, the token.
    let hsm = softhsm();
    let backend = bhxh_server::testing::start(&[("ketoan01", "ketoan@congty.vn")], |_| {}).await;
    let (origin, smtp) = (backend.origin.clone(), &backend.smtp);
    let started = Instant::now();
    let (d, _window) = window(&origin, &hsm.module, &[("SOFTHSM2_CONF", hsm.conf.as_os_str())]).await;

    // The user's path, as on the phone with support: Quên mật khẩu? → username → token → PIN.
    d.find("[data-testid=screen-login]").await;
    eprintln!("app window up and painted {} ms after the drivers were started", started.elapsed().as_millis());
    d.screenshot("webdriver-login").await;
    d.click("[data-testid=forgot-password]").await;
    d.type_into("#wizard-username", "ketoan01").await;
    d.click("[data-testid=username-continue]").await;
    // Three tokens are plugged in (SoftHSM2 provisions three): choose the RSA one.
    d.find("[data-testid=token-several]").await;
    d.click("//div[contains(@class,'token-choice')][span[contains(., 'BHXH Test RSA')]]/button").await;
    assert_eq!(d.text("[data-testid=cert-mst]").await, MST);
    d.screenshot("webdriver-token").await;
    d.click("[data-testid=token-continue]").await;
    d.type_into("#pin", TEST_PIN).await;
    d.click("[data-testid=pin-submit]").await;
    d.find("[data-testid=step-done]").await;
    let masked = d.text("[data-testid=masked-email]").await;
    assert!(masked.contains("ke***@c***.vn"), "{masked}");
    let reference = d.text("[data-testid=reference]").await;
    assert!(reference.starts_with("RC-"), "{reference}");
    d.screenshot("webdriver-done").await;

    // The mail arrives, with the reference the window showed.
    let mail = smtp.wait_for("ketoan@congty.vn", "Mật khẩu tạm thời").await;
    assert!(mail.text.contains(&reference));
    let temp = password_in(&mail);

    // The portal path in the same window: MST, email, and the captcha the window shows
    // (its answer seen in process by the test's backend; a person reads the image).
    d.click("[data-testid=done-login]").await;
    d.click("[data-testid=portal-recover]").await;
    d.type_into("#portal-mst", MST).await;
    d.type_into("#portal-email", "ketoan@congty.vn").await;
    let captcha = d.attribute("[data-testid=captcha-image]", "data-captcha-id").await;
    d.type_into("#portal-answer", &backend.captcha_answer(&captcha)).await;
    d.click("[data-testid=portal-submit]").await;
    d.find("[data-testid=portal-done]").await;
    let masked = d.text("[data-testid=portal-masked-email]").await;
    assert!(masked.contains("ke***@c***.vn"), "{masked}");
    d.screenshot("webdriver-portal").await;
    let portal_mail = smtp.wait_for("ketoan@congty.vn", "cần kích hoạt").await;
    let (_, link) = bhxh_testkit::portal_secrets_in(&portal_mail);
    assert!(link.starts_with(&format!("{origin}/portal/activate?t=")), "{link}");
    d.click("[data-testid=portal-login]").await;

    // Log in with the token's temporary password (the portal link was not opened, so it
    // changed nothing yet): the forced change follows.
    d.type_into("#login-username", "ketoan01").await;
    d.type_into("#login-password", &temp).await;
    d.click("[data-testid=login-submit]").await;
    d.find("[data-testid=change-form]").await;
    d.screenshot("webdriver-change").await;

    // The support report, copied by the shell: the X clipboard really holds it (it held
    // nothing when the web view's own clipboard API said "copied").
    d.click("[data-testid=nav-support]").await;
    // The computer check's lines arrive after the screen and push the buttons down: the
    // click waits for them, so it lands on the button and not where the button was.
    d.find("[data-testid=checks] li").await;
    d.click("[data-testid=copy-report]").await;
    d.find("#copy-status[data-outcome=copied]").await;
    let shown = d.property("[data-testid=report-text]", "value").await;
    // (No PIN check here: 123456 is inside the MST; the CLI's test searches a distinct PIN.)
    assert!(shown.contains("bhxh-desktop") && shown.contains("thư viện điều khiển"), "{shown}");
    let clip = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .env("DISPLAY", &_window.display)
        .output()
        .expect("xclip (Debian xclip)");
    assert_eq!(String::from_utf8_lossy(&clip.stdout), shown, "the clipboard holds the report the window shows");
    d.screenshot("webdriver-support-copied").await;
    let _ = d.req(reqwest::Method::DELETE, "", None).await;
}

/// The registered email no longer reaches anyone: from the recovery's result ("Không còn
/// dùng email này?"), the token signs for a new address in the real window; the new
/// address gets the confirmation link, and once it is opened the old one is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_registered_email_in_the_real_window() {
    let hsm = softhsm();
    let backend = bhxh_server::testing::start(&[("ketoan01", "ketoan.cu@congty.vn")], |_| {}).await;
    let (origin, smtp) = (backend.origin.clone(), &backend.smtp);
    let (d, _window) = window(&origin, &hsm.module, &[("SOFTHSM2_CONF", hsm.conf.as_os_str())]).await;
    let choose_rsa = "//div[contains(@class,'token-choice')][span[contains(., 'BHXH Test RSA')]]/button";

    d.click("[data-testid=forgot-password]").await;
    d.type_into("#wizard-username", "ketoan01").await;
    d.click("[data-testid=username-continue]").await;
    d.click(choose_rsa).await;
    d.click("[data-testid=token-continue]").await;
    d.type_into("#pin", TEST_PIN).await;
    d.click("[data-testid=pin-submit]").await;
    d.find("[data-testid=step-done]").await;
    smtp.wait_for("ketoan.cu@congty.vn", "Mật khẩu tạm thời").await;

    // "No longer using this email?": the username is carried over.
    d.click("[data-testid=stale-email]").await;
    assert_eq!(d.property("#wizard-username", "value").await, "ketoan01");
    d.type_into("#wizard-new-email", "ketoan.moi@congty.vn").await;
    d.screenshot("webdriver-email-username").await;
    d.click("[data-testid=username-continue]").await;
    d.click(choose_rsa).await;
    d.click("[data-testid=token-continue]").await;
    d.type_into("#pin", TEST_PIN).await;
    d.click("[data-testid=pin-submit]").await;
    d.find("[data-testid=email-change-sent]").await;
    assert!(
        d.text("[data-testid=email-change-new]").await.contains("ketoan.moi@congty.vn"),
        "the address the user typed is shown"
    );
    let reference = d.text("[data-testid=reference]").await;
    d.screenshot("webdriver-email-done").await;

    // The link went to the new address only; opening it tells the old one.
    let confirm = smtp.wait_for("ketoan.moi@congty.vn", "Xác nhận email đăng ký mới").await;
    assert!(confirm.text.contains(&reference));
    let link = confirm
        .text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{origin}/email-change/confirm?t=")))
        .expect("the confirmation link")
        .to_string();
    let (path, t) = link.split_once("?t=").unwrap();
    let t = t.split('&').next().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(http.post(path).form(&[("t", t)]).send().await.unwrap().status().as_u16(), 200);
    smtp.wait_for("ketoan.cu@congty.vn", "Thông báo đổi email đăng ký").await;
    let _ = d.req(reqwest::Method::DELETE, "", None).await;
}

/// "Gửi thông tin cho nhân viên hỗ trợ" in the real window: the consent screen shows the
/// report, agreeing sends exactly that text, and the code to read out appears; the
/// server holds that report under that code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_code_in_the_real_window() {
    let hsm = softhsm();
    let backend =
        bhxh_server::testing::start(&[("ketoan01", "ketoan@congty.vn")], |c| c.staff_listen = "127.0.0.1:0".into())
            .await;
    let (d, _window) = window(&backend.origin, &hsm.module, &[("SOFTHSM2_CONF", hsm.conf.as_os_str())]).await;
    d.click("[data-testid=nav-support]").await;
    d.click("[data-testid=support-send]").await;
    d.find("[data-testid=support-consent-agree]").await;
    let shown = d.property("[data-testid=support-consent-report]", "value").await;
    assert!(shown.contains("bhxh-desktop") && shown.contains("BHXH Test RSA"), "{shown}");
    d.screenshot("webdriver-support-consent").await;
    d.click("[data-testid=support-consent-agree]").await;
    let code = d.text("[data-testid=support-code]").await;
    let code: String = code.split_whitespace().collect::<Vec<_>>().join("");
    assert!(bhxh_protocol::SupportCode::parse(&code).is_some(), "{code}");
    d.screenshot("webdriver-support-code").await;
    let stored = backend.support_report(&code).await.expect("the report is stored under the code shown");
    assert_eq!(stored, shown, "what was sent is what the window showed");
    // The desk opens the code the caller reads out and sees that report.
    let page = backend.staff_page(&format!("/support/{code}")).await;
    let first_lines: Vec<&str> = shown.lines().take(3).collect();
    for line in first_lines {
        let escaped = line.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        assert!(page.contains(&escaped), "the console does not show {line:?}");
    }
    let _ = d.req(reqwest::Method::DELETE, "", None).await;
}

/// A mistyped username ("dem0" for "demo") in the real window: after the PIN the window
/// repeats what was typed, marks the step as not done, and lists the accounts the
/// server says the token does prove; the one chosen goes straight to that token's PIN,
/// its username named above it: two PIN entries in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_username_in_the_real_window() {
    let hsm = softhsm();
    let backend = bhxh_server::testing::start(&[("demo", "demo@congty.vn")], |_| {}).await;
    let (d, _window) = window(&backend.origin, &hsm.module, &[("SOFTHSM2_CONF", hsm.conf.as_os_str())]).await;
    d.click("[data-testid=forgot-password]").await;
    d.type_into("#wizard-username", "dem0").await;
    d.click("[data-testid=username-continue]").await;
    d.click("//div[contains(@class,'token-choice')][span[contains(., 'BHXH Test RSA')]]/button").await;
    d.click("[data-testid=token-continue]").await;
    d.type_into("#pin", TEST_PIN).await;
    d.click("[data-testid=pin-submit]").await;
    let help = d.text("[data-testid=not-bound-help]").await;
    assert!(help.contains("“dem0”"), "{help}");
    assert!(d.text("li.failed").await.contains("Không thành công"));
    assert_eq!(d.text("[data-testid=not-bound-help] [data-testid=usernames]").await, "demo");
    d.screenshot("webdriver-mistyped-username").await;
    // The account named: its PIN at once, the username named above it.
    d.click("[data-testid=recover-account][data-username=demo]").await;
    assert_eq!(d.text("[data-testid=pin-username]").await, "demo");
    d.type_into("#pin", TEST_PIN).await;
    d.click("[data-testid=pin-submit]").await;
    d.find("[data-testid=step-done]").await;
    let _ = d.req(reqwest::Method::DELETE, "", None).await;
}

/// The token's driver is not installed (the module the app is told to load does not
/// exist): the real window says so with the driver to install, not "plug the token in";
/// once the driver is there (the module appears at that path), "Kiểm tra lại" finds
/// the token without restarting the app. (The path is this test's own temporary folder.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_driver_in_the_real_window() {
    let hsm = softhsm();
    let backend = bhxh_server::testing::start(&[("ketoan01", "ketoan@congty.vn")], |_| {}).await;
    let drivers = tempfile::tempdir().unwrap();
    let module = drivers.path().join("libsofthsm2.so");
    let (d, _window) = window(&backend.origin, &module, &[("SOFTHSM2_CONF", hsm.conf.as_os_str())]).await;
    d.click("[data-testid=forgot-password]").await;
    d.type_into("#wizard-username", "ketoan01").await;
    d.click("[data-testid=username-continue]").await;
    d.find("[data-testid=token-read-failed] [data-code=MODULE_NOT_FOUND]").await;
    let shown = d.text("[data-testid=token-read-failed]").await;
    assert!(!shown.contains("Hãy cắm token"), "a missing driver is not a missing token: {shown}");
    assert!(shown.contains(bhxh_protocol::ErrorCode::ModuleNotFound.hint(bhxh_protocol::Lang::Vi)), "{shown}");
    d.screenshot("webdriver-no-driver").await;
    // The driver is installed meanwhile.
    std::os::unix::fs::symlink(&hsm.module, &module).unwrap();
    d.click("[data-testid=token-recheck]").await;
    d.find("[data-testid=token-several]").await;
    d.click("//div[contains(@class,'token-choice')][span[contains(., 'BHXH Test RSA')]]/button").await;
    assert_eq!(d.text("[data-testid=cert-mst]").await.trim(), MST);
    d.screenshot("webdriver-driver-installed").await;
    let _ = d.req(reqwest::Method::DELETE, "", None).await;
}

/// opencryptoki's soft token, which locks for real, in the real window: the warning
/// after a wrong PIN, the final try that must be ticked before the PIN can be sent, and
/// the locked token with what to do; a screenshot of each. (The token is this test's
/// alone while it runs: `bhxh_testkit::opencryptoki()`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_really_locks_in_the_real_window() {
    let ock = bhxh_testkit::opencryptoki();
    let backend = bhxh_server::testing::start(&[("ketoan01", "ketoan@congty.vn")], |_| {}).await;
    // A wrong PIN was typed before (in the CA's tool, say): COUNT_LOW.
    ock.wrong_login();
    assert!(ock.flags().contains("USER_PIN_COUNT_LOW"), "{}", ock.flags());
    let (d, _window) = window(&backend.origin, &ock.module, &[]).await;
    d.find("[data-testid=screen-login]").await;
    d.click("[data-testid=forgot-password]").await;
    d.type_into("#wizard-username", "ketoan01").await;
    d.click("[data-testid=username-continue]").await;
    d.find("[data-testid=step-token]").await;
    d.click("[data-testid=token-continue]").await;
    d.find("[data-testid=pin-count-low]").await;
    d.screenshot("webdriver-ock-count-low").await;
    // A second wrong PIN, in the window: the error says so, the token is read again, and
    // the final-try warning replaces the count-low one on the same step.
    d.type_into("#pin", "000000").await;
    d.click("[data-testid=pin-submit]").await;
    d.find("[data-testid=error][data-code=PIN_INCORRECT]").await;
    d.find("[data-testid=pin-final-try]").await;
    assert!(ock.flags().contains("USER_PIN_FINAL_TRY"), "{}", ock.flags());
    d.type_into("#pin", "000000").await;
    assert!(!d.enabled("[data-testid=pin-submit]").await, "the PIN cannot be sent before the final try is ticked");
    d.screenshot("webdriver-ock-final-try").await;
    d.click("[data-testid=confirm-final-try]").await;
    assert!(d.enabled("[data-testid=pin-submit]").await);
    d.click("[data-testid=pin-submit]").await;
    d.find("[data-testid=step-error]").await;
    let shown = d.text("[data-testid=step-error]").await;
    assert!(shown.contains("Token đã bị khóa"), "{shown}");
    assert!(ock.flags().contains("USER_PIN_LOCKED"), "{}", ock.flags());
    d.screenshot("webdriver-ock-locked").await;
    // Starting over: the token step says it is locked and what to do; no way forward.
    d.click("[data-testid=start-over]").await;
    d.type_into("#wizard-username", "ketoan01").await;
    d.click("[data-testid=username-continue]").await;
    d.find("[data-testid=token-locked]").await;
    assert!(!d.enabled("[data-testid=token-continue]").await);
    d.screenshot("webdriver-ock-token-locked").await;
    // Nothing of it reached the server as a proof.
    let refused = backend.store.audit_by_username("ketoan01", 50).await.unwrap();
    assert!(!refused.iter().any(|e| e.event == "complete"), "{refused:?}");
    let _ = d.req(reqwest::Method::DELETE, "", None).await;
    ock.reset_user_pin();
}
