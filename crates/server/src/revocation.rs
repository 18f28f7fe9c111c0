//! CRLs from the certificates' own distribution points: found on the path (the token's
//! certificate and the CA certificates above it), fetched over HTTP(S) with a time and
//! size limit, cached in the database so every server shares them, parsed once per
//! process, refreshed before their `nextUpdate`. A certificate whose CRL cannot be had
//! fresh is answered `CERT_REVOCATION_UNKNOWN` (fail-closed); the hot path makes no
//! network call while the cached CRL is current.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bhxh_protocol::ErrorCode;
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use crate::clock::Clock;
use crate::config::RevocationConfig;
use crate::store::Store;
use crate::verify::{CertRefusal, TrustStore};

/// A CRL ready for the path check.
pub type Crl = Arc<CertRevocationList<'static>>;

/// The distribution points' CRLs: database-backed, parsed once per process.
#[derive(Clone)]
pub struct CrlCache {
    store: Store,
    clock: Clock,
    config: Arc<RevocationConfig>,
    http: reqwest::Client,
    parsed: Arc<Mutex<HashMap<String, (i64, Crl)>>>,
}

impl std::fmt::Debug for CrlCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrlCache").field("fetch", &self.config.fetch_crls).finish()
    }
}

/// A fetched CRL, checked to be one: its DER and dates.
struct Fetched {
    der: Vec<u8>,
    this_update: i64,
    next_update: i64,
}

