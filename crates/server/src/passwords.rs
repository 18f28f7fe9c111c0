//! Passwords and session tokens: generation, argon2id hashing, constant-shape checks.
//!
//! Hashing is CPU- and memory-bound (≈26 ms and 19 MiB a hash here), so it runs on a
//! few dedicated threads, one per core: a burst of logins queues instead of
//! exhausting memory, and each thread reuses its own 19 MiB instead of every thread of
//! a large blocking pool keeping one (measured: 1.3 GB resident under load with
//! `spawn_blocking`, see the load benchmark).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::config::Argon2Config;

/// Characters of a temporary password: no look-alikes (0/O/o, 1/l/I, 5/S, 2/Z, 8/B).
const UPPER: &[u8] = b"ACDEFGHJKMNPQRTUVWXY";
const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
const DIGITS: &[u8] = b"34679";
const SYMBOLS: &[u8] = b"#%+=?@";
/// Length of a temporary password.
pub const TEMP_PASSWORD_LEN: usize = 14;

type Job = Box<dyn FnOnce(&Argon2<'static>, &mut Vec<Block>) + Send>;

/// argon2id with the configured cost, on its own threads.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// A real hash of a random password, verified against when an account does not
    /// exist or has no password, so that answer takes the same time.
    dummy: Arc<String>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher").finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher with the given cost and one thread per core; the threads end when the
    /// last clone of the hasher is dropped. Each thread owns one working area of
    /// `memory_kib` and reuses it for every hash: the allocator never sees a 19 MiB
    /// allocation per request (which glibc kept: 361 MiB after 128 hashes).
    pub fn new(cfg: &Argon2Config) -> anyhow::Result<Hasher> {
        let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut scratch = vec![Block::default(); params.block_count()];
        let dummy = hash_with(&argon2, &mut scratch, &temporary_password())?;
        drop(scratch);
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        for i in 0..threads {
            let rx = rx.clone();
            let argon2 = argon2.clone();
            let blocks = params.block_count();
            std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
                let mut memory = vec![Block::default(); blocks];
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(&argon2, &mut memory),
                        Err(_) => return,
                    }
                }
            })?;
        }
        Ok(Hasher { jobs: tx, dummy: Arc::new(dummy) })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Argon2<'static>, &mut Vec<Block>) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move |a, m| {
                let _ = tx.send(f(a, m));
            }))
            .map_err(|_| anyhow::anyhow!("argon2 threads are gone"))?;
        Ok(rx.await?)
    }

    /// Hashes a password off the async threads.
    pub async fn hash(&self, password: Zeroizing<String>) -> anyhow::Result<String> {
        self.run(move |a, m| hash_with(a, m, &password)).await?
    }

    /// Verifies a password against a stored hash (or against the dummy when `hash` is
    /// `None`, returning false after the same work).
    pub async fn verify(&self, password: Zeroizing<String>, hash: Option<String>) -> anyhow::Result<bool> {
        let (hash, real) = match hash {
            Some(h) => (h, true),
            None => ((*self.dummy).clone(), false),
        };
        let ok = self.run(move |_, m| verify_with(m, &password, &hash)).await?;
        Ok(ok && real)
    }
}

/// `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (PHC string, standard base64 without padding).
fn hash_with(argon2: &Argon2<'_>, memory: &mut [Block], password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let mut out = [0u8; 32];
    argon2
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let p = argon2.params();
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!("$argon2id$v=19$m={},t={},p={}${}${}", p.m_cost(), p.t_cost(), p.p_cost(), b64.encode(salt), b64.encode(out)))
}

/// Recomputes a stored PHC hash's output with its own parameters and compares in
/// constant time. The working area grows (once) if a stored hash is costlier.
fn verify_with(memory: &mut Vec<Block>, password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    if parsed.algorithm.as_str() != "argon2id" {
        return false;
    }
    let (Ok(params), Some(salt), Some(expected)) = (Params::try_from(&parsed), parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    if argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..]).is_err() {
        return false;
    }
    out.iter().zip(expected.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// A fresh temporary password from the OS CSPRNG: 14 characters, at least one of
/// each class (so it meets the long-term policy's character rules), no look-alikes.
pub fn temporary_password() -> String {
    let mut rng = OsRng;
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut chars: Vec<u8> = vec![
        UPPER[rng.gen_range(0..UPPER.len())],
        LOWER[rng.gen_range(0..LOWER.len())],
        DIGITS[rng.gen_range(0..DIGITS.len())],
        SYMBOLS[rng.gen_range(0..SYMBOLS.len())],
    ];
    while chars.len() < TEMP_PASSWORD_LEN {
        chars.push(all[rng.gen_range(0..all.len())]);
    }
    // Fisher–Yates, so the guaranteed classes are not always in front.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.gen_range(0..=i));
    }
    String::from_utf8(chars).unwrap_or_default()
}

/// A new random session token (sent to the client once) and its hash (stored).
pub fn session_token() -> (bhxh_protocol::Secret, String) {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut *bytes);
    let token = bhxh_protocol::Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(*bytes));
    let hash = token_hash(token.expose());
    (token, hash)
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_have_every_class_and_no_look_alikes() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let p = temporary_password();
            assert_eq!(p.chars().count(), TEMP_PASSWORD_LEN);
            assert!(p.bytes().any(|b| UPPER.contains(&b)));
            assert!(p.bytes().any(|b| LOWER.contains(&b)));
            assert!(p.bytes().any(|b| DIGITS.contains(&b)));
            assert!(p.bytes().any(|b| SYMBOLS.contains(&b)));
            assert!(!p.contains(['0', 'O', 'o', '1', 'l', 'I', '5', 'S', '2', 'Z', '8', 'B']));
            assert!(bhxh_protocol::domain::password_policy(&p, "someone").is_empty());
            assert!(seen.insert(p));
        }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = Hasher::new(&Argon2Config::default()).unwrap();
        let hash = h.hash(Zeroizing::new("Mua-thu-2026".into())).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify(Zeroizing::new("Mua-thu-2026".into()), Some(hash.clone())).await.unwrap());
        assert!(!h.verify(Zeroizing::new("mua-thu-2026".into()), Some(hash)).await.unwrap());
        assert!(!h.verify(Zeroizing::new("anything".into()), None).await.unwrap());
        // Interoperable with the reference implementation in both directions.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let ours = h.hash(Zeroizing::new("Mua-thu-2026".into())).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"Mua-thu-2026", &parsed).is_ok());
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19456, 2, 1, None).unwrap())
            .hash_password(b"Dong-chi-2027#", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(h.verify(Zeroizing::new("Dong-chi-2027#".into()), Some(theirs)).await.unwrap());
    }

    #[test]
    fn session_tokens_are_random_and_hashed() {
        let (t1, h1) = session_token();
        let (t2, _) = session_token();
        assert_ne!(t1, t2);
        assert_eq!(h1, token_hash(t1.expose()));
        assert_ne!(h1, t1.expose());
    }
}
