//! Stateless challenges: the challenge id *is* the challenge, sealed (AES-256-GCM, with
//! the outbox key every server of a deployment shares, under its own associated data so
//! a sealed mail secret can never pass for a challenge): nonce, username, purpose,
//! origin, issue and expiry times. Issuing one writes nothing anywhere, so a flood of
//! challenges costs no database write and queues behind no recovery; single use is
//! enforced when it is completed (the `challenges` row is written then, once).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bhxh_protocol::{Purpose, Username};
use serde::{Deserialize, Serialize};

use crate::mail::OutboxKey;
use crate::store::Challenge;

/// What the key seals under: never a mail's Message-ID.
const AAD: &str = "bhxh-challenge/v1";
/// The id's prefix (the format's version).
const PREFIX: &str = "c1.";
/// The sealed text's length (longer only for an origin past 150 characters).
const PADDED: usize = 384;

#[derive(Serialize, Deserialize)]
struct Sealed {
    n: String,
    u: String,
    p: String,
    o: String,
    c: i64,
    e: i64,
    /// An email change's new address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<String>,
}

/// Seals and opens challenges.
#[derive(Clone, Debug)]
pub struct Challenges {
    key: OutboxKey,
}

impl Challenges {
    pub fn new(key: OutboxKey) -> Challenges {
        Challenges { key }
    }

    /// The id that carries `c` (its `id` field is ignored: it is derived from the id).
    pub fn seal(&self, c: &Challenge) -> anyhow::Result<String> {
        let body = Sealed {
            n: c.nonce.clone(),
            u: c.signed_username().to_string(),
            p: c.purpose.as_str().to_string(),
            o: c.origin.clone(),
            c: c.created_at,
            e: c.expires_at,
            m: c.new_email.clone(),
        };
        // Padded to one length, so an id's length says nothing about the username's.
        let mut json = serde_json::to_string(&body)?;
        if json.len() < PADDED {
            json.push_str(&" ".repeat(PADDED - json.len()));
        }
        let sealed = self.key.seal(AAD, &json)?;
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// The challenge an id carries, if this deployment sealed it (anything else —
    /// made up, altered, another key — is `None`). Its `id` is the SHA-256 of the id,
    /// the key of its single use.
    pub fn open(&self, id: &str) -> Option<Challenge> {
        let raw = URL_SAFE_NO_PAD.decode(id.strip_prefix(PREFIX)?.as_bytes()).ok()?;
        let plain = self.key.open(AAD, &raw).ok()?;
        let b: Sealed = serde_json::from_str(&plain).ok()?;
        let purpose = Purpose::parse(&b.p)?;
        let username = match b.u.as_str() {
            "" => None,
            u => Some(Username::parse(u).ok()?),
        };
        Some(Challenge {
            id: crate::verify::fingerprint(id.as_bytes()),
            username,
            purpose,
            nonce: b.n,
            origin: b.o,
            created_at: b.c,
            expires_at: b.e,
            new_email: b.m,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            id: String::new(),
            username: Some(Username::parse("ketoan01").unwrap()),
            purpose: Purpose::PasswordRecovery,
            nonce: "bm9uY2U=".into(),
            origin: "https://reset.example.vn".into(),
            created_at: 100,
            expires_at: 400,
            new_email: None,
        }
    }

    #[test]
    fn a_sealed_challenge_opens_with_the_same_key_only_and_unaltered() {
        let ours = Challenges::new(OutboxKey::from_bytes(&[7; 32]).unwrap());
        let id = ours.seal(&challenge()).unwrap();
        let back = ours.open(&id).unwrap();
        assert_eq!(
            (back.signed_username(), back.purpose, back.nonce.as_str(), back.expires_at),
            ("ketoan01", Purpose::PasswordRecovery, "bm9uY2U=", 400)
        );
        assert_eq!(back.id, crate::verify::fingerprint(id.as_bytes()));
        // Another deployment's key, one flipped character, junk: nothing.
        let theirs = Challenges::new(OutboxKey::from_bytes(&[8; 32]).unwrap());
        assert!(theirs.open(&id).is_none());
        let mut altered = id.clone().into_bytes();
        let i = altered.len() - 5;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        assert!(ours.open(std::str::from_utf8(&altered).unwrap()).is_none());
        for junk in ["", "c1.", "c1.!!!", "abc", "c2.AAAA"] {
            assert!(ours.open(junk).is_none(), "{junk}");
        }
        // An email change carries its address, and its id is no longer than a recovery's.
        let change =
            Challenge { purpose: Purpose::EmailChange, new_email: Some("moi@congty.vn".into()), ..challenge() };
        let sealed = ours.seal(&change).unwrap();
        assert_eq!(ours.open(&sealed).unwrap().new_email.as_deref(), Some("moi@congty.vn"));
        assert_eq!(sealed.len(), id.len());
        // Two seals of one challenge differ (a fresh AEAD nonce each).
        assert_ne!(ours.seal(&challenge()).unwrap(), id);
    }

    #[test]
    fn a_sealed_mail_secret_is_no_challenge() {
        let key = OutboxKey::from_bytes(&[7; 32]).unwrap();
        let json = r#"{"n":"x","u":"","p":"bhxh-password-recovery/v1","o":"o","c":0,"e":9999999999}"#;
        let sealed = key.seal("x@bhxh-reset", json).unwrap();
        assert!(Challenges::new(key).open(&format!("c1.{}", URL_SAFE_NO_PAD.encode(sealed))).is_none());
    }
}
