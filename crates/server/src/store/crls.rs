//! The CRL cache: CRLs fetched from distribution points, kept for every server on the
//! database, with the outcome of the last fetch (what `trust show` and staff read).

use super::Store;

/// A cached CRL, or the record of a fetch that failed (`der` empty then).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CachedCrl {
    pub url: String,
    pub der: Option<Vec<u8>>,
    pub this_update: Option<i64>,
    pub next_update: Option<i64>,
    pub fetched_at: i64,
    pub last_error: Option<String>,
}

/// A cached CRL's times and last fetch, without its DER (a CRL of a large CA is
/// megabytes: probes, scrapes and the desk's page read only these).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CrlState {
    pub url: String,
    pub this_update: Option<i64>,
    pub next_update: Option<i64>,
    pub fetched_at: i64,
    pub last_error: Option<String>,
}

impl Store {
    /// Every cached distribution point's times and last fetch, by URL (no DER).
    pub async fn crl_states(&self) -> anyhow::Result<Vec<CrlState>> {
        Ok(sqlx::query_as("SELECT url, this_update, next_update, fetched_at, last_error FROM crl_cache ORDER BY url")
            .fetch_all(&self.read)
            .await?)
    }

    /// The cached CRL of this distribution point.
    pub async fn cached_crl(&self, url: &str) -> anyhow::Result<Option<CachedCrl>> {
        Ok(sqlx::query_as("SELECT * FROM crl_cache WHERE url = $1").bind(url).fetch_optional(&self.read).await?)
    }

    /// Every cached distribution point, by URL.
    pub async fn cached_crls(&self) -> anyhow::Result<Vec<CachedCrl>> {
        Ok(sqlx::query_as("SELECT * FROM crl_cache ORDER BY url").fetch_all(&self.read).await?)
    }

    /// Stores a fetched CRL (replacing an older one).
    pub async fn put_crl(
        &self,
        url: &str,
        der: &[u8],
        this_update: i64,
        next_update: i64,
        now: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO crl_cache (url, der, this_update, next_update, fetched_at, last_error) VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (url) DO UPDATE SET der = $2, this_update = $3, next_update = $4, fetched_at = $5, last_error = NULL",
        )
        .bind(url)
        .bind(der)
        .bind(this_update)
        .bind(next_update)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Records a failed fetch, keeping the CRL cached before it (still usable until its
    /// `nextUpdate`).
    pub async fn crl_fetch_failed(&self, url: &str, error: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO crl_cache (url, fetched_at, last_error) VALUES ($1, $2, $3)
             ON CONFLICT (url) DO UPDATE SET fetched_at = $2, last_error = $3",
        )
        .bind(url)
        .bind(now)
        .bind(error)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }
}
