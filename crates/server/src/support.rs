//! Support codes: `POST /v1/support/reports`. A caller who agreed to send their support
//! report (the same text the app shows them) gets a code such as `HT-4821-7305-6` to read
//! out; the desk opens it in the staff console ([`crate::staff`]) and sees the report, the
//! attempts the same app instance made (from 30 minutes before it), the accounts to open,
//! and the next step that fits.
//!
//! The report is sealed with the outbox key under the code's keyed hash (only that is
//! stored), lives `support.code_ttl_secs` (an hour) and is then deleted by the purge; an
//! expired, mistyped or unknown code gets one answer. Making codes is limited per client,
//! per network (so a /48 is not 65,536 budgets) and for everyone together (what reports
//! may take of the database). The desk's advice about the caller's computer comes from
//! the report; advice that leads to a change of the account (a desk email change, the
//! username lookup) only from what the server itself recorded of that app's attempts,
//! never from words a caller can type.

use axum::extract::State;
use axum::Json;
use bhxh_protocol::wire::{CheckName, CheckStatus, ReportFacts, SupportCodeIssued, SupportReportRequest};
use bhxh_protocol::{ErrorCode, Lang, SupportCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::clock::rfc3339;
use crate::context::{ApiError, ApiJson, AppState, Ctx};
use crate::store::{AuditEntry, AuditEvent, Detail, ReportProblem, SupportRow};

/// The public route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

crate::refusals!(
    /// What `POST /v1/support/reports` refuses: no app instance, a report too large or
    /// unreadable, too many codes.
    ReportRefusals, Json: RateLimited
);

/// What a report is sealed under: never a mail's Message-ID, never a challenge.
fn aad(code_hash: &str) -> String {
    format!("bhxh-support/v1:{code_hash}")
}

/// What is stored of a code: a keyed hash (HMAC with the outbox key) of its nine
/// digits. A plain hash of nine digits is undone by trying them all; without the key a
/// copy of the database gives no live code.
pub fn code_hash(key: &crate::mail::OutboxKey, code: &SupportCode) -> String {
    key.tag("bhxh-support-code/v1", &code.digits())
}

/// A report a person could read: text lines, no control characters but line ends and tabs.
fn readable(report: &str) -> bool {
    !report.trim().is_empty() && report.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

#[utoipa::path(post, path = "/v1/support/reports", tag = "support",
    summary = "Send the support report the caller agreed to, for a code to read out to the desk",
    description = "The report holds no secret; the code and the report are gone after an hour.",
    params(("X-BHXH-Instance" = String, Header, description = "The app instance's id (16–64 letters, digits, - and _).", pattern = r"^[A-Za-z0-9_-]{16,64}$")),
    request_body = SupportReportRequest,
    responses((status = 200, description = "The code.", body = SupportCodeIssued), ReportRefusals))]
