//! A CRL as the revocation check uses it: parsed once (rustls-webpki's parser, which
//! refuses delta CRLs, indirect CRLs, unsupported critical extensions and a missing
//! `nextUpdate`; a serial lookup is a map lookup), matched to a certificate's issuer by
//! name *and* key identifier, its signature checked against that issuer's key once per
//! key (not once per proof), current at the time asked, and within its scope: a CRL with
//! an `issuingDistributionPoint` (a partition of the issuer's revocations) covers only
//! the certificates whose own distribution point it names, and only end entities or only
//! CAs when it says so (RFC 5280 §5.2.5; indirect and reason-partitioned CRLs are
//! refused by the parser).

use std::sync::Mutex;

use sha2::{Digest, Sha256};
use webpki::{CertRevocationList, OwnedCertRevocationList};
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use crate::facts::CrlProblem;

/// SHA-1 signature algorithms, refused on CRLs as on certificates.
const SHA1_SIGNATURES: &[&str] = &["1.2.840.113549.1.1.5", "1.2.840.10045.4.1", "1.3.14.3.2.29"];

/// A parsed CRL and what is known of it.
#[derive(Debug)]
pub struct ParsedCrl {
    der: Vec<u8>,
    list: CertRevocationList<'static>,
    /// The issuer Name, DER as in the CRL.
    issuer: Vec<u8>,
    /// authorityKeyIdentifier, when the CRL has one.
    aki: Option<Vec<u8>>,
    sig_alg: String,
    pub issuer_cn: String,
    pub number: Option<String>,
    pub this_update: i64,
    pub next_update: i64,
    pub entries: usize,
    /// Its issuingDistributionPoint; `None`: every certificate of the issuer.
    scope: Option<Scope>,
    /// SHA-256 of the issuer keys whose signature over this CRL was checked.
    verified: Mutex<Vec<[u8; 32]>>,
}

/// What a partitioned CRL covers (its issuingDistributionPoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The URIs of its distribution point (full name).
    pub uris: Vec<String>,
    pub only_end_entities: bool,
    pub only_cas: bool,
}

impl Scope {
    /// Whether `cert` is within this scope: of the kind it lists, and, when the
    /// certificate names distribution points, one of them is this CRL's.
    pub fn covers(&self, cert: &X509Certificate<'_>) -> bool {
        let ca = cert.is_ca();
        if (self.only_cas && !ca) || (self.only_end_entities && ca) {
            return false;
        }
        match distribution_point_uris(cert) {
            None => true,
            Some(uris) => uris.iter().any(|u| self.uris.contains(u)),
        }
    }
}

/// What one CRL says of one certificate.
#[derive(Debug, PartialEq, Eq)]
pub enum CrlSays {
    /// Not this issuer's CRL.
    NotCovered,
    Good,
    Revoked,
}

