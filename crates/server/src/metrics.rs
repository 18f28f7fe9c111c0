//! Prometheus metrics in the text format (0.0.4), served by the staff listener only
//! (`GET /metrics`, no login: that listener is on the operators' network) and never by
//! the public one. Counters and histograms are process-wide and recorded where things
//! happen (every answer, token proofs, the certificate verdict, argon2, the limits, the
//! revocation sources, internal errors); the argon2 queues, the outbox, the CRLs and the
//! database are read when scraped ([`Scraped`], gathered by the staff router's
//! `metrics_page`: this module is a leaf, imported by the rooms it counts). Names and units follow Prometheus' conventions
//! (`bhxh_` prefix, seconds, `_total` counters); `promtool check metrics` passes in the
//! tests. No label holds a username, an address or anything a user typed: routes are
//! the router's templates, codes the catalogue's, sources the CAs' URLs.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Every metric the server keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Answers by route template and catalogue code (`ok` for a success).
    pub requests: IntCounterVec,
    pub request_seconds: HistogramVec,
    /// Completed token proofs by purpose and code (`ok` for a success).
    pub token_proofs: IntCounterVec,
    /// The certificate verdict (path, policies, revocation) of a recovery or a check.
    pub verdict_seconds: HistogramVec,
    /// One argon2 computation, and the wait in its lane's queue before it.
    pub argon2_seconds: HistogramVec,
    pub argon2_wait_seconds: HistogramVec,
    /// Hashes refused because their lane's queue was full (`SERVER_BUSY`).
    pub argon2_rejected: IntCounterVec,
    argon2_queued: IntGaugeVec,
    /// A request's wait for a turn by its client's standing (`crate::standing`), by class.
    pub turn_wait_seconds: HistogramVec,
    /// Requests refused by a limit, by what it counts.
    pub limits_hit: IntCounterVec,
    /// OCSP answers by responder and status; fetches by kind (ocsp, crl) and source.
    pub ocsp_responses: IntCounterVec,
    pub revocation_fetch_seconds: HistogramVec,
    pub revocation_fetch_errors: IntCounterVec,
    crl_this_update: IntGaugeVec,
    crl_next_update: IntGaugeVec,
    outbox_pending: IntGauge,
    outbox_oldest_age: Gauge,
    outbox_dead: IntGauge,
    /// Internal errors answered `INTERNAL`, by kind (`database`, `other`).
    pub internal_errors: IntCounterVec,
    database_up: IntGauge,
    build_info: IntGaugeVec,
    /// One scrape at a time sets the scrape-time gauges and encodes them (two servers in
    /// one process, or two scrapers, never see each other's half-set values).
    scraping: std::sync::Mutex<()>,
}

/// The process's metrics (created on first use).
pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(|| Metrics::new().unwrap_or_else(|e| panic!("the metrics are well formed: {e}")))
}

const FAST: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

