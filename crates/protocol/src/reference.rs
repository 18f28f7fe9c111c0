//! Reference codes: the short code every answer carries and the audit log is keyed by.
//!
//! Format `RC-XXXX-XXXX` over Crockford's base32 alphabet (no I, L, O, U), so a user can
//! read it out on the phone without ambiguity. 40 random bits: collisions are possible
//! in principle, so the audit log never assumes a reference is unique across years.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A reference code such as `RC-7F3K-9Q2M`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reference(String);

impl Reference {
    /// A fresh random reference from the operating system's CSPRNG.
    pub fn new() -> Self {
        let mut rng = rand::rngs::OsRng;
        let mut s = String::with_capacity(12);
        s.push_str("RC-");
        for i in 0..8 {
            if i == 4 {
                s.push('-');
            }
            s.push(ALPHABET[rng.gen_range(0..32)] as char);
        }
        Reference(s)
    }

    /// Parses a reference typed by a person: case-insensitive, `O` read as `0`,
    /// `I`/`L` as `1`, spaces ignored, the `RC-` prefix and dash optional.
    pub fn parse(input: &str) -> Option<Self> {
        let mut body: String = input.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if let Some(rest) = body.strip_prefix("RC-") {
            body = rest.to_string();
        } else if let Some(rest) = body.strip_prefix("RC") {
            body = rest.to_string();
        }
        let chars: Vec<char> = body
            .chars()
            .filter(|c| *c != '-')
            .map(|c| match c {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        if chars.len() != 8 || !chars.iter().all(|c| ALPHABET.contains(&(*c as u8))) {
            return None;
        }
        let a: String = chars[..4].iter().collect();
        let b: String = chars[4..].iter().collect();
        Some(Reference(format!("RC-{a}-{b}")))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Reference {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn fresh_references_have_the_documented_shape_and_parse_back() {
        for _ in 0..1000 {
            let r = Reference::new();
            let s = r.as_str();
            assert_eq!(s.len(), 12);
            assert!(s.starts_with("RC-"));
            assert_eq!(&s[7..8], "-");
            assert_eq!(Reference::parse(s), Some(r.clone()));
        }
    }

    #[test]
    fn parse_forgives_what_people_say_on_the_phone() {
        let want = Reference::parse("RC-7F3K-9Q2M").unwrap();
        assert_eq!(Reference::parse("rc 7f3k 9q2m").unwrap(), want);
        assert_eq!(Reference::parse("7F3K9Q2M").unwrap(), want);
        assert_eq!(Reference::parse("RC-0000-1111"), Reference::parse("rc-oooo-ilil"));
        assert_eq!(Reference::parse("RC-7F3K-9Q2"), None);
        assert_eq!(Reference::parse("RC-7F3K-9Q2U"), None);
    }
}
