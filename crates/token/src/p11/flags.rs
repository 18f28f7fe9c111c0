//! A token's info as we use it: its texts, and its PIN flags read into a `PinState`.

use super::*;

/// What we use of a token's info: its texts and PIN flags.
#[derive(Clone, Debug)]
pub(super) struct Info {
    pub(super) label: String,
    pub(super) manufacturer: String,
    pub(super) model: String,
    pub(super) serial: String,
    pub(super) initialized: bool,
    /// `CKF_PROTECTED_AUTHENTICATION_PATH`: the reader has its own keypad.
    pub(super) pin_pad: bool,
    pub(super) pin: PinFlags,
}

/// The token's PIN flags (PKCS#11 gives no retry count, only these).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinFlags {
    pub locked: bool,
    pub final_try: bool,
    pub to_be_changed: bool,
    pub count_low: bool,
}

/// Whether `flags` (a token's flags as `raw` reads them) has the bit `f`. `CK_FLAGS` is
/// a C `unsigned long`: 64 bits here, 32 on Windows, hence the cast.
#[allow(clippy::unnecessary_cast)]
fn has_flag(flags: u64, f: cryptoki_sys::CK_FLAGS) -> bool {
    flags & (f as u64) != 0
}

impl PinFlags {
    fn from_raw(flags: u64) -> PinFlags {
        let has = |f| has_flag(flags, f);
        PinFlags {
            locked: has(cryptoki_sys::CKF_USER_PIN_LOCKED),
            final_try: has(cryptoki_sys::CKF_USER_PIN_FINAL_TRY),
            to_be_changed: has(cryptoki_sys::CKF_USER_PIN_TO_BE_CHANGED),
            count_low: has(cryptoki_sys::CKF_USER_PIN_COUNT_LOW),
        }
    }
}

impl Info {
    pub(super) fn from_cryptoki(info: &TokenInfo) -> Info {
        Info {
            label: info.label().trim().to_string(),
            manufacturer: info.manufacturer_id().trim().to_string(),
            model: info.model().trim().to_string(),
            serial: info.serial_number().trim().to_string(),
            initialized: info.token_initialized(),
            pin_pad: info.protected_authentication_path(),
            pin: PinFlags {
                locked: info.user_pin_locked(),
                final_try: info.user_pin_final_try(),
                to_be_changed: info.user_pin_to_be_changed(),
                count_low: info.user_pin_count_low(),
            },
        }
    }

    pub(super) fn from_raw(raw: crate::raw::RawTokenInfo) -> Info {
        Info {
            label: raw.label,
            manufacturer: raw.manufacturer,
            model: raw.model,
            serial: raw.serial,
            initialized: has_flag(raw.flags, cryptoki_sys::CKF_TOKEN_INITIALIZED),
            pin_pad: has_flag(raw.flags, cryptoki_sys::CKF_PROTECTED_AUTHENTICATION_PATH),
            pin: PinFlags::from_raw(raw.flags),
        }
    }
}

/// The PIN state from the token's flags; the worst flag wins.
pub fn pin_state(flags: PinFlags) -> PinState {
    if flags.locked {
        PinState::Locked
    } else if flags.final_try {
        PinState::FinalTry
    } else if flags.to_be_changed {
        PinState::MustChange
    } else if flags.count_low {
        PinState::CountLow
    } else {
        PinState::Ok
    }
}
