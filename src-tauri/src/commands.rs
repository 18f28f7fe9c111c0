//! The IPC commands. Each decodes its input, calls the client or the token, maps the
//! error. Blocking token work runs on the blocking pool.

use std::path::PathBuf;
use std::sync::Arc;

use bhxh_client::diagnostics::{self, Report};
use bhxh_client::flows::{self, Choice, FlowInput};
use bhxh_client::session::{KeyringStore, SessionStore, StoredSession};
use bhxh_client::{ApiClient, ClientError};
use bhxh_protocol::wire::{
    Ack, CertificateCheck, EmailChangeStarted, PortalRecoverComplete, PortalRecoverRequest, RecoveryComplete,
    UsernameLookupComplete,
};
use bhxh_protocol::{ErrorCode, Lang, Secret};
use bhxh_token::{Token, TokenSummary};
use secrecy::SecretString;
use serde::Serialize;
use tauri::State;

use crate::{AppState, IpcError, Settings};

type Res<T> = Result<T, IpcError>;

/// What the login screen learns; the session token stays in the shell.
#[derive(Debug, Clone, Serialize)]
pub struct LoginView {
    pub username: String,
    pub must_change_password: bool,
    pub expires_at: String,
    pub reference: String,
}

/// A portal captcha ready for an `<img>`.
#[derive(Debug, Clone, Serialize)]
pub struct CaptchaView {
    pub captcha_id: String,
    /// `data:image/png;base64,…`
    pub image: String,
    pub expires_at: String,
}

fn settings(state: &AppState) -> Settings {
    state.settings.lock().map(|s| s.clone()).unwrap_or_default()
}

fn lang(state: &AppState) -> Lang {
    settings(state).lang
}

fn api(state: &AppState) -> Res<ApiClient> {
    let s = settings(state);
    ApiClient::new(&s.server_url, s.lang)
        .map(|a| a.with_instance(&state.instance))
        .map_err(|e| IpcError::from_client(&e, s.lang))
}

/// The module in the settings alone, or every module installed, from the one token
/// service (loaded on the blocking pool; loaded again only when that list changed: a
/// driver installed meanwhile).
async fn token(state: &AppState) -> Res<Arc<dyn Token>> {
    let s = settings(state);
    let module = s.pkcs11_module.as_ref().map(PathBuf::from);
    state.tokens.open(module).await.map_err(|e| IpcError::from_client(&e, s.lang))
}

/// Whether the settings may name `wanted` as the PKCS#11 module.
fn module_allowed(state: &AppState, wanted: Option<&str>) -> bool {
    let Some(wanted) = wanted else { return true };
    if settings(state).pkcs11_module.as_deref() == Some(wanted) {
        return true;
    }
    let wanted = PathBuf::from(wanted);
    let picked = state.picked_module.lock().map(|p| p.as_ref() == Some(&wanted)).unwrap_or(false);
    picked || bhxh_token::module::discover().contains(&wanted)
}

/// The PKCS#11 modules found on this computer (the known CA middlewares).
#[tauri::command]
pub async fn modules_list() -> Vec<String> {
    tauri::async_runtime::spawn_blocking(|| {
        bhxh_token::module::discover().iter().map(|p| p.display().to_string()).collect()
    })
    .await
    .unwrap_or_default()
}

/// The native file dialog: the module the user picks becomes choosable in the settings
/// (`None` when they cancel). The path comes from the dialog, never from the web view.
#[tauri::command]
pub async fn module_pick<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Res<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let lang = lang(&state);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let title =
        if lang == Lang::En { "Token driver library (PKCS#11)" } else { "Thư viện điều khiển token (PKCS#11)" };
    app.dialog().file().set_title(title).add_filter("PKCS#11", &["dll", "so", "dylib"]).pick_file(move |p| {
        let _ = tx.send(p);
    });
    let picked = rx.await.ok().flatten().and_then(|p| p.into_path().ok());
    if let (Some(p), Ok(mut slot)) = (&picked, state.picked_module.lock()) {
        *slot = Some(p.clone());
    }
    Ok(picked.map(|p| p.display().to_string()))
}

