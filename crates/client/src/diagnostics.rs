//! The diagnostics support staff ask for on the phone (`bhxh doctor`, the app's
//! Support screen). Every check says ok / warning / failure, what it saw, and for each
//! red one what to do. It holds no secret: there is no PIN or password anywhere in it.

use std::path::Path;

use bhxh_protocol::Lang;
use bhxh_token::p11::{LoadedModule, Modules, Skipped};
use bhxh_token::{readers, PinState, Token};
use serde::Serialize;

use crate::ApiClient;

fn t<'a>(lang: Lang, vi: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A Unix time as `dd/mm/yyyy HH:MM` in Vietnam time (UTC+7).
pub fn vn_date(secs: i64) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!("{:02}/{:02}/{} {:02}:{:02}", t.day(), u8::from(t.month()), t.year(), t.hour(), t.minute())
        }
        Err(_) => secs.to_string(),
    }
}

/// The CAs' signing plugins and the loopback ports they listen on (VNPT-CA Plugin on
/// 4433, Viettel-CA's on 14007). `BHXH_CA_PLUGIN_PORTS` (`name=port,…`) replaces the
/// list (tests).
fn ca_plugin_ports() -> Vec<(String, u16)> {
    if let Ok(list) = std::env::var("BHXH_CA_PLUGIN_PORTS") {
        return list
            .split(',')
            .filter_map(|item| item.split_once('='))
            .filter_map(|(name, port)| Some((name.trim().to_string(), port.trim().parse().ok()?)))
            .collect();
    }
    vec![("VNPT-CA Plugin (127.0.0.1:4433)".into(), 4433), ("Viettel-CA Plugin (127.0.0.1:14007)".into(), 14007)]
}

/// The plugins whose port answers on loopback, within 300 ms each.
async fn running_ca_plugins() -> Vec<String> {
    let mut running = Vec::new();
    for (name, port) in ca_plugin_ports() {
        let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
        if matches!(tokio::time::timeout(std::time::Duration::from_millis(300), connect).await, Ok(Ok(_))) {
            running.push(name);
        }
    }
    running
}

pub use bhxh_protocol::wire::{CheckName, CheckStatus as Status};

/// One line of the checklist: a fact (what, its state, the error code if it failed) and
/// its words in the user's language (`detail`, `fix`).
#[derive(Debug, Serialize)]
pub struct Check {
    pub name: CheckName,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<bhxh_protocol::ErrorCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    pub version: &'static str,
    pub server: String,
    pub checks: Vec<Check>,
    pub readers: Vec<readers::ReaderStatus>,
    pub tokens: Vec<bhxh_token::TokenSummary>,
    /// Every PKCS#11 module in use, and every one found but skipped (with why).
    pub modules: Vec<LoadedModule>,
    pub skipped_modules: Vec<Skipped>,
}

/// The report's checks as values, sent beside its text with a support report: the
/// desk's advice is chosen from these, never from words of the text.
pub fn facts(report: &Report) -> bhxh_protocol::wire::ReportFacts {
    bhxh_protocol::wire::ReportFacts {
        checks: report
            .checks
            .iter()
            .take(bhxh_protocol::wire::ReportFacts::MAX_CHECKS)
            .map(|c| bhxh_protocol::wire::CheckFact { name: c.name, status: c.status, code: c.code })
            .collect(),
        last_error: None,
    }
}

fn fail(name: CheckName, detail: String, e: &crate::ClientError, lang: Lang) -> Check {
    Check { name, status: Status::Fail, detail, code: Some(e.code()), fix: Some(e.hint(lang)) }
}

/// A failed check whose detail is the error itself, in the user's language (the code and
/// the hint beside it); `Display` is English, for logs.
fn failed(name: CheckName, e: &crate::ClientError, lang: Lang) -> Check {
    fail(name, e.message(lang), e, lang)
}

/// A token's PIN state as the report says it. The English words are `PinState`'s names
/// (`PIN: Locked`), which the backend's support page also looks for.
fn pin_words(state: PinState, lang: Lang) -> &'static str {
    match state {
        PinState::Ok => t(lang, "bình thường", "Ok"),
        PinState::CountLow => t(lang, "đã có lần nhập sai", "CountLow"),
        PinState::FinalTry => t(lang, "chỉ còn một lần thử", "FinalTry"),
        PinState::Locked => t(lang, "đã bị khóa", "Locked"),
        PinState::MustChange => t(lang, "phải đổi trước khi dùng", "MustChange"),
        _ => t(lang, "không rõ", "Unknown"),
    }
}

