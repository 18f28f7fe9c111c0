//! Certificate and signature checks of protocol v1, step 4, as pure functions over a
//! [`TrustStore`]: no I/O, no clock of their own (the caller passes `now`), so each
//! rejection is tested on its own and benchmarked without a server.
//!
//! The path from the token's certificate to a trust anchor is built and checked by
//! rustls-webpki (the validator rustls uses: maintained, fuzzed, no unsafe, no OpenSSL):
//! validity, basicConstraints and `pathLen`, keyCertSign, accepted signature algorithms,
//! unknown critical extensions and extendedKeyUsage at every level. Our own checks come
//! first and say precisely what a VN token certificate must be (digitalSignature, no
//! SHA-1, RSA ≥ 2048 or P-256 fitting the declared algorithm). The path that passed is
//! returned as [`Link`]s for the revocation check ([`crate::revocation`], which does
//! I/O); binding to an account is the caller's step.

use std::path::Path;

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bhxh_protocol::vnid::{ids_from_name, VnId};
use bhxh_protocol::{Algorithm, ErrorCode, Lang};
use ring::signature::{self, UnparsedPublicKey};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use sha2::{Digest, Sha256};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::facts::{CertPath, CertProblem, ChainEntryProblem};

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// How many CA certificates a request's `chain` may carry.
pub const MAX_CHAIN: usize = 4;

/// Signature algorithms accepted on every certificate of a path: SHA-2 only (no SHA-1).
static SIGNATURE_ALGORITHMS: &[&dyn SignatureVerificationAlgorithm] = &[
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
    webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
];

/// sha1WithRSAEncryption and ecdsa-with-SHA1: refused on token certificates with their
/// own code (VN CAs moved to SHA-256 years ago; older tokens still carry SHA-1).
const SHA1_SIGNATURES: &[&str] = &["1.2.840.113549.1.1.5", "1.2.840.10045.4.1", "1.3.14.3.2.29"];

/// The default trust anchor: the Vietnam National Root CA (NEAC, 2014–2039), SHA-256
/// `BA:C8:BF:60:9A:B4:20:A8:EE:17:80:D7:4F:4D:E5:C7:F7:18:49:59:D2:A7:37:5B:0A:75:E4:C2:9F:09:08:E7`.
pub const NATIONAL_ROOT_PEM: &str = include_str!("../trust/vietnam-national-root-ca.pem");

/// The default intermediates (never trusted by themselves): VNPT-CA SHA2 (2024–2029,
/// issued by the national root, `pathLen 0`).
pub const DEFAULT_INTERMEDIATES_PEM: &str = include_str!("../trust/vnpt-ca-sha2.pem");

/// Trust anchors and the intermediates that may build a path to them.
#[derive(Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Anchor>,
    /// Used to build paths, never trusted by themselves (`BHXH_INTERMEDIATES`).
    intermediates: Vec<CertificateDer<'static>>,
}

#[derive(Debug)]
struct Anchor {
    der: Vec<u8>,
    anchor: TrustAnchor<'static>,
    name: String,
    not_before: i64,
    not_after: i64,
}

/// What the checks learned about a certificate that passed them.
#[derive(Clone, Debug)]
pub struct CheckedCert {
    /// SHA-256 of the DER, lower-case hex.
    pub fingerprint: String,
    /// Vietnamese IDs from the subject's userId attributes.
    pub ids: Vec<VnId>,
    /// The subject's common name, for the audit log and the support desk.
    pub common_name: String,
    /// The path that decided, leaf first.
    pub path: CertPath,
    /// Each certificate of that path with its issuer, leaf first: what revocation checks.
    pub links: Vec<Link>,
}

/// A certificate of a checked path and the one that issued it (DER).
#[derive(Clone, Debug)]
pub struct Link {
    pub cert: Vec<u8>,
    pub issuer: Vec<u8>,
}

/// Why a certificate was refused: the code the user reads and, for the audit line and
/// the support desk, what exactly failed (never a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertRefusal {
    pub code: ErrorCode,
    pub problem: Option<CertProblem>,
}

impl CertRefusal {
    pub fn new(code: ErrorCode, problem: CertProblem) -> CertRefusal {
        CertRefusal { code, problem: Some(problem) }
    }
}

