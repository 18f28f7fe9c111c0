//! Token recovery: `POST /v1/recovery/challenge` and `POST /v1/recovery/complete`
//! (protocol v1 steps 1 and 4), for every purpose (a temporary password, the usernames
//! of the token's MST, a change of the registered email: [`crate::email_change`]).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bhxh_protocol::domain::normalize_username;
use bhxh_protocol::vnid::msts;
use bhxh_protocol::wire::*;
use bhxh_protocol::{ErrorCode, Purpose, Secret, Username};
use rand::RngCore;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::clock::rfc3339;
use crate::config::Delivery;
use crate::context::{ApiError, ApiJson, AppState, Ctx};
use crate::email_change::Settled;
use crate::facts::RevocationFact;
use crate::mail::{self, MailFacts, NoticeKind};
use crate::passwords::{self, Lane};
use crate::store::limits::Hit;
use crate::store::{AuditEvent, Challenge, Counted, Detail, MailKind, ResetWrite};
use crate::verdict::Verified;
use crate::verify::check_signature;

/// The recovery routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(challenge)).routes(routes!(complete)).routes(routes!(check_certificate))
}

crate::refusals!(
    /// What `POST /v1/certificate/check` refuses: a certificate a recovery would refuse,
    /// with the same code.
    CheckRefusals, Json: RateLimited, CertMalformed, CertExpired, CertNotYetValid, CertKeyUsage, CertKeyUnsupported, CertUntrusted, CertWeakSignature, CertExtensionUnsupported, CertPurpose, CertPolicy, CertIssuerInvalid, CertChainInvalid, CertRevoked, CertRevocationUnknown
);
crate::refusals!(
    /// What `POST /v1/recovery/challenge` refuses.
    ChallengeRefusals, Json: InvalidUsername, InvalidEmail, RateLimited
);
crate::refusals!(
    /// What `POST /v1/recovery/complete` refuses: the challenge, the certificate, the
    /// signature, the binding to the account, and for an email change its own limits.
    CompleteRefusals, Json: InvalidUsername, InvalidEmail, RateLimited, ChallengeNotFound, ChallengeUsed,
        ChallengeExpired, ChallengeMismatch, AlgorithmMismatch, SignatureInvalid, CertNotBound, EmailUnchanged,
        EmailChangePaused, ServerBusy, CertMalformed, CertExpired, CertNotYetValid, CertKeyUsage, CertKeyUnsupported, CertUntrusted, CertWeakSignature, CertExtensionUnsupported, CertPurpose, CertPolicy, CertIssuerInvalid, CertChainInvalid, CertRevoked, CertRevocationUnknown
);

/// What a completed proof answers, by its purpose (the document's schema only: the
/// handler writes one of the three).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CompleteAnswer {
    PasswordRecovery(RecoveryComplete),
    UsernameLookup(UsernameLookupComplete),
    EmailChange(EmailChangeStarted),
}

/// Checks a certificate's path and revocation exactly as a recovery would, before the
/// user spends a PIN try on it. No account is looked at; the answer is the same for any
/// caller. Limited per client; every check is an audit line (without a username).
#[utoipa::path(post, path = "/v1/certificate/check", tag = "token",
    summary = "Check a token's certificate before its PIN is asked",
    description = "The certificate's path to the national root and its revocation, exactly as a recovery would check them; no account is looked at.",
    request_body = CertificateCheckRequest,
    responses((status = 200, description = "A recovery would accept this certificate.", body = CertificateCheck), CheckRefusals))]
async fn check_certificate(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<CertificateCheckRequest>,
) -> Result<Json<CertificateCheck>, ApiError> {
    const EVENT: AuditEvent = AuditEvent::CertificateCheck;
    s.limit_client(&ctx, EVENT, None).await?;
    let der = match STANDARD.decode(req.certificate.as_bytes()) {
        Ok(d) if !d.is_empty() => d,
        _ => return Err(s.refuse(&ctx, EVENT, None, ErrorCode::CertMalformed).await),
    };
    let fingerprint = crate::verify::fingerprint(&der);
    let checked = verify_certificate(&s, &der, &req.chain, None, s.clock.now()).await;
    let mut entry = s.audit_entry(&ctx, EVENT, None, checked.as_ref().map(|_| ()).map_err(|r| r.code));
    entry.cert_fingerprint = Some(fingerprint);
    entry.detail = match &checked {
        Ok(c) => Some(Detail::CertificateGood { proven: c.proven() }),
        Err(r) => r.problem.clone().map(|problem| Detail::CertRefused { problem }),
    };
    s.store.audit(&entry).await.map_err(|e| ctx.internal(e))?;
    match checked {
        // In the asker's language, like the errors: the app shows both to its user.
        Ok(c) => Ok(Json(CertificateCheck {
            path: c.checked.path.render(ctx.lang),
            revocation_checked: s.revocation.enabled(),
            revocation: RevocationFact::render_all(&c.revocation, ctx.lang),
            reference: ctx.reference.to_string(),
        })),
        Err(r) => Err(fail_closed(&s, ctx.err(r.code))),
    }
}

