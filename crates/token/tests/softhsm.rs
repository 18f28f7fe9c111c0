//! The real PKCS#11 path against SoftHSM2 tokens provisioned fresh for this test
//! process (scripts/provision-softhsm.sh): listing, certificates, wrong and right PIN,
//! RSA and P-256 signatures verified independently, several tokens present; a key with
//! CKA_ALWAYS_AUTHENTICATE; the logout after a signature; CKR_USER_ALREADY_LOGGED_IN.
//!
//! Isolation: PKCS#11 login state belongs to the token, for every session of the
//! process. Our `sign` takes a per-module lock from its login to its logout, so the
//! tests that only call it may share a token. A test that logs in through a session of
//! its own (`Pkcs11Token::pkcs11`) has a token to itself: "BHXH Other MST" for the
//! already-logged-in case, "BHXH Test Always-Auth" for the always-authenticate ones,
//! which take `ALWAYS` in turn.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure is the test's failure

use std::sync::Mutex;

use bhxh_testkit::{softhsm_with, MST, TEST_PIN};
use bhxh_token::p11::Pkcs11Token;
use bhxh_token::{Algorithm, AuthPin, PinState, SignRequest, Token, TokenError, TokenSummary};
use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256};

/// The tokens of this process: the three every test binary has, and the always-auth one.
const TOKENS: &str = "rsa ec other always";
const ALWAYS_LABEL: &str = "BHXH Test Always-Auth";

/// The always-authenticate token, one test at a time (they log in beside `sign`).
static ALWAYS: Mutex<()> = Mutex::new(());

fn token() -> Pkcs11Token {
    let hsm = softhsm_with(TOKENS);
    Pkcs11Token::open(&hsm.module).expect("SoftHSM2 module loads")
}

/// A session of our own on the module instance `t` signs through.
fn session_on(t: &Pkcs11Token, slot_id: u64) -> Session {
    let slot = t.pkcs11().get_slots_with_token().unwrap().into_iter().find(|s| s.id() == slot_id).expect("the slot");
    t.pkcs11().open_ro_session(slot).unwrap()
}

fn private_key(session: &Session, id: u8) -> Option<ObjectHandle> {
    session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(vec![id])]).unwrap().pop()
}

fn verify_rs256(certificate: &[u8], data: &[u8], signature: &[u8]) {
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key(certificate))
        .verify(data, signature)
        .expect("RS256 signature verifies");
}

fn by_label(tokens: &[TokenSummary], label: &str) -> TokenSummary {
    tokens.iter().find(|t| t.label == label).unwrap_or_else(|| panic!("no token {label} in {tokens:#?}")).clone()
}

fn pin(s: &str) -> AuthPin {
    AuthPin::from(s.to_string())
}

fn public_key(der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).unwrap();
    cert.public_key().subject_public_key.data.to_vec()
}

#[test]
fn lists_every_token_with_its_certificate_and_pin_state() {
    let tokens = token().tokens().unwrap();
    assert_eq!(tokens.len(), 4, "{tokens:#?}");
    assert!(tokens.iter().all(|t| !t.pin_pad), "SoftHSM2 has no PIN pad: {tokens:#?}");
    let rsa = by_label(&tokens, "BHXH Test RSA");
    assert_eq!(rsa.pin_state, PinState::Ok);
    assert_eq!(rsa.manufacturer, "SoftHSM project");
    assert_eq!(rsa.certificates.len(), 1);
    let c = &rsa.certificates[0];
    assert_eq!(c.holder, "CÔNG TY TNHH THỬ NGHIỆM BHXH");
    assert_eq!(c.msts, vec![MST.to_string()]);
    // Issued by the fixture PKI's issuing CA (root → issuing CA → token, as in the real PKI);
    // the CA certificate the token also carries is not offered as a certificate to sign with.
    assert_eq!(c.issuer, "BHXH Test Issuing CA");
    assert_eq!((c.key_type.as_str(), c.key_bits, c.algorithm), ("RSA", 2048, Some(Algorithm::RS256)));
    assert_eq!(c.id, "01");
    assert!(c.usable_at(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64));
    let ec = by_label(&tokens, "BHXH Test EC");
    assert_eq!(
        (ec.certificates[0].key_type.as_str(), ec.certificates[0].algorithm),
        ("EC P-256", Some(Algorithm::ES256))
    );
    let other = by_label(&tokens, "BHXH Other MST");
    assert_eq!(other.certificates[0].msts, vec!["0309999999".to_string()]);
    let always = by_label(&tokens, ALWAYS_LABEL);
    assert_eq!((always.certificates.len(), always.certificates[0].id.as_str()), (1, "04"));
    assert_eq!(always.certificates[0].der, rsa.certificates[0].der, "the rsa-valid fixture");
}

