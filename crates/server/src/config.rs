//! Server configuration: a TOML file, then `BHXH_*` environment variables on top.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// How the temporary password reaches the user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// Emailed, as the VNPT-BHXH software does (the default).
    #[default]
    Email,
    /// Strict mode: shown once in the app after the token proof; only a notification
    /// without the password is emailed.
    InApp,
}

impl Delivery {
    /// `email` or `in-app`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Email => "email",
            Delivery::InApp => "in-app",
        }
    }
}

/// Everything the server reads at start-up.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (tests).
    pub listen: String,
    /// `scheme://host[:port]` as clients reach the server (hashed into what they sign).
    /// Empty: `http://` + the bound address, for local use only.
    pub public_origin: String,
    /// Folder for the SQLite database, the `.eml` outbox and the outbox key.
    pub data_dir: PathBuf,
    /// `sqlite://…`; empty: `<data_dir>/bhxh.db`.
    pub database_url: String,
    /// `smtp://user:pass@host:port` (plain or STARTTLS with `?tls=required`) or
    /// `smtps://…` (implicit TLS). Empty: mails are written as `.eml` files into
    /// `<data_dir>/outbox/`.
    pub smtp_url: String,
    /// The From header of every mail.
    pub mail_from: String,
    /// PEM file of trusted CA certificates: roots (the Vietnam National Root CA) or CA
    /// certificates trusted directly.
    pub trust_anchors: Option<PathBuf>,
    /// PEM file of intermediate CA certificates (e.g. VNPT-CA SHA2): used to build the
    /// path from a token's certificate to an anchor, never trusted by themselves.
    pub trust_intermediates: Option<PathBuf>,
    /// CRL file(s) in PEM or DER; when set, every certificate's issuer must be covered
    /// by a current CRL (fail-closed).
    pub crl_file: Option<PathBuf>,
    /// Hotline printed in mails and messages.
    pub hotline: String,
    /// How the temporary password is delivered.
    pub deliver: Delivery,
    /// The reverse proxies (CIDRs) whose `X-Forwarded-For` is believed: the client is the
    /// rightmost forwarded address that is not one of them. Empty: the peer is the client.
    pub trusted_proxies: Vec<String>,
    /// Old switch: `true` with no `trusted_proxies` trusts a proxy on this machine
    /// (127.0.0.0/8, ::1) only.
    pub trust_proxy: bool,
    pub limits: Limits,
    pub revocation: RevocationConfig,
    pub outbox: OutboxConfig,
    pub argon2: Argon2Config,
    pub http: HttpConfig,
    pub retention: RetentionConfig,
    pub email_change: EmailChangeConfig,
    pub support: SupportConfig,
    /// How long a request waits for a database connection before it is answered
    /// `SERVICE_UNAVAILABLE` (the database is down or saturated).
    pub database_timeout_secs: u64,
    /// Lifetime of a challenge (5 minutes).
    pub challenge_ttl_secs: i64,
    /// Lifetime of a temporary password (24 hours).
    pub temp_password_ttl_secs: i64,
    /// Lifetime of a login session.
    pub session_ttl_secs: i64,
    /// Lifetime of a portal captcha (2 minutes).
    pub captcha_ttl_secs: i64,
    /// Lifetime of a portal activation link (30 minutes).
    pub activation_ttl_secs: i64,
    /// The support desk's staff console: its own listener, loopback by default; empty
    /// turns it off. Put it behind the office VPN or a TLS proxy, never on the internet.
    pub staff_listen: String,
    /// Lifetime of a staff session (a working day).
    pub staff_session_ttl_secs: i64,
    /// Certificate policies a CA's token certificates must carry (one of the listed
    /// OIDs), as the VN CAs publish them per kind of certificate: a CA that also issues
    /// certificates for other uses is accepted only for the kinds named here. A CA not
    /// named here is accepted whatever policies it sets.
    pub required_policies: Vec<RequiredPolicy>,
}

