//! A FAKE token, for the states a software token cannot show: SoftHSM2 never counts
//! wrong PINs, never locks, and cannot be pulled out in the middle of a signature.
//!
//! It follows the PKCS#11 rules the real implementation follows (the PIN flags after
//! each wrong PIN, no login on the final try without confirmation) and signs with a
//! closure the test provides (a software key). Nothing outside tests should build one.

use std::sync::{Arc, Mutex};

use bhxh_protocol::Algorithm;
use secrecy::ExposeSecret;

use crate::{CertSummary, PinState, SignRequest, Signed, Token, TokenError, TokenSummary};

/// What the fake does on the next signature, beyond PIN handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeBehaviour {
    /// Sign normally.
    Sign,
    /// The token disappears between login and signature.
    RemovedMidSignature,
    /// The token says its PIN must be changed (`USER_PIN_TO_BE_CHANGED`, a new token with
    /// the CA's default PIN) and signs anyway, as many modules do.
    PinToBeChangedSigns,
    /// The same flag, and the module refuses the login (`CKR_PIN_EXPIRED`).
    PinToBeChangedRefuses,
}

type Signer = Arc<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// A scriptable fake token (see the module docs).
#[derive(Clone)]
pub struct FakeToken {
    inner: Arc<Mutex<FakeState>>,
    signer: Signer,
}

struct FakeState {
    pin: String,
    max_tries: u8,
    tries_left: u8,
    behaviour: FakeBehaviour,
    summary: TokenSummary,
    algorithm: Algorithm,
    /// How many logins were attempted (tests check that none happened).
    pub logins: u32,
}

impl std::fmt::Debug for FakeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeToken")
    }
}

impl FakeToken {
    /// A fake holding `cert` (DER), with `pin`, locking after `max_tries` wrong PINs,
    /// signing with `signer`. Panics when `cert` is not a certificate: the test's mistake.
    #[allow(clippy::expect_used)]
    pub fn new(
        cert: &[u8],
        pin: &str,
        max_tries: u8,
        signer: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
    ) -> FakeToken {
        let summary_cert = CertSummary::from_der(cert, &[0x01], "fake").expect("the fake needs a real certificate");
        let algorithm = summary_cert.algorithm.unwrap_or(Algorithm::RS256);
        let summary = TokenSummary {
            slot_id: 0,
            label: "FAKE token".into(),
            manufacturer: "bhxh tests".into(),
            model: "fake".into(),
            serial: "0000".into(),
            pin_state: PinState::Ok,
            pin_pad: false,
            module: "FAKE".into(),
            certificates: vec![summary_cert],
            ca_certificates: Vec::new(),
        };
        FakeToken {
            inner: Arc::new(Mutex::new(FakeState {
                pin: pin.into(),
                max_tries,
                tries_left: max_tries,
                behaviour: FakeBehaviour::Sign,
                summary,
                algorithm,
                logins: 0,
            })),
            signer: Arc::new(signer),
        }
    }

    /// Sets what the next signatures do.
    pub fn set_behaviour(&self, b: FakeBehaviour) {
        if let Ok(mut s) = self.inner.lock() {
            s.behaviour = b;
        }
    }

    /// Login attempts so far.
    pub fn logins(&self) -> u32 {
        self.inner.lock().map(|s| s.logins).unwrap_or(0)
    }

    fn state_of(s: &FakeState) -> PinState {
        match s.tries_left {
            0 => PinState::Locked,
            1 => PinState::FinalTry,
            n if n < s.max_tries => PinState::CountLow,
            _ => PinState::Ok,
        }
    }
}

impl Token for FakeToken {
    fn tokens(&self) -> Result<Vec<TokenSummary>, TokenError> {
        let s = self.inner.lock().map_err(|_| TokenError::Failure { detail: "poisoned".into() })?;
        let mut summary = s.summary.clone();
        summary.pin_state = Self::state_of(&s);
        if summary.pin_state == PinState::Ok
            && matches!(s.behaviour, FakeBehaviour::PinToBeChangedSigns | FakeBehaviour::PinToBeChangedRefuses)
        {
            summary.pin_state = PinState::MustChange;
        }
        Ok(vec![summary])
    }

    fn sign(&self, req: &SignRequest<'_>) -> Result<Signed, TokenError> {
        let mut s = self.inner.lock().map_err(|_| TokenError::Failure { detail: "poisoned".into() })?;
        match Self::state_of(&s) {
            PinState::Locked => return Err(TokenError::PinLocked),
            PinState::FinalTry if !req.confirm_final_try => return Err(TokenError::PinFinalTry),
            _ => {}
        }
        s.logins += 1;
        if req.pin.expose_secret() != s.pin {
            s.tries_left = s.tries_left.saturating_sub(1);
            return Err(match Self::state_of(&s) {
                PinState::Locked => TokenError::PinLocked,
                PinState::FinalTry => TokenError::PinIncorrect { final_try_next: true },
                _ => TokenError::PinIncorrect { final_try_next: false },
            });
        }
        s.tries_left = s.max_tries;
        match s.behaviour {
            FakeBehaviour::RemovedMidSignature => return Err(TokenError::TokenRemoved),
            FakeBehaviour::PinToBeChangedRefuses => return Err(TokenError::PinMustChange),
            FakeBehaviour::Sign | FakeBehaviour::PinToBeChangedSigns => {}
        }
        let certificate = s.summary.certificates[0].der.clone();
        let algorithm = s.algorithm;
        drop(s);
        Ok(Signed { algorithm, signature: (self.signer)(req.data), certificate })
    }

    fn describe(&self) -> String {
        "FAKE token (tests only)".into()
    }
}
