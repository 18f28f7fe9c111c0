//! The audit log: one line per attempt or action, keyed by the reference code the user
//! or the staff member reads out. Never a password, a hash or a PIN.

use bhxh_protocol::ErrorCode;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{text_enum, Detail, Store, Tx};

text_enum! {
    /// What an audit line records. The staff console gives every variant a label.
    pub enum AuditEvent ("audit event") {
        Challenge = "challenge",
        Complete = "complete",
        Login = "login",
        Logout = "logout",
        ChangePassword = "change_password",
        Captcha = "captcha",
        PortalRecover = "portal_recover",
        Activate = "activate",
        /// A certificate checked before the PIN (no account involved).
        CertificateCheck = "certificate_check",
        StaffLogin = "staff.login",
        StaffLogout = "staff.logout",
        StaffSearch = "staff.search",
        StaffView = "staff.view",
        StaffUnlock = "staff.unlock",
        StaffReset = "staff.reset",
        StaffResend = "staff.resend",
        /// A console action refused before it knew its account (bad CSRF token).
        StaffAction = "staff.action",
        AdminAccountAdd = "admin.account_add",
        AdminAccountUnlock = "admin.account_unlock",
        AdminAccountDisable = "admin.account_disable",
        AdminAccountEnable = "admin.account_enable",
        AdminStaffAdd = "admin.staff_add",
        AdminStaffPassword = "admin.staff_password",
        AdminStaffDisable = "admin.staff_disable",
        AdminStaffRole = "admin.staff_role",
        AdminStaffUnlock = "admin.staff_unlock",
        /// A token-proven request to change the registered email (the recovery's
        /// complete step writes its own line for a failed proof).
        EmailChangeRequest = "email_change.request",
        /// The new address opened its confirmation link.
        EmailChangeConfirm = "email_change.confirm",
        /// Cancelled from the old address's link.
        EmailChangeCancel = "email_change.cancel",
        /// The waiting period passed: the account's email is now the new one.
        EmailChangeApply = "email_change.apply",
        /// At the desk: the documents recorded and a new address proposed.
        StaffEmailPropose = "staff.email_propose",
        StaffEmailApprove = "staff.email_approve",
        StaffEmailCancel = "staff.email_cancel",
        AdminOutboxAdoptKey = "admin.outbox_adopt_key",
        /// A caller sent their support report and got a support code.
        SupportReport = "support.report",
        /// Staff opened a support code's page.
        StaffSupportView = "staff.support_view",
    }
}

/// How an attempt ended: stored as `outcome` (`ok` / `rejected`) and `error_code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Rejected(ErrorCode),
}

impl Outcome {
    /// The `outcome` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected(_) => "rejected",
        }
    }

    /// The `error_code` column.
    pub fn error_code(self) -> Option<ErrorCode> {
        match self {
            Outcome::Ok => None,
            Outcome::Rejected(code) => Some(code),
        }
    }
}

impl From<Result<(), ErrorCode>> for Outcome {
    fn from(r: Result<(), ErrorCode>) -> Outcome {
        match r {
            Ok(()) => Outcome::Ok,
            Err(code) => Outcome::Rejected(code),
        }
    }
}

impl PartialEq<&str> for Outcome {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<'r> sqlx::FromRow<'r, AnyRow> for Outcome {
    fn from_row(row: &'r AnyRow) -> Result<Outcome, sqlx::Error> {
        let outcome: String = row.try_get("outcome")?;
        let code: Option<String> = row.try_get("error_code")?;
        let bad = |what: String| sqlx::Error::ColumnDecode { index: "outcome".into(), source: what.into() };
        match (outcome.as_str(), code) {
            ("ok", None) => Ok(Outcome::Ok),
            ("rejected", Some(code)) => ErrorCode::parse(&code)
                .map(Outcome::Rejected)
                .ok_or_else(|| bad(format!("unknown error code {code:?}"))),
            (o, c) => Err(bad(format!("outcome {o:?} with error code {c:?}"))),
        }
    }
}

/// Who acted on an audit line. Stored as text in `audit.actor` (`user`, `system`,
/// `cli:<os user>`, `staff:<username>` or `staff:<username> (<name>)`): this type alone
/// writes that form and reads it back; the console names each actor in its language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The user, through the app or the portal.
    User,
    /// The server itself (a due email change applied).
    System,
    /// An operator on the server's command line, by operating-system user.
    Cli(String),
    /// A staff member: the username, with the name once the member is known (a refused
    /// console login has only the username typed).
    Staff { username: String, name: Option<String> },
    /// A form this version does not write, kept as it was read.
    Other(String),
}

impl Actor {
    /// A staff member known to the console.
    pub fn staff(username: &str, name: &str) -> Actor {
        Actor::Staff { username: username.into(), name: Some(name.into()) }
    }

    /// Someone who typed `username` at the console's login, not (yet) known as a member.
    pub fn staff_login(username: &str) -> Actor {
        Actor::Staff { username: username.into(), name: None }
    }

    /// The stored form.
    pub fn parse(stored: &str) -> Actor {
        match stored {
            "user" => Actor::User,
            "system" => Actor::System,
            s => match (s.strip_prefix("cli:"), s.strip_prefix("staff:")) {
                (Some(os_user), _) => Actor::Cli(os_user.into()),
                (_, Some(member)) => match member.strip_suffix(')').and_then(|m| m.split_once(" (")) {
                    Some((username, name)) => Actor::staff(username, name),
                    None => Actor::staff_login(member),
                },
                _ => Actor::Other(s.into()),
            },
        }
    }
}

