//! What the user is shown about a certificate on the token before typing the PIN.

use bhxh_protocol::vnid::{ids_from_name, VnId};
use bhxh_protocol::Algorithm;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::oid_registry::OID_EC_P256;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

/// A certificate on a token, parsed from its DER (never from display strings).
#[derive(Clone, Debug, Serialize)]
pub struct CertSummary {
    /// CKA_ID, hex; pairs the certificate with its private key.
    pub id: String,
    /// CKA_LABEL.
    pub label: String,
    /// Subject common name (the business or person).
    pub holder: String,
    /// `MST:` values of the subject, in order.
    pub msts: Vec<String>,
    /// `CCCD:` / `CMND:` values of the subject.
    pub personal_ids: Vec<String>,
    /// Issuer common name (the CA).
    pub issuer: String,
    pub serial: String,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// `RSA`, `EC P-256`, or what else the key is.
    pub key_type: String,
    pub key_bits: usize,
    /// The protocol algorithm for this key, if the backend accepts the key at all.
    pub algorithm: Option<Algorithm>,
    /// Whether the key usage allows digital signatures (absent extension: yes).
    pub digital_signature: bool,
    /// SHA-256 of the DER, hex.
    pub fingerprint: String,
    #[serde(skip)]
    pub der: Vec<u8>,
}

impl CertSummary {
    /// Parses a certificate; `None` when the DER is not a certificate.
    pub fn from_der(der: &[u8], id: &[u8], label: &str) -> Option<CertSummary> {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        let cn = |name: &x509_parser::x509::X509Name<'_>| {
            name.iter_common_name().next().and_then(|a| a.as_str().ok()).unwrap_or_default().to_string()
        };
        let ids = ids_from_name(cert.subject());
        let spki = cert.public_key();
        let (key_type, key_bits, algorithm) = match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => {
                let bits = rsa.key_size();
                ("RSA".to_string(), bits, (2048..=8192).contains(&bits).then_some(Algorithm::RS256))
            }
            Ok(PublicKey::EC(point)) => {
                let p256 =
                    spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).as_ref() == Some(&OID_EC_P256);
                if p256 {
                    ("EC P-256".to_string(), 256, Some(Algorithm::ES256))
                } else {
                    ("EC".to_string(), point.key_size(), None)
                }
            }
            _ => ("?".to_string(), 0, None),
        };
        let digital_signature = match cert.key_usage() {
            Ok(Some(ku)) => ku.value.digital_signature(),
            _ => true,
        };
        Some(CertSummary {
            id: hex(id),
            label: label.to_string(),
            holder: cn(cert.subject()),
            msts: ids
                .iter()
                .filter_map(|i| match i {
                    VnId::Mst(m) => Some(m.to_string()),
                    _ => None,
                })
                .collect(),
            personal_ids: ids
                .iter()
                .filter_map(|i| match i {
                    VnId::Cccd(n) => Some(format!("CCCD:{n}")),
                    VnId::Cmnd(n) => Some(format!("CMND:{n}")),
                    _ => None,
                })
                .collect(),
            issuer: cn(cert.issuer()),
            serial: cert.raw_serial_as_string(),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            key_type,
            key_bits,
            algorithm,
            digital_signature,
            fingerprint: hex(&Sha256::digest(der)),
            der: der.to_vec(),
        })
    }

    /// Usable for the recovery at `now`: valid, signing allowed, key accepted, has an MST.
    pub fn usable_at(&self, now: i64) -> bool {
        self.not_before <= now
            && now <= self.not_after
            && self.digital_signature
            && self.algorithm.is_some()
            && !self.msts.is_empty()
    }

    /// The CKA_ID as bytes.
    pub fn id_bytes(&self) -> Vec<u8> {
        (0..self.id.len() / 2).filter_map(|i| u8::from_str_radix(&self.id[2 * i..2 * i + 2], 16).ok()).collect()
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