#[test]
fn rsa_token_signs_what_it_is_given_and_the_signature_verifies() {
    let t = token();
    let rsa = by_label(&t.tokens().unwrap(), "BHXH Test RSA");
    let data = b"128 bytes of to-be-signed data, or any bytes at all";
    let p = pin(TEST_PIN);
    let signed = t
        .sign(&SignRequest { slot_id: rsa.slot_id, cert_id: &[0x01], pin: &p, data, confirm_final_try: false })
        .unwrap();
    assert_eq!(signed.algorithm, Algorithm::RS256);
    assert_eq!(signed.certificate, rsa.certificates[0].der);
    // The token's CA certificate is read with the listing, for the server to build the path.
    assert_eq!(rsa.ca_certificates, vec![std::fs::read(bhxh_testkit::fixture("ica.cert.der")).unwrap()]);
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key(&signed.certificate))
        .verify(data, &signed.signature)
        .expect("RS256 signature verifies");
}

#[test]
fn ec_token_signs_raw_r_s_that_verifies_as_es256() {
    let t = token();
    let ec = by_label(&t.tokens().unwrap(), "BHXH Test EC");
    let data = b"ES256 over SHA-256 of these bytes";
    let p = pin(TEST_PIN);
    let signed = t
        .sign(&SignRequest { slot_id: ec.slot_id, cert_id: &[0x02], pin: &p, data, confirm_final_try: false })
        .unwrap();
    assert_eq!(signed.algorithm, Algorithm::ES256);
    assert_eq!(signed.signature.len(), 64);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key(&signed.certificate))
        .verify(data, &signed.signature)
        .expect("ES256 signature verifies");
}

#[test]
fn wrong_pin_is_refused_and_the_right_one_still_works() {
    let t = token();
    let rsa = by_label(&t.tokens().unwrap(), "BHXH Test RSA");
    let wrong = pin("000000");
    let err = t
        .sign(&SignRequest {
            slot_id: rsa.slot_id,
            cert_id: &[0x01],
            pin: &wrong,
            data: b"x",
            confirm_final_try: false,
        })
        .unwrap_err();
    assert!(matches!(err, TokenError::PinIncorrect { .. }), "{err:?}");
    assert_eq!(err.code(), bhxh_protocol::ErrorCode::PinIncorrect);
    let right = pin(TEST_PIN);
    t.sign(&SignRequest { slot_id: rsa.slot_id, cert_id: &[0x01], pin: &right, data: b"x", confirm_final_try: false })
        .expect("the right PIN works after a wrong one");
}

#[test]
fn unknown_certificate_and_vanished_slot_are_clear_errors() {
    let t = token();
    let rsa = by_label(&t.tokens().unwrap(), "BHXH Test RSA");
    let p = pin(TEST_PIN);
    let err = t
        .sign(&SignRequest { slot_id: rsa.slot_id, cert_id: &[0x7f], pin: &p, data: b"x", confirm_final_try: false })
        .unwrap_err();
    assert_eq!(err, TokenError::NoCertificate);
    let err = t
        .sign(&SignRequest { slot_id: 0xdead_beef, cert_id: &[0x01], pin: &p, data: b"x", confirm_final_try: false })
        .unwrap_err();
    assert_eq!(err, TokenError::TokenRemoved);
}

#[test]
fn module_discovery_prefers_the_environment() {
    let hsm = softhsm_with(TOKENS);
    std::env::set_var("BHXH_PKCS11_MODULE", &hsm.module);
    assert_eq!(bhxh_token::module::find_module(None, None).unwrap(), hsm.module);
    std::env::remove_var("BHXH_PKCS11_MODULE");
}

/// (a) A key with CKA_ALWAYS_AUTHENTICATE signs through `sign`: its context-specific
/// login comes after C_SignInit, and the signature verifies.
#[test]
fn always_authenticate_key_signs_and_the_signature_verifies() {
    let _turn = ALWAYS.lock().unwrap_or_else(|p| p.into_inner());
    let t = token();
    let always = by_label(&t.tokens().unwrap(), ALWAYS_LABEL);
    let data = b"to-be-signed bytes, a PIN for this signature alone";
    let p = pin(TEST_PIN);
    let signed = t
        .sign(&SignRequest { slot_id: always.slot_id, cert_id: &[0x04], pin: &p, data, confirm_final_try: false })
        .expect("the always-authenticate key signs");
    assert_eq!(signed.algorithm, Algorithm::RS256);
    assert_eq!(signed.certificate, always.certificates[0].der);
    verify_rs256(&signed.certificate, data, &signed.signature);
}