/// The support desk's number to show (`settings::Hotline`): the one known at once, or,
/// with `ask`, the server's (asked now; the one known when the server does not answer).
#[tauri::command]
pub async fn hotline(state: State<'_, AppState>, ask: bool) -> Res<crate::settings::Hotline> {
    let known = || {
        state.hotline.lock().map(|h| h.clone()).unwrap_or_else(|_| crate::settings::Hotline::load(&state.config_dir))
    };
    if !ask {
        return Ok(known());
    }
    let Ok(api) = api(&state) else { return Ok(known()) };
    match api.health().await {
        Ok(h) => {
            if let Some(told) = crate::settings::Hotline::told(&state.config_dir, &h.hotline) {
                if let Ok(mut kept) = state.hotline.lock() {
                    *kept = told;
                }
            }
        }
        Err(e) => eprintln!("bhxh-desktop: the server's hotline was not read: {}", e.code().as_str()),
    }
    Ok(known())
}

#[tauri::command]
pub fn settings_get(state: State<'_, AppState>) -> Settings {
    settings(&state)
}

#[tauri::command]
pub fn settings_set(state: State<'_, AppState>, settings: Settings) -> Res<Settings> {
    // Refuse an address the client would refuse, before it is saved.
    ApiClient::new(&settings.server_url, settings.lang).map_err(|e| IpcError::from_client(&e, settings.lang))?;
    // The web view cannot name a library for the shell to load: only "automatic", the
    // saved one, a discovered one, or the one picked in the native dialog.
    if !module_allowed(&state, settings.pkcs11_module.as_deref()) {
        return Err(IpcError::code(ErrorCode::ModuleNotChosen, settings.lang));
    }
    settings.save(&state.config_dir).map_err(|_| IpcError::code(ErrorCode::Internal, settings.lang))?;
    if let Ok(mut s) = state.settings.lock() {
        *s = settings.clone();
    }
    Ok(settings)
}

#[tauri::command]
pub async fn tokens_list(state: State<'_, AppState>) -> Res<Vec<TokenSummary>> {
    let lang = lang(&state);
    let token = token(&state).await?;
    tokio::task::spawn_blocking(move || token.tokens())
        .await
        .map_err(|_| IpcError::code(ErrorCode::TokenFailure, lang))?
        .map_err(|e| IpcError::from_client(&ClientError::Token(e), lang))
}

/// The server's verdict on one certificate of a token (its path to the root, its
/// revocation), before the PIN is asked: nothing about accounts, no PIN, no signature.
#[tauri::command]
pub async fn certificate_check(state: State<'_, AppState>, slot_id: u64, cert_id: String) -> Res<CertificateCheck> {
    let lang = lang(&state);
    let api = api(&state)?;
    let token = token(&state).await?;
    let choice = Choice { slot_id: Some(slot_id), cert_id: Some(cert_id) };
    let (tok, cert) = flows::select(&token, &choice).await.map_err(|e| IpcError::from_client(&e, lang))?;
    api.check_certificate(&cert.der, &tok.ca_certificates).await.map_err(|e| IpcError::from_client(&e, lang))
}

/// The client and the flow input of a token proof: the token and certificate the user
/// chose, the PIN (moved in, never stored), the final-try confirmation, the progress
/// emitter.
async fn proof(
    state: &AppState,
    pin: SecretString,
    slot_id: u64,
    cert_id: String,
    confirm_final_try: bool,
) -> Res<(ApiClient, FlowInput)> {
    let choice = Choice { slot_id: Some(slot_id), cert_id: Some(cert_id) };
    let api = api(state)?;
    let token = token(state).await?;
    Ok((api, FlowInput { token, choice, pin, confirm_final_try, progress: state.progress.clone() }))
}

/// Recovers the password of `username`. `pin` is a secret from the moment it is
/// deserialised; it is moved into the token call and never stored.
#[tauri::command]
pub async fn recover(
    state: State<'_, AppState>,
    username: String,
    pin: SecretString,
    slot_id: u64,
    cert_id: String,
    confirm_final_try: bool,
) -> Res<RecoveryComplete> {
    let (api, input) = proof(&state, pin, slot_id, cert_id, confirm_final_try).await?;
    flows::recover(&api, &username, input).await.map_err(|e| IpcError::from_client(&e, lang(&state)))
}

