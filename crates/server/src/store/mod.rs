//! The database: the only module that speaks SQL, one file per room (accounts,
//! challenges, portal, staff, sessions, audit, outbox, limits).
//!
//! SQLite (the embedded default) or PostgreSQL (several stateless servers), through sqlx's
//! `Any` driver: one set of statements, written in the SQL both accept (`$n` parameters
//! in order, `ON CONFLICT`, `RETURNING`, `LIKE … ESCAPE`), and one migration set per
//! engine with the same tables and columns. Writes go through their own pool (one
//! connection for SQLite, so they queue in-process instead of failing with
//! `SQLITE_BUSY`; WAL lets reads run beside the writer), in the two lanes of [`gate`]:
//! the owner's and the desk's writes before strangers'. Every check-and-set is a single
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
mod detail;
mod email_changes;
pub(crate) mod gate;
pub mod limits;
mod ocsp;
mod outbox;
mod portal;
mod sessions;
mod staff;
mod steps;
mod support;

pub use accounts::Account;
pub use audit::{Actor, AuditEntry, AuditEvent, Outcome};
pub use challenges::{Challenge, ResetWrite};
pub use crls::{CachedCrl, CrlState};
pub use detail::{Counted, Detail, Proven, ReportProblem};
pub use email_changes::{ChangeState, ChangeVia, EmailChange, NewEmailChange};
pub use ocsp::{CachedOcsp, OcspCacheStatus};
pub use outbox::{Mail, MailKind, MailStatus, NewMail, OutboxState};
pub use portal::{Activation, ActivationOutcome, CaptchaCheck, PortalWrite};
pub use sessions::{LoginWindows, NewSession, SessionRow};
pub use staff::{Staff, StaffRole, StaffSession};
pub use support::SupportRow;

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

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = String::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown {} {text:?}", $what)))
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
    (5, include_str!("../../migrations/sqlite/0005_faults.sql")),
    (6, include_str!("../../migrations/sqlite/0006_email_change.sql")),
    (7, include_str!("../../migrations/sqlite/0007_support_codes.sql")),
    (8, include_str!("../../migrations/sqlite/0008_email_search.sql")),
    (9, include_str!("../../migrations/sqlite/0009_business_names.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (2, include_str!("../../migrations/postgres/0002_portal_staff.sql")),
    (3, include_str!("../../migrations/postgres/0003_crl_cache.sql")),
    (4, include_str!("../../migrations/postgres/0004_ocsp_cache.sql")),
    (5, include_str!("../../migrations/postgres/0005_faults.sql")),
    (6, include_str!("../../migrations/postgres/0006_email_change.sql")),
    (7, include_str!("../../migrations/postgres/0007_support_codes.sql")),
    (8, include_str!("../../migrations/postgres/0008_email_search.sql")),
    (9, include_str!("../../migrations/postgres/0009_business_names.sql")),
];

/// What [`Store::backup_counts`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupCounts {
    pub accounts: i64,
    pub pending_mail: i64,
    pub audit: i64,
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    engine: Engine,
    /// The writers' queue, the owner's lane first ([`gate`]); as many turns as writers.
    gate: gate::Gate,
    /// How long a write waits for its turn before it is an outage.
    acquire_timeout: Duration,
}

