//! The PIN lockout states and removal mid-signature, which SoftHSM2 cannot show
//! (it never counts wrong PINs), against the FAKE token: it follows the same rules the
//! real implementation follows, and it is named as a fake everywhere.

use bhxh_testkit::fixture;
use bhxh_token::fake::{FakeBehaviour, FakeToken};
use bhxh_token::{AuthPin, PinState, SignRequest, Token, TokenError};

fn fake() -> FakeToken {
    let der = std::fs::read(fixture("rsa-valid.cert.der")).unwrap();
    FakeToken::new(&der, "123456", 3, |data| data.to_vec())
}

fn sign(t: &FakeToken, p: &str, confirm: bool) -> Result<bhxh_token::Signed, TokenError> {
    let pin = AuthPin::from(p.to_string());
    t.sign(&SignRequest { slot_id: 0, cert_id: &[1], pin: &pin, data: b"data", confirm_final_try: confirm })
}

fn state(t: &FakeToken) -> PinState {
    t.tokens().unwrap()[0].pin_state
}

#[test]
fn count_low_then_final_try_then_locked() {
    let t = fake();
    assert_eq!(state(&t), PinState::Ok);
    assert_eq!(sign(&t, "000000", false).unwrap_err(), TokenError::PinIncorrect { final_try_next: false });
    assert_eq!(state(&t), PinState::CountLow);
    assert_eq!(sign(&t, "000000", false).unwrap_err(), TokenError::PinIncorrect { final_try_next: true });
    assert_eq!(state(&t), PinState::FinalTry);

    // On the final try nothing is attempted without the user's explicit confirmation.
    let logins = t.logins();
    assert_eq!(sign(&t, "123456", false).unwrap_err(), TokenError::PinFinalTry);
    assert_eq!(t.logins(), logins, "a login was attempted on the final try without confirmation");

    assert_eq!(sign(&t, "000000", true).unwrap_err(), TokenError::PinLocked);
    assert_eq!(state(&t), PinState::Locked);
    // Locked: even the right PIN is not tried.
    assert_eq!(sign(&t, "123456", true).unwrap_err(), TokenError::PinLocked);
    assert_eq!(TokenError::PinLocked.code(), bhxh_protocol::ErrorCode::PinLocked);
}

#[test]
fn a_right_pin_on_the_confirmed_final_try_resets_the_count() {
    let t = fake();
    let _ = sign(&t, "000000", false);
    let _ = sign(&t, "000000", false);
    assert_eq!(state(&t), PinState::FinalTry);
    assert!(sign(&t, "123456", true).is_ok());
    assert_eq!(state(&t), PinState::Ok);
}

#[test]
fn removal_mid_signature() {
    let t = fake();
    t.set_behaviour(FakeBehaviour::RemovedMidSignature);
    let err = sign(&t, "123456", false).unwrap_err();
    assert_eq!(err, TokenError::TokenRemoved);
    assert_eq!(err.code(), bhxh_protocol::ErrorCode::TokenRemoved);
}
