//! The one error type that crosses IPC: `{code, message, hint, reference}`, in the
//! language of the app's settings. Its JSON is pinned by a test (tests/commands.rs).

use bhxh_client::ClientError;
use bhxh_protocol::{ErrorCode, Lang};
use serde::Serialize;

/// What the UI shows for any failure, so a user can read it out on the phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpcError {
    pub code: String,
    pub message: String,
    pub hint: String,
    /// The server's reference code, when the server answered.
    pub reference: Option<String>,
    /// On `CERT_NOT_BOUND`: the accounts the token did prove, when the server named them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usernames: Option<Vec<String>>,
}

impl IpcError {
    /// From a client failure.
    pub fn from_client(e: &ClientError, lang: Lang) -> IpcError {
        match e {
            ClientError::Local { detail, .. } => tracing::info!(code = %e.code(), %detail, "command failed"),
            _ => tracing::info!(code = %e.code(), reference = e.reference().unwrap_or("-"), "command failed"),
        }
        IpcError {
            code: e.code().to_string(),
            message: e.message(lang),
            hint: e.hint(lang),
            reference: e.reference().map(str::to_string),
            usernames: e.usernames().map(<[String]>::to_vec),
        }
    }

    /// From a bare catalogue code (a local check that failed).
    pub fn code(code: ErrorCode, lang: Lang) -> IpcError {
        IpcError {
            code: code.to_string(),
            message: code.message(lang).into(),
            hint: code.hint(lang).into(),
            reference: None,
            usernames: None,
        }
    }
}