impl From<ErrorCode> for CertRefusal {
    fn from(code: ErrorCode) -> CertRefusal {
        CertRefusal { code, problem: None }
    }
}

impl TrustStore {
    /// Reads anchors and intermediates (PEM or DER) from files. Without an anchors file
    /// the anchor is the Vietnam National Root CA ([`NATIONAL_ROOT_PEM`]); without an
    /// intermediates file the bundle is [`DEFAULT_INTERMEDIATES_PEM`].
    pub fn load(anchors: Option<&Path>, intermediates: Option<&Path>) -> anyhow::Result<TrustStore> {
        let certs = |p: Option<&Path>, default: &str| match p {
            Some(p) => read_pem_or_der(p, "CERTIFICATE"),
            None => pem_blocks(default.as_bytes(), "CERTIFICATE"),
        };
        TrustStore::from_der(certs(anchors, NATIONAL_ROOT_PEM)?, certs(intermediates, DEFAULT_INTERMEDIATES_PEM)?)
    }

    /// Builds a store from DER blobs. Every anchor must be a CA.
    pub fn from_der(anchors: Vec<Vec<u8>>, intermediates: Vec<Vec<u8>>) -> anyhow::Result<TrustStore> {
        let mut store = TrustStore::default();
        for der in anchors {
            let (_, cert) = X509Certificate::from_der(&der).context("a trust anchor is not a valid certificate")?;
            if !cert.is_ca() {
                bail!("trust anchor {} is not a CA certificate", cert.subject());
            }
            let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                .map_err(|e| anyhow::anyhow!("trust anchor {}: {e:?}", cert.subject()))?
                .to_owned();
            store.anchors.push(Anchor {
                der: der.clone(),
                anchor,
                name: common_name(&cert),
                not_before: cert.validity().not_before.timestamp(),
                not_after: cert.validity().not_after.timestamp(),
            });
        }
        for der in intermediates {
            let (_, cert) = X509Certificate::from_der(&der).context("an intermediate is not a valid certificate")?;
            if !cert.is_ca() {
                tracing::warn!(subject = %cert.subject(), "a configured intermediate is not a CA certificate: no path can go through it");
            }
            store.intermediates.push(CertificateDer::from(der));
        }
        Ok(store)
    }

    /// The configured intermediates, DER.
    pub fn intermediate_ders(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.intermediates.iter().map(|c| c.as_ref().to_vec())
    }

    /// Every configured CA certificate, anchors and intermediates, DER.
    pub fn ca_ders(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.anchors.iter().map(|a| a.der.clone()).chain(self.intermediate_ders())
    }

    /// Number of trust anchors.
    pub fn anchor_count(&self) -> usize {
        self.anchors.len()
    }

    /// Checks a certificate in the order of protocol v1: parses, valid at `now`, allows
    /// digital signatures, not signed with SHA-1, key RSA ≥ 2048 or P-256 and matching
    /// `algorithm`, then a path through the configured intermediates and `chain` (the CA
    /// certificates the client read from the token) to an anchor. Revocation is the
    /// next step, over the returned [`CheckedCert::links`].
    pub fn check_certificate(
        &self,
        der: &[u8],
        chain: &[Vec<u8>],
        algorithm: Algorithm,
        now: i64,
    ) -> Result<CheckedCert, CertRefusal> {
        let cert = match X509Certificate::from_der(der) {
            Ok((&[], cert)) => cert,
            _ => return Err(ErrorCode::CertMalformed.into()),
        };
        let validity = cert.validity();
        if now < validity.not_before.timestamp() {
            return Err(ErrorCode::CertNotYetValid.into());
        }
        if now > validity.not_after.timestamp() {
            return Err(ErrorCode::CertExpired.into());
        }
        match cert.key_usage() {
            Ok(Some(ku)) if ku.value.digital_signature() => {}
            Ok(Some(_)) => return Err(ErrorCode::CertKeyUsage.into()),
            Ok(None) => return Err(CertRefusal::new(ErrorCode::CertKeyUsage, CertProblem::NoKeyUsage)),
            Err(_) => return Err(ErrorCode::CertMalformed.into()),
        }
        let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
        if SHA1_SIGNATURES.contains(&sig_oid.as_str()) {
            return Err(CertRefusal::new(
                ErrorCode::CertWeakSignature,
                CertProblem::Sha1Signature { algorithm: sig_oid },
            ));
        }
        let key_algorithm = key_algorithm(&cert)?;
        if key_algorithm != algorithm {
            return Err(ErrorCode::AlgorithmMismatch.into());
        }
        let (path, links) = self.check_path(der, chain, now)?;
        Ok(CheckedCert {
            fingerprint: fingerprint(der),
            ids: ids_from_name(cert.subject()),
            common_name: common_name(&cert),
            path,
            links,
        })
    }

