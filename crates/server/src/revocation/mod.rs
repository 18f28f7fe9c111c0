//! Revocation of every certificate on a checked path, online and cached, fail-closed.
//!
//! For the token's certificate: OCSP from its authorityInfoAccess (or the responder an
//! operator configures for its CA), then, when OCSP gives no usable answer, the CRL. For
//! each CA certificate above it: the CRL of its issuer. CRLs come from the configured
//! file (offline sites) and from the certificates' distribution points, fetched over
//! HTTP(S) with a time and size limit and cached in the database so every server shares
//! them; OCSP answers are cached the same way until their `nextUpdate` (bounded by
//! `ocsp_max_cache_secs`). Both are kept parsed in the process, so the hot path makes no
//! network call and no database read for a recently seen certificate. When nothing
//! fresh can be had the answer is `CERT_REVOCATION_UNKNOWN`, with what failed.

pub mod crl;
pub mod ocsp;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bhxh_protocol::{ErrorCode, Lang};
use rand::RngCore;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::clock::Clock;
use crate::config::RevocationConfig;
use crate::facts::{
    stored_failure, CertProblem, CrlFetchProblem, CrlRef, FetchProblem, OcspProblem, RevocationFact, SourceProblem,
};
use crate::store::{CachedOcsp, OcspCacheStatus, Store};
use crate::verify::{CertRefusal, Link, TrustStore};
use crl::{CrlSays, ParsedCrl};
use ocsp::{Freshness, NoncePolicy, OcspStatus};

/// The revocation check: configuration, the HTTP client, the caches.
#[derive(Clone)]
pub struct Revocation {
    store: Store,
    clock: Clock,
    config: Arc<RevocationConfig>,
    http: reqwest::Client,
    /// CRLs from the configured file.
    file: Arc<Vec<Arc<ParsedCrl>>>,
    /// Fetched CRLs by distribution point, parsed once: (nextUpdate, CRL).
    crls: Arc<Mutex<HashMap<String, Arc<ParsedCrl>>>>,
    /// OCSP answers by certificate (see [`ocsp_key`]).
    answers: Arc<Mutex<HashMap<String, CachedOcsp>>>,
}

impl std::fmt::Debug for Revocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocation")
            .field("enabled", &self.config.enabled)
            .field("ocsp", &self.config.ocsp)
            .field("fetch_crls", &self.config.fetch_crls)
            .field("file_crls", &self.file.len())
            .finish()
    }
}

/// Reads a CRL file (PEM with several CRLs, or DER). Each CRL must carry a `nextUpdate`;
/// one whose issuer is a configured CA must verify with that CA's key now (a CRL of a CA
/// known only from requests is checked when a path uses it).
pub fn load_crl_file(path: &Path, trust: &TrustStore) -> anyhow::Result<Vec<ParsedCrl>> {
    let mut out = Vec::new();
    let cas: Vec<Vec<u8>> = trust.ca_ders().collect();
    let parsed: Vec<X509Certificate<'_>> =
        cas.iter().filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c)).collect();
    for der in crate::verify::read_pem_or_der(path, "X509 CRL")? {
        let crl = ParsedCrl::parse(der).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.render(Lang::En)))?;
        let named: Vec<&X509Certificate<'_>> =
            parsed.iter().filter(|c| c.subject().as_raw() == crl.issuer_name()).collect();
        if named.is_empty() {
            tracing::warn!(issuer = %crl.issuer_cn, "a CRL of a CA that is not configured: it is checked against its issuer when a path uses it");
        } else if !named.iter().any(|ca| crl.issued_by(ca).unwrap_or(false)) {
            anyhow::bail!("CRL of {} is not signed by a configured trust anchor or intermediate", crl.issuer_cn);
        }
        out.push(crl);
    }
    Ok(out)
}

