//! Parsed values: once a `Username`, `Mst` or `Email` exists it is valid, so no code
//! further in has to check again ("parse, don't validate").

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::errors::ErrorCode;

/// Normalises a username as it is hashed and stored: trimmed, lower case, then NFC
/// (in that order, so that normalising twice changes nothing).
pub fn normalize_username(raw: &str) -> String {
    raw.trim().to_lowercase().nfc().collect()
}

/// A name as a desk search matches it: lower case, without diacritics (`đ` as `d`),
/// one space between words; so "Công ty TNHH Thử Nghiệm", "CONG TY TNHH THU NGHIEM"
/// and "công  ty tnhh thử nghiệm" fold alike.
pub fn fold_for_search(raw: &str) -> String {
    let bare: String = raw
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>()
        .to_lowercase();
    bare.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A username of the BHXH e-filing software, normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Longest accepted username, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Normalises and checks: 1–64 characters of letters, digits and `. _ - @`.
    pub fn parse(raw: &str) -> Result<Self, ErrorCode> {
        let s = normalize_username(raw);
        let count = s.chars().count();
        if count == 0 || count > Self::MAX_CHARS {
            return Err(ErrorCode::InvalidUsername);
        }
        if !s.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
            return Err(ErrorCode::InvalidUsername);
        }
        Ok(Username(s))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Vietnamese tax code (mã số thuế): 10 digits, or 10 digits, `-` and 3 digits for a
/// dependent unit (branch).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mst(String);

impl Mst {
    /// Parses `0101234567` or `0101234567-001`; surrounding spaces are ignored.
    pub fn parse(raw: &str) -> Result<Self, ErrorCode> {
        let s = raw.trim();
        let bytes = s.as_bytes();
        let ok = match bytes.len() {
            10 => bytes.iter().all(u8::is_ascii_digit),
            14 => {
                bytes[..10].iter().all(u8::is_ascii_digit)
                    && bytes[10] == b'-'
                    && bytes[11..].iter().all(u8::is_ascii_digit)
            }
            _ => false,
        };
        if ok {
            Ok(Mst(s.to_string()))
        } else {
            Err(ErrorCode::InvalidMst)
        }
    }

    /// The tax code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for a branch code (`…-001`).
    pub fn is_branch(&self) -> bool {
        self.0.len() == 14
    }
}

impl TryFrom<String> for Mst {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Mst::parse(&value)
    }
}

impl From<Mst> for String {
    fn from(value: Mst) -> Self {
        value.0
    }
}

impl fmt::Display for Mst {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, trimmed; the domain is lower-cased. Deliberately permissive
/// beyond `local@domain.tld`: the mail server is the judge of deliverability.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses `local@domain.tld` (no spaces, no angle brackets, at most 254 bytes).
    pub fn parse(raw: &str) -> Result<Self, ErrorCode> {
        let s = raw.trim();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c)) {
            return Err(ErrorCode::InvalidEmail);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(ErrorCode::InvalidEmail)?;
        let labels: Vec<&str> = domain.split('.').collect();
        if local.is_empty()
            || local.len() > 64
            || labels.len() < 2
            || labels.iter().any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return Err(ErrorCode::InvalidEmail);
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with most of it hidden, for showing on screen: `ng***@c***.vn`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let keep = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        let local_keep = if local.chars().count() <= 2 { 1 } else { 2 };
        let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
        format!("{}***@{}***.{}", keep(local, local_keep), keep(host, 1), tld)
    }
}

impl TryFrom<String> for Email {
    type Error = ErrorCode;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shortest password the policy accepts.
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Longest password the policy accepts (argon2 input is bounded on purpose).
pub const PASSWORD_MAX_CHARS: usize = 128;

/// One unmet rule of the password policy, for live feedback as the user types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PasswordRule {
    /// At least [`PASSWORD_MIN_CHARS`] characters.
    MinLength,
    /// At most [`PASSWORD_MAX_CHARS`] characters.
    MaxLength,
    /// Upper-case and lower-case letters.
    MixedCase,
    /// At least one digit.
    Digit,
    /// At least one character that is neither letter nor digit.
    Symbol,
    /// Must not contain the username.
    NotUsername,
}

