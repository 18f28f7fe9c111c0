//! Changing the registered email when the old address no longer reaches anyone (an
//! employee left). Two ways in, one way through:
//!
//! - **By token** (`bhxh-email-change/v1`): the challenge names the new address, the
//!   token signs it, and [`crate::recovery`] checks the proof exactly as for a recovery
//!   (chain, revocation, MST binding) before [`start_by_token`].
//! - **At the desk** ([`crate::staff`]): an agent records the documents checked and
//!   proposes the address; another staff member, a supervisor, approves.
//!
//! Then: a confirmation link (single use, hashed, 30 minutes) goes to the **new**
//! address → once opened, a notice with a cancel link goes to the **old** address and the
//! change waits (`email_change.wait_secs`, 24 h) → [`settle`] puts it into effect. Until
//! then every recovery still mails the old address. A newer request supersedes an open
//! one; cancelling (old address, staff) or disabling the account ends it. Like the
//! activation link, each link shows a page whose button does the step, so a mail
//! scanner that fetches links changes nothing.

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use bhxh_protocol::wire::EmailChangeStarted;
use bhxh_protocol::{Email, ErrorCode, Lang};
use maud::{html, Markup};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::clock::{rfc3339, vn_time};
use crate::context::mst_limit_prefix;
use crate::context::{user_limit_prefix, ApiError, AppState, Ctx};
use crate::html::{self, tr, LinkQuery};
use crate::mail::{self, ChangeOutcome, MailFacts, ResetVia, Secrets};
use crate::passwords;
use crate::store::{
    Account, Actor, AuditEntry, AuditEvent, Challenge, ChangeState, ChangeVia, Detail, EmailChange, MailKind,
    NewEmailChange, NewMail, Outcome,
};

/// The public pages of the links.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(confirm_page, confirm)).routes(routes!(cancel_page, cancel))
}

crate::refusals!(
    /// What a link's page of an email change says instead of its button.
    LinkRefusals, Html: MalformedRequest, EmailChangeLinkInvalid, EmailChangeLinkExpired, EmailChangeLinkUsed, EmailChangeEnded,
        EmailChangePaused, EmailChangeApplied, RateLimited
);

const DAY: i64 = 24 * 3600;

// Not under the username's own prefix: unlocking an account (staff, `account unlock`)
// clears its retry windows, never its daily email changes. Token and desk requests have
// budgets of their own: someone holding the token cannot spend the desk's, so the desk
// can still propose the real address the same day.
fn account_key(username: &str, via: ChangeVia) -> String {
    format!("email-changes:{via}:{}", user_limit_prefix(username))
}

fn mst_key(mst: &str, via: ChangeVia) -> String {
    format!("email-changes:{via}:{}", mst_limit_prefix(mst))
}

/// Whether `account` (or its MST) has had today's email changes `via` the token or the
/// desk already.
pub(crate) async fn over_limit(s: &AppState, account: &Account, via: ChangeVia) -> anyhow::Result<Option<Detail>> {
    let (now, l) = (s.clock.now(), &s.config.email_change);
    let mine = s.store.limit_count(&account_key(&account.username, via), DAY, now).await?;
    if mine >= i64::from(l.per_account_per_day) {
        return Ok(Some(Detail::EmailChangesToday { count: mine, mst: None, via }));
    }
    let mst = s.store.limit_count(&mst_key(&account.mst, via), DAY, now).await?;
    if mst >= i64::from(l.per_mst_per_day) {
        return Ok(Some(Detail::EmailChangesToday { count: mst, mst: Some(account.mst.clone()), via }));
    }
    Ok(None)
}

/// Counts a request written for `account`.
pub(crate) async fn count(s: &AppState, account: &Account, via: ChangeVia) -> anyhow::Result<()> {
    let now = s.clock.now();
    s.store.hit(&account_key(&account.username, via), DAY, now).await?;
    s.store.hit(&mst_key(&account.mst, via), DAY, now).await?;
    Ok(())
}

/// A fresh link to `path` (the URL, a secret; the hash of its token, what is stored).
/// It opens its page in Vietnamese, the language its mail leads with, whatever the
/// browser's; the page's switch offers English.
fn new_link(s: &AppState, path: &str) -> (Zeroizing<String>, String) {
    let (token, hash) = passwords::session_token();
    (Zeroizing::new(format!("{}{path}?t={}&lang=vi", s.origin, token.expose())), hash)
}

