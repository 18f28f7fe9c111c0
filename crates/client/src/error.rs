//! Every failure of the client, as a catalogue code with text for the user.

use bhxh_protocol::wire::ErrorBody;
use bhxh_protocol::{ErrorCode, Lang};
use bhxh_token::TokenError;

/// A failure the user, the CLI and the app can show: a code, a message, a hint, and
/// the server's reference when the server answered.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The token refused or failed.
    #[error("{0}")]
    Token(#[from] TokenError),
    /// The server answered with an error body; `usernames` are the accounts a refused
    /// but verified proof does reach (on `CERT_NOT_BOUND`, from servers that say).
    #[error("{code}: {message} (reference {reference})")]
    Server {
        code: ErrorCode,
        message: String,
        hint: String,
        reference: String,
        retry_after: Option<u64>,
        usernames: Option<Vec<String>>,
    },
    /// The client's own failure (network, TLS, keyring, …) with a detail for logs.
    #[error("{code}: {detail}")]
    Local { code: ErrorCode, detail: String },
}

impl ClientError {
    /// A local failure.
    pub fn local(code: ErrorCode, detail: impl Into<String>) -> ClientError {
        ClientError::Local { code, detail: detail.into() }
    }

    /// From a server's error body; an unknown code becomes `UNEXPECTED_RESPONSE`.
    pub fn from_body(body: ErrorBody) -> ClientError {
        match ErrorCode::parse(&body.code) {
            Some(code) => ClientError::Server {
                code,
                message: body.message,
                hint: body.hint,
                reference: body.reference,
                retry_after: body.retry_after,
                usernames: body.usernames,
            },
            None => ClientError::local(ErrorCode::UnexpectedResponse, format!("unknown error code {}", body.code)),
        }
    }

    /// The catalogue code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Token(e) => e.code(),
            ClientError::Server { code, .. } | ClientError::Local { code, .. } => *code,
        }
    }

    /// The message for the user: the server's own when it answered, else the catalogue's.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ClientError::Server { message, .. } if !message.is_empty() => message.clone(),
            _ => self.code().message(lang).to_string(),
        }
    }

    /// The hint for the user or support staff.
    pub fn hint(&self, lang: Lang) -> String {
        match self {
            ClientError::Server { hint, .. } if !hint.is_empty() => hint.clone(),
            _ => self.code().hint(lang).to_string(),
        }
    }

    /// The accounts the token did prove, when the server named them with a refusal.
    pub fn usernames(&self) -> Option<&[String]> {
        match self {
            ClientError::Server { usernames, .. } => usernames.as_deref(),
            _ => None,
        }
    }

    /// The server's reference code, when there is one.
    pub fn reference(&self) -> Option<&str> {
        match self {
            ClientError::Server { reference, .. } => Some(reference),
            _ => None,
        }
    }
}
