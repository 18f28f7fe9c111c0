//! User sessions (stored as the hash of their token) and the password changes that end
//! them.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::audit::insert_audit;
use super::outbox::insert_mail;
use super::{Account, AuditEntry, NewMail, Store, Tx};

/// A session looked up by its token hash, with its account.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub token_hash: String,
    pub account: Account,
    pub must_change: bool,
    pub expires_at: i64,
}

impl<'r> FromRow<'r, AnyRow> for SessionRow {
    fn from_row(r: &'r AnyRow) -> Result<SessionRow, sqlx::Error> {
        Ok(SessionRow {
            token_hash: r.try_get("token_hash")?,
            // Stored as an integer by both engines.
            must_change: r.try_get::<i64, _>("must_change")? != 0,
            expires_at: r.try_get("session_expires_at")?,
            account: Account::from_row(r)?,
        })
    }
}

/// A new session: the hash of its token, never the token.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub must_change: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// stops working, the temporary one is marked used, every session ends, and a new
    /// must-change session begins, in one transaction.
    pub async fn use_temp_password(
        &self,
        account_id: i64,
        session: &NewSession,
        now: i64,
        audit: &AuditEntry,
        windows: &LoginWindows<'_>,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let won = sqlx::query(
            "UPDATE accounts SET temp_used_at = $1, password_hash = NULL, updated_at = $1
             WHERE id = $2 AND temp_password_hash IS NOT NULL AND temp_used_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
        insert_session(&mut tx, account_id, session).await?;
        insert_audit(&mut tx, audit).await?;
        windows.write(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A normal login's session, with its audit line and its windows.
    pub async fn create_session(
        &self,
        account_id: i64,
        session: &NewSession,
        audit: &AuditEntry,
        windows: &LoginWindows<'_>,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        insert_session(&mut tx, account_id, session).await?;
        insert_audit(&mut tx, audit).await?;
        windows.write(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session with this token hash.
    pub async fn session(&self, token_hash: &str, now: i64) -> anyhow::Result<Option<SessionRow>> {
        Ok(sqlx::query_as(
            "SELECT s.token_hash, s.must_change, s.expires_at AS session_expires_at, a.*
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Ends one session, with its audit line.
    pub async fn delete_session(&self, token_hash: &str, audit: &AuditEntry) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the long-term password, clears any temporary one, ends every session,
    /// enqueues the notification and the audit line, in one transaction.
    pub async fn change_password(
        &self,
        account_id: i64,
        new_hash: &str,
        now: i64,
        notice: &NewMail,
        audit: &AuditEntry,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, temp_password_hash = NULL, temp_expires_at = NULL,
             temp_used_at = NULL, temp_reference = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(new_hash)
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
        insert_mail(&mut tx, notice, now).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_session(tx: &mut Tx<'_>, account_id: i64, s: &NewSession) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO sessions (token_hash, account_id, must_change, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&s.token_hash)
        .bind(account_id)
        .bind(s.must_change as i64)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// What a right password does to the limit windows, written in its session's
/// transaction (one write, not three, when a flood keeps the database writer busy): the
/// client's window of wrong passwords ends (`clear`), and the client becomes known to the
/// account (`known`, seen `now`).
#[derive(Debug)]
pub struct LoginWindows<'a> {
    pub clear: &'a str,
    pub known: &'a str,
    pub now: i64,
}

impl LoginWindows<'_> {
    async fn write(&self, tx: &mut super::Tx<'_>) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM rate_limits WHERE key = $1").bind(self.clear).execute(&mut **tx).await?;
        sqlx::query(
            "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET window_start = $2, count = rate_limits.count + 1",
        )
        .bind(self.known)
        .bind(self.now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
