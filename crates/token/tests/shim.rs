//! What SoftHSM2 cannot show, through `tests/shim/p11shim.c`: a FAKE PKCS#11 module,
//! named as such, in front of the real SoftHSM2. It plays a reader with a PIN pad
//! (`CKF_PROTECTED_AUTHENTICATION_PATH`: the PIN is typed on the reader, C_Login gets
//! none) and a misbehaving module that answers `CKR_BUFFER_TOO_SMALL` to C_Sign with a
//! buffer of the length it gave. Keys, sessions and logins stay SoftHSM2's, for real;
//! the shim logs what it was handed (never a PIN: flags and return codes only).
//!
//! Isolation, since the shim's behaviour, its log and the environment are process-wide
//! and a module is loaded once per process:
//! - this is a test binary of its own, so a process of its own: its own SoftHSM2 tokens
//!   (bhxh-testkit provisions them per process), its own login state, and nothing of
//!   tests/softhsm.rs in it;
//! - the shim is compiled at run time (`cc`, with the few PKCS#11 types declared in the
//!   C file, so no header package is needed) into this process's scratch folder, and
//!   the environment it reads (`P11SHIM_CONTROL`, `P11SHIM_LOG`, `P11SHIM_PAD_PIN`) is
//!   set once, in [`shim`], before the shim is loaded; no test changes it afterwards;
//! - a test chooses the behaviour by rewriting the control file, which the shim reads
//!   at every call, and starts from an empty log: both are shared, so every test takes
//!   [`case`]'s lock for its whole run, one case at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure is the test's failure

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

use bhxh_testkit::{softhsm_with, TEST_PIN};
use bhxh_token::p11::{Pkcs11Token, SIGN_ATTEMPTS};
use bhxh_token::{Algorithm, AuthPin, SignRequest, Signed, Token, TokenError, TokenSummary};
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

/// The shim built and its files, once per process.
struct Shim {
    module: PathBuf,
    control: PathBuf,
    log: PathBuf,
}

fn shim() -> &'static Shim {
    static SHIM: OnceLock<Shim> = OnceLock::new();
    SHIM.get_or_init(|| {
        // SoftHSM2's tokens first: it reads SOFTHSM2_CONF when the shim initialises it.
        let hsm = softhsm_with("rsa always");
        let dir = hsm.dir.join("p11shim");
        let module = bhxh_testkit::build_p11shim(&dir);
        let (control, log) = (dir.join("control"), dir.join("log"));
        // Once, before the module is loaded; never changed afterwards.
        std::env::set_var("P11SHIM_CONTROL", &control);
        std::env::set_var("P11SHIM_LOG", &log);
        std::env::set_var("P11SHIM_PAD_PIN", TEST_PIN);
        Shim { module, control, log }
    })
}

/// One case at a time: writes the shim's control file, empties its log, and holds the
/// lock until the guard goes.
fn case(control: &str) -> (MutexGuard<'static, ()>, Pkcs11Token) {
    static CASE: Mutex<()> = Mutex::new(());
    let turn = CASE.lock().unwrap_or_else(|p| p.into_inner());
    let s = shim();
    std::fs::write(&s.control, control).unwrap();
    std::fs::write(&s.log, "").unwrap();
    (turn, Pkcs11Token::open(&s.module).expect("the shim loads"))
}

/// The shim's log so far.
fn log() -> String {
    std::fs::read_to_string(&shim().log).unwrap_or_default()
}

fn count(log: &str, what: &str) -> usize {
    log.lines().filter(|l| l.contains(what)).count()
}

/// Every session the shim saw opened was closed again.
fn all_sessions_closed(log: &str) {
    let (opened, closed) = (count(log, "C_OpenSession rv=0x0"), count(log, "C_CloseSession rv=0x0"));
    assert!(opened > 0 && opened == closed, "{opened} sessions opened, {closed} closed:\n{log}");
}

fn by_label(tokens: &[TokenSummary], label: &str) -> TokenSummary {
    tokens.iter().find(|t| t.label == label).unwrap_or_else(|| panic!("no token {label} in {tokens:#?}")).clone()
}

fn sign(t: &Pkcs11Token, token: &TokenSummary, cert_id: u8, pin: &str, data: &[u8]) -> Result<Signed, TokenError> {
    let pin = AuthPin::from(pin.to_string());
    t.sign(&SignRequest { slot_id: token.slot_id, cert_id: &[cert_id], pin: &pin, data, confirm_final_try: false })
}

fn verify_rs256(signed: &Signed, data: &[u8]) {
    use x509_parser::prelude::FromDer;
    assert_eq!(signed.algorithm, Algorithm::RS256);
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&signed.certificate).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, cert.public_key().subject_public_key.data.to_vec())
        .verify(data, &signed.signature)
        .expect("RS256 signature verifies");
}

