//! `bhxh-desktop`: the Tauri 2 shell. Only this crate knows Tauri. Each command decodes
//! its input, calls `bhxh-client` / `bhxh-token`, and maps the error; nothing more.
//!
//! The PIN arrives as a `SecretString` straight from IPC deserialisation, moves into
//! the token call and is dropped (zeroized); it is never put in Tauri state or events.
#![forbid(unsafe_code)]

pub mod commands;
pub mod error;
pub mod log;
pub mod settings;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bhxh_client::flows::Progress;
use bhxh_client::session::StoredSession;
use tauri::{Emitter, Manager, Runtime};

pub use error::IpcError;
pub use settings::Settings;

/// The shell's state: settings and the login session. Never a PIN.
pub struct AppState {
    pub settings: Mutex<Settings>,
    pub config_dir: PathBuf,
    pub session: Mutex<Option<StoredSession>>,
    /// Sends a flow's progress to the window (`progress` events).
    pub progress: Arc<dyn Fn(Progress) + Send + Sync>,
    /// The PKCS#11 module the user last picked in the native file dialog: with the
    /// discovered ones, the only paths the settings may name.
    pub picked_module: Mutex<Option<PathBuf>>,
    /// The modules loaded, and the list they were loaded from: kept while that list is
    /// the same, so a token's slot id from a listing names the same token at signing
    /// (and the modules are not searched for and opened again on every command).
    pub tokens: Arc<bhxh_client::tokens::TokenService>,
    /// This installation's id, sent with every request (`bhxh_client::instance`).
    pub instance: String,
    /// The support report last shown for consent: what `support_send` sends, exactly.
    /// The report shown for agreement: its text and the same checks as values.
    pub pending_report: Mutex<Option<(String, bhxh_protocol::wire::ReportFacts)>>,
    /// The support desk's number shown (`settings::Hotline`).
    pub hotline: Mutex<settings::Hotline>,
    watcher: Mutex<Option<bhxh_token::readers::Watcher>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("config_dir", &self.config_dir).finish_non_exhaustive()
    }
}

impl AppState {
    /// State with the settings found in `config_dir`.
    pub fn new(config_dir: PathBuf, progress: Arc<dyn Fn(Progress) + Send + Sync>) -> AppState {
        AppState {
            settings: Mutex::new(Settings::load(&config_dir)),
            hotline: Mutex::new(settings::Hotline::load(&config_dir)),
            instance: bhxh_client::instance::load_or_create(&config_dir),
            pending_report: Mutex::new(None),
            config_dir,
            session: Mutex::new(None),
            progress,
            picked_module: Mutex::new(None),
            tokens: bhxh_client::tokens::TokenService::new(),
            watcher: Mutex::new(None),
        }
    }
}

/// Registers the commands and state on any runtime (the real one, or the mock runtime
/// in tests).
pub fn run_app<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .setup(|app| {
            let dir = std::env::var_os("BHXH_DESKTOP_CONFIG_DIR")
                .map(PathBuf::from)
                .or_else(|| app.path().app_config_dir().ok())
                .unwrap_or_else(|| PathBuf::from("."));
            let handle = app.handle().clone();
            let state = AppState::new(
                dir,
                Arc::new(move |p: Progress| {
                    let _ = handle.emit("progress", p);
                }),
            );
            if std::env::var_os("BHXH_DESKTOP_NO_WATCHER").is_none() {
                let handle = app.handle().clone();
                let watcher = bhxh_token::readers::Watcher::start(move |event| {
                    let _ = handle.emit("reader-event", &event);
                });
                if let Ok(mut w) = state.watcher.lock() {
                    *w = Some(watcher);
                }
            }
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::settings_get,
            commands::settings_set,
            commands::modules_list,
            commands::module_pick,
            commands::tokens_list,
            commands::certificate_check,
            commands::recover,
            commands::lookup_usernames,
            commands::change_email,
            commands::portal_captcha,
            commands::portal_recover,
            commands::login,
            commands::change_password,
            commands::logout,
            commands::session_info,
            commands::hotline,
            commands::diagnostics,
            commands::support_report,
            commands::support_copy,
            commands::support_save,
            commands::reference_copy,
            commands::support_preview,
            commands::support_send,
        ])
}

/// Runs the app.
pub fn run() {
    let builder = tauri::Builder::default();
    // First, so a second start goes no further than handing over: the window that is
    // already open comes forward (restored if minimised), and the second process exits.
    #[cfg(any(windows, target_os = "macos"))]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
        eprintln!("bhxh-desktop: a second start was handed over to this one");
        bring_forward(app);
    }));
    let app = run_app(builder.plugin(tauri_plugin_dialog::init()).plugin(tauri_plugin_clipboard_manager::init()))
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => fail(&format!("{e}")),
    };
    log::start(app.handle());
    // Windows draws the window with the WebView2 runtime (Windows 11 and an updated
    // Windows 10 have it; the installer brings it). Without it, say so in words, not with
    // a crash, while this start still holds the one-instance lock.
    #[cfg(windows)]
    if let Err(e) = tauri::webview_version() {
        webview2_missing(&e.to_string());
    }
    app.run(|_, _| {});
}

/// Ends the app with `detail` where the user sees it (a window on Windows, where the app
/// has no console) and where a log keeps it.
fn fail(detail: &str) -> ! {
    eprintln!("bhxh-desktop: {detail}");
    tracing::error!(%detail, "the app could not start");
    #[cfg(windows)]
    rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title("Lấy lại mật khẩu BHXH")
        .set_description(format!("Ứng dụng không mở được. Hãy gọi tổng đài 1800 1260 và đọc nội dung sau:\n\n{detail}"))
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
    std::process::exit(1);
}

/// The WebView2 runtime is missing: a message box in Vietnamese (and English), and the
/// same words on the error output for a log; exit code 3.
#[cfg(windows)]
fn webview2_missing(detail: &str) -> ! {
    let text =
        "Máy tính chưa có Microsoft Edge WebView2 Runtime, phần Windows dùng để hiển thị cửa sổ của ứng dụng này.\n\n\
                Hãy chạy lại bộ cài \"Lấy lại mật khẩu BHXH\" khi máy có kết nối Internet (bộ cài tự tải WebView2), \
                hoặc nhờ bộ phận IT cài \"Microsoft Edge WebView2 Runtime\". Cần hỗ trợ: gọi tổng đài 1800 1260.\n\n\
                This computer has no Microsoft Edge WebView2 Runtime, which Windows uses to draw this app's window. \
                Run the installer again while online (it downloads WebView2), or ask your IT staff to install it.";
    eprintln!("bhxh-desktop: WEBVIEW2_MISSING ({detail})\n{text}");
    tracing::error!(%detail, "WEBVIEW2_MISSING");
    rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title("Lấy lại mật khẩu BHXH")
        .set_description(text)
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
    std::process::exit(3);
}

/// Shows the main window in front of the others, restored if it was minimised.
#[cfg(any(windows, target_os = "macos"))]
fn bring_forward<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}
