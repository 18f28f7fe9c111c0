//! The shell's commands on Tauri's mock runtime, against a real bhxh-server (SQLite,
//! a real SMTP server) and SoftHSM2 tokens: the IPC error's JSON is pinned, the PIN
//! goes in as a JSON string and is a secret from there on, and the values the UI
//! receives are written to ui/tests/ipc-contract.json for the front end's type check.
#![cfg(not(windows))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::sync::OnceLock;

use bhxh_desktop::{run_app, IpcError};
use bhxh_server::testing::Backend;
use bhxh_testkit::{password_in, softhsm, MST, TEST_PIN};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

/// One real backend for the whole test binary, on its own runtime thread.
fn backend() -> &'static Backend {
    static B: OnceLock<Backend> = OnceLock::new();
    B.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                let b = bhxh_server::testing::start(
                    &[("ketoan01", "ketoan01@congty.vn"), ("ketoan02", "ketoan02@congty.vn")],
                    // Not the build's default: the app shows the server's own.
                    |c| c.hotline = "1900 6868 99".into(),
                )
                .await;
                tx.send(b).unwrap_or_else(|_| panic!("test gone"));
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    })
}

fn app() -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>, tempfile::TempDir) {
    let hsm = softhsm();
    let config_dir = tempfile::tempdir().unwrap();
    std::env::set_var("BHXH_DESKTOP_NO_WATCHER", "1");
    std::env::set_var("BHXH_DESKTOP_CONFIG_DIR", config_dir.path());
    std::env::set_var("BHXH_PKCS11_MODULE", &hsm.module);
    std::env::set_var("BHXH_SERVER", &backend().origin);
    let mut app = run_app(mock_builder()).build(mock_context(noop_assets())).unwrap();
    // The setup hook (state, watcher) runs with the event loop's first iteration; one
    // iteration, not a loop, so the busy-loop warning does not apply.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (app, window, config_dir)
}

fn call(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn the_ipc_error_shape_is_pinned() {
    let e = IpcError::code(bhxh_protocol::ErrorCode::PinLocked, bhxh_protocol::Lang::Vi);
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({
            "code": "PIN_LOCKED",
            "message": "Token đã bị khóa do nhập sai mã PIN quá nhiều lần.",
            "hint": "Chỉ nhà cung cấp chữ ký số (CA) mở khóa được: mang token đến điểm giao dịch của CA hoặc gọi tổng đài của CA đó (số in trên hợp đồng hoặc hộp token).",
            "reference": null
        })
    );
}

