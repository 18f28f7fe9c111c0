//! The database: the only module that speaks SQL.
//!
//! SQLite (the embedded default) or PostgreSQL (several stateless servers), through sqlx's
//! `Any` driver: one set of statements, written in the SQL both accept (`$n` parameters
//! in order, `ON CONFLICT`, `RETURNING`, `LIKE … ESCAPE`), and one migration set per
//! engine with the same tables and columns. Writes go through their own pool (one
//! connection for SQLite, so they queue in-process instead of failing with
//! `SQLITE_BUSY`; WAL lets reads run beside the writer). Every check-and-set is a single
//! `UPDATE … WHERE <still unused>` inside the transaction that depends on it, which is
//! correct under SQLite's single writer and PostgreSQL's READ COMMITTED alike.

use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

/// Which engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Migrations, applied in order, each once, each in its own transaction.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_portal_staff.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_portal_staff.sql")),
];

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    engine: Engine,
}

/// An enrolled account. Password hashes never leave the server process.
#[derive(Clone, Debug)]
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
}

/// A stored challenge.
#[derive(Clone, Debug)]
pub struct Challenge {
    pub id: String,
    pub username: String,
    pub purpose: String,
    pub nonce: String,
    pub origin: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub outcome: Option<String>,
}

/// A session looked up by its token hash, with its account.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub token_hash: String,
    pub account: Account,
    pub must_change: bool,
    pub expires_at: i64,
}

/// One line of the audit log. Never holds a password or a PIN.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct AuditEntry {
    pub reference: String,
    pub at: i64,
    pub event: String,
    pub username: Option<String>,
    pub outcome: String,
    pub error_code: Option<String>,
    pub client_addr: Option<String>,
    pub cert_fingerprint: Option<String>,
    pub actor: String,
    pub detail: Option<String>,
}

/// A mail to enqueue. `secret` is the encrypted temporary password, if the body
/// carries one (as a placeholder).
#[derive(Clone, Debug)]
pub struct NewMail {
    pub message_id: String,
    pub account_id: Option<i64>,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub secret: Option<Vec<u8>>,
    pub reference: String,
}

/// A mail in the outbox.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Mail {
    pub id: i64,
    pub message_id: String,
    pub account_id: Option<i64>,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    #[serde(skip)]
    pub body: String,
    #[serde(skip)]
    pub secret: Option<Vec<u8>>,
    pub has_secret: bool,
    pub reference: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// What a successful reset writes, all in one transaction.
#[derive(Debug)]
pub struct ResetWrite<'a> {
    pub challenge_id: &'a str,
    pub account_id: i64,
    pub temp_hash: &'a str,
    pub temp_expires_at: i64,
    pub reference: &'a str,
    pub now: i64,
    pub mails: Vec<NewMail>,
    pub audit: AuditEntry,
}

/// A new session: the hash of its token, never the token.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub must_change: bool,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A portal reset waiting for its activation link.
#[derive(Clone, Debug)]
pub struct Activation {
    pub token_hash: String,
    pub account_id: i64,
    pub temp_password_hash: String,
    pub temp_expires_at: i64,
    pub reference: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub superseded_at: Option<i64>,
}

impl Activation {
    /// What opening this link at `now` would do.
    pub fn outcome(&self, now: i64) -> ActivationOutcome {
        if self.used_at.is_some() {
            ActivationOutcome::Used
        } else if self.superseded_at.is_some() {
            ActivationOutcome::Superseded
        } else if now > self.expires_at {
            ActivationOutcome::Expired
        } else {
            ActivationOutcome::Activated
        }
    }
}

/// What checking a captcha found. The captcha is used up in every case but `Unknown`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptchaCheck {
    Ok,
    Incorrect,
    Used,
    Expired,
    Unknown,
}