async fn create(
    State(s): State<AppState>,
    ctx: Ctx,
    ApiJson(req): ApiJson<SupportReportRequest>,
) -> Result<Json<SupportCodeIssued>, ApiError> {
    const EVENT: AuditEvent = AuditEvent::SupportReport;
    let cfg = &s.config.support;
    s.limit(&ctx, &format!("client:{}:{EVENT}", ctx.client_key), cfg.codes_per_client_per_hour, 3600, EVENT, None)
        .await?;
    s.limit(&ctx, &format!("network:{}:{EVENT}", ctx.network_key), cfg.codes_per_network_per_hour, 3600, EVENT, None)
        .await?;
    s.limit(&ctx, &format!("all:{EVENT}"), cfg.codes_per_hour, 3600, EVENT, None).await?;
    let Some(instance) = ctx.instance.clone() else {
        let detail = Detail::SupportReportRefused { problem: ReportProblem::NoInstance };
        return Err(s.refuse_detail(&ctx, EVENT, None, ErrorCode::MalformedRequest, detail).await);
    };
    if req.report.len() > cfg.max_report_bytes {
        return Err(s
            .refuse_detail(
                &ctx,
                EVENT,
                None,
                ErrorCode::BodyTooLarge,
                Detail::SupportReportRefused { problem: ReportProblem::TooLarge { bytes: req.report.len() } },
            )
            .await);
    }
    if !readable(&req.report) {
        return Err(s
            .refuse_detail(
                &ctx,
                EVENT,
                None,
                ErrorCode::MalformedRequest,
                Detail::SupportReportRefused { problem: ReportProblem::EmptyOrNotText },
            )
            .await);
    }
    if req.facts.checks.len() > ReportFacts::MAX_CHECKS {
        let problem = ReportProblem::TooManyChecks { count: req.facts.checks.len() };
        let detail = Detail::SupportReportRefused { problem };
        return Err(s.refuse_detail(&ctx, EVENT, None, ErrorCode::MalformedRequest, detail).await);
    }
    let bytes = req.report.len();
    let sealed_form = Sealed { text: req.report, facts: req.facts };
    let report = Zeroizing::new(serde_json::to_string(&sealed_form).map_err(|e| ctx.internal(e))?);
    drop(Zeroizing::new(sealed_form.text));
    let now = s.clock.now();
    let expires = now + cfg.code_ttl_secs;
    // Nine digits: a clash with a live code is unlikely, and answered with another draw.
    for _ in 0..5 {
        let code = SupportCode::new();
        let hash = code_hash(&s.outbox_key, &code);
        let sealed = s.outbox_key.seal(&aad(&hash), &report).map_err(|e| ctx.internal(e))?;
        let row = SupportRow {
            code_hash: hash,
            instance: instance.clone(),
            sealed,
            key_id: s.outbox_key.id().to_string(),
            reference: ctx.reference.to_string(),
            client_addr: Some(ctx.client.clone()),
            created_at: now,
            expires_at: expires,
        };
        let mut audit = s.audit_entry(&ctx, EVENT, None, Ok(()));
        audit.detail = Some(Detail::SupportCodeMade { bytes, until: expires });
        if s.store.insert_support_report(&row, &audit).await.map_err(|e| ctx.internal(e))? {
            return Ok(Json(SupportCodeIssued {
                support_code: code.to_string(),
                expires_at: rfc3339(expires),
                reference: ctx.reference.to_string(),
            }));
        }
    }
    Err(ctx.internal(anyhow::anyhow!("no free support code in five draws")))
}

/// What is sealed under a support code: the text the caller agreed to send and the
/// same checks as values.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sealed {
    text: String,
    facts: ReportFacts,
}

/// An opened report: its row, its text and its facts.
#[derive(Debug)]
pub struct OpenedReport {
    pub row: SupportRow,
    pub text: Zeroizing<String>,
    pub facts: ReportFacts,
}

impl OpenedReport {
    /// A sealed report: the text and facts, or (sealed before there were facts) the
    /// text alone.
    fn read(row: SupportRow, opened: Zeroizing<String>) -> OpenedReport {
        match serde_json::from_str::<Sealed>(&opened) {
            Ok(Sealed { text, facts }) => OpenedReport { row, text: Zeroizing::new(text), facts },
            Err(_) => OpenedReport { row, text: opened, facts: ReportFacts::default() },
        }
    }
}

/// The report under `code`, unless it is unknown or expired (one answer for both). A
/// report sealed with another deployment's key cannot be read either.
pub async fn open(s: &AppState, code: &SupportCode) -> anyhow::Result<Option<OpenedReport>> {
    open_with(&s.store, &s.outbox_key, code, s.clock.now()).await
}

/// [`open`] with a store and key of one's own (the admin tools, tests).
pub async fn open_with(
    store: &crate::store::Store,
    key: &crate::mail::OutboxKey,
    code: &SupportCode,
    now: i64,
) -> anyhow::Result<Option<OpenedReport>> {
    let hash = code_hash(key, code);
    let Some(row) = store.support_report(&hash, now).await? else { return Ok(None) };
    match key.open(&aad(&hash), &row.sealed) {
        Ok(text) => Ok(Some(OpenedReport::read(row, text))),
        Err(e) => {
            tracing::warn!(error = %e, key_id = %row.key_id, "a support report that this server's outbox key cannot open");
            Ok(None)
        }
    }
}

