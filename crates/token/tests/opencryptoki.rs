//! The real PKCS#11 path against a second implementation: opencryptoki's soft token
//! (scripts/provision-opencryptoki.sh), which locks its PIN for real, has no
//! CKM_SHA256_RSA_PKCS and answers a token clock `cryptoki` cannot parse.
//!
//! Isolation: the machine has one opencryptoki soft token; `bhxh_testkit::opencryptoki()`
//! gives it to one test at a time (in this process and across test processes, by a
//! file lock) and starts each from user PIN 123456 with no wrong try counted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure is the test's failure

use bhxh_testkit::{opencryptoki, MST, TEST_PIN};
use bhxh_token::p11::Pkcs11Token;
use bhxh_token::{AuthPin, PinState, SignRequest, Token, TokenError, TokenSummary};
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

fn the_token(t: &Pkcs11Token, label: &str) -> TokenSummary {
    let tokens = t.tokens().expect("opencryptoki's tokens are listed");
    tokens.into_iter().find(|s| s.label == label).expect("the provisioned token")
}

fn sign(t: &Pkcs11Token, slot: u64, pin: &str, confirm_final_try: bool) -> Result<bhxh_token::Signed, TokenError> {
    let pin = AuthPin::from(pin.to_string());
    t.sign(&SignRequest { slot_id: slot, cert_id: &[0x01], pin: &pin, data: b"to be signed", confirm_final_try })
}

fn public_key(der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).unwrap();
    cert.public_key().subject_public_key.data.to_vec()
}

#[test]
fn the_token_is_listed_with_its_pin_state_and_certificates_despite_its_clock() {
    let ock = opencryptoki();
    let t = Pkcs11Token::open(&ock.module).expect("libopencryptoki loads");
    let s = the_token(&t, ock.label);
    assert_eq!(s.pin_state, PinState::Ok);
    assert_eq!(s.manufacturer, "IBM Corp.");
    assert_eq!(s.certificates.len(), 1, "{s:#?}");
    assert_eq!(s.certificates[0].msts, vec![MST.to_string()]);
    assert_eq!(s.certificates[0].id, "01");
    assert_eq!(s.ca_certificates.len(), 1, "the issuing CA's certificate the token carries");
}

#[test]
fn it_signs_with_raw_rsa_pkcs_over_a_digest_info_and_the_signature_verifies() {
    let ock = opencryptoki();
    let t = Pkcs11Token::open(&ock.module).unwrap();
    let s = the_token(&t, ock.label);
    let signed = sign(&t, s.slot_id, TEST_PIN, false).expect("signed");
    assert_eq!(signed.algorithm, bhxh_token::Algorithm::RS256);
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key(&signed.certificate))
        .verify(b"to be signed", &signed.signature)
        .expect("an RS256 signature made by CKM_RSA_PKCS over a SHA-256 DigestInfo");
}

#[test]
fn three_wrong_pins_lock_it_and_nothing_logs_in_on_the_final_try_unconfirmed() {
    let ock = opencryptoki();
    let t = Pkcs11Token::open(&ock.module).unwrap();
    let slot = the_token(&t, ock.label).slot_id;
    // 1st wrong PIN: counted, the next is not yet the last.
    assert!(matches!(sign(&t, slot, "000000", false), Err(TokenError::PinIncorrect { final_try_next: false })));
    assert_eq!(the_token(&t, ock.label).pin_state, PinState::CountLow);
    // 2nd: the next try is the last.
    assert!(matches!(sign(&t, slot, "000000", false), Err(TokenError::PinIncorrect { final_try_next: true })));
    assert_eq!(the_token(&t, ock.label).pin_state, PinState::FinalTry);
    // On the final try, no login without the user's confirmation — not even the right PIN.
    assert!(matches!(sign(&t, slot, TEST_PIN, false), Err(TokenError::PinFinalTry)));
    assert!(ock.flags().contains("USER_PIN_FINAL_TRY"), "no try was spent: {}", ock.flags());
    // Confirmed, and wrong: locked for real.
    assert!(matches!(sign(&t, slot, "000000", true), Err(TokenError::PinLocked)));
    assert_eq!(the_token(&t, ock.label).pin_state, PinState::Locked);
    assert!(ock.flags().contains("USER_PIN_LOCKED"), "{}", ock.flags());
    // Locked: the right PIN is not even tried.
    assert!(matches!(sign(&t, slot, TEST_PIN, true), Err(TokenError::PinLocked)));
    // Only the SO (the CA, in the field) unlocks it.
    ock.reset_user_pin();
    assert_eq!(the_token(&t, ock.label).pin_state, PinState::Ok);
    sign(&t, slot, TEST_PIN, false).expect("unlocked by the SO");
}

