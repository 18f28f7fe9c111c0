//! The to-be-signed data of protocol v1: the only place these bytes are built.
//!
//! `data = SHA256(purpose) ‖ SHA256(origin) ‖ SHA256(username) ‖ SHA256(nonce)`,
//! 128 bytes (an email change appends `‖ SHA256(new_email)`: [`signed_data`]), after Web eID's `hash(origin) ‖ hash(nonce)` with purpose and username
//! added. The token hashes `data` once more as part of `CKM_SHA256_RSA_PKCS` or ECDSA
//! P-256/SHA-256; the client never signs a digest the server chose.

use sha2::{Digest, Sha256};

use crate::domain::normalize_username;
use crate::wire::Purpose;

/// Length of the to-be-signed data.
pub const TBS_LEN: usize = 128;

/// Builds the 128 bytes the token signs.
///
/// * `origin`: `scheme://host[:port]` of the backend exactly as the client reached it.
/// * `username`: as typed; it is normalised here (NFC, trimmed, lower case).
/// * `nonce`: the 44-character base64 text exactly as received, hashed as UTF-8 text,
///   not decoded (as in Web eID).
pub fn to_be_signed(purpose: Purpose, origin: &str, username: &str, nonce: &str) -> [u8; TBS_LEN] {
    let mut out = [0u8; TBS_LEN];
    let username = normalize_username(username);
    for (i, part) in [purpose.as_str(), origin, username.as_str(), nonce].iter().enumerate() {
        out[i * 32..(i + 1) * 32].copy_from_slice(&Sha256::digest(part.as_bytes()));
    }
    out
}

/// Length of the signed data of [`Purpose::EmailChange`].
pub const EMAIL_CHANGE_TBS_LEN: usize = TBS_LEN + 32;

/// What the token signs for a challenge of `purpose`: [`to_be_signed`], and for
/// [`Purpose::EmailChange`] `‖ SHA256(new_email)` (160 bytes), the address as
/// [`crate::Email::parse`] normalises it (trimmed, domain in lower case). `new_email`
/// is ignored for the other purposes.
pub fn signed_data(purpose: Purpose, origin: &str, username: &str, nonce: &str, new_email: Option<&str>) -> Vec<u8> {
    let mut out = to_be_signed(purpose, origin, username, nonce).to_vec();
    if purpose == Purpose::EmailChange {
        let raw = new_email.unwrap_or_default();
        let email = crate::Email::parse(raw).map(|e| e.as_str().to_string()).unwrap_or_else(|_| raw.trim().to_string());
        out.extend_from_slice(&Sha256::digest(email.as_bytes()));
    }
    out
}

/// Normalises an origin the way both sides compare it: lower-case scheme and host,
/// default ports dropped, no path and no trailing slash. `None` when `url` is not an
/// `http` or `https` origin.
pub fn normalize_origin(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority).to_string();
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised() {
        assert_eq!(normalize_origin("https://Reset.Example.VN/").as_deref(), Some("https://reset.example.vn"));
        assert_eq!(normalize_origin("https://a.vn:443/v1").as_deref(), Some("https://a.vn"));
        assert_eq!(normalize_origin("http://127.0.0.1:8080").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(normalize_origin("ftp://a.vn"), None);
        assert_eq!(normalize_origin("https://user@a.vn"), None);
        assert_eq!(normalize_origin("a.vn"), None);
    }

    #[test]
    fn each_part_changes_the_data() {
        let base = to_be_signed(Purpose::PasswordRecovery, "https://a.vn", "user", "n");
        assert_ne!(base, to_be_signed(Purpose::UsernameLookup, "https://a.vn", "user", "n"));
        assert_ne!(base, to_be_signed(Purpose::PasswordRecovery, "https://b.vn", "user", "n"));
        assert_ne!(base, to_be_signed(Purpose::PasswordRecovery, "https://a.vn", "user2", "n"));
        assert_ne!(base, to_be_signed(Purpose::PasswordRecovery, "https://a.vn", "user", "m"));
        assert_eq!(base, to_be_signed(Purpose::PasswordRecovery, "https://a.vn", "  USER ", "n"));
    }

    #[test]
    fn an_email_change_signs_for_one_address() {
        let a = signed_data(Purpose::EmailChange, "https://a.vn", "user", "n", Some("moi@congty.vn"));
        assert_eq!(a.len(), EMAIL_CHANGE_TBS_LEN);
        assert_eq!(&a[..TBS_LEN], &to_be_signed(Purpose::EmailChange, "https://a.vn", "user", "n"));
        assert_eq!(a, signed_data(Purpose::EmailChange, "https://a.vn", "user", "n", Some(" moi@CongTy.VN ")));
        assert_ne!(a, signed_data(Purpose::EmailChange, "https://a.vn", "user", "n", Some("ke@congty.vn")));
        let r = signed_data(Purpose::PasswordRecovery, "https://a.vn", "user", "n", Some("moi@congty.vn"));
        assert_eq!(r, to_be_signed(Purpose::PasswordRecovery, "https://a.vn", "user", "n").to_vec());
    }
}
