//! Changes of an account's registered email: proposed at the desk or proven by a token,
//! confirmed from the new address, waiting while the old address can cancel, applied.
//! Links are kept only as hashes. Every step is one transaction with its mails and its
//! audit line, and moves a change only from the state it was read in (a step that lost
//! a race writes nothing).

use super::audit::insert_audit;
use super::challenges::consume;
use super::outbox::insert_mail;
use super::steps::{supersede_activations, OPEN};
use super::{AuditEntry, Challenge, NewMail, Store, Tx};

super::text_enum! {
    /// Where a change is.
    pub enum ChangeState ("email change state") {
        /// At the desk: recorded by an agent, waiting for a supervisor.
        Proposed = "proposed",
        /// Waiting for the link sent to the new address (30 minutes).
        Confirming = "confirming",
        /// Confirmed; takes effect at `effective_at` unless cancelled.
        Waiting = "waiting",
        Applied = "applied",
        Cancelled = "cancelled",
        /// Replaced by a newer request of the same account.
        Superseded = "superseded",
        /// Never went on: the new address did not confirm in time, or a proposal waited
        /// past its lifetime for a supervisor.
        Expired = "expired",
    }
}

super::text_enum! {
    /// How the change was asked for.
    pub enum ChangeVia ("email change origin") {
        /// Proven with the business's digital-signature token.
        Token = "token",
        /// At the support desk, after the documents were checked (four eyes).
        Desk = "desk",
    }
}

/// One change of an account's registered email.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EmailChange {
    pub id: i64,
    pub reference: String,
    pub account_id: i64,
    pub old_email: String,
    pub new_email: String,
    #[sqlx(try_from = "String")]
    pub via: ChangeVia,
    #[sqlx(try_from = "String")]
    pub state: ChangeState,
    pub created_at: i64,
    pub confirm_hash: Option<String>,
    pub confirm_expires_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub cancel_hash: Option<String>,
    pub effective_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// `old address`, `staff <username>`, `newer request RC-…`, `account disabled`.
    pub ended_by: Option<String>,
    pub cert_fingerprint: Option<String>,
    pub proposed_by: Option<String>,
    pub approved_by: Option<String>,
    /// The desk's record of the documents checked (no full identity number).
    pub verification: Option<String>,
}

impl EmailChange {
    /// Still able to take effect (an unconfirmed one whose link expired is not).
    pub fn is_live(&self, now: i64) -> bool {
        match self.state {
            ChangeState::Proposed | ChangeState::Waiting => true,
            ChangeState::Confirming => !self.confirm_expired(now),
            _ => false,
        }
    }

    /// Waiting for the new address, past the link's lifetime: it can never be confirmed.
    pub fn confirm_expired(&self, now: i64) -> bool {
        self.state == ChangeState::Confirming && self.confirm_expires_at.is_some_and(|t| now > t)
    }
}

/// A change to write.
#[derive(Clone, Debug)]
pub struct NewEmailChange {
    pub reference: String,
    pub account_id: i64,
    pub old_email: String,
    pub new_email: String,
    pub via: ChangeVia,
    /// `Proposed` (desk) or `Confirming` (token: the link goes out at once).
    pub state: ChangeState,
    pub confirm_hash: Option<String>,
    pub confirm_expires_at: Option<i64>,
    pub cert_fingerprint: Option<String>,
    pub proposed_by: Option<String>,
    pub verification: Option<String>,
    pub now: i64,
}