/// The control for the PIN-pad tests: without a pad, the PIN is sent, and the shim's
/// log shows it (flag only, never the PIN) — so its "no PIN" below means something.
#[test]
fn without_a_pin_pad_the_pin_is_sent_and_the_shim_sees_it() {
    let (_turn, t) = case("");
    let rsa = by_label(&t.tokens().unwrap(), "BHXH Test RSA");
    assert!(!rsa.pin_pad);
    let data = b"an ordinary token";
    verify_rs256(&sign(&t, &rsa, 0x01, TEST_PIN, data).unwrap(), data);
    let log = log();
    assert_eq!(count(&log, "C_Login user=1 pin=given rv=0x0"), 1, "{log}");
    assert!(!log.contains(TEST_PIN), "the shim's log holds no PIN:\n{log}");
    all_sessions_closed(&log);
}

/// A PIN-pad reader: listed as such; `sign` with an empty PIN signs (the reader takes
/// the PIN on its keypad), and a PIN typed on the computer anyway is not sent either.
#[test]
fn pin_pad_reader_is_listed_and_signs_with_no_pin_sent() {
    let (_turn, t) = case("P11SHIM_PINPAD=1\n");
    let rsa = by_label(&t.tokens().unwrap(), "BHXH Test RSA");
    assert!(rsa.pin_pad, "{rsa:#?}");
    let data = b"PIN typed on the reader";
    verify_rs256(&sign(&t, &rsa, 0x01, "", data).expect("an empty PIN signs on a PIN pad"), data);
    let typed = "918273";
    verify_rs256(&sign(&t, &rsa, 0x01, typed, data).expect("a typed PIN is ignored on a PIN pad"), data);
    let log = log();
    assert_eq!(count(&log, "pin=given"), 0, "no PIN reached C_Login:\n{log}");
    assert_eq!(count(&log, "C_Login user=1 pin=absent rv=0x0"), 2, "{log}");
    assert!(!log.contains(typed) && !log.contains(TEST_PIN), "{log}");
    all_sessions_closed(&log);
}

/// A PIN-pad reader and a key with CKA_ALWAYS_AUTHENTICATE: the context-specific login
/// (CKU_CONTEXT_SPECIFIC = 2) goes without a PIN too.
#[test]
fn pin_pad_context_specific_login_sends_no_pin_either() {
    let (_turn, t) = case("P11SHIM_PINPAD=1\n");
    let always = by_label(&t.tokens().unwrap(), "BHXH Test Always-Auth");
    assert!(always.pin_pad);
    let data = b"a PIN for this signature, on the keypad";
    verify_rs256(&sign(&t, &always, 0x04, "", data).expect("signed"), data);
    let log = log();
    assert_eq!(count(&log, "C_Login user=1 pin=absent rv=0x0"), 1, "{log}");
    assert_eq!(count(&log, "C_Login user=2 pin=absent rv=0x0"), 1, "{log}");
    assert_eq!(count(&log, "pin=given"), 0, "{log}");
    all_sessions_closed(&log);
}

/// CKR_BUFFER_TOO_SMALL twice to a buffer of the length the module gave: retried (on a
/// new session of the same login, each time), signed on the third attempt.
#[test]
fn buffer_too_small_twice_is_retried_and_signs() {
    let (_turn, t) = case("P11SHIM_BUFFER_TOO_SMALL=2\n");
    let rsa = by_label(&t.tokens().unwrap(), "BHXH Test RSA");
    let data = b"a module that cannot count";
    verify_rs256(&sign(&t, &rsa, 0x01, TEST_PIN, data).expect("signed after two retries"), data);
    let log = log();
    assert_eq!(count(&log, "C_Sign refused=buffer_too_small"), 2, "{log}");
    assert_eq!(count(&log, "C_Sign forwarded buffer=given rv=0x0"), 1, "{log}");
    assert_eq!(count(&log, "C_Login user=1"), 1, "one login, kept by the new sessions:\n{log}");
    all_sessions_closed(&log);
}

/// CKR_BUFFER_TOO_SMALL for ever: a clear TOKEN_FAILURE after SIGN_ATTEMPTS C_Sign calls
/// with a buffer, every session closed; the token is not stuck afterwards.
#[test]
fn buffer_too_small_for_ever_is_a_clear_error_after_a_bounded_number_of_calls() {
    let (_turn, t) = case("P11SHIM_BUFFER_TOO_SMALL=10\n");
    let rsa = by_label(&t.tokens().unwrap(), "BHXH Test RSA");
    let err = sign(&t, &rsa, 0x01, TEST_PIN, b"never signed").unwrap_err();
    match &err {
        TokenError::Failure { detail } => assert!(detail.contains("CKR_BUFFER_TOO_SMALL 3 times"), "{detail}"),
        other => panic!("expected a token failure, got {other:?}"),
    }
    assert_eq!(err.code(), bhxh_protocol::ErrorCode::TokenFailure);
    let log = log();
    assert_eq!(SIGN_ATTEMPTS, 3);
    assert_eq!(count(&log, "C_Sign refused=buffer_too_small"), SIGN_ATTEMPTS, "{log}");
    assert_eq!(count(&log, "buffer=given"), 0, "{log}");
    all_sessions_closed(&log);

    std::fs::write(&shim().control, "").unwrap();
    let data = b"the module behaves again";
    verify_rs256(&sign(&t, &rsa, 0x01, TEST_PIN, data).expect("the token is not stuck"), data);
}
