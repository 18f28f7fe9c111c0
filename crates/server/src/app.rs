//! The application: configuration in, a bound listener, the router and the outbox
//! worker out. Tests build it on port 0 with their own data dir and SMTP server.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Config;
use crate::context::AppState;
use crate::http::router;
use crate::mail::{Outbox, OutboxKey, Transport};
use crate::passwords::Hasher;
use crate::store::Store;
use crate::verify::TrustStore;

/// A built, bound, not yet serving server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    /// The staff console's own listener (`staff_listen`), if turned on.
    staff_listener: Option<TcpListener>,
    state: AppState,
    outbox: Outbox,
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// Builds with the given clock (tests shift it).
    pub async fn build_with_clock(config: Config, clock: Clock) -> anyhow::Result<Application> {
        config.check()?;
        let listener = TcpListener::bind(&config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let staff_listener = if config.staff_listen.is_empty() {
            None
        } else {
            let l = TcpListener::bind(&config.staff_listen)
                .await
                .with_context(|| format!("binding the staff console to {}", config.staff_listen))?;
            if !l.local_addr()?.ip().is_loopback() {
                tracing::warn!(addr = %l.local_addr()?, "the staff console listens beyond loopback: keep it behind the office network or a TLS proxy");
            }
            Some(l)
        };
        let origin: Arc<str> = if config.public_origin.is_empty() {
            format!("http://{addr}").into()
        } else {
            config.public_origin.as_str().into()
        };
        crate::store::private_dir(&config.data_dir)?;
        let store =
            Store::open_with(&config.database_url(), std::time::Duration::from_secs(config.database_timeout_secs))
                .await?;
        let trust = TrustStore::load(config.trust_anchors.as_deref(), config.trust_intermediates.as_deref())?;
        let revocation = crate::revocation::Revocation::from_config(store.clone(), clock.clone(), &config, &trust)?;
        if config.smtp_in_clear() {
            tracing::warn!("smtp_url has tls=none: temporary passwords cross the network in clear to the relay");
        }
        if config.trust_anchors.is_none() {
            tracing::info!(
                "trust anchor: the Vietnam National Root CA shipped with the server (BHXH_TRUST_ANCHORS overrides it)"
            );
        }
        let hasher = Hasher::new(&config.argon2)?;
        let outbox_key = OutboxKey::load_or_create(&config.data_dir)?;
        // Every server on one database seals with one key: a second server with its own
        // (a forgotten copy, a recreated data dir) would leave mails nobody can open.
        store.check_outbox_key(outbox_key.id(), clock.now()).await?;
        tracing::info!(key = outbox_key.id(), "outbox key");
        let transport = Transport::from_config(&config)?;
        let from = config.mail_from.parse().with_context(|| format!("mail_from {:?}", config.mail_from))?;
        let wake = Arc::new(Notify::new());
        let outbox = Outbox {
            store: store.clone(),
            transport,
            key: outbox_key.clone(),
            clock: clock.clone(),
            from,
            config: config.outbox.clone(),
            retention: config.retention.clone(),
            secret_ttl_secs: config.temp_password_ttl_secs,
            wake: wake.clone(),
        };
        let proxies = Arc::new(config.proxies().map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?);
        let challenges = crate::challenge::Challenges::new(outbox_key.clone());
        let state = AppState {
            config: Arc::new(config),
            origin,
            store,
            trust: Arc::new(trust),
            revocation,
            proxies,
            challenges,
            memory_limits: Default::default(),
            standing: Default::default(),
            hasher,
            clock,
            outbox_key,
            wake,
            captcha_tap: None,
            health: Default::default(),
        };
        Ok(Application { listener, staff_listener, state, outbox })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The staff console's bound port, if it is turned on.
    pub fn staff_port(&self) -> Option<u16> {
        self.staff_listener.as_ref().and_then(|l| l.local_addr().ok()).map(|a| a.port())
    }

    /// In-process tests only: `f` sees every captcha's id and answer as it is made.
    pub fn tap_captchas(&mut self, f: impl Fn(&str, &str) + Send + Sync + 'static) {
        self.state.captcha_tap = Some(crate::context::CaptchaTap(Arc::new(f)));
    }

    /// The origin clients must sign for.
    pub fn origin(&self) -> String {
        self.state.origin.to_string()
    }

    /// The database handle (tests inspect it).
    pub fn store(&self) -> Store {
        self.state.store.clone()
    }

    /// Serves until `shutdown` resolves; the outbox worker runs alongside.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // The server's own workers write in the first lane (store::gate), ahead of a flood.
        use crate::store::gate::own_worker;
        let worker: JoinHandle<()> = tokio::spawn(own_worker(self.outbox.run()));
        // Fetched CRLs are refreshed before their nextUpdate, so a request rarely waits
        // for one (several servers share the database copy).
        let revocation = self.state.revocation.clone();
        let refresher: JoinHandle<()> = tokio::spawn(own_worker(async move {
            if !revocation.fetches() {
                return;
            }
            loop {
                revocation.refresh_due().await;
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            }
        }));
        // Confirmed email changes whose waiting period is over are put into effect (also
        // before anything mails an account, so this only keeps the console current).
        let state = self.state.clone();
        let settler: JoinHandle<()> = tokio::spawn(own_worker(async move {
            let every = std::time::Duration::from_secs(state.config.email_change.apply_interval_secs);
            loop {
                if let Err(e) = crate::email_change::settle(&state).await {
                    tracing::warn!(error = %e, "putting due email changes into effect failed");
                }
                tokio::time::sleep(every).await;
            }
        }));
        // Both listeners live in this one future (aborting it stops both) and stop together.
        let (stopping, mut stop) = tokio::sync::watch::channel(false);
        let http = self.state.config.http.clone();
        // A request in flight at shutdown may take its whole time: it is never cut.
        let grace = std::time::Duration::from_secs(
            self.state.config.limits.request_timeout_secs + http.header_read_timeout_secs + 1,
        );
        let staff = async {
            let Some(listener) = self.staff_listener else { return Ok(()) };
            let app = crate::staff::router(self.state.clone());
            crate::serve::serve(listener, app, &http, self.state.proxies.clone(), grace, async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
            .context("serving the staff console")
        };
        let app = router(self.state.clone());
        let main = async {
            let r = crate::serve::serve(self.listener, app, &http, self.state.proxies.clone(), grace, shutdown).await;
            let _ = stopping.send(true);
            r.context("serving")
        };
        let (result, staff_result) = tokio::join!(main, staff);
        worker.abort();
        refresher.abort();
        settler.abort();
        staff_result?;
        result
    }

    /// Serves forever in a background task (tests).
    pub fn spawn(self) -> JoinHandle<anyhow::Result<()>> {
        tokio::spawn(self.run_until(std::future::pending()))
    }
}
