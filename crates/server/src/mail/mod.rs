//! Mail: what the reset and notification mails say ([`texts`]), the outbox's
//! encryption at rest ([`sealed`]), and the worker that delivers the outbox over SMTP
//! or into `.eml` files ([`outbox`]).
//!
//! A mail is written into the `outbox` table in the same transaction as the change it
//! reports, so a reset is never committed without its mail nor a mail sent for a reset
//! that did not happen. The worker delivers at least once; the Message-ID is fixed at
//! enqueue time, so a receiver can drop a duplicate after a crash between "sent" and
//! "marked sent".

pub mod outbox;
pub mod sealed;
pub mod texts;

pub use outbox::{new_message_id, Outbox, Transport};
pub use sealed::{OutboxKey, Secrets};
pub use texts::*;