/// The policies required of the certificates one CA issues: the CA by the CN or the
/// SHA-256 fingerprint of its certificate (as in `revocation.responders`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredPolicy {
    pub issuer: String,
    /// Dotted OIDs; a certificate must carry at least one of them.
    pub oids: Vec<String>,
}

/// Abuse limits: fixed windows counted in the database, so every server instance and
/// the admin CLI (`account unlock`) see the same counters. Never a hard lock.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Per username (or MST) *and* client: one client cannot use up another's tries.
    pub per_username: u32,
    pub per_username_window_secs: i64,
    /// Per username (or MST) from every client together, in the same window: past it the
    /// identity is under attack (logged, shown on the desk), and nobody is refused for
    /// it — that would refuse the owner for other people's traffic.
    pub per_username_total: u32,
    /// Failed proofs (a recovery's checks after its challenge) one client may make on an
    /// account per window; past it that client is refused before anything is verified.
    /// A proof of ownership clears the count.
    pub failed_proofs_per_client: u32,
    /// Failed proofs on an account from every client together per window: past it the
    /// account is under attack (logged, shown on the desk); a valid proof is still taken.
    pub failed_proofs_per_account: u32,
    pub failed_proofs_window_secs: i64,
    /// Password mails (token or portal) an account is sent per day.
    pub reset_mails_per_day: u32,
    pub per_client: u32,
    pub per_client_window_secs: i64,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
}

/// Revocation of every certificate on a path: OCSP for the token's certificate, CRLs
/// (fetched from the distribution points, or the `crl_file`) for it and every CA above.
/// Fail-closed: a certificate without a fresh answer is refused.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevocationConfig {
    /// `false` accepts revoked certificates: a development profile only, said loudly at
    /// start, in `trust show` and in every audit line.
    pub enabled: bool,
    /// Ask the token certificate's OCSP responder (its authorityInfoAccess, or the one
    /// configured for its CA in `responders`).
    pub ocsp: bool,
    /// The nonce policy of every responder not configured otherwise.
    pub ocsp_nonce: NoncePolicy,
    /// Clock difference tolerated with a responder.
    pub ocsp_skew_secs: i64,
    /// How long after `thisUpdate` an answer without `nextUpdate` is fresh.
    pub ocsp_max_age_secs: i64,
    /// How old (from its `thisUpdate`, when fetched) a "good" answer not bound to our
    /// nonce may be and still decide alone; an older one needs the CRL to agree (it may
    /// be a replay from before a revocation).
    pub ocsp_good_alone_secs: i64,
    /// Longest reuse of a cached answer, whatever its `nextUpdate` says.
    pub ocsp_max_cache_secs: i64,
    /// Largest OCSP answer accepted.
    pub max_ocsp_bytes: usize,
    /// Per-CA responder settings: another URL, another nonce policy.
    pub responders: Vec<ResponderConfig>,
    /// Fetch each CRL the path needs from its certificate's distribution point (HTTP or
    /// HTTPS), cache it in the database for every server, refresh it before its
    /// `nextUpdate`.
    pub fetch_crls: bool,
    /// Where to fetch a distribution point or ask a responder instead (a local mirror
    /// for sites that cannot reach the CA, or the tests' own servers): URL → URL.
    pub mirrors: std::collections::BTreeMap<String, String>,
    /// Time limit of one fetch or OCSP exchange.
    pub fetch_timeout_secs: u64,
    /// Largest CRL accepted (a CA's full CRL can hold 100,000 serials).
    pub max_crl_bytes: usize,
    /// A cached CRL is fetched again this long before its `nextUpdate`.
    pub refresh_before_secs: i64,
    /// `Retry-After` of a `CERT_REVOCATION_UNKNOWN` answer.
    pub retry_after_secs: u64,
}

