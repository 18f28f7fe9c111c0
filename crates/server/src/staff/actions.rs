//! What staff do: unlock an account (clear its rate limits), start a reset for a caller
//! verified by phone, resend a mail. Each needs the session's CSRF token, writes its
//! audit line in the transaction of its change, and redirects to the account page.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use bhxh_protocol::ErrorCode;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::auth::{CsrfForm, Desk, OnAction, StaffError};
use super::redirect;
use crate::context::{user_limit_prefix, AppState};
use crate::mail::{self, MailFacts, ResetVia};
use crate::passwords;
use crate::store::{Account, AuditEvent, Detail, Mail, MailKind, MailStatus, NewMail, Outcome};

/// The account an action is about, as it is now (a change whose wait is over is in
/// effect: the proof of it comes with the account), or the page that says why there is
/// none.
pub(super) async fn account_for(
    s: &AppState,
    desk: &Desk,
    username: &str,
) -> Result<(Account, crate::email_change::Settled), StaffError> {
    let settled = crate::email_change::settle(s).await.map_err(|e| desk.internal(e))?;
    match s.store.account_by_username(username).await {
        Ok(Some(a)) => Ok((a, settled)),
        Ok(None) => Err(desk.error(ErrorCode::AccountNotFound)),
        Err(e) => Err(desk.internal(e)),
    }
}

/// The detail of a resend: which mail, and (once it is sent again) whose event it was.
fn resent(m: &Mail, with_reference: bool) -> Detail {
    Detail::MailResent { id: m.id, mail_kind: m.kind, of: with_reference.then(|| m.reference.clone()) }
}

fn done(username: &str, what: &str, reference: &str) -> Response {
    redirect(&format!("/account/{}?done={what}&r={reference}", crate::html::url_escape(username)))
}

pub(super) async fn unlock(
    State(s): State<AppState>,
    OnAction(desk): OnAction,
    Path(username): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, StaffError> {
    desk.check_csrf(&s, form.as_ref().ok().map(|f| f.csrf.as_str())).await?;
    let (account, _) = account_for(&s, &desk, &username).await?;
    // The windows in the database and this server's in memory (the challenges').
    let prefix = user_limit_prefix(&account.username);
    let cleared = s.store.clear_limits(&prefix).await.map_err(|e| desk.internal(e))?
        + s.memory_limits.clear_prefix(&prefix) as u64;
    let entry = desk.audit(
        &s,
        AuditEvent::StaffUnlock,
        Some(&account.username),
        Some(Detail::LimitsCleared { count: cleared, staff: None }),
    );
    s.store.audit(&entry).await.map_err(|e| desk.internal(e))?;
    Ok(done(&account.username, "unlock", desk.ctx.reference.as_str()))
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    verified: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn start_reset(
    State(s): State<AppState>,
    OnAction(desk): OnAction,
    Path(username): Path<String>,
    form: Result<Form<ResetForm>, FormRejection>,
) -> Result<Response, StaffError> {
    desk.check_csrf(&s, form.as_ref().ok().map(|f| f.csrf.as_str())).await?;
    let Ok(Form(form)) = form else {
        return Err(desk.error(ErrorCode::MalformedRequest));
    };
    let note: String = form.note.trim().chars().filter(|c| !c.is_control()).take(200).collect();
    if form.verified != "yes" || note.is_empty() {
        return Err(desk.error(ErrorCode::MalformedRequest));
    }
    let (account, settled) = account_for(&s, &desk, &username).await?;
    if account.is_disabled() {
        return Err(desk.error(ErrorCode::AccountDisabled));
    }
    let result = async {
        let now = s.clock.now();
        let reference = desk.ctx.reference.to_string();
        let temp = Zeroizing::new(passwords::temporary_password());
        let temp_hash = s.hasher.hash(passwords::Lane::Recovery, temp.clone()).await?;
        let expires = now + s.config.temp_password_ttl_secs;
        let facts =
            MailFacts { username: &account.username, at: now, reference: &reference, hotline: &s.config.hotline };
        let (subject, body) = mail::reset_mail_via(&facts, expires, ResetVia::Staff, &account.email);
        let reset = s.mail(settled, &account, MailKind::Reset, subject, body, &reference, Some(&temp))?;
        let entry = desk.audit(
            &s,
            AuditEvent::StaffReset,
            Some(&account.username),
            Some(Detail::VerifiedByPhone { note: super::words::mask_id_numbers(&note) }),
        );
        s.store.staff_reset(account.id, &temp_hash, expires, &reference, now, &[reset], &entry).await?;
        // The desk checked who called: the owner's own windows of tries end.
        s.end_owner_windows(&account.username, None).await?;
        s.wake.notify_one();
        anyhow::Ok(())
    };
    result.await.map_err(|e| desk.internal(e))?;
    Ok(done(&account.username, "reset", desk.ctx.reference.as_str()))
}

pub(super) async fn resend(
    State(s): State<AppState>,
    OnAction(desk): OnAction,
    Path(id): Path<i64>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, StaffError> {
    desk.check_csrf(&s, form.as_ref().ok().map(|f| f.csrf.as_str())).await?;
    let result = async {
        crate::email_change::settle(&s).await?;
        let Some(m) = s.store.mail(id).await? else { return Ok(Err(ErrorCode::NoMailToResend)) };
        let Some(account_id) = m.account_id else { return Ok(Err(ErrorCode::NoMailToResend)) };
        let Some(account) = s.store.account_by_id(account_id).await? else {
            return Ok(Err(ErrorCode::AccountNotFound));
        };
        desk.about(&account.username);
        if account.is_disabled() {
            return Ok(Err(ErrorCode::AccountDisabled));
        }
        let now = s.clock.now();
        let delivered = m.status != MailStatus::Pending;
        // A mail whose body waits for a sealed secret cannot be rebuilt once delivered
        // (the page offers no button then; a forged request is refused and audited).
        if !m.can_resend() {
            let mut entry = desk.audit(&s, AuditEvent::StaffResend, Some(&account.username), Some(resent(&m, false)));
            entry.outcome = Outcome::Rejected(ErrorCode::MailContentWiped);
            s.store.audit(&entry).await?;
            return Ok(Err(ErrorCode::MailContentWiped));
        }
        let copy = delivered.then(|| NewMail {
            message_id: mail::new_message_id(),
            account_id: Some(account.id),
            kind: m.kind,
            // A notice of an email change was written for the address it went to; every
            // other mail goes to the registered address as it is now.
            recipient: if m.kind == MailKind::NoticeEmail { m.recipient.clone() } else { account.email.clone() },
            subject: m.subject.clone(),
            body: m.body.clone(),
            secret: None,
            key_id: None,
            reference: desk.ctx.reference.to_string(),
        });
        let entry = desk.audit(&s, AuditEvent::StaffResend, Some(&account.username), Some(resent(&m, true)));
        let lease_ms = s.config.outbox.claim_lease_secs.max(1) * 1000;
        if !s.store.resend_mail(id, copy.as_ref(), now, lease_ms, &entry).await? {
            return Ok(Err(ErrorCode::NoMailToResend));
        }
        s.wake.notify_one();
        anyhow::Ok(Ok(account.username))
    };
    match result.await.map_err(|e| desk.internal(e))? {
        Ok(username) => Ok(done(&username, "resend", desk.ctx.reference.as_str())),
        Err(code) => Err(desk.error(code)),
    }
}