/// How an audit line names a CRL: the file's (no URL) or a distribution point's.
fn crl_ref(url: Option<String>, crl: &ParsedCrl) -> CrlRef {
    let number = crl.number.clone();
    match url {
        Some(url) => CrlRef::Fetched { url, number },
        None => CrlRef::File { number },
    }
}

/// The cache key of an OCSP answer: SHA-256 of the issuer's key and the serial.
fn ocsp_key(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(issuer.public_key().raw);
    h.update([0]);
    h.update(cert.raw_serial());
    crate::verify::hex(&h.finalize())
}

impl Revocation {
    /// The check a server's configuration asks for (reading its CRL file).
    pub fn from_config(
        store: Store,
        clock: Clock,
        config: &crate::config::Config,
        trust: &TrustStore,
    ) -> anyhow::Result<Revocation> {
        let file = match &config.crl_file {
            Some(p) => load_crl_file(p, trust)?,
            None => Vec::new(),
        };
        Revocation::new(store, clock, config.revocation.clone(), file)
    }

    pub fn new(
        store: Store,
        clock: Clock,
        config: RevocationConfig,
        file: Vec<ParsedCrl>,
    ) -> anyhow::Result<Revocation> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.fetch_timeout_secs.max(1)))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        if !config.enabled {
            tracing::warn!("DEVELOPMENT ONLY: revocation.enabled = false — revoked token certificates are ACCEPTED; never run this in production");
        }
        Ok(Revocation {
            store,
            clock,
            config: Arc::new(config),
            http,
            file: Arc::new(file.into_iter().map(Arc::new).collect()),
            crls: Arc::default(),
            answers: Arc::default(),
        })
    }

    /// Whether revocation is checked at all (off only in a development profile).
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// Whether CRLs are fetched from distribution points (the background refresher).
    /// The CRLs of the configured file.
    pub fn file_crls(&self) -> impl Iterator<Item = &ParsedCrl> {
        self.file.iter().map(|c| c.as_ref())
    }

    pub fn fetches(&self) -> bool {
        self.config.enabled && self.config.fetch_crls
    }

    /// The `Retry-After` of a fail-closed answer.
    pub fn retry_after_secs(&self) -> u64 {
        self.config.retry_after_secs
    }

    /// Checks every certificate of a path, from the one under the anchor down to the
    /// token's (a revoked CA is said to be revoked, whatever is below it). `Ok` carries
    /// what decided for each, the anchor's end first, for the audit line; a revoked
    /// certificate is `CERT_REVOKED`; no fresh answer for one of them is
    /// `CERT_REVOCATION_UNKNOWN` with what failed.
    pub async fn check(&self, links: &[Link], now: i64) -> Result<Vec<RevocationFact>, CertRefusal> {
        if !self.config.enabled {
            return Ok(vec![RevocationFact::NotChecked]);
        }
        let refuse = |code, fact| CertRefusal::new(code, CertProblem::Revocation { fact });
        let mut facts = Vec::new();
        for (depth, link) in links.iter().enumerate().rev() {
            let (Ok((_, cert)), Ok((_, issuer))) =
                (X509Certificate::from_der(&link.cert), X509Certificate::from_der(&link.issuer))
            else {
                return Err(CertRefusal::from(ErrorCode::CertMalformed));
            };
            let name = cn(&cert);
            let mut problems = Vec::new();
            if depth == 0 && self.config.ocsp {
                if let Some((url, nonce)) = self.responder_for(&cert, &issuer, &link.issuer) {
                    match self.ocsp_status(&url, nonce, &link.cert, &link.issuer, &cert, &issuer, now).await {
                        Ok(a) => match a.status {
                            // A current CRL at hand that lists the certificate wins over
                            // any "good" (a replayed answer from before the revocation).
                            OcspCacheStatus::Good if self.decides_alone(&a, nonce) => {
                                if let Some(crl) = self.listed_in_crl_at_hand(&cert, &issuer, now) {
                                    let fact = RevocationFact::RevokedPerCrlDespiteOcsp {
                                        cert: name,
                                        crl,
                                        responder: url,
                                        this_update: a.this_update,
                                    };
                                    return Err(refuse(ErrorCode::CertRevoked, fact));
                                }
                                facts.push(RevocationFact::OcspGood {
                                    cert: name,
                                    responder: url,
                                    this_update: a.this_update,
                                });
                                continue;
                            }
                            // An old answer not bound to our nonce may be a replay from
                            // before a revocation: the CRL must agree.
                            OcspCacheStatus::Good => problems.push(SourceProblem::OcspGoodTooOld {
                                responder: url,
                                this_update: a.this_update,
                                alone_secs: self.config.ocsp_good_alone_secs,
                            }),
                            OcspCacheStatus::Revoked => {
                                let at = a.revoked_at.unwrap_or(0);
                                let fact = RevocationFact::RevokedPerOcsp { cert: name, responder: url, at };
                                return Err(refuse(ErrorCode::CertRevoked, fact));
                            }
                            _ => {
                                let fact = RevocationFact::OcspUnknown { cert: name, responder: url };
                                return Err(refuse(ErrorCode::CertRevocationUnknown, fact));
                            }
                        },
                        Err(problem) => problems.push(SourceProblem::OcspFailed { responder: url, problem }),
                    }
                }
            }
            match self.crl_status(&cert, &issuer, now).await {
                Ok((CrlSays::Good, crl)) => facts.push(RevocationFact::CrlGood { cert: name, crl, problems }),
                Ok((_, crl)) => {
                    return Err(refuse(
                        ErrorCode::CertRevoked,
                        RevocationFact::RevokedPerCrl { cert: name, crl, problems },
                    ))
                }
                Err(more) => {
                    problems.extend(more);
                    return Err(refuse(
                        ErrorCode::CertRevocationUnknown,
                        RevocationFact::Undecided { cert: name, problems },
                    ));
                }
            }
        }
        facts.reverse();
        Ok(facts)
    }

    /// The OCSP responder of a certificate and its nonce policy: the configured one for
    /// its issuer (by CN or SHA-256 fingerprint), else its authorityInfoAccess.
    fn responder_for(
        &self,
        cert: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        issuer_der: &[u8],
    ) -> Option<(String, NoncePolicy)> {
        let issuer_cn = cn(issuer);
        let fp = crate::verify::fingerprint(issuer_der);
        let conf = self.config.responders.iter().find(|r| {
            r.issuer == issuer_cn || crate::verify::normalize_fingerprint(&r.issuer).as_deref() == Some(fp.as_str())
        });
        let url = conf.and_then(|r| r.url.clone()).or_else(|| ocsp::responders(cert).into_iter().next())?;
        Some((url, conf.and_then(|r| r.nonce).unwrap_or(self.config.ocsp_nonce)))
    }

    /// Whether an OCSP "good" may decide without a CRL: it echoed our nonce (the policy
    /// required one, so every answer kept did), or it was at most `ocsp_good_alone_secs`
    /// old when it was fetched. Pre-produced answers of VN responders carry no nonce and
    /// may be days old; one recorded before a revocation could be replayed until its
    /// `nextUpdate`.
    fn decides_alone(&self, a: &CachedOcsp, nonce: NoncePolicy) -> bool {
        nonce == NoncePolicy::Require
            || a.fetched_at - a.this_update <= self.config.ocsp_good_alone_secs + self.config.ocsp_skew_secs
    }

    /// A CRL already at hand (the configured file, or one fetched and kept in this
    /// process; no network), current and covering `cert`, that lists it: which one.
    fn listed_in_crl_at_hand(
        &self,
        cert: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        now: i64,
    ) -> Option<CrlRef> {
        let file = self.file.iter().map(|c| (None, c.clone()));
        let fetched: Vec<(Option<String>, Arc<ParsedCrl>)> = {
            let memo = self.crls.lock().unwrap_or_else(|p| p.into_inner());
            crl::distribution_points(cert)
                .into_iter()
                .filter_map(|url| memo.get(&url).map(|c| (Some(url), c.clone())))
                .collect()
        };
        file.chain(fetched)
            .find_map(|(url, crl)| (crl.status(cert, issuer, now) == Ok(CrlSays::Revoked)).then(|| crl_ref(url, &crl)))
    }

    /// The cached answer when still fresh, else a query (recorded in the cache).
    #[allow(clippy::too_many_arguments)]
    async fn ocsp_status(
        &self,
        url: &str,
        nonce: NoncePolicy,
        cert_der: &[u8],
        issuer_der: &[u8],
        cert: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        now: i64,
    ) -> Result<CachedOcsp, OcspProblem> {
        let key = ocsp_key(cert, issuer);
        if let Some(a) = self.answers.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if now < a.good_until {
                return Ok(a.clone());
            }
        }
        // Another server may have asked already.
        if let Ok(Some(a)) = self.store.cached_ocsp(&key).await {
            if a.status != OcspCacheStatus::NoAnswer && now < a.good_until {
                self.answers.lock().unwrap_or_else(|p| p.into_inner()).insert(key, a.clone());
                return Ok(a);
            }
        }
        match self.query_ocsp(url, nonce, cert_der, issuer_der, now).await {
            Ok(answer) => {
                let cap = self.config.ocsp_max_cache_secs;
                let until =
                    answer.next_update.unwrap_or(answer.this_update + self.config.ocsp_max_age_secs).min(now + cap);
                let row = CachedOcsp {
                    key: key.clone(),
                    url: url.to_string(),
                    subject: cn(cert),
                    status: match answer.status {
                        OcspStatus::Good => OcspCacheStatus::Good,
                        OcspStatus::Revoked { .. } => OcspCacheStatus::Revoked,
                        OcspStatus::Unknown => OcspCacheStatus::Unknown,
                    },
                    revoked_at: match answer.status {
                        OcspStatus::Revoked { at } => Some(at),
                        _ => None,
                    },
                    this_update: answer.this_update,
                    // An unknown answer is not kept: a new certificate becomes known soon.
                    good_until: if answer.status == OcspStatus::Unknown { now } else { until },
                    fetched_at: now,
                    signer: answer.signer.clone(),
                    last_error: None,
                };
                let _ = self.store.put_ocsp(&row).await;
                if answer.status != OcspStatus::Unknown {
                    self.answers.lock().unwrap_or_else(|p| p.into_inner()).insert(key, row.clone());
                }
                tracing::info!(url, status = %row.status, "OCSP answer");
                crate::metrics::metrics().ocsp_responses.with_label_values(&[url, row.status.as_str()]).inc();
                Ok(row)
            }
            Err(e) => {
                tracing::warn!(url, error = %e.render(Lang::En), "OCSP gave no usable answer");
                crate::metrics::metrics().revocation_fetch_errors.with_label_values(&["ocsp", url]).inc();
                let _ = self.store.ocsp_failed(&key, url, &cn(cert), &e.to_stored(), now).await;
                Err(e)
            }
        }
    }

    async fn query_ocsp(
        &self,
        url: &str,
        nonce: NoncePolicy,
        cert: &[u8],
        issuer: &[u8],
        now: i64,
    ) -> Result<ocsp::OcspAnswer, OcspProblem> {
        let n = (nonce != NoncePolicy::Off).then(|| {
            let mut n = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut n);
            n
        });
        let query = ocsp::request(cert, issuer, n)?;
        let body = self
            .exchange(url, Some(query.der.clone()), self.config.max_ocsp_bytes)
            .await
            .map_err(|fetch| OcspProblem::Fetch { fetch })?;
        let fresh = Freshness { skew_secs: self.config.ocsp_skew_secs, max_age_secs: self.config.ocsp_max_age_secs };
        ocsp::check_response(&body, &query, issuer, nonce, fresh, now)
    }

    /// What the CRLs covering `cert` (current, signed by `issuer`, within their scope)
    /// say: every one of the configured file is read and any that lists it wins, else the
    /// first good one decides, else the distribution points are fetched. Which CRL it was;
    /// an error lists why no CRL could decide.
    async fn crl_status(
        &self,
        cert: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        now: i64,
    ) -> Result<(CrlSays, CrlRef), Vec<SourceProblem>> {
        let mut why = Vec::new();
        let mut good = None;
        for crl in self.file.iter() {
            match crl.status(cert, issuer, now) {
                Ok(CrlSays::NotCovered) => {}
                Ok(CrlSays::Revoked) => return Ok((CrlSays::Revoked, crl_ref(None, crl))),
                Ok(CrlSays::Good) => good = good.or_else(|| Some(crl_ref(None, crl))),
                Err(problem) => why.push(SourceProblem::Crl { source: None, problem }),
            }
        }
        if let Some(which) = good {
            return Ok((CrlSays::Good, which));
        }
        if self.config.fetch_crls {
            for url in crl::distribution_points(cert) {
                match self.crl(&url).await {
                    Ok(crl) => match crl.status(cert, issuer, now) {
                        Ok(CrlSays::NotCovered) => {
                            why.push(SourceProblem::CrlNotCovering { url: url.clone(), issuer: cn(issuer) })
                        }
                        Ok(says) => return Ok((says, crl_ref(Some(url), &crl))),
                        Err(problem) => why.push(SourceProblem::Crl { source: Some(url), problem }),
                    },
                    Err(problem) => why.push(SourceProblem::CrlUnavailable { url, problem }),
                }
            }
        }
        if why.is_empty() {
            why.push(SourceProblem::NoCrl { issuer: cn(issuer) });
        }
        Err(why)
    }

    /// The CRL of a distribution point: parsed in this process and not near its
    /// `nextUpdate` (the hot path), else the database's copy, else a fetch.
    async fn crl(&self, url: &str) -> Result<Arc<ParsedCrl>, CrlFetchProblem> {
        if let Some(crl) = self.crls.lock().unwrap_or_else(|p| p.into_inner()).get(url) {
            if self.clock.now() < crl.next_update - self.config.refresh_before_secs {
                return Ok(crl.clone());
            }
        }
        self.load_or_fetch(url).await
    }

    /// The database's copy when current (and not due for a refetch), else a fetch; a
    /// failed fetch falls back to a copy still before its `nextUpdate`.
    async fn load_or_fetch(&self, url: &str) -> Result<Arc<ParsedCrl>, CrlFetchProblem> {
        let now = self.clock.now();
        let cached = self.store.cached_crl(url).await.map_err(cache_problem)?;
        if let Some(c) = &cached {
            if let (Some(der), Some(next)) = (&c.der, c.next_update) {
                let near = next - now <= self.config.refresh_before_secs;
                if now < next && (!near || !due_refetch(c.fetched_at, now)) {
                    return self.remember(url, der.clone());
                }
            }
        }
        match self.fetch_and_store(url).await {
            Ok(der) => self.remember(url, der),
            Err(e) => match cached.and_then(|c| Some((c.der?, c.next_update?))) {
                // A cached CRL still before its nextUpdate is still good.
                Some((der, next)) if now < next => self.remember(url, der),
                _ => Err(e),
            },
        }
    }

    fn remember(&self, url: &str, der: Vec<u8>) -> Result<Arc<ParsedCrl>, CrlFetchProblem> {
        let mut memo = self.crls.lock().unwrap_or_else(|p| p.into_inner());
        // The same CRL again (another server fetched it): keep the one whose signatures
        // are already checked.
        if let Some(old) = memo.get(url) {
            if old.der() == der.as_slice() {
                return Ok(old.clone());
            }
        }
        let crl = Arc::new(ParsedCrl::parse(der).map_err(|problem| CrlFetchProblem::Crl { problem })?);
        memo.insert(url.to_string(), crl.clone());
        Ok(crl)
    }

    /// Fetches a CRL and records the outcome in the cache (the CRL, or the error).
    async fn fetch_and_store(&self, url: &str) -> Result<Vec<u8>, CrlFetchProblem> {
        let now = self.clock.now();
        let fetched = async {
            let body = self
                .exchange(url, None, self.config.max_crl_bytes)
                .await
                .map_err(|fetch| CrlFetchProblem::Fetch { fetch })?;
            // PEM or DER, as CAs publish either.
            let der =
                crate::verify::pem_blocks(&body, "X509 CRL").ok().and_then(|b| b.into_iter().next()).unwrap_or(body);
            let crl = ParsedCrl::parse(der.clone()).map_err(|problem| CrlFetchProblem::Crl { problem })?;
            Ok::<_, CrlFetchProblem>((der, crl.this_update, crl.next_update))
        }
        .await;
        match fetched {
            Ok((der, this_update, next_update)) => {
                self.store.put_crl(url, &der, this_update, next_update, now).await.map_err(cache_problem)?;
                tracing::info!(url, next_update, "CRL fetched");
                Ok(der)
            }
            Err(e) => {
                tracing::warn!(url, error = %e.render(Lang::En), "CRL fetch failed");
                crate::metrics::metrics().revocation_fetch_errors.with_label_values(&["crl", url]).inc();
                let _ = self.store.crl_fetch_failed(url, &e.to_stored(), now).await;
                Err(e)
            }
        }
    }

    /// One HTTP exchange with a CA (through the configured mirror): a GET, or a POST of
    /// an OCSP request; at most `max` bytes, within the fetch timeout.
    async fn exchange(&self, url: &str, ocsp_request: Option<Vec<u8>>, max: usize) -> Result<Vec<u8>, FetchProblem> {
        let kind = if ocsp_request.is_some() { "ocsp" } else { "crl" };
        // Waiting for another server takes no CPU here: the request's turn goes to the
        // next client (a responder that hangs holds no one else up).
        crate::standing::end_turn();
        let started = std::time::Instant::now();
        let answer = self.exchange_once(url, ocsp_request, max).await;
        crate::metrics::metrics()
            .revocation_fetch_seconds
            .with_label_values(&[kind, url])
            .observe(started.elapsed().as_secs_f64());
        answer
    }

    async fn exchange_once(
        &self,
        url: &str,
        ocsp_request: Option<Vec<u8>>,
        max: usize,
    ) -> Result<Vec<u8>, FetchProblem> {
        let target = self.config.mirrors.get(url).map_or(url, String::as_str);
        if !(target.starts_with("http://") || target.starts_with("https://")) {
            return Err(FetchProblem::NotHttp { url: target.into() });
        }
        let no_answer = |e: reqwest::Error| FetchProblem::NoAnswer { url: target.into(), detail: error_chain(&e) };
        let too_large = || FetchProblem::TooLarge { url: target.into(), max };
        let req = match ocsp_request {
            Some(body) => self.http.post(target).header("content-type", "application/ocsp-request").body(body),
            None => self.http.get(target),
        };
        let mut resp = req.send().await.map_err(no_answer)?;
        if !resp.status().is_success() {
            return Err(FetchProblem::Status { url: target.into(), status: resp.status().as_u16() });
        }
        if resp.content_length().is_some_and(|n| n as usize > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(no_answer)? {
            body.extend_from_slice(&chunk);
            if body.len() > max {
                return Err(too_large());
            }
        }
        Ok(body)
    }

    /// Fetches now every distribution point of the configured CAs and every one cached
    /// (`bhxh-server trust refresh`).
    pub async fn refresh_all(&self, trust: &TrustStore) {
        let mut urls: Vec<String> = trust
            .ca_ders()
            .filter_map(|d| X509Certificate::from_der(&d).ok().map(|(_, c)| crl::distribution_points(&c)))
            .flatten()
            .collect();
        urls.extend(self.store.crl_states().await.unwrap_or_default().into_iter().map(|c| c.url));
        urls.sort();
        urls.dedup();
        for url in urls {
            let _ = self.fetch_and_store(&url).await;
        }
    }

    /// Fetches again every cached CRL whose `nextUpdate` is near (the background task).
    pub async fn refresh_due(&self) {
        let now = self.clock.now();
        let Ok(rows) = self.store.crl_states().await else { return };
        for row in rows {
            let near = row.next_update.is_none_or(|next| next - now <= self.config.refresh_before_secs);
            if near && due_refetch(row.fetched_at, now) {
                let _ = self.load_or_fetch(&row.url).await;
            }
        }
    }

    /// What `bhxh-server trust show` says of revocation: the policy, the CRL file, the
    /// fetched CRLs and the OCSP answers with their last exchange.
    pub async fn report(&self) -> anyhow::Result<String> {
        use std::fmt::Write as _;
        let now = self.clock.now();
        let c = &self.config;
        let mut out = if c.enabled {
            format!(
                "Revocation / Thu hồi: required (OCSP {}, nonce {}; CRL fetch {}; CRL file {})\n",
                on(c.ocsp),
                c.ocsp_nonce,
                on(c.fetch_crls),
                if self.file.is_empty() { "none".to_string() } else { format!("{} CRLs", self.file.len()) }
            )
        } else {
            "Revocation / Thu hồi: NOT CHECKED — development profile (revocation.enabled = false)\n".to_string()
        };
        for r in &c.responders {
            let _ = writeln!(
                out,
                "  responder for {}: {} nonce {}",
                r.issuer,
                r.url.as_deref().unwrap_or("(from the certificate)"),
                r.nonce.unwrap_or(c.ocsp_nonce)
            );
        }
        if !self.file.is_empty() {
            out.push_str("CRL file / Tệp CRL:\n");
            for crl in self.file.iter() {
                let _ = writeln!(out, "  {}", crl.describe(now));
            }
        }
        out.push_str("Fetched CRLs / CRL tải về:\n");
        for row in self.store.cached_crls().await? {
            let parsed = row.der.clone().and_then(|d| ParsedCrl::parse(d).ok());
            let what = match &parsed {
                Some(p) => p.describe(now),
                None => "NONE".into(),
            };
            let _ = writeln!(
                out,
                "  {}  {what}  fetched {}{}",
                row.url,
                crate::clock::rfc3339(row.fetched_at),
                row.last_error.map(|e| format!("  last error: {}", stored_failure(Lang::En, &e))).unwrap_or_default()
            );
        }
        out.push_str("OCSP answers / Trả lời OCSP:\n");
        for a in self.store.cached_ocsp_all().await? {
            let state = if a.status == OcspCacheStatus::NoAnswer {
                "NO ANSWER".to_string()
            } else if now < a.good_until {
                format!("{} until {}", a.status, crate::clock::rfc3339(a.good_until))
            } else {
                format!("{} (expired)", a.status)
            };
            let _ = writeln!(
                out,
                "  {}  {}  {state}  signed by {}  asked {}{}",
                a.subject,
                a.url,
                if a.signer.is_empty() { "—" } else { &a.signer },
                crate::clock::rfc3339(a.fetched_at),
                a.last_error.map(|e| format!("  last error: {}", stored_failure(Lang::En, &e))).unwrap_or_default()
            );
        }
        Ok(out)
    }
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// A cached CRL near its `nextUpdate` is fetched again at most once a minute.
fn due_refetch(fetched_at: i64, now: i64) -> bool {
    now - fetched_at >= 60
}

fn cn(cert: &X509Certificate<'_>) -> String {
    cert.subject().iter_common_name().next().and_then(|c| c.as_str().ok()).unwrap_or("?").to_string()
}

/// An HTTP error with its causes (reqwest's top line alone hides "connection refused").
/// The database's failure, kept as data.
fn cache_problem(e: anyhow::Error) -> CrlFetchProblem {
    CrlFetchProblem::Cache { detail: format!("{e:#}") }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}
