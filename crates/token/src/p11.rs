//! The real token: a vendor's PKCS#11 module through `cryptoki`.
//!
//! Habits the field taught (see DESIGN.md, "Tokens in the field"): the module is
//! initialised once per process and kept; `CKR_USER_ALREADY_LOGGED_IN` is success; a login
//! is never attempted on `FINAL_TRY` without the caller's confirmation; after signing we
//! log out and close the session; a key with `CKA_ALWAYS_AUTHENTICATE` gets a
//! context-specific login after `C_SignInit`; a reader with its own keypad
//! (`CKF_PROTECTED_AUTHENTICATION_PATH`) gets every login without a PIN; a module that
//! answers `CKR_BUFFER_TOO_SMALL` to a buffer of the length it gave is tried
//! [`SIGN_ATTEMPTS`] times in all, never for ever.

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
use cryptoki::types::AuthPin;
use sha2::{Digest, Sha256};

use crate::{CertSummary, PinState, SignRequest, Signed, Token, TokenError, TokenSummary};

/// How many times in all the signing step runs when the module answers
/// `CKR_BUFFER_TOO_SMALL` although the buffer has the length the module itself gave
/// (cryptoki asks for the length first): then a clear failure, never a loop.
pub const SIGN_ATTEMPTS: usize = 3;

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
        let key = canonical(module);
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

    /// The module instance this token signs through, for tests that need a session of
    /// their own beside ours (PKCS#11 login state belongs to the application, so only a
    /// session of this very instance shows what our login and logout did). Not for the
    /// product: it bypasses the one-signature-at-a-time lock.
    #[doc(hidden)]
    pub fn pkcs11(&self) -> &Pkcs11 {
        &self.ctx
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
        self.ctx
            .get_slots_with_token()
            .map_err(map)?
            .into_iter()
            .find(|s| s.id() == slot_id)
            .ok_or(TokenError::TokenRemoved)
    }

    fn certificates(&self, session: &Session) -> Result<Vec<CertSummary>, TokenError> {
        let mut out = Vec::new();
        for obj in session.find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)]).map_err(map)? {
            let attrs = session
                .get_attributes(obj, &[AttributeType::Value, AttributeType::Id, AttributeType::Label])
                .map_err(map)?;
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

mod flags;
use flags::Info;
pub use flags::{pin_state, PinFlags};

impl Pkcs11Token {
    /// The token's info; when `cryptoki` cannot parse the module's answer (a clock
    /// text that is not `YYYYMMDDhhmmss`, as opencryptoki's), read by hand instead.
    fn token_info(&self, slot: Slot) -> Result<Info, TokenError> {
        match self.ctx.get_token_info(slot) {
            Ok(info) => Ok(Info::from_cryptoki(&info)),
            Err(CkError::ParseInt(_) | CkError::Utf8(_)) => {
                crate::raw::token_info(&self.module, slot.id()).map(Info::from_raw).map_err(map)
            }
            Err(e) => Err(map(e)),
        }
    }
}

impl Token for Pkcs11Token {
    fn tokens(&self) -> Result<Vec<TokenSummary>, TokenError> {
        let mut out = Vec::new();
        // One token that cannot be read must not hide the others: it is skipped (and
        // logged); its error is returned only when no token could be read at all.
        let mut first_error = None;
        for slot in self.ctx.get_slots_with_token().map_err(map)? {
            let read = self.token_info(slot).and_then(|info| {
                if !info.initialized {
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
                pin_state: pin_state(info.pin),
                pin_pad: info.pin_pad,
                module: self.module.display().to_string(),
                label: info.label,
                manufacturer: info.manufacturer,
                model: info.model,
                serial: info.serial,
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
        let info = self.token_info(slot)?;
        match pin_state(info.pin) {
            PinState::Locked => return Err(TokenError::PinLocked),
            PinState::FinalTry if !req.confirm_final_try => return Err(TokenError::PinFinalTry),
            _ => {}
        }
        let mut retried = false;
        loop {
            let attempt = self.login_and_sign(slot, req, info.pin_pad);
            let (stage, err) = match attempt {
                Ok(signed) => return Ok(signed),
                Err(failed) => failed,
            };
            // A device or session error while the token is still there is what a vendor
            // tool holding the token causes: one retry with a fresh session where it
            // cannot spend a PIN try the user did not give; then a clear TOKEN_IN_USE.
            let present = self.slot(req.slot_id).is_ok();
            let after = self.token_info(slot).ok().map(|i| pin_state(i.pin));
            match after_conflict(err, stage, after, req.confirm_final_try, retried, present) {
                Next::Retry => {
                    tracing::warn!(
                        slot = req.slot_id,
                        ?stage,
                        "the token answered a device or session error; one retry with a fresh session"
                    );
                    retried = true;
                }
                Next::Fail(e) => return Err(e),
            }
        }
    }

    fn describe(&self) -> String {
        self.module.display().to_string()
    }
}

/// Where a signing attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Opening the session: no PIN was sent.
    OpenSession,
    /// `C_Login`: the PIN was sent, and may have been counted.
    Login,
    /// After the login: finding the key, `C_SignInit`, `C_Sign`.
    Sign,
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Retry,
    Fail(TokenError),
}

/// After an attempt failed with `err` at `stage`: retry once with a fresh session when
/// the error is one a vendor tool holding the token causes (device error, session
/// handle invalid or closed, token not present) and the token is still there, and only
/// where the retry cannot spend a PIN try the user did not give:
/// - opening the session: no PIN was sent — retry;
/// - `C_Login`: the PIN was sent and may have been counted (PKCS#11 says nothing, many
///   modules show no counter) — never retried;
/// - after the login: the retry sends the PIN again, so only if the token's state now
///   (`after`, `None` when it could not be read) still allows a try without asking:
///   not locked, not the final try unless the user confirmed it.
///
/// A second such failure, or one where a retry is not safe, is `TOKEN_IN_USE`.
pub fn after_conflict(
    err: TokenError,
    stage: Stage,
    after: Option<PinState>,
    confirm_final_try: bool,
    retried: bool,
    present: bool,
) -> Next {
    let conflict = matches!(err, TokenError::DeviceError { .. } | TokenError::TokenRemoved);
    if !conflict {
        return Next::Fail(err);
    }
    if !present {
        return Next::Fail(TokenError::TokenRemoved);
    }
    let detail = match &err {
        TokenError::DeviceError { detail } => detail.clone(),
        _ => "the session was closed or became invalid".to_string(),
    };
    let in_use = Next::Fail(TokenError::InUse { detail });
    if retried {
        return in_use;
    }
    match stage {
        Stage::OpenSession => Next::Retry,
        Stage::Login => in_use,
        Stage::Sign => match after {
            Some(PinState::Ok | PinState::CountLow | PinState::MustChange) => Next::Retry,
            Some(PinState::FinalTry) if confirm_final_try => Next::Retry,
            _ => in_use,
        },
    }
}

impl Pkcs11Token {
    /// One attempt: a fresh session, the login, the signature, the logout. On a reader
    /// with its own keypad (`pin_pad`) every login goes without a PIN — the reader asks
    /// for it — so a PIN the request carries, typed on the computer, is never sent.
    fn login_and_sign(&self, slot: Slot, req: &SignRequest<'_>, pin_pad: bool) -> Result<Signed, (Stage, TokenError)> {
        let pin = if pin_pad { None } else { Some(req.pin) };
        let mut session = self.ctx.open_ro_session(slot).map_err(|e| (Stage::OpenSession, map(e)))?;
        match session.login(UserType::User, pin) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                // What the token says now decides what the user is told next.
                let after = self.token_info(slot).map(|i| pin_state(i.pin)).unwrap_or(PinState::Ok);
                return Err((
                    Stage::Login,
                    match after {
                        PinState::Locked => TokenError::PinLocked,
                        PinState::FinalTry => TokenError::PinIncorrect { final_try_next: true },
                        _ => TokenError::PinIncorrect { final_try_next: false },
                    },
                ));
            }
            Err(e) => return Err((Stage::Login, map(e))),
        }
        let result = self.sign_logged_in(&mut session, slot, req, pin).map_err(|e| (Stage::Sign, e));
        // Log out whatever happened (on the session in use: a retry may have replaced
        // the first); the session closes when dropped.
        let _ = session.logout();
        drop(session);
        result
    }

    fn sign_logged_in(
        &self,
        session: &mut Session,
        slot: Slot,
        req: &SignRequest<'_>,
        pin: Option<&AuthPin>,
    ) -> Result<Signed, TokenError> {
        let key = private_key(session, req.cert_id)?;
        let cert_obj = first(
            session
                .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(req.cert_id.to_vec())])
                .map_err(map)?,
        )
        .ok_or(TokenError::NoCertificate)?;
        let certificate = match session.get_attributes(cert_obj, &[AttributeType::Value]).map_err(map)?.pop() {
            Some(Attribute::Value(v)) => v,
            _ => return Err(TokenError::NoCertificate),
        };
        let mut key_type = None;
        let mut always_authenticate = false;
        for a in
            session.get_attributes(key, &[AttributeType::KeyType, AttributeType::AlwaysAuthenticate]).map_err(map)?
        {
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
                    self.sign_bounded(session, slot, req.cert_id, key, |s, key| {
                        sign_with(s, &Mechanism::Sha256RsaPkcs, key, req.data, pin, always_authenticate)
                    })?
                } else {
                    single_part(always_authenticate)?;
                    let mut digest_info = SHA256_DIGEST_INFO.to_vec();
                    digest_info.extend_from_slice(&Sha256::digest(req.data));
                    self.sign_bounded(session, slot, req.cert_id, key, |s, key| {
                        s.sign(&Mechanism::RsaPkcs, key, &digest_info)
                    })?
                };
                (Algorithm::RS256, signature)
            }
            Some(KeyType::EC) => {
                // CKM_ECDSA over SHA-256(data): every ECDSA token has it; the result is
                // raw r ‖ s, which is what ES256 wants.
                single_part(always_authenticate)?;
                let digest = Sha256::digest(req.data);
                let sig = self
                    .sign_bounded(session, slot, req.cert_id, key, |s, key| s.sign(&Mechanism::Ecdsa, key, &digest))?;
                if sig.len() != 64 {
                    return Err(TokenError::Failure {
                        detail: format!("ECDSA signature of {} bytes; P-256 expected", sig.len()),
                    });
                }
                (Algorithm::ES256, sig)
            }
            other => return Err(TokenError::Failure { detail: format!("unsupported key type {other:?}") }),
        };
        Ok(Signed { algorithm, signature, certificate })
    }

    /// Runs the signing step `sign` (`C_SignInit` … `C_Sign` with the key of `cert_id`),
    /// again when the module answers `CKR_BUFFER_TOO_SMALL` although cryptoki gave it a
    /// buffer of the length it announced: [`SIGN_ATTEMPTS`] times in all, then a clear
    /// failure. Such an answer leaves the operation active in the module and cryptoki
    /// cannot resume it, so a retry runs on a new session, opened before the old one is
    /// closed: login state is the token's, so the new session is logged in too (closing
    /// the last session would log out), and the old one takes the stuck operation with
    /// it. `key` is looked up again in the new session.
    fn sign_bounded(
        &self,
        session: &mut Session,
        slot: Slot,
        cert_id: &[u8],
        mut key: ObjectHandle,
        sign: impl Fn(&Session, ObjectHandle) -> Result<Vec<u8>, CkError>,
    ) -> Result<Vec<u8>, TokenError> {
        let mut attempt = 1;
        loop {
            match sign(session, key) {
                Err(CkError::Pkcs11(RvError::BufferTooSmall, function)) => {
                    if attempt >= SIGN_ATTEMPTS {
                        return Err(TokenError::Failure {
                            detail: format!(
                                "{function}: the module answered CKR_BUFFER_TOO_SMALL {attempt} times to a buffer of \
                                 the length it gave; not tried again"
                            ),
                        });
                    }
                    tracing::warn!(
                        attempt,
                        %function,
                        "the module answered CKR_BUFFER_TOO_SMALL to a buffer of the length it gave; retried on a new session"
                    );
                    *session = self.ctx.open_ro_session(slot).map_err(map)?;
                    key = private_key(session, cert_id)?;
                    attempt += 1;
                }
                other => return other.map_err(map),
            }
        }
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

/// The private key with CKA_ID `id` (the certificate's).
fn private_key(session: &Session, id: &[u8]) -> Result<ObjectHandle, TokenError> {
    first(session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(id.to_vec())]).map_err(map)?)
        .ok_or(TokenError::NoCertificate)
}

