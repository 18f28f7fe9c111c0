//! Reading secrets: from the terminal without echo, or one line from standard input.
//! Never from the command line or the environment. The PIN goes straight into the
//! token's secret type; scratch strings are zeroized.

use std::io::BufRead;

use bhxh_client::ClientError;
use bhxh_protocol::{ErrorCode, Lang};
use bhxh_token::AuthPin;
use zeroize::Zeroizing;

use crate::output::t;

/// Where secrets come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Terminal,
    Stdin,
}

/// One line from standard input, without its line ending.
fn stdin_line() -> Result<Zeroizing<String>, ClientError> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| ClientError::local(ErrorCode::MalformedRequest, format!("reading standard input: {e}")))?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    Ok(trimmed)
}

/// A secret line: prompt without echo, or the next line of standard input.
pub fn secret(source: Source, prompt: &str) -> Result<Zeroizing<String>, ClientError> {
    match source {
        Source::Stdin => stdin_line(),
        Source::Terminal => rpassword::prompt_password(prompt)
            .map(Zeroizing::new)
            .map_err(|e| ClientError::local(ErrorCode::MalformedRequest, format!("reading from the terminal: {e}"))),
    }
}

/// A line that is not a secret (a captcha answer): shown as typed, or from standard input.
pub fn line(source: Source, prompt: &str) -> Result<String, ClientError> {
    if source == Source::Terminal {
        eprint!("{prompt}");
    }
    Ok(stdin_line()?.trim().to_string())
}

/// The token PIN, with the warnings users need before typing it.
pub fn pin(source: Source, lang: Lang) -> Result<AuthPin, ClientError> {
    if source == Source::Terminal {
        eprintln!(
            "{}",
            t(
                lang,
                "Lưu ý: tắt Caps Lock và tắt bộ gõ tiếng Việt (Unikey/EVKey) trước khi nhập mã PIN.",
                "Note: turn Caps Lock off and the Vietnamese input method (Unikey/EVKey) off before typing the PIN."
            )
        );
    }
    let text = secret(source, t(lang, "Mã PIN của token: ", "Token PIN: "))?;
    if text.is_empty() {
        return Err(ClientError::Token(bhxh_token::TokenError::PinInvalid));
    }
    Ok(AuthPin::from(text.to_string()))
}

/// A yes/no question on the terminal; never answered from standard input.
pub fn confirm(question: &str) -> bool {
    eprint!("{question} ");
    let mut answer = String::new();
    match std::fs::File::open("/dev/tty").map(std::io::BufReader::new) {
        Ok(mut tty) => {
            let _ = tty.read_line(&mut answer);
        }
        Err(_) => return false,
    }
    matches!(answer.trim().to_lowercase().as_str(), "có" | "co" | "yes" | "y")
}