/// One CA's OCSP responder, named by the CA's CN or SHA-256 fingerprint.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponderConfig {
    pub issuer: String,
    /// Instead of the certificates' authorityInfoAccess.
    pub url: Option<String>,
    pub nonce: Option<NoncePolicy>,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        RevocationConfig {
            enabled: true,
            ocsp: true,
            ocsp_nonce: Default::default(),
            ocsp_skew_secs: 300,
            ocsp_max_age_secs: 3600,
            ocsp_good_alone_secs: 3600,
            ocsp_max_cache_secs: 86_400,
            max_ocsp_bytes: 64 * 1024,
            responders: Vec::new(),
            fetch_crls: true,
            mirrors: Default::default(),
            fetch_timeout_secs: 10,
            max_crl_bytes: 32 * 1024 * 1024,
            refresh_before_secs: 3600,
            retry_after_secs: 60,
        }
    }
}

/// Outbox delivery worker.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// How often the worker looks for due mail when nothing wakes it.
    pub poll_ms: u64,
    /// First retry delay; doubled per failed attempt up to `max_backoff_ms`.
    pub base_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// SMTP command timeout.
    pub smtp_timeout_secs: u64,
    /// The most one delivery may take, whatever the relay does (one that accepts and
    /// then goes silent included); then it is retried later.
    pub delivery_timeout_secs: u64,
    /// Mails delivered at once by one worker.
    pub concurrency: usize,
    /// How long a worker holds a mail it is delivering before any worker (of any
    /// server on the database) may try it again; longer than a slow delivery. After a
    /// crash, the mails being delivered at that moment wait this long.
    pub claim_lease_secs: i64,
}

/// The HTTP listeners' own defences: a client that is slow on purpose (slowloris) or
/// idle holds a connection for a bounded time, and only so many are open at once.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// The whole request head (line and headers) must arrive within this.
    pub header_read_timeout_secs: u64,
    /// A connection on which no byte moves for this long is closed (keep-alive idle,
    /// or a client that stopped sending). Longer than `limits.request_timeout_secs`.
    pub idle_timeout_secs: u64,
    /// Connections open at once per listener; past it new ones wait in the kernel's
    /// queue until one closes.
    pub max_connections: usize,
    /// Connections open at once from one client (an address, an IPv6 /64; a trusted
    /// proxy is not counted): past it the client's new ones are closed at once.
    pub max_connections_per_client: usize,
    /// The largest request head (line and headers) read; a larger one is answered
    /// `431 Request Header Fields Too Large` and the connection closed (at least 8192).
    pub max_header_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 4096,
            max_connections_per_client: 64,
            max_header_bytes: 32 * 1024,
        }
    }
}

/// How long rows live. Used and expired challenges, captchas, links, limit windows and
/// sessions go once they cannot matter (fixed, a day at most); these are the ones
/// support looks back at.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Audit lines are kept this many days, then deleted (support and disputes look
    /// back up to two years).
    pub audit_days: i64,
    /// Delivered or given-up mails (their secrets already wiped) stay this many days
    /// in the console's history.
    pub mail_days: i64,
    /// How often the purge runs.
    pub purge_interval_secs: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig { audit_days: 730, mail_days: 90, purge_interval_secs: 600 }
    }
}

/// Changing the registered email (`[email_change]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailChangeConfig {
    /// Lifetime of the link that confirms the new address (30 minutes).
    pub confirm_ttl_secs: i64,
    /// From the confirmation to the change taking effect, while the old address can
    /// cancel it (24 hours).
    pub wait_secs: i64,
    /// Requests (token or desk) an account may make per day.
    pub per_account_per_day: u32,
    /// Requests for all the accounts of one MST per day.
    pub per_mst_per_day: u32,
    /// How often a server looks for changes whose waiting period is over (they are also
    /// put into effect before any mail to the account is written).
    pub apply_interval_secs: u64,
    /// How long a desk proposal waits for a supervisor before it expires (7 days).
    pub proposal_ttl_secs: i64,
    /// After the registered address cancels a change, token requests for the account
    /// are refused this long (`EMAIL_CHANGE_PAUSED`, 30 days); the desk still can.
    pub token_pause_after_cancel_secs: i64,
}

