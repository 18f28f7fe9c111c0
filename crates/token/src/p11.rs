//! The real token: a vendor's PKCS#11 module through `cryptoki`.
//!
//! Habits the field taught (see DESIGN.md, "Tokens in the field"): the module is
//! initialised once per process and kept; `CKR_USER_ALREADY_LOGGED_IN` is success; a login
//! is never attempted on `FINAL_TRY` without the caller's confirmation; after signing we
//! log out and close the session; a key with `CKA_ALWAYS_AUTHENTICATE` gets a
//! context-specific login after `C_SignInit`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use bhxh_protocol::Algorithm;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Slot, TokenInfo};
use sha2::{Digest, Sha256};

use crate::{CertSummary, PinState, SignRequest, Signed, Token, TokenError, TokenSummary};

/// DER prefix of a SHA-256 DigestInfo, for modules without `CKM_SHA256_RSA_PKCS`.
const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

/// A loaded PKCS#11 module.
#[derive(Clone)]
pub struct Pkcs11Token {
    ctx: Arc<Pkcs11>,
    module: PathBuf,
    /// PKCS#11 login state belongs to the token for the whole process (every session
    /// shares it): one signer's logout would log another out mid-signature. Login →
    /// sign → logout therefore runs one at a time per module.
    signing: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Pkcs11Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Token").field("module", &self.module).finish()
    }
}

/// Modules are loaded and initialised once per process (C_Initialize twice is an error,
/// and C_Finalize under another user of the module would pull the rug).
type Loaded = (Arc<Pkcs11>, Arc<Mutex<()>>);

