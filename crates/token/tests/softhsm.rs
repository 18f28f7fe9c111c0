//! The real PKCS#11 path against SoftHSM2 tokens provisioned fresh for this test
//! process (scripts/provision-softhsm.sh): listing, certificates, wrong and right PIN,
//! RSA and P-256 signatures verified independently, several tokens present.

use bhxh_testkit::{softhsm, MST, TEST_PIN};
use bhxh_token::p11::Pkcs11Token;
use bhxh_token::{Algorithm, AuthPin, PinState, SignRequest, Token, TokenError, TokenSummary};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256};

fn token() -> Pkcs11Token {
    let hsm = softhsm();
    Pkcs11Token::open(&hsm.module).expect("SoftHSM2 module loads")
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
    assert_eq!(tokens.len(), 3, "{tokens:#?}");
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
    let hsm = softhsm();
    std::env::set_var("BHXH_PKCS11_MODULE", &hsm.module);
    assert_eq!(bhxh_token::module::find_module(None, None).unwrap(), hsm.module);
    std::env::remove_var("BHXH_PKCS11_MODULE");
}
