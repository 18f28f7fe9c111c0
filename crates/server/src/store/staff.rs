//! The support desk's staff members and their console sessions (stored hashed).

use super::audit::insert_audit;
use super::{AuditEntry, Store, Tx};

super::text_enum! {
    /// What a staff member may do at the desk.
    pub enum StaffRole ("staff role") {
        /// Verifies callers, unlocks, starts resets, records documents and proposes an
        /// email change.
        Agent = "agent",
        /// Everything an agent does, and approves an email change another proposed.
        Supervisor = "supervisor",
    }
}

/// A support staff member. The hash never leaves the server process.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Staff {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    #[sqlx(try_from = "String")]
    pub role: StaffRole,
}

/// A live staff session with its member and the token its forms must carry.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffSession {
    pub token_hash: String,
    #[sqlx(flatten)]
    pub staff: Staff,
    pub csrf: String,
    #[sqlx(rename = "session_expires_at")]
    pub expires_at: i64,
}

impl Store {
    /// Enrols a staff member; `Ok(None)` when the username exists.
    pub async fn insert_staff(
        &self,
        username: &str,
        name: &str,
        role: StaffRole,
        password_hash: &str,
        now: i64,
        audit: &AuditEntry,
    ) -> anyhow::Result<Option<i64>> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO staff (username, name, password_hash, created_at, role) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(name)
        .bind(password_hash)
        .bind(now)
        .bind(role.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if id.is_some() {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Sets a staff member's password (and enables the account); ends their sessions.
    pub async fn set_staff_password(
        &self,
        username: &str,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE staff SET password_hash = $1, disabled_at = NULL WHERE username = $2 RETURNING id",
        )
        .bind(password_hash)
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
        end_sessions_of(tx, id, audit).await
    }

    /// Disables a staff member and ends their sessions.
    pub async fn disable_staff(&self, username: &str, now: i64, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE staff SET disabled_at = $1 WHERE username = $2 RETURNING id")
            .bind(now)
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        end_sessions_of(tx, id, audit).await
    }

    /// Sets a staff member's role, with the audit line. False: no such member.
    pub async fn set_staff_role(&self, username: &str, role: StaffRole, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE staff SET role = $1 WHERE username = $2")
            .bind(role.as_str())
            .bind(username)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The staff member with this username (enabled or not).
    pub async fn staff_by_username(&self, username: &str) -> anyhow::Result<Option<Staff>> {
        Ok(sqlx::query_as("SELECT * FROM staff WHERE username = $1").bind(username).fetch_optional(&self.read).await?)
    }

    /// Every staff member, by username.
    pub async fn list_staff(&self) -> anyhow::Result<Vec<Staff>> {
        Ok(sqlx::query_as("SELECT * FROM staff ORDER BY username").fetch_all(&self.read).await?)
    }

    /// Starts a staff session, with its audit line.
    pub async fn create_staff_session(
        &self,
        staff_id: i64,
        token_hash: &str,
        csrf: &str,
        now: i64,
        expires_at: i64,
        audit: &AuditEntry,
    ) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO staff_sessions (token_hash, staff_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(staff_id)
            .bind(csrf)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session with this token hash, of an enabled staff member.
    pub async fn staff_session(&self, token_hash: &str, now: i64) -> anyhow::Result<Option<StaffSession>> {
        Ok(sqlx::query_as(
            "SELECT s.token_hash, s.csrf, s.expires_at AS session_expires_at, st.*
             FROM staff_sessions s JOIN staff st ON st.id = s.staff_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND st.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Ends a staff session, with its audit line.
    pub async fn delete_staff_session(&self, token_hash: &str, audit: &AuditEntry) -> anyhow::Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The end of a change to a staff member found by `id`: their sessions end and the audit
/// line is written, in the change's transaction. Nobody found: nothing written, false.
async fn end_sessions_of(mut tx: Tx<'_>, id: Option<i64>, audit: &AuditEntry) -> anyhow::Result<bool> {
    let Some(id) = id else {
        tx.rollback().await?;
        return Ok(false);
    };
    sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1").bind(id).execute(&mut *tx).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(true)
}