fn loaded() -> &'static Mutex<HashMap<PathBuf, Loaded>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, Loaded>>> = OnceLock::new();
    LOADED.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Pkcs11Token {
    /// Loads and initialises the module at `module` (once per process).
    pub fn open(module: &Path) -> Result<Pkcs11Token, TokenError> {
        let key = module.canonicalize().unwrap_or_else(|_| module.to_path_buf());
        let mut cache = loaded().lock().map_err(|_| TokenError::Failure { detail: "module cache poisoned".into() })?;
        if let Some((ctx, signing)) = cache.get(&key) {
            return Ok(Pkcs11Token { ctx: ctx.clone(), module: key, signing: signing.clone() });
        }
        let load_failed = |detail: String| TokenError::ModuleLoadFailed { module: key.clone(), detail };
        let ctx = Pkcs11::new(&key).map_err(|e| load_failed(e.to_string()))?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(load_failed(e.to_string())),
        }
        let (ctx, signing) = (Arc::new(ctx), Arc::new(Mutex::new(())));
        cache.insert(key.clone(), (ctx.clone(), signing.clone()));
        Ok(Pkcs11Token { ctx, module: key, signing })
    }

    /// The module's path.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The library's own description, for diagnostics.
    pub fn library_info(&self) -> Result<String, TokenError> {
        let info = self.ctx.get_library_info().map_err(map)?;
        Ok(format!(
            "{} {} ({}.{})",
            info.manufacturer_id().trim(),
            info.library_description().trim(),
            info.library_version().major(),
            info.library_version().minor()
        ))
    }

    fn slot(&self, slot_id: u64) -> Result<Slot, TokenError> {
        self.ctx.get_slots_with_token().map_err(map)?.into_iter().find(|s| s.id() == slot_id).ok_or(TokenError::TokenRemoved)
    }

    fn certificates(&self, session: &Session) -> Result<Vec<CertSummary>, TokenError> {
        let mut out = Vec::new();
        for obj in session.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)]).map_err(map)? {
            let attrs = session.get_attributes(obj, &[AttributeType::Value, AttributeType::Id, AttributeType::Label]).map_err(map)?;
            let (mut der, mut id, mut label) = (Vec::new(), Vec::new(), String::new());
            for a in attrs {
                match a {
                    Attribute::Value(v) => der = v,
                    Attribute::Id(v) => id = v,
                    Attribute::Label(v) => label = String::from_utf8_lossy(&v).into_owned(),
                    _ => {}
                }
            }
            // The CA certificates a VN token also carries sign nothing: not offered.
            let is_ca = x509_parser::prelude::FromDer::from_der(&der)
                .is_ok_and(|(_, c): (_, x509_parser::prelude::X509Certificate<'_>)| c.is_ca());
            if is_ca {
                continue;
            }
            if let Some(c) = CertSummary::from_der(&der, &id, &label) {
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// The PIN state from the token's flags; the worst flag wins.
pub fn pin_state(info: &TokenInfo) -> PinState {
    if info.user_pin_locked() {
        PinState::Locked
    } else if info.user_pin_final_try() {
        PinState::FinalTry
    } else if info.user_pin_to_be_changed() {
        PinState::MustChange
    } else if info.user_pin_count_low() {
        PinState::CountLow
    } else {
        PinState::Ok
    }
}

impl Token for Pkcs11Token {
    fn tokens(&self) -> Result<Vec<TokenSummary>, TokenError> {
        let mut out = Vec::new();
        // One token that cannot be read must not hide the others: it is skipped (and
        // logged); its error is returned only when no token could be read at all.
        let mut first_error = None;
        for slot in self.ctx.get_slots_with_token().map_err(map)? {
            let read = self.ctx.get_token_info(slot).map_err(map).and_then(|info| {
                if !info.token_initialized() {
                    return Ok(None);
                }
                let session = self.ctx.open_ro_session(slot).map_err(map)?;
                Ok(Some((info, self.certificates(&session)?, ca_certificates(&session)?)))
            });
            let (info, certificates, ca_certificates) = match read {
                Ok(Some(read)) => read,
                Ok(None) => continue,
                // Pulled out between listing and asking: not there any more.
                Err(TokenError::TokenRemoved) => continue,
                Err(e) => {
                    tracing::warn!(slot = slot.id(), error = %e, "a token could not be read; skipped");
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            out.push(TokenSummary {
                slot_id: slot.id(),
                label: info.label().trim().to_string(),
                manufacturer: info.manufacturer_id().trim().to_string(),
                model: info.model().trim().to_string(),
                serial: info.serial_number().trim().to_string(),
                pin_state: pin_state(&info),
                certificates,
                ca_certificates,
            });
        }
        match first_error {
            Some(e) if out.is_empty() => Err(e),
            _ => Ok(out),
        }
    }

    fn sign(&self, req: &SignRequest<'_>) -> Result<Signed, TokenError> {
        // A poisoned lock only means another signature panicked; the token is still fine.
        let _one_at_a_time = self.signing.lock().unwrap_or_else(|p| p.into_inner());
        let slot = self.slot(req.slot_id)?;
        let info = self.ctx.get_token_info(slot).map_err(map)?;
        match pin_state(&info) {
            PinState::Locked => return Err(TokenError::PinLocked),
            PinState::FinalTry if !req.confirm_final_try => return Err(TokenError::PinFinalTry),
            _ => {}
        }
        let session = self.ctx.open_ro_session(slot).map_err(map)?;
        match session.login(UserType::User, Some(req.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                // What the token says now decides what the user is told next.
                let after = self.ctx.get_token_info(slot).map(|i| pin_state(&i)).unwrap_or(PinState::Ok);
                return Err(match after {
                    PinState::Locked => TokenError::PinLocked,
                    PinState::FinalTry => TokenError::PinIncorrect { final_try_next: true },
                    _ => TokenError::PinIncorrect { final_try_next: false },
                });
            }
            Err(e) => return Err(map(e)),
        }
        let result = self.sign_logged_in(&session, slot, req);
        // Log out whatever happened; the session closes when dropped.
        let _ = session.logout();
        drop(session);
        result
    }

    fn describe(&self) -> String {
        self.module.display().to_string()
    }
}

impl Pkcs11Token {
    fn sign_logged_in(&self, session: &Session, slot: Slot, req: &SignRequest<'_>) -> Result<Signed, TokenError> {
        let id = req.cert_id.to_vec();
        let key = first(session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(id.clone())]).map_err(map)?)
            .ok_or(TokenError::NoCertificate)?;
        let cert_obj = first(session.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(id)]).map_err(map)?)
            .ok_or(TokenError::NoCertificate)?;
        let certificate = match session.get_attributes(cert_obj, &[AttributeType::Value]).map_err(map)?.pop() {
            Some(Attribute::Value(v)) => v,
            _ => return Err(TokenError::NoCertificate),
        };
        let mut key_type = None;
        let mut always_authenticate = false;
        for a in session.get_attributes(key, &[AttributeType::KeyType, AttributeType::AlwaysAuthenticate]).map_err(map)? {
            match a {
                Attribute::KeyType(k) => key_type = Some(k),
                Attribute::AlwaysAuthenticate(b) => always_authenticate = b,
                _ => {}
            }
        }
        let mechanisms = self.ctx.get_mechanism_list(slot).map_err(map)?;
        let (algorithm, signature) = match key_type {
            Some(KeyType::RSA) => {
                let signature = if mechanisms.contains(&MechanismType::SHA256_RSA_PKCS) {
                    sign_with(session, &Mechanism::Sha256RsaPkcs, key, req, always_authenticate)?
                } else {
                    let mut digest_info = SHA256_DIGEST_INFO.to_vec();
                    digest_info.extend_from_slice(&Sha256::digest(req.data));
                    sign_raw(session, &Mechanism::RsaPkcs, key, &digest_info, always_authenticate)?
                };
                (Algorithm::RS256, signature)
            }
            Some(KeyType::EC) => {
                // CKM_ECDSA over SHA-256(data): every ECDSA token has it; the result is
                // raw r ‖ s, which is what ES256 wants.
                let digest = Sha256::digest(req.data);
                let sig = sign_raw(session, &Mechanism::Ecdsa, key, &digest, always_authenticate)?;
                if sig.len() != 64 {
                    return Err(TokenError::Failure { detail: format!("ECDSA signature of {} bytes; P-256 expected", sig.len()) });
                }
                (Algorithm::ES256, sig)
            }
            other => return Err(TokenError::Failure { detail: format!("unsupported key type {other:?}") }),
        };
        Ok(Signed { algorithm, signature, certificate })
    }
}

/// The CA certificates on the token (the CA's intermediates, which VN CA tokens carry).
fn ca_certificates(session: &Session) -> Result<Vec<Vec<u8>>, TokenError> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let mut out = Vec::new();
    for obj in session.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)]).map_err(map)? {
        if let Some(Attribute::Value(der)) = session.get_attributes(obj, &[AttributeType::Value]).map_err(map)?.pop() {
            let is_ca = X509Certificate::from_der(&der).is_ok_and(|(_, c)| c.is_ca());
            if is_ca && !out.contains(&der) && out.len() < crate::MAX_CA_CERTIFICATES {
                out.push(der);
            }
        }
    }
    Ok(out)
}

