//! `C_GetTokenInfo` read by hand, for modules whose answer `cryptoki` cannot parse.
//!
//! `cryptoki` parses `utcTime` as `YYYYMMDDhhmmss` whenever the token sets
//! `CKF_CLOCK_ON_TOKEN`, and fails the whole call when it is not (opencryptoki's soft
//! token fills it with `hh:mm:ss`-like text; real modules do similar things). The
//! token's flags — its PIN state — would then be lost, and the token with them ("token
//! failure: Error parsing string as integer"). This module asks the same loaded library
//! through its function list and keeps only what we use: the texts and the flags.
//!
//! The only `unsafe` in the project: the FFI call, on the `cryptoki-sys` types of the
//! target (their packing is Windows' 1-byte one on Windows), into a library `cryptoki`
//! has already loaded and initialised.
#![allow(unsafe_code)]

use std::path::Path;

use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, Rv};
use cryptoki_sys::{CK_FUNCTION_LIST, CK_RV, CK_SLOT_ID, CK_TOKEN_INFO};

/// What we read of a token's `CK_TOKEN_INFO`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawTokenInfo {
    pub label: String,
    pub manufacturer: String,
    pub model: String,
    pub serial: String,
    pub flags: u64,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end_matches([' ', '\0']).trim().to_string()
}

/// `C_GetTokenInfo(slot)` of the module at `module` (already initialised by cryptoki).
pub fn token_info(module: &Path, slot: u64) -> Result<RawTokenInfo, CkError> {
    // SAFETY: loading a PKCS#11 module runs its initialisers, as `Pkcs11::new` already
    // did for this very path: the library is loaded once more (a reference count), not
    // initialised again.
    let lib = unsafe { libloading::Library::new(module) }.map_err(CkError::LibraryLoading)?;
    // SAFETY: `C_GetFunctionList` has this signature in every PKCS#11 module.
    let get_list: libloading::Symbol<'_, unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV> =
        unsafe { lib.get(b"C_GetFunctionList\0") }.map_err(CkError::LibraryLoading)?;
    let mut list: *mut CK_FUNCTION_LIST = std::ptr::null_mut();
    // SAFETY: the function writes one pointer to a list it owns.
    check(unsafe { get_list(&mut list) })?;
    if list.is_null() {
        return Err(CkError::NullFunctionPointer);
    }
    // SAFETY: a non-null list from `C_GetFunctionList` lives as long as the library.
    let get_info = unsafe { (*list).C_GetTokenInfo }.ok_or(CkError::NullFunctionPointer)?;
    // SAFETY: CK_TOKEN_INFO is plain data; all-zero is a valid value to be overwritten.
    let mut info: CK_TOKEN_INFO = unsafe { std::mem::zeroed() };
    // SAFETY: the module fills the struct it is given for a slot id it returned.
    check(unsafe { get_info(slot as CK_SLOT_ID, &mut info) })?;
    Ok(RawTokenInfo {
        label: text(&info.label),
        manufacturer: text(&info.manufacturerID),
        model: text(&info.model),
        serial: text(&info.serialNumber),
        flags: info.flags as u64,
    })
}

fn check(rv: CK_RV) -> Result<(), CkError> {
    match Rv::from(rv) {
        Rv::Ok => Ok(()),
        Rv::Error(e) => Err(CkError::Pkcs11(e, Function::GetTokenInfo)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[test]
    fn texts_are_trimmed_of_padding() {
        assert_eq!(super::text(b"bhxh-ock                        "), "bhxh-ock");
        assert_eq!(super::text(b"IBM\0\0\0"), "IBM");
    }
}
