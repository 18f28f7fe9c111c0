//! Where the login session lives between runs: the OS keyring (Windows Credential
//! Manager, macOS Keychain, the Linux kernel keyring). Where none is available the
//! client says so (`KEYRING_UNAVAILABLE`) and goes on without remembering.

use std::sync::Mutex;

use bhxh_protocol::{ErrorCode, Secret};
use serde::{Deserialize, Serialize};

use crate::ClientError;

/// A remembered session. Its `Debug` never shows the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    pub username: String,
    pub token: Secret,
    pub must_change_password: bool,
}

/// Keeps a session between runs, by the one rule of every client (app and CLI): every
/// session is kept, a must-change one too. A temporary password works once, so the
/// must-change session it opened is the only way to finish the forced change after the
/// app was closed or the command interrupted; it can do nothing but that change.
pub fn remember(origin: &str, s: &StoredSession) -> Result<(), ClientError> {
    KeyringStore::new(origin).save(s)
}

/// Keeps one session per backend.
pub trait SessionStore: Send + Sync {
    fn save(&self, s: &StoredSession) -> Result<(), ClientError>;
    fn load(&self) -> Result<Option<StoredSession>, ClientError>;
    fn clear(&self) -> Result<(), ClientError>;
}

/// The OS keyring, one entry per backend origin.
#[derive(Debug)]
pub struct KeyringStore {
    origin: String,
}

impl KeyringStore {
    /// The entry `bhxh` / `origin`.
    pub fn new(origin: &str) -> KeyringStore {
        KeyringStore { origin: origin.to_string() }
    }

    fn entry(&self) -> Result<keyring::Entry, ClientError> {
        keyring::Entry::new("bhxh", &self.origin).map_err(unavailable)
    }
}

fn unavailable(e: keyring::Error) -> ClientError {
    ClientError::local(ErrorCode::KeyringUnavailable, e.to_string())
}

impl SessionStore for KeyringStore {
    fn save(&self, s: &StoredSession) -> Result<(), ClientError> {
        let json =
            serde_json::to_string(s).map_err(|e| ClientError::local(ErrorCode::KeyringUnavailable, e.to_string()))?;
        self.entry()?.set_password(&json).map_err(unavailable)
    }

    fn load(&self) -> Result<Option<StoredSession>, ClientError> {
        match self.entry()?.get_password() {
            Ok(json) => Ok(serde_json::from_str(&json).ok()),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn clear(&self) -> Result<(), ClientError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// A store that forgets on exit (when no keyring is available, and in tests).
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<Option<StoredSession>>);

impl SessionStore for MemoryStore {
    fn save(&self, s: &StoredSession) -> Result<(), ClientError> {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(s.clone());
        }
        Ok(())
    }

    fn load(&self) -> Result<Option<StoredSession>, ClientError> {
        Ok(self.0.lock().ok().and_then(|g| g.clone()))
    }

    fn clear(&self) -> Result<(), ClientError> {
        if let Ok(mut g) = self.0.lock() {
            *g = None;
        }
        Ok(())
    }
}
