//! Abuse limits: fixed windows counted in the database (never a hard lock), so every
//! server behind a load balancer counts the same hits.

use sqlx::Row;

use super::Store;

/// How long a client that logged in to an account, or proved it, stays known to it
/// (its logins then never wait behind strangers' wrong passwords). Its marks are the
/// rate-limit keys that start with [`KNOWN_CLIENT_PREFIX`]; they outlive the one day
/// every other window is kept.
pub const KNOWN_CLIENT_DAYS: i64 = 30;
/// What every known-client mark's key starts with.
pub const KNOWN_CLIENT_PREFIX: &str = "known:";

/// One hit on a window, counted in the transaction of another write (a refusal's audit
/// line, a challenge used up): a failure's counts cost no writes of their own when a
/// flood keeps the database's writer busy.
#[derive(Clone, Copy, Debug)]
pub struct Hit<'a> {
    pub key: &'a str,
    pub window_secs: i64,
}

/// Counts a hit in a fixed window: the count in the current window, and when it started.
const HIT: &str = "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN rate_limits.window_start <= $2 - $3 THEN 1 ELSE rate_limits.count + 1 END,
       window_start = CASE WHEN rate_limits.window_start <= $2 - $3 THEN $2 ELSE rate_limits.window_start END
     RETURNING count, window_start";

/// Counts `hits` in `tx`; their counts in the current windows, in order.
pub(super) async fn hits_in(tx: &mut super::Tx<'_>, hits: &[Hit<'_>], now: i64) -> anyhow::Result<Vec<i64>> {
    let mut counts = Vec::with_capacity(hits.len());
    for h in hits {
        let row = sqlx::query(HIT).bind(h.key).bind(now).bind(h.window_secs).fetch_one(&mut **tx).await?;
        counts.push(row.try_get("count")?);
    }
    Ok(counts)
}

impl Store {
    /// Counts one hit on `key` in a fixed window; returns the count in the current
    /// window and when that window started.
    pub async fn hit(&self, key: &str, window_secs: i64, now: i64) -> anyhow::Result<(i64, i64)> {
        let row = sqlx::query(HIT).bind(key).bind(now).bind(window_secs).fetch_one(&mut *self.writer().await?).await?;
        Ok((row.try_get("count")?, row.try_get("window_start")?))
    }

    /// The count of `key` in its current window, without counting a hit.
    pub async fn limit_count(&self, key: &str, window_secs: i64, now: i64) -> anyhow::Result<i64> {
        let count: Option<i64> =
            sqlx::query_scalar("SELECT count FROM rate_limits WHERE key = $1 AND window_start > $2")
                .bind(key)
                .bind(now - window_secs)
                .fetch_optional(&self.read)
                .await?;
        Ok(count.unwrap_or(0))
    }

    /// The count of `key`'s current window and when it started, if it has one.
    pub async fn limit_window(&self, key: &str, window_secs: i64, now: i64) -> anyhow::Result<Option<(i64, i64)>> {
        let row = sqlx::query("SELECT count, window_start FROM rate_limits WHERE key = $1 AND window_start > $2")
            .bind(key)
            .bind(now - window_secs)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| Ok((r.try_get("count")?, r.try_get("window_start")?))).transpose()
    }

    /// Marks `key` as seen now (its window starts again; the count says how often):
    /// a client known to an account, kept [`KNOWN_CLIENT_DAYS`] after it was last seen.
    pub async fn mark_limit(&self, key: &str, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET window_start = $2, count = rate_limits.count + 1",
        )
        .bind(key)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Forgets one counter.
    pub async fn clear_limit(&self, key: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM rate_limits WHERE key = $1").bind(key).execute(&mut *self.writer().await?).await?;
        Ok(())
    }

    /// Forgets the counters whose key starts with `prefix` (support: "unlock").
    pub async fn clear_limits(&self, prefix: &str) -> anyhow::Result<u64> {
        let pattern = like_prefix(prefix);
        Ok(sqlx::query("DELETE FROM rate_limits WHERE key LIKE $1 ESCAPE '\\'")
            .bind(pattern)
            .execute(&mut *self.writer().await?)
            .await?
            .rows_affected())
    }

    /// The rate-limit windows whose key starts with `prefix` and that started after
    /// `since`: (key, count, window start).
    pub async fn limits_with_prefix(&self, prefix: &str, since: i64) -> anyhow::Result<Vec<(String, i64, i64)>> {
        let pattern = like_prefix(prefix);
        let rows = sqlx::query(
            "SELECT key, count, window_start FROM rate_limits WHERE key LIKE $1 ESCAPE '\\' AND window_start > $2",
        )
        .bind(pattern)
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("key")?, r.try_get("count")?, r.try_get("window_start")?))).collect()
    }
}

/// `prefix%` for `LIKE … ESCAPE '\'`, with the prefix's own wildcards escaped.
fn like_prefix(prefix: &str) -> String {
    format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}
