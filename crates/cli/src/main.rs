//! `bhxh`: the recovery from a terminal, for support staff and scripts.
//! Thin glue: parse arguments, read secrets, call `bhxh-client`, print.

mod output;
mod prompt;

use std::path::PathBuf;
use std::sync::Arc;

use bhxh_client::diagnostics;
use bhxh_client::flows::{self, Choice, FlowInput, Progress};
use bhxh_client::session::{KeyringStore, SessionStore, StoredSession};
use bhxh_client::{ApiClient, ClientError};
use bhxh_protocol::{ErrorCode, Lang};
use bhxh_token::{PinState, Token};
use clap::{Parser, Subcommand};
use zeroize::Zeroizing;

use crate::output::{exit, lang, print_error, t, vn_date, vn_date_rfc3339};
use crate::prompt::Source;

const EXIT_CODES: &str = "\
Mã thoát / Exit codes:
  0  thành công / success
  1  lỗi ngoài dự kiến / unexpected error
  2  sai cú pháp lệnh / usage error
  3  token, mã PIN, đầu đọc, thư viện PKCS#11 / token, PIN, reader, PKCS#11 module
  4  máy chủ từ chối (chứng thư, phiên, mật khẩu, giới hạn) / refused by the server
  5  không tới được máy chủ (mạng, TLS, địa chỉ) / server unreachable (network, TLS, address)
  6  máy chủ gặp sự cố / server failure";