fn first(v: Vec<ObjectHandle>) -> Option<ObjectHandle> {
    v.into_iter().next()
}

/// Signs `req.data` with a hashing mechanism.
fn sign_with(session: &Session, mech: &Mechanism<'_>, key: ObjectHandle, req: &SignRequest<'_>, always_auth: bool) -> Result<Vec<u8>, TokenError> {
    if always_auth {
        // Multi-part lets the context-specific login sit between C_SignInit and C_Sign.
        session.sign_init(mech, key).map_err(map)?;
        context_login(session, req)?;
        session.sign_update(req.data).map_err(map)?;
        return session.sign_final().map_err(map);
    }
    session.sign(mech, key, req.data).map_err(map)
}

/// Signs prepared bytes (a digest or DigestInfo) with a raw mechanism.
fn sign_raw(session: &Session, mech: &Mechanism<'_>, key: ObjectHandle, input: &[u8], always_auth: bool) -> Result<Vec<u8>, TokenError> {
    if always_auth {
        // Raw mechanisms are single-part; cryptoki's single-part call leaves no room for
        // the context-specific login, so such a key is refused clearly.
        return Err(TokenError::Failure {
            detail: "this key demands a PIN for every signature (CKA_ALWAYS_AUTHENTICATE) with a single-part mechanism".into(),
        });
    }
    session.sign(mech, key, input).map_err(map)
}

fn context_login(session: &Session, req: &SignRequest<'_>) -> Result<(), TokenError> {
    match session.login(UserType::ContextSpecific, Some(req.pin)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => Err(map(e)),
    }
}

/// The one place PKCS#11 errors become [`TokenError`]s.
pub fn map(e: CkError) -> TokenError {
    match e {
        CkError::LibraryLoading(e) => TokenError::ModuleLoadFailed { module: PathBuf::new(), detail: e.to_string() },
        CkError::Pkcs11(rv, function) => match rv {
            RvError::PinIncorrect => TokenError::PinIncorrect { final_try_next: false },
            RvError::PinLocked => TokenError::PinLocked,
            RvError::PinExpired => TokenError::PinMustChange,
            RvError::PinLenRange | RvError::PinInvalid => TokenError::PinInvalid,
            RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::SlotIdInvalid => TokenError::TokenRemoved,
            other => TokenError::Failure { detail: format!("{function}: {other:?}") },
        },
        other => TokenError::Failure { detail: other.to_string() },
    }
}
