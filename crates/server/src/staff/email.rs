//! Changing the registered email at the desk, after the documents are checked (the
//! hotline path of the seed): an agent records what was checked — the registrant's
//! CCCD/CMND as its type and last 4 digits only, the business licence number, the letter
//! of authorisation and the authorised person's name when someone else calls, the
//! caller's phone — and proposes the new address; a second staff member, a supervisor,
//! approves it (four eyes: never the proposer). Then the change goes the way a token's
//! does ([`crate::email_change`]): a confirmation link to the new address, a notice with
//! a cancel link to the old one, the waiting period. Staff can cancel any open change.
//!
//! Also the console's view of open changes: on the account page and at `/email-changes`.

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use bhxh_protocol::{Email, ErrorCode, Lang};
use maud::{html, Markup};
use serde::Deserialize;

use super::auth::{Desk, OnAction, OnPage, StaffError};
use super::words::mask_id_numbers;
use super::{redirect, reference_label};
use crate::clock::vn_time;
use crate::context::AppState;
use crate::email_change;
use crate::html::tr;
use crate::store::{Account, AuditEvent, ChangeState, ChangeVia, Detail, EmailChange, NewEmailChange, StaffRole};

/// What a state is called, with the time that matters for it.
fn state_text(lang: Lang, c: &EmailChange, now: i64) -> (String, &'static str) {
    let left = |t: i64| {
        let m = ((t - now).max(0) + 59) / 60;
        match lang {
            Lang::Vi if m >= 60 => format!("còn {} giờ {} phút", m / 60, m % 60),
            Lang::Vi => format!("còn {m} phút"),
            Lang::En if m >= 60 => format!("{} h {} min left", m / 60, m % 60),
            Lang::En => format!("{m} min left"),
        }
    };
    match c.state {
        ChangeState::Proposed => {
            (tr(lang, "chờ người giám sát phê duyệt", "waiting for a supervisor").into(), "proposed")
        }
        ChangeState::Confirming if c.confirm_expired(now) => (
            tr(lang, "email mới không xác nhận (link đã hết hạn)", "the new address never confirmed (link expired)")
                .into(),
            "expired",
        ),
        ChangeState::Confirming => (
            format!(
                "{} ({})",
                tr(lang, "chờ email mới xác nhận", "waiting for the new address to confirm"),
                c.confirm_expires_at.map(left).unwrap_or_default()
            ),
            "confirming",
        ),
        ChangeState::Waiting => (
            format!(
                "{} {} ({})",
                tr(lang, "đã xác nhận, có hiệu lực lúc", "confirmed, takes effect at"),
                c.effective_at.map(vn_time).unwrap_or_default(),
                c.effective_at.map(left).unwrap_or_default()
            ),
            "waiting",
        ),
        ChangeState::Applied => (
            format!(
                "{} {}",
                tr(lang, "đã có hiệu lực lúc", "in effect since"),
                c.ended_at.map(vn_time).unwrap_or_default()
            ),
            "applied",
        ),
        ChangeState::Cancelled => (
            format!(
                "{} {} ({})",
                tr(lang, "đã hủy lúc", "cancelled at"),
                c.ended_at.map(vn_time).unwrap_or_default(),
                c.ended_by.as_deref().unwrap_or("")
            ),
            "cancelled",
        ),
        ChangeState::Superseded => {
            (tr(lang, "được thay bằng yêu cầu mới hơn", "replaced by a newer request").into(), "superseded")
        }
        ChangeState::Expired => (
            tr(
                lang,
                "hết hạn (email mới không xác nhận, hoặc chưa được phê duyệt)",
                "expired (not confirmed, or never approved)",
            )
            .into(),
            "expired",
        ),
    }
}

fn via_text(lang: Lang, c: &EmailChange) -> String {
    match c.via {
        ChangeVia::Token => tr(lang, "token (chữ ký số)", "token (digital signature)").into(),
        ChangeVia::Desk => format!(
            "{}: {} {}{}",
            tr(lang, "bàn hỗ trợ", "support desk"),
            tr(lang, "đề xuất", "proposed by"),
            c.proposed_by.as_deref().unwrap_or("?"),
            c.approved_by
                .as_ref()
                .map(|a| format!(", {} {a}", tr(lang, "phê duyệt", "approved by")))
                .unwrap_or_default()
        ),
    }
}