/// A mail for `account` to `to` (which need not be its registered address yet), with
/// `link` sealed until delivery.
#[allow(clippy::too_many_arguments)] // a mail's facts, each its own
fn mail_to(
    s: &AppState,
    settled: Settled,
    account: &Account,
    to: &str,
    kind: MailKind,
    (subject, body): (String, String),
    reference: &str,
    link: Option<&str>,
) -> anyhow::Result<NewMail> {
    let secrets = link.map(|l| Secrets::from([(mail::LINK_PLACEHOLDER.to_string(), l.to_string())]));
    let mut m = s.mail_with(settled, account, kind, subject, body, reference, secrets.as_ref())?;
    m.recipient = to.to_string();
    Ok(m)
}

fn via_of(c: ChangeVia) -> ResetVia {
    match c {
        ChangeVia::Token => ResetVia::Token,
        ChangeVia::Desk => ResetVia::Staff,
    }
}

/// The confirmation mail of a new change to `new_email`, and the hash of its link.
pub(crate) fn confirmation(
    s: &AppState,
    settled: Settled,
    account: &Account,
    new_email: &str,
    via: ChangeVia,
    reference: &str,
    now: i64,
) -> anyhow::Result<(NewMail, String, i64)> {
    let expires = now + s.config.email_change.confirm_ttl_secs;
    let (link, hash) = new_link(s, "/email-change/confirm");
    let facts = MailFacts { username: &account.username, at: now, reference, hotline: &s.config.hotline };
    let text = mail::email_confirm_mail(&facts, &account.email, expires, s.config.email_change.wait_secs, via_of(via));
    Ok((mail_to(s, settled, account, new_email, MailKind::EmailConfirm, text, reference, Some(&link))?, hash, expires))
}

/// Whether two addresses are the same mailbox as the server compares them.
pub(crate) fn same_address(a: &str, b: &str) -> bool {
    let norm = |e: &str| Email::parse(e).map(|e| e.as_str().to_lowercase()).unwrap_or_else(|_| e.trim().to_lowercase());
    norm(a) == norm(b)
}

/// A proven token asks to change `account`'s email to the challenge's address. The
/// challenge is used up with the write; a limit or an unchanged address is refused
/// without using it (the proof was valid).
pub(crate) async fn start_by_token(
    s: &AppState,
    ctx: &Ctx,
    settled: Settled,
    ch: &Challenge,
    account: &Account,
    mut entry: AuditEntry,
) -> Result<Response, ApiError> {
    const EVENT: AuditEvent = AuditEvent::EmailChangeRequest;
    let Some(new_email) = ch.new_email.clone() else {
        return Err(s.refuse(ctx, EVENT, Some(&account.username), ErrorCode::InvalidEmail).await);
    };
    if same_address(&new_email, &account.email) {
        return Err(s.refuse(ctx, EVENT, Some(&account.username), ErrorCode::EmailUnchanged).await);
    }
    // The registered address said no to a change lately: someone else may hold the
    // token, and could otherwise ask again at once and wait for the first notice the
    // owner misses. Until the pause ends, only the desk (documents, four eyes) changes it.
    let pause = s.config.email_change.token_pause_after_cancel_secs;
    let since = s.clock.now() - pause;
    if let Some(at) = s.store.cancelled_by_old_address_since(account.id, since).await.map_err(|e| ctx.internal(e))? {
        let detail = Detail::TokenRequestsPaused { cancelled_at: at, until: at + pause };
        return Err(s.refuse_detail(ctx, EVENT, Some(&account.username), ErrorCode::EmailChangePaused, detail).await);
    }
    if let Some(why) = over_limit(s, account, ChangeVia::Token).await.map_err(|e| ctx.internal(e))? {
        let mut err = s.refuse_detail(ctx, EVENT, Some(&account.username), ErrorCode::RateLimited, why).await;
        err.retry_after = Some(DAY as u64);
        return Err(err);
    }
    let now = s.clock.now();
    let reference = ctx.reference.to_string();
    let (mail, hash, expires) = confirmation(s, settled, account, &new_email, ChangeVia::Token, &reference, now)
        .map_err(|e| ctx.internal(e))?;
    let change = NewEmailChange {
        reference: reference.clone(),
        account_id: account.id,
        old_email: account.email.clone(),
        new_email: new_email.clone(),
        via: ChangeVia::Token,
        state: ChangeState::Confirming,
        confirm_hash: Some(hash),
        confirm_expires_at: Some(expires),
        cert_fingerprint: entry.cert_fingerprint.clone(),
        proposed_by: None,
        verification: None,
        now,
    };
    entry.event = EVENT;
    if let Some(Detail::Proved { new_address, link_until, .. }) = &mut entry.detail {
        *new_address = Some(mail::mask_email(&new_email));
        *link_until = Some(expires);
    }
    match s.store.start_email_change(Some(ch), &change, &[mail], &entry).await.map_err(|e| ctx.internal(e))? {
        Some(_) => {}
        None => return Err(ctx.err(ErrorCode::ChallengeUsed)),
    }
    count(s, account, ChangeVia::Token).await.map_err(|e| ctx.internal(e))?;
    // A proof of ownership ends the owner's own windows of tries, as a recovery does.
    s.end_owner_windows(&account.username, Some(&ctx.client_key)).await.map_err(|e| ctx.internal(e))?;
    s.wake.notify_one();
    Ok(Json(EmailChangeStarted {
        masked_new_email: mail::mask_email(&new_email),
        masked_old_email: mail::mask_email(&account.email),
        confirm_expires_at: rfc3339(expires),
        wait_secs: s.config.email_change.wait_secs.max(0) as u64,
        reference,
    })
    .into_response())
}

