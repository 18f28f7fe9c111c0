//! Support codes: what a caller reads out so the desk sees what their app sees.
//!
//! Format `HT-4821-7305-6`: eight random digits and a check digit (Damm's algorithm,
//! which catches every single wrong digit and every swap of two neighbours), digits
//! only so they are said the same in Vietnamese and English. A code lives an hour and is
//! looked up only in the staff console, which limits the lookups; a mistyped code fails
//! its check digit before any lookup.

use std::fmt;

use rand::Rng;

/// Damm's quasigroup of order 10 (weakly totally anti-symmetric).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0, |interim, &d| DAMM[interim as usize][d as usize])
}

/// A support code such as `HT-4821-7305-6`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SupportCode([u8; 9]);

impl SupportCode {
    /// A fresh code from the operating system's CSPRNG.
    pub fn new() -> SupportCode {
        let mut rng = rand::rngs::OsRng;
        let mut d = [0u8; 9];
        for x in d.iter_mut().take(8) {
            *x = rng.gen_range(0..10);
        }
        d[8] = damm(&d[..8]);
        SupportCode(d)
    }

    /// Parses a code as a person types it: the `HT` prefix optional and in any case,
    /// spaces, dashes and dots ignored. `None` unless there are exactly nine digits whose
    /// check digit is right.
    pub fn parse(input: &str) -> Option<SupportCode> {
        let upper = input.trim().to_ascii_uppercase();
        let body = upper.strip_prefix("HT").unwrap_or(&upper);
        let mut d = [0u8; 9];
        let mut n = 0;
        for c in body.chars() {
            match c {
                '0'..='9' if n < 9 => {
                    d[n] = c as u8 - b'0';
                    n += 1;
                }
                ' ' | '-' | '.' => {}
                _ => return None,
            }
        }
        (n == 9 && damm(&d) == 0).then_some(SupportCode(d))
    }

    /// The nine digits, what is hashed for storage.
    pub fn digits(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl Default for SupportCode {
    fn default() -> Self {
        SupportCode::new()
    }
}

impl fmt::Display for SupportCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.digits();
        write!(f, "HT-{}-{}-{}", &d[..4], &d[4..8], &d[8..])
    }
}

/// A code is a bearer of a caller's report for an hour: it is not printed by `Debug`.
impl fmt::Debug for SupportCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SupportCode(HT-…)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_code_reads_back_in_every_way_it_is_typed() {
        for _ in 0..200 {
            let c = SupportCode::new();
            let text = c.to_string();
            assert!(text.starts_with("HT-") && text.len() == 14, "{text}");
            for typed in [text.clone(), text.to_lowercase(), text.replace('-', " "), text[3..].replace('-', "")] {
                assert_eq!(SupportCode::parse(&typed), Some(c.clone()), "{typed}");
            }
        }
    }

    #[test]
    fn the_check_digit_catches_a_wrong_digit_and_a_swap() {
        let c = SupportCode::new();
        let d = c.digits();
        for i in 0..9 {
            for wrong in b'0'..=b'9' {
                let mut b = d.clone().into_bytes();
                if b[i] == wrong {
                    continue;
                }
                b[i] = wrong;
                assert!(SupportCode::parse(std::str::from_utf8(&b).unwrap()).is_none(), "one wrong digit at {i}");
            }
            if i < 8 && d.as_bytes()[i] != d.as_bytes()[i + 1] {
                let mut b = d.clone().into_bytes();
                b.swap(i, i + 1);
                assert!(SupportCode::parse(std::str::from_utf8(&b).unwrap()).is_none(), "a swap at {i}");
            }
        }
        for junk in ["", "HT-", "HT-1234-5678", "RC-7F3K-9Q2M", "HT-1234-5678-90", "HT-12a4-5678-9"] {
            assert!(SupportCode::parse(junk).is_none(), "{junk}");
        }
        assert_eq!(format!("{c:?}"), "SupportCode(HT-…)");
    }
}