impl Default for EmailChangeConfig {
    fn default() -> Self {
        EmailChangeConfig {
            confirm_ttl_secs: 30 * 60,
            wait_secs: 24 * 3600,
            per_account_per_day: 3,
            per_mst_per_day: 10,
            apply_interval_secs: 30,
            proposal_ttl_secs: 7 * 24 * 3600,
            token_pause_after_cancel_secs: 30 * 24 * 3600,
        }
    }
}

/// Support codes (`[support]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportConfig {
    /// How long a support code and its report live (1 hour).
    pub code_ttl_secs: i64,
    /// Codes one client address may make per hour.
    pub codes_per_client_per_hour: u32,
    /// Codes one network (IPv4 /24, IPv6 /48) may make per hour, all its clients together.
    pub codes_per_network_per_hour: u32,
    /// Codes every client together may make per hour: what reports may take of the
    /// database (at most this times `max_report_bytes` an hour; 1,000 × 32 KiB = 32 MiB).
    pub codes_per_hour: u32,
    /// Longest report accepted.
    pub max_report_bytes: usize,
    /// Support-code pages one staff member may open per 10 minutes (refreshes count).
    pub lookups_per_staff: u32,
}

impl Default for SupportConfig {
    fn default() -> Self {
        SupportConfig {
            code_ttl_secs: 3600,
            codes_per_client_per_hour: 5,
            codes_per_network_per_hour: 30,
            codes_per_hour: 1000,
            max_report_bytes: 32 * 1024,
            lookups_per_staff: 200,
        }
    }
}

/// argon2id cost; the defaults are OWASP's minimum (19 MiB, t = 2, p = 1).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Most hashes waiting per budget (proven users, the desk, public logins); past it
    /// `SERVER_BUSY`.
    pub max_queued: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            public_origin: String::new(),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            smtp_url: String::new(),
            mail_from: "BHXH Lấy lại mật khẩu <no-reply@bhxh.localhost>".into(),
            trust_anchors: None,
            trust_intermediates: None,
            crl_file: None,
            hotline: "1800 1260".into(),
            deliver: Delivery::Email,
            trusted_proxies: Vec::new(),
            trust_proxy: false,
            limits: Limits::default(),
            revocation: RevocationConfig::default(),
            outbox: OutboxConfig::default(),
            argon2: Argon2Config::default(),
            http: HttpConfig::default(),
            retention: RetentionConfig::default(),
            email_change: EmailChangeConfig::default(),
            support: SupportConfig::default(),
            database_timeout_secs: 3,
            challenge_ttl_secs: 300,
            temp_password_ttl_secs: 24 * 3600,
            session_ttl_secs: 8 * 3600,
            captcha_ttl_secs: 120,
            activation_ttl_secs: 30 * 60,
            staff_listen: "127.0.0.1:8081".into(),
            staff_session_ttl_secs: 9 * 3600,
            required_policies: Vec::new(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_username: 10,
            per_username_window_secs: 15 * 60,
            per_username_total: 100,
            failed_proofs_per_client: 10,
            failed_proofs_per_account: 100,
            failed_proofs_window_secs: 3600,
            reset_mails_per_day: 5,
            per_client: 60,
            per_client_window_secs: 60,
            max_body_bytes: 64 * 1024,
            request_timeout_secs: 15,
        }
    }
}

/// `smtp://` without TLS carries temporary passwords in clear: to another machine it
/// must say so (`tls=none`).
fn smtp_url_ok(url: &str) -> anyhow::Result<()> {
    if url.starts_with("smtp://")
        && !smtp_host_is_loopback(url)
        && !["tls=required", "tls=opportunistic", "tls=none"].iter().any(|t| url.contains(t))
    {
        bail!(
            "smtp_url {:?} sends temporary passwords in clear to another machine: use smtps://…, smtp://…?tls=required, \
             or write ?tls=none if the relay is on a network you trust",
            redact_userinfo(url)
        );
    }
    Ok(())
}

