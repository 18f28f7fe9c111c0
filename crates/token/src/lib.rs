//! The user's USB digital-signature token (chữ ký số), behind one narrow trait.
//!
//! * [`Token`]: what the rest of the product may ask of a token: list what is plugged in,
//!   and sign bytes after a PIN login. [`p11::Pkcs11Token`] is the real implementation
//!   (cryptoki); [`fake::FakeToken`] is a scriptable fake for the states a software token
//!   cannot show (final PIN try, locked, removal mid-signature), named as such.
//! * [`module`]: where the vendor's PKCS#11 module is.
//! * [`readers`]: PC/SC readers, ATRs and a hot-plug watcher; [`atr`]: ATR → model.
//! * [`TokenError`]: every failure, mapped once from PKCS#11 and PC/SC, each with a
//!   catalogue code.
//!
//! Everything here blocks: callers on an async runtime use `spawn_blocking`. This crate
//! knows nothing of HTTP.
#![deny(unsafe_code)]

pub mod atr;
mod cert;
mod error;
pub mod fake;
pub mod module;
pub mod p11;
mod raw;
pub mod readers;

pub use bhxh_protocol::Algorithm;
pub use cert::CertSummary;
pub use cryptoki::types::AuthPin;
pub use error::TokenError;
use serde::Serialize;

/// The user PIN's state as the token's flags tell it. PKCS#11 gives no retry count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PinState {
    /// No warning flag.
    Ok,
    /// A wrong PIN was entered since the last right one (`CKF_USER_PIN_COUNT_LOW`).
    CountLow,
    /// One try left (`CKF_USER_PIN_FINAL_TRY`): never tried without confirmation.
    FinalTry,
    /// Locked (`CKF_USER_PIN_LOCKED`): only the CA can unlock.
    Locked,
    /// The PIN must be changed first (`CKF_USER_PIN_TO_BE_CHANGED`).
    MustChange,
}

/// One token that is plugged in, with its certificates.
#[derive(Clone, Debug, Serialize)]
pub struct TokenSummary {
    /// The PKCS#11 slot, as the module numbers it.
    pub slot_id: u64,
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub pin_state: PinState,
    /// The reader has its own keypad (`CKF_PROTECTED_AUTHENTICATION_PATH`): the PIN is
    /// typed there, and a PIN in a [`SignRequest`] is never sent to the token.
    pub pin_pad: bool,
    /// The PKCS#11 module it came from (several middlewares may be installed).
    pub module: String,
    pub certificates: Vec<CertSummary>,
    /// DER of the CA certificates the token carries (its CA's intermediates, public
    /// objects read without a PIN, at most [`MAX_CA_CERTIFICATES`]): sent along as the
    /// proof's `chain` so the server can build the path.
    #[serde(skip)]
    pub ca_certificates: Vec<Vec<u8>>,
}

/// What to sign with, and how.
pub struct SignRequest<'a> {
    pub slot_id: u64,
    /// CKA_ID of the certificate; its private key has the same CKA_ID.
    pub cert_id: &'a [u8],
    /// Never sent to a token with a PIN pad ([`TokenSummary::pin_pad`]); may be empty there.
    pub pin: &'a AuthPin,
    /// The bytes to sign: the client's to-be-signed data, never a digest from a server.
    pub data: &'a [u8],
    /// The user explicitly accepted that a wrong PIN now locks the token.
    pub confirm_final_try: bool,
}

impl std::fmt::Debug for SignRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignRequest")
            .field("slot_id", &self.slot_id)
            .field("cert_id", &self.cert_id)
            .field("pin", &"[redacted]")
            .field("data_len", &self.data.len())
            .field("confirm_final_try", &self.confirm_final_try)
            .finish()
    }
}

/// A signature and what verifies it.
#[derive(Clone, Debug)]
pub struct Signed {
    pub algorithm: Algorithm,
    /// RS256: PKCS#1 v1.5; ES256: raw `r ‖ s` (64 bytes).
    pub signature: Vec<u8>,
    /// DER of the certificate whose key signed.
    pub certificate: Vec<u8>,
}

/// How many CA certificates a proof sends along at most (the protocol's limit).
pub const MAX_CA_CERTIFICATES: usize = 4;

/// The seam between the product and a token.
pub trait Token: Send + Sync {
    /// Tokens plugged in now, with their certificates (readable without a PIN).
    fn tokens(&self) -> Result<Vec<TokenSummary>, TokenError>;

    /// Logs in with the PIN, signs `data` with the key of `cert_id`, logs out and closes
    /// the session. Refuses a login on the final try unless `confirm_final_try`.
    fn sign(&self, req: &SignRequest<'_>) -> Result<Signed, TokenError>;

    /// A short description for diagnostics (module path, or "fake").
    fn describe(&self) -> String;
}