/// The certificate checks of a recovery and of the check before the PIN: the `chain`
/// (base64 from the request), then [`crate::verdict::Judge::certificate_verdict`] at `now`.
async fn verify_certificate(
    s: &AppState,
    der: &[u8],
    chain: &[String],
    algorithm: Option<bhxh_protocol::Algorithm>,
    now: i64,
) -> Result<Verified, crate::verify::CertRefusal> {
    let chain = crate::verify::decode_chain(chain)?;
    let judge =
        crate::verdict::Judge { trust: &s.trust, policies: &s.config.required_policies, revocation: &s.revocation };
    let started = std::time::Instant::now();
    let verdict = judge.certificate_verdict(der, &chain, algorithm, now, now).await;
    let outcome = match &verdict {
        Ok(_) => "accepted",
        Err(r) if r.code == ErrorCode::CertRevocationUnknown => "undecided",
        Err(_) => "refused",
    };
    crate::metrics::metrics().verdict_seconds.with_label_values(&[outcome]).observe(started.elapsed().as_secs_f64());
    verdict
}

/// A revocation status that cannot be had is temporary: say when to come back.
fn fail_closed(s: &AppState, mut err: ApiError) -> ApiError {
    if err.code == ErrorCode::CertRevocationUnknown {
        err.retry_after = Some(s.revocation.retry_after_secs());
    }
    err
}

/// Issues a challenge. It does not look the username up at all, so the answer for an
/// unknown username is the same in status, shape and work; and it writes nothing: the
/// id is the sealed challenge ([`crate::challenge`]), the limits are counted in memory.
#[utoipa::path(post, path = "/v1/recovery/challenge", tag = "token",
    summary = "A fresh challenge for the token to sign",
    description = "The same answer whether the username exists or not. The token signs the bytes docs/protocol.md builds from it; the challenge is single use and short-lived.",
    request_body = ChallengeRequest,
    responses((status = 200, description = "The challenge.", body = ChallengeResponse), ChallengeRefusals))]
async fn challenge(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<Json<ChallengeResponse>, ApiError> {
    const EVENT: AuditEvent = AuditEvent::Challenge;
    let username = match req.purpose {
        Purpose::UsernameLookup => None,
        _ => match Username::parse(&req.username) {
            Ok(u) => Some(u),
            Err(code) => return Err(s.refuse(&ctx, EVENT, None, code).await),
        },
    };
    // Only an email change names an address, and it must.
    let new_email = match (req.purpose, &req.new_email) {
        (Purpose::EmailChange, Some(raw)) => match bhxh_protocol::Email::parse(raw) {
            Ok(e) => Some(e.as_str().to_string()),
            Err(code) => return Err(s.refuse(&ctx, EVENT, username.as_ref().map(Username::as_str), code).await),
        },
        (Purpose::EmailChange, None) => {
            return Err(s.refuse(&ctx, EVENT, username.as_ref().map(Username::as_str), ErrorCode::InvalidEmail).await)
        }
        (_, Some(_)) => {
            return Err(s
                .refuse(&ctx, EVENT, username.as_ref().map(Username::as_str), ErrorCode::MalformedRequest)
                .await)
        }
        (_, None) => None,
    };
    let name = username.as_ref().map(Username::as_str);
    s.limit_client(&ctx, EVENT, name).await?;
    if let Some(name) = name {
        s.limit_user(&ctx, EVENT, name).await?;
    }
    let now = s.clock.now();
    let mut nonce = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut c = Challenge {
        id: String::new(),
        username,
        purpose: req.purpose,
        nonce: STANDARD.encode(nonce),
        origin: s.origin.to_string(),
        created_at: now,
        expires_at: now + s.config.challenge_ttl_secs,
        new_email,
    };
    c.id = s.challenges.seal(&c).map_err(|e| ctx.internal(e))?;
    Ok(Json(ChallengeResponse {
        challenge_id: c.id,
        nonce: c.nonce,
        origin: c.origin,
        expires_at: rfc3339(c.expires_at),
        reference: ctx.reference.to_string(),
    }))
}

/// Protocol v1 step 4, as its steps: an [`Attempt`] on a sealed, unused challenge
/// ([`open_attempt`]) verifies into a [`Proof`] ([`Attempt::verify`]: the certificate,
/// then the signature over the bytes the server rebuilds), the proof binds to what it
/// may act on ([`Attempt::bind`]: the MST's usernames, or the one account), and each
/// purpose finishes its own way ([`finish_lookup`], [`crate::email_change::start_by_token`],
/// [`finish_reset`]). The first failure stops it; past the challenge's own checks a
/// failure uses the challenge up and counts against this client.
#[utoipa::path(post, path = "/v1/recovery/complete", tag = "token",
    summary = "The signed challenge: a temporary password, the usernames, or an email change",
    description = "The certificate is checked to the national root with revocation, the signature over the rebuilt bytes, then the binding of the certificate's tax code to the account. The answer's shape follows the purpose.",
    request_body = CompleteRequest,
    responses((status = 200, description = "Done: by purpose, a temporary password emailed (password recovery), the usernames (username lookup) or a confirmation link sent (email change).", body = CompleteAnswer), CompleteRefusals))]