    /// The path to an anchor (rustls-webpki): its names, and its links for revocation.
    fn check_path(&self, der: &[u8], chain: &[Vec<u8>], now: i64) -> Result<(CertPath, Vec<Link>), CertRefusal> {
        let leaf = CertificateDer::from(der);
        let ee = EndEntityCert::try_from(&leaf).map_err(|e| refusal(code_of(&e), &e))?;
        let mut intermediates: Vec<CertificateDer<'_>> = self.intermediates.clone();
        intermediates.extend(chain.iter().map(|c| CertificateDer::from(c.as_slice())));
        // An anchor outside its own validity anchors nothing.
        let anchors: Vec<&Anchor> = self.anchors.iter().filter(|a| a.not_before <= now && now <= a.not_after).collect();
        let trust: Vec<TrustAnchor<'_>> = anchors.iter().map(|a| a.anchor.clone()).collect();
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64));
        let verified = ee
            .verify_for_usage(SIGNATURE_ALGORITHMS, &trust, &intermediates, time, KeyUsage::client_auth(), None, None)
            .map_err(|e| refusal(code_of(&e), &e))?;
        let mut names = vec![cn_of_der(der)];
        names.extend(verified.intermediate_certificates().map(|c| cn_of_der(&c.der())));
        let anchor = anchors
            .iter()
            .find(|a| a.anchor.subject_public_key_info == verified.anchor().subject_public_key_info)
            .ok_or_else(|| CertRefusal::new(ErrorCode::CertUntrusted, CertProblem::UnknownAnchor))?;
        let mut up: Vec<Vec<u8>> = verified.intermediate_certificates().map(|c| c.der().to_vec()).collect();
        up.push(anchor.der.clone());
        let mut links = Vec::with_capacity(up.len());
        let mut cert = der.to_vec();
        for issuer in up {
            links.push(Link { cert: std::mem::replace(&mut cert, issuer.clone()), issuer });
        }
        Ok((CertPath { names, anchor: anchor.name.clone() }, links))
    }
}

impl TrustStore {
    /// What `bhxh-server trust show` prints: anchors, and intermediates with the anchor
    /// each chains to (revocation is [`crate::revocation::Revocation::report`]).
    pub fn report(&self, now: i64) -> String {
        use std::fmt::Write as _;
        let date = |t: i64| crate::clock::rfc3339(t);
        let mut out = String::from("Trust anchors / Gốc tin cậy:\n");
        for a in &self.anchors {
            let state = if a.not_before <= now && now <= a.not_after { "valid" } else { "NOT VALID NOW" };
            let _ = writeln!(
                out,
                "  {}  {} – {}  {state}  sha256 {}",
                a.name,
                date(a.not_before),
                date(a.not_after),
                fingerprint(&a.der)
            );
        }
        out.push_str("Intermediates / CA trung gian:\n");
        for der in &self.intermediates {
            let path = match self.ca_path(der, now) {
                Ok(p) => p.render(Lang::En),
                Err(r) => format!(
                    "{} ({})",
                    cn_of_der(der),
                    r.problem.map_or_else(|| r.code.as_str().to_string(), |p| p.render(Lang::En))
                ),
            };
            let _ = writeln!(out, "  {path}  sha256 {}", fingerprint(der));
        }
        if self.intermediates.is_empty() {
            out.push_str("  —\n");
        }
        out
    }

