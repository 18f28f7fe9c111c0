//! The client side of the recovery: talks to the reset backend ([`api`]), drives the
//! token through the flows ([`flows`]), and keeps the login session in the OS keyring
//! ([`session`]). Used by the `bhxh` CLI and the desktop app; knows no UI.
//!
//! The PIN enters as a `bhxh_token::AuthPin` and goes only to the token; the client
//! builds the bytes the token signs from the challenge itself, after checking that the
//! challenge names the origin it actually connected to.
#![forbid(unsafe_code)]

pub mod api;
pub mod diagnostics;
mod error;
pub mod flows;
pub mod instance;
pub mod session;
pub mod tokens;

pub use api::ApiClient;
pub use error::ClientError;
