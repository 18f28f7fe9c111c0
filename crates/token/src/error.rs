//! Token failures that mean something to a user, each with a catalogue code. Foreign
//! errors (cryptoki, pcsc) are converted in one place each: `p11::map` and
//! `readers::map`.

use std::path::PathBuf;

use bhxh_protocol::ErrorCode;

/// Everything that can go wrong with a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("no PKCS#11 module found; searched {}", searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    ModuleNotFound { searched: Vec<PathBuf> },
    #[error("the PKCS#11 module {} could not be loaded: {detail}", module.display())]
    ModuleLoadFailed { module: PathBuf, detail: String },
    #[error("no token is plugged in")]
    NoToken,
    #[error("several tokens are plugged in and none was chosen")]
    SeveralTokens,
    #[error("the token was removed")]
    TokenRemoved,
    #[error("no certificate with a private key on the token")]
    NoCertificate,
    #[error("wrong PIN{}", if *final_try_next { "; one try left" } else { "" })]
    PinIncorrect { final_try_next: bool },
    #[error("one PIN try left; not tried without confirmation")]
    PinFinalTry,
    #[error("the PIN is locked")]
    PinLocked,
    #[error("the token's PIN must be changed first")]
    PinMustChange,
    #[error("the PIN has a length or characters the token refuses")]
    PinInvalid,
    #[error("the PC/SC service is not running")]
    ReaderServiceUnavailable,
    #[error("another program holds the token: {detail}")]
    InUse { detail: String },
    /// `CKR_DEVICE_ERROR`: the token or its driver failed; a vendor tool holding the
    /// token causes it too (one retry, then [`TokenError::InUse`]).
    #[error("the token's device failed: {detail}")]
    DeviceError { detail: String },
    #[error("token failure: {detail}")]
    Failure { detail: String },
}

impl TokenError {
    /// The catalogue code shown to the user and support staff.
    pub fn code(&self) -> ErrorCode {
        match self {
            TokenError::ModuleNotFound { .. } => ErrorCode::ModuleNotFound,
            TokenError::ModuleLoadFailed { .. } => ErrorCode::ModuleLoadFailed,
            TokenError::NoToken => ErrorCode::NoToken,
            TokenError::SeveralTokens => ErrorCode::SeveralTokens,
            TokenError::TokenRemoved => ErrorCode::TokenRemoved,
            TokenError::NoCertificate => ErrorCode::NoCertificate,
            TokenError::PinIncorrect { .. } => ErrorCode::PinIncorrect,
            TokenError::PinFinalTry => ErrorCode::PinFinalTry,
            TokenError::PinLocked => ErrorCode::PinLocked,
            TokenError::PinMustChange => ErrorCode::PinMustChange,
            TokenError::PinInvalid => ErrorCode::PinInvalid,
            TokenError::ReaderServiceUnavailable => ErrorCode::ReaderServiceUnavailable,
            TokenError::InUse { .. } => ErrorCode::TokenInUse,
            TokenError::DeviceError { .. } => ErrorCode::TokenFailure,
            TokenError::Failure { .. } => ErrorCode::TokenFailure,
        }
    }
}
