//! The OCSP cache: checked answers about token certificates, kept for every server on
//! the database until they may no longer be reused, with the last exchange's outcome
//! (what `trust show` and staff read).

use super::{text_enum, Store};

text_enum! {
    /// What the cache holds of a certificate's OCSP status.
    pub enum OcspCacheStatus ("OCSP cache status") {
        Good = "good",
        Revoked = "revoked",
        Unknown = "unknown",
        /// The last exchange gave no usable answer (`last_error` says why).
        NoAnswer = "none",
    }
}

/// A checked OCSP answer, or the record of an exchange that gave none.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CachedOcsp {
    /// SHA-256 of the issuer's key and the certificate's serial, hex.
    pub key: String,
    pub url: String,
    /// The certificate's CN.
    pub subject: String,
    #[sqlx(try_from = "String")]
    pub status: OcspCacheStatus,
    pub revoked_at: Option<i64>,
    pub this_update: i64,
    /// Reused until then (its `nextUpdate`, bounded by `ocsp_max_cache_secs`).
    pub good_until: i64,
    pub fetched_at: i64,
    /// `issuer` or `delegated <CN>`.
    pub signer: String,
    pub last_error: Option<String>,
}

impl Store {
    /// The cached answer about one certificate.
    pub async fn cached_ocsp(&self, key: &str) -> anyhow::Result<Option<CachedOcsp>> {
        Ok(sqlx::query_as("SELECT * FROM ocsp_cache WHERE key = $1").bind(key).fetch_optional(&self.read).await?)
    }

    /// Every cached answer, newest first.
    /// Each responder's last exchange since `since`, and how many of its certificates'
    /// last exchanges gave no usable answer: `(url, last exchange, certificates, failing)`.
    pub async fn ocsp_by_responder(&self, since: i64) -> anyhow::Result<Vec<(String, i64, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT url, max(fetched_at) AS last, count(*) AS n, \
             sum(CASE WHEN status = $1 THEN 1 ELSE 0 END) AS failing \
             FROM ocsp_cache WHERE fetched_at >= $2 GROUP BY url ORDER BY url",
        )
        .bind(OcspCacheStatus::NoAnswer.as_str())
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        use sqlx::Row;
        rows.iter()
            .map(|r| Ok((r.try_get("url")?, r.try_get("last")?, r.try_get("n")?, r.try_get("failing")?)))
            .collect()
    }

    pub async fn cached_ocsp_all(&self) -> anyhow::Result<Vec<CachedOcsp>> {
        Ok(sqlx::query_as("SELECT * FROM ocsp_cache ORDER BY fetched_at DESC, key LIMIT 200")
            .fetch_all(&self.read)
            .await?)
    }

    /// Stores a checked answer (replacing an older one).
    pub async fn put_ocsp(&self, a: &CachedOcsp) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO ocsp_cache (key, url, subject, status, revoked_at, this_update, good_until, fetched_at, signer, last_error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)
             ON CONFLICT (key) DO UPDATE SET url = $2, subject = $3, status = $4, revoked_at = $5, this_update = $6,
                 good_until = $7, fetched_at = $8, signer = $9, last_error = NULL",
        )
        .bind(&a.key)
        .bind(&a.url)
        .bind(&a.subject)
        .bind(a.status.as_str())
        .bind(a.revoked_at)
        .bind(a.this_update)
        .bind(a.good_until)
        .bind(a.fetched_at)
        .bind(&a.signer)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Records an exchange that gave no usable answer. A still-fresh earlier answer is
    /// kept (its status and dates), only the error is noted.
    pub async fn ocsp_failed(&self, key: &str, url: &str, subject: &str, error: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO ocsp_cache (key, url, subject, status, this_update, good_until, fetched_at, signer, last_error)
             VALUES ($1, $2, $3, 'none', 0, 0, $4, '', $5)
             ON CONFLICT (key) DO UPDATE SET fetched_at = $4, last_error = $5",
        )
        .bind(key)
        .bind(url)
        .bind(subject)
        .bind(now)
        .bind(error)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }
}