impl Store {
    /// Opens the database at `url` (`sqlite://…`, created if needed, or `postgres://…`)
    /// and applies migrations; a connection is waited for up to 10 s.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        Self::open_with(url, Duration::from_secs(10)).await
    }

    /// [`Store::open`], waiting at most `acquire_timeout` for a connection: past it the
    /// request fails as an outage ([`is_outage`]) and is answered `SERVICE_UNAVAILABLE`.
    pub async fn open_with(url: &str, acquire_timeout: Duration) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let (engine, url) = if let Some(rest) = url.strip_prefix("sqlite://") {
            let path = rest.split('?').next().unwrap_or(rest);
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    private_dir(dir)?;
                }
            }
            if !path.is_empty() && path != ":memory:" {
                private_file(std::path::Path::new(path))?;
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
            let opts = AnyPoolOptions::new().max_connections(max).acquire_timeout(acquire_timeout);
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
        let store = Store { write, read, engine, gate: gate::Gate::new(write_max as usize), acquire_timeout };
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
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let migrations = match self.engine {
            Engine::Sqlite => SQLITE_MIGRATIONS,
            Engine::Postgres => POSTGRES_MIGRATIONS,
        };
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
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

    /// A write transaction. A connection that fails before anything was done (the
    /// database just restarted, the pool held a dead connection) is tried again, at
    /// most three times in all: nothing can be half done yet.
    async fn begin(&self) -> Result<Tx<'static>, sqlx::Error> {
        let mut tries = 0;
        loop {
            let turn = self.gate.turn(gate::current_lane(), self.acquire_timeout).await?;
            match self.write.begin().await {
                Ok(tx) => return Ok(WriteTx { tx, _turn: turn }),
                Err(e) if tries < 2 && sqlx_outage(&e) && !matches!(e, sqlx::Error::PoolTimedOut) => {
                    tries += 1;
                    tracing::warn!(error = %e, tries, "database connection failed; trying again");
                    tokio::time::sleep(Duration::from_millis(50 * tries)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The writing connection for one statement outside a transaction, in its turn.
    async fn writer(&self) -> Result<WriteConn, sqlx::Error> {
        let turn = self.gate.turn(gate::current_lane(), self.acquire_timeout).await?;
        Ok(WriteConn { conn: self.write.acquire().await?, _turn: turn })
    }

    /// Closes both pools (tests reopen the file afterwards).
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// Answers when the database does.
    /// An SQLite database's copy at one instant, written by SQLite into `path` (which
    /// must not exist) while the server goes on writing: `VACUUM INTO`, on a reading
    /// connection (it holds one read transaction; writers are not held up in WAL mode).
    pub async fn vacuum_into(&self, path: &std::path::Path) -> anyhow::Result<()> {
        if self.engine != Engine::Sqlite {
            anyhow::bail!("VACUUM INTO is SQLite's");
        }
        let path = path.to_str().ok_or_else(|| anyhow::anyhow!("the backup path is not UTF-8"))?;
        sqlx::query("VACUUM INTO $1").bind(path.to_string()).execute(&self.read).await?;
        Ok(())
    }

    /// What a backup holds: accounts, mails waiting, audit lines.
    pub async fn backup_counts(&self) -> anyhow::Result<BackupCounts> {
        let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.read).await };
        Ok(BackupCounts {
            accounts: count("SELECT count(*) FROM accounts").await?,
            pending_mail: sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = $1")
                .bind(MailStatus::Pending.as_str())
                .fetch_one(&self.read)
                .await?,
            audit: count("SELECT count(*) FROM audit").await?,
        })
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// The columns of every table, in order (the two engines' schemas must agree).
    pub async fn columns(&self) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        const TABLES: &[&str] = &[
            "accounts",
            "sessions",
            "challenges",
            "outbox",
            "audit",
            "rate_limits",
            "captchas",
            "activations",
            "staff",
            "staff_sessions",
            "crl_cache",
            "ocsp_cache",
            "server_settings",
            "schema_migrations",
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

    /// Deletes what nobody needs any more, and returns how many rows of each table went:
    /// expired sessions (user and staff), used or expired challenges and captchas,
    /// activation links and rate-limit windows a day after their end (a client known to an
    /// account [`limits::KNOWN_CLIENT_DAYS`] after it was last seen), OCSP answers a day
    /// past their reuse, delivered or given-up mails after `mail_days`, audit lines
    /// after `audit_days`. Large deletes go in batches, so the writer is never held
    /// for long.
    pub async fn purge(
        &self,
        now: i64,
        keep: &crate::config::RetentionConfig,
    ) -> anyhow::Result<Vec<(&'static str, u64)>> {
        let day_ago = now - 86_400;
        let statements: [(&'static str, &'static str, i64); 13] = [
            ("sessions", "DELETE FROM sessions WHERE expires_at <= $1", now),
            ("staff_sessions", "DELETE FROM staff_sessions WHERE expires_at <= $1", now),
            ("challenges", "DELETE FROM challenges WHERE expires_at <= $1", day_ago),
            ("captchas", "DELETE FROM captchas WHERE expires_at <= $1", now - 600),
            ("activations", "DELETE FROM activations WHERE expires_at <= $1", day_ago),
            // Ended changes are history: kept as long as the audit is.
            (
                "email_changes",
                "DELETE FROM email_changes WHERE state IN ('applied', 'cancelled', 'superseded', 'expired') AND ended_at <= $1",
                now - keep.audit_days * 86_400,
            ),
            ("rate_limits", "DELETE FROM rate_limits WHERE window_start <= $1 AND key NOT LIKE 'known:%'", day_ago),
            // A client known to an account is remembered a month after it was last seen.
            (
                "known_clients",
                "DELETE FROM rate_limits WHERE window_start <= $1 AND key LIKE 'known:%'",
                now - limits::KNOWN_CLIENT_DAYS * 86_400,
            ),
            // A support report is gone when its code expires.
            ("support_reports", "DELETE FROM support_reports WHERE expires_at <= $1", now),
            ("ocsp_cache", "DELETE FROM ocsp_cache WHERE good_until <= $1 AND fetched_at <= $1", day_ago),
            (
                "outbox",
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status <> 'pending' AND created_at <= $1 LIMIT 5000)",
                now - keep.mail_days * 86_400,
            ),
            ("audit", "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at <= $1 LIMIT 5000)", now - keep.audit_days * 86_400),
            // A pending mail older than any password's life cannot matter either (the
            // worker gives such a mail up when it meets it).
            (
                "outbox_stale",
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND created_at <= $1 LIMIT 5000)",
                now - keep.mail_days * 86_400,
            ),
        ];
        let mut counts = Vec::new();
        for (table, sql, before) in statements {
            let mut total = 0;
            loop {
                let n = sqlx::query(sql).bind(before).execute(&mut *self.writer().await?).await?.rows_affected();
                total += n;
                if n < 5000 || !sql.contains("LIMIT") {
                    break;
                }
                tokio::task::yield_now().await;
            }
            counts.push((table, total));
        }
        Ok(counts)
    }
}

type Tx<'c> = WriteTx<'c>;

/// A write transaction, holding its turn at the writer until it ends.
struct WriteTx<'c> {
    tx: sqlx::Transaction<'c, sqlx::Any>,
    _turn: gate::Turn,
}

impl WriteTx<'_> {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// The writing connection for statements outside a transaction, holding its turn.
struct WriteConn {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    _turn: gate::Turn,
}

impl std::ops::Deref for WriteConn {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.conn
    }
}