/// Proof that [`settle`] ran in this request: every change whose waiting period was over
/// is in effect, so an account read from now on has the registered address it should.
/// Building a mail to an account takes one ([`AppState::mail`], [`mail_to`]): a path
/// that mails cannot forget to settle first.
#[derive(Debug, Clone, Copy)]
pub struct Settled(());

/// Building mails for an account: here, beside [`Settled`], which they take.
impl AppState {
    /// A mail for `account`; `password`, if any, is sealed in the outbox until delivery.
    /// `Settled`: due email changes were put into effect first, so `account` (read after)
    /// has the registered address in effect.
    #[allow(clippy::too_many_arguments)] // a mail's facts, each its own
    pub(crate) fn mail(
        &self,
        settled: Settled,
        account: &Account,
        kind: MailKind,
        subject: String,
        body: String,
        reference: &str,
        password: Option<&str>,
    ) -> anyhow::Result<NewMail> {
        let secrets = password.map(|p| Secrets::from([(mail::PASSWORD_PLACEHOLDER.to_string(), p.to_string())]));
        self.mail_with(settled, account, kind, subject, body, reference, secrets.as_ref())
    }

    /// A mail for `account` whose placeholders are sealed in the outbox until delivery.
    #[allow(clippy::too_many_arguments)] // a mail's facts, each its own
    pub(crate) fn mail_with(
        &self,
        _settled: Settled,
        account: &Account,
        kind: MailKind,
        subject: String,
        body: String,
        reference: &str,
        secrets: Option<&Secrets>,
    ) -> anyhow::Result<NewMail> {
        let message_id = mail::new_message_id();
        let secret = secrets.map(|s| self.outbox_key.seal_secrets(&message_id, s)).transpose()?;
        Ok(NewMail {
            message_id,
            account_id: Some(account.id),
            kind,
            recipient: account.email.clone(),
            subject,
            body,
            key_id: secret.as_ref().map(|_| self.outbox_key.id().to_string()),
            secret,
            reference: reference.into(),
        })
    }
}