#[test]
fn the_commands_end_to_end_on_the_mock_runtime() {
    let (_app, w, config_dir) = app();
    // A PIN nothing else contains, so that searching for it means something.
    const PIN: &str = "Qv8%pin-3317";
    bhxh_testkit::change_pin("BHXH Test RSA", TEST_PIN, PIN);

    // Settings: defaults, a refused http:// address, a saved https:// one.
    let settings = call(&w, "settings_get", json!({})).unwrap();
    assert_eq!(settings["server_url"], backend().origin.as_str());
    assert_eq!(settings["lang"], "vi");

    // The hotline: the build's default until the server is asked, then the server's,
    // kept in service.json for the starts when it cannot be reached.
    assert_eq!(
        call(&w, "hotline", json!({"ask": false})).unwrap(),
        json!({"number": "1800 1260", "tel": "18001260", "from_server": false})
    );
    let told = json!({"number": "1900 6868 99", "tel": "1900686899", "from_server": true});
    assert_eq!(call(&w, "hotline", json!({"ask": true})).unwrap(), told);
    assert_eq!(call(&w, "hotline", json!({"ask": false})).unwrap(), told);
    let kept: Value = serde_json::from_slice(&std::fs::read(config_dir.path().join("service.json")).unwrap()).unwrap();
    assert_eq!(kept, json!({"hotline": "1900 6868 99"}));
    let refused = call(
        &w,
        "settings_set",
        json!({"settings": {"server_url": "http://reset.example.vn", "pkcs11_module": null, "lang": "en"}}),
    )
    .unwrap_err();
    assert_eq!(refused["code"], "INSECURE_SERVER_URL");
    assert_eq!(refused["message"], "The server address must start with https://.");
    assert!(refused["reference"].is_null());
    let english = json!({"server_url": backend().origin, "pkcs11_module": null, "lang": "en"});
    call(&w, "settings_set", json!({"settings": english})).unwrap();
    let saved: Value =
        serde_json::from_slice(&std::fs::read(config_dir.path().join("settings.json")).unwrap()).unwrap();
    assert_eq!(saved["lang"], "en");
    call(
        &w,
        "settings_set",
        json!({"settings": {"server_url": backend().origin, "pkcs11_module": null, "lang": "vi"}}),
    )
    .unwrap();
    // The web view cannot name a library for the shell to load: any other file is
    // refused, a discovered module is accepted.
    let refused = call(&w, "settings_set", json!({"settings": {"server_url": backend().origin, "pkcs11_module": "/usr/lib/x86_64-linux-gnu/libc.so.6", "lang": "vi"}})).unwrap_err();
    assert_eq!(refused["code"], "MODULE_NOT_CHOSEN");
    let saved: Value =
        serde_json::from_slice(&std::fs::read(config_dir.path().join("settings.json")).unwrap()).unwrap();
    assert!(saved["pkcs11_module"].is_null(), "nothing saved: {saved}");
    let found = call(&w, "modules_list", json!({})).unwrap();
    for m in found.as_array().unwrap() {
        call(
            &w,
            "settings_set",
            json!({"settings": {"server_url": backend().origin, "pkcs11_module": m, "lang": "vi"}}),
        )
        .unwrap();
    }
    call(
        &w,
        "settings_set",
        json!({"settings": {"server_url": backend().origin, "pkcs11_module": null, "lang": "vi"}}),
    )
    .unwrap();

    // Tokens, as the token panel sees them.
    let tokens = call(&w, "tokens_list", json!({})).unwrap();
    let rsa = tokens.as_array().unwrap().iter().find(|t| t["label"] == "BHXH Test RSA").unwrap().clone();
    assert_eq!(rsa["certificates"][0]["msts"], json!([MST]));
    assert_eq!(rsa["pin_state"], "ok");
    // The server's verdict before the PIN: the path through the CA certificate the token carries.
    let verdict = call(&w, "certificate_check", json!({"slotId": rsa["slot_id"], "certId": "01"})).unwrap();
    assert!(
        verdict["path"].as_str().unwrap().ends_with("BHXH Test Issuing CA < BHXH Test Root CA (gốc tin cậy)"),
        "{verdict}"
    );

    // A wrong PIN: a typed error, nothing else.
    let args = |pin: &str| json!({"username": "ketoan01", "pin": pin, "slotId": rsa["slot_id"], "certId": "01", "confirmFinalTry": false});
    let wrong = call(&w, "recover", args("000000")).unwrap_err();
    assert_eq!(wrong["code"], "PIN_INCORRECT");
    assert!(wrong["hint"].as_str().unwrap().contains("Caps Lock"));

    // The recovery, with the PIN as a JSON string: the mail arrives.
    let done = call(&w, "recover", args(PIN)).unwrap();
    assert_eq!(done["masked_email"], "ke***@c***.vn");
    let reference = done["reference"].as_str().unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mail = rt.block_on(async {
        loop {
            let m = backend().smtp.wait_for("ketoan01@congty.vn", "Mật khẩu tạm thời").await;
            if m.text.contains(&reference) {
                break m;
            }
        }
    });
    let temp = password_in(&mail);

    // Login with it: must change; the session token never reaches the UI.
    let login = call(&w, "login", json!({"username": "ketoan01", "password": temp})).unwrap();
    assert_eq!(login["must_change_password"], true);
    assert!(login.get("session_token").is_none());
    let refused = call(&w, "change_password", json!({"current": temp, "new": temp})).unwrap_err();
    assert_eq!(refused["code"], "PASSWORD_REUSE");
    assert!(refused["reference"].as_str().unwrap().starts_with("RC-"));
    // The forced change does not ask for the temporary password again: the session is the proof.
    call(&w, "change_password", json!({"current": null, "new": "Mua-thu-2026!"})).unwrap();
    let login = call(&w, "login", json!({"username": "ketoan01", "password": "Mua-thu-2026!"})).unwrap();
    assert_eq!(login["must_change_password"], false);
    let session = call(&w, "session_info", json!({})).unwrap();
    assert_eq!(session["username"], "ketoan01");

    // The support code: the report shown for consent is what is stored, and nothing
    // secret is in it (the PIN, the temporary password, the session token).
    let session_token = {
        use tauri::Manager;
        let state = w.state::<bhxh_desktop::AppState>();
        let token = state.session.lock().unwrap().as_ref().map(|s| s.token.expose().to_string()).expect("a session");
        token
    };
    assert!(call(&w, "support_send", json!({})).is_err(), "nothing is sent before it was shown");
    let shown = call(&w, "support_preview", json!({"lastError": "PASSWORD_REUSE RC-7F3K-9Q2M"})).unwrap();
    let shown = shown.as_str().unwrap().to_string();
    assert!(
        shown.contains("BHXH Test RSA")
            && shown.ends_with("lỗi gần nhất: PASSWORD_REUSE RC-7F3K-9Q2M")
            && shown.contains("PIN: bình thường"),
        "{shown}"
    );
    let issued = call(&w, "support_send", json!({})).unwrap();
    let code = issued["support_code"].as_str().unwrap().to_string();
    assert!(bhxh_protocol::SupportCode::parse(&code).is_some(), "{issued}");
    let stored = rt.block_on(backend().support_report(&code)).expect("the report is stored under its code");
    assert_eq!(stored, shown, "what is stored is what the user agreed to");
    for secret in [PIN, temp.as_str(), "Mua-thu-2026!", session_token.as_str()] {
        assert!(!stored.contains(secret), "a secret in the stored support report");
    }
    let support_code = issued;
    call(&w, "logout", json!({})).unwrap();
    assert!(call(&w, "session_info", json!({})).unwrap().is_null());

    // Forgotten username.
    let lookup = call(
        &w,
        "lookup_usernames",
        json!({"pin": PIN, "slotId": rsa["slot_id"], "certId": "01", "confirmFinalTry": false}),
    )
    .unwrap();
    assert_eq!(lookup["usernames"], json!(["ketoan01", "ketoan02"]));

    // The registered email no longer reaches anyone: the token signs for a new address,
    // which gets the confirmation link (nothing changes before the waiting period).
    let change_args = json!({"username": "ketoan02", "newEmail": "ketoan02.moi@congty.vn", "pin": PIN, "slotId": rsa["slot_id"], "certId": "01", "confirmFinalTry": false});
    let change = call(&w, "change_email", change_args).unwrap();
    assert_eq!(
        (change["masked_new_email"].as_str(), change["wait_secs"].as_u64()),
        (Some("ke***@c***.vn"), Some(86_400))
    );
    rt.block_on(backend().smtp.wait_for("ketoan02.moi@congty.vn", "Xác nhận email đăng ký mới"));

    // Portal recovery (MST + email + captcha): a wrong email first, then the right one.
    let captcha = call(&w, "portal_captcha", json!({})).unwrap();
    assert!(captcha["image"].as_str().unwrap().starts_with("data:image/png;base64,iVBOR"));
    let id = captcha["captcha_id"].as_str().unwrap().to_string();
    let answer = backend().captcha_answer(&id);
    let args = |email: &str, id: &str, answer: &str| json!({"mst": MST, "email": email, "captchaId": id, "captchaAnswer": answer});
    let mismatch = call(&w, "portal_recover", args("khac@congty.vn", &id, &answer)).unwrap_err();
    assert_eq!(mismatch["code"], "PORTAL_EMAIL_MISMATCH");
    assert!(mismatch["hint"].as_str().unwrap().contains("1900 9068"));
    let used = call(&w, "portal_recover", args("ketoan02@congty.vn", &id, &answer)).unwrap_err();
    assert_eq!(used["code"], "CAPTCHA_USED");
    let captcha = call(&w, "portal_captcha", json!({})).unwrap();
    let id = captcha["captcha_id"].as_str().unwrap().to_string();
    let portal = call(&w, "portal_recover", args(" ketoan02@congty.vn ", &id, &backend().captcha_answer(&id))).unwrap();
    assert_eq!(portal["masked_email"], "ke***@c***.vn");
    rt.block_on(backend().smtp.wait_for("ketoan02@congty.vn", "cần kích hoạt"));

    // Diagnostics and the support report: no secret in either.
    let diag = call(&w, "diagnostics", json!({})).unwrap();
    let report = call(&w, "support_report", json!({})).unwrap();
    let report = report.as_str().unwrap();
    assert!(report.contains("BHXH Test RSA") && report.contains("máy chủ"), "{report}");
    for secret in [PIN, temp.as_str(), "Mua-thu-2026!"] {
        assert!(!report.contains(secret) && !diag.to_string().contains(secret), "{secret} in the support report");
    }
    let settings_file = std::fs::read_to_string(config_dir.path().join("settings.json")).unwrap();
    assert!(!settings_file.contains(PIN) && !settings_file.contains(&temp));

    // The values the UI receives, for its type check (ui/tests/unit/contract.test.ts).
    let contract = json!({
        "settings": call(&w, "settings_get", json!({})).unwrap(),
        "token": rsa,
        "certificate_check": verdict,
        "recovery": done,
        "lookup": lookup,
        "email_change": change,
        "support_code": support_code,
        "login": login,
        "captcha": captcha,
        "portal": portal,
        // What the Support screen reads (the full report also lists readers and tokens,
        // which vary with the machine).
        "diagnostics": {"version": diag["version"], "server": diag["server"], "checks": [diag["checks"][0]]},
        "error": wrong,
        "progress": ["reading_token", "requesting_challenge", "signing", "verifying", "done"],
        "reader_event": serde_json::to_value(bhxh_token::readers::ReaderEvent::CardInserted { reader: "Feitian ePass2003".into(), atr: "3B:9F".into(), model: None }).unwrap(),
    });
    // Their shape (keys and JSON types, not the values) is committed; the front end's
    // typed samples must have the same shape. Regenerate with BHXH_UPDATE_GENERATED=1.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/tests/ipc-shape.json");
    let text = serde_json::to_string_pretty(&shape(&contract)).unwrap() + "\n";
    if std::env::var_os("BHXH_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap_or_default(),
        text,
        "ui/tests/ipc-shape.json drifted from the Rust types"
    );
}