/// Whether an error is the database being unreachable or saturated (answered
/// `SERVICE_UNAVAILABLE` with `Retry-After`, not `INTERNAL`): no connection within the
/// timeout, a broken connection, PostgreSQL shutting down or refusing connections, a
/// serialization failure or deadlock, SQLite busy, locked, out of disk or unable to
/// open its file. Takes an `anyhow::Error`, a `sqlx::Error`, or anything else (false).
pub fn is_outage(e: &dyn std::any::Any) -> bool {
    if let Some(e) = e.downcast_ref::<anyhow::Error>() {
        return e.chain().any(|c| c.downcast_ref::<sqlx::Error>().is_some_and(sqlx_outage));
    }
    e.downcast_ref::<sqlx::Error>().is_some_and(sqlx_outage)
}

fn sqlx_outage(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else { return false };
            if code.len() == 5 {
                // PostgreSQL SQLSTATE: connection exception, shutdown, cannot connect
                // now, too many connections, serialization failure, deadlock, read-only
                // (a standby after a failover).
                code.starts_with("08")
                    || ["57P01", "57P02", "57P03", "53300", "40001", "40P01", "25006"].contains(&code.as_ref())
            } else {
                // SQLite's (extended) result code: BUSY, LOCKED, IOERR, FULL, CANTOPEN.
                code.parse::<i64>().is_ok_and(|c| [5, 6, 10, 13, 14].contains(&(c & 0xff)))
            }
        }
        _ => false,
    }
}

/// Every SQLite connection: WAL (reads beside the writer), NORMAL sync (atomic and
/// consistent across a process crash; a power cut may lose the last commits but never
/// leaves half of one), foreign keys, and a wait instead of `SQLITE_BUSY`.
/// Creates `dir` (and its parents) if needed; one this process creates is readable by
/// its owner only (0700 on Unix). A folder that exists keeps its mode: it may be the
/// operator's, e.g. `/var/lib/bhxh` made by the package.
pub fn private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).with_context(|| format!("creating {}", dir.display()))
}

/// The SQLite database file, created empty and readable by its owner only (0600 on
/// Unix) before SQLite opens it, or narrowed to that if it exists: it holds emails,
/// MSTs, every argon2 hash and the desk's records. SQLite gives its `-wal` and `-shm`
/// files the database file's mode, so they are private too.
fn private_file(path: &std::path::Path) -> anyhow::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path).with_context(|| format!("creating {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))
                .with_context(|| format!("narrowing the mode of {}", path.display()))?;
            tracing::warn!(path = %path.display(), "the database file was readable by others: now by its owner only");
        }
    }
    Ok(())
}

fn sqlite_pragmas<'c>(
    conn: &'c mut sqlx::AnyConnection,
    _: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c>> {
    Box::pin(async move {
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 10000",
        ] {
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
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Each migration file is in its engine's list, in order (0008 was once written
    /// and never listed, so never applied).
    #[test]
    fn every_migration_file_is_listed_in_order() {
        for (engine, list) in [("sqlite", SQLITE_MIGRATIONS), ("postgres", POSTGRES_MIGRATIONS)] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(engine);
            let mut files: Vec<String> =
                std::fs::read_dir(&dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
            files.sort();
            let mut listed: Vec<String> = list.iter().map(|(_, sql)| sql.to_string()).collect();
            listed.sort();
            assert_eq!(files, listed, "{engine}: a file is not listed");
            let versions: Vec<i64> = list.iter().map(|(v, _)| *v).collect();
            assert_eq!(versions, (1..=list.len() as i64).collect::<Vec<_>>(), "{engine}");
        }
    }

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