/// The name of a check as the report's text shows it (the app's terms).
pub fn check_label(name: CheckName, lang: Lang) -> &'static str {
    match name {
        CheckName::Pkcs11Module => t(lang, "thư viện điều khiển", "pkcs11_module"),
        CheckName::Readers => t(lang, "đầu đọc", "readers"),
        CheckName::Token => t(lang, "token", "token"),
        CheckName::Certificate => t(lang, "chứng thư số", "certificate"),
        CheckName::CertTrust => t(lang, "xác minh chứng thư", "cert_trust"),
        CheckName::CaPlugins => t(lang, "plugin ký số", "ca_plugins"),
        CheckName::Server => t(lang, "máy chủ", "server"),
        CheckName::Clock => t(lang, "đồng hồ", "clock"),
    }
}

/// Runs every check, one function each, in the order the report shows them. Blocking
/// token calls go to the blocking pool.
pub async fn run(api: Option<&ApiClient>, server: &str, module: Option<&Path>, lang: Lang) -> Report {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let found = check_modules(module.map(Path::to_path_buf), lang).await;
    let mut checks = found.checks;
    let (readers_check, reader_list) = check_readers(!found.tokens.is_empty(), lang).await;
    checks.push(readers_check);
    checks.extend(check_tokens(&found.tokens, now, lang));
    checks.push(check_ca_plugins(lang).await);
    checks.extend(check_server(api, server, &found.tokens, now, lang).await);
    Report {
        version: env!("CARGO_PKG_VERSION"),
        server: server.to_string(),
        checks,
        readers: reader_list,
        tokens: found.tokens,
        modules: found.loaded,
        skipped_modules: found.skipped,
    }
}

/// What [`check_modules`] found: its checks, the tokens the modules see, and the
/// modules loaded and skipped.
struct Found {
    checks: Vec<Check>,
    tokens: Vec<bhxh_token::TokenSummary>,
    loaded: Vec<LoadedModule>,
    skipped: Vec<Skipped>,
}

/// Every PKCS#11 module found (or the one chosen), and the tokens they see. Every module
/// is tried and every one that cannot be used is listed (not only the first), even when
/// none can: a DLL under a CA module's name that is no PKCS#11 module is reported by its
/// path.
async fn check_modules(module: Option<std::path::PathBuf>, lang: Lang) -> Found {
    type Loaded = (Modules, Result<Vec<bhxh_token::TokenSummary>, bhxh_token::TokenError>);
    let p11 = tokio::task::spawn_blocking(move || -> Result<Loaded, bhxh_token::TokenError> {
        let modules = Modules::load(&Modules::wanted(module.as_deref())?);
        let tokens = match modules.unusable() {
            Some(e) => Err(e),
            None => modules.tokens(),
        };
        Ok((modules, tokens))
    })
    .await
    .unwrap_or_else(|e| Err(bhxh_token::TokenError::Failure { detail: e.to_string() }));
    let mut found = Found { checks: Vec::new(), tokens: Vec::new(), loaded: Vec::new(), skipped: Vec::new() };
    let (modules, tokens) = match p11 {
        Ok(loaded) => loaded,
        Err(e) => {
            found.checks.push(failed(CheckName::Pkcs11Module, &crate::ClientError::Token(e), lang));
            return found;
        }
    };
    for m in modules.loaded() {
        let vendor = m.vendor.map(|v| format!(" ({v})")).unwrap_or_default();
        found.checks.push(Check {
            name: CheckName::Pkcs11Module,
            status: Status::Ok,
            detail: format!("{}{vendor} — {}", m.path.display(), m.info),
            code: None,
            fix: None,
        });
    }
    // A module that cannot be used is reported and skipped; it hides no other.
    for s in modules.skipped() {
        found.checks.push(Check {
            name: CheckName::Pkcs11Module,
            status: Status::Warn,
            detail: format!("{}: {} — {}", s.path.display(), t(lang, "bỏ qua", "skipped"), s.reason),
            code: Some(bhxh_protocol::ErrorCode::ModuleLoadFailed),
            fix: Some(bhxh_protocol::ErrorCode::ModuleLoadFailed.hint(lang).to_string()),
        });
    }
    found.loaded = modules.loaded().to_vec();
    found.skipped = modules.skipped().to_vec();
    match tokens {
        Ok(tokens) => found.tokens = tokens,
        Err(e) => found.checks.push(failed(CheckName::Pkcs11Module, &crate::ClientError::Token(e), lang)),
    }
    found
}