/// (b) The attribute is real: the key reads CKA_ALWAYS_AUTHENTICATE = true, and SoftHSM2
/// refuses C_Sign after C_SignInit without the context-specific login
/// (CKR_USER_NOT_LOGGED_IN) although the session is logged in as the user; with it, the
/// same session signs.
#[test]
fn always_authenticate_is_real_c_sign_without_the_context_login_is_refused() {
    let _turn = ALWAYS.lock().unwrap_or_else(|p| p.into_inner());
    let t = token();
    let always = by_label(&t.tokens().unwrap(), ALWAYS_LABEL);
    let session = session_on(&t, always.slot_id);
    let p = pin(TEST_PIN);
    session.login(UserType::User, Some(&p)).expect("user login");
    let key = private_key(&session, 0x04).expect("the private key, once logged in");
    let attrs = session.get_attributes(key, &[AttributeType::AlwaysAuthenticate]).unwrap();
    assert!(matches!(attrs.as_slice(), [Attribute::AlwaysAuthenticate(true)]), "{attrs:?}");

    let data = b"no PIN for this one";
    let err = session.sign(&Mechanism::Sha256RsaPkcs, key, data).unwrap_err();
    assert!(matches!(err, CkError::Pkcs11(RvError::UserNotLoggedIn, Function::Sign)), "{err:?}");

    session.sign_init(&Mechanism::Sha256RsaPkcs, key).unwrap();
    session.login(UserType::ContextSpecific, Some(&p)).expect("context-specific login");
    session.sign_update(data).unwrap();
    let signature = session.sign_final().expect("signed after the context-specific login");
    verify_rs256(&always.certificates[0].der, data, &signature);
    session.logout().unwrap();
}

/// (c) After a signature the token is logged out: a session of the same module instance
/// is not logged in and sees no private key, and a second signature with a wrong PIN is
/// refused rather than made with a login left open — on the always-authenticate token
/// and on the EC one (whose key needs no per-signature PIN, so only our logout stands
/// between a wrong PIN and a signature). SoftHSM2 flags a wrong PIN (COUNT_LOW) until
/// the next right one, so each token ends with a right one (the listing test checks the
/// RSA token's state, hence EC here). SoftHSM2 also logs out when a token's last session
/// closes: that our own C_Logout happens shows in
/// `user_already_logged_in_elsewhere_is_success`, where another session stays open.
/// SoftHSM2 does not count sessions (`ulSessionCount` unavailable); that ours are
/// closed is shown through the shim (tests/shim.rs).
#[test]
fn after_a_signature_the_token_is_logged_out_and_a_wrong_pin_signs_nothing() {
    let _turn = ALWAYS.lock().unwrap_or_else(|p| p.into_inner());
    let t = token();
    let tokens = t.tokens().unwrap();
    let always = by_label(&tokens, ALWAYS_LABEL);
    let (right, wrong) = (pin(TEST_PIN), pin("000000"));
    let req = |slot_id, cert_id, pin| SignRequest { slot_id, cert_id, pin, data: b"x", confirm_final_try: false };

    t.sign(&req(always.slot_id, &[0x04], &right)).expect("signed");
    let look = session_on(&t, always.slot_id);
    assert_eq!(look.get_session_info().unwrap().session_state(), SessionState::RoPublic, "not logged in");
    assert_eq!(private_key(&look, 0x04), None, "no private key visible without a login");
    drop(look);
    let err = t.sign(&req(always.slot_id, &[0x04], &wrong)).unwrap_err();
    assert!(matches!(err, TokenError::PinIncorrect { .. }), "{err:?}");
    t.sign(&req(always.slot_id, &[0x04], &right)).expect("the right PIN again");

    let ec = by_label(&tokens, "BHXH Test EC");
    t.sign(&req(ec.slot_id, &[0x02], &right)).expect("signed");
    let err = t.sign(&req(ec.slot_id, &[0x02], &wrong)).unwrap_err();
    assert!(matches!(err, TokenError::PinIncorrect { .. }), "a wrong PIN right after a signature: {err:?}");
    t.sign(&req(ec.slot_id, &[0x02], &right)).expect("the right PIN again");
}

/// CKR_USER_ALREADY_LOGGED_IN is success: while another session of the same module
/// instance is logged in as the user, the module answers any C_Login so (shown on a
/// second session of ours), and `sign` still signs. Its logout then ends the login of
/// every session of the token, the other one's too: PKCS#11 login state is the token's.
/// On "BHXH Other MST", which no other test logs in to.
#[test]
fn user_already_logged_in_elsewhere_is_success() {
    let t = token();
    let other = by_label(&t.tokens().unwrap(), "BHXH Other MST");
    let p = pin(TEST_PIN);
    let holder = session_on(&t, other.slot_id);
    holder.login(UserType::User, Some(&p)).expect("the other session logs in");
    assert_eq!(holder.get_session_info().unwrap().session_state(), SessionState::RoUser);
    let second = session_on(&t, other.slot_id);
    let err = second.login(UserType::User, Some(&p)).unwrap_err();
    assert!(matches!(err, CkError::Pkcs11(RvError::UserAlreadyLoggedIn, Function::Login)), "{err:?}");
    drop(second);

    let data = b"signed while another session holds the login";
    let signed = t
        .sign(&SignRequest { slot_id: other.slot_id, cert_id: &[0x03], pin: &p, data, confirm_final_try: false })
        .expect("CKR_USER_ALREADY_LOGGED_IN is success");
    assert_eq!(signed.certificate, other.certificates[0].der);
    verify_rs256(&signed.certificate, data, &signed.signature);
    assert_eq!(
        holder.get_session_info().unwrap().session_state(),
        SessionState::RoPublic,
        "our logout logged the token out, for every session"
    );
}
