//! The outbox's encryption at rest: a mail's secrets are sealed together with
//! AES-256-GCM, bound to the mail's Message-ID, and wiped once delivered.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use base64::Engine;
use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use zeroize::Zeroizing;

use super::texts::PASSWORD_PLACEHOLDER;

/// The secrets of one mail, sealed together: placeholder → value. Wiped on drop.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secrets(pub std::collections::BTreeMap<String, String>);

impl Secrets {
    /// From `(placeholder, value)` pairs.
    pub fn from<const N: usize>(pairs: [(String, String); N]) -> Secrets {
        Secrets(pairs.into_iter().collect())
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Drop for Secrets {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.0.values_mut() {
            v.zeroize();
        }
    }
}

/// The key that encrypts temporary passwords in the outbox (AES-256-GCM), and its id
/// (stored with every sealed mail, and once in the database for every server to agree
/// on).
#[derive(Clone)]
pub struct OutboxKey(Arc<LessSafeKey>, Arc<str>, Arc<ring::hmac::Key>);

impl std::fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutboxKey([redacted])")
    }
}

impl OutboxKey {
    /// `BHXH_OUTBOX_KEY` (base64 of 32 bytes) if set, else `<data_dir>/outbox.key`,
    /// created with mode 0600 on first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<OutboxKey> {
        let bytes: Zeroizing<Vec<u8>> = if let Ok(b64) = std::env::var("BHXH_OUTBOX_KEY") {
            Zeroizing::new(base64::engine::general_purpose::STANDARD.decode(b64.trim()).context("BHXH_OUTBOX_KEY")?)
        } else {
            let path = data_dir.join("outbox.key");
            if !path.exists() {
                std::fs::create_dir_all(data_dir)?;
                let mut key = Zeroizing::new(vec![0u8; 32]);
                rand::rngs::OsRng.fill_bytes(&mut key);
                write_private(&path, &key)?;
            }
            Zeroizing::new(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
        };
        OutboxKey::from_bytes(&bytes)
    }

    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<OutboxKey> {
        if bytes.len() != 32 {
            bail!("the outbox key must be 32 bytes");
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("bad outbox key"))?;
        // The id says which key a mail was sealed with and reveals nothing of it: a
        // domain-separated hash, cut to 64 bits.
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(b"bhxh-outbox-key-id/v1\0");
        ctx.update(bytes);
        let digest = ctx.finish();
        let id: String = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
        // A MAC key of its own, derived from the same bytes (never the AES key itself).
        let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes);
        let mac_key = ring::hmac::sign(&derive, b"bhxh-outbox-mac-key/v1");
        let mac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, mac_key.as_ref());
        Ok(OutboxKey(Arc::new(LessSafeKey::new(key)), format!("k1-{id}").into(), Arc::new(mac)))
    }

    /// A keyed hash of `data` for `purpose` (HMAC-SHA-256, hex): what is stored of a value
    /// too short to be hashed plainly (a support code's nine digits), so a copy of the
    /// database alone gives none of them.
    pub fn tag(&self, purpose: &str, data: &str) -> String {
        let mut ctx = ring::hmac::Context::with_key(&self.2);
        ctx.update(purpose.as_bytes());
        ctx.update(b"\0");
        ctx.update(data.as_bytes());
        ctx.sign().as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The key's id (`k1-` and 16 hex digits).
    pub fn id(&self) -> &str {
        &self.1
    }

    /// `nonce ‖ ciphertext ‖ tag`, bound to the mail's Message-ID.
    pub fn seal(&self, message_id: &str, plaintext: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut buf = plaintext.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(message_id.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Seals every secret of a mail at once (a JSON object of placeholder → value).
    pub fn seal_secrets(&self, message_id: &str, secrets: &Secrets) -> anyhow::Result<Vec<u8>> {
        let json = Zeroizing::new(serde_json::to_string(secrets)?);
        self.seal(message_id, &json)
    }

    /// The inverse of [`OutboxKey::seal_secrets`]; a plain sealed string is the password.
    pub fn open_secrets(&self, message_id: &str, sealed: &[u8]) -> anyhow::Result<Secrets> {
        let plain = self.open(message_id, sealed)?;
        Ok(match serde_json::from_str::<Secrets>(&plain) {
            Ok(map) => map,
            Err(_) => Secrets::from([(PASSWORD_PLACEHOLDER.to_string(), plain.to_string())]),
        })
    }

    /// The inverse of [`OutboxKey::seal`].
    pub fn open(&self, message_id: &str, sealed: &[u8]) -> anyhow::Result<Zeroizing<String>> {
        if sealed.len() < NONCE_LEN {
            bail!("sealed secret too short");
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(message_id.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("the outbox secret does not open with this key"))?;
        Ok(Zeroizing::new(String::from_utf8(plain.to_vec()).context("secret is not UTF-8")?))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::mail::texts::{portal_mail, MailFacts, LINK_PLACEHOLDER};

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_message_id() {
        let k = OutboxKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = k.seal("m1@x", "Ab3#defghijkmn").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"Ab3#"));
        assert_eq!(k.open("m1@x", &sealed).unwrap().as_str(), "Ab3#defghijkmn");
        assert!(k.open("m2@x", &sealed).is_err());
        assert!(OutboxKey::from_bytes(&[8u8; 32]).unwrap().open("m1@x", &sealed).is_err());
    }

    #[test]
    fn a_key_id_names_the_key_and_only_it() {
        let a = OutboxKey::from_bytes(&[7u8; 32]).unwrap();
        assert_eq!(a.id(), OutboxKey::from_bytes(&[7u8; 32]).unwrap().id());
        assert_ne!(a.id(), OutboxKey::from_bytes(&[8u8; 32]).unwrap().id());
        assert!(a.id().starts_with("k1-") && a.id().len() == 19, "{}", a.id());
    }

    #[test]
    fn several_secrets_seal_together_and_a_plain_one_is_the_password() {
        let k = OutboxKey::from_bytes(&[7u8; 32]).unwrap();
        let secrets = Secrets::from([
            (PASSWORD_PLACEHOLDER.to_string(), "Ab3#\"def".to_string()),
            (LINK_PLACEHOLDER.to_string(), "https://x/portal/activate?t=abc".to_string()),
        ]);
        let sealed = k.seal_secrets("m@x", &secrets).unwrap();
        assert!(!sealed.windows(3).any(|w| w == b"abc"));
        assert!(k.open_secrets("m@x", &sealed).unwrap() == secrets);
        let legacy = k.seal("m@x", "Ab3#defghijkmn").unwrap();
        assert_eq!(k.open_secrets("m@x", &legacy).unwrap().0[PASSWORD_PLACEHOLDER], "Ab3#defghijkmn");
        let (_, body) =
            portal_mail(&MailFacts { username: "ketoan01", at: 0, reference: "RC-A", hotline: "1" }, 1800, 86_400);
        assert!(body.trim_end().ends_with(LINK_PLACEHOLDER), "the link is at the end of the mail");
    }
}