#[test]
fn a_right_pin_on_the_confirmed_final_try_signs_and_resets_the_count() {
    let ock = opencryptoki();
    let t = Pkcs11Token::open(&ock.module).unwrap();
    let slot = the_token(&t, ock.label).slot_id;
    for _ in 0..2 {
        assert!(matches!(sign(&t, slot, "000000", false), Err(TokenError::PinIncorrect { .. })));
    }
    assert_eq!(the_token(&t, ock.label).pin_state, PinState::FinalTry);
    sign(&t, slot, TEST_PIN, true).expect("the confirmed final try with the right PIN signs");
    assert_eq!(the_token(&t, ock.label).pin_state, PinState::Ok, "{}", ock.flags());
}

/// SoftHSM2 and opencryptoki installed side by side (two CAs' middlewares), plus a file
/// that is no PKCS#11 module: both real modules are loaded, every token of each is
/// listed with the module it came from, each signs through its own module, and the
/// broken one is reported and skipped.
#[test]
fn two_real_modules_at_once_each_token_through_its_own_and_a_broken_one_skipped() {
    let hsm = bhxh_testkit::softhsm(); // sets SOFTHSM2_CONF before any module loads
    let ock = opencryptoki();
    let dir = tempfile_dir();
    let broken = dir.join("libbroken-vendor.so");
    std::fs::write(&broken, b"not a library").unwrap();
    let m = bhxh_token::p11::Modules::load(&[hsm.module.clone(), broken.clone(), ock.module.clone()]);
    assert_eq!(m.loaded().len(), 2, "{:?}", m.skipped());
    assert_eq!(m.skipped().len(), 1);
    assert_eq!(m.skipped()[0].path, broken);
    let tokens = m.tokens().unwrap();
    let from_ock: Vec<_> = tokens.iter().filter(|t| t.module.contains("opencryptoki")).collect();
    let from_hsm: Vec<_> = tokens.iter().filter(|t| t.module.contains("softhsm")).collect();
    assert_eq!((from_ock.len(), from_hsm.len()), (1, 3), "{tokens:#?}");
    assert_eq!(from_ock[0].label, ock.label);
    let mut ids: Vec<u64> = tokens.iter().map(|t| t.slot_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), tokens.len(), "every token has its own id across modules");
    // Each signs through its own module.
    for (slot, module) in [
        (from_ock[0].slot_id, "opencryptoki"),
        (from_hsm.iter().find(|t| t.label == "BHXH Test RSA").unwrap().slot_id, "softhsm"),
    ] {
        let signed = sign_any(&m, slot, TEST_PIN).unwrap_or_else(|e| panic!("{module}: {e:?}"));
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key(&signed.certificate))
            .verify(b"to be signed", &signed.signature)
            .unwrap();
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn sign_any(t: &dyn Token, slot: u64, pin: &str) -> Result<bhxh_token::Signed, TokenError> {
    let pin = AuthPin::from(pin.to_string());
    t.sign(&SignRequest { slot_id: slot, cert_id: &[0x01], pin: &pin, data: b"to be signed", confirm_final_try: false })
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bhxh-two-modules-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One token seen through two modules: kept once, through the module its reader's ATR
/// names for its model.
#[test]
fn the_same_token_through_two_modules_is_kept_once_the_atr_choosing() {
    let t = |module: &str| TokenSummary {
        slot_id: 1,
        label: "VNPT-CA".into(),
        manufacturer: "Feitian".into(),
        model: "ePass2003".into(),
        serial: "2003A1B2".into(),
        pin_state: PinState::Ok,
        pin_pad: false,
        module: module.into(),
        certificates: Vec::new(),
        ca_certificates: Vec::new(),
    };
    let both = vec![t("C:\\Windows\\System32\\viettel-ca_v5.dll"), t("/usr/lib/libcastle.so.1.0.0")];
    let kept = bhxh_token::p11::dedupe(both.clone(), &["libcastle.so.1.0.0"]);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].module, "/usr/lib/libcastle.so.1.0.0");
    let kept = bhxh_token::p11::dedupe(both, &[]);
    assert_eq!(
        (kept.len(), kept[0].module.as_str()),
        (1, "C:\\Windows\\System32\\viettel-ca_v5.dll"),
        "no ATR: the first"
    );
}