async fn complete(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<CompleteRequest>,
) -> Result<Response, ApiError> {
    let answer = complete_attempt(&s, &ctx, &req).await;
    let code = answer.as_ref().err().map_or("ok", |e| e.code.as_str());
    crate::metrics::metrics().token_proofs.with_label_values(&[req.purpose.as_str(), code]).inc();
    answer
}

async fn complete_attempt(s: &AppState, ctx: &Ctx, req: &CompleteRequest) -> Result<Response, ApiError> {
    let attempt = open_attempt(s, ctx, req).await?;
    let proof = attempt.verify(req).await?;
    let answer = match attempt.bind(&proof).await? {
        Bound::Usernames(usernames) => finish_lookup(&attempt, &proof, usernames).await,
        Bound::Account(account, settled) if attempt.ch.purpose == Purpose::EmailChange => {
            let entry = attempt.success_entry(&proof);
            crate::email_change::start_by_token(s, ctx, settled, &attempt.ch, &account, entry).await
        }
        Bound::Account(account, settled) => finish_reset(&attempt, settled, &proof, &account).await,
    };
    if answer.is_ok() {
        remember_business(s, ctx, &proof).await;
    }
    answer
}

/// The business name a proof's certificate carries, kept for the desk's search by
/// company (only from a proof that succeeded). The user's answer does not wait on it
/// failing: the name is an index for the desk, not part of the recovery.
async fn remember_business(s: &AppState, ctx: &Ctx, proof: &Proof) {
    let name = proof.checked.common_name.trim();
    if name.is_empty() {
        return;
    }
    for mst in msts(&proof.checked.ids) {
        if let Err(e) = s.store.remember_business_name(mst.as_str(), name, s.clock.now()).await {
            tracing::warn!(reference = %ctx.reference, error = %e, "business name not kept");
        }
    }
}

const EVENT: AuditEvent = AuditEvent::Complete;

/// One completion in progress: the challenge it answers, the username it claims, and
/// what its failures are counted under.
struct Attempt<'a> {
    s: &'a AppState,
    ctx: &'a Ctx,
    ch: Challenge,
    /// The username as sent, normalised (empty for a username lookup).
    claimed: String,
    /// Whether this attempt proves an account (every purpose but the lookup): only then
    /// does a failure count against the client and the account.
    proves_account: bool,
}

/// What a valid proof showed: the certificate, checked, and its fingerprint.
struct Proof {
    fingerprint: String,
    checked: Verified,
}

/// What a proof may act on.
enum Bound {
    /// The usernames of the certificate's MSTs (a username lookup).
    Usernames(Vec<String>),
    /// The one account the certificate is bound to, enabled, read after due email
    /// changes were put into effect.
    Account(Box<crate::store::Account>, Settled),
}