/// What a portal request writes, all in one transaction: older links of the account
/// superseded, the new link (hashed) with the pending password (hashed), mail, audit.
#[derive(Debug)]
pub struct PortalWrite {
    pub account_id: i64,
    pub token_hash: String,
    pub temp_hash: String,
    pub temp_expires_at: i64,
    pub reference: String,
    pub now: i64,
    pub expires_at: i64,
    pub mails: Vec<NewMail>,
    pub audit: AuditEntry,
}

/// What opening an activation link found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationOutcome {
    Activated,
    Unknown,
    Used,
    Superseded,
    Expired,
}

/// A support staff member. The hash never leaves the server process.
#[derive(Clone, Debug)]
pub struct Staff {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

/// A live staff session with its member and the token its forms must carry.
#[derive(Clone, Debug)]
pub struct StaffSession {
    pub token_hash: String,
    pub staff: Staff,
    pub csrf: String,
    pub expires_at: i64,
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

    // ---- accounts -------------------------------------------------------------------

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
        .fetch_optional(&self.write)
        .await?;
        Ok(id)
    }

    /// The account with this (normalised) username.
    pub async fn account_by_username(&self, username: &str) -> anyhow::Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// Usernames registered for an MST, sorted.
    pub async fn usernames_by_mst(&self, mst: &str) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT username FROM accounts WHERE mst = $1 ORDER BY username")
            .bind(mst)
            .fetch_all(&self.read)
            .await?)
    }

    // ---- challenges -----------------------------------------------------------------

    /// Stores a fresh challenge with its audit line.
    pub async fn insert_challenge(&self, c: &Challenge, audit: &AuditEntry) -> anyhow::Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO challenges (id, username, purpose, nonce, origin, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(&c.username)
        .bind(&c.purpose)
        .bind(&c.nonce)
        .bind(&c.origin)
        .bind(c.created_at)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> anyhow::Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// The challenge with this id.
    pub async fn challenge(&self, id: &str) -> anyhow::Result<Option<Challenge>> {
        let row = sqlx::query("SELECT * FROM challenges WHERE id = $1").bind(id).fetch_optional(&self.read).await?;
        row.as_ref().map(challenge_from_row).transpose()
    }

    /// Uses up a challenge whose attempt failed, with the audit line, in one
    /// transaction. Returns false when it was already used.
    pub async fn fail_challenge(&self, id: &str, outcome: &str, now: i64, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
        let won = sqlx::query("UPDATE challenges SET used_at = $1, outcome = $2 WHERE id = $3 AND used_at IS NULL")
            .bind(now)
            .bind(outcome)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(won)
    }

    /// Writes a reset: consumes the challenge, stores the temporary password's hash,
    /// enqueues the mails and the audit line, all or nothing. Returns false (and writes
    /// nothing) when another request consumed the challenge first.
    pub async fn complete_reset(&self, w: ResetWrite<'_>) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
        let won = sqlx::query("UPDATE challenges SET used_at = $1, outcome = 'ok' WHERE id = $2 AND used_at IS NULL")
            .bind(w.now)
            .bind(w.challenge_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !won {
            tx.rollback().await?;
            return Ok(false);
        }
        write_reset(&mut tx, w.account_id, w.temp_hash, w.temp_expires_at, w.reference, w.now).await?;
        for mail in &w.mails {
            insert_mail(&mut tx, mail, w.now).await?;
        }
        insert_audit(&mut tx, &w.audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A reset started by support staff for a user who proved who they are by phone:
    /// as a token reset, without a challenge.
    #[allow(clippy::too_many_arguments)] // the columns of one write, named at the call
    pub async fn staff_reset(
        &self,
        account_id: i64,
        temp_hash: &str,
        temp_expires_at: i64,
        reference: &str,
        now: i64,
        mails: &[NewMail],
        audit: &AuditEntry,
    ) -> anyhow::Result<()> {
        let mut tx = self.write.begin().await?;
        write_reset(&mut tx, account_id, temp_hash, temp_expires_at, reference, now).await?;
        for mail in mails {
            insert_mail(&mut tx, mail, now).await?;
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    // ---- portal recovery ------------------------------------------------------------

    /// Stores a fresh captcha (the hash of its answer).
    pub async fn insert_captcha(&self, id: &str, answer_hash: &str, now: i64, expires_at: i64) -> anyhow::Result<()> {
        sqlx::query("INSERT INTO captchas (id, answer_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(answer_hash)
            .bind(now)
            .bind(expires_at)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Uses a captcha up and says whether the answer was right. One attempt per
    /// captcha: a wrong answer uses it up too.
    pub async fn take_captcha(&self, id: &str, answer_hash: &str, now: i64) -> anyhow::Result<CaptchaCheck> {
        let row = sqlx::query(
            "UPDATE captchas SET used_at = $1 WHERE id = $2 AND used_at IS NULL RETURNING answer_hash, expires_at",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else {
            let known: Option<String> =
                sqlx::query_scalar("SELECT id FROM captchas WHERE id = $1").bind(id).fetch_optional(&self.read).await?;
            return Ok(if known.is_some() { CaptchaCheck::Used } else { CaptchaCheck::Unknown });
        };
        let expected: String = row.try_get("answer_hash")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        Ok(if now > expires_at {
            CaptchaCheck::Expired
        } else if expected == answer_hash {
            CaptchaCheck::Ok
        } else {
            CaptchaCheck::Incorrect
        })
    }

    /// The accounts of an MST registered with this email (case-insensitive).
    pub async fn accounts_by_mst_email(&self, mst: &str, email: &str) -> anyhow::Result<Vec<Account>> {
        let rows = sqlx::query("SELECT * FROM accounts WHERE mst = $1 AND lower(email) = lower($2) ORDER BY id")
            .bind(mst)
            .bind(email)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// Writes a portal request: supersedes the account's older links, stores the new
    /// one, enqueues the mail, appends the audit line.
    pub async fn start_activation(&self, w: &PortalWrite) -> anyhow::Result<()> {
        let mut tx = self.write.begin().await?;
        supersede_activations(&mut tx, w.account_id, w.now).await?;
        sqlx::query(
            "INSERT INTO activations (token_hash, account_id, temp_password_hash, temp_expires_at, reference, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&w.token_hash)
        .bind(w.account_id)
        .bind(&w.temp_hash)
        .bind(w.temp_expires_at)
        .bind(&w.reference)
        .bind(w.now)
        .bind(w.expires_at)
        .execute(&mut *tx)
        .await?;
        for mail in &w.mails {
            insert_mail(&mut tx, mail, w.now).await?;
        }
        insert_audit(&mut tx, &w.audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The activation with this token hash.
    pub async fn activation(&self, token_hash: &str) -> anyhow::Result<Option<Activation>> {
        let row = sqlx::query("SELECT * FROM activations WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(activation_from_row).transpose()
    }

    /// The newest activation of an account that is still waiting for its link.
    pub async fn pending_activation(&self, account_id: i64, now: i64) -> anyhow::Result<Option<Activation>> {
        let row = sqlx::query(
            "SELECT * FROM activations WHERE account_id = $1 AND used_at IS NULL AND superseded_at IS NULL
             AND expires_at >= $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(account_id)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(activation_from_row).transpose()
    }

    /// Opens an activation link: the pending password becomes the account's temporary
    /// password, the old password stops working and every session ends, with the
    /// notification and the audit line, in one transaction. Anything but `Activated`
    /// writes nothing.
    pub async fn activate(&self, token_hash: &str, now: i64, notice: &NewMail, audit: &AuditEntry) -> anyhow::Result<ActivationOutcome> {
        let mut tx = self.write.begin().await?;
        let row = sqlx::query("SELECT * FROM activations WHERE token_hash = $1").bind(token_hash).fetch_optional(&mut *tx).await?;
        let Some(a) = row.as_ref().map(activation_from_row).transpose()? else {
            return Ok(ActivationOutcome::Unknown);
        };
        let outcome = a.outcome(now);
        if outcome != ActivationOutcome::Activated {
            tx.rollback().await?;
            return Ok(outcome);
        }
        let won = sqlx::query(
            "UPDATE activations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND superseded_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            tx.rollback().await?;
            return Ok(ActivationOutcome::Used);
        }
        sqlx::query(
            "UPDATE accounts SET password_hash = NULL, temp_password_hash = $1, temp_expires_at = $2, temp_used_at = NULL,
             temp_reference = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&a.temp_password_hash)
        .bind(a.temp_expires_at)
        .bind(&a.reference)
        .bind(now)
        .bind(a.account_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(a.account_id).execute(&mut *tx).await?;
        insert_mail(&mut tx, notice, now).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(ActivationOutcome::Activated)
    }

    /// The account with this id.
    pub async fn account_by_id(&self, id: i64) -> anyhow::Result<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = $1").bind(id).fetch_optional(&self.read).await?;
        row.as_ref().map(account_from_row).transpose()
    }

    // ---- support desk -----------------------------------------------------------------

    /// Enrols a staff member; `Ok(None)` when the username exists.
    pub async fn insert_staff(&self, username: &str, name: &str, password_hash: &str, now: i64, audit: &AuditEntry) -> anyhow::Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO staff (username, name, password_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(name)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if id.is_some() {
            insert_audit(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Sets a staff member's password (and enables the account); ends their sessions.
    pub async fn set_staff_password(&self, username: &str, password_hash: &str, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE staff SET password_hash = $1, disabled_at = NULL WHERE username = $2 RETURNING id",
        )
        .bind(password_hash)
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1").bind(id).execute(&mut *tx).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Disables a staff member and ends their sessions.
    pub async fn disable_staff(&self, username: &str, now: i64, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE staff SET disabled_at = $1 WHERE username = $2 RETURNING id")
            .bind(now)
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1").bind(id).execute(&mut *tx).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The staff member with this username (enabled or not).
    pub async fn staff_by_username(&self, username: &str) -> anyhow::Result<Option<Staff>> {
        let row = sqlx::query("SELECT * FROM staff WHERE username = $1").bind(username).fetch_optional(&self.read).await?;
        row.as_ref().map(staff_from_row).transpose()
    }

    /// Every staff member, by username.
    pub async fn list_staff(&self) -> anyhow::Result<Vec<Staff>> {
        let rows = sqlx::query("SELECT * FROM staff ORDER BY username").fetch_all(&self.read).await?;
        rows.iter().map(staff_from_row).collect()
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
        let mut tx = self.write.begin().await?;
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
        let row = sqlx::query(
            "SELECT s.token_hash, s.csrf, s.expires_at AS session_expires_at, st.*
             FROM staff_sessions s JOIN staff st ON st.id = s.staff_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND st.disabled_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(StaffSession {
                token_hash: r.try_get("token_hash")?,
                csrf: r.try_get("csrf")?,
                expires_at: r.try_get("session_expires_at")?,
                staff: staff_from_row(&r)?,
            })),
        }
    }

    /// Ends a staff session, with its audit line.
    pub async fn delete_staff_session(&self, token_hash: &str, audit: &AuditEntry) -> anyhow::Result<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accounts whose username or MST is `q` (an MST also finds its branches).
    pub async fn search_accounts(&self, q: &str, limit: i64) -> anyhow::Result<Vec<Account>> {
        let branch = format!("{}-%", q.replace(['\\', '%', '_'], ""));
        let rows = sqlx::query("SELECT * FROM accounts WHERE username = $1 OR mst = $1 OR mst LIKE $2 ORDER BY username LIMIT $3")
            .bind(q)
            .bind(branch)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// The newest `limit` mails of an account, newest first.
    pub async fn mail_of_account(&self, account_id: i64, limit: i64) -> anyhow::Result<Vec<Mail>> {
        let rows = sqlx::query("SELECT * FROM outbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2")
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// One mail by id.
    pub async fn mail(&self, id: i64) -> anyhow::Result<Option<Mail>> {
        let row = sqlx::query("SELECT * FROM outbox WHERE id = $1").bind(id).fetch_optional(&self.read).await?;
        row.as_ref().map(mail_from_row).transpose()
    }

    /// Sends a mail again: a pending one is made due now; a delivered or failed one
    /// without a secret is enqueued again as a copy. With the audit line. False when
    /// neither applies (a password mail whose content was wiped).
    pub async fn resend_mail(&self, id: i64, copy: Option<&NewMail>, now: i64, audit: &AuditEntry) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
        let done = match copy {
            None => {
                sqlx::query("UPDATE outbox SET next_attempt_ms = $1 WHERE id = $2 AND status = 'pending'")
                    .bind(now * 1000)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1
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

    /// Consumes a username-lookup challenge with its audit line. False when lost.
    pub async fn complete_lookup(&self, challenge_id: &str, now: i64, audit: &AuditEntry) -> anyhow::Result<bool> {
        self.fail_challenge(challenge_id, "ok", now, audit).await
    }

    // ---- sessions and passwords -----------------------------------------------------

    /// First use of a temporary password: the reset takes effect. The old password
    /// stops working, the temporary one is marked used, every session ends, and a new
    /// must-change session begins, in one transaction.
    pub async fn use_temp_password(
        &self,
        account_id: i64,
        session: &NewSession,
        now: i64,
        audit: &AuditEntry,
    ) -> anyhow::Result<bool> {
        let mut tx = self.write.begin().await?;
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
        tx.commit().await?;
        Ok(true)
    }

    /// A normal login's session, with its audit line.
    pub async fn create_session(&self, account_id: i64, session: &NewSession, audit: &AuditEntry) -> anyhow::Result<()> {
        let mut tx = self.write.begin().await?;
        insert_session(&mut tx, account_id, session).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live session with this token hash.
    pub async fn session(&self, token_hash: &str, now: i64) -> anyhow::Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT s.token_hash, s.must_change, s.expires_at AS session_expires_at, a.*
             FROM sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(SessionRow {
                token_hash: r.try_get("token_hash")?,
                must_change: r.try_get::<i64, _>("must_change")? != 0,
                expires_at: r.try_get("session_expires_at")?,
                account: account_from_row(&r)?,
            })),
        }
    }

    /// Ends one session, with its audit line.
    pub async fn delete_session(&self, token_hash: &str, audit: &AuditEntry) -> anyhow::Result<()> {
        let mut tx = self.write.begin().await?;
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
        let mut tx = self.write.begin().await?;
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

    // ---- audit ----------------------------------------------------------------------

    /// Appends one audit line on its own.
    pub async fn audit(&self, entry: &AuditEntry) -> anyhow::Result<()> {
        let mut tx = self.write.begin().await?;
        insert_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Audit lines with this reference, oldest first.
    pub async fn audit_by_reference(&self, reference: &str) -> anyhow::Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT * FROM audit WHERE reference = $1 ORDER BY id")
            .bind(reference)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// An account's timeline, newest first: its own lines and the portal requests made
    /// for its MST (which name no username when the email did not match).
    pub async fn audit_for_account(&self, username: &str, mst: &str, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM audit WHERE username = $1 OR (username IS NULL AND detail LIKE $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(username)
        .bind(format!("mst={mst}%"))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// The newest `limit` audit lines of a username, newest first.
    pub async fn audit_by_username(&self, username: &str, limit: i64) -> anyhow::Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT * FROM audit WHERE username = $1 ORDER BY id DESC LIMIT $2")
            .bind(username)
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    // ---- rate limits ----------------------------------------------------------------

    /// Counts one hit on `key` in a fixed window; returns the count in the current
    /// window and when that window started.
    pub async fn hit(&self, key: &str, window_secs: i64, now: i64) -> anyhow::Result<(i64, i64)> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET
               count = CASE WHEN rate_limits.window_start <= $2 - $3 THEN 1 ELSE rate_limits.count + 1 END,
               window_start = CASE WHEN rate_limits.window_start <= $2 - $3 THEN $2 ELSE rate_limits.window_start END
             RETURNING count, window_start",
        )
        .bind(key)
        .bind(now)
        .bind(window_secs)
        .fetch_one(&self.write)
        .await?;
        Ok((row.try_get("count")?, row.try_get("window_start")?))
    }

    /// Forgets the counters whose key starts with `prefix` (support: "unlock").
    pub async fn clear_limits(&self, prefix: &str) -> anyhow::Result<u64> {
        let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        Ok(sqlx::query("DELETE FROM rate_limits WHERE key LIKE $1 ESCAPE '\\'")
            .bind(pattern)
            .execute(&self.write)
            .await?
            .rows_affected())
    }

    /// The rate-limit windows whose key starts with `prefix` and that started after
    /// `since`: (key, count, window start).
    pub async fn limits_with_prefix(&self, prefix: &str, since: i64) -> anyhow::Result<Vec<(String, i64, i64)>> {
        let pattern = format!("{}%", prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let rows = sqlx::query("SELECT key, count, window_start FROM rate_limits WHERE key LIKE $1 ESCAPE '\\' AND window_start > $2")
            .bind(pattern)
            .bind(since)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("key")?, r.try_get("count")?, r.try_get("window_start")?))).collect()
    }

    // ---- outbox ---------------------------------------------------------------------

    /// Mail due for (another) delivery attempt, oldest first.
    pub async fn due_mail(&self, now_ms: i64, limit: i64) -> anyhow::Result<Vec<Mail>> {
        let rows = sqlx::query(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_ms <= $1 ORDER BY id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// Takes a due mail for one delivery attempt: it is not due again (for any worker of
    /// any server on this database) before `lease_until_ms`. False when another worker
    /// took it first or it is no longer pending.
    pub async fn claim_mail(&self, id: i64, now_ms: i64, lease_until_ms: i64) -> anyhow::Result<bool> {
        Ok(sqlx::query(
            "UPDATE outbox SET next_attempt_ms = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_ms <= $3",
        )
        .bind(lease_until_ms)
        .bind(id)
        .bind(now_ms)
        .execute(&self.write)
        .await?
        .rows_affected()
            == 1)
    }

    /// The columns of every table, in order (the two engines' schemas must agree).
    pub async fn columns(&self) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        const TABLES: &[&str] = &[
            "accounts", "sessions", "challenges", "outbox", "audit", "rate_limits", "captchas", "activations", "staff",
            "staff_sessions", "schema_migrations",
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

    /// Marks a mail delivered and wipes its secret.
    pub async fn mark_sent(&self, id: i64, now: i64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'sent', secret = NULL, sent_at = $1, attempts = attempts + 1, last_error = NULL
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn mark_failed(&self, id: i64, next_attempt_ms: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = $1, last_error = $2 WHERE id = $3")
            .bind(next_attempt_ms)
            .bind(error)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Gives up on a mail for good and wipes its secret.
    pub async fn mark_dead(&self, id: i64, error: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE outbox SET status = 'failed', secret = NULL, attempts = attempts + 1, last_error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// The newest `limit` mails, newest first.
    pub async fn list_mail(&self, limit: i64) -> anyhow::Result<Vec<Mail>> {
        let rows = sqlx::query("SELECT * FROM outbox ORDER BY id DESC LIMIT $1").bind(limit).fetch_all(&self.read).await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// Makes a pending mail due now. False when there is no pending mail with that id.
    pub async fn retry_mail(&self, id: i64, now_ms: i64) -> anyhow::Result<bool> {
        Ok(sqlx::query("UPDATE outbox SET next_attempt_ms = $1 WHERE id = $2 AND status = 'pending'")
            .bind(now_ms)
            .bind(id)
            .execute(&self.write)
            .await?
            .rows_affected()
            == 1)
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

async fn insert_audit(tx: &mut Tx<'_>, e: &AuditEntry) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit (reference, at, event, username, outcome, error_code, client_addr, cert_fingerprint, actor, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&e.reference)
    .bind(e.at)
    .bind(&e.event)
    .bind(&e.username)
    .bind(&e.outcome)
    .bind(&e.error_code)
    .bind(&e.client_addr)
    .bind(&e.cert_fingerprint)
    .bind(&e.actor)
    .bind(&e.detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_mail(tx: &mut Tx<'_>, m: &NewMail, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO outbox (message_id, account_id, kind, recipient, subject, body, secret, reference, status, next_attempt_ms, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)",
    )
    .bind(&m.message_id)
    .bind(m.account_id)
    .bind(&m.kind)
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(&m.secret)
    .bind(&m.reference)
    .bind(now * 1000)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets a temporary password (the long-term one keeps working until it is used) and
/// cancels any portal link still waiting.
async fn write_reset(tx: &mut Tx<'_>, account_id: i64, temp_hash: &str, temp_expires_at: i64, reference: &str, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE accounts SET temp_password_hash = $1, temp_expires_at = $2, temp_used_at = NULL,
         temp_reference = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(temp_hash)
    .bind(temp_expires_at)
    .bind(reference)
    .bind(now)
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    supersede_activations(tx, account_id, now).await
}

async fn supersede_activations(tx: &mut Tx<'_>, account_id: i64, now: i64) -> anyhow::Result<()> {
    sqlx::query("UPDATE activations SET superseded_at = $1 WHERE account_id = $2 AND used_at IS NULL AND superseded_at IS NULL")
        .bind(now)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
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

fn account_from_row(r: &AnyRow) -> anyhow::Result<Account> {
    Ok(Account {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        mst: r.try_get("mst")?,
        email: r.try_get("email")?,
        cert_fingerprint: r.try_get("cert_fingerprint")?,
        password_hash: r.try_get("password_hash")?,
        temp_password_hash: r.try_get("temp_password_hash")?,
        temp_expires_at: r.try_get("temp_expires_at")?,
        temp_used_at: r.try_get("temp_used_at")?,
        temp_reference: r.try_get("temp_reference")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn activation_from_row(r: &AnyRow) -> anyhow::Result<Activation> {
    Ok(Activation {
        token_hash: r.try_get("token_hash")?,
        account_id: r.try_get("account_id")?,
        temp_password_hash: r.try_get("temp_password_hash")?,
        temp_expires_at: r.try_get("temp_expires_at")?,
        reference: r.try_get("reference")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
        superseded_at: r.try_get("superseded_at")?,
    })
}

fn staff_from_row(r: &AnyRow) -> anyhow::Result<Staff> {
    Ok(Staff {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        name: r.try_get("name")?,
        password_hash: r.try_get("password_hash")?,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

fn challenge_from_row(r: &AnyRow) -> anyhow::Result<Challenge> {
    Ok(Challenge {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        purpose: r.try_get("purpose")?,
        nonce: r.try_get("nonce")?,
        origin: r.try_get("origin")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
        outcome: r.try_get("outcome")?,
    })
}

fn audit_from_row(r: &AnyRow) -> anyhow::Result<AuditEntry> {
    Ok(AuditEntry {
        reference: r.try_get("reference")?,
        at: r.try_get("at")?,
        event: r.try_get("event")?,
        username: r.try_get("username")?,
        outcome: r.try_get("outcome")?,
        error_code: r.try_get("error_code")?,
        client_addr: r.try_get("client_addr")?,
        cert_fingerprint: r.try_get("cert_fingerprint")?,
        actor: r.try_get("actor")?,
        detail: r.try_get("detail")?,
    })
}

fn mail_from_row(r: &AnyRow) -> anyhow::Result<Mail> {
    let secret: Option<Vec<u8>> = r.try_get("secret")?;
    Ok(Mail {
        id: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        account_id: r.try_get("account_id")?,
        kind: r.try_get("kind")?,
        recipient: r.try_get("recipient")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        has_secret: secret.is_some(),
        secret,
        reference: r.try_get("reference")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_ms: r.try_get("next_attempt_ms")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
    })
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