/// Puts into effect every confirmed change whose waiting period is over (each with its
/// notice to the new address and an audit line under the change's reference). Called
/// before anything mails an account (its [`Settled`] is what a mail takes), and every
/// `apply_interval_secs`.
pub async fn settle(s: &AppState) -> anyhow::Result<Settled> {
    let now = s.clock.now();
    settle_store(&s.store, &s.clock, s.config.email_change.proposal_ttl_secs).await?;
    let mut applied = 0;
    for c in s.store.due_email_changes(now, 100).await? {
        let Some(account) = s.store.account_by_id(c.account_id).await? else { continue };
        let facts =
            MailFacts { username: &account.username, at: now, reference: &c.reference, hotline: &s.config.hotline };
        let text = mail::email_change_outcome_mail(&facts, &c.new_email, ChangeOutcome::Applied);
        // The notice of the change being put into effect goes to its new address.
        let notice = mail_to(s, Settled(()), &account, &c.new_email, MailKind::NoticeEmail, text, &c.reference, None)?;
        let mut audit =
            AuditEntry::new(c.reference.clone(), now, AuditEvent::EmailChangeApply, Outcome::Ok, Actor::System);
        audit.username = Some(account.username.clone());
        audit.detail = Some(Detail::EmailApplied {
            old: mail::mask_email(&c.old_email),
            new: mail::mask_email(&c.new_email),
            via: c.via,
        });
        if s.store.apply_email_change(&c, now, &[notice], &audit).await? {
            applied += 1;
        }
    }
    if applied > 0 {
        tracing::info!(applied, "email changes put into effect");
        s.wake.notify_one();
    }
    Ok(Settled(()))
}

/// The part of [`settle`] that needs no mail: ends the changes that can never go on
/// (unconfirmed past their link's lifetime, proposals older than `proposal_ttl_secs`).
pub async fn settle_store(
    store: &crate::store::Store,
    clock: &crate::Clock,
    proposal_ttl_secs: i64,
) -> anyhow::Result<u64> {
    let now = clock.now();
    store.expire_email_changes(now, now - proposal_ttl_secs).await
}

/// Cancels an open change (`by`: who, as the audit and the console say it), telling
/// the new address. False when it can no longer be cancelled.
pub(crate) async fn cancel_change(
    s: &AppState,
    settled: Settled,
    c: &EmailChange,
    by: &str,
    reference: &str,
    audit: &AuditEntry,
) -> anyhow::Result<bool> {
    let Some(account) = s.store.account_by_id(c.account_id).await? else { return Ok(false) };
    let now = s.clock.now();
    let facts = MailFacts { username: &account.username, at: now, reference, hotline: &s.config.hotline };
    // Only a change whose new address was proven hears of it (the store decides by the
    // row as it cancels it).
    let text = mail::email_change_outcome_mail(&facts, &c.new_email, ChangeOutcome::Cancelled);
    let notice = mail_to(s, settled, &account, &c.new_email, MailKind::NoticeEmail, text, reference, None)?;
    let done = s.store.cancel_email_change(c.id, by, now, Some(&notice), audit).await?;
    if done {
        s.wake.notify_one();
    }
    Ok(done)
}

// ---- the link pages -------------------------------------------------------------------

/// Which link a page is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Confirm,
    Cancel,
}

impl Link {
    fn path(self) -> &'static str {
        match self {
            Link::Confirm => "/email-change/confirm",
            Link::Cancel => "/email-change/cancel",
        }
    }
    fn event(self) -> AuditEvent {
        match self {
            Link::Confirm => AuditEvent::EmailChangeConfirm,
            Link::Cancel => AuditEvent::EmailChangeCancel,
        }
    }
    fn title(self, lang: Lang) -> &'static str {
        match self {
            Link::Confirm => tr(lang, "Xác nhận email đăng ký mới", "Confirm the new registered email"),
            Link::Cancel => tr(lang, "Hủy việc đổi email đăng ký", "Cancel the email change"),
        }
    }
}

/// What the link would do now: `Ok` with the change it may move, else the refusal.
fn outcome(link: Link, c: Option<&EmailChange>, now: i64) -> Result<(), ErrorCode> {
    let Some(c) = c else { return Err(ErrorCode::EmailChangeLinkInvalid) };
    match (link, c.state) {
        (Link::Confirm, ChangeState::Confirming) if c.confirm_expired(now) => Err(ErrorCode::EmailChangeLinkExpired),
        (Link::Confirm, ChangeState::Expired) => Err(ErrorCode::EmailChangeLinkExpired),
        (Link::Confirm, ChangeState::Confirming) => Ok(()),
        (Link::Confirm, ChangeState::Waiting | ChangeState::Applied) => Err(ErrorCode::EmailChangeLinkUsed),
        (Link::Cancel, ChangeState::Waiting) if c.effective_at.is_some_and(|t| t <= now) => {
            Err(ErrorCode::EmailChangeApplied)
        }
        (Link::Cancel, ChangeState::Waiting) => Ok(()),
        (Link::Cancel, ChangeState::Applied) => Err(ErrorCode::EmailChangeApplied),
        (_, ChangeState::Cancelled | ChangeState::Superseded | ChangeState::Expired) => {
            Err(ErrorCode::EmailChangeEnded)
        }
        _ => Err(ErrorCode::EmailChangeLinkInvalid),
    }
}