#[derive(Parser, Debug)]
#[command(name = "bhxh", version, about = "Lấy lại mật khẩu BHXH bằng chữ ký số / Recover a BHXH password with the token", after_help = EXIT_CODES)]
struct Cli {
    /// Reset backend address (https://…, or http:// on this machine).
    #[arg(long, global = true, env = "BHXH_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// PKCS#11 module of the token (default: BHXH_PKCS11_MODULE, then the known modules).
    #[arg(long, global = true)]
    module: Option<PathBuf>,
    /// Language of messages: vi or en (default from LANG).
    #[arg(long, global = true)]
    lang: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Diagnostics: module, readers, tokens, certificates, server, clock.
    Doctor {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Recover the password of a username with the token (the PIN is asked for).
    Recover {
        #[arg(long)]
        username: String,
        /// Read the PIN from the first line of standard input instead of the terminal.
        #[arg(long)]
        pin_stdin: bool,
        #[command(flatten)]
        choice: ChoiceArgs,
    },
    /// Forgot the username: the token proves the MST; the usernames of that MST are shown.
    #[command(alias = "whoami-by-token")]
    LookupUsername {
        #[arg(long)]
        pin_stdin: bool,
        #[command(flatten)]
        choice: ChoiceArgs,
    },
    /// The registered email no longer reaches anyone (an employee left): the token proves
    /// the account and signs for the new address. A confirmation link goes to the new
    /// address; once it is opened, the old address is told and can cancel; the change
    /// takes effect after the waiting period (24 hours).
    ChangeEmail {
        #[arg(long)]
        username: String,
        #[arg(long)]
        new_email: String,
        #[arg(long)]
        pin_stdin: bool,
        #[command(flatten)]
        choice: ChoiceArgs,
    },
    /// Send the diagnostics to the support desk: shows what will be sent, asks, and prints
    /// the support code (HT-…) to read out on the phone. Nothing secret is in it.
    SupportCode {
        /// Send without asking (the consent given in advance, for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Recover the password without a token, as on the BHXH portal: the tax code (MST),
    /// the registered email and a captcha. The new password and an activation link are
    /// emailed; the password works once the link is opened.
    PortalRecover {
        #[arg(long)]
        mst: String,
        #[arg(long)]
        email: String,
        /// Where to save the captcha image (default: a file in the temporary folder).
        #[arg(long)]
        captcha_file: Option<PathBuf>,
        /// Read the captcha's answer from standard input instead of the terminal.
        #[arg(long)]
        answer_stdin: bool,
    },
    /// Log in (the session is kept in the OS keyring when there is one). With the
    /// emailed temporary password, the new password is asked for at once.
    Login {
        #[arg(long)]
        username: String,
        /// Read the password (and, after a temporary one, the new password) from lines of
        /// standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change the password (after logging in with the emailed one you must).
    ChangePassword {
        /// Needed when no session is remembered: logs in with the current password first.
        #[arg(long)]
        username: Option<String>,
        /// Read the current and the new password from two lines of standard input.
        #[arg(long)]
        stdin: bool,
    },
    /// Who is logged in.
    Whoami,
    /// End the session.
    Logout,
}

#[derive(clap::Args, Debug, Clone)]
struct ChoiceArgs {
    /// The token's PKCS#11 slot, when several are plugged in.
    #[arg(long)]
    slot: Option<u64>,
    /// The certificate's CKA_ID (hex), when the token holds several.
    #[arg(long)]
    cert_id: Option<String>,
    /// Accept that a wrong PIN now locks the token (only on its final try).
    #[arg(long)]
    yes_final_try: bool,
}

fn main() {
    let cli = Cli::parse();
    let lang = lang(cli.lang.as_deref());
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            std::process::exit(exit::UNEXPECTED);
        }
    };
    let code = rt.block_on(run(cli, lang));
    std::process::exit(code);
}

async fn run(cli: Cli, lang: Lang) -> i32 {
    let result = match cli.command {
        Command::Doctor { json } => {
            let api = client(&cli.server, lang).ok();
            let report = diagnostics::run(api.as_ref(), &cli.server, cli.module.as_deref(), lang).await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                print!("{}", diagnostics::text(&report, lang));
            }
            // The first failed check decides the exit code, as for the other commands.
            return report
                .checks
                .iter()
                .find(|c| c.status == diagnostics::Status::Fail)
                .map(|c| c.code.map_or(exit::UNEXPECTED, output::exit_code))
                .unwrap_or(exit::OK);
        }
        Command::Recover { username, pin_stdin, choice } => {
            recover(&cli.server, cli.module, lang, &username, pin_stdin, choice).await
        }
        Command::LookupUsername { pin_stdin, choice } => lookup(&cli.server, cli.module, lang, pin_stdin, choice).await,
        Command::SupportCode { yes } => support_code(&cli.server, cli.module, lang, yes).await,
        Command::ChangeEmail { username, new_email, pin_stdin, choice } => {
            change_email(&cli.server, cli.module, lang, &username, &new_email, pin_stdin, choice).await
        }
        Command::PortalRecover { mst, email, captcha_file, answer_stdin } => {
            portal_recover(&cli.server, lang, &mst, &email, captcha_file, answer_stdin).await
        }
        Command::Login { username, password_stdin } => login(&cli.server, lang, &username, password_stdin).await,
        Command::ChangePassword { username, stdin } => change_password(&cli.server, lang, username, stdin).await,
        Command::Whoami => whoami(&cli.server, lang).await,
        Command::Logout => logout(&cli.server, lang).await,
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            print_error(lang, &e);
            output::exit_code(e.code())
        }
    }
}

/// The chosen module alone, or every module installed (two CAs' middlewares side by
/// side), loaded on the blocking pool by the client's token service.
async fn open_token(module: Option<PathBuf>) -> Result<Arc<dyn Token>, ClientError> {
    bhxh_client::tokens::TokenService::new().open(module).await
}

fn progress(lang: Lang) -> impl Fn(Progress) + Send + Sync {
    move |p| {
        let text = match p {
            Progress::ReadingToken => t(lang, "Đang đọc token…", "Reading the token…"),
            Progress::RequestingChallenge => {
                t(lang, "Đang lấy mã xác thực từ máy chủ…", "Getting a challenge from the server…")
            }
            Progress::Signing => t(lang, "Đang ký bằng token…", "Signing with the token…"),
            Progress::Verifying => t(lang, "Máy chủ đang kiểm tra chữ ký…", "The server is checking the signature…"),
            Progress::Done => t(lang, "Xong.", "Done."),
        };
        eprintln!("  {text}");
    }
}