    /// For a CA certificate (an intermediate an operator configures): the anchor valid
    /// at `now` that issued it, as `intermediate CN < anchor CN (anchor)`. One level, as
    /// the real PKI has (national root → licensed CA).
    pub fn ca_path(&self, der: &[u8], now: i64) -> Result<CertPath, CertRefusal> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|_| CertRefusal::from(ErrorCode::CertMalformed))?;
        if !cert.is_ca() {
            return Err(CertRefusal::new(ErrorCode::CertIssuerInvalid, CertProblem::NotCa));
        }
        let v = cert.validity();
        if now < v.not_before.timestamp() || now > v.not_after.timestamp() {
            return Err(CertRefusal::new(ErrorCode::CertIssuerInvalid, CertProblem::OutsideValidity));
        }
        self.anchors
            .iter()
            .filter(|a| a.not_before <= now && now <= a.not_after)
            .find(|a| {
                X509Certificate::from_der(&a.der).is_ok_and(|(_, ca)| {
                    ca.subject().as_raw() == cert.issuer().as_raw()
                        && cert.verify_signature(Some(ca.public_key())).is_ok()
                })
            })
            .map(|a| CertPath { names: vec![common_name(&cert)], anchor: a.name.clone() })
            .ok_or(CertRefusal::new(ErrorCode::CertUntrusted, CertProblem::NoAnchorIssued))
    }
}

/// The certificate policies the deployment requires of the CA that issued `der` (the
/// first link's issuer, on the path already verified): when that CA is named in
/// `required`, the certificate must carry one of its OIDs (`CERT_POLICY`). `anyPolicy`
/// is no policy of a kind and satisfies nothing.
pub fn check_policies(
    required: &[crate::config::RequiredPolicy],
    der: &[u8],
    links: &[Link],
) -> Result<(), CertRefusal> {
    let Some(issuer_der) = links.first().map(|l| l.issuer.as_slice()) else { return Ok(()) };
    let issuer_cn = cn_of_der(issuer_der);
    let fp = fingerprint(issuer_der);
    let wanted: Vec<&String> = required
        .iter()
        .filter(|r| r.issuer == issuer_cn || normalize_fingerprint(&r.issuer).as_deref() == Some(fp.as_str()))
        .flat_map(|r| r.oids.iter())
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| CertRefusal::from(ErrorCode::CertMalformed))?;
    let carried: Vec<String> = cert
        .extensions()
        .iter()
        .filter_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::CertificatePolicies(p) => Some(p),
            _ => None,
        })
        .flatten()
        .map(|p| p.policy_id.to_id_string())
        .collect();
    if carried.iter().any(|c| wanted.contains(&c)) {
        return Ok(());
    }
    Err(CertRefusal::new(
        ErrorCode::CertPolicy,
        CertProblem::Policy { carried, required: wanted.into_iter().cloned().collect(), issuer: issuer_cn },
    ))
}

/// The algorithm a certificate's key signs with, from its DER (for a check without a
/// signature, where no algorithm is declared).
pub fn algorithm_of(der: &[u8]) -> Result<Algorithm, CertRefusal> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| CertRefusal::from(ErrorCode::CertMalformed))?;
    key_algorithm(&cert).map_err(CertRefusal::from)
}

/// The request's `chain`: at most [`MAX_CHAIN`] base64 DER CA certificates.
pub fn decode_chain(chain: &[String]) -> Result<Vec<Vec<u8>>, CertRefusal> {
    if chain.len() > MAX_CHAIN {
        return Err(CertRefusal::new(
            ErrorCode::CertChainInvalid,
            CertProblem::ChainTooLong { len: chain.len(), max: MAX_CHAIN },
        ));
    }
    chain
        .iter()
        .enumerate()
        .map(|(i, b64)| {
            let bad = |why| CertRefusal::new(ErrorCode::CertChainInvalid, CertProblem::ChainEntry { index: i, why });
            let der = STANDARD.decode(b64.as_bytes()).map_err(|_| bad(ChainEntryProblem::NotBase64))?;
            match X509Certificate::from_der(&der) {
                Ok((rest, c)) if rest.is_empty() && c.is_ca() => Ok(der),
                Ok((&[], _)) => Err(bad(ChainEntryProblem::NotCa)),
                _ => Err(bad(ChainEntryProblem::NotDer)),
            }
        })
        .collect()
}

