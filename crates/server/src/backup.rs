//! `bhxh-server backup DIR` and `bhxh-server restore DIR`: the database and the outbox
//! key, taken while the server runs, and put back so that the accounts, the audit and
//! the mail still waiting (sealed with that key) are all there.
//!
//! SQLite is copied by SQLite itself (`VACUUM INTO`: one read transaction, so the copy
//! is the database at one instant, written while the server goes on writing; never a
//! file copy, which can tear a page or miss the WAL). PostgreSQL is dumped by `pg_dump`
//! (custom format, one snapshot) and restored by `pg_restore`. Beside the database the
//! backup keeps `outbox.key` (0600): without it the waiting mails' passwords and links
//! cannot be opened, and a server refuses to start on a database sealed with another
//! key. `MANIFEST.txt` says what the backup holds.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::clock::{rfc3339, Clock};
use crate::config::Config;
use crate::mail::OutboxKey;
use crate::store::{Engine, Store};

const SQLITE_FILE: &str = "bhxh.db";
const PG_FILE: &str = "bhxh.pgdump";
const KEY_FILE: &str = "outbox.key";
const MANIFEST: &str = "MANIFEST.txt";

/// Takes a backup into `dir` (created; it must not exist or be empty).
pub async fn backup(store: &Store, config: &Config, clock: &Clock, dir: &Path) -> anyhow::Result<String> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} không trống / is not empty: a backup goes into a new folder", dir.display());
    }
    create_private_dir(dir)?;
    let now = clock.now();
    // The key as the server reads it (never made here: a backup changes nothing).
    let key_file = config.data_dir.join(KEY_FILE);
    let from_env = std::env::var_os("BHXH_OUTBOX_KEY").is_some();
    let key = if from_env || key_file.exists() { Some(OutboxKey::load_or_create(&config.data_dir)?) } else { None };
    let db = match store.engine() {
        Engine::Sqlite => {
            let file = dir.join(SQLITE_FILE);
            store.vacuum_into(&file).await.context("VACUUM INTO")?;
            restrict(&file)?;
            file
        }
        Engine::Postgres => {
            let file = dir.join(PG_FILE);
            run(Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--no-owner")
                .arg(format!("--file={}", file.display()))
                .arg(config.database_url()))?;
            restrict(&file)?;
            file
        }
    };
    let key_note = if from_env {
        "outbox key: from BHXH_OUTBOX_KEY (not in this folder: keep it with the backup)".to_string()
    } else if key.is_some() {
        std::fs::copy(&key_file, dir.join(KEY_FILE)).context("copying outbox.key")?;
        restrict(&dir.join(KEY_FILE))?;
        format!("outbox key: {KEY_FILE}")
    } else {
        "outbox key: none yet (no server has run on this data folder)".to_string()
    };
    // What the copy holds, read from the copy (SQLite) or the live database (pg_dump's
    // snapshot is the same instant give or take the writes after it).
    let counts = match store.engine() {
        Engine::Sqlite => {
            let copy = Store::open(&format!("sqlite://{}", db.display())).await?;
            let c = copy.backup_counts().await;
            copy.close().await;
            c?
        }
        Engine::Postgres => store.backup_counts().await?,
    };
    let manifest = format!(
        "bhxh-server {} backup\ntaken: {}\nengine: {:?}\ndatabase: {}\n{key_note}\noutbox key id: {}\n\
         accounts: {}\nmails waiting: {}\naudit lines: {}\n",
        env!("CARGO_PKG_VERSION"),
        rfc3339(now),
        store.engine(),
        db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        key.as_ref().map_or("-", |k| k.id()),
        counts.accounts,
        counts.pending_mail,
        counts.audit,
    );
    std::fs::write(dir.join(MANIFEST), &manifest)?;
    Ok(format!("Đã sao lưu vào / Backed up to {}\n{manifest}", dir.display()))
}

/// Puts a backup back: the database at `config`'s place (an SQLite file that exists, or
/// a PostgreSQL database with accounts, is replaced only with `replace`, the SQLite one
/// kept beside as `.before-restore`), and its outbox key into the data folder. The
/// server must be stopped.
pub async fn restore(config: &Config, dir: &Path, replace: bool) -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(dir.join(MANIFEST))
        .with_context(|| format!("{} is not a backup (no {MANIFEST})", dir.display()))?;
    let url = config.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let target = PathBuf::from(path.split('?').next().unwrap_or(path));
        let source = dir.join(SQLITE_FILE);
        if !source.exists() {
            bail!("this backup holds no SQLite database ({SQLITE_FILE}); the server is configured for SQLite");
        }
        if target.exists() {
            if !replace {
                bail!("{} exists: stop the server and add --replace to put the backup in its place", target.display());
            }
            let kept = target.with_extension("db.before-restore");
            std::fs::rename(&target, &kept)?;
        }
        for stale in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{stale}", target.display()));
        }
        if let Some(parent) = target.parent() {
            create_private_dir(parent)?;
        }
        std::fs::copy(&source, &target).context("copying the database")?;
        restrict(&target)?;
    } else {
        let source = dir.join(PG_FILE);
        if !source.exists() {
            bail!("this backup holds no PostgreSQL dump ({PG_FILE}); the server is configured for PostgreSQL");
        }
        let store = Store::open(&url).await?;
        let accounts = store.backup_counts().await.map(|c| c.accounts).unwrap_or(0);
        store.close().await;
        if accounts > 0 && !replace {
            bail!("the database already has {accounts} accounts: add --replace to put the backup in their place");
        }
        run(Command::new("pg_restore")
            .arg("--clean")
            .arg("--if-exists")
            .arg("--no-owner")
            .arg("--single-transaction")
            .arg(format!("--dbname={url}"))
            .arg(&source))?;
    }
    let key_source = dir.join(KEY_FILE);
    if key_source.exists() {
        let target = config.data_dir.join(KEY_FILE);
        if target.exists() && std::fs::read(&target)? != std::fs::read(&key_source)? {
            if !replace {
                bail!("{} holds another key: add --replace to put the backup's in its place", target.display());
            }
            std::fs::rename(&target, target.with_extension("key.before-restore"))?;
        }
        if !target.exists() {
            create_private_dir(&config.data_dir)?;
            std::fs::copy(&key_source, &target)?;
            restrict(&target)?;
        }
    }
    // The database and the key agree (a server would refuse to start otherwise).
    let store = Store::open(&url).await?;
    let key = OutboxKey::load_or_create(&config.data_dir)?;
    let checked = store.check_outbox_key(key.id(), crate::clock::Clock::system().now()).await;
    let counts = store.backup_counts().await;
    store.close().await;
    checked.context("the restored database and the outbox key do not match")?;
    let counts = counts?;
    Ok(format!(
        "Đã khôi phục / Restored from {}: {} accounts, {} mails waiting, {} audit lines\n{manifest}",
        dir.display(),
        counts.accounts,
        counts.pending_mail,
        counts.audit
    ))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!("{program} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn restrict(file: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
    }
    let _ = file;
    Ok(())
}