/// The stored form.
impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::User => f.write_str("user"),
            Actor::System => f.write_str("system"),
            Actor::Cli(os_user) => write!(f, "cli:{os_user}"),
            Actor::Staff { username, name: Some(name) } => write!(f, "staff:{username} ({name})"),
            Actor::Staff { username, name: None } => write!(f, "staff:{username}"),
            Actor::Other(s) => f.write_str(s),
        }
    }
}

impl From<String> for Actor {
    fn from(stored: String) -> Actor {
        Actor::parse(&stored)
    }
}

/// One line of the audit log. Never holds a password or a PIN.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEntry {
    pub reference: String,
    pub at: i64,
    #[sqlx(try_from = "String")]
    pub event: AuditEvent,
    pub username: Option<String>,
    #[sqlx(flatten)]
    pub outcome: Outcome,
    pub client_addr: Option<String>,
    pub cert_fingerprint: Option<String>,
    #[sqlx(try_from = "String")]
    pub actor: Actor,
    pub detail: Option<Detail>,
    /// The app instance the request came from (its `X-BHXH-Instance`), if it said.
    pub client_instance: Option<String>,
}

impl AuditEntry {
    /// A line with nothing but its reference, time, event, outcome and actor.
    pub fn new(reference: String, at: i64, event: AuditEvent, outcome: Outcome, actor: Actor) -> AuditEntry {
        AuditEntry {
            reference,
            at,
            event,
            username: None,
            outcome,
            client_addr: None,
            cert_fingerprint: None,
            actor,
            detail: None,
            client_instance: None,
        }
    }

    /// The refusal's catalogue code, as stored (`None` for a success).
    pub fn error_code(&self) -> Option<&'static str> {
        self.outcome.error_code().map(ErrorCode::as_str)
    }
}

impl Store {
    /// Appends one audit line on its own.
    pub async fn audit(&self, entry: &AuditEntry) -> anyhow::Result<()> {
        self.audit_counting(entry, &[], entry.at).await.map(drop)
    }

    /// An audit line with `hits` on windows (a refusal that counts), in one transaction;
    /// the windows' counts, in order.
    pub async fn audit_counting(
        &self,
        entry: &AuditEntry,
        hits: &[super::limits::Hit<'_>],
        now: i64,
    ) -> anyhow::Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        let counts = super::limits::hits_in(&mut tx, hits, now).await?;
        insert_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Audit lines with this reference, oldest first.
    pub async fn audit_by_reference(&self, reference: &str) -> anyhow::Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as("SELECT * FROM audit WHERE reference = $1 ORDER BY id")
            .bind(reference)
            .fetch_all(&self.read)
            .await?)
    }

    /// An account's timeline, newest first: its own lines and the portal requests made
    /// for its MST (which name no username when the email did not match).
    pub async fn audit_for_account(&self, username: &str, mst: &str, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as(
            "SELECT * FROM audit WHERE username = $1 OR (username IS NULL AND (detail LIKE $2 OR detail LIKE $3))
             ORDER BY id DESC LIMIT $4",
        )
        .bind(username)
        // A portal line's detail, as a value (`Detail::Portal`, `PortalLinkSent`) or as
        // the sentence of a line written before.
        .bind(format!(r#"{{"kind":"portal%","mst":"{mst}"%"#))
        .bind(format!("mst={mst}%"))
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Users' own lines (not staff, system or CLI) at or after `since`, counted by event,
    /// outcome and code: `(event, outcome, error code, count)`.
    pub async fn audit_counts_since(&self, since: i64) -> anyhow::Result<Vec<(String, String, Option<String>, i64)>> {
        let rows = sqlx::query(
            "SELECT event, outcome, error_code, count(*) AS n FROM audit WHERE at >= $1 AND actor = $2 \
             GROUP BY event, outcome, error_code",
        )
        .bind(since)
        .bind(Actor::User.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("event")?, r.try_get("outcome")?, r.try_get("error_code")?, r.try_get("n")?)))
            .collect()
    }

    /// Every line at or after `since`, oldest first, at most `limit`.
    pub async fn audit_since(&self, since: i64, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as("SELECT * FROM audit WHERE at >= $1 ORDER BY id LIMIT $2")
            .bind(since)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// The lines of one app instance at or after `since`, newest first.
    pub async fn audit_of_instance(&self, instance: &str, since: i64, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as("SELECT * FROM audit WHERE client_instance = $1 AND at >= $2 ORDER BY id DESC LIMIT $3")
            .bind(instance)
            .bind(since)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// The newest `limit` audit lines of a username, newest first.
    pub async fn audit_by_username(&self, username: &str, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as("SELECT * FROM audit WHERE username = $1 ORDER BY id DESC LIMIT $2")
            .bind(username)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }
}

pub(super) async fn insert_audit(tx: &mut Tx<'_>, e: &AuditEntry) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit (reference, at, event, username, outcome, error_code, client_addr, cert_fingerprint, actor, detail, client_instance)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&e.reference)
    .bind(e.at)
    .bind(e.event.as_str())
    .bind(&e.username)
    .bind(e.outcome.as_str())
    .bind(e.error_code())
    .bind(&e.client_addr)
    .bind(&e.cert_fingerprint)
    .bind(e.actor.to_string())
    .bind(e.detail.as_ref().map(Detail::to_json))
    .bind(&e.client_instance)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