/// Checks a new long-term password; an empty list means it is acceptable.
pub fn password_policy(password: &str, username: &str) -> Vec<PasswordRule> {
    let mut unmet = Vec::new();
    let count = password.chars().count();
    if count < PASSWORD_MIN_CHARS {
        unmet.push(PasswordRule::MinLength);
    }
    if count > PASSWORD_MAX_CHARS {
        unmet.push(PasswordRule::MaxLength);
    }
    if !(password.chars().any(char::is_uppercase) && password.chars().any(char::is_lowercase)) {
        unmet.push(PasswordRule::MixedCase);
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        unmet.push(PasswordRule::Digit);
    }
    if !password.chars().any(|c| !c.is_alphanumeric()) {
        unmet.push(PasswordRule::Symbol);
    }
    let user = normalize_username(username);
    if user.chars().count() >= 3 && password.to_lowercase().contains(&user) {
        unmet.push(PasswordRule::NotUsername);
    }
    unmet
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_fold_without_case_diacritics_or_extra_spaces() {
        let want = "cong ty tnhh thu nghiem bhxh dong thap";
        for raw in [
            "CÔNG TY TNHH THỬ NGHIỆM BHXH ĐỒNG THÁP",
            "công  ty tnhh thử nghiệm bhxh đồng tháp ",
            "Cong ty TNHH Thu Nghiem BHXH Dong Thap",
        ] {
            assert_eq!(fold_for_search(raw), want, "{raw}");
        }
        // Composed and decomposed input alike.
        assert_eq!(fold_for_search("k\u{0065}\u{0302}\u{0301}"), fold_for_search("kế"));
    }

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(Username::parse("  KeToan.HN ").unwrap().as_str(), "ketoan.hn");
        // "Đ" decomposed (D + combining) is not a thing, but "ế" is: NFD → NFC.
        let nfd = "k\u{0065}\u{0302}\u{0301}toan";
        assert_eq!(Username::parse(nfd).unwrap().as_str(), "kếtoan");
        assert_eq!(Username::parse(""), Err(ErrorCode::InvalidUsername));
        assert_eq!(Username::parse("a b"), Err(ErrorCode::InvalidUsername));
        assert_eq!(Username::parse(&"a".repeat(65)), Err(ErrorCode::InvalidUsername));
    }

    #[test]
    fn mst_forms() {
        assert!(Mst::parse("0101234567").is_ok());
        assert!(Mst::parse("0101234567-001").unwrap().is_branch());
        for bad in ["010123456", "01012345678", "0101234567-01", "0101234567_001", "01012345a7", ""] {
            assert_eq!(Mst::parse(bad), Err(ErrorCode::InvalidMst), "{bad}");
        }
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(Email::parse("nguyen.an@Congty.VN").unwrap().masked(), "ng***@c***.vn");
        assert_eq!(Email::parse("a@b.com").unwrap().masked(), "a***@b***.com");
        for bad in ["", "a", "a@b", "@b.vn", "a b@c.vn", "a@-b.vn", "<a@b.vn>"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_policy_names_each_unmet_rule() {
        assert!(password_policy("Mua-thu-2026", "ketoan").is_empty());
        assert_eq!(password_policy("short1A!", "x"), vec![PasswordRule::MinLength]);
        assert_eq!(password_policy("alllowercase1!", "x"), vec![PasswordRule::MixedCase]);
        assert!(password_policy("KeToan-2026xyz", "ketoan").contains(&PasswordRule::NotUsername));
    }

    proptest! {
        #[test]
        fn mst_parse_accepts_exactly_the_two_forms(s in "[0-9]{10}(-[0-9]{3})?") {
            let m = Mst::parse(&s).unwrap();
            prop_assert_eq!(m.as_str(), s.as_str());
        }

        #[test]
        fn mst_parse_rejects_other_lengths(s in "[0-9]{1,9}|[0-9]{11,13}") {
            prop_assert!(Mst::parse(&s).is_err());
        }

        #[test]
        fn username_normalisation_is_idempotent(s in "\\PC{1,40}") {
            let once = normalize_username(&s);
            prop_assert_eq!(normalize_username(&once), once.clone());
            if let Ok(u) = Username::parse(&s) {
                prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u);
            }
        }

        #[test]
        fn masked_email_never_shows_the_whole_local_part(local in "[a-z0-9.]{3,20}", host in "[a-z]{2,10}") {
            let e = Email::parse(&format!("{local}@{host}.vn")).unwrap();
            let m = e.masked();
            prop_assert!(!m.contains(&local));
            prop_assert!(m.ends_with(".vn"));
        }
    }
}