fn smtp_host_is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The URL without its user and password, for messages.
fn redact_userinfo(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, _)), Some(at)) => format!("{scheme}://…@{}", &url[at + 1..]),
        _ => url.to_string(),
    }
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            poll_ms: 1000,
            base_backoff_ms: 2000,
            max_backoff_ms: 5 * 60 * 1000,
            smtp_timeout_secs: 20,
            delivery_timeout_secs: 30,
            concurrency: 4,
            claim_lease_secs: 60,
        }
    }
}

impl Default for Argon2Config {
    fn default() -> Self {
        Argon2Config { memory_kib: 19 * 1024, iterations: 2, parallelism: 1, max_queued: 32 }
    }
}

impl Config {
    /// Reads `path` (or `BHXH_CONFIG`, or nothing) and applies `BHXH_*` variables.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let path = path.map(Path::to_path_buf).or_else(|| std::env::var_os("BHXH_CONFIG").map(PathBuf::from));
        let mut config = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p).with_context(|| format!("reading config {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing config {}", p.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.check()?;
        Ok(config)
    }

    /// Applies `BHXH_*` overrides read through `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = var("BHXH_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = var("BHXH_TRUSTED_PROXIES") {
            self.trusted_proxies = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
        }
        if let Some(v) = var("BHXH_STAFF_LISTEN") {
            self.staff_listen = v;
        }
        if let Some(v) = var("BHXH_PUBLIC_ORIGIN") {
            self.public_origin = v;
        }
        if let Some(v) = var("BHXH_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = var("BHXH_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = var("BHXH_SMTP_URL") {
            self.smtp_url = v;
        }
        if let Some(v) = var("BHXH_MAIL_FROM") {
            self.mail_from = v;
        }
        if let Some(v) = var("BHXH_TRUST_ANCHORS") {
            self.trust_anchors = Some(v.into());
        }
        if let Some(v) = var("BHXH_INTERMEDIATES") {
            self.trust_intermediates = Some(v.into());
        }
        if let Some(v) = var("BHXH_FETCH_CRLS") {
            self.revocation.fetch_crls = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = var("BHXH_OCSP") {
            self.revocation.ocsp = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = var("BHXH_OCSP_NONCE") {
            self.revocation.ocsp_nonce = NoncePolicy::parse(&v)
                .with_context(|| format!("BHXH_OCSP_NONCE must be off, prefer or require, not {v:?}"))?;
        }
        if let Some(v) = var("BHXH_REVOCATION") {
            // Only `off`, for a development machine; anything else keeps it required.
            self.revocation.enabled = v != "off-development";
        }
        if let Some(v) = var("BHXH_REVOCATION_MIRRORS") {
            // `from=to,from=to`
            self.revocation.mirrors = v
                .split(',')
                .filter_map(|p| p.split_once('='))
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .collect();
        }
        if let Some(v) = var("BHXH_CRL_FILE") {
            self.crl_file = Some(v.into());
        }
        if let Some(v) = var("BHXH_DELIVER") {
            self.deliver = match v.as_str() {
                "email" => Delivery::Email,
                "in-app" => Delivery::InApp,
                other => bail!("BHXH_DELIVER must be email or in-app, not {other:?}"),
            };
        }
        if let Some(v) = var("BHXH_EMAIL_CHANGE_WAIT_SECS") {
            self.email_change.wait_secs = v
                .parse()
                .with_context(|| format!("BHXH_EMAIL_CHANGE_WAIT_SECS must be a number of seconds, not {v:?}"))?;
        }
        Ok(())
    }

    /// Refuses settings that cannot work, before anything binds.
    pub fn check(&self) -> anyhow::Result<()> {
        self.listen.parse::<SocketAddr>().with_context(|| format!("listen address {:?}", self.listen))?;
        if !self.staff_listen.is_empty() {
            self.staff_listen
                .parse::<SocketAddr>()
                .with_context(|| format!("staff_listen address {:?}", self.staff_listen))?;
        }
        if !self.public_origin.is_empty()
            && bhxh_protocol::tbs::normalize_origin(&self.public_origin).as_deref() != Some(self.public_origin.as_str())
        {
            bail!(
                "public_origin must be scheme://host[:port] without path or trailing slash, e.g. https://reset.example.vn (got {:?})",
                self.public_origin
            );
        }
        if self.argon2.memory_kib < 19 * 1024 || self.argon2.iterations < 2 {
            bail!("argon2 must be at least m = 19456 KiB, t = 2 (OWASP)");
        }
        if [
            self.temp_password_ttl_secs,
            self.challenge_ttl_secs,
            self.session_ttl_secs,
            self.captcha_ttl_secs,
            self.activation_ttl_secs,
            self.staff_session_ttl_secs,
        ]
        .iter()
        .any(|t| *t <= 0)
        {
            bail!("lifetimes must be positive");
        }
        self.proxies().map_err(|e| anyhow::anyhow!("trusted_proxies: {e}"))?;
        if self.outbox.delivery_timeout_secs == 0 || self.outbox.delivery_timeout_secs > 30 {
            bail!("outbox.delivery_timeout_secs must be 1–30");
        }
        if self.outbox.delivery_timeout_secs as i64 >= self.outbox.claim_lease_secs {
            bail!("outbox.claim_lease_secs must be longer than delivery_timeout_secs (a mail being delivered must not be taken by another worker)");
        }
        smtp_url_ok(&self.smtp_url)?;
        let h = &self.http;
        if h.header_read_timeout_secs == 0
            || h.max_connections == 0
            || h.idle_timeout_secs <= self.limits.request_timeout_secs
        {
            bail!("http: header_read_timeout_secs and max_connections must be positive, idle_timeout_secs longer than limits.request_timeout_secs");
        }
        if self.retention.audit_days < 1 || self.retention.mail_days < 1 || self.retention.purge_interval_secs < 1 {
            bail!("retention: audit_days, mail_days and purge_interval_secs must be at least 1");
        }
        let e = &self.email_change;
        // A waiting period too short to act on would make the old address's cancel link
        // worthless: an hour at least.
        if e.confirm_ttl_secs < 60 || e.wait_secs < 3600 || e.apply_interval_secs == 0 || e.proposal_ttl_secs < 3600 {
            bail!("email_change: confirm_ttl_secs at least 60, wait_secs and proposal_ttl_secs at least 3600, apply_interval_secs positive");
        }
        if self.database_timeout_secs == 0 {
            bail!("database_timeout_secs must be positive");
        }
        let r = &self.revocation;
        if r.enabled && self.crl_file.is_none() && !r.fetch_crls && !r.ocsp {
            bail!(
                "revocation is required but has no source: set crl_file (BHXH_CRL_FILE), fetch_crls or ocsp; \
                 only a development machine may turn it off (BHXH_REVOCATION=off-development)"
            );
        }
        if r.ocsp_skew_secs < 0 || r.ocsp_max_age_secs <= 0 || r.ocsp_max_cache_secs <= 0 || r.ocsp_good_alone_secs < 0
        {
            bail!("revocation: ocsp_skew_secs and ocsp_good_alone_secs must be ≥ 0, ocsp_max_age_secs and ocsp_max_cache_secs > 0");
        }
        for p in &self.required_policies {
            let dotted = |o: &String| {
                let arcs: Vec<&str> = o.split('.').collect();
                arcs.len() >= 2 && arcs.iter().all(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
            };
            if p.issuer.trim().is_empty() || p.oids.is_empty() || !p.oids.iter().all(dotted) {
                bail!(
                    "required_policies: each needs an issuer (CN or SHA-256 fingerprint) and at least one dotted OID, \
                     not {:?} {:?}",
                    p.issuer,
                    p.oids
                );
            }
        }
        Ok(())
    }

    /// Whether mail leaves over plain SMTP to another machine (allowed only when the
    /// URL says `tls=none`; the start warns).
    pub fn smtp_in_clear(&self) -> bool {
        self.smtp_url.starts_with("smtp://")
            && !self.smtp_url.contains("tls=required")
            && !smtp_host_is_loopback(&self.smtp_url)
    }

    /// The trusted proxies, parsed.
    pub fn proxies(&self) -> Result<crate::client_addr::ProxyList, String> {
        if self.trusted_proxies.is_empty() && self.trust_proxy {
            return crate::client_addr::ProxyList::parse("127.0.0.0/8,::1");
        }
        crate::client_addr::ProxyList::parse(&self.trusted_proxies.join(","))
    }

    /// The database URL, defaulting to a file in the data dir.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("bhxh.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

/// Whether a request carries a nonce and an answer must echo it. Many CA responders
/// answer from precomputed responses and ignore nonces, so it is set per responder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoncePolicy {
    /// No nonce is sent; freshness rests on `thisUpdate`/`nextUpdate` alone.
    Off,
    /// A nonce is sent; an answer that echoes a different one is refused, one without
    /// it is judged by its dates.
    #[default]
    Prefer,
    /// A nonce is sent and the answer must echo it.
    Require,
}

impl std::fmt::Display for NoncePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            NoncePolicy::Off => "off",
            NoncePolicy::Prefer => "prefer",
            NoncePolicy::Require => "require",
        })
    }
}

