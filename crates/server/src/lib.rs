//! `bhxh-server`: the reset backend. It verifies a token's signed challenge and emails a
//! temporary password, keeping only its argon2id hash.
//!
//! Code map: [`config`] → [`app`] builds everything; [`http`] holds the routes and the
//! one place errors become answers; [`verify`] the certificate and signature checks;
//! [`passwords`] hashing and generation; [`mail`] the outbox worker; [`store`] all SQL;
//! [`admin`] the support-staff commands; [`portal`] the portal path (captcha, activation
//! link); [`staff`] the support desk's console on its own listener; [`html`] the pages.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod auth;
pub mod backup;
pub mod captcha_image;
pub mod challenge;
pub mod client_addr;
pub mod clock;
pub mod config;
pub mod context;
pub mod email_change;
pub mod facts;
pub mod html;
pub mod http;
pub mod mail;
pub mod mem_limits;
pub mod metrics;
pub mod openapi;
pub mod passwords;
pub mod portal;
pub mod recovery;
pub mod revocation;
pub mod serve;
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
