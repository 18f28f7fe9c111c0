//! Accounts: enrolment, look-ups, and the temporary password a reset sets.

use super::steps::{end_email_changes, supersede_activations};
use super::Store;

/// An enrolled account. Password hashes never leave the server process.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub mst: String,
    pub email: String,
    pub cert_fingerprint: Option<String>,
    pub password_hash: Option<String>,
    pub temp_password_hash: Option<String>,
    pub temp_expires_at: Option<i64>,
    pub temp_used_at: Option<i64>,
    pub temp_reference: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set by `account disable`: every public path then answers as for an unknown
    /// account (the audit says why), and no password of it works.
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
}

impl Account {
    /// Disabled by support.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

impl Store {
    /// Enrols an account; `Ok(None)` when the username exists.
    pub async fn insert_account(
        &self,
        username: &str,
        mst: &str,
        email: &str,
        cert_fingerprint: Option<&str>,
        now: i64,
    ) -> anyhow::Result<Option<i64>> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO accounts (username, mst, email, cert_fingerprint, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(mst)
        .bind(email)
        .bind(cert_fingerprint)
        .bind(now)
        .fetch_optional(&mut *self.writer().await?)
        .await?;
        Ok(id)
    }

    /// The account with this (normalised) username.
    pub async fn account_by_username(&self, username: &str) -> anyhow::Result<Option<Account>> {
        Ok(sqlx::query_as("SELECT * FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.read)
            .await?)
    }

    /// The account with this id.
    pub async fn account_by_id(&self, id: i64) -> anyhow::Result<Option<Account>> {
        Ok(sqlx::query_as("SELECT * FROM accounts WHERE id = $1").bind(id).fetch_optional(&self.read).await?)
    }

    /// Usernames registered for an MST that are not disabled, sorted.
    pub async fn usernames_by_mst(&self, mst: &str) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT username FROM accounts WHERE mst = $1 AND disabled_at IS NULL ORDER BY username")
            .bind(mst)
            .fetch_all(&self.read)
            .await?)
    }

    /// The accounts of an MST registered with this email (case-insensitive).
    pub async fn accounts_by_mst_email(&self, mst: &str, email: &str) -> anyhow::Result<Vec<Account>> {
        Ok(sqlx::query_as("SELECT * FROM accounts WHERE mst = $1 AND lower(email) = lower($2) ORDER BY id")
            .bind(mst)
            .bind(email)
            .fetch_all(&self.read)
            .await?)
    }

    /// Accounts whose username or MST is `q` (an MST also finds its branches).
    /// The accounts registered with `email`, whatever its case.
    pub async fn accounts_by_email(&self, email: &str, limit: i64) -> anyhow::Result<Vec<Account>> {
        Ok(sqlx::query_as("SELECT * FROM accounts WHERE lower(email) = lower($1) ORDER BY username LIMIT $2")
            .bind(email)
            .bind(limit)
            .fetch_all(&self.read)
            .await?)
    }

    /// Keeps the business name a verified certificate of this MST carries (its CN), for
    /// the desk's search; the last one seen wins.
    pub async fn remember_business_name(&self, mst: &str, name: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO business_names (mst, name, folded, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mst) DO UPDATE SET name = excluded.name, folded = excluded.folded, seen_at = excluded.seen_at",
        )
        .bind(mst)
        .bind(name)
        .bind(bhxh_protocol::domain::fold_for_search(name))
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// The business name last seen on a verified certificate of this MST.
    pub async fn business_name(&self, mst: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM business_names WHERE mst = $1")
            .bind(mst)
            .fetch_optional(&self.read)
            .await?)
    }

    /// The accounts of the businesses whose name holds every one of `words` (folded
    /// alike: any case, with or without diacritics; in any order, others between them:
    /// "cong ty thu nghiem" finds CÔNG TY TNHH THỬ NGHIỆM BHXH). At most six words count.
    pub async fn accounts_by_business(&self, words: &str, limit: i64) -> anyhow::Result<Vec<Account>> {
        let folded = bhxh_protocol::domain::fold_for_search(words);
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).take(6).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let clauses: Vec<String> = (1..=words.len()).map(|i| format!("b.folded LIKE ${i} ESCAPE '\\'")).collect();
        let sql = format!(
            "SELECT a.* FROM accounts a JOIN business_names b ON b.mst = a.mst WHERE {} ORDER BY a.username LIMIT ${}",
            clauses.join(" AND "),
            words.len() + 1
        );
        let mut query = sqlx::query_as(&sql);
        for w in &words {
            query = query.bind(format!("%{}%", w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        }
        Ok(query.bind(limit).fetch_all(&self.read).await?)
    }

    pub async fn search_accounts(&self, q: &str, limit: i64) -> anyhow::Result<Vec<Account>> {
        let branch = format!("{}-%", q.replace(['\\', '%', '_'], ""));
        Ok(sqlx::query_as(
            "SELECT * FROM accounts WHERE username = $1 OR mst = $1 OR mst LIKE $2 ORDER BY username LIMIT $3",
        )
        .bind(q)
        .bind(branch)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }
}

impl Store {
    /// Disables (`Some(reason)`) or enables (`None`) an account, with its audit line, in
    /// one transaction. Disabling also ends its sessions, drops its passwords (long-term
    /// and temporary), supersedes its pending activation links, ends its open email changes and gives up its password
    /// mails still waiting, so none of them works again (an enable brings none back: the
    /// user recovers anew). `Ok(false)` when nothing changed (already so).
    pub async fn set_account_disabled(
        &self,
        account_id: i64,
        reason: Option<&str>,
        now: i64,
        audit: &super::AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let changed = match reason {
            // The long-term password goes too: enabled again, the account is recovered
            // anew (it may have been disabled for fraud).
            Some(reason) => sqlx::query(
                "UPDATE accounts SET disabled_at = $1, disabled_reason = $2, password_hash = NULL, temp_password_hash = NULL,
                 temp_expires_at = NULL, temp_used_at = NULL, temp_reference = NULL, updated_at = $1
                 WHERE id = $3 AND disabled_at IS NULL",
            )
            .bind(now)
            .bind(reason)
            .bind(account_id),
            None => sqlx::query(
                "UPDATE accounts SET disabled_at = NULL, disabled_reason = NULL, updated_at = $1 WHERE id = $2 AND disabled_at IS NOT NULL",
            )
            .bind(now)
            .bind(account_id),
        }
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !changed {
            return Ok(false);
        }
        if reason.is_some() {
            sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
            supersede_activations(&mut tx, account_id, now).await?;
            end_email_changes(&mut tx, account_id, now, "account disabled").await?;
            // Its passwords and links waiting in the outbox are not sent: wiped, given up.
            sqlx::query("UPDATE outbox SET status = $1, secret = NULL, last_error = $2 WHERE account_id = $3 AND status = $4 AND secret IS NOT NULL")
                .bind(super::MailStatus::Failed.as_str())
                .bind(super::outbox::ACCOUNT_DISABLED_MAIL)
                .bind(account_id)
                .bind(super::MailStatus::Pending.as_str())
                .execute(&mut *tx)
                .await?;
        }
        super::audit::insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