/// Shows the certificate about to be used and asks for the PIN (and, on the final try,
/// for an explicit confirmation).
async fn prepare(
    token: &Arc<dyn Token>,
    choice: &ChoiceArgs,
    pin_stdin: bool,
    lang: Lang,
) -> Result<(Choice, bhxh_token::AuthPin, bool), ClientError> {
    let wanted = Choice { slot_id: choice.slot, cert_id: choice.cert_id.clone() };
    let (tok, cert) = flows::select(token, &wanted).await?;
    eprintln!("{}: {} ({})", t(lang, "Token", "Token"), tok.label, tok.model);
    eprintln!("  {}: {}", t(lang, "Chủ chứng thư", "Holder"), cert.holder);
    eprintln!("  MST: {}", cert.msts.join(", "));
    eprintln!("  {}: {}", t(lang, "Nhà cung cấp", "Issuer"), cert.issuer);
    eprintln!("  {}: {}", t(lang, "Hết hạn", "Expires"), vn_date(cert.not_after));
    let mut confirm = choice.yes_final_try;
    match flows::pin_gate(tok.pin_state, confirm) {
        Err(bhxh_token::TokenError::PinFinalTry) => {
            eprintln!("{}", ErrorCode::PinFinalTry.message(lang));
            if pin_stdin {
                return Err(bhxh_token::TokenError::PinFinalTry.into());
            }
            confirm = prompt::confirm(t(
                lang,
                "Bạn chắc chắn mã PIN đúng? Gõ \"có\" để tiếp tục:",
                "Are you sure of the PIN? Type \"yes\" to continue:",
            ));
            flows::pin_gate(tok.pin_state, confirm)?;
        }
        Err(e) => return Err(e.into()),
        Ok(()) if tok.pin_state == PinState::MustChange => {
            eprintln!(
                "{} {}",
                t(
                    lang,
                    "Cảnh báo: token báo mã PIN cần được đổi; vẫn thử ký.",
                    "Warning: the token says its PIN must be changed; signing is tried anyway."
                ),
                ErrorCode::PinMustChange.hint(lang)
            )
        }
        Ok(()) if tok.pin_state == PinState::CountLow => {
            eprintln!(
                "{}",
                t(lang, "Cảnh báo: đã có lần nhập sai mã PIN trước đó.", "Warning: a wrong PIN was entered before.")
            )
        }
        Ok(()) => {}
    }
    // A reader with its own keypad takes the PIN itself: nothing is typed here, nothing
    // read from standard input, and the token layer sends no PIN to it.
    let pin = if tok.pin_pad {
        eprintln!(
            "{}",
            t(
                lang,
                "Đầu đọc có bàn phím riêng: nhập mã PIN trên bàn phím của đầu đọc khi được hỏi (không gõ trên máy tính).",
                "The reader has its own keypad: type the PIN on the reader's keypad when it asks (not on the computer)."
            )
        );
        bhxh_token::AuthPin::from(String::new())
    } else {
        prompt::pin(if pin_stdin { Source::Stdin } else { Source::Terminal }, lang)?
    };
    Ok((Choice { slot_id: Some(tok.slot_id), cert_id: Some(cert.id) }, pin, confirm))
}

async fn recover(
    server: &str,
    module: Option<PathBuf>,
    lang: Lang,
    username: &str,
    pin_stdin: bool,
    choice: ChoiceArgs,
) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    let token = open_token(module).await?;
    let (choice, pin, confirm_final_try) = prepare(&token, &choice, pin_stdin, lang).await?;
    let progress = Arc::new(progress(lang));
    let done = flows::recover(&api, username, FlowInput { token, choice, pin, confirm_final_try, progress }).await?;
    println!("{}", t(lang, "Đã cấp lại mật khẩu.", "The password was reset."));
    match &done.temporary_password {
        Some(p) => {
            println!(
                "  {}: {}",
                t(lang, "Mật khẩu tạm thời (chỉ hiện một lần)", "Temporary password (shown once)"),
                p.expose()
            );
        }
        None => {
            println!("  {}: {}", t(lang, "Mật khẩu mới đã gửi tới", "The new password was sent to"), done.masked_email)
        }
    }
    println!("  {}: {}", t(lang, "Hết hạn lúc", "Expires at"), vn_date_rfc3339(&done.password_expires_at));
    println!("  {}: {}", t(lang, "Mã tham chiếu", "Reference"), done.reference);
    println!(
        "{}",
        t(
            lang,
            "Tiếp theo: đăng nhập bằng mật khẩu tạm thời (bhxh login) và đổi mật khẩu ngay (bhxh change-password).",
            "Next: log in with the temporary password (bhxh login) and change it at once (bhxh change-password)."
        )
    );
    Ok(())
}

