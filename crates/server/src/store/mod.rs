//! The database: the only module that speaks SQL, one file per room (accounts,
//! challenges, portal, staff, sessions, audit, outbox, limits).
//!
//! SQLite (the embedded default) or PostgreSQL (several stateless servers), through sqlx's
//! `Any` driver: one set of statements, written in the SQL both accept (`$n` parameters
//! in order, `ON CONFLICT`, `RETURNING`, `LIKE … ESCAPE`), and one migration set per
//! engine with the same tables and columns. Writes go through their own pool (one
//! connection for SQLite, so they queue in-process instead of failing with
//! `SQLITE_BUSY`; WAL lets reads run beside the writer). Every check-and-set is a single
//! `UPDATE … WHERE <still unused>` inside the transaction that depends on it, which is
//! correct under SQLite's single writer and PostgreSQL's READ COMMITTED alike.
//!
//! Words the database keeps as text (an audit event, a mail's kind and status, an
//! outcome, a purpose) are enums here, parsed from their column when a row is read
//! (`#[sqlx(try_from = "String")]`) and written with `as_str()`: a handler cannot
//! compare or invent one as a string.

use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

mod accounts;
mod audit;
mod challenges;
mod crls;
mod ocsp;
mod limits;
mod outbox;
mod portal;
mod sessions;
mod staff;

pub use accounts::Account;
pub use audit::{AuditEntry, AuditEvent, Outcome};
pub use challenges::{Challenge, ResetWrite};
pub use crls::CachedCrl;
pub use ocsp::{CachedOcsp, OcspCacheStatus};
pub use outbox::{Mail, MailKind, MailStatus, NewMail};
pub use portal::{Activation, ActivationOutcome, CaptchaCheck, PortalWrite};
pub use sessions::{NewSession, SessionRow};
pub use staff::{Staff, StaffSession};

/// A text column's value that none of an enum's variants spells.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?} in the database")]
pub struct UnknownValue {
    what: &'static str,
    value: String,
}

/// An enum that the database stores as text: `as_str`, `parse`, `ALL`, `Display`,
/// `TryFrom<String>` (for `#[sqlx(try_from = "String")]`), and `== "text"` for tests.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident ($what:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every variant.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The inverse of `as_str`.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::store::UnknownValue;

            fn try_from(value: String) -> Result<$name, Self::Error> {
                $name::parse(&value).ok_or($crate::store::UnknownValue { what: $what, value })
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
pub(crate) use text_enum;

/// Which engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Migrations, applied in order, each once, each in its own transaction.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_portal_staff.sql")),
    (3, include_str!("../../migrations/sqlite/0003_crl_cache.sql")),
    (4, include_str!("../../migrations/sqlite/0004_ocsp_cache.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (2, include_str!("../../migrations/postgres/0002_portal_staff.sql")),
    (3, include_str!("../../migrations/postgres/0003_crl_cache.sql")),
    (4, include_str!("../../migrations/postgres/0004_ocsp_cache.sql")),
];

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    engine: Engine,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…`, created if needed, or `postgres://…`)
    /// and applies migrations.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let (engine, url) = if let Some(rest) = url.strip_prefix("sqlite://") {
            let path = rest.split('?').next().unwrap_or(rest);
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                }
            }
            let url = if url.contains("mode=") {
                url.to_string()
            } else {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            };
            (Engine::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Engine::Postgres, url.to_string())
        } else {
            bail!("database_url must start with sqlite:// or postgres:// (got {:?})", redact(url));
        };
        let pool = |max: u32| {
            let opts = AnyPoolOptions::new().max_connections(max).acquire_timeout(Duration::from_secs(30));
            match engine {
                Engine::Sqlite => opts.after_connect(sqlite_pragmas),
                Engine::Postgres => opts,
            }
        };
        let (write_max, read_max) = match engine {
            Engine::Sqlite => (1, 4),
            Engine::Postgres => (8, 8),
        };
        let redacted = redact(&url);
        let write = pool(write_max).connect(&url).await.with_context(|| format!("opening database {redacted}"))?;
        let read = pool(read_max).connect(&url).await.with_context(|| format!("opening database {redacted}"))?;
        let store = Store { write, read, engine };
        store.migrate().await?;
        Ok(store)
    }

    /// The engine behind this store.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        // Servers starting together migrate one after the other (PostgreSQL: an advisory
        // lock held by each migration transaction; SQLite: its single writer).
        let mut tx = self.write.begin().await?;
        if self.engine == Engine::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7310)").execute(&mut *tx).await?;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let migrations = match self.engine {
            Engine::Sqlite => SQLITE_MIGRATIONS,
            Engine::Postgres => POSTGRES_MIGRATIONS,
        };
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        for (version, sql) in migrations {
            let mut tx = self.write.begin().await?;
            if self.engine == Engine::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(7310)").execute(&mut *tx).await?;
            }
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_none() {
                sqlx::raw_sql(sql).execute(&mut *tx).await.with_context(|| format!("migration {version}"))?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(version)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Closes both pools (tests reopen the file afterwards).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// The columns of every table, in order (the two engines' schemas must agree).
    pub async fn columns(&self) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        const TABLES: &[&str] = &[
            "accounts", "sessions", "challenges", "outbox", "audit", "rate_limits", "captchas", "activations", "staff",
            "staff_sessions", "crl_cache", "ocsp_cache", "schema_migrations",
        ];
        let sql = match self.engine {
            Engine::Sqlite => "SELECT name FROM pragma_table_info($1) ORDER BY cid",
            Engine::Postgres => {
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position"
            }
        };
        let mut out = Vec::new();
        for table in TABLES {
            let cols: Vec<String> = sqlx::query_scalar(sql).bind(*table).fetch_all(&self.read).await?;
            out.push((table.to_string(), cols));
        }
        Ok(out)
    }

    /// Deletes what nobody needs any more: expired sessions, challenges older than a
    /// day, rate-limit windows older than a day.
    pub async fn purge(&self, now: i64) -> anyhow::Result<()> {
        let day_ago = now - 86_400;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.write).await?;
        sqlx::query("DELETE FROM challenges WHERE expires_at <= $1").bind(day_ago).execute(&self.write).await?;
        sqlx::query("DELETE FROM rate_limits WHERE window_start <= $1").bind(day_ago).execute(&self.write).await?;
        sqlx::query("DELETE FROM captchas WHERE expires_at <= $1").bind(now - 600).execute(&self.write).await?;
        sqlx::query("DELETE FROM activations WHERE expires_at <= $1").bind(day_ago).execute(&self.write).await?;
        sqlx::query("DELETE FROM staff_sessions WHERE expires_at <= $1").bind(now).execute(&self.write).await?;
        Ok(())
    }
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Every SQLite connection: WAL (reads beside the writer), NORMAL sync (atomic and
/// consistent across a process crash; a power cut may lose the last commits but never
/// leaves half of one), foreign keys, and a wait instead of `SQLITE_BUSY`.
fn sqlite_pragmas<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c>> {
    Box::pin(async move {
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000"] {
            sqlx::query(pragma).execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_get_their_pragmas() {
        let dir = std::env::temp_dir().join(format!("bhxh-store-test-{}", std::process::id()));
        let store = Store::open(&format!("sqlite://{}/t.db", dir.display())).await.unwrap();
        for pool in [&store.write, &store.read] {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.unwrap();
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await.unwrap();
            let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.unwrap();
            assert_eq!((mode.as_str(), sync, fk), ("wal", 1, 1));
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