/// The actions on one change this member may take.
fn change_actions(lang: Lang, csrf: &str, role: StaffRole, me: &str, c: &EmailChange, now: i64) -> Markup {
    html! {
        @if c.state == ChangeState::Proposed && role == StaffRole::Supervisor && c.proposed_by.as_deref() != Some(me) {
            form method="post" action={ "/email-change/" (c.id) "/approve" } {
                input type="hidden" name="csrf" value=(csrf);
                button class="primary" type="submit" data-testid={ "approve-" (c.id) } { (tr(lang, "Phê duyệt", "Approve")) }
            }
        }
        @if c.is_live(now) {
            form method="post" action={ "/email-change/" (c.id) "/cancel" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="text" name="reason" maxlength="200" required aria-label=(tr(lang, "Lý do hủy", "Reason to cancel"))
                    placeholder=(tr(lang, "Lý do hủy", "Reason to cancel"));
                button class="danger" type="submit" data-testid={ "cancel-" (c.id) } { (tr(lang, "Hủy yêu cầu", "Cancel it")) }
            }
        }
    }
}

fn changes_table(
    lang: Lang,
    csrf: &str,
    role: StaffRole,
    me: &str,
    changes: &[(EmailChange, Option<String>)],
    now: i64,
) -> Markup {
    html! {
        table data-testid="email-changes" {
            thead { tr {
                @if changes.iter().any(|(_, u)| u.is_some()) { th { (tr(lang, "Tài khoản", "Account")) } }
                th { (tr(lang, "Từ", "From")) }
                th { (tr(lang, "Sang", "To")) }
                th { (tr(lang, "Cách yêu cầu", "Asked for by")) }
                th { (tr(lang, "Trạng thái", "State")) }
                th { (reference_label(lang)) }
                th {}
            } }
            tbody {
                @for (c, username) in changes {
                    @let (state, key) = state_text(lang, c, now);
                    tr data-change=(c.id) data-state=(key) {
                        @if let Some(u) = username { td { a href={ "/account/" (u) } { (u) } } }
                        td { (c.old_email) }
                        td { (c.new_email) }
                        td { (via_text(lang, c)) @if let Some(v) = &c.verification { br; span class="muted" { (v) } } }
                        td data-testid="change-state" { (state) }
                        td { code { (c.reference) } }
                        td { (change_actions(lang, csrf, role, me, c, now)) }
                    }
                }
            }
        }
    }
}