async fn portal_recover(
    server: &str,
    lang: Lang,
    mst: &str,
    email: &str,
    captcha_file: Option<PathBuf>,
    answer_stdin: bool,
) -> Result<(), ClientError> {
    use base64::Engine;
    let api = client(server, lang)?;
    // At the terminal a misread captcha is asked again with a new one; scripts get one try.
    let tries = if answer_stdin { 1 } else { 3 };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let captcha = api.portal_captcha().await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(captcha.image_png.as_bytes())
            .map_err(|_| ClientError::local(ErrorCode::UnexpectedResponse, "the captcha image is not base64"))?;
        let path = captcha_file.clone().unwrap_or_else(|| {
            std::env::temp_dir()
                .join(format!("bhxh-captcha-{}.png", captcha.captcha_id.chars().take(8).collect::<String>()))
        });
        std::fs::write(&path, &png).map_err(|e| {
            ClientError::local(ErrorCode::Internal, format!("saving the captcha to {}: {e}", path.display()))
        })?;
        eprintln!(
            "{}: {}",
            t(lang, "Ảnh mã xác nhận (captcha) đã lưu tại", "The captcha image is saved at"),
            path.display()
        );
        let source = if answer_stdin { Source::Stdin } else { Source::Terminal };
        let answer =
            prompt::line(source, t(lang, "Mở ảnh và nhập mã xác nhận: ", "Open the image and type the code: "));
        let _ = std::fs::remove_file(&path);
        let req = bhxh_protocol::wire::PortalRecoverRequest {
            mst: mst.trim().into(),
            email: email.trim().into(),
            captcha_id: captcha.captcha_id,
            captcha_answer: answer?,
        };
        match api.portal_recover(&req).await {
            Ok(done) => {
                println!("{}", t(lang, "Đã gửi mật khẩu mới.", "A new password was sent."));
                println!("  {}: {}", t(lang, "Gửi tới email", "Sent to"), done.masked_email);
                println!("  {}: {}", t(lang, "Mã tham chiếu", "Reference"), done.reference);
                println!(
                    "{} {}.",
                    t(
                        lang,
                        "Tiếp theo: mở email, nhấn vào đường link ở cuối thư để kích hoạt mật khẩu mới trước",
                        "Next: open the email and click the link at its end to activate the new password before"
                    ),
                    vn_date_rfc3339(&done.activation_expires_at)
                );
                println!(
                    "{}",
                    t(
                        lang,
                        "Sau đó đăng nhập bằng mật khẩu mới (bhxh login) và đổi mật khẩu ngay. Mật khẩu cũ vẫn dùng được cho đến khi bạn kích hoạt.",
                        "Then log in with the new password (bhxh login) and change it at once. The old password works until you activate."
                    )
                );
                return Ok(());
            }
            Err(e)
                if attempt < tries
                    && matches!(
                        e.code(),
                        ErrorCode::CaptchaIncorrect | ErrorCode::CaptchaUsed | ErrorCode::CaptchaExpired
                    ) =>
            {
                print_error(lang, &e);
                eprintln!("{}", t(lang, "Thử lại với mã mới.", "Try again with a new code."));
            }
            Err(e) => return Err(e),
        }
    }
}

/// This installation's folder of the CLI (`BHXH_CONFIG_DIR`, else the platform's).
fn config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("BHXH_CONFIG_DIR") {
        return Some(PathBuf::from(d));
    }
    #[cfg(windows)]
    let base = std::env::var_os("APPDATA").map(PathBuf::from);
    #[cfg(target_os = "macos")]
    let base = std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"));
    #[cfg(not(any(windows, target_os = "macos")))]
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    base.map(|b| b.join("bhxh"))
}

/// The API client, sending this installation's id (the desk sees its attempts under a
/// support code).
fn client(server: &str, lang: Lang) -> Result<ApiClient, ClientError> {
    let instance =
        config_dir().map(|d| bhxh_client::instance::load_or_create(&d)).unwrap_or_else(bhxh_client::instance::fresh);
    Ok(ApiClient::new(server, lang)?.with_instance(&instance))
}