/// The challenge's own checks: a username that can be one, the client's limits, a
/// challenge sealed by this deployment, unused, unexpired, for this username and purpose.
async fn open_attempt<'a>(s: &'a AppState, ctx: &'a Ctx, req: &CompleteRequest) -> Result<Attempt<'a>, ApiError> {
    let claimed = normalize_username(&req.username);
    // A name that cannot be a username (it may be 64 KiB: no challenge was issued for
    // it) never becomes a limit key or an audit line's username.
    let lookup = req.purpose == Purpose::UsernameLookup;
    if !(lookup && claimed.is_empty()) && Username::parse(&claimed).is_err() {
        s.limit_client(ctx, EVENT, None).await?;
        let detail = Detail::NotAUsername { bytes: req.username.len() };
        return Err(s.refuse_detail(ctx, EVENT, None, ErrorCode::InvalidUsername, detail).await);
    }
    // The owner's own computer (it logged in or proved the account lately, and failed
    // no proof of it in the window) writes ahead of strangers from the start; anyone
    // else once the proof verified.
    if !lookup && s.is_known_client(ctx, &claimed).await? {
        let key = crate::context::client_failed_proofs_key(&claimed, &ctx.client_key);
        let window = s.config.limits.failed_proofs_window_secs;
        if s.store.limit_count(&key, window, s.clock.now()).await.map_err(|e| ctx.internal(e))? == 0 {
            crate::store::gate::serve_first();
        }
    }
    s.limit_client(ctx, EVENT, Some(&claimed)).await?;
    let Some(ch) = s.challenges.open(&req.challenge_id) else {
        return Err(s.refuse(ctx, EVENT, Some(&claimed), ErrorCode::ChallengeNotFound).await);
    };
    if s.store.challenge_used(&ch.id).await.map_err(|e| ctx.internal(e))? {
        return Err(s.refuse(ctx, EVENT, Some(&claimed), ErrorCode::ChallengeUsed).await);
    }
    let attempt = Attempt { s, ctx, ch, claimed, proves_account: !lookup };
    // A client that failed too many proofs of this account in the window is refused
    // before anything is verified: it earned it. Nobody else is: the owner's valid proof
    // is never refused for other people's failures (theirs only mark the account as
    // under attack). Never a hard lock: the window passes; a proof of ownership clears it.
    if attempt.proves_account {
        let l = &s.config.limits;
        s.check_window(
            ctx,
            &attempt.client_failed_key(),
            l.failed_proofs_per_client,
            l.failed_proofs_window_secs,
            EVENT,
            Some(&attempt.claimed),
            Counted::FailedProofsFromClient,
        )
        .await?;
    }
    if s.clock.now() > attempt.ch.expires_at {
        return Err(attempt.fail(ErrorCode::ChallengeExpired, None, None).await);
    }
    if attempt.ch.signed_username() != attempt.claimed || attempt.ch.purpose != req.purpose {
        return Err(attempt.fail(ErrorCode::ChallengeMismatch, None, None).await);
    }
    Ok(attempt)
}

