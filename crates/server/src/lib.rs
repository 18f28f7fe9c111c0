//! `bhxh-server`: the reset backend. It verifies a token's signed challenge and emails a
//! temporary password, keeping only its argon2id hash.
//!
//! Code map: [`config`] → [`app`] builds everything; [`http`] holds the routes and the
//! one place errors become answers; [`verify`] the certificate and signature checks;
//! [`passwords`] hashing and generation; [`mail`] the outbox worker; [`store`] all SQL;
//! [`admin`] the support-staff commands; [`portal`] the portal path (captcha, activation
//! link); [`staff`] the support desk's console on its own listener; `html` the pages.
//!
//! Public are the modules the binary, the benchmarks, the `testing` feature and the
//! integration tests reach into; the request handlers' rooms (`recovery`, `auth`), the
//! accept loop (`serve`), the pages' helpers (`html`), the captcha drawing, the sealed
//! challenge, client addresses, the in-memory windows and the API contract's parts
//! (`openapi`) are private to the crate.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
mod auth;
pub mod backup;
mod captcha_image;
mod challenge;
mod client_addr;
pub mod clock;
pub mod config;
pub mod context;
pub mod email_change;
pub mod facts;
mod html;
pub mod http;
pub mod mail;
mod mem_limits;
pub mod metrics;
mod openapi;
pub mod passwords;
pub mod portal;
mod recovery;
pub mod revocation;
mod serve;
pub mod staff;
pub mod store;
pub mod support;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verdict;
pub mod verify;

pub use app::Application;
pub use clock::Clock;
pub use config::Config;