async fn support_code(server: &str, module: Option<PathBuf>, lang: Lang, yes: bool) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    let report = diagnostics::run(Some(&api), server, module.as_deref(), lang).await;
    let text = format!(
        "bhxh {} {} {} {}\n{}",
        env!("CARGO_PKG_VERSION"),
        t(lang, "trên", "on"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        diagnostics::text(&report, lang)
    );
    println!(
        "{}",
        t(
            lang,
            "Thông tin sẽ gửi cho nhân viên hỗ trợ (không có mã PIN, mật khẩu hay phiên đăng nhập):",
            "What will be sent to support (no PIN, password or session):"
        )
    );
    println!("----\n{}----", text);
    if !yes {
        let answer = prompt::line(
            Source::Terminal,
            t(lang, "Gửi thông tin này? Gõ c rồi Enter để đồng ý: ", "Send it? Type y and Enter to agree: "),
        )?;
        let agreed = matches!(answer.trim().to_lowercase().as_str(), "c" | "có" | "co" | "y" | "yes");
        if !agreed {
            println!("{}", t(lang, "Chưa gửi gì.", "Nothing was sent."));
            return Ok(());
        }
    }
    let issued = api.support_report(&text, diagnostics::facts(&report)).await?;
    println!("{}: {}", t(lang, "Mã hỗ trợ", "Support code"), issued.support_code);
    println!(
        "{} {}.",
        t(
            lang,
            "Đọc mã này cho nhân viên hỗ trợ qua điện thoại; mã có hiệu lực đến",
            "Read this code to support on the phone; it is valid until"
        ),
        vn_date_rfc3339(&issued.expires_at)
    );
    println!("  {}: {}", t(lang, "Mã tham chiếu", "Reference"), issued.reference);
    Ok(())
}

async fn change_email(
    server: &str,
    module: Option<PathBuf>,
    lang: Lang,
    username: &str,
    new_email: &str,
    pin_stdin: bool,
    choice: ChoiceArgs,
) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    // A mistyped address is refused before the PIN is asked.
    bhxh_protocol::Email::parse(new_email).map_err(|c| ClientError::local(c, "--new-email"))?;
    let token = open_token(module).await?;
    let (choice, pin, confirm_final_try) = prepare(&token, &choice, pin_stdin, lang).await?;
    let progress = Arc::new(progress(lang));
    let done =
        flows::change_email(&api, username, new_email, FlowInput { token, choice, pin, confirm_final_try, progress })
            .await?;
    let (wait_vi, wait_en) = output::wait_text(done.wait_secs);
    println!(
        "{}",
        t(lang, "Đã gửi liên kết xác nhận tới email mới.", "A confirmation link was sent to the new email.")
    );
    println!("  {}: {}", t(lang, "Email mới", "New email"), done.masked_new_email);
    println!(
        "  {}: {}",
        t(lang, "Mở liên kết trước", "Open the link before"),
        vn_date_rfc3339(&done.confirm_expires_at)
    );
    println!("  {}: {}", t(lang, "Mã tham chiếu", "Reference"), done.reference);
    println!(
        "{} {} {}",
        t(lang, "Sau khi xác nhận, email cũ", "Once confirmed, the old email"),
        done.masked_old_email,
        match lang {
            Lang::Vi => format!("được báo và có thể hủy; email đăng ký đổi sau {wait_vi}. Cho đến lúc đó, thư lấy lại mật khẩu vẫn gửi tới email cũ."),
            _ => format!("is told and can cancel; the registered email changes {wait_en} later. Until then, password mails still go to the old email."),
        }
    );
    Ok(())
}