/// Readers over PC/SC (independent of the module: an unknown token still shows here).
/// When a module reached a token (`token_seen`), the path works without PC/SC (some
/// drivers talk to their token directly): what PC/SC says is then information, with no
/// fix to follow (a desk told "the PC/SC service is not running" would have the caller
/// restart a computer whose token works).
async fn check_readers(token_seen: bool, lang: Lang) -> (Check, Vec<readers::ReaderStatus>) {
    let reader_list = tokio::task::spawn_blocking(readers::readers).await.unwrap_or(Ok(Vec::new()));
    let check = readers_check(reader_list.as_deref().map_err(Clone::clone), token_seen, lang);
    (check, reader_list.unwrap_or_default())
}

/// What PC/SC's answer (its readers, or why there are none) says, given whether a module
/// reached a token.
fn readers_check(
    list: Result<&[readers::ReaderStatus], bhxh_token::TokenError>,
    token_seen: bool,
    lang: Lang,
) -> Check {
    let list = match list {
        Ok(list) => list,
        Err(e) => {
            let mut check = failed(CheckName::Readers, &crate::ClientError::Token(e), lang);
            if token_seen {
                check.status = Status::Info;
                check.fix = None;
            }
            return check;
        }
    };
    let cards = list.iter().filter(|r| r.card_present).count();
    let status = match (list.is_empty(), token_seen) {
        (false, _) => Status::Ok,
        (true, true) => Status::Info,
        (true, false) => Status::Warn,
    };
    Check {
        name: CheckName::Readers,
        status,
        detail: format!(
            "{} {}, {} {}",
            list.len(),
            t(lang, "đầu đọc", "readers"),
            cards,
            t(lang, "có thẻ/token", "with a card/token")
        ),
        code: None,
        fix: (status == Status::Warn).then(|| {
            t(
                lang,
                "Cắm token vào cổng USB; nếu vẫn không thấy, cài driver của token.",
                "Plug the token in; if it still does not show, install its driver.",
            )
            .to_string()
        }),
    }
}

/// Tokens, their PIN states and their certificates (none at all is a failure).
fn check_tokens(tokens: &[bhxh_token::TokenSummary], now: i64, lang: Lang) -> Vec<Check> {
    if tokens.is_empty() {
        let e = crate::ClientError::Token(bhxh_token::TokenError::NoToken);
        return vec![failed(CheckName::Token, &e, lang)];
    }
    let mut checks = Vec::new();
    for tok in tokens {
        checks.push(check_token(tok, lang));
        if tok.certificates.is_empty() {
            let e = crate::ClientError::Token(bhxh_token::TokenError::NoCertificate);
            checks.push(fail(CheckName::Certificate, tok.label.clone(), &e, lang));
        }
        checks.extend(tok.certificates.iter().map(|c| check_token_certificate(c, now, lang)));
    }
    checks
}

/// One token: what it is, and its PIN state (a warning's code is for support, the PIN
/// states' advice; only a locked token fails).
fn check_token(tok: &bhxh_token::TokenSummary, lang: Lang) -> Check {
    use bhxh_protocol::ErrorCode;
    let (status, code) = match tok.pin_state {
        PinState::Ok => (Status::Ok, None),
        PinState::CountLow => (Status::Warn, Some(ErrorCode::PinIncorrect)),
        PinState::FinalTry => (Status::Warn, Some(ErrorCode::PinFinalTry)),
        PinState::Locked => (Status::Fail, Some(ErrorCode::PinLocked)),
        PinState::MustChange => (Status::Warn, Some(ErrorCode::PinMustChange)),
        _ => (Status::Warn, None),
    };
    Check {
        name: CheckName::Token,
        status,
        detail: format!(
            "{} ({} {}, {} {}), PIN: {} — {} — {} {}",
            tok.label,
            tok.manufacturer,
            tok.model,
            t(lang, "số sê-ri", "serial"),
            tok.serial,
            pin_words(tok.pin_state, lang),
            tok.module,
            tok.ca_certificates.len(),
            t(lang, "chứng thư CA trên token", "CA certificate(s) on the token")
        ),
        code: code.filter(|_| status == Status::Fail),
        fix: code.map(|c| c.hint(lang).to_string()),
    }
}