/// The account page's section: its changes and the form an agent records documents in.
pub(super) async fn section(
    s: &AppState,
    lang: Lang,
    csrf: &str,
    role: StaffRole,
    me: &str,
    a: &Account,
) -> anyhow::Result<Markup> {
    let now = s.clock.now();
    let changes: Vec<(EmailChange, Option<String>)> =
        s.store.email_changes_of(a.id, 10).await?.into_iter().map(|c| (c, None)).collect();
    let u = &a.username;
    Ok(html! {
        section class="card" aria-labelledby="ec" {
            h2 id="ec" { (tr(lang, "Đổi email đăng ký", "Change the registered email")) }
            @if changes.is_empty() {
                p class="muted" { (tr(lang, "Chưa có yêu cầu đổi email nào.", "No email change yet.")) }
            } @else {
                (changes_table(lang, csrf, role, me, &changes, now))
            }
            @if let Some((open, _)) = changes.iter().find(|(c, _)| matches!(c.state, ChangeState::Confirming | ChangeState::Waiting)) {
                div class="error" role="status" data-testid="pending-change" {
                    p { strong { (tr(lang, "Tài khoản đang có một yêu cầu đổi email chưa xong", "The account has an email change under way")) } ": "
                        (open.old_email) " → " (open.new_email) " (" (open.reference) ")" }
                    p { (tr(
                        lang,
                        "Một đề xuất mới không dừng yêu cầu này; chỉ khi được phê duyệt, đề xuất mới mới thay thế nó. Hãy hỏi người gọi về yêu cầu này trước.",
                        "A new proposal does not stop it; only once approved does a proposal replace it. Ask the caller about this change first."
                    )) }
                }
            }
            @if !a.is_disabled() {
                details class="fold" data-testid="propose-fold" {
                summary { (tr(lang, "Đề xuất email mới (khi email đăng ký không còn dùng được)…", "Propose a new email (when the registered one no longer works)…")) }
                form method="post" action={ "/account/" (u) "/email-change" } data-testid="propose-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    p { (tr(
                        lang,
                        "Khi email đăng ký không còn dùng được (người phụ trách đã nghỉ việc): kiểm tra giấy tờ, ghi lại dưới đây và đề xuất email mới. Một nhân viên giám sát khác phải phê duyệt; sau đó email mới nhận link xác nhận và email cũ được báo, có thể hủy.",
                        "When the registered email no longer works (the person in charge left): check the documents, record them below and propose the new address. Another staff member, a supervisor, must approve; then the new address gets a confirmation link and the old one is told and can cancel."
                    )) }
                    div class="row" {
                        div {
                            label for="id_type" { (tr(lang, "Giấy tờ của người đăng ký", "Registrant's ID")) }
                            select id="id_type" name="id_type" required {
                                option value="CCCD" { "CCCD" }
                                option value="CMND" { "CMND" }
                            }
                        }
                        div {
                            label for="id_last4" { (tr(lang, "4 số cuối (không ghi cả số)", "Last 4 digits (never the whole number)")) }
                            input type="text" id="id_last4" name="id_last4" inputmode="numeric" pattern="[0-9]{4}" maxlength="4" required autocomplete="off";
                        }
                        div {
                            label for="licence" { (tr(lang, "Số giấy phép kinh doanh", "Business licence number")) }
                            input type="text" id="licence" name="licence" maxlength="40" required value=(a.mst);
                        }
                    }
                    label { input type="radio" name="caller" value="registrant" required; " " (tr(lang, "Người gọi là người đăng ký", "The caller is the registrant")) }
                    label { input type="radio" name="caller" value="authorised"; " " (tr(lang, "Người gọi được ủy quyền (có giấy ủy quyền bản gốc)", "The caller is authorised (original letter of authorisation)")) }
                    div class="row" {
                        div {
                            label for="authorised_name" { (tr(lang, "Họ tên người được ủy quyền", "Authorised person's name")) }
                            input type="text" id="authorised_name" name="authorised_name" maxlength="80";
                        }
                        div {
                            label for="phone" { (tr(lang, "Số điện thoại người gọi", "Caller's phone")) }
                            input type="text" id="phone" name="phone" inputmode="tel" maxlength="20" required;
                        }
                        div {
                            label for="new_email" { (tr(lang, "Email mới", "New email")) }
                            input type="email" id="new_email" name="new_email" maxlength="254" required;
                        }
                    }
                    p { button type="submit" data-testid="propose" { (tr(lang, "Ghi nhận và đề xuất", "Record and propose")) } }
                }
                }
            }
        }
    })
}

/// `GET /email-changes`: every open change, with the time left.
pub(super) async fn list_page(State(s): State<AppState>, OnPage(desk): OnPage) -> Result<Response, StaffError> {
    let lang = desk.lang;
    let result = async {
        email_change::settle(&s).await?;
        let mut rows = Vec::new();
        for c in s.store.open_email_changes(200).await? {
            let username = s.store.account_by_id(c.account_id).await?.map(|a| a.username);
            rows.push((c, Some(username.unwrap_or_default())));
        }
        anyhow::Ok(rows)
    };
    let rows = result.await.map_err(|e| desk.internal(e))?;
    let now = s.clock.now();
    let body = html! {
        section class="card" aria-labelledby="t" {
            h1 id="t" { (tr(lang, "Yêu cầu đổi email đang mở", "Open email changes")) }
            @if rows.is_empty() {
                p class="muted" data-testid="no-changes" { (tr(lang, "Không có yêu cầu nào đang mở.", "No open change.")) }
            } @else {
                (changes_table(lang, &desk.who.csrf, desk.who.staff.role, &desk.who.staff.username, &rows, now))
            }
        }
    };
    Ok(desk.page(tr(lang, "Đổi email", "Email changes"), body))
}

#[derive(Deserialize)]
pub(super) struct ProposeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id_type: String,
    #[serde(default)]
    id_last4: String,
    #[serde(default)]
    licence: String,
    #[serde(default)]
    caller: String,
    #[serde(default)]
    authorised_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    new_email: String,
}

fn clean(s: &str, max: usize) -> String {
    s.trim().chars().filter(|c| !c.is_control()).take(max).collect()
}