fn lang_switch(link: Link, lang: Lang, token: &str) -> Markup {
    html::lang_switch(link.path(), lang, token)
}

fn link_page(link: Link, lang: Lang, status: StatusCode, nav: Markup, body: Markup) -> Response {
    html::page(lang, status, link.title(lang), tr(lang, "BHXH – Email đăng ký", "BHXH – Registered email"), nav, body)
}

fn error_page(link: Link, lang: Lang, hotline: &str, token: &str, code: ErrorCode, reference: &str) -> Response {
    let body = html! {
        section class="card narrow" aria-labelledby="t" {
            h1 id="t" { (link.title(lang)) }
            (html::error_box(lang, code, reference))
            (html::hotline_line(lang, hotline))
        }
    };
    link_page(link, lang, html::status_of(code), lang_switch(link, lang, token), body)
}

/// What a link names: the verdict on it, its change and account, and the proof that due
/// changes were put into effect before they were read.
type Found = (Result<(), ErrorCode>, Option<EmailChange>, Option<Account>, Settled);

/// Reads the change a link names, after putting due changes into effect.
async fn find(s: &AppState, ctx: &Ctx, link: Link, token: &str) -> Result<Found, ApiError> {
    s.limit_client(ctx, link.event(), None).await?;
    let settled = settle(s).await.map_err(|e| ctx.internal(e))?;
    let c = s
        .store
        .email_change_by_link(&passwords::token_hash(token), link == Link::Cancel)
        .await
        .map_err(|e| ctx.internal(e))?;
    let account = match &c {
        Some(c) => s.store.account_by_id(c.account_id).await.map_err(|e| ctx.internal(e))?,
        None => None,
    };
    Ok((outcome(link, c.as_ref(), s.clock.now()), c, account, settled))
}

async fn show(s: AppState, ctx: Ctx, link: Link, q: LinkQuery) -> Response {
    let lang = html::page_lang(ctx.lang, q.lang.as_deref());
    let reference = ctx.reference.to_string();
    let (verdict, change, account, _) = match find(&s, &ctx, link, &q.t).await {
        Ok(r) => r,
        Err(e) => return error_page(link, lang, &s.config.hotline, &q.t, e.code, &reference),
    };
    let (Ok(()), Some(c)) = (verdict, change) else {
        let code = verdict.err().unwrap_or(ErrorCode::EmailChangeLinkInvalid);
        s.refuse(&ctx, link.event(), account.as_ref().map(|a| a.username.as_str()), code).await;
        return error_page(link, lang, &s.config.hotline, &q.t, code, &reference);
    };
    let (old, new) = (mail::mask_email(&c.old_email), mail::mask_email(&c.new_email));
    let wait = mail::wait_text(s.config.email_change.wait_secs);
    let body = match link {
        Link::Confirm => html! {
            section class="card narrow" aria-labelledby="t" {
                h1 id="t" { (link.title(lang)) }
                dl {
                    dt { (tr(lang, "Email hiện tại", "Current email")) } dd { (old) }
                    dt { (tr(lang, "Email mới", "New email")) } dd data-testid="new-email" { (c.new_email) }
                }
                p { (tr(lang, "Nhấn nút dưới đây để xác nhận địa chỉ này. Email hiện tại sẽ được báo và có thể hủy; việc đổi email có hiệu lực sau ", "Press the button below to confirm this address. The current email is told and can cancel; the change takes effect ")) strong { (match lang { Lang::Vi => wait.0.clone(), Lang::En => format!("{} later", wait.1) }) } "." }
                form method="post" action=(link.path()) {
                    input type="hidden" name="t" value=(q.t);
                    input type="hidden" name="lang" value=(lang.as_str());
                    button class="primary" type="submit" data-testid="confirm" { (tr(lang, "Xác nhận email mới", "Confirm the new email")) }
                }
                p class="muted" { (tr(lang, "Không phải bạn yêu cầu? Đừng nhấn nút; email đăng ký giữ nguyên.", "Not you? Do not press the button; the registered email stays as it is.")) }
            }
        },
        Link::Cancel => html! {
            section class="card narrow" aria-labelledby="t" {
                h1 id="t" { (link.title(lang)) }
                dl {
                    dt { (tr(lang, "Email đăng ký", "Registered email")) } dd { (old) }
                    dt { (tr(lang, "Sẽ đổi thành", "To become")) } dd { (new) }
                    dt { (tr(lang, "Có hiệu lực lúc", "Takes effect at")) } dd { (c.effective_at.map(vn_time).unwrap_or_default()) }
                }
                p { (tr(lang, "Nếu doanh nghiệp của bạn không yêu cầu đổi email, nhấn nút dưới đây: email đăng ký sẽ giữ nguyên.", "If your business did not ask for this change, press the button below: the registered email stays as it is.")) }
                form method="post" action=(link.path()) {
                    input type="hidden" name="t" value=(q.t);
                    input type="hidden" name="lang" value=(lang.as_str());
                    button class="danger" type="submit" data-testid="cancel" { (tr(lang, "Hủy việc đổi email", "Cancel the email change")) }
                }
                (html::hotline_line(lang, &s.config.hotline))
            }
        },
    };
    link_page(link, lang, StatusCode::OK, lang_switch(link, lang, &q.t), body)
}