/// One certificate of a token: usable now (valid, for signatures, a key we can use).
fn check_token_certificate(c: &bhxh_token::CertSummary, now: i64, lang: Lang) -> Check {
    let expired = now > c.not_after;
    let status = if c.usable_at(now) { Status::Ok } else { Status::Fail };
    let code = if expired {
        Some(bhxh_protocol::ErrorCode::CertExpired)
    } else if !c.digital_signature {
        Some(bhxh_protocol::ErrorCode::CertKeyUsage)
    } else if c.algorithm.is_none() {
        Some(bhxh_protocol::ErrorCode::CertKeyUnsupported)
    } else {
        None
    };
    Check {
        name: CheckName::Certificate,
        status,
        detail: format!(
            "{} — MST {} — {} {} — {} {} — {} {}-bit",
            c.holder,
            if c.msts.is_empty() { "?".to_string() } else { c.msts.join(", ") },
            t(lang, "cấp bởi", "issued by"),
            c.issuer,
            t(lang, "hết hạn", "expires"),
            vn_date(c.not_after),
            c.key_type,
            c.key_bits
        ),
        code,
        fix: code.map(|c| c.hint(lang).to_string()),
    }
}

/// The CAs' own signing plugins keep the token open and can break our session
/// (TOKEN_IN_USE): which of them are running, as information for support.
async fn check_ca_plugins(lang: Lang) -> Check {
    let plugins = running_ca_plugins().await;
    Check {
        name: CheckName::CaPlugins,
        status: Status::Ok,
        detail: if plugins.is_empty() {
            t(lang, "không thấy phần mềm ký số của CA nào đang chạy", "no CA signing tool is running").to_string()
        } else {
            format!("{}: {}", t(lang, "đang chạy", "running"), plugins.join(", "))
        },
        code: None,
        fix: (!plugins.is_empty()).then(|| bhxh_protocol::ErrorCode::TokenInUse.hint(lang).to_string()),
    }
}

/// The server: reachable, how fast, whether the clocks agree, and its verdict on each
/// usable certificate.
async fn check_server(
    api: Option<&ApiClient>,
    server: &str,
    tokens: &[bhxh_token::TokenSummary],
    now: i64,
    lang: Lang,
) -> Vec<Check> {
    let Some(api) = api else {
        return vec![Check {
            name: CheckName::Server,
            status: Status::Fail,
            detail: server.to_string(),
            code: Some(bhxh_protocol::ErrorCode::InsecureServerUrl),
            fix: Some(bhxh_protocol::ErrorCode::InsecureServerUrl.hint(lang).to_string()),
        }];
    };
    let h = match api.health().await {
        Ok(h) => h,
        Err(e) => return vec![fail(CheckName::Server, api.origin().to_string(), &e, lang)],
    };
    let mut checks = vec![
        Check {
            name: CheckName::Server,
            status: Status::Ok,
            detail: format!("{} — v{} ({}) — {:.0} ms", api.origin(), h.version, h.protocol, h.latency_ms),
            code: None,
            fix: None,
        },
        check_clock(h.clock_skew_secs, lang),
    ];
    // The server's verdict on each usable certificate (path, revocation), before any PIN
    // is spent on it; it says nothing about accounts.
    for tok in tokens {
        for c in tok.certificates.iter().filter(|c| c.usable_at(now)) {
            checks.push(check_trust(api, tok, c, lang).await);
        }
    }
    checks
}

/// The computer's clock against the server's (two minutes off is a warning).
fn check_clock(skew_secs: i64, lang: Lang) -> Check {
    let off = skew_secs.abs() > 120;
    Check {
        name: CheckName::Clock,
        status: if off { Status::Warn } else { Status::Ok },
        detail: format!("{} {} s", t(lang, "lệch so với máy chủ", "skew against the server"), skew_secs),
        code: None,
        fix: off.then(|| {
            t(
                lang,
                "Chỉnh ngày giờ máy tính (tự động đồng bộ giờ Internet).",
                "Fix the computer's clock (automatic Internet time).",
            )
            .to_string()
        }),
    }
}

