//! The portal path: captchas (only their answer's hash) and activation links (only
//! their token's hash, with the pending password's hash).

use sqlx::Row;

use super::audit::insert_audit;
use super::outbox::insert_mail;
use super::steps::supersede_activations;
use super::{AuditEntry, NewMail, Store};

/// A portal reset waiting for its activation link.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Activation {
    pub token_hash: String,
    pub account_id: i64,
    pub temp_password_hash: String,
    pub temp_expires_at: i64,
    pub reference: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub superseded_at: Option<i64>,
}

impl Activation {
    /// What opening this link at `now` would do.
    pub fn outcome(&self, now: i64) -> ActivationOutcome {
        if self.used_at.is_some() {
            ActivationOutcome::Used
        } else if self.superseded_at.is_some() {
            ActivationOutcome::Superseded
        } else if now > self.expires_at {
            ActivationOutcome::Expired
        } else {
            ActivationOutcome::Activated
        }
    }
}

/// What checking a captcha found. The captcha is used up in every case but `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptchaCheck {
    Ok,
    Incorrect,
    Used,
    Expired,
    Unknown,
}

/// What a portal request writes, all in one transaction: older links of the account
/// superseded, the new link (hashed) with the pending password (hashed), mail, audit.
#[derive(Debug)]
pub struct PortalWrite {
    pub account_id: i64,
    pub token_hash: String,
    pub temp_hash: String,
    pub temp_expires_at: i64,
    pub reference: String,
    pub now: i64,
    pub expires_at: i64,
    pub mails: Vec<NewMail>,
    pub audit: AuditEntry,
}

/// What opening an activation link found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationOutcome {
    Activated,
    Unknown,
    Used,
    Superseded,
    Expired,
}

impl Store {
    /// Stores a fresh captcha (the hash of its answer).
    pub async fn insert_captcha(&self, id: &str, answer_hash: &str, now: i64, expires_at: i64) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO captchas (id, answer_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(answer_hash)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Uses a captcha up and says whether the answer was right. One attempt per
    /// captcha: a wrong answer uses it up too.
    pub async fn take_captcha(&self, id: &str, answer_hash: &str, now: i64) -> anyhow::Result<CaptchaCheck> {
        let row = sqlx::query(
            "UPDATE captchas SET used_at = $1 WHERE id = $2 AND used_at IS NULL RETURNING answer_hash, expires_at",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *self.writer().await?)
        .await?;
        let Some(row) = row else {
            let known: Option<String> =
                sqlx::query_scalar("SELECT id FROM captchas WHERE id = $1").bind(id).fetch_optional(&self.read).await?;
            return Ok(if known.is_some() { CaptchaCheck::Used } else { CaptchaCheck::Unknown });
        };
        let expected: String = row.try_get("answer_hash")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        Ok(if now > expires_at {
            CaptchaCheck::Expired
        } else if expected == answer_hash {
            CaptchaCheck::Ok
        } else {
            CaptchaCheck::Incorrect
        })
    }

    /// Writes a portal request: supersedes the account's older links, stores the new
    /// one, enqueues the mail, appends the audit line.
    pub async fn start_activation(&self, w: &PortalWrite) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        supersede_activations(&mut tx, w.account_id, w.now).await?;
        sqlx::query(
            "INSERT INTO activations (token_hash, account_id, temp_password_hash, temp_expires_at, reference, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&w.token_hash)
        .bind(w.account_id)
        .bind(&w.temp_hash)
        .bind(w.temp_expires_at)
        .bind(&w.reference)
        .bind(w.now)
        .bind(w.expires_at)
        .execute(&mut *tx)
        .await?;
        for mail in &w.mails {
            insert_mail(&mut tx, mail, w.now).await?;
        }
        insert_audit(&mut tx, &w.audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The activation with this token hash.
    pub async fn activation(&self, token_hash: &str) -> anyhow::Result<Option<Activation>> {
        Ok(sqlx::query_as("SELECT * FROM activations WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await?)
    }

    /// The newest activation of an account that is still waiting for its link.
    pub async fn pending_activation(&self, account_id: i64, now: i64) -> anyhow::Result<Option<Activation>> {
        Ok(sqlx::query_as(
            "SELECT * FROM activations WHERE account_id = $1 AND used_at IS NULL AND superseded_at IS NULL
             AND expires_at >= $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(account_id)
        .bind(now)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Opens an activation link: the pending password becomes the account's temporary
    /// password, the old password stops working and every session ends, with the
    /// notification and the audit line, in one transaction. Anything but `Activated`
    /// writes nothing.
    pub async fn activate(
        &self,
        token_hash: &str,
        now: i64,
        notice: &NewMail,
        audit: &AuditEntry,
    ) -> anyhow::Result<ActivationOutcome> {
        let mut tx = self.begin().await?;
        let row: Option<Activation> = sqlx::query_as("SELECT * FROM activations WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(a) = row else {
            return Ok(ActivationOutcome::Unknown);
        };
        let outcome = a.outcome(now);
        if outcome != ActivationOutcome::Activated {
            tx.rollback().await?;
            return Ok(outcome);
        }
        let won = sqlx::query(
            "UPDATE activations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND superseded_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            tx.rollback().await?;
            return Ok(ActivationOutcome::Used);
        }
        // Not on an account disabled meanwhile (its links were superseded by the disable,
        // but this one may have been read before that committed).
        let set = sqlx::query(
            "UPDATE accounts SET password_hash = NULL, temp_password_hash = $1, temp_expires_at = $2, temp_used_at = NULL,
             temp_reference = $3, updated_at = $4 WHERE id = $5 AND disabled_at IS NULL",
        )
        .bind(&a.temp_password_hash)
        .bind(a.temp_expires_at)
        .bind(&a.reference)
        .bind(now)
        .bind(a.account_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if set != 1 {
            tx.rollback().await?;
            return Ok(ActivationOutcome::Superseded);
        }
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(a.account_id).execute(&mut *tx).await?;
        insert_mail(&mut tx, notice, now).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(ActivationOutcome::Activated)
    }
}