/// Where a step's marks are looked for.
#[derive(Clone, Copy)]
enum Seen {
    /// Among the codes of the report's checks and its last error: what the caller's
    /// computer says of itself (the token, its driver, the network). Harmless to follow
    /// if the caller forged it.
    Report(&'static [ErrorCode]),
    /// A check of the report that came out so.
    Check(CheckName, CheckStatus),
    /// Among the codes the server itself answered the app's attempts with: the steps
    /// that lead the desk to act on the account.
    Attempts(&'static [ErrorCode]),
}

/// One piece of advice: what the desk should do when it sees a mark in the report's
/// facts or in the attempts.
struct Step {
    seen: Seen,
    vi: &'static str,
    en: &'static str,
}

const STEPS: &[Step] = &[
    Step {
        seen: Seen::Report(&[ErrorCode::PinLocked]),
        vi: "Token bị khóa mã PIN: hướng dẫn người gọi mang token đến điểm giao dịch của nhà cung cấp chữ ký số (VNPT-CA, Viettel-CA, …) để mở khóa; không thử mã PIN nữa. Trong lúc chờ, có thể lấy lại mật khẩu qua mã số thuế và email.",
        en: "The token's PIN is locked: send the caller to their CA's service point (VNPT-CA, Viettel-CA, …) to unlock it; no more PIN tries. Meanwhile the password can be recovered with the tax code and email.",
    },
    Step {
        seen: Seen::Report(&[ErrorCode::PinFinalTry]),
        vi: "Token chỉ còn một lần nhập mã PIN: nhắc người gọi kiểm tra Caps Lock và bộ gõ tiếng Việt trước khi nhập; sai lần nữa token sẽ bị khóa.",
        en: "The token has one PIN try left: have the caller check Caps Lock and the Vietnamese input method first; one more wrong PIN locks it.",
    },
    Step {
        seen: Seen::Report(&[ErrorCode::ModuleNotFound, ErrorCode::ModuleLoadFailed]),
        vi: "Không thấy driver của token: hướng dẫn cài phần mềm token của nhà cung cấp chữ ký số (bảng module trong bhxh doctor cho biết tên tệp của từng CA), rồi bấm \"Kiểm tra lại\".",
        en: "The token's driver is missing: have the caller install their CA's token software (bhxh doctor lists each CA's module file), then press \"Check again\".",
    },
    Step {
        seen: Seen::Report(&[ErrorCode::TokenInUse]),
        vi: "Token đang bị phần mềm ký số khác giữ: nhờ người gọi đóng plugin ký số của CA rồi thử lại.",
        en: "Another signing program holds the token: have the caller close their CA's signing plugin and try again.",
    },
    Step {
        seen: Seen::Report(&[ErrorCode::ReaderServiceUnavailable]),
        vi: "Dịch vụ Smart Card (PC/SC) không chạy: khởi động lại dịch vụ hoặc máy tính.",
        en: "The Smart Card (PC/SC) service is not running: restart the service or the computer.",
    },
    Step {
        seen: Seen::Report(&[ErrorCode::NoToken]),
        vi: "Chưa thấy token: cắm token vào cổng USB khác, chờ đèn sáng, rồi bấm \"Kiểm tra lại\".",
        en: "No token is seen: plug it into another USB port, wait for its light, then press \"Check again\".",
    },
    Step {
        seen: Seen::Attempts(&[ErrorCode::CertExpired, ErrorCode::CertRevoked]),
        vi: "Chứng thư số đã hết hạn hoặc bị thu hồi: người dùng cần gia hạn hoặc cấp lại với nhà cung cấp chữ ký số; trong lúc chờ, lấy lại mật khẩu qua mã số thuế và email.",
        en: "The certificate has expired or was revoked: the user renews it with the CA; meanwhile recover the password with the tax code and email.",
    },
    Step {
        seen: Seen::Attempts(&[ErrorCode::CertNotBound]),
        vi: "Tên đăng nhập gõ sai hoặc token của doanh nghiệp khác: hướng dẫn \"Tìm tên đăng nhập bằng token\"; dòng lịch sử của tài khoản cho biết lý do.",
        en: "A mistyped username or another business's token: guide the caller to \"Find the username with the token\"; the account's timeline says which.",
    },
    Step {
        seen: Seen::Attempts(&[ErrorCode::PortalEmailMismatch]),
        vi: "Email đăng ký không còn dùng: hướng dẫn \"Đổi email đăng ký\" bằng token, hoặc kiểm tra giấy tờ rồi đề xuất email mới trên trang tài khoản (cần người giám sát phê duyệt).",
        en: "The registered email is no longer used: guide the caller to \"Change the registered email\" with the token, or check the documents and propose the new address on the account page (a supervisor approves).",
    },
    Step {
        seen: Seen::Report(&[ErrorCode::ServerUnreachable, ErrorCode::ServerTls, ErrorCode::ServerTimeout]),
        vi: "Máy của người gọi không tới được máy chủ: kiểm tra mạng, proxy hoặc tường lửa của công ty.",
        en: "The caller's computer cannot reach the server: check the network, the proxy or the company firewall.",
    },
    Step {
        seen: Seen::Check(CheckName::Clock, CheckStatus::Warn),
        vi: "Đồng hồ máy tính lệch: nhờ người gọi bật đồng bộ giờ tự động rồi thử lại.",
        en: "The computer's clock is off: have the caller turn on automatic time and try again.",
    },
];

/// The next steps that fit what the report's facts and the attempts show, in `lang`:
/// each looked for only where it may come from (see [`Seen`]).
pub fn next_steps(facts: &ReportFacts, attempts: &[AuditEntry], lang: Lang) -> Vec<&'static str> {
    STEPS
        .iter()
        .filter(|step| match step.seen {
            Seen::Report(codes) => codes.iter().any(|c| facts.has_code(*c)),
            Seen::Check(name, status) => facts.has(name, status),
            Seen::Attempts(codes) => {
                attempts.iter().any(|a| a.outcome.error_code().is_some_and(|c| codes.contains(&c)))
            }
        })
        .map(|step| if lang == Lang::En { step.en } else { step.vi })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    use bhxh_protocol::wire::CheckFact;

    fn check(name: CheckName, status: CheckStatus, code: Option<ErrorCode>) -> CheckFact {
        CheckFact { name, status, code }
    }

    #[test]
    fn the_steps_follow_the_facts() {
        let facts = ReportFacts {
            checks: vec![
                check(CheckName::Token, CheckStatus::Fail, Some(ErrorCode::PinLocked)),
                check(CheckName::Server, CheckStatus::Fail, Some(ErrorCode::ServerUnreachable)),
            ],
            last_error: None,
        };
        let steps = next_steps(&facts, &[], Lang::Vi);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert!(steps[0].contains("điểm giao dịch") && steps[1].contains("proxy"));
        let fine = ReportFacts { checks: vec![check(CheckName::Token, CheckStatus::Ok, None)], last_error: None };
        assert!(next_steps(&fine, &[], Lang::En).is_empty());
        let clock = ReportFacts { checks: vec![check(CheckName::Clock, CheckStatus::Warn, None)], last_error: None };
        assert!(next_steps(&clock, &[], Lang::Vi)[0].contains("Đồng hồ"));
        // No PC/SC while the token reads through its module is information: no step
        // sends the caller to restart a computer whose token works.
        let pcsc = |status| ReportFacts {
            checks: vec![
                check(CheckName::Readers, status, Some(ErrorCode::ReaderServiceUnavailable)),
                check(CheckName::Token, CheckStatus::Ok, None),
            ],
            last_error: None,
        };
        assert!(next_steps(&pcsc(CheckStatus::Info), &[], Lang::Vi).is_empty());
        assert!(next_steps(&pcsc(CheckStatus::Fail), &[], Lang::Vi)[0].contains("PC/SC"));
        let mut line = AuditEntry::new(
            "RC-1".into(),
            0,
            AuditEvent::PortalRecover,
            crate::store::Outcome::Rejected(ErrorCode::PortalEmailMismatch),
            crate::store::Actor::User,
        );
        line.detail = None;
        assert!(next_steps(&ReportFacts::default(), &[line], Lang::En)[0].contains("Change the registered email"));
        // A caller whose report claims a server's code steers nothing towards the
        // account: those steps come from the server's own records only.
        let claimed = ReportFacts {
            checks: vec![check(CheckName::Server, CheckStatus::Fail, Some(ErrorCode::CertNotBound))],
            last_error: Some(ErrorCode::PortalEmailMismatch),
        };
        assert!(next_steps(&claimed, &[], Lang::En).is_empty(), "{:?}", next_steps(&claimed, &[], Lang::En));
        assert!(readable("a\nb\tc") && !readable(" \n") && !readable("a\u{1b}[31m"));
    }

    #[test]
    fn a_report_sealed_before_there_were_facts_opens_as_its_text() {
        let row = SupportRow {
            code_hash: "h".into(),
            instance: "i".into(),
            sealed: vec![],
            key_id: "k".into(),
            reference: "RC-1".into(),
            client_addr: None,
            created_at: 0,
            expires_at: 1,
        };
        let old = OpenedReport::read(row.clone(), Zeroizing::new("bhxh 0.1 on linux\n[ OK  ] token".into()));
        assert_eq!((old.text.as_str(), &old.facts), ("bhxh 0.1 on linux\n[ OK  ] token", &ReportFacts::default()));
        let facts = ReportFacts { checks: vec![check(CheckName::Clock, CheckStatus::Warn, None)], last_error: None };
        let sealed = serde_json::to_string(&Sealed { text: "t".into(), facts: facts.clone() }).unwrap();
        let new = OpenedReport::read(row, Zeroizing::new(sealed));
        assert_eq!((new.text.as_str(), new.facts), ("t", facts));
    }
}