/// The server's verdict on one certificate: its path, and its revocation status.
async fn check_trust(
    api: &ApiClient,
    tok: &bhxh_token::TokenSummary,
    c: &bhxh_token::CertSummary,
    lang: Lang,
) -> Check {
    match api.check_certificate(&c.der, &tok.ca_certificates).await {
        Ok(v) => Check {
            name: CheckName::CertTrust,
            status: if v.revocation_checked { Status::Ok } else { Status::Warn },
            detail: format!(
                "{} — {}{}",
                c.holder,
                v.path,
                if v.revocation_checked {
                    format!(" — {}: {}", t(lang, "thu hồi", "revocation"), v.revocation)
                } else {
                    t(lang, " — máy chủ không kiểm tra thu hồi", " — the server does not check revocation").to_string()
                }
            ),
            code: None,
            fix: None,
        },
        Err(e) => fail(CheckName::CertTrust, format!("{} — {}", c.holder, e.message(lang)), &e, lang),
    }
}

/// The report as plain text: what the Support screen copies and `bhxh doctor` prints.
/// No secret is in it by construction: the report is built only from the checks.
pub fn text(report: &Report, lang: Lang) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "bhxh {} — {} {}", report.version, t(lang, "máy chủ", "server"), report.server);
    let w = if lang == Lang::Vi { 19 } else { 13 };
    for c in &report.checks {
        let mark = match (c.status, lang) {
            (Status::Ok, Lang::Vi) => "[ ĐẠT ]",
            (Status::Info, _) => "[  i  ]",
            (Status::Warn, Lang::Vi) => "[LƯU Ý]",
            (Status::Fail, Lang::Vi) => "[ LỖI ]",
            (Status::Ok, Lang::En) => "[ OK  ]",
            (Status::Warn, Lang::En) => "[WARN ]",
            (Status::Fail, Lang::En) => "[FAIL ]",
        };
        let _ = writeln!(out, "{mark} {:<w$} {}", check_label(c.name, lang), c.detail);
        if let Some(code) = &c.code {
            let _ = writeln!(out, "        {:<w$} {code}", "");
        }
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "        {:<w$} → {fix}", "");
        }
    }
    for r in &report.readers {
        let _ = writeln!(
            out,
            "        {:<w$} {} — {}{}",
            t(lang, "đầu đọc", "reader"),
            r.name,
            if r.card_present { r.atr.clone().unwrap_or_default() } else { t(lang, "trống", "empty").to_string() },
            r.model.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()
        );
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use bhxh_token::{CertSummary, TokenSummary};

    fn cert(over: impl FnOnce(&mut CertSummary)) -> CertSummary {
        let mut c = CertSummary {
            id: "01".into(),
            label: String::new(),
            holder: "CÔNG TY TNHH THỬ NGHIỆM BHXH".into(),
            msts: vec!["0101234567".into()],
            personal_ids: Vec::new(),
            issuer: "VNPT-CA SHA2".into(),
            serial: "1".into(),
            not_before: 1_000,
            not_after: 2_000,
            key_type: "RSA".into(),
            key_bits: 2048,
            algorithm: Some(bhxh_protocol::Algorithm::RS256),
            digital_signature: true,
            fingerprint: String::new(),
            der: Vec::new(),
        };
        over(&mut c);
        c
    }

    fn token(pin_state: PinState, certificates: Vec<CertSummary>) -> TokenSummary {
        TokenSummary {
            slot_id: 1,
            label: "VNPT-CA".into(),
            manufacturer: "FT".into(),
            model: "ePass2003".into(),
            serial: "s".into(),
            pin_state,
            pin_pad: false,
            module: "vnpt-ca_csp11.dll".into(),
            certificates,
            ca_certificates: Vec::new(),
        }
    }

    #[test]
    fn a_certificate_is_checked_for_expiry_key_usage_and_key_in_that_order() {
        let at = |c: &CertSummary, now| check_token_certificate(c, now, Lang::Vi);
        let ok = at(&cert(|_| {}), 1_500);
        assert_eq!((ok.status, ok.code), (Status::Ok, None));
        assert!(ok.detail.contains("MST 0101234567") && ok.detail.contains("cấp bởi VNPT-CA SHA2"), "{}", ok.detail);
        let expired = at(&cert(|c| c.digital_signature = false), 2_001);
        assert_eq!((expired.status, expired.code), (Status::Fail, Some(bhxh_protocol::ErrorCode::CertExpired)));
        let usage = at(&cert(|c| c.digital_signature = false), 1_500);
        assert_eq!(usage.code, Some(bhxh_protocol::ErrorCode::CertKeyUsage));
        let key = at(&cert(|c| c.algorithm = None), 1_500);
        assert_eq!(key.code, Some(bhxh_protocol::ErrorCode::CertKeyUnsupported));
        // No MST: not usable, and no code of its own.
        let no_mst = at(&cert(|c| c.msts.clear()), 1_500);
        assert_eq!((no_mst.status, no_mst.code), (Status::Fail, None));
        assert!(no_mst.detail.contains("MST ?"));
    }

    #[test]
    fn only_a_locked_token_fails_and_a_warning_carries_advice_without_a_code() {
        let locked = check_token(&token(PinState::Locked, Vec::new()), Lang::Vi);
        assert_eq!((locked.status, locked.code), (Status::Fail, Some(bhxh_protocol::ErrorCode::PinLocked)));
        assert!(locked.detail.contains("PIN: đã bị khóa"), "{}", locked.detail);
        let final_try = check_token(&token(PinState::FinalTry, Vec::new()), Lang::En);
        assert_eq!((final_try.status, final_try.code), (Status::Warn, None));
        assert!(final_try.fix.is_some() && final_try.detail.contains("PIN: FinalTry"), "{final_try:?}");
        let fine = check_token(&token(PinState::Ok, Vec::new()), Lang::Vi);
        assert_eq!((fine.status, fine.code, fine.fix), (Status::Ok, None, None));
    }

    #[test]
    fn no_token_fails_and_a_token_without_a_certificate_says_so() {
        let none = check_tokens(&[], 1_500, Lang::Vi);
        assert_eq!(none.len(), 1);
        assert_eq!(
            (none[0].name, none[0].status, none[0].code),
            (CheckName::Token, Status::Fail, Some(bhxh_protocol::ErrorCode::NoToken))
        );
        let empty = check_tokens(&[token(PinState::Ok, Vec::new())], 1_500, Lang::Vi);
        let names: Vec<_> = empty.iter().map(|c| (c.name, c.status)).collect();
        assert_eq!(names, [(CheckName::Token, Status::Ok), (CheckName::Certificate, Status::Fail)]);
        assert_eq!(empty[1].code, Some(bhxh_protocol::ErrorCode::NoCertificate));
        let two =
            check_tokens(&[token(PinState::Ok, vec![cert(|_| {}), cert(|c| c.not_after = 1_000)])], 1_500, Lang::Vi);
        assert_eq!(two.iter().map(|c| c.status).collect::<Vec<_>>(), [Status::Ok, Status::Ok, Status::Fail]);
    }

    #[test]
    fn no_pc_sc_is_information_when_the_token_works_through_its_module() {
        use bhxh_protocol::ErrorCode;
        let down = || Err(bhxh_token::TokenError::ReaderServiceUnavailable);
        // Nothing else reached a token: the service is what to fix.
        let alone = readers_check(down(), false, Lang::Vi);
        assert_eq!((alone.status, alone.code), (Status::Fail, Some(ErrorCode::ReaderServiceUnavailable)));
        assert!(alone.fix.is_some());
        // The token reads through its module: worth knowing, nothing to do.
        let info = readers_check(down(), true, Lang::Vi);
        assert_eq!(
            (info.status, info.code, info.fix.clone()),
            (Status::Info, Some(ErrorCode::ReaderServiceUnavailable), None)
        );
        // No reader listed: a warning with the fix, unless the token is read anyway.
        assert_eq!(readers_check(Ok(&[]), false, Lang::Vi).status, Status::Warn);
        let quiet = readers_check(Ok(&[]), true, Lang::En);
        assert_eq!((quiet.status, quiet.fix), (Status::Info, None));
        // The report marks it as information, not as a warning.
        let report = Report {
            version: "0.1.0",
            server: "https://reset.example".into(),
            checks: vec![info],
            readers: Vec::new(),
            tokens: Vec::new(),
            modules: Vec::new(),
            skipped_modules: Vec::new(),
        };
        assert!(text(&report, Lang::Vi).lines().nth(1).unwrap().starts_with("[  i  ]"), "{}", text(&report, Lang::Vi));
    }

    #[test]
    fn a_clock_more_than_two_minutes_off_is_a_warning_with_the_fix() {
        assert_eq!(check_clock(120, Lang::Vi).status, Status::Ok);
        assert_eq!(check_clock(-120, Lang::Vi).status, Status::Ok);
        let off = check_clock(-121, Lang::Vi);
        assert_eq!(off.status, Status::Warn);
        assert!(off.detail.contains("-121 s") && off.fix.unwrap().contains("Chỉnh ngày giờ"));
    }
}
