//! `bhxh-server`: `serve` runs the backend; the other commands are the support staff's.

use std::path::PathBuf;

use anyhow::Context;
use bhxh_server::store::{StaffRole, Store};
use bhxh_server::{admin, Application, Clock, Config};
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "bhxh-server", version, about = "BHXH password-recovery backend / Máy chủ lấy lại mật khẩu BHXH")]
struct Cli {
    /// Config file (TOML); `BHXH_*` variables override it.
    #[arg(long, global = true, env = "BHXH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the backend.
    Serve,
    /// Accounts: enrol, look up, clear rate limits.
    #[command(subcommand)]
    Account(AccountCmd),
    /// The audit log, by reference code or username.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Outgoing mail.
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// Support staff of the console (their own console passwords, read from stdin).
    #[command(subcommand)]
    Staff(StaffCmd),
    /// The trust the server would use: anchors, intermediates, CRLs.
    #[command(subcommand)]
    Trust(TrustCmd),
    /// Back up the database and the outbox key into a new folder, while the server runs
    /// (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
    Backup { dir: PathBuf },
    /// Put a backup back (the server stopped): the database and the outbox key.
    Restore {
        dir: PathBuf,
        /// Replace an existing database (an SQLite file is kept as `.before-restore`).
        #[arg(long)]
        replace: bool,
    },
    /// Print the API contract (OpenAPI 3.1, JSON): what `GET /v1/openapi.json` serves.
    Openapi,
}

#[derive(Subcommand, Debug)]
enum TrustCmd {
    /// Anchors, intermediates (and the anchor each chains to), CRLs with their dates,
    /// and the CRLs fetched from distribution points with their last fetch.
    Show,
    /// Fetch now the CRL of every distribution point of the configured intermediates and
    /// every one already cached.
    Refresh,
    /// What a recovery with this certificate would meet — path to the anchor, revocation
    /// (and from where), key usage, MST — without an account and without a signature:
    /// the server's own checks. Exit status 0 accepted, 2 refused, 3 undecided (the
    /// revocation status cannot be had now).
    Check {
        /// The certificate: PEM or DER (`.cer`, `.crt`, `.pem`).
        cert: PathBuf,
        /// CA certificates the token carries (PEM bundle or one DER), as a recovery sends them.
        #[arg(long)]
        chain: Option<PathBuf>,
        /// Check the validity and the path at this time (RFC 3339, e.g.
        /// 2026-01-31T09:00:00+07:00, or Unix seconds); revocation is as the sources say now.
        #[arg(long, value_parser = parse_time)]
        at: Option<i64>,
        /// The answer as JSON (one object) instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(secs);
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| format!("thời điểm theo RFC 3339 hoặc giây Unix / a time in RFC 3339 or Unix seconds, not {s:?}"))
}

#[derive(Subcommand, Debug)]
enum StaffCmd {
    /// Create a staff member; the console password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        /// Full name, shown on every audit line of their actions.
        #[arg(long)]
        name: String,
        /// `agent` (verifies callers, proposes an email change) or `supervisor` (also
        /// approves what another proposed).
        #[arg(long, default_value = "agent", value_parser = parse_role)]
        role: StaffRole,
    },
    /// Make a staff member an agent or a supervisor.
    Role {
        username: String,
        #[arg(value_parser = parse_role)]
        role: StaffRole,
    },
    /// Set a staff member's console password (read from standard input).
    Password { username: String },
    /// Stop a staff member from logging in; their sessions end.
    Disable { username: String },
    /// Clear the windows of a staff member's console logins.
    Unlock { username: String },
    /// Every staff member.
    List,
}

fn parse_role(s: &str) -> Result<StaffRole, String> {
    StaffRole::parse(s)
        .ok_or_else(|| format!("vai trò là agent hoặc supervisor / the role is agent or supervisor, not {s:?}"))
}

/// The staff member's console password: typed without echo, or one line of stdin.
fn read_staff_password() -> anyhow::Result<zeroize::Zeroizing<String>> {
    use std::io::IsTerminal;
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Mật khẩu bàn hỗ trợ / Console password: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line
    };
    let password = zeroize::Zeroizing::new(line.trim_end_matches(['\r', '\n']).to_string());
    if password.is_empty() {
        anyhow::bail!("không có mật khẩu trên stdin / no password on standard input");
    }
    Ok(password)
}

#[derive(Subcommand, Debug)]
enum AccountCmd {
    /// Enrol an account (no password: the user recovers one with the token).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        mst: String,
        #[arg(long)]
        email: String,
        /// Pin this certificate (PEM or DER) instead of binding by MST.
        #[arg(long)]
        cert: Option<PathBuf>,
    },
    /// Show an account and its latest attempts.
    Show { username: String },
    /// Clear the rate-limit windows of an account.
    Unlock { username: String },
    /// Disable an account (the employee left, the business closed, fraud): every public
    /// path answers as for an unknown account; sessions, the temporary password and
    /// pending activation links stop working.
    Disable {
        username: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Enable a disabled account again (the user then recovers a password anew).
    Enable { username: String },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Every entry with this reference code.
    Show { reference: String },
    /// The latest entries of a username.
    List {
        #[arg(long)]
        username: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand, Debug)]