/// The usernames of the token's MST.
#[tauri::command]
pub async fn lookup_usernames(
    state: State<'_, AppState>,
    pin: SecretString,
    slot_id: u64,
    cert_id: String,
    confirm_final_try: bool,
) -> Res<UsernameLookupComplete> {
    let (api, input) = proof(&state, pin, slot_id, cert_id, confirm_final_try).await?;
    flows::lookup_usernames(&api, input).await.map_err(|e| IpcError::from_client(&e, lang(&state)))
}

/// Asks to change the registered email of `username` to `new_email`: the token signs
/// for that address; a confirmation link goes to it. Nothing changes yet.
#[tauri::command]
#[allow(clippy::too_many_arguments)] // the IPC call's fields, named at the call
pub async fn change_email(
    state: State<'_, AppState>,
    username: String,
    new_email: String,
    pin: SecretString,
    slot_id: u64,
    cert_id: String,
    confirm_final_try: bool,
) -> Res<EmailChangeStarted> {
    let (api, input) = proof(&state, pin, slot_id, cert_id, confirm_final_try).await?;
    flows::change_email(&api, &username, &new_email, input).await.map_err(|e| IpcError::from_client(&e, lang(&state)))
}

/// A fresh captcha for the portal screen.
#[tauri::command]
pub async fn portal_captcha(state: State<'_, AppState>) -> Res<CaptchaView> {
    let lang = lang(&state);
    let c = api(&state)?.portal_captcha().await.map_err(|e| IpcError::from_client(&e, lang))?;
    Ok(CaptchaView {
        captcha_id: c.captcha_id,
        image: format!("data:image/png;base64,{}", c.image_png),
        expires_at: c.expires_at,
    })
}

/// Portal recovery: MST + registered email + the captcha's answer.
#[tauri::command]
pub async fn portal_recover(
    state: State<'_, AppState>,
    mst: String,
    email: String,
    captcha_id: String,
    captcha_answer: String,
) -> Res<PortalRecoverComplete> {
    let lang = lang(&state);
    let req = PortalRecoverRequest { mst: mst.trim().into(), email: email.trim().into(), captcha_id, captcha_answer };
    api(&state)?.portal_recover(&req).await.map_err(|e| IpcError::from_client(&e, lang))
}

#[tauri::command]
pub async fn login(state: State<'_, AppState>, username: String, password: Secret) -> Res<LoginView> {
    let lang = lang(&state);
    let api = api(&state)?;
    let resp = api.login(&username, password).await.map_err(|e| IpcError::from_client(&e, lang))?;
    let session = StoredSession {
        username: bhxh_protocol::domain::normalize_username(&username),
        token: resp.session_token.clone(),
        must_change_password: resp.must_change_password,
    };
    // Remembered across restarts when the OS keyring works; otherwise for this run only.
    let _ = bhxh_client::session::remember(api.origin(), &session);
    let view = LoginView {
        username: session.username.clone(),
        must_change_password: resp.must_change_password,
        expires_at: resp.expires_at.clone(),
        reference: resp.reference.clone(),
    };
    if let Ok(mut s) = state.session.lock() {
        *s = Some(session);
    }
    Ok(view)
}

fn current_session(state: &AppState, api: &ApiClient) -> Option<StoredSession> {
    let in_memory = state.session.lock().ok().and_then(|s| s.clone());
    in_memory.or_else(|| KeyringStore::new(api.origin()).load().ok().flatten())
}

fn forget_session(state: &AppState, api: &ApiClient) {
    if let Ok(mut s) = state.session.lock() {
        *s = None;
    }
    let _ = KeyringStore::new(api.origin()).clear();
}

