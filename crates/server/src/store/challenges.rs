//! Challenges and the resets they lead to. A challenge is stateless until it is used
//! ([`crate::challenge`]); its first attempt writes its row (`INSERT … ON CONFLICT DO
//! NOTHING`: of two attempts exactly one inserts) in the transaction that writes what
//! it led to.

use bhxh_protocol::{ErrorCode, Purpose, Username};

use super::audit::insert_audit;
use super::outbox::insert_mail;
use super::steps::set_temp_password;
use super::{AuditEntry, NewMail, Store};

/// A challenge, as its sealed id carries it ([`crate::challenge`]).
#[derive(Clone, Debug)]
pub struct Challenge {
    /// The key of its single use: the SHA-256 of the sealed id.
    pub id: String,
    /// `None` for a username lookup (stored as the empty string it is signed as).
    pub username: Option<Username>,
    pub purpose: Purpose,
    pub nonce: String,
    pub origin: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// An email change's new address (parsed), whose hash ends the signed data.
    pub new_email: Option<String>,
}

impl Challenge {
    /// The username exactly as it is hashed into the signed bytes (empty for a lookup).
    pub fn signed_username(&self) -> &str {
        self.username.as_ref().map_or("", Username::as_str)
    }

    /// The bytes its token must have signed ([`bhxh_protocol::signed_data`]).
    pub fn signed_data(&self) -> Vec<u8> {
        bhxh_protocol::signed_data(
            self.purpose,
            &self.origin,
            self.signed_username(),
            &self.nonce,
            self.new_email.as_deref(),
        )
    }
}

/// What a successful reset writes, all in one transaction.
#[derive(Debug)]
pub struct ResetWrite<'a> {
    pub challenge: &'a Challenge,
    pub account_id: i64,
    pub temp_hash: &'a str,
    pub temp_expires_at: i64,
    pub reference: &'a str,
    pub now: i64,
    pub mails: Vec<NewMail>,
    pub audit: AuditEntry,
}

impl Store {
    /// Whether this challenge (by its key, [`Challenge::id`]) was used already.
    pub async fn challenge_used(&self, id: &str) -> anyhow::Result<bool> {
        let row: Option<i64> = sqlx::query_scalar("SELECT used_at FROM challenges WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.is_some())
    }

    /// Uses up a challenge whose attempt failed with `code`, with the audit line and the
    /// failure's `hits` on its windows, in one transaction. Returns the windows' counts.
    pub async fn fail_challenge(
        &self,
        ch: &Challenge,
        code: ErrorCode,
        now: i64,
        audit: &AuditEntry,
        hits: &[super::limits::Hit<'_>],
    ) -> anyhow::Result<Vec<i64>> {
        let mut tx = self.begin().await?;
        consume(&mut tx, ch, code.as_str(), now).await?;
        let counts = super::limits::hits_in(&mut tx, hits, now).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Consumes a username-lookup challenge with its audit line. False when lost.
    pub async fn complete_lookup(&self, ch: &Challenge, now: i64, audit: &AuditEntry) -> anyhow::Result<bool> {
        self.use_challenge(ch, "ok", now, audit).await
    }

    async fn use_challenge(&self, ch: &Challenge, outcome: &str, now: i64, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let won = consume(&mut tx, ch, outcome, now).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(won)
    }

    /// Writes a reset: consumes the challenge, stores the temporary password's hash,
    /// enqueues the mails and the audit line, all or nothing. Returns false (and writes
    /// nothing) when another request consumed the challenge first.
    pub async fn complete_reset(&self, w: ResetWrite<'_>) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let won = consume(&mut tx, w.challenge, "ok", w.now).await?;
        if !won {
            tx.rollback().await?;
            return Ok(false);
        }
        set_temp_password(&mut tx, w.account_id, w.temp_hash, w.temp_expires_at, w.reference, w.now).await?;
        for mail in &w.mails {
            insert_mail(&mut tx, mail, w.now).await?;
        }
        insert_audit(&mut tx, &w.audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A reset started by support staff for a user who proved who they are by phone:
    /// as a token reset, without a challenge.
    #[allow(clippy::too_many_arguments)] // the columns of one write, named at the call
    pub async fn staff_reset(
        &self,
        account_id: i64,
        temp_hash: &str,
        temp_expires_at: i64,
        reference: &str,
        now: i64,
        mails: &[NewMail],
        audit: &AuditEntry,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        set_temp_password(&mut tx, account_id, temp_hash, temp_expires_at, reference, now).await?;
        for mail in mails {
            insert_mail(&mut tx, mail, now).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Writes the row that uses `ch` up; false when another attempt wrote it first.
pub(super) async fn consume(tx: &mut super::Tx<'_>, ch: &Challenge, outcome: &str, now: i64) -> anyhow::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO challenges (id, username, purpose, nonce, origin, created_at, expires_at, used_at, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&ch.id)
    .bind(ch.signed_username())
    .bind(ch.purpose.as_str())
    .bind(&ch.nonce)
    .bind(&ch.origin)
    .bind(ch.created_at)
    .bind(ch.expires_at)
    .bind(now)
    .bind(outcome)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}