/// Keys and JSON types of a value: what the TypeScript types must agree with.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(a) => json!([a.first().map(shape).unwrap_or(json!("empty"))]),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// The shell built for Windows (`scripts/build-windows.sh`: `bhxh-windows-shell-tests.exe`,
/// tests/windows_shell.rs) run under Wine against a backend of its own on loopback, with
/// a DLL under a VN CA module's name in the prefix's System32 that is no PKCS#11 module.
/// Isolation: the test process's own Wine prefix (`bhxh_testkit::wine`), a backend and
/// an account of its own.
#[test]
fn the_shell_built_for_windows_under_wine() {
    use bhxh_testkit::wine::{windows_exe, wine};
    let exe = windows_exe("bhxh-windows-shell-tests.exe");
    let w = wine();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let backend = rt.block_on(bhxh_server::testing::start(&[("ketoan09", "ketoan09@congty.vn")], |_| {}));
    let temporary = rt.block_on(backend.portal_password("ketoan09@congty.vn"));
    // The runner makes the long-term password (the forced change) so the Windows test
    // logs in as a user does after recovering.
    let password = "Nam-moi-2027!";
    rt.block_on(async {
        let api = bhxh_client::api::ApiClient::new(&backend.origin, bhxh_protocol::Lang::Vi).unwrap();
        let login = api.login("ketoan09", temporary.as_str()).await.unwrap();
        api.change_password(login.session_token.expose(), None, password).await.unwrap();
    });
    let not_a_module = w.drive_c().join("windows/system32/vnpt-ca_csp11.dll");
    std::fs::copy(w.drive_c().join("windows/system32/bcryptprimitives.dll"), &not_a_module).unwrap();
    let env: [(&str, &std::ffi::OsStr); 4] = [
        ("BHXH_SERVER", backend.origin.as_ref()),
        ("BHXH_TEST_USERNAME", "ketoan09".as_ref()),
        ("BHXH_TEST_PASSWORD", password.as_ref()),
        ("BHXH_TEST_NOT_A_MODULE", r"C:\windows\system32\vnpt-ca_csp11.dll".as_ref()),
    ];
    let args: [&std::ffi::OsStr; 2] = ["--nocapture".as_ref(), "--test-threads=1".as_ref()];
    let o = w.run(&exe, &args, &env, "");
    let _ = std::fs::remove_file(&not_a_module);
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "the Windows shell's test failed under Wine:\n{out}");
    assert!(out.contains("1 passed; 0 failed"), "{out}");
    let code = out.lines().find_map(|l| l.split("support-code: ").nth(1)).expect("the support code").trim().to_string();
    let stored = rt.block_on(backend.support_report(&code)).expect("the Windows app's report is stored under its code");
    assert!(stored.contains("windows"), "{stored}");
}