enum OutboxCmd {
    /// Mail and its delivery state.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Try a pending mail again now.
    Retry { id: i64 },
    /// Make this server's outbox key the database's, when the key the other servers used
    /// is lost for good: the pending mails only that key could open are given up
    /// (their users ask again). Servers refuse to start with a key that is not the
    /// database's.
    AdoptKey,
}

#[tokio::main]
async fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BHXH_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    // Text for people (the journal keeps it as it is), or one JSON object a line for a
    // log collector: BHXH_LOG_FORMAT=json.
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("BHXH_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        print!("{}", bhxh_server::http::document_json());
        return;
    }
    if let Err(e) = run(cli).await {
        eprintln!("lỗi / error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    if let Command::Serve = cli.command {
        let app = Application::build(config).await?;
        tracing::info!(port = app.port(), origin = %app.origin(), "bhxh-server listening");
        return app.run_until(shutdown_signal()).await;
    }
    let clock = Clock::system();
    if let Command::Restore { dir, replace } = &cli.command {
        print!("{}", bhxh_server::backup::restore(&config, dir, *replace).await?);
        return Ok(());
    }
    let store = Store::open(&config.database_url()).await.context("opening the database")?;
    if let Command::Backup { dir } = &cli.command {
        let out = bhxh_server::backup::backup(&store, &config, &clock, dir).await;
        store.close().await;
        print!("{}", out?);
        return Ok(());
    }
    if let Command::Trust(cmd) = &cli.command {
        let trust = bhxh_server::verify::TrustStore::load(
            config.trust_anchors.as_deref(),
            config.trust_intermediates.as_deref(),
        )?;
        let revocation =
            bhxh_server::revocation::Revocation::from_config(store.clone(), clock.clone(), &config, &trust)?;
        if let TrustCmd::Check { cert, chain, at, json } = cmd {
            let der = bhxh_server::verify::read_pem_or_der(cert, "CERTIFICATE")?.remove(0);
            let chain = match chain {
                Some(path) => bhxh_server::verify::read_pem_or_der(path, "CERTIFICATE")?,
                None => Vec::new(),
            };
            let now = clock.now();
            let judge = bhxh_server::verdict::Judge {
                trust: &trust,
                policies: &config.required_policies,
                revocation: &revocation,
            };
            let check = bhxh_server::verdict::trust_check(judge, &der, &chain, at.unwrap_or(now), now).await;
            if *json {
                println!("{}", serde_json::to_string_pretty(&check)?);
            } else {
                print!("{}", check.render());
            }
            store.close().await;
            std::process::exit(check.outcome.exit_code());
        }
        if let TrustCmd::Refresh = cmd {
            revocation.refresh_all(&trust).await;
        }
        print!("{}", trust.report(clock.now()));
        print!("{}", revocation.report().await?);
        store.close().await;
        return Ok(());
    }
    let out = match cli.command {
        Command::Serve | Command::Trust(_) | Command::Backup { .. } | Command::Restore { .. } | Command::Openapi => {
            unreachable!("handled above")
        }
        Command::Account(AccountCmd::Add { username, mst, email, cert }) => {
            admin::account_add(&store, &clock, &username, &mst, &email, cert.as_deref()).await?
        }
        Command::Account(AccountCmd::Show { username }) => admin::account_show(&store, &clock, &username).await?,
        Command::Account(AccountCmd::Unlock { username }) => admin::account_unlock(&store, &clock, &username).await?,
        Command::Account(AccountCmd::Disable { username, reason }) => {
            admin::account_set_disabled(&store, &clock, &username, Some(&reason)).await?
        }
        Command::Account(AccountCmd::Enable { username }) => {
            admin::account_set_disabled(&store, &clock, &username, None).await?
        }
        Command::Audit(AuditCmd::Show { reference }) => admin::audit_show(&store, &reference).await?,
        Command::Audit(AuditCmd::List { username, limit }) => admin::audit_list(&store, &username, limit).await?,
        Command::Outbox(OutboxCmd::List { limit }) => admin::outbox_list(&store, limit).await?,
        Command::Outbox(OutboxCmd::Retry { id }) => admin::outbox_retry(&store, &clock, id).await?,
        Command::Outbox(OutboxCmd::AdoptKey) => {
            let key = bhxh_server::mail::OutboxKey::load_or_create(&config.data_dir)?;
            admin::outbox_adopt_key(&store, &clock, &key).await?
        }
        Command::Staff(StaffCmd::Add { username, name, role }) => {
            let hasher = bhxh_server::passwords::Hasher::new(&config.argon2)?;
            admin::staff_add(&store, &clock, &hasher, &username, &name, role, read_staff_password()?).await?
        }
        Command::Staff(StaffCmd::Role { username, role }) => admin::staff_role(&store, &clock, &username, role).await?,
        Command::Staff(StaffCmd::Password { username }) => {
            let hasher = bhxh_server::passwords::Hasher::new(&config.argon2)?;
            admin::staff_password(&store, &clock, &hasher, &username, read_staff_password()?).await?
        }
        Command::Staff(StaffCmd::Disable { username }) => admin::staff_disable(&store, &clock, &username).await?,
        Command::Staff(StaffCmd::Unlock { username }) => admin::staff_unlock(&store, &clock, &username).await?,
        Command::Staff(StaffCmd::List) => admin::staff_list(&store).await?,
    };
    print!("{out}");
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