#[tauri::command]
pub async fn change_password(state: State<'_, AppState>, current: Option<Secret>, new: Secret) -> Res<Ack> {
    let lang = lang(&state);
    let api = api(&state)?;
    let session = current_session(&state, &api).ok_or_else(|| IpcError::code(ErrorCode::NotLoggedIn, lang))?;
    let ack =
        api.change_password(session.token.expose(), current, new).await.map_err(|e| IpcError::from_client(&e, lang))?;
    forget_session(&state, &api);
    Ok(ack)
}

#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> Res<Ack> {
    let lang = lang(&state);
    let api = api(&state)?;
    let session = current_session(&state, &api).ok_or_else(|| IpcError::code(ErrorCode::NotLoggedIn, lang))?;
    let result = api.logout(session.token.expose()).await;
    forget_session(&state, &api);
    result.map_err(|e| IpcError::from_client(&e, lang))
}

#[tauri::command]
pub async fn session_info(state: State<'_, AppState>) -> Res<Option<LoginView>> {
    let Ok(api) = api(&state) else { return Ok(None) };
    let Some(session) = current_session(&state, &api) else { return Ok(None) };
    match api.session(session.token.expose()).await {
        Ok(info) => Ok(Some(LoginView {
            username: info.username,
            must_change_password: info.must_change_password,
            expires_at: info.expires_at,
            reference: info.reference,
        })),
        Err(_) => {
            forget_session(&state, &api);
            Ok(None)
        }
    }
}

#[tauri::command]
pub async fn diagnostics(state: State<'_, AppState>) -> Res<Report> {
    let s = settings(&state);
    let api = ApiClient::new(&s.server_url, s.lang).ok().map(|a| a.with_instance(&state.instance));
    let module = s.pkcs11_module.as_ref().map(PathBuf::from);
    Ok(diagnostics::run(api.as_ref(), &s.server_url, module.as_deref(), s.lang).await)
}

/// Puts `text` on the system clipboard and reads it back: success only when the
/// clipboard really holds it (the web view's own clipboard API said "copied" and held
/// nothing under WebKitGTK).
fn copy_verified<R: tauri::Runtime>(app: &tauri::AppHandle<R>, text: &str, lang: Lang) -> Res<()> {
    use tauri::Manager;
    let unavailable = || IpcError::code(ErrorCode::ClipboardUnavailable, lang);
    let clipboard = app.try_state::<tauri_plugin_clipboard_manager::Clipboard<R>>().ok_or_else(unavailable)?;
    clipboard.write_text(text.to_string()).map_err(|_| unavailable())?;
    match clipboard.read_text() {
        Ok(back) if back == text => Ok(()),
        _ => Err(unavailable()),
    }
}

/// The support report, copied to the clipboard (verified); it is returned too, for the
/// read-only box the Support screen shows it in. `last_error` is the code and reference
/// of the last error the user saw (checked for their form: nothing else is added).
#[tauri::command]
pub async fn support_copy<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    last_error: Option<String>,
) -> Res<String> {
    let lang = lang(&state);
    let report = with_last_error(support_report(state).await?, last_error.as_deref(), lang);
    copy_verified(&app, &report, lang)?;
    Ok(report)
}

/// The support report saved where the user chooses in the native dialog (`None` when
/// they cancel); the path comes from the dialog, never from the web view.
#[tauri::command]
pub async fn support_save<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    last_error: Option<String>,
) -> Res<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let lang = lang(&state);
    let report = with_last_error(support_report(state).await?, last_error.as_deref(), lang);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let title = if lang == Lang::En { "Save the support report" } else { "Lưu báo cáo hỗ trợ" };
    app.dialog().file().set_title(title).set_file_name("bao-cao-ho-tro.txt").add_filter("Text", &["txt"]).save_file(
        move |p| {
            let _ = tx.send(p);
        },
    );
    let Some(path) = rx.await.ok().flatten().and_then(|p| p.into_path().ok()) else { return Ok(None) };
    std::fs::write(&path, report.as_bytes()).map_err(|_| IpcError::code(ErrorCode::Internal, lang))?;
    Ok(Some(path.display().to_string()))
}

