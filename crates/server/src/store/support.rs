//! Support reports under their support code: sealed, only the code's hash kept, gone
//! after an hour (the purge deletes them; a lookup never returns an expired one).

use super::audit::insert_audit;
use super::{AuditEntry, Store};

/// A stored report, still sealed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SupportRow {
    pub code_hash: String,
    pub instance: String,
    pub sealed: Vec<u8>,
    pub key_id: String,
    pub reference: String,
    pub client_addr: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a report with its audit line. False when the code's hash exists already
    /// (a fresh code is drawn then).
    pub async fn insert_support_report(&self, row: &SupportRow, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "INSERT INTO support_reports (code_hash, instance, sealed, key_id, reference, client_addr, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code_hash) DO NOTHING",
        )
        .bind(&row.code_hash)
        .bind(&row.instance)
        .bind(&row.sealed)
        .bind(&row.key_id)
        .bind(&row.reference)
        .bind(&row.client_addr)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The report under this code's hash, unless it has expired.
    pub async fn support_report(&self, code_hash: &str, now: i64) -> anyhow::Result<Option<SupportRow>> {
        Ok(sqlx::query_as("SELECT * FROM support_reports WHERE code_hash = $1 AND expires_at > $2")
            .bind(code_hash)
            .bind(now)
            .fetch_optional(&self.read)
            .await?)
    }
}
