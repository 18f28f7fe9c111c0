//! The outbox: mail written in the transaction of the change it reports, delivered by a
//! worker that claims each mail (a lease) before it tries it.

use super::audit::insert_audit;
use super::{text_enum, AuditEntry, Store, Tx};

text_enum! {
    /// What a mail is.
    pub enum MailKind ("mail kind") {
        /// The temporary password of a token or staff reset.
        Reset = "reset",
        /// The portal path's new password and activation link.
        PortalReset = "portal-reset",
        NoticeReset = "notice-reset",
        NoticeChanged = "notice-changed",
        NoticeActivated = "notice-activated",
        /// To the new address: the link that confirms it.
        EmailConfirm = "email-confirm",
        /// To the old address: the change to come, with its cancel link.
        EmailChangeNotice = "email-change-notice",
        /// To the new address: the change took effect, or was cancelled.
        NoticeEmail = "notice-email",
    }
}

impl MailKind {
    /// Whether the mail's body waits for a sealed secret (a password, a link): such a
    /// mail cannot be rebuilt once its secret is wiped after delivery.
    pub fn carries_secret(self) -> bool {
        matches!(self, MailKind::Reset | MailKind::PortalReset | MailKind::EmailConfirm | MailKind::EmailChangeNotice)
    }
}

text_enum! {
    /// Where a mail is in its delivery.
    pub enum MailStatus ("mail status") {
        Pending = "pending",
        Sent = "sent",
        /// Given up for good (refused by the relay, or its password expired first).
        Failed = "failed",
    }
}

/// A mail to enqueue. `secret` is the sealed secrets (a password, a link) that the body
/// holds as placeholders.
#[derive(Clone, Debug)]
pub struct NewMail {
    pub message_id: String,
    pub account_id: Option<i64>,
    pub kind: MailKind,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub secret: Option<Vec<u8>>,
    /// The outbox key's id that sealed `secret`.
    pub key_id: Option<String>,
    pub reference: String,
}

/// A mail in the outbox.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Mail {
    pub id: i64,
    pub message_id: String,
    pub account_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub kind: MailKind,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub secret: Option<Vec<u8>>,
    pub reference: String,
    #[sqlx(try_from = "String")]
    pub status: MailStatus,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// The outbox key's id that sealed `secret` (`None`: sealed before ids existed).
    pub key_id: Option<String>,
}

/// What [`Store::outbox_state`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxState {
    pub pending: i64,
    /// `created_at` of the oldest waiting mail.
    pub oldest_pending: Option<i64>,
    pub dead: i64,
}

impl Mail {
    /// Whether the desk can send it again: while it waits (it is sent now), or once
    /// delivered when its body holds no secret (a password or a link is wiped once
    /// delivered and cannot be rebuilt).
    pub fn can_resend(&self) -> bool {
        self.status == MailStatus::Pending || !self.kind.carries_secret()
    }

    /// Whether a sealed secret still waits in the outbox (wiped once delivered).
    pub fn has_secret(&self) -> bool {
        self.secret.is_some()
    }
}

