//! The shell's commands on Tauri's mock runtime, built for Windows
//! (`scripts/build-windows.sh` names it `bhxh-windows-shell-tests.exe`) and run under
//! Wine by `tests/commands.rs::the_shell_built_for_windows_under_wine`, against the Linux
//! backend of that test on loopback: the app's own Windows code for real, without a web
//! view (Wine has no WebView2) — the settings in `%APPDATA%\vn.bhxh.recovery` as Tauri
//! finds it (the known folder, not an environment variable), the log in
//! `%LOCALAPPDATA%\vn.bhxh.recovery\logs`, the session kept in the
//! Windows Credential Manager and found again by a second start, module discovery in
//! `System32`, the smart-card service that does not answer, the support code.
//!
//! The runner passes what it prepared: `BHXH_SERVER`, `BHXH_TEST_USERNAME` and
//! `BHXH_TEST_PASSWORD` (an account's long-term password), `BHXH_TEST_NOT_A_MODULE` (a
//! DLL under a VN CA module's name in `System32` that is no PKCS#11 module). It reads
//! the support code this test prints (`support-code: HT-…`).
#![cfg(windows)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::path::PathBuf;

use bhxh_desktop::run_app;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: this test is run by tests/commands.rs under Wine"))
}

/// The app as a user starts it: no folder named by the environment, the known folders.
fn start_app() -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    std::env::set_var("BHXH_DESKTOP_NO_WATCHER", "1");
    std::env::remove_var("BHXH_DESKTOP_CONFIG_DIR");
    std::env::remove_var("BHXH_PKCS11_MODULE");
    let mut app = run_app(mock_builder()).build(mock_context(noop_assets())).unwrap();
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    (app, window)
}

fn call(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        w,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // The app's own origin as Windows gives it (http://tauri.localhost, not tauri://).
            url: "http://tauri.localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn the_shell_on_windows() {
    let server = var("BHXH_SERVER");
    let (username, password) = (var("BHXH_TEST_USERNAME"), var("BHXH_TEST_PASSWORD"));
    let not_a_module = PathBuf::from(var("BHXH_TEST_NOT_A_MODULE"));

    // Settings live in %APPDATA%\vn.bhxh.recovery (the roaming known folder), the log in
    // %LOCALAPPDATA%\vn.bhxh.recovery\logs (the local one).
    let (app, w) = start_app();
    // The mock runtime's configuration has an identifier of its own (the app's is
    // vn.bhxh.recovery); it names the folder under each known folder.
    let id = app.config().identifier.clone();
    let log = bhxh_desktop::log::start(app.handle()).expect("a log file");
    let local = PathBuf::from(std::env::var_os("LOCALAPPDATA").expect("%LOCALAPPDATA%"));
    assert_eq!(log, local.join(&id).join("logs").join("bhxh-desktop.log"));
    let folder = PathBuf::from(std::env::var_os("APPDATA").expect("%APPDATA%")).join(&id);
    call(&w, "settings_set", json!({"settings": {"server_url": server, "pkcs11_module": null, "lang": "vi"}})).unwrap();
    let saved: Value = serde_json::from_slice(
        &std::fs::read(folder.join("settings.json")).expect("settings.json in %APPDATA%\\<identifier>"),
    )
    .unwrap();
    assert_eq!(saved["server_url"], server.as_str());
    assert!(folder.join("instance-id").is_file(), "the installation's id beside the settings");

    // Module discovery: the DLL under a known name in System32 is listed to choose from;
    // loading it fails, which is said, and nothing crashes.
    let listed = call(&w, "modules_list", json!({})).unwrap();
    let listed: Vec<String> = listed.as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_lowercase()).collect();
    assert!(listed.contains(&not_a_module.display().to_string().to_lowercase()), "{listed:?}");
    let tokens = call(&w, "tokens_list", json!({})).unwrap_err();
    assert!(["MODULE_LOAD_FAILED", "NO_TOKEN"].contains(&tokens["code"].as_str().unwrap()), "{tokens}");

    // Diagnostics: the smart-card service that does not answer is named as such.
    let diag = call(&w, "diagnostics", json!({})).unwrap();
    let checks = diag["checks"].as_array().unwrap();
    let readers = checks.iter().find(|c| c["name"] == "readers").expect("a readers check");
    assert_eq!(readers["code"], "READER_SERVICE_UNAVAILABLE", "{diag:#}");
    let skipped = diag["skipped_modules"].to_string().to_lowercase();
    assert!(skipped.contains("vnpt-ca_csp11.dll"), "{diag:#}");
    assert_eq!(checks.iter().find(|c| c["name"] == "server").unwrap()["status"], "ok", "{diag:#}");

    // Login: the session goes to the Credential Manager, and a second start finds it.
    let login = call(&w, "login", json!({"username": username, "password": password})).unwrap();
    assert_eq!(login["must_change_password"], false, "{login}");
    drop(w);
    drop(app);
    let (app, w) = start_app();
    let session = call(&w, "session_info", json!({})).unwrap();
    assert_eq!(session["username"], username.as_str(), "the Credential Manager kept the session: {session}");

    // The support code, with the report the user saw.
    let shown = call(&w, "support_preview", json!({"lastError": null})).unwrap();
    assert!(shown.as_str().unwrap().contains("windows"), "{shown}");
    let issued = call(&w, "support_send", json!({})).unwrap();
    println!("support-code: {}", issued["support_code"].as_str().unwrap());

    // The log says what failed, by code, and holds no password.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("bhxh-desktop started") && logged.contains(tokens["code"].as_str().unwrap()), "{logged}");
    assert!(!logged.contains(&password), "{logged}");

    // Logging out forgets it: a third start has no session.
    call(&w, "logout", json!({})).unwrap();
    drop(w);
    drop(app);
    let (_app, w) = start_app();
    assert!(call(&w, "session_info", json!({})).unwrap().is_null());
}