impl Metrics {
    fn new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| -> prometheus::Result<IntCounterVec> {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let histogram = |name: &str, help: &str, labels: &[&str]| -> prometheus::Result<HistogramVec> {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(FAST.to_vec()), labels)?;
            registry.register(Box::new(h.clone()))?;
            Ok(h)
        };
        let gauges = |name: &str, help: &str, labels: &[&str]| -> prometheus::Result<IntGaugeVec> {
            let g = IntGaugeVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let gauge = |name: &str, help: &str| -> prometheus::Result<IntGauge> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let outbox_oldest_age = Gauge::new(
            "bhxh_outbox_oldest_pending_age_seconds",
            "Age of the oldest mail still waiting to be delivered (0 when none waits).",
        )?;
        registry.register(Box::new(outbox_oldest_age.clone()))?;
        let m = Metrics {
            requests: counter(
                "bhxh_http_requests_total",
                "Answers by route template and catalogue code (ok for a success).",
                &["route", "code"],
            )?,
            request_seconds: histogram(
                "bhxh_http_request_duration_seconds",
                "Time to answer, by route template.",
                &["route"],
            )?,
            token_proofs: counter(
                "bhxh_token_proofs_total",
                "Completed token proofs (recovery, username lookup, email change) by purpose and code (ok for a success).",
                &["purpose", "code"],
            )?,
            verdict_seconds: histogram(
                "bhxh_certificate_verdict_duration_seconds",
                "The certificate verdict of a recovery or a check (path, policies, revocation), by outcome.",
                &["outcome"],
            )?,
            argon2_seconds: histogram(
                "bhxh_argon2_duration_seconds",
                "One argon2id hash or verification, by lane.",
                &["lane"],
            )?,
            argon2_wait_seconds: histogram(
                "bhxh_argon2_queue_wait_seconds",
                "Time a hash waited in its lane's queue, by lane.",
                &["lane"],
            )?,
            argon2_rejected: counter(
                "bhxh_argon2_rejected_total",
                "Hashes refused because their lane's queue was full (SERVER_BUSY), by lane.",
                &["lane"],
            )?,
            argon2_queued: gauges("bhxh_argon2_queue_depth", "Hashes waiting, by lane.", &["lane"])?,
            turn_wait_seconds: histogram(
                "bhxh_turn_wait_seconds",
                "Time a request waited for a turn by its client's standing (good: never), by class.",
                &["class"],
            )?,
            limits_hit: counter(
                "bhxh_rate_limited_total",
                "Requests refused by a limit (RATE_LIMITED), by what the limit counts.",
                &["kind"],
            )?,
            ocsp_responses: counter(
                "bhxh_ocsp_responses_total",
                "Usable OCSP answers by responder URL (source) and certificate status.",
                &["source", "status"],
            )?,
            revocation_fetch_seconds: histogram(
                "bhxh_revocation_fetch_duration_seconds",
                "One exchange with a revocation source, by kind (ocsp, crl) and source URL.",
                &["kind", "source"],
            )?,
            revocation_fetch_errors: counter(
                "bhxh_revocation_fetch_errors_total",
                "Revocation sources that gave no usable answer, by kind (ocsp, crl) and source URL.",
                &["kind", "source"],
            )?,
            crl_this_update: gauges(
                "bhxh_crl_this_update_timestamp_seconds",
                "thisUpdate of each CRL held (the configured file's by issuer, fetched ones by URL).",
                &["source"],
            )?,
            crl_next_update: gauges(
                "bhxh_crl_next_update_timestamp_seconds",
                "nextUpdate of each CRL held: past it the CRL no longer decides (fail-closed).",
                &["source"],
            )?,
            outbox_pending: gauge("bhxh_outbox_pending_mails", "Mails waiting to be delivered.")?,
            outbox_oldest_age,
            outbox_dead: gauge("bhxh_outbox_dead_letters", "Mails given up on for good (dead letters), all time.")?,
            internal_errors: counter(
                "bhxh_internal_errors_total",
                "Requests answered INTERNAL, by kind (database, other).",
                &["kind"],
            )?,
            database_up: gauge("bhxh_database_up", "Whether the database answered the last scrape (1) or not (0).")?,
            build_info: gauges(
                "bhxh_build_info",
                "The server's version and protocol (always 1).",
                &["version", "protocol"],
            )?,
            registry,
            scraping: std::sync::Mutex::new(()),
        };
        m.build_info.with_label_values(&[env!("CARGO_PKG_VERSION"), bhxh_protocol::PROTOCOL_VERSION]).set(1);
        Ok(m)
    }

    /// An answer of `route` with `code` (or `ok`), after `took`.
    pub fn answered(&self, route: &str, code: &str, took: Duration) {
        self.requests.with_label_values(&[route, code]).inc();
        self.request_seconds.with_label_values(&[route]).observe(took.as_secs_f64());
    }

    /// Sets what is read at scrape time, then renders every metric.
    pub fn render(&self, scraped: &Scraped) -> Result<String, prometheus::Error> {
        let _one = self.scraping.lock().unwrap_or_else(|p| p.into_inner());
        for (lane, queued) in &scraped.argon2_queued {
            self.argon2_queued.with_label_values(&[lane]).set(*queued);
        }
        self.crl_this_update.reset();
        self.crl_next_update.reset();
        for crl in &scraped.crls {
            self.crl_this_update.with_label_values(&[&crl.source]).set(crl.this_update);
            self.crl_next_update.with_label_values(&[&crl.source]).set(crl.next_update);
        }
        match &scraped.outbox {
            Some(o) => {
                self.database_up.set(1);
                self.outbox_pending.set(o.pending);
                self.outbox_oldest_age.set(o.oldest_pending_age_secs as f64);
                self.outbox_dead.set(o.dead);
            }
            None => self.database_up.set(0),
        }
        self.encode()
    }

    fn encode(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// What a scrape reads from the running server (see `staff::metrics_page`).
#[derive(Clone, Debug, Default)]
pub struct Scraped {
    /// Hashes waiting, by lane name.
    pub argon2_queued: Vec<(&'static str, i64)>,
    /// Every CRL held.
    pub crls: Vec<CrlTimes>,
    /// The outbox, when the database answered (`None`: it did not).
    pub outbox: Option<OutboxFacts>,
}

/// A CRL's dates, under its source (`file:<issuer>` or its URL).
#[derive(Clone, Debug)]
pub struct CrlTimes {
    pub source: String,
    pub this_update: i64,
    pub next_update: i64,
}

/// The outbox as read at a scrape.
#[derive(Clone, Copy, Debug)]
pub struct OutboxFacts {
    pub pending: i64,
    pub oldest_pending_age_secs: i64,
    pub dead: i64,
}
