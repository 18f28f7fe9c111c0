//! Certificate and signature checks of protocol v1, step 4, as pure functions over a
//! [`TrustStore`]: no I/O, no clock of their own (the caller passes `now`), so each
//! rejection is tested on its own and benchmarked without a server.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context};
use bhxh_protocol::vnid::{ids_from_name, VnId};
use bhxh_protocol::{Algorithm, ErrorCode};
use ring::signature::{self, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY};
use x509_parser::pem::Pem;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;
use x509_parser::revocation_list::CertificateRevocationList;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// Trusted CA certificates and the revocation lists that cover them.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Anchor>,
    crls: Vec<Crl>,
    /// A CRL file is configured: every issuer must be covered by a current CRL.
    crl_required: bool,
}

#[derive(Clone, Debug)]
struct Anchor {
    der: Vec<u8>,
    subject: Vec<u8>,
    not_before: i64,
    not_after: i64,
}

#[derive(Clone, Debug)]
struct Crl {
    issuer: Vec<u8>,
    next_update: Option<i64>,
    revoked: HashSet<Vec<u8>>,
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
}

impl TrustStore {
    /// Reads anchors (PEM) and, optionally, CRLs (PEM or DER) from files.
    pub fn load(anchors: Option<&Path>, crl: Option<&Path>) -> anyhow::Result<TrustStore> {
        let anchor_ders = match anchors {
            Some(p) => read_pem_or_der(p, "CERTIFICATE")?,
            None => Vec::new(),
        };
        let crl_ders = match crl {
            Some(p) => read_pem_or_der(p, "X509 CRL")?,
            None => Vec::new(),
        };
        TrustStore::from_der(anchor_ders, crl_ders, crl.is_some())
    }

    /// Builds a store from DER blobs; every CRL must be signed by one of the anchors.
    pub fn from_der(anchors: Vec<Vec<u8>>, crls: Vec<Vec<u8>>, crl_required: bool) -> anyhow::Result<TrustStore> {
        let mut store = TrustStore { anchors: Vec::new(), crls: Vec::new(), crl_required };
        for der in anchors {
            let (_, cert) = X509Certificate::from_der(&der).context("a trust anchor is not a valid certificate")?;
            if !cert.is_ca() {
                bail!("trust anchor {} is not a CA certificate", cert.subject());
            }
            let anchor = Anchor {
                subject: cert.subject().as_raw().to_vec(),
                not_before: cert.validity().not_before.timestamp(),
                not_after: cert.validity().not_after.timestamp(),
                der: der.clone(),
            };
            store.anchors.push(anchor);
        }
        for der in crls {
            let (_, crl) = CertificateRevocationList::from_der(&der).context("a CRL could not be parsed")?;
            let issuer = crl.issuer().as_raw().to_vec();
            let signed_by_anchor = store.anchors.iter().filter(|a| a.subject == issuer).any(|a| {
                X509Certificate::from_der(&a.der).map(|(_, c)| crl.verify_signature(c.public_key()).is_ok()).unwrap_or(false)
            });
            if !signed_by_anchor {
                bail!("CRL of {} is not signed by a configured trust anchor", crl.issuer());
            }
            store.crls.push(Crl {
                issuer,
                next_update: crl.next_update().map(|t| t.timestamp()),
                revoked: crl.iter_revoked_certificates().map(|r| r.raw_serial().to_vec()).collect(),
            });
        }
        Ok(store)
    }

    /// Number of trust anchors.
    pub fn anchor_count(&self) -> usize {
        self.anchors.len()
    }

    /// Checks a certificate in the order of protocol v1: parses, valid at `now`,
    /// allows digital signatures, key RSA ≥ 2048 or P-256 and matching `algorithm`,
    /// chains to an anchor, not revoked. Binding to an account is the caller's step.
    pub fn check_certificate(&self, der: &[u8], algorithm: Algorithm, now: i64) -> Result<CheckedCert, ErrorCode> {
        let cert = match X509Certificate::from_der(der) {
            Ok((rest, cert)) if rest.is_empty() => cert,
            _ => return Err(ErrorCode::CertMalformed),
        };
        let validity = cert.validity();
        if now < validity.not_before.timestamp() {
            return Err(ErrorCode::CertNotYetValid);
        }
        if now > validity.not_after.timestamp() {
            return Err(ErrorCode::CertExpired);
        }
        match cert.key_usage() {
            Ok(Some(ku)) if !ku.value.digital_signature() => return Err(ErrorCode::CertKeyUsage),
            Ok(_) => {}
            Err(_) => return Err(ErrorCode::CertMalformed),
        }
        let key_algorithm = key_algorithm(&cert)?;
        if key_algorithm != algorithm {
            return Err(ErrorCode::AlgorithmMismatch);
        }
        self.check_chain(&cert, now)?;
        self.check_revocation(&cert, now)?;
        let common_name =
            cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).unwrap_or_default().to_string();
        Ok(CheckedCert { fingerprint: fingerprint(der), ids: ids_from_name(cert.subject()), common_name })
    }

    fn check_chain(&self, cert: &X509Certificate<'_>, now: i64) -> Result<(), ErrorCode> {
        let issuer = cert.issuer().as_raw();
        let trusted = self.anchors.iter().filter(|a| a.subject == issuer && a.not_before <= now && now <= a.not_after).any(
            |a| match X509Certificate::from_der(&a.der) {
                Ok((_, ca)) => cert.verify_signature(Some(ca.public_key())).is_ok(),
                Err(_) => false,
            },
        );
        if trusted {
            Ok(())
        } else {
            Err(ErrorCode::CertUntrusted)
        }
    }

    fn check_revocation(&self, cert: &X509Certificate<'_>, now: i64) -> Result<(), ErrorCode> {
        let issuer = cert.issuer().as_raw();
        let mut covered = false;
        for crl in self.crls.iter().filter(|c| c.issuer == issuer) {
            if crl.revoked.contains(cert.raw_serial()) {
                return Err(ErrorCode::CertRevoked);
            }
            if crl.next_update.map_or(true, |next| now <= next) {
                covered = true;
            }
        }
        if self.crl_required && !covered {
            return Err(ErrorCode::CertRevocationUnknown);
        }
        Ok(())
    }
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
    Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect()
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
    let mut out = Vec::new();
    for pem in Pem::iter_from_buffer(&bytes) {
        let pem = pem.with_context(|| format!("PEM in {}", path.display()))?;
        if pem.label == label {
            out.push(pem.contents);
        }
    }
    if out.is_empty() {
        bail!("no {label} found in {}", path.display());
    }
    Ok(out)
}
