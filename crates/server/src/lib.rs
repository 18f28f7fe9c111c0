//! `bhxh-server`: the reset backend. It verifies a token's signed challenge and emails a
//! temporary password, keeping only its argon2id hash.
//!
//! Code map: [`config`] → `app` builds everything; [`http`] holds the routes and the
//! one place errors become answers; [`verify`] the certificate and signature checks;
//! [`passwords`] hashing and generation; [`mail`] the outbox worker; [`store`] all SQL;
//! [`admin`] the support-staff commands; `portal` the portal path (captcha, activation
//! link); `staff` the support desk's console on its own listener; `html` the pages.
//!
//! Public are the modules the binary and the benchmarks' and tests' shared parts reach
//! into (`admin`, `backup`, `config`, `http`, `mail`, `passwords`, `revocation`, `store`,
//! `verdict`, `verify`); a few more only with the `testing` feature, which the server's
//! own tests and benches turn on (`open_for_tests!`); the rest is private to the crate:
//! the request handlers' rooms, the accept loop, the pages' helpers, the captcha
//! drawing, the sealed challenge, client addresses, the in-memory windows and the API
//! contract's parts.
#![forbid(unsafe_code)]

/// Modules public only with the `testing` feature (the integration tests and benches
/// read limit keys, render facts and draw captchas through them); private otherwise.
macro_rules! open_for_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg(feature = "testing")]
            pub mod $name;
            #[cfg(not(feature = "testing"))]
            mod $name;
        )*
    };
}

open_for_tests!(context, email_change, facts, metrics, portal, staff, support);

pub mod admin;
mod app;
mod auth;
pub mod backup;
mod captcha_image;
mod challenge;
mod client_addr;
mod clock;
pub mod config;
mod html;
pub mod http;
pub mod mail;
mod mem_limits;
mod openapi;
pub mod passwords;
mod recovery;
pub mod revocation;
mod serve;
mod standing;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verdict;
pub mod verify;

pub use app::Application;
pub use clock::Clock;
pub use config::Config;