#[utoipa::path(get, path = "/email-change/confirm", tag = "token", summary = "The new address's confirmation link",
    description = "What the link will do and the button that does it (a GET changes nothing).", params(LinkQuery),
    responses((status = 200, description = "The page with its button.", content_type = "text/html; charset=utf-8", body = String), LinkRefusals))]
async fn confirm_page(State(s): State<AppState>, ctx: Ctx, Query(q): Query<LinkQuery>) -> Response {
    show(s, ctx, Link::Confirm, q).await
}

#[utoipa::path(get, path = "/email-change/cancel", tag = "token", summary = "The old address's cancel link",
    description = "What the link will do and the button that does it (a GET changes nothing).", params(LinkQuery),
    responses((status = 200, description = "The page with its button.", content_type = "text/html; charset=utf-8", body = String), LinkRefusals))]
async fn cancel_page(State(s): State<AppState>, ctx: Ctx, Query(q): Query<LinkQuery>) -> Response {
    show(s, ctx, Link::Cancel, q).await
}

/// Does what a link's button asks; the answer page says what happened.
async fn act(s: AppState, ctx: Ctx, link: Link, form: Result<Form<LinkQuery>, FormRejection>) -> Response {
    // Not a form (no body, another type): the page's error, nothing done.
    let Ok(Form(form)) = form else {
        let reference = ctx.reference.to_string();
        return error_page(link, ctx.lang, &s.config.hotline, "", ErrorCode::MalformedRequest, &reference);
    };
    let lang = html::page_lang(ctx.lang, form.lang.as_deref());
    let reference = ctx.reference.to_string();
    let result: Result<Result<EmailChange, (ErrorCode, Option<String>)>, ApiError> = async {
        let (verdict, change, account, settled) = find(&s, &ctx, link, &form.t).await?;
        let username = account.as_ref().map(|a| a.username.clone());
        let (Ok(()), Some(c), Some(account)) = (verdict, change, account) else {
            return Ok(Err((verdict.err().unwrap_or(ErrorCode::EmailChangeLinkInvalid), username)));
        };
        let now = s.clock.now();
        let mut audit = s.audit_entry(&ctx, link.event(), Some(&account.username), Ok(()));
        let moved = match link {
            Link::Confirm => {
                let effective = now + s.config.email_change.wait_secs;
                let (cancel_link, cancel_hash) = new_link(&s, Link::Cancel.path());
                let facts = MailFacts {
                    username: &account.username,
                    at: now,
                    reference: &c.reference,
                    hotline: &s.config.hotline,
                };
                let text = mail::email_change_notice_mail(&facts, &c.new_email, effective, via_of(c.via));
                let notice = mail_to(
                    &s,
                    settled,
                    &account,
                    &c.old_email,
                    MailKind::EmailChangeNotice,
                    text,
                    &c.reference,
                    Some(&cancel_link),
                )
                .map_err(|e| ctx.internal(e))?;
                audit.detail = Some(Detail::EmailConfirmed {
                    new: mail::mask_email(&c.new_email),
                    request: c.reference.clone(),
                    effective,
                });
                let moved = s
                    .store
                    .confirm_email_change(c.id, &cancel_hash, effective, now, &[notice], &audit)
                    .await
                    .map_err(|e| ctx.internal(e))?;
                if moved {
                    s.wake.notify_one();
                }
                moved
            }
            Link::Cancel => {
                audit.detail = Some(Detail::EmailCancelledByOldAddress { request: c.reference.clone() });
                cancel_change(&s, settled, &c, "old address", &c.reference, &audit)
                    .await
                    .map_err(|e| ctx.internal(e))?
            }
        };
        if !moved {
            // Lost a race (another click, the waiting period ended): say what it is now.
            let now_c = s.store.email_change(c.id).await.map_err(|e| ctx.internal(e))?;
            let code = outcome(link, now_c.as_ref(), s.clock.now()).err().unwrap_or(ErrorCode::EmailChangeLinkUsed);
            return Ok(Err((code, Some(account.username))));
        }
        Ok(Ok(s.store.email_change(c.id).await.map_err(|e| ctx.internal(e))?.unwrap_or(c)))
    }
    .await;
    let c = match result {
        Ok(Ok(c)) => c,
        Ok(Err((code, username))) => {
            s.refuse(&ctx, link.event(), username.as_deref(), code).await;
            return error_page(link, lang, &s.config.hotline, &form.t, code, &reference);
        }
        Err(e) => return error_page(link, lang, &s.config.hotline, &form.t, e.code, &reference),
    };
    let body = html! {
        section class="card narrow" aria-labelledby="t" {
            h1 id="t" { (link.title(lang)) }
            @match link {
                Link::Confirm => {
                    div class="notice" role="status" data-testid="confirmed" {
                        p { strong { (tr(lang, "Đã xác nhận email mới.", "The new email is confirmed.")) } }
                        p { (tr(lang, "Email đăng ký sẽ đổi thành địa chỉ này lúc ", "The registered email becomes this address at ")) strong data-testid="effective-at" { (c.effective_at.map(vn_time).unwrap_or_default()) } (tr(lang, " (giờ Việt Nam), nếu không bị hủy từ email cũ.", " (Vietnam time), unless it is cancelled from the old email.")) }
                        p { (tr(lang, "Cho đến lúc đó, thư lấy lại mật khẩu vẫn gửi tới email cũ.", "Until then, password mails still go to the old email.")) }
                    }
                }
                Link::Cancel => {
                    div class="notice" role="status" data-testid="cancelled" {
                        p { strong { (tr(lang, "Đã hủy việc đổi email. Email đăng ký giữ nguyên.", "The email change is cancelled. The registered email stays as it is.")) } }
                        p { (tr(lang, "Nếu doanh nghiệp của bạn không yêu cầu việc này, hãy gọi tổng đài để báo và đổi mật khẩu tài khoản.", "If your business did not ask for this, call the hotline to report it and change the account's password.")) }
                    }
                }
            }
            // The change's own reference, the one its mails give: one event, one code.
            p class="muted" { (tr(lang, "Mã tham chiếu", "Reference")) ": " code data-testid="reference" { (c.reference) } }
            (html::hotline_line(lang, &s.config.hotline))
        }
    };
    link_page(link, lang, StatusCode::OK, html! {}, body)
}

#[utoipa::path(post, path = "/email-change/confirm", tag = "token", summary = "Confirm the new address (the page's button)",
    description = "The change takes effect after the waiting period unless the old address cancels it.",
    request_body(content = LinkQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Confirmed: the page says when the change takes effect.", content_type = "text/html; charset=utf-8", body = String),
        LinkRefusals))]
async fn confirm(State(s): State<AppState>, ctx: Ctx, form: Result<Form<LinkQuery>, FormRejection>) -> Response {
    act(s, ctx, Link::Confirm, form).await
}

#[utoipa::path(post, path = "/email-change/cancel", tag = "token", summary = "Cancel the change (the page's button)",
    request_body(content = LinkQuery, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Cancelled: the registered address stays.", content_type = "text/html; charset=utf-8", body = String),
        LinkRefusals))]
async fn cancel(State(s): State<AppState>, ctx: Ctx, form: Result<Form<LinkQuery>, FormRejection>) -> Response {
    act(s, ctx, Link::Cancel, form).await
}