impl Store {
    /// Mail due for (another) delivery attempt that the key `key_id` can open (or that
    /// holds no secret), oldest first. A mail sealed with another key is left to a
    /// server that has it.
    pub async fn due_mail(&self, now_ms: i64, limit: i64, key_id: &str) -> anyhow::Result<Vec<Mail>> {
        Ok(sqlx::query_as(
            "SELECT * FROM outbox WHERE status = $1 AND next_attempt_ms <= $2 AND (secret IS NULL OR key_id IS NULL OR key_id = $3)
             ORDER BY id LIMIT $4",
        )
        .bind(MailStatus::Pending.as_str())
        .bind(now_ms)
        .bind(key_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Pending mails sealed with another key than `key_id`: no server with this key can
    /// deliver them (the staff console warns).
    pub async fn foreign_key_mail_count(&self, key_id: &str) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = $1 AND secret IS NOT NULL AND key_id IS NOT NULL AND key_id <> $2")
            .bind(MailStatus::Pending.as_str())
            .bind(key_id)
            .fetch_one(&self.read)
            .await?)
    }

    /// The outbox key every server on this database must share: recorded by the first
    /// server, checked by every later one. `Err` names both ids on a mismatch.
    pub async fn check_outbox_key(&self, key_id: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO server_settings (name, value, updated_at) VALUES ('outbox_key_id', $1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(key_id)
            .bind(now)
            .execute(&mut *self.writer().await?)
            .await?;
        let recorded: String = sqlx::query_scalar("SELECT value FROM server_settings WHERE name = 'outbox_key_id'")
            .fetch_one(&mut *self.writer().await?)
            .await?;
        if recorded != key_id {
            anyhow::bail!(OutboxKeyMismatch { ours: key_id.to_string(), recorded });
        }
        Ok(())
    }

    /// `outbox adopt-key`: makes `key_id` the database's outbox key (the old one is
    /// lost) and gives up on the pending mails only the old key could open, wiping them.
    /// Returns how many mails were given up.
    pub async fn adopt_outbox_key(&self, key_id: &str, now: i64, audit: &AuditEntry) -> anyhow::Result<u64> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO server_settings (name, value, updated_at) VALUES ('outbox_key_id', $1, $2)
             ON CONFLICT (name) DO UPDATE SET value = $1, updated_at = $2",
        )
        .bind(key_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let dropped = sqlx::query(
            "UPDATE outbox SET status = $1, secret = NULL, last_error = 'sealed with a lost outbox key'
             WHERE status = $2 AND secret IS NOT NULL AND (key_id IS NULL OR key_id <> $3)",
        )
        .bind(MailStatus::Failed.as_str())
        .bind(MailStatus::Pending.as_str())
        .bind(key_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(dropped)
    }

    /// Takes a due mail for one delivery attempt: it is not due again (for any worker of
    /// any server on this database) before `lease_until_ms`. False when another worker
    /// took it first or it is no longer pending.
    pub async fn claim_mail(&self, id: i64, now_ms: i64, lease_until_ms: i64) -> anyhow::Result<bool> {
        Ok(sqlx::query(
            "UPDATE outbox SET next_attempt_ms = $1 WHERE id = $2 AND status = $3 AND next_attempt_ms <= $4",
        )
        .bind(lease_until_ms)
        .bind(id)
        .bind(MailStatus::Pending.as_str())
        .bind(now_ms)
        .execute(&mut *self.writer().await?)
        .await?
        .rows_affected()
            == 1)
    }

    /// Marks a mail delivered and wipes its secret.
    pub async fn mark_sent(&self, id: i64, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = $1, secret = NULL, sent_at = $2, attempts = attempts + 1, last_error = NULL
             WHERE id = $3",
        )
        .bind(MailStatus::Sent.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn mark_failed(&self, id: i64, next_attempt_ms: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = $1, last_error = $2 WHERE id = $3")
            .bind(next_attempt_ms)
            .bind(error)
            .bind(id)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Gives up on a mail for good and wipes its secret.
    pub async fn mark_dead(&self, id: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = $1, secret = NULL, attempts = attempts + 1, last_error = $2 WHERE id = $3",
        )
        .bind(MailStatus::Failed.as_str())
        .bind(error)
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// The outbox as an operator watches it: mails waiting, when the oldest of them was
    /// written, and dead letters (given up on; not those withdrawn with their account).
    pub async fn outbox_state(&self) -> anyhow::Result<OutboxState> {
        let (pending, oldest_pending): (i64, Option<i64>) =
            sqlx::query_as("SELECT count(*), min(created_at) FROM outbox WHERE status = $1")
                .bind(MailStatus::Pending.as_str())
                .fetch_one(&self.read)
                .await?;
        let dead = self.dead_mail_count(0).await?;
        Ok(OutboxState { pending, oldest_pending, dead })
    }

    /// Mails given up on (dead letters) created since `since`; not those withdrawn
    /// because their account was disabled.
    pub async fn dead_mail_count(&self, since: i64) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE status = $1 AND created_at >= $2 AND (last_error IS NULL OR last_error <> $3)",
        )
            .bind(MailStatus::Failed.as_str())
            .bind(since)
            .bind(ACCOUNT_DISABLED_MAIL)
            .fetch_one(&self.read)
            .await?)
    }

    /// The newest `limit` mails, newest first.
    pub async fn list_mail(&self, limit: i64) -> anyhow::Result<Vec<Mail>> {
        Ok(sqlx::query_as("SELECT * FROM outbox ORDER BY id DESC LIMIT $1").bind(limit).fetch_all(&self.read).await?)
    }

    /// The newest `limit` mails of an account, newest first.
    pub async fn mail_of_account(&self, account_id: i64, limit: i64) -> anyhow::Result<Vec<Mail>> {
        Ok(sqlx::query_as("SELECT * FROM outbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// One mail by id.
    pub async fn mail(&self, id: i64) -> anyhow::Result<Option<Mail>> {
        Ok(sqlx::query_as("SELECT * FROM outbox WHERE id = $1").bind(id).fetch_optional(&self.read).await?)
    }

    /// Makes a pending mail due now. False when there is no pending mail with that id.
    pub async fn retry_mail(&self, id: i64, now_ms: i64) -> anyhow::Result<bool> {
        Ok(sqlx::query("UPDATE outbox SET next_attempt_ms = $1 WHERE id = $2 AND status = $3")
            .bind(now_ms)
            .bind(id)
            .bind(MailStatus::Pending.as_str())
            .execute(&mut *self.writer().await?)
            .await?
            .rows_affected()
            == 1)
    }

    /// Sends a mail again: a pending one is made due now; a delivered or failed one
    /// without a secret is enqueued again as a copy. With the audit line. False when
    /// neither applies (a password mail whose content was wiped).
    ///
    /// A pending mail due within `lease_ms` is left as it is: a worker may hold it right
    /// now (its claim moved it that far ahead), and making it due again would let a
    /// second worker send it too; it is tried within the lease anyway.
    pub async fn resend_mail(
        &self,
        id: i64,
        copy: Option<&NewMail>,
        now: i64,
        lease_ms: i64,
        audit: &AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let done = match copy {
            None => {
                let now_ms = now * 1000;
                let pending = sqlx::query("SELECT id FROM outbox WHERE id = $1 AND status = $2")
                    .bind(id)
                    .bind(MailStatus::Pending.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                if pending {
                    sqlx::query("UPDATE outbox SET next_attempt_ms = $1 WHERE id = $2 AND next_attempt_ms > $3")
                        .bind(now_ms)
                        .bind(id)
                        .bind(now_ms + lease_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                pending
            }
            Some(m) => {
                insert_mail(&mut tx, m, now).await?;
                true
            }
        };
        if !done {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// The `last_error` of a password mail withdrawn because its account was disabled.
pub const ACCOUNT_DISABLED_MAIL: &str = "withdrawn: the account was disabled";

/// This server's outbox key is not the one the database's other servers seal with.
#[derive(Debug, thiserror::Error)]
#[error(
    "this server's outbox key ({ours}) is not the database's ({recorded}): mails sealed by the other servers could not be \
     opened here. Copy outbox.key from a server already on this database into this data dir (or set BHXH_OUTBOX_KEY to \
     the same key); only if that key is lost for good, run `bhxh-server outbox adopt-key` (its pending mails are given up)"
)]
pub struct OutboxKeyMismatch {
    pub ours: String,
    pub recorded: String,
}

pub(super) async fn insert_mail(tx: &mut Tx<'_>, m: &NewMail, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO outbox (message_id, account_id, kind, recipient, subject, body, secret, reference, status, next_attempt_ms, created_at, key_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&m.message_id)
    .bind(m.account_id)
    .bind(m.kind.as_str())
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(&m.secret)
    .bind(&m.reference)
    .bind(MailStatus::Pending.as_str())
    .bind(now * 1000)
    .bind(now)
    .bind(m.secret.as_ref().and(m.key_id.as_deref()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