/// A Vietnamese phone number as typed (spaces, dots, dashes allowed): `0` and 9 digits,
/// or `+84`/`84` and 9 digits; kept as `0…`. Anything else (a CCCD typed here) is `None`.
fn vn_phone(typed: &str) -> Option<String> {
    let t = typed.trim();
    let plus = t.starts_with('+');
    if !t.chars().all(|c| c.is_ascii_digit() || " .-+".contains(c)) || t.matches('+').count() > usize::from(plus) {
        return None;
    }
    let d: String = t.chars().filter(char::is_ascii_digit).collect();
    match (d.len(), d.strip_prefix("84"), d.strip_prefix('0')) {
        (11, Some(rest), _) if !rest.starts_with('0') => Some(format!("0{rest}")),
        (10, _, Some(rest)) if !plus && !rest.starts_with('0') => Some(d),
        _ => None,
    }
}

/// Whether `text` holds a run of exactly 9 or 12 digits (a CMND or CCCD number).
fn holds_id_number(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 9 || run.len() == 12)
}

/// The documents as the record keeps them (of the ID, its type and last 4 digits).
fn verification(f: &ProposeForm) -> Result<String, ErrorCode> {
    let id_type = match f.id_type.as_str() {
        "CCCD" | "CMND" => f.id_type.as_str(),
        _ => return Err(ErrorCode::StaffDocumentsMissing),
    };
    let digits: String = f.id_last4.chars().filter(char::is_ascii_digit).collect();
    // Exactly four digits: a whole number typed here is refused, never kept.
    if digits.len() != 4 || f.id_last4.trim().len() != 4 {
        return Err(ErrorCode::StaffDocumentsMissing);
    }
    let licence = clean(&f.licence, 40);
    let phone = vn_phone(&f.phone).ok_or(ErrorCode::StaffDocumentsMissing)?;
    // Nor in any other field: a run of 9 or 12 digits is a CMND or CCCD number.
    if licence.is_empty() || holds_id_number(&licence) || holds_id_number(&f.authorised_name) {
        return Err(ErrorCode::StaffDocumentsMissing);
    }
    let caller = match f.caller.as_str() {
        "registrant" => "người gọi là người đăng ký / caller: the registrant".to_string(),
        "authorised" => {
            let name = clean(&f.authorised_name, 80);
            if name.is_empty() {
                return Err(ErrorCode::StaffDocumentsMissing);
            }
            format!("người được ủy quyền / authorised: {name} (giấy ủy quyền bản gốc / original letter)")
        }
        _ => return Err(ErrorCode::StaffDocumentsMissing),
    };
    Ok(format!("{id_type} ****{digits} · GPKD / licence {licence} · {caller} · SĐT / phone {phone}"))
}

fn back(username: &str, what: &str, reference: &str) -> Response {
    redirect(&format!("/account/{}?done={what}&r={reference}", crate::html::url_escape(username)))
}

/// `POST /account/{username}/email-change`: an agent (or supervisor) records the
/// documents and proposes the new address.
pub(super) async fn propose(
    State(s): State<AppState>,
    OnAction(desk): OnAction,
    Path(username): Path<String>,
    form: Result<Form<ProposeForm>, FormRejection>,
) -> Result<Response, StaffError> {
    desk.check_csrf(&s, form.as_ref().ok().map(|f| f.csrf.as_str())).await?;
    let Ok(Form(form)) = form else {
        return Err(desk.error(ErrorCode::MalformedRequest));
    };
    let (account, _) = super::actions::account_for(&s, &desk, &username).await?;
    if account.is_disabled() {
        return Err(desk.error(ErrorCode::AccountDisabled));
    }
    let refused = |code: ErrorCode, detail: Detail| {
        let mut entry = desk.audit(&s, AuditEvent::StaffEmailPropose, Some(&account.username), Some(detail));
        entry.outcome = crate::store::Outcome::Rejected(code);
        entry
    };
    let verification = match verification(&form) {
        Ok(v) => v,
        Err(code) => {
            s.store
                .audit(&refused(code, Detail::EmailProposalRefused { documents_missing: true }))
                .await
                .map_err(|e| desk.internal(e))?;
            return Err(desk.error(code));
        }
    };
    let new_email = match Email::parse(&form.new_email) {
        Ok(e) if email_change::same_address(e.as_str(), &account.email) => Err(ErrorCode::EmailUnchanged),
        Ok(e) => Ok(e.as_str().to_string()),
        Err(code) => Err(code),
    };
    let new_email = match new_email {
        Ok(e) => e,
        Err(code) => {
            s.store
                .audit(&refused(code, Detail::EmailProposalRefused { documents_missing: false }))
                .await
                .map_err(|e| desk.internal(e))?;
            return Err(desk.error(code));
        }
    };
    if let Some(why) = email_change::over_limit(&s, &account, ChangeVia::Desk).await.map_err(|e| desk.internal(e))? {
        s.store.audit(&refused(ErrorCode::RateLimited, why)).await.map_err(|e| desk.internal(e))?;
        return Err(desk.error(ErrorCode::RateLimited));
    }
    let now = s.clock.now();
    let reference = desk.ctx.reference.to_string();
    let change = NewEmailChange {
        reference: reference.clone(),
        account_id: account.id,
        old_email: account.email.clone(),
        new_email: new_email.clone(),
        via: ChangeVia::Desk,
        state: ChangeState::Proposed,
        confirm_hash: None,
        confirm_expires_at: None,
        cert_fingerprint: None,
        proposed_by: Some(desk.who.staff.username.clone()),
        verification: Some(verification.clone()),
        now,
    };
    let entry = desk.audit(
        &s,
        AuditEvent::StaffEmailPropose,
        Some(&account.username),
        Some(Detail::EmailProposed { new: new_email.clone(), documents: verification.to_string() }),
    );
    s.store.start_email_change(None, &change, &[], &entry).await.map_err(|e| desk.internal(e))?;
    email_change::count(&s, &account, ChangeVia::Desk).await.map_err(|e| desk.internal(e))?;
    Ok(back(&account.username, "email-proposed", &reference))
}