async fn lookup(
    server: &str,
    module: Option<PathBuf>,
    lang: Lang,
    pin_stdin: bool,
    choice: ChoiceArgs,
) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    let token = open_token(module).await?;
    let (choice, pin, confirm_final_try) = prepare(&token, &choice, pin_stdin, lang).await?;
    let progress = Arc::new(progress(lang));
    let done = flows::lookup_usernames(&api, FlowInput { token, choice, pin, confirm_final_try, progress }).await?;
    if done.usernames.is_empty() {
        // The desk's number as the server is configured (the one line that can help).
        let number = api.health().await.map(|h| h.hotline).unwrap_or_default();
        let hotline = match (number.trim().is_empty(), lang) {
            (true, Lang::Vi) => "hỗ trợ".to_string(),
            (true, Lang::En) => "support hotline".to_string(),
            (false, Lang::Vi) => number,
            (false, Lang::En) => format!("hotline {number}"),
        };
        println!(
            "{}",
            match lang {
                Lang::Vi => format!("Không có tài khoản nào gắn với mã số thuế này. Gọi tổng đài {hotline} và chuẩn bị: CCCD/CMND của người đăng ký, giấy phép kinh doanh, giấy ủy quyền bản gốc nếu người khác gọi."),
                Lang::En => format!("No account has this tax code. Call the {hotline} and prepare: the registrant's CCCD/CMND, the business licence, the original letter of authorisation if someone else calls."),
            }
        );
    } else {
        println!("{}:", t(lang, "Tên đăng nhập", "Usernames"));
        for u in &done.usernames {
            println!("  {u}");
        }
    }
    println!("  {}: {}", t(lang, "Mã tham chiếu", "Reference"), done.reference);
    Ok(())
}

async fn login(server: &str, lang: Lang, username: &str, password_stdin: bool) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    let source = if password_stdin { Source::Stdin } else { Source::Terminal };
    let password = prompt::secret(source, t(lang, "Mật khẩu: ", "Password: "))?;
    // From standard input the new password (if any) is on the next line: check it before
    // logging in, so that a bad one never uses up a temporary password.
    let ahead = match source {
        Source::Stdin => Some(prompt::secret(source, "")?).filter(|p| !p.is_empty()),
        Source::Terminal => None,
    };
    if let Some(new) = &ahead {
        check_new_password(new, &password, username)?;
    }
    let resp = api.login(username, password.clone()).await?;
    println!(
        "{} ({}: {})",
        t(lang, "Đăng nhập thành công.", "Logged in."),
        t(lang, "mã tham chiếu", "reference"),
        resp.reference
    );
    let stored = StoredSession {
        username: bhxh_protocol::domain::normalize_username(username),
        token: resp.session_token.clone(),
        must_change_password: resp.must_change_password,
    };
    remember(&api, &stored, lang);
    if !resp.must_change_password {
        return Ok(());
    }
    // The temporary password works once: the change happens now, in this command.
    println!(
        "{}",
        t(
            lang,
            "Bạn đang dùng mật khẩu tạm thời và phải đổi mật khẩu ngay.",
            "You used a temporary password and must change it now."
        )
    );
    let session = resp.session_token.clone();
    let new = match ahead {
        Some(new) => new,
        None if source == Source::Stdin => {
            return Err(ClientError::local(ErrorCode::PasswordChangeRequired, "no new password on standard input"));
        }
        None => new_password(lang, &password, username)?,
    };
    // The must-change session just opened with the temporary password is the proof.
    let ack = api.change_password(session.expose(), None, new).await?;
    let _ = KeyringStore::new(api.origin()).clear();
    println!(
        "{} ({}: {})",
        t(
            lang,
            "Đã đổi mật khẩu. Hãy đăng nhập lại bằng mật khẩu mới.",
            "Password changed. Log in again with the new password."
        ),
        t(lang, "mã tham chiếu", "reference"),
        ack.reference
    );
    Ok(())
}

/// The policy and reuse checks the server makes, made first here so a typo costs nothing.
fn check_new_password(new: &str, current: &str, username: &str) -> Result<(), ClientError> {
    if new == current {
        return Err(ClientError::local(ErrorCode::PasswordReuse, "the new password equals the current one"));
    }
    let unmet = bhxh_protocol::domain::password_policy(new, username);
    if !unmet.is_empty() {
        return Err(ClientError::local(ErrorCode::PasswordPolicy, format!("{unmet:?}")));
    }
    Ok(())
}

