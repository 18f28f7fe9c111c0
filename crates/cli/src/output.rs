//! How `bhxh` speaks: Vietnamese or English text, errors with code, hint and
//! reference, and documented exit codes.

use bhxh_client::ClientError;
use bhxh_protocol::{ErrorCode, Lang};

/// Exit codes (also in `bhxh --help` and the README).
pub mod exit {
    pub const OK: i32 = 0;
    pub const UNEXPECTED: i32 = 1;
    /// clap exits with it on a usage error.
    #[allow(dead_code)]
    pub const USAGE: i32 = 2;
    pub const TOKEN: i32 = 3;
    pub const REFUSED: i32 = 4;
    pub const UNREACHABLE: i32 = 5;
    pub const SERVER_FAILURE: i32 = 6;
}

/// The exit code of a failure.
pub fn exit_code(code: ErrorCode) -> i32 {
    use ErrorCode::*;
    match code {
        PinIncorrect
        | PinFinalTry
        | PinLocked
        | PinMustChange
        | PinInvalid
        | NoToken
        | SeveralTokens
        | TokenRemoved
        | NoCertificate
        | ModuleNotFound
        | ModuleLoadFailed
        | TokenInUse
        | TokenFailure
        | ReaderServiceUnavailable => exit::TOKEN,
        ServerUnreachable | ServerTls | ServerTimeout | InsecureServerUrl | OriginMismatch | UnexpectedResponse => {
            exit::UNREACHABLE
        }
        c if c.http_status() >= 500 => exit::SERVER_FAILURE,
        _ => exit::REFUSED,
    }
}

/// Picks the language: `--lang`, else `LANG`/`LC_ALL` (English when they say `en…`).
pub fn lang(flag: Option<&str>) -> Lang {
    match flag {
        Some(v) => Lang::from_header(v),
        None => std::env::var("LC_ALL")
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| std::env::var("LANG").ok())
            .map(|v| Lang::from_header(&v))
            .unwrap_or_default(),
    }
}

/// Vietnamese or English, by `lang`.
pub fn t<'a>(lang: Lang, vi: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// Prints a failure on stderr so a user can read it out on the phone.
pub fn print_error(lang: Lang, e: &ClientError) {
    eprintln!("{} [{}]: {}", t(lang, "Lỗi", "Error"), e.code(), e.message(lang));
    eprintln!("  {}: {}", t(lang, "Gợi ý", "Hint"), cli_hint(e.code(), &e.hint(lang)));
    if let Some(r) = e.reference() {
        eprintln!("  {}: {r}", t(lang, "Mã tham chiếu", "Reference"));
    }
    // The accounts this token does prove: run the recovery again with one of them.
    match e.usernames() {
        Some([]) => eprintln!(
            "  {}",
            t(lang, "Chứng thư số này không gắn với tài khoản nào.", "No account belongs to this certificate.")
        ),
        Some(names) => eprintln!(
            "  {}: {}",
            t(lang, "Tài khoản của chứng thư số này", "Accounts of this certificate"),
            names.join(", ")
        ),
        None => {}
    }
    if let ClientError::Token(bhxh_token::TokenError::ModuleNotFound { searched }) = e {
        eprintln!("  {}:", t(lang, "Đã tìm ở", "Searched"));
        for p in searched.iter().take(12) {
            eprintln!("    {}", p.display());
        }
    }
}

/// A catalogue hint as the command line says it: where the app says "in Settings", the
/// command line has its options.
pub fn cli_hint(code: ErrorCode, hint: &str) -> String {
    let module = matches!(code, ErrorCode::ModuleNotFound | ErrorCode::ModuleLoadFailed | ErrorCode::ModuleNotChosen);
    let (vi, en) = if module {
        ("bằng --module (hoặc biến BHXH_PKCS11_MODULE)", "with --module (or BHXH_PKCS11_MODULE)")
    } else {
        ("bằng --server (hoặc biến BHXH_SERVER)", "with --server (or BHXH_SERVER)")
    };
    hint.replace("trong phần Cài đặt", vi).replace("trong Cài đặt", vi).replace("in Settings", en)
}

pub use bhxh_client::diagnostics::vn_date;

/// An RFC 3339 time from the server as a Vietnam-time date.
pub fn vn_date_rfc3339(s: &str) -> String {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| vn_date(t.unix_timestamp()))
        .unwrap_or_else(|_| s.to_string())
}

/// A waiting period in words: `24 giờ` / `24 hours`, or minutes under an hour.
pub fn wait_text(secs: u64) -> (String, String) {
    if secs >= 3600 && secs % 3600 == 0 {
        let h = secs / 3600;
        (format!("{h} giờ"), format!("{h} hour{}", if h == 1 { "" } else { "s" }))
    } else {
        let m = secs.div_ceil(60);
        (format!("{m} phút"), format!("{m} minute{}", if m == 1 { "" } else { "s" }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_hints_name_the_options_not_the_settings_screen() {
        for code in [
            ErrorCode::ModuleNotFound,
            ErrorCode::ServerUnreachable,
            ErrorCode::InsecureServerUrl,
            ErrorCode::SignatureInvalid,
        ] {
            for lang in [Lang::Vi, Lang::En] {
                let h = cli_hint(code, code.hint(lang));
                assert!(!h.contains("Cài đặt") && !h.contains("Settings"), "{code}: {h}");
                assert!(h.contains("--module") || h.contains("--server"), "{code}: {h}");
            }
        }
        assert!(cli_hint(ErrorCode::ModuleNotFound, ErrorCode::ModuleNotFound.hint(Lang::Vi)).contains("--module"));
    }
}