/// Ends the account's open changes (but `keep`) as replaced by the request `reference`;
/// how many.
async fn supersede_open(
    tx: &mut Tx<'_>,
    account_id: i64,
    keep: Option<i64>,
    reference: &str,
    now: i64,
) -> anyhow::Result<u64> {
    Ok(sqlx::query(&format!(
        "UPDATE email_changes SET state = 'superseded', ended_at = $1, ended_by = $2
         WHERE account_id = $3 AND state IN {OPEN} AND id <> $4"
    ))
    .bind(now)
    .bind(format!("newer request {reference}"))
    .bind(account_id)
    .bind(keep.unwrap_or(-1))
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

impl Store {
    /// Writes a new change: uses up the token's challenge (if any: `Ok(None)` when
    /// another attempt used it first, and nothing is written), supersedes the account's
    /// open changes, stores this one with its mails and audit line.
    pub async fn start_email_change(
        &self,
        challenge: Option<&Challenge>,
        c: &NewEmailChange,
        mails: &[NewMail],
        audit: &AuditEntry,
    ) -> anyhow::Result<Option<i64>> {
        let mut tx = self.begin().await?;
        // The account's row first: two requests for one account (two servers) take turns
        // here, so the second sees the first's change and supersedes it (PostgreSQL's
        // READ COMMITTED would otherwise let both insert).
        sqlx::query("UPDATE accounts SET updated_at = updated_at WHERE id = $1")
            .bind(c.account_id)
            .execute(&mut *tx)
            .await?;
        if let Some(ch) = challenge {
            if !consume(&mut tx, ch, "ok", c.now).await? {
                tx.rollback().await?;
                return Ok(None);
            }
        }
        // A proof with the token supersedes the account's open changes at once; a desk
        // proposal only when a supervisor approves it (one agent alone ends nothing).
        let superseded = if c.state == ChangeState::Proposed {
            0
        } else {
            supersede_open(&mut tx, c.account_id, None, &c.reference, c.now).await?
        };
        let mut audit = audit.clone();
        audit.detail = audit.detail.map(|d| d.with_superseded(superseded));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO email_changes (reference, account_id, old_email, new_email, via, state, created_at, confirm_hash,
             confirm_expires_at, cert_fingerprint, proposed_by, verification)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(&c.reference)
        .bind(c.account_id)
        .bind(&c.old_email)
        .bind(&c.new_email)
        .bind(c.via.as_str())
        .bind(c.state.as_str())
        .bind(c.now)
        .bind(&c.confirm_hash)
        .bind(c.confirm_expires_at)
        .bind(&c.cert_fingerprint)
        .bind(&c.proposed_by)
        .bind(&c.verification)
        .fetch_one(&mut *tx)
        .await?;
        finish(tx, c.now, mails, &audit).await?;
        Ok(Some(id))
    }

    /// When the account's registered address last cancelled a change by its link, if
    /// that was after `since`.
    pub async fn cancelled_by_old_address_since(&self, account_id: i64, since: i64) -> anyhow::Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(ended_at) FROM email_changes WHERE account_id = $1 AND state = 'cancelled' AND ended_by = 'old address' AND ended_at > $2",
        )
        .bind(account_id)
        .bind(since)
        .fetch_one(&self.read)
        .await?)
    }

    /// The change with this id.
    pub async fn email_change(&self, id: i64) -> anyhow::Result<Option<EmailChange>> {
        Ok(sqlx::query_as("SELECT * FROM email_changes WHERE id = $1").bind(id).fetch_optional(&self.read).await?)
    }

    /// The change whose confirmation (`cancel = false`) or cancel link hashes to `hash`.
    pub async fn email_change_by_link(&self, hash: &str, cancel: bool) -> anyhow::Result<Option<EmailChange>> {
        let column = if cancel { "cancel_hash" } else { "confirm_hash" };
        Ok(sqlx::query_as(&format!("SELECT * FROM email_changes WHERE {column} = $1"))
            .bind(hash)
            .fetch_optional(&self.read)
            .await?)
    }

    /// An account's changes, newest first.
    pub async fn email_changes_of(&self, account_id: i64, limit: i64) -> anyhow::Result<Vec<EmailChange>> {
        Ok(sqlx::query_as("SELECT * FROM email_changes WHERE account_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// Every change that can still move, oldest first (the console's list).
    pub async fn open_email_changes(&self, limit: i64) -> anyhow::Result<Vec<EmailChange>> {
        Ok(sqlx::query_as(&format!("SELECT * FROM email_changes WHERE state IN {OPEN} ORDER BY id LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// A supervisor approved a proposed change: the confirmation link goes to the new
    /// address. False when it is no longer proposed.
    #[allow(clippy::too_many_arguments)] // one transaction's facts, each its own column
    pub async fn approve_email_change(
        &self,
        id: i64,
        approver: &str,
        confirm_hash: &str,
        confirm_expires_at: i64,
        now: i64,
        mails: &[NewMail],
        audit: &AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let approved: Option<(i64, String)> = sqlx::query_as(
            "UPDATE email_changes SET state = 'confirming', approved_by = $1, confirm_hash = $2, confirm_expires_at = $3
             WHERE id = $4 AND state = 'proposed' RETURNING account_id, reference",
        )
        .bind(approver)
        .bind(confirm_hash)
        .bind(confirm_expires_at)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((account_id, reference)) = approved else {
            return settle(tx, 0, now, mails, audit).await;
        };
        // Approved, the proposal replaces the account's other open changes (a waiting
        // one included: the desk saw it before approving).
        let superseded = supersede_open(&mut tx, account_id, Some(id), &reference, now).await?;
        let mut audit = audit.clone();
        audit.detail = audit.detail.map(|d| d.with_superseded(superseded));
        settle(tx, 1, now, mails, &audit).await
    }

    /// The new address confirmed: the change waits until `effective_at`, and the old
    /// address gets its cancel link. False when it is no longer confirmable.
    pub async fn confirm_email_change(
        &self,
        id: i64,
        cancel_hash: &str,
        effective_at: i64,
        now: i64,
        mails: &[NewMail],
        audit: &AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let moved = sqlx::query(
            "UPDATE email_changes SET state = 'waiting', confirmed_at = $1, cancel_hash = $2, effective_at = $3
             WHERE id = $4 AND state = 'confirming' AND confirm_expires_at >= $1",
        )
        .bind(now)
        .bind(cancel_hash)
        .bind(effective_at)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        settle(tx, moved, now, mails, audit).await
    }

    /// Cancels a change that has not taken effect (`by`: who), with `notice` for the new
    /// address when that address had confirmed (decided by the row as it was cancelled,
    /// not as it was read). False when it cannot be cancelled.
    pub async fn cancel_email_change(
        &self,
        id: i64,
        by: &str,
        now: i64,
        notice: Option<&NewMail>,
        audit: &AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let confirmed: Option<Option<i64>> = sqlx::query_scalar(&format!(
            "UPDATE email_changes SET state = 'cancelled', ended_at = $1, ended_by = $2 WHERE id = $3 AND state IN {OPEN}
             AND (effective_at IS NULL OR effective_at > $1) RETURNING confirmed_at"
        ))
        .bind(now)
        .bind(by)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(confirmed) = confirmed else {
            tx.rollback().await?;
            return Ok(false);
        };
        let mails: Vec<NewMail> = notice.filter(|_| confirmed.is_some()).cloned().into_iter().collect();
        finish(tx, now, &mails, audit).await?;
        Ok(true)
    }

    /// Ends the changes that can never go on: unconfirmed past their link's lifetime, and
    /// proposals older than `proposed_before`. How many.
    pub async fn expire_email_changes(&self, now: i64, proposed_before: i64) -> anyhow::Result<u64> {
        Ok(sqlx::query(
            "UPDATE email_changes SET state = 'expired', ended_at = $1, ended_by = 'expired'
             WHERE (state = 'confirming' AND confirm_expires_at < $1) OR (state = 'proposed' AND created_at < $2)",
        )
        .bind(now)
        .bind(proposed_before)
        .execute(&mut *self.writer().await?)
        .await?
        .rows_affected())
    }

    /// Confirmed changes whose waiting period is over, oldest first.
    pub async fn due_email_changes(&self, now: i64, limit: i64) -> anyhow::Result<Vec<EmailChange>> {
        Ok(sqlx::query_as(
            "SELECT * FROM email_changes WHERE state = 'waiting' AND effective_at <= $1 ORDER BY effective_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Puts a due change into effect: the account's email becomes the new address, and
    /// what the old address could still use stops working (its pending portal links, a
    /// temporary password, secrets waiting in the outbox for it). Not on an account
    /// disabled, or whose email was changed otherwise, meanwhile: the change is then
    /// cancelled. False when another server applied it first or it ended meanwhile.
    pub async fn apply_email_change(
        &self,
        c: &EmailChange,
        now: i64,
        mails: &[NewMail],
        audit: &AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let moved = sqlx::query("UPDATE email_changes SET state = 'applied', ended_at = $1 WHERE id = $2 AND state = 'waiting' AND effective_at <= $1")
            .bind(now)
            .bind(c.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let set = sqlx::query(
            "UPDATE accounts SET email = $1, temp_password_hash = NULL, temp_expires_at = NULL, temp_used_at = NULL, temp_reference = NULL,
             updated_at = $2 WHERE id = $3 AND disabled_at IS NULL AND email = $4",
        )
        .bind(&c.new_email)
        .bind(now)
        .bind(c.account_id)
        .bind(&c.old_email)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if set != 1 {
            sqlx::query("UPDATE email_changes SET state = 'cancelled', ended_at = $1, ended_by = 'the account changed meanwhile' WHERE id = $2")
                .bind(now)
                .bind(c.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(false);
        }
        supersede_activations(&mut tx, c.account_id, now).await?;
        sqlx::query("UPDATE outbox SET status = $1, secret = NULL, last_error = $2 WHERE account_id = $3 AND status = $4 AND secret IS NOT NULL AND recipient = $5")
            .bind(super::MailStatus::Failed.as_str())
            .bind("the registered email changed before delivery")
            .bind(c.account_id)
            .bind(super::MailStatus::Pending.as_str())
            .bind(&c.old_email)
            .execute(&mut *tx)
            .await?;
        finish(tx, now, mails, audit).await?;
        Ok(true)
    }
}

/// Commits a step that moved exactly one row, with its mails and audit line; else
/// writes nothing.
async fn settle(tx: Tx<'_>, moved: u64, now: i64, mails: &[NewMail], audit: &AuditEntry) -> anyhow::Result<bool> {
    if moved != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    finish(tx, now, mails, audit).await?;
    Ok(true)
}

async fn finish(mut tx: Tx<'_>, now: i64, mails: &[NewMail], audit: &AuditEntry) -> anyhow::Result<()> {
    for mail in mails {
        insert_mail(&mut tx, mail, now).await?;
    }
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}