/// Asks on the terminal for a new password (twice) until it passes the local checks.
fn new_password(lang: Lang, current: &str, username: &str) -> Result<Zeroizing<String>, ClientError> {
    eprintln!("{}", ErrorCode::PasswordPolicy.message(lang));
    let mut last = None;
    for _ in 0..3 {
        let new = prompt::secret(Source::Terminal, t(lang, "Mật khẩu mới: ", "New password: "))?;
        let again = prompt::secret(Source::Terminal, t(lang, "Nhập lại mật khẩu mới: ", "New password again: "))?;
        let checked = if *again != *new {
            Err(ClientError::local(ErrorCode::PasswordPolicy, "the two new passwords differ"))
        } else {
            check_new_password(&new, current, username)
        };
        match checked {
            Ok(()) => return Ok(new),
            Err(e) => {
                print_error(lang, &e);
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| ClientError::local(ErrorCode::PasswordPolicy, "no acceptable password")))
}

fn remember(api: &ApiClient, s: &StoredSession, lang: Lang) {
    if let Err(e) = bhxh_client::session::remember(api.origin(), s) {
        eprintln!("{} [{}]: {}", t(lang, "Cảnh báo", "Warning"), e.code(), e.message(lang));
        eprintln!("  {}", e.hint(lang));
    }
}

async fn change_password(server: &str, lang: Lang, username: Option<String>, stdin: bool) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    let store = KeyringStore::new(api.origin());
    let stored = store
        .load()
        .unwrap_or(None)
        .filter(|s| username.as_ref().is_none_or(|u| bhxh_protocol::domain::normalize_username(u) == s.username));
    let Some(user) = username.clone().or_else(|| stored.as_ref().map(|s| s.username.clone())) else {
        return Err(ClientError::local(ErrorCode::NotLoggedIn, "no remembered session and no --username"));
    };
    let source = if stdin { Source::Stdin } else { Source::Terminal };
    let current = prompt::secret(
        source,
        t(lang, "Mật khẩu hiện tại (hoặc mật khẩu tạm thời): ", "Current (or temporary) password: "),
    )?;
    let new = match source {
        Source::Stdin => {
            let new = prompt::secret(source, "")?;
            check_new_password(&new, &current, &user)?;
            new
        }
        Source::Terminal => new_password(lang, &current, &user)?,
    };
    let session = match stored {
        Some(s) => s.token,
        None => api.login(&user, current.clone()).await?.session_token,
    };
    let ack = api.change_password(session.expose(), Some(current.into()), new).await?;
    let _ = store.clear();
    println!(
        "{} ({}: {})",
        t(
            lang,
            "Đã đổi mật khẩu. Mọi phiên đăng nhập đã kết thúc; hãy đăng nhập lại bằng mật khẩu mới.",
            "Password changed. Every session has ended; log in again with the new password."
        ),
        t(lang, "mã tham chiếu", "reference"),
        ack.reference
    );
    Ok(())
}

async fn whoami(server: &str, lang: Lang) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    let stored = KeyringStore::new(api.origin())
        .load()?
        .ok_or_else(|| ClientError::local(ErrorCode::NotLoggedIn, "no remembered session"))?;
    let info = api.session(stored.token.expose()).await?;
    println!("{}: {}", t(lang, "Tên đăng nhập", "Username"), info.username);
    println!("  {}: {}", t(lang, "Phiên hết hạn", "Session expires"), vn_date_rfc3339(&info.expires_at));
    if info.must_change_password {
        println!(
            "  {}",
            t(lang, "Phải đổi mật khẩu: bhxh change-password", "Must change the password: bhxh change-password")
        );
    }
    Ok(())
}

async fn logout(server: &str, lang: Lang) -> Result<(), ClientError> {
    let api = client(server, lang)?;
    let store = KeyringStore::new(api.origin());
    let stored = store.load()?.ok_or_else(|| ClientError::local(ErrorCode::NotLoggedIn, "no remembered session"))?;
    let result = api.logout(stored.token.expose()).await;
    store.clear()?;
    let ack = result?;
    println!(
        "{} ({}: {})",
        t(lang, "Đã đăng xuất.", "Logged out."),
        t(lang, "mã tham chiếu", "reference"),
        ack.reference
    );
    Ok(())
}