/// The catalogue code of a path or revocation failure.
fn code_of(e: &webpki::Error) -> ErrorCode {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer | E::InvalidSignatureForPublicKey | E::CertDistrusted | E::MaximumPathDepthExceeded => {
            ErrorCode::CertUntrusted
        }
        E::CertRevoked => ErrorCode::CertRevoked,
        E::UnknownRevocationStatus
        | E::CrlExpired { .. }
        | E::InvalidCrlSignatureForPublicKey
        | E::IssuerNotCrlSigner
        | E::UnsupportedCrlSignatureAlgorithmContext(_)
        | E::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_)
        | E::UnsupportedIndirectCrl
        | E::UnsupportedDeltaCrl
        | E::UnsupportedCrlIssuingDistributionPoint
        | E::UnsupportedRevocationReasonsPartitioning => ErrorCode::CertRevocationUnknown,
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | E::SignatureAlgorithmMismatch => ErrorCode::CertWeakSignature,
        E::UnsupportedCriticalExtension => ErrorCode::CertExtensionUnsupported,
        E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => ErrorCode::CertPurpose,
        E::CertExpired { .. }
        | E::CertNotValidYet { .. }
        | E::InvalidCertValidity
        | E::PathLenConstraintViolated
        | E::EndEntityUsedAsCa
        | E::CaUsedAsEndEntity => ErrorCode::CertIssuerInvalid,
        E::BadDer | E::BadDerTime | E::TrailingData(_) | E::MalformedExtensions | E::UnsupportedCertVersion => {
            ErrorCode::CertMalformed
        }
        _ => ErrorCode::CertUntrusted,
    }
}

fn refusal(code: ErrorCode, e: &webpki::Error) -> CertRefusal {
    CertRefusal::new(code, CertProblem::Path { error: format!("{e:?}") })
}

fn common_name(cert: &X509Certificate<'_>) -> String {
    cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).unwrap_or_default().to_string()
}

fn cn_of_der(der: &[u8]) -> String {
    X509Certificate::from_der(der).map(|(_, c)| common_name(&c)).unwrap_or_else(|_| "?".into())
}

/// The algorithm a certificate's key signs with, or why it is not accepted.
pub fn key_algorithm(cert: &X509Certificate<'_>) -> Result<Algorithm, ErrorCode> {
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() >= MIN_RSA_BITS && rsa.key_size() <= 8192 => Ok(Algorithm::RS256),
        Ok(PublicKey::EC(point))
            if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY
                && spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).as_ref() == Some(&OID_EC_P256)
                && point.data().len() == 65 =>
        {
            Ok(Algorithm::ES256)
        }
        Ok(_) => Err(ErrorCode::CertKeyUnsupported),
        Err(_) => Err(ErrorCode::CertMalformed),
    }
}

/// Verifies `signature` over `data` with the certificate's key. The certificate must
/// have passed [`TrustStore::check_certificate`] with the same `algorithm`.
pub fn check_signature(cert_der: &[u8], algorithm: Algorithm, data: &[u8], sig: &[u8]) -> Result<(), ErrorCode> {
    let (_, cert) = X509Certificate::from_der(cert_der).map_err(|_| ErrorCode::CertMalformed)?;
    let key = &cert.public_key().subject_public_key.data;
    let alg: &dyn signature::VerificationAlgorithm = match algorithm {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        _ => return Err(ErrorCode::AlgorithmMismatch),
    };
    UnparsedPublicKey::new(alg, key).verify(data, sig).map_err(|_| ErrorCode::SignatureInvalid)
}

/// SHA-256 of a certificate's DER, lower-case hex: the pinned-fingerprint form.
pub fn fingerprint(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Normalises a fingerprint as people paste it (`AB:CD:…`, spaces, upper case).
pub fn normalize_fingerprint(s: &str) -> Option<String> {
    let hex: String = s.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).collect::<String>().to_ascii_lowercase();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

/// Every block with `label` in a PEM file, or the whole file as one DER blob.
pub fn read_pem_or_der(path: &Path, label: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if !bytes.starts_with(b"-----") && !bytes.iter().take(64).any(|b| *b == b'-') {
        return Ok(vec![bytes]);
    }
    pem_blocks(&bytes, label).with_context(|| format!("reading {}", path.display()))
}

/// Every block with `label` in PEM text (at least one).
pub fn pem_blocks(bytes: &[u8], label: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for pem in Pem::iter_from_buffer(bytes) {
        let pem = pem.context("malformed PEM")?;
        if pem.label == label {
            out.push(pem.contents);
        }
    }
    if out.is_empty() {
        bail!("no {label} found");
    }
    Ok(out)
}