/// `bhxh-desktop.exe` (the build users get) under Wine on a display of its own: Wine has
/// no WebView2 runtime, so the first start says so — in Vietnamese first, in a window and
/// on its error output — and waits on that window, holding the one-instance lock; a
/// second start hands over to it and exits at once without a second message.
/// Isolation: a Wine prefix and an X display of the test's own, both ended at its end.
#[test]
fn the_app_on_windows_without_webview2_says_so_and_runs_once() {
    use std::io::BufRead;
    use std::process::Stdio;
    use std::time::Duration;
    let exe = bhxh_testkit::wine::windows_exe("bhxh-desktop.exe");
    let w = bhxh_testkit::wine::Wine::fresh("one-instance");
    let x = bhxh_testkit::xvfb("1366x768x24");
    let start = || {
        let mut cmd = w.command(exe.as_os_str());
        cmd.env("DISPLAY", &x.display).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        cmd.spawn().expect("wine64 bhxh-desktop.exe")
    };
    let mut first = start();
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = first.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |what: &str, seen: &mut Vec<String>| {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while !seen.iter().any(|l| l.contains(what)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => panic!("the first start never said {what:?} within 120 s: {seen:#?}"),
            }
        }
    };
    let mut seen = Vec::new();
    wait_for("WEBVIEW2_MISSING", &mut seen);
    wait_for("Máy tính chưa có Microsoft Edge WebView2 Runtime", &mut seen);
    assert!(first.try_wait().unwrap().is_none(), "the first start waits on its message: {seen:#?}");

    // A second start hands over and ends, with no message of its own.
    let second = start();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(second.wait_with_output());
    });
    let second = done_rx.recv_timeout(Duration::from_secs(120)).expect("the second start ended within 120 s").unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{said}");
    assert!(!said.contains("WEBVIEW2_MISSING"), "the second start went no further than the hand-over: {said}");
    wait_for("a second start was handed over", &mut seen);
    let _ = first.kill();
    let _ = first.wait();
}
