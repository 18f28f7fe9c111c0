//! The server's integration tests, one binary (one link, `common` compiled once): the
//! server on port 0 with its own data dir, SQLite file (or PostgreSQL database) and SMTP
//! sink per test, so tests share no state and run side by side. `enumeration` compares
//! known and unknown names on interleaved requests (a busy process slows both alike,
//! and its bound leaves room for that), so it may share the process; `memory.rs`
//! measures the process's resident memory and keeps a binary to itself.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

mod common;

mod abuse;
mod admin_cli;
mod backup;
mod checks;
mod crash;
mod email_change;
mod enumeration;
mod faults;
mod flow;
mod hardening;
mod metrics;
mod ocsp;
mod openapi;
mod outbox;
mod packaging;
mod pages;
mod portal;
mod postgres;
mod proxy;
mod revocation;
mod staff;
mod support;
mod trust;
