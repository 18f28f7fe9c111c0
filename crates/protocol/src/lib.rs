//! The BHXH recovery protocol, version 1: what travels between `bhxh-client` and
//! `bhxh-server`, and the few pure functions both sides must agree on byte for byte.
//!
//! * [`wire`]: request and response bodies (serde, JSON).
//! * [`tbs`]: the 128 bytes a token signs; the only place they are built.
//! * [`errors`]: the catalogue of stable error codes with Vietnamese and English text.
//! * [`domain`]: parsed newtypes (`Username`, `Mst`, `Email`, …) and the password policy.
//! * [`vnid`]: Vietnamese IDs (`MST:`, `CCCD:`, `CMND:`) from a certificate subject's DER.
//! * [`reference`]: reference codes such as `RC-7F3K-9Q2M` that key the audit log.
//! * [`support_code`]: support codes such as `HT-4821-7305-6` a caller reads to the desk.
#![forbid(unsafe_code)]

pub mod domain;
pub mod errors;
pub mod reference;
pub mod secret;
pub mod support_code;
pub mod tbs;
pub mod vnid;
pub mod wire;

pub use domain::{Email, Mst, Username};
pub use errors::{ErrorCode, Lang};
pub use reference::Reference;
pub use secret::Secret;
pub use support_code::SupportCode;
pub use tbs::{signed_data, to_be_signed};
pub use wire::{Algorithm, Purpose};

/// The header a client sends its instance id in (a random id made once per installation,
/// no secret): the desk sees the attempts of the app whose support code a caller reads.
pub const INSTANCE_HEADER: &str = "x-bhxh-instance";

/// Whether `id` has an instance id's form: 16–64 characters of base64url.
pub fn valid_instance(id: &str) -> bool {
    (16..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The protocol version this crate speaks; the path prefix of every endpoint.
pub const PROTOCOL_VERSION: &str = "v1";