impl ParsedCrl {
    /// Parses a CRL (DER).
    pub fn parse(der: Vec<u8>) -> Result<ParsedCrl, CrlProblem> {
        let (issuer, aki, sig_alg, issuer_cn, number, this_update, next_update, entries, scope) = {
            let (_, crl) = CertificateRevocationList::from_der(&der)
                .map_err(|e| CrlProblem::Unreadable { issuer: None, error: e.to_string() })?;
            let next =
                crl.next_update().ok_or_else(|| CrlProblem::NoNextUpdate { issuer: crl.issuer().to_string() })?;
            let aki = crl.extensions().iter().find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
                _ => None,
            });
            let scope = crl.extensions().iter().find_map(|e| match e.parsed_extension() {
                ParsedExtension::IssuingDistributionPoint(idp) => Some(Scope {
                    uris: match &idp.distribution_point {
                        Some(DistributionPointName::FullName(names)) => uris_of(names),
                        _ => Vec::new(),
                    },
                    only_end_entities: idp.only_contains_user_certs,
                    only_cas: idp.only_contains_ca_certs,
                }),
                _ => None,
            });
            (
                crl.issuer().as_raw().to_vec(),
                aki,
                crl.signature_algorithm.algorithm.to_id_string(),
                {
                    let cn = crl.issuer().iter_common_name().next().and_then(|c| c.as_str().ok().map(str::to_string));
                    cn.unwrap_or_default()
                },
                crl.crl_number().map(|n| n.to_str_radix(16)),
                crl.last_update().timestamp(),
                next.timestamp(),
                crl.iter_revoked_certificates().count(),
                scope,
            )
        };
        let owned = OwnedCertRevocationList::from_der(&der)
            .map_err(|e| CrlProblem::Unreadable { issuer: Some(issuer_cn.clone()), error: format!("{e:?}") })?;
        Ok(ParsedCrl {
            der,
            list: owned.into(),
            issuer,
            aki,
            sig_alg,
            issuer_cn,
            number,
            this_update,
            next_update,
            entries,
            scope,
            verified: Mutex::new(Vec::new()),
        })
    }

    /// The issuer Name, DER.
    pub fn issuer_name(&self) -> &[u8] {
        &self.issuer
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Its issuingDistributionPoint, when it is a partition.
    pub fn scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }

    /// Whether this CRL was issued by `ca`: same name, same key identifier when both
    /// carry one, and its signature verifies with `ca`'s key.
    pub fn issued_by(&self, ca: &X509Certificate<'_>) -> Result<bool, CrlProblem> {
        if self.issuer != ca.subject().as_raw() {
            return Ok(false);
        }
        if let (Some(aki), Some(ski)) = (&self.aki, subject_key_id(ca)) {
            if *aki != ski {
                return Ok(false);
            }
        }
        self.check_signature(ca).map(|()| true)
    }

    fn check_signature(&self, ca: &X509Certificate<'_>) -> Result<(), CrlProblem> {
        let key: [u8; 32] = Sha256::digest(ca.public_key().raw).into();
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.contains(&key) {
            return Ok(());
        }
        if SHA1_SIGNATURES.contains(&self.sig_alg.as_str()) {
            return Err(CrlProblem::SignedWithSha1 { issuer: self.issuer_cn.clone() });
        }
        if let Ok(Some(ku)) = ca.key_usage() {
            if !ku.value.crl_sign() {
                return Err(CrlProblem::IssuerMayNotSignCrls { issuer: self.issuer_cn.clone() });
            }
        }
        let bad = || CrlProblem::BadSignature { issuer: self.issuer_cn.clone() };
        let (_, crl) = CertificateRevocationList::from_der(&self.der).map_err(|_| bad())?;
        crl.verify_signature(ca.public_key()).map_err(|_| bad())?;
        verified.push(key);
        Ok(())
    }

    /// What this CRL says of `cert` (issued by `issuer`) at `now`. `NotCovered` when it
    /// is another issuer's, or a partition whose scope leaves `cert` out. An error means
    /// the CRL covers the certificate but cannot be relied on (bad signature, stale).
    pub fn status(
        &self,
        cert: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        now: i64,
    ) -> Result<CrlSays, CrlProblem> {
        if cert.issuer().as_raw() != self.issuer.as_slice() || self.scope.as_ref().is_some_and(|s| !s.covers(cert)) {
            return Ok(CrlSays::NotCovered);
        }
        if !self.issued_by(issuer)? {
            return Ok(CrlSays::NotCovered);
        }
        if now >= self.next_update {
            return Err(CrlProblem::Stale { issuer: self.issuer_cn.clone(), next_update: self.next_update });
        }
        match self.list.find_serial(cert.raw_serial()) {
            Ok(Some(_)) => Ok(CrlSays::Revoked),
            Ok(None) => Ok(CrlSays::Good),
            Err(e) => Err(CrlProblem::Unreadable { issuer: Some(self.issuer_cn.clone()), error: format!("{e:?}") }),
        }
    }

    /// A line of `trust show`.
    pub fn describe(&self, now: i64) -> String {
        let date = crate::clock::rfc3339;
        let state = if now < self.next_update { "current" } else { "STALE: proofs answer CERT_REVOCATION_UNKNOWN" };
        let part = match &self.scope {
            Some(s) => format!("  partition {}", s.uris.join(" ")),
            None => String::new(),
        };
        format!(
            "{}{part}  number {}  thisUpdate {}  nextUpdate {}  {} revoked  {state}",
            self.issuer_cn,
            self.number.as_deref().unwrap_or("—"),
            date(self.this_update),
            date(self.next_update),
            self.entries
        )
    }
}

fn subject_key_id(cert: &X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions().iter().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
        _ => None,
    })
}

/// The URIs of a list of general names.
fn uris_of(names: &[GeneralName<'_>]) -> Vec<String> {
    names
        .iter()
        .filter_map(|n| match n {
            GeneralName::URI(u) => Some(u.to_string()),
            _ => None,
        })
        .collect()
}

/// The URIs of a certificate's own distribution points (the issuer's CRL, not an
/// indirect one or a partition by reason); `None` when it names no distribution point.
fn distribution_point_uris(cert: &X509Certificate<'_>) -> Option<Vec<String>> {
    let mut out = None;
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            let uris: &mut Vec<String> = out.get_or_insert_with(Vec::new);
            for p in points.iter().filter(|p| p.crl_issuer.is_none() && p.reasons.is_none()) {
                if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                    uris.extend(uris_of(names));
                }
            }
        }
    }
    out
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