/// The support report the user is asked to agree to send: shown as it is, and kept in
/// the shell, so `support_send` sends exactly what was shown (the web view never hands
/// the shell a text to send).
#[tauri::command]
pub async fn support_preview(state: State<'_, AppState>, last_error: Option<String>) -> Res<String> {
    let lang = lang(&state);
    let (text, mut facts) = report_with_facts(&state).await;
    let report = with_last_error(text, last_error.as_deref(), lang);
    facts.last_error = last_error.as_deref().and_then(|e| e.split_whitespace().next()).and_then(ErrorCode::parse);
    if let Ok(mut pending) = state.pending_report.lock() {
        *pending = Some((report.clone(), facts));
    }
    Ok(report)
}

/// What the caller reads out: the support code of the report last shown, once agreed.
#[derive(Debug, Clone, Serialize)]
pub struct SupportCodeView {
    pub support_code: String,
    pub expires_at: String,
    pub reference: String,
}

/// Sends the report `support_preview` showed (the user agreed) and answers its code.
#[tauri::command]
pub async fn support_send(state: State<'_, AppState>) -> Res<SupportCodeView> {
    let lang = lang(&state);
    // Kept until it is sent: a send that failed (no network) can be tried again.
    let (report, facts) = state
        .pending_report
        .lock()
        .ok()
        .and_then(|p| p.clone())
        .ok_or_else(|| IpcError::code(ErrorCode::MalformedRequest, lang))?;
    let issued = api(&state)?.support_report(&report, facts).await.map_err(|e| IpcError::from_client(&e, lang))?;
    if let Ok(mut pending) = state.pending_report.lock() {
        *pending = None;
    }
    Ok(SupportCodeView {
        support_code: issued.support_code,
        expires_at: issued.expires_at,
        reference: issued.reference,
    })
}

/// A reference code (`RC-XXXX-XXXX`) copied to the clipboard, verified; anything else is
/// refused (the web view does not get a general clipboard writer).
#[tauri::command]
pub fn reference_copy<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
) -> Res<()> {
    let lang = lang(&state);
    let Some(r) = bhxh_protocol::Reference::parse(&reference) else {
        return Err(IpcError::code(ErrorCode::MalformedRequest, lang));
    };
    copy_verified(&app, r.as_str(), lang)
}

/// The report with the last error the user saw, when it has a code's form.
fn with_last_error(report: String, last_error: Option<&str>, lang: Lang) -> String {
    let safe = last_error.filter(|e| {
        e.len() <= 64 && e.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_- ".contains(c))
    });
    let label = if lang == Lang::Vi { "lỗi gần nhất" } else { "last error" };
    match safe {
        Some(e) => format!("{report}\n{label}: {e}"),
        None => report,
    }
}

/// The support report: the diagnostics as text plus the app and OS. It holds no PIN,
/// password or session token: it is built only from the checks and the settings.
#[tauri::command]
pub async fn support_report(state: State<'_, AppState>) -> Res<String> {
    Ok(report_with_facts(&state).await.0)
}

/// The support report's text, and the same checks as values (for the desk's advice).
async fn report_with_facts(state: &AppState) -> (String, bhxh_protocol::wire::ReportFacts) {
    let s = settings(state);
    let api = ApiClient::new(&s.server_url, s.lang).ok().map(|a| a.with_instance(&state.instance));
    let module = s.pkcs11_module.as_ref().map(PathBuf::from);
    let report = diagnostics::run(api.as_ref(), &s.server_url, module.as_deref(), s.lang).await;
    let vi = s.lang == Lang::Vi;
    let text = format!(
        "bhxh-desktop {} {} {} {}\n{}: {}\n{}",
        env!("CARGO_PKG_VERSION"),
        if vi { "trên" } else { "on" },
        std::env::consts::OS,
        std::env::consts::ARCH,
        if vi { "Thư viện điều khiển (PKCS#11) đã chọn" } else { "PKCS#11 module setting" },
        s.pkcs11_module.as_deref().unwrap_or(if vi { "(tự động)" } else { "(auto)" }),
        diagnostics::text(&report, s.lang)
    );
    (text, diagnostics::facts(&report))
}