impl NoncePolicy {
    pub fn parse(s: &str) -> Option<NoncePolicy> {
        match s {
            "off" => Some(NoncePolicy::Off),
            "prefer" => Some(NoncePolicy::Prefer),
            "require" => Some(NoncePolicy::Require),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_values() {
        let mut c: Config =
            toml::from_str("listen = \"0.0.0.0:9000\"\ndeliver = \"in-app\"\n[limits]\nper_client = 5\n").unwrap();
        assert_eq!(c.limits.per_client, 5);
        assert_eq!(c.deliver, Delivery::InApp);
        c.apply_env(|k| (k == "BHXH_LISTEN").then(|| "127.0.0.1:1".to_string())).unwrap();
        assert_eq!(c.listen, "127.0.0.1:1");
        c.check().unwrap();
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(toml::from_str::<Config>("nonsense = 1").is_err());
        let c = Config { public_origin: "https://a.vn/".into(), ..Config::default() };
        assert!(c.check().is_err());
        let c = Config {
            argon2: Argon2Config { memory_kib: 1024, iterations: 1, parallelism: 1, max_queued: 32 },
            ..Config::default()
        };
        assert!(c.check().is_err());
        let mut c = Config::default();
        assert!(c.apply_env(|k| (k == "BHXH_DELIVER").then(|| "sms".to_string())).is_err());
        let c = Config {
            outbox: OutboxConfig { delivery_timeout_secs: 120, ..OutboxConfig::default() },
            ..Config::default()
        };
        assert!(c.check().is_err(), "a delivery may not block for minutes");
    }

    #[test]
    fn plain_smtp_to_another_machine_must_say_so() {
        let with = |url: &str| Config { smtp_url: url.into(), ..Config::default() };
        let err = with("smtp://thu:Mat-khau-9@relay.congty.vn:25").check().unwrap_err().to_string();
        assert!(err.contains("in clear") && !err.contains("Mat-khau-9"), "{err}");
        for ok in [
            "smtp://relay.congty.vn:25?tls=none",
            "smtp://relay.congty.vn:587?tls=required",
            "smtps://relay.congty.vn",
            "smtp://127.0.0.1:2525",
            "smtp://[::1]:25",
            "",
        ] {
            with(ok).check().unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert!(with("smtp://relay.congty.vn:25?tls=none").smtp_in_clear());
        assert!(!with("smtp://127.0.0.1:2525").smtp_in_clear());
    }
}