impl CrlCache {
    pub fn new(store: Store, clock: Clock, config: RevocationConfig) -> anyhow::Result<CrlCache> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.fetch_timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(CrlCache { store, clock, config: Arc::new(config), http, parsed: Arc::default() })
    }

    /// Whether CRLs are fetched at all.
    pub fn enabled(&self) -> bool {
        self.config.fetch_crls
    }

    /// The `Retry-After` of a fail-closed answer.
    pub fn retry_after_secs(&self) -> u64 {
        self.config.retry_after_secs
    }

    /// The current CRL of every distribution point on the path of `der` (through `chain`
    /// and the configured intermediates), fetched when not cached or no longer current.
    pub async fn crls_for(&self, der: &[u8], chain: &[Vec<u8>], trust: &TrustStore) -> Result<Vec<Crl>, CertRefusal> {
        if !self.enabled() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for url in path_distribution_points(der, chain, trust) {
            out.push(self.crl(&url).await?);
        }
        Ok(out)
    }

    async fn crl(&self, url: &str) -> Result<Crl, CertRefusal> {
        // The hot path: parsed in this process and not near its nextUpdate.
        if let Some((next, crl)) = self.memo(url) {
            if self.clock.now() < next - self.config.refresh_before_secs {
                return Ok(crl);
            }
        }
        self.load_or_fetch(url).await
    }

    /// The database's copy when current (and not due for a refetch), else a fetch; a
    /// failed fetch falls back to a copy still before its `nextUpdate`.
    async fn load_or_fetch(&self, url: &str) -> Result<Crl, CertRefusal> {
        let now = self.clock.now();
        let unknown = |detail: String| CertRefusal { code: ErrorCode::CertRevocationUnknown, detail };
        // Another server may have fetched it already.
        let cached = self.store.cached_crl(url).await.map_err(|e| unknown(format!("CRL cache: {e}")))?;
        if let Some(c) = &cached {
            if let (Some(der), Some(next)) = (&c.der, c.next_update) {
                let near = next - now <= self.config.refresh_before_secs;
                if now < next && (!near || !self.due_refetch(c.fetched_at, now)) {
                    return self.remember(url, der, next).map_err(unknown);
                }
            }
        }
        match self.fetch_and_store(url).await {
            Ok(f) => self.remember(url, &f.der, f.next_update).map_err(unknown),
            Err(e) => {
                // A cached CRL still before its nextUpdate is still good.
                match cached.and_then(|c| Some((c.der?, c.next_update?))) {
                    Some((der, next)) if now < next => self.remember(url, &der, next).map_err(unknown),
                    _ => Err(unknown(format!("CRL {url}: {e}"))),
                }
            }
        }
    }

    /// Fetches a CRL and records the outcome in the cache (the CRL, or the error).
    async fn fetch_and_store(&self, url: &str) -> Result<Fetched, String> {
        let now = self.clock.now();
        match self.fetch(url).await {
            Ok(f) => {
                self.store.put_crl(url, &f.der, f.this_update, f.next_update, now).await.map_err(|e| format!("CRL cache: {e}"))?;
                tracing::info!(url, next_update = f.next_update, "CRL fetched");
                Ok(f)
            }
            Err(e) => {
                tracing::warn!(url, error = %e, "CRL fetch failed");
                let _ = self.store.crl_fetch_failed(url, &e, now).await;
                Err(e)
            }
        }
    }

    /// A cached CRL near its `nextUpdate` is fetched again at most once a minute.
    fn due_refetch(&self, fetched_at: i64, now: i64) -> bool {
        now - fetched_at >= 60
    }

    fn memo(&self, url: &str) -> Option<(i64, Crl)> {
        self.parsed.lock().unwrap_or_else(|p| p.into_inner()).get(url).cloned()
    }

    fn remember(&self, url: &str, der: &[u8], next_update: i64) -> Result<Crl, String> {
        let owned = OwnedCertRevocationList::from_der(der).map_err(|e| format!("CRL {url}: {e:?}"))?;
        let crl: Crl = Arc::new(owned.into());
        self.parsed.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_string(), (next_update, crl.clone()));
        Ok(crl)
    }

    async fn fetch(&self, url: &str) -> Result<Fetched, String> {
        let target = self.config.mirrors.get(url).map_or(url, String::as_str);
        if !(target.starts_with("http://") || target.starts_with("https://")) {
            return Err(format!("not an HTTP(S) URL: {target}"));
        }
        let mut resp = self.http.get(target).send().await.map_err(|e| format!("{target}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("{target}: HTTP {}", resp.status()));
        }
        let max = self.config.max_crl_bytes;
        if resp.content_length().is_some_and(|n| n as usize > max) {
            return Err(format!("{target}: larger than {max} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{target}: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > max {
                return Err(format!("{target}: larger than {max} bytes"));
            }
        }
        // PEM or DER, as CAs publish either.
        let der = crate::verify::pem_blocks(&body, "X509 CRL").ok().and_then(|b| b.into_iter().next()).unwrap_or(body);
        let (_, crl) = CertificateRevocationList::from_der(&der).map_err(|_| format!("{target}: not a CRL"))?;
        let next_update = crl.next_update().map(|t| t.timestamp()).ok_or_else(|| format!("{target}: the CRL has no nextUpdate"))?;
        Ok(Fetched { this_update: crl.last_update().timestamp(), next_update, der })
    }

    /// Fetches now every distribution point of the configured intermediates and every
    /// one cached (`bhxh-server trust refresh`).
    pub async fn refresh_all(&self, trust: &TrustStore) {
        let mut urls: Vec<String> =
            trust.intermediate_ders().filter_map(|d| X509Certificate::from_der(&d).ok().map(|(_, c)| distribution_points(&c))).flatten().collect();
        urls.extend(self.store.cached_crls().await.unwrap_or_default().into_iter().map(|c| c.url));
        urls.sort();
        urls.dedup();
        for url in urls {
            let _ = self.fetch_and_store(&url).await;
        }
    }

    /// The cached distribution points and their last fetch, for `trust show`.
    pub async fn report(&self) -> anyhow::Result<String> {
        use std::fmt::Write as _;
        let now = self.clock.now();
        let mut out = format!(
            "Fetched CRLs / CRL tải về ({}):\n",
            if self.enabled() { "fetch_crls on" } else { "fetch_crls off" }
        );
        for c in self.store.cached_crls().await? {
            let state = match (c.next_update, &c.der) {
                (Some(next), Some(_)) if now < next => "current",
                (Some(_), Some(_)) => "STALE",
                _ => "NONE",
            };
            let _ = writeln!(
                out,
                "  {}  nextUpdate {}  fetched {}  {state}{}",
                c.url,
                c.next_update.map(crate::clock::rfc3339).unwrap_or_else(|| "—".into()),
                crate::clock::rfc3339(c.fetched_at),
                c.last_error.map(|e| format!("  last error: {e}")).unwrap_or_default()
            );
        }
        Ok(out)
    }

    /// Fetches again every cached CRL whose `nextUpdate` is near (the background task).
    pub async fn refresh_due(&self) {
        let now = self.clock.now();
        let Ok(rows) = self.store.cached_crls().await else { return };
        for row in rows {
            let near = row.next_update.is_none_or(|next| next - now <= self.config.refresh_before_secs);
            if near && self.due_refetch(row.fetched_at, now) {
                let _ = self.load_or_fetch(&row.url).await;
            }
        }
    }
}

/// The HTTP(S) distribution points of a certificate.
pub fn distribution_points(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for p in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                    for n in names {
                        if let GeneralName::URI(u) = n {
                            if u.starts_with("http://") || u.starts_with("https://") {
                                out.push(u.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// The distribution points of `der` and of the CA certificates above it, found by name
/// among `chain` and the configured intermediates (at most 5 levels). The path's CRLs,
/// whichever one the path check then takes.
pub fn path_distribution_points(der: &[u8], chain: &[Vec<u8>], trust: &TrustStore) -> Vec<String> {
    let Ok((_, leaf)) = X509Certificate::from_der(der) else { return Vec::new() };
    let cas: Vec<Vec<u8>> = chain.iter().cloned().chain(trust.intermediate_ders()).collect();
    let parsed: Vec<X509Certificate<'_>> = cas.iter().filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c)).collect();
    let mut urls = distribution_points(&leaf);
    let mut issuer = leaf.issuer().as_raw().to_vec();
    for _ in 0..5 {
        let above: Vec<&X509Certificate<'_>> =
            parsed.iter().filter(|c| c.subject().as_raw() == issuer.as_slice() && c.subject() != c.issuer()).collect();
        let Some(next) = above.first() else { break };
        for ca in &above {
            urls.extend(distribution_points(ca));
        }
        issuer = next.issuer().as_raw().to_vec();
    }
    urls.sort();
    urls.dedup();
    urls
}