impl Attempt<'_> {
    fn client_failed_key(&self) -> String {
        crate::context::client_failed_proofs_key(&self.claimed, &self.ctx.client_key)
    }

    /// Ends the attempt with `code`: the challenge is used up and the refusal audited;
    /// past the challenge's own checks it counts as a failed proof of the account, for
    /// this client (which is refused past its limit) and for every client together
    /// (which only marks an attack).
    async fn fail(&self, code: ErrorCode, fingerprint: Option<String>, detail: Option<Detail>) -> ApiError {
        let (s, ctx) = (self.s, self.ctx);
        let mut entry = s.audit_entry(ctx, EVENT, Some(&self.claimed), Err(code));
        entry.cert_fingerprint = fingerprint;
        entry.detail = detail;
        let counts = self.proves_account && !matches!(code, ErrorCode::ChallengeExpired | ErrorCode::ChallengeMismatch);
        let l = &s.config.limits;
        let (client_key, account_key) = (self.client_failed_key(), crate::context::failed_proofs_key(&self.claimed));
        let window = l.failed_proofs_window_secs;
        let hits = [Hit { key: &client_key, window_secs: window }, Hit { key: &account_key, window_secs: window }];
        let hits = if counts { &hits[..] } else { &[] };
        // One write: the challenge used up, the audit line and the two windows' hits.
        match s.store.fail_challenge(&self.ch, code, s.clock.now(), &entry, hits).await {
            Ok(n) => {
                if let Some(all) = n.get(1) {
                    crate::context::identity_counted(ctx, &account_key, *all, l.failed_proofs_per_account);
                }
                fail_closed(s, ctx.err(code))
            }
            Err(e) => ctx.internal(e),
        }
    }

    /// The proof: the certificate (parses, valid now, key usage, key and algorithm,
    /// path, policies, revocation), then the signature over the bytes the server
    /// rebuilds from what it stored — before any binding, so a public certificate (one
    /// is in every signed e-invoice) with a junk signature learns nothing of which
    /// usernames belong to its MST.
    async fn verify(&self, req: &CompleteRequest) -> Result<Proof, ApiError> {
        let cert_der = match STANDARD.decode(req.certificate.as_bytes()) {
            Ok(d) if !d.is_empty() => d,
            _ => return Err(self.fail(ErrorCode::CertMalformed, None, None).await),
        };
        let fingerprint = crate::verify::fingerprint(&cert_der);
        let now = self.s.clock.now();
        let checked = match verify_certificate(self.s, &cert_der, &req.chain, Some(req.algorithm), now).await {
            Ok(c) => c,
            Err(refused) => {
                let detail = refused.problem.map(|problem| Detail::CertRefused { problem });
                return Err(self.fail(refused.code, Some(fingerprint), detail).await);
            }
        };
        let sig_ok = STANDARD
            .decode(req.signature.as_bytes())
            .map_err(|_| ErrorCode::SignatureInvalid)
            .and_then(|sig| check_signature(&cert_der, req.algorithm, &self.ch.signed_data(), &sig));
        if let Err(code) = sig_ok {
            return Err(self.fail(code, Some(fingerprint), None).await);
        }
        // A proof that verified: what follows writes ahead of strangers' failures.
        crate::store::gate::serve_first();
        Ok(Proof { fingerprint, checked })
    }

    /// What the proof may act on (only after it verified): for a lookup, the usernames
    /// of the certificate's MSTs; else the claimed account, if its pinned fingerprint is
    /// the certificate's or, with none pinned, its MST is one of the certificate's.
    async fn bind(&self, proof: &Proof) -> Result<Bound, ApiError> {
        let (s, ctx) = (self.s, self.ctx);
        let cert_msts: Vec<&str> = msts(&proof.checked.ids).map(|m| m.as_str()).collect();
        let cert_owned: Vec<String> = cert_msts.iter().map(|m| m.to_string()).collect();
        if self.ch.purpose == Purpose::UsernameLookup {
            if cert_msts.is_empty() {
                return Err(self.fail(ErrorCode::CertNotBound, Some(proof.fingerprint.clone()), None).await);
            }
            return Ok(Bound::Usernames(self.usernames_of(&cert_msts).await?));
        }
        let refuse = |detail: Option<Detail>| self.not_bound(proof, &cert_msts, detail);
        // A change whose waiting period is over is in effect before anything is mailed.
        let settled = crate::email_change::settle(s).await.map_err(|e| ctx.internal(e))?;
        let account = s.store.account_by_username(&self.claimed).await.map_err(|e| ctx.internal(e))?;
        // The user is told only that the username or the token may be wrong; the staff
        // timeline says which (support may tell a caller who proved nothing less than
        // that, the user learns no more than before).
        let Some(account) = account else {
            return Err(refuse(Some(Detail::NoSuchAccount { cert_msts: cert_owned })).await);
        };
        let bound = match &account.cert_fingerprint {
            Some(pin) => *pin == proof.fingerprint,
            None => cert_msts.contains(&account.mst.as_str()),
        };
        if !bound {
            let why = match &account.cert_fingerprint {
                Some(_) => Detail::PinnedToAnother,
                None => Detail::MstMismatch { cert_msts: cert_owned, account_mst: account.mst.clone() },
            };
            return Err(refuse(Some(why)).await);
        }
        // A disabled account is refused exactly like a certificate of another business;
        // only the audit line says why.
        if account.is_disabled() {
            return Err(refuse(Some(Detail::AccountDisabled)).await);
        }
        Ok(Bound::Account(Box::new(account), settled))
    }

    /// The usernames of the certificate's MSTs (a disabled account is none of them).
    async fn usernames_of(&self, cert_msts: &[&str]) -> Result<Vec<String>, ApiError> {
        let mut names = Vec::new();
        for mst in cert_msts {
            names.extend(self.s.store.usernames_by_mst(mst).await.map_err(|e| self.ctx.internal(e))?);
        }
        Ok(names)
    }

    /// The refusal of a verified proof for the account claimed. It names the accounts
    /// the proof does reach, other than the one claimed (a lookup with the same token
    /// answers the same), so a mistyped username costs one more PIN, not two; every
    /// such refusal carries the list, whatever its reason.
    async fn not_bound(&self, proof: &Proof, cert_msts: &[&str], detail: Option<Detail>) -> ApiError {
        let names = match self.usernames_of(cert_msts).await {
            Ok(names) => names,
            Err(e) => return e,
        };
        let mut err = self.fail(ErrorCode::CertNotBound, Some(proof.fingerprint.clone()), detail).await;
        if err.code == ErrorCode::CertNotBound {
            err.usernames = Some(names.into_iter().filter(|n| *n != self.claimed).collect());
        }
        err
    }

    /// The audit line of a completion that succeeded.
    fn success_entry(&self, proof: &Proof) -> crate::store::AuditEntry {
        let mut entry = self.s.audit_entry(self.ctx, EVENT, Some(&self.claimed), Ok(()));
        entry.cert_fingerprint = Some(proof.fingerprint.clone());
        entry.detail = Some(Detail::Proved {
            purpose: self.ch.purpose,
            proven: proof.checked.proven(),
            new_address: None,
            link_until: None,
            superseded: 0,
        });
        entry
    }
}