/// The change an action is about, with its account.
async fn change_for(s: &AppState, desk: &Desk, id: i64) -> Result<(EmailChange, Account), StaffError> {
    let c = s
        .store
        .email_change(id)
        .await
        .map_err(|e| desk.internal(e))?
        .ok_or_else(|| desk.error(ErrorCode::EmailChangeLinkInvalid))?;
    let a = s
        .store
        .account_by_id(c.account_id)
        .await
        .map_err(|e| desk.internal(e))?
        .ok_or_else(|| desk.error(ErrorCode::AccountNotFound))?;
    desk.about(&a.username);
    Ok((c, a))
}

/// `POST /email-change/{id}/approve`: a supervisor other than the proposer approves;
/// the confirmation link goes to the new address.
pub(super) async fn approve(
    State(s): State<AppState>,
    OnAction(desk): OnAction,
    Path(id): Path<i64>,
    form: Result<Form<super::auth::CsrfForm>, FormRejection>,
) -> Result<Response, StaffError> {
    desk.check_csrf(&s, form.as_ref().ok().map(|f| f.csrf.as_str())).await?;
    // The confirmation mail names the registered address in effect (a change whose wait
    // is over is applied first).
    let settled = email_change::settle(&s).await.map_err(|e| desk.internal(e))?;
    let (c, account) = change_for(&s, &desk, id).await?;
    let me = desk.who.staff.username.clone();
    let refusal = if desk.who.staff.role != StaffRole::Supervisor {
        Some(ErrorCode::StaffRoleRequired)
    } else if c.proposed_by.as_deref() == Some(me.as_str()) {
        Some(ErrorCode::StaffFourEyes)
    } else if c.state != ChangeState::Proposed {
        Some(ErrorCode::EmailChangeEnded)
    } else if account.is_disabled() {
        Some(ErrorCode::AccountDisabled)
    } else {
        None
    };
    if let Some(code) = refusal {
        let mut entry = desk.audit(
            &s,
            AuditEvent::StaffEmailApprove,
            Some(&account.username),
            Some(Detail::EmailApprovalRefused { request: c.reference.clone() }),
        );
        entry.outcome = crate::store::Outcome::Rejected(code);
        s.store.audit(&entry).await.map_err(|e| desk.internal(e))?;
        return Err(desk.error(code));
    }
    let now = s.clock.now();
    let (mail, hash, expires) =
        email_change::confirmation(&s, settled, &account, &c.new_email, ChangeVia::Desk, &c.reference, now)
            .map_err(|e| desk.internal(e))?;
    let entry = desk.audit(
        &s,
        AuditEvent::StaffEmailApprove,
        Some(&account.username),
        Some(Detail::EmailApproved {
            new: c.new_email.clone(),
            proposed_by: c.proposed_by.clone(),
            request: c.reference.clone(),
            superseded: 0,
        }),
    );
    if !s
        .store
        .approve_email_change(c.id, &me, &hash, expires, now, &[mail], &entry)
        .await
        .map_err(|e| desk.internal(e))?
    {
        return Err(desk.error(ErrorCode::EmailChangeEnded));
    }
    s.wake.notify_one();
    Ok(back(&account.username, "email-approved", desk.ctx.reference.as_str()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_in_free_text_keep_their_last_4_digits_only() {
        assert_eq!(
            mask_id_numbers("đối chiếu CCCD 001086012345, gọi 0912 345 678"),
            "đối chiếu CCCD [CCCD/CMND …2345], gọi 0912 345 678"
        );
        assert_eq!(
            mask_id_numbers("CMND 123.456.789 và 001 086 012 345"),
            "CMND [CCCD/CMND …6789] và [CCCD/CMND …2345]"
        );
        assert_eq!(
            mask_id_numbers("MST 0101234567-001, 0101 234 567, lúc 9:40 ngày 12.05.2026"),
            "MST 0101234567-001, 0101 234 567, lúc 9:40 ngày 12.05.2026"
        );
        assert_eq!(mask_id_numbers("Phạm Thị Dung"), "Phạm Thị Dung");
        assert!(!holds_id_number(&mask_id_numbers("q=001086012345")));
    }

    #[test]
    fn only_a_phone_number_passes_for_one_and_no_id_number_hides_elsewhere() {
        assert_eq!(vn_phone("0912 345 678").as_deref(), Some("0912345678"));
        assert_eq!(vn_phone("+84 912.345.678").as_deref(), Some("0912345678"));
        assert_eq!(vn_phone("84912345678").as_deref(), Some("0912345678"));
        for bad in
            ["001086012345", "123456789", "0012345678", "+0912345678", "09123", "0912-345-678x", "+84 0912345678"]
        {
            assert_eq!(vn_phone(bad), None, "{bad}");
        }
        assert!(holds_id_number("Phạm Thị Dung 001086012345") && holds_id_number("CMND 123456789"));
        assert!(
            !holds_id_number("0101234567") && !holds_id_number("0101234567-001") && !holds_id_number("Phạm Thị Dung")
        );
    }
}

#[derive(Deserialize)]
pub(super) struct CancelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /email-change/{id}/cancel`: any staff member ends an open change, with a reason.
pub(super) async fn cancel(
    State(s): State<AppState>,
    OnAction(desk): OnAction,
    Path(id): Path<i64>,
    form: Result<Form<CancelForm>, FormRejection>,
) -> Result<Response, StaffError> {
    desk.check_csrf(&s, form.as_ref().ok().map(|f| f.csrf.as_str())).await?;
    let Ok(Form(form)) = form else {
        return Err(desk.error(ErrorCode::MalformedRequest));
    };
    let reason = mask_id_numbers(&clean(&form.reason, 200));
    if reason.is_empty() {
        return Err(desk.error(ErrorCode::MalformedRequest));
    }
    let settled = email_change::settle(&s).await.map_err(|e| desk.internal(e))?;
    let (c, account) = change_for(&s, &desk, id).await?;
    let by = format!("staff {}", desk.who.staff.username);
    let entry = desk.audit(
        &s,
        AuditEvent::StaffEmailCancel,
        Some(&account.username),
        Some(Detail::EmailCancelled {
            request: c.reference.clone(),
            new: c.new_email.clone(),
            reason: reason.to_string(),
        }),
    );
    let reference = desk.ctx.reference.to_string();
    if !email_change::cancel_change(&s, settled, &c, &by, &reference, &entry).await.map_err(|e| desk.internal(e))? {
        // Say what it is now (it may have been confirmed, applied or ended meanwhile).
        let now_c = s.store.email_change(id).await.map_err(|e| desk.internal(e))?;
        let code = match now_c.map(|c| c.state) {
            Some(ChangeState::Applied | ChangeState::Waiting) => ErrorCode::EmailChangeApplied,
            _ => ErrorCode::EmailChangeEnded,
        };
        let mut refused = desk.audit(
            &s,
            AuditEvent::StaffEmailCancel,
            Some(&account.username),
            Some(Detail::EmailCancelRefused { request: c.reference.clone() }),
        );
        refused.outcome = crate::store::Outcome::Rejected(code);
        s.store.audit(&refused).await.map_err(|e| desk.internal(e))?;
        return Err(desk.error(code));
    }
    Ok(back(&account.username, "email-cancelled", &reference))
}
