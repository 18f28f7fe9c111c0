//! The PIN lockout states and removal mid-signature, which SoftHSM2 cannot show
//! (it never counts wrong PINs), against the FAKE token: it follows the same rules the
//! real implementation follows, and it is named as a fake everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure is the test's failure

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

/// A vendor tool holding the token (the CA's plugin) makes logins and signatures fail
/// with device or session errors; no real part shows this, so the decision is tested
/// as the pure function the PKCS#11 path calls.
#[test]
fn a_vendor_tool_holding_the_token_gets_one_safe_retry_then_token_in_use() {
    use bhxh_token::p11::{after_conflict, Next, Stage};
    let dev = || TokenError::DeviceError { detail: "C_Sign: DeviceError".into() };
    let in_use = |n: Next| matches!(n, Next::Fail(TokenError::InUse { .. }));
    // Opening the session sent no PIN: retried once, then TOKEN_IN_USE.
    assert_eq!(after_conflict(TokenError::TokenRemoved, Stage::OpenSession, None, false, false, true), Next::Retry);
    assert!(in_use(after_conflict(TokenError::TokenRemoved, Stage::OpenSession, None, false, true, true)));
    // C_Login itself failing: the PIN may have been counted; never sent again.
    for after in [Some(PinState::Ok), Some(PinState::CountLow), None] {
        assert!(in_use(after_conflict(dev(), Stage::Login, after, true, false, true)), "{after:?}");
    }
    // After the login: retried once when the token still allows a try without asking…
    assert_eq!(after_conflict(dev(), Stage::Sign, Some(PinState::Ok), false, false, true), Next::Retry);
    assert_eq!(after_conflict(dev(), Stage::Sign, Some(PinState::CountLow), false, false, true), Next::Retry);
    assert_eq!(after_conflict(dev(), Stage::Sign, Some(PinState::FinalTry), true, false, true), Next::Retry);
    assert!(in_use(after_conflict(dev(), Stage::Sign, Some(PinState::Ok), false, true, true)), "only once");
    // …never on a final try the user did not confirm, a locked token, or an unread state.
    assert!(in_use(after_conflict(dev(), Stage::Sign, Some(PinState::FinalTry), false, false, true)));
    assert!(in_use(after_conflict(dev(), Stage::Sign, Some(PinState::Locked), true, false, true)));
    assert!(in_use(after_conflict(dev(), Stage::Sign, None, true, false, true)));
    // Really pulled out: TOKEN_REMOVED, no retry.
    assert_eq!(
        after_conflict(dev(), Stage::Sign, Some(PinState::Ok), false, false, false),
        Next::Fail(TokenError::TokenRemoved)
    );
    // Other errors pass through untouched (a wrong PIN is never retried).
    assert_eq!(
        after_conflict(
            TokenError::PinIncorrect { final_try_next: false },
            Stage::Login,
            Some(PinState::CountLow),
            false,
            false,
            true
        ),
        Next::Fail(TokenError::PinIncorrect { final_try_next: false })
    );
    assert_eq!(TokenError::InUse { detail: String::new() }.code().as_str(), "TOKEN_IN_USE");
}

/// A new token with the CA's default PIN says the PIN must be changed (no real module
/// of the tests shows it with a usable PIN): the state is reported, a module that still
/// signs signs, one that refuses says PIN_MUST_CHANGE.
#[test]
fn a_pin_to_be_changed_is_reported_and_signing_is_still_tried() {
    let t = fake();
    t.set_behaviour(FakeBehaviour::PinToBeChangedSigns);
    assert_eq!(t.tokens().unwrap()[0].pin_state, PinState::MustChange);
    let pin = AuthPin::from("123456".to_string());
    let req = SignRequest { slot_id: 0, cert_id: &[1], pin: &pin, data: b"data", confirm_final_try: false };
    assert!(bhxh_token::Token::sign(&t, &req).is_ok());
    t.set_behaviour(FakeBehaviour::PinToBeChangedRefuses);
    assert_eq!(bhxh_token::Token::sign(&t, &req).unwrap_err(), TokenError::PinMustChange);
    assert_eq!(TokenError::PinMustChange.code().as_str(), "PIN_MUST_CHANGE");
}