/// Signs `data` with a hashing mechanism; a key with CKA_ALWAYS_AUTHENTICATE gets its
/// context-specific login with `pin` (`None` on a reader with a keypad).
fn sign_with(
    session: &Session,
    mech: &Mechanism<'_>,
    key: ObjectHandle,
    data: &[u8],
    pin: Option<&AuthPin>,
    always_auth: bool,
) -> Result<Vec<u8>, CkError> {
    if always_auth {
        // Multi-part lets the context-specific login sit between C_SignInit and C_Sign.
        session.sign_init(mech, key)?;
        context_login(session, pin)?;
        session.sign_update(data)?;
        return session.sign_final();
    }
    session.sign(mech, key, data)
}

/// Raw mechanisms (a digest or DigestInfo) are single-part; cryptoki's single-part call
/// leaves no room for the context-specific login, so such a key is refused clearly.
fn single_part(always_auth: bool) -> Result<(), TokenError> {
    if always_auth {
        return Err(TokenError::Failure {
            detail: "this key demands a PIN for every signature (CKA_ALWAYS_AUTHENTICATE) with a single-part mechanism"
                .into(),
        });
    }
    Ok(())
}

fn context_login(session: &Session, pin: Option<&AuthPin>) -> Result<(), CkError> {
    match session.login(UserType::ContextSpecific, pin) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(e) => Err(e),
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
            RvError::DeviceError => TokenError::DeviceError { detail: format!("{function}: DeviceError") },
            other => TokenError::Failure { detail: format!("{function}: {other:?}") },
        },
        other => TokenError::Failure { detail: other.to_string() },
    }
}

mod modules;
pub use modules::{dedupe, LoadedModule, Modules, Skipped};

/// A module's path as one key (so a module is loaded once however it was named), shown
/// as the user knows it: Windows' canonical form `\\?\C:\…` loses its `\\?\`.
fn canonical(path: &Path) -> PathBuf {
    let c = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if cfg!(windows) {
        if let Some(rest) =
            c.to_str().and_then(|s| s.strip_prefix("\\\\?\\")).filter(|r| r.as_bytes().get(1) == Some(&b':'))
        {
            return PathBuf::from(rest);
        }
    }
    c
}