/// A username lookup: the challenge used, the usernames answered.
async fn finish_lookup(attempt: &Attempt<'_>, proof: &Proof, usernames: Vec<String>) -> Result<Response, ApiError> {
    let (s, ctx) = (attempt.s, attempt.ctx);
    let won = s
        .store
        .complete_lookup(&attempt.ch, s.clock.now(), &attempt.success_entry(proof))
        .await
        .map_err(|e| ctx.internal(e))?;
    if !won {
        return Err(ctx.err(ErrorCode::ChallengeUsed));
    }
    Ok(Json(UsernameLookupComplete { usernames, reference: ctx.reference.to_string() }).into_response())
}

/// A password recovery: a temporary password, only its hash stored, and its mail (or,
/// shown in the app, a notice) written in the same transaction that uses the challenge;
/// then the owner's own windows end.
async fn finish_reset(
    attempt: &Attempt<'_>,
    settled: Settled,
    proof: &Proof,
    account: &crate::store::Account,
) -> Result<Response, ApiError> {
    let (s, ctx) = (attempt.s, attempt.ctx);
    // A proven owner still gets at most a few password mails a day.
    s.check_reset_mails(ctx, EVENT, account).await?;
    let now = s.clock.now();
    let temp = Zeroizing::new(passwords::temporary_password());
    let temp_hash = s.hasher.hash(Lane::Recovery, temp.clone()).await.map_err(|e| ctx.hashing(e))?;
    let expires = now + s.config.temp_password_ttl_secs;
    let reference = ctx.reference.to_string();
    let facts = MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
    let mail = if s.config.deliver == Delivery::Email {
        let (subject, body) = mail::reset_mail(&facts, expires, &account.email);
        s.mail(settled, account, MailKind::Reset, subject, body, &reference, Some(&temp))
    } else {
        // The password is shown in the app: the registered address learns of the reset
        // by a notice. A mailed password is its own notice: one mail per reset.
        let (subject, body) = mail::notice_mail(&facts, NoticeKind::Reset);
        s.mail(settled, account, MailKind::NoticeReset, subject, body, &reference, None)
    };
    let mails = vec![mail.map_err(|e| ctx.internal(e))?];
    let won = s
        .store
        .complete_reset(ResetWrite {
            challenge: &attempt.ch,
            account_id: account.id,
            temp_hash: &temp_hash,
            temp_expires_at: expires,
            reference: &reference,
            now,
            mails,
            audit: attempt.success_entry(proof),
        })
        .await
        .map_err(|e| ctx.internal(e))?;
    if !won {
        return Err(ctx.err(ErrorCode::ChallengeUsed));
    }
    s.count_reset_mail(account).await.map_err(|e| ctx.internal(e))?;
    // The owner proved it: their own windows of tries end (the emailed password must
    // log in at once, whatever wrong passwords came before).
    s.end_owner_windows(&account.username, Some(&ctx.client_key)).await.map_err(|e| ctx.internal(e))?;
    s.wake.notify_one();
    Ok(Json(RecoveryComplete {
        masked_email: mail::mask_email(&account.email),
        reference,
        password_expires_at: rfc3339(expires),
        delivery: s.config.deliver.as_str().into(),
        temporary_password: (s.config.deliver == Delivery::InApp).then(|| Secret::from(temp.to_string())),
    })
    .into_response())
}
