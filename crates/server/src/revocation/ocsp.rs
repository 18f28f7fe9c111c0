//! OCSP (RFC 6960) as pure functions: the request for a certificate and its issuer (with
//! a nonce when the responder's policy asks for one), and the checks of an answer — a
//! successful basic response, signed by the issuer or by a responder certificate the
//! issuer gave id-kp-OCSPSigning, about exactly the certificate asked for, fresh within a
//! bounded clock skew, with our nonce echoed when one is required. No I/O, no clock of
//! its own: the cache and the HTTP exchange are in [`super`].

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use ring::signature::{self, UnparsedPublicKey};
use x509_cert::ext::Extension;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request, ResponderId,
    TbsRequest, Version,
};
use x509_parser::prelude::{FromDer, X509Certificate};

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
const BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";

pub use crate::config::NoncePolicy;
use crate::facts::{DelegateProblem, OcspProblem, SignatureProblem};

/// The DER library's words, kept as data in a problem.
fn request_problem(part: &str) -> impl Fn(der::Error) -> OcspProblem + '_ {
    move |e| OcspProblem::Request { detail: format!("{part}: {e}") }
}

/// What a responder said about one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    Good,
    Revoked {
        at: i64,
    },
    /// The responder does not know the certificate: not good.
    Unknown,
}

/// A checked answer.
#[derive(Clone, Debug)]
pub struct OcspAnswer {
    pub status: OcspStatus,
    pub this_update: i64,
    pub next_update: Option<i64>,
    /// `issuer`, or `delegated <CN>`.
    pub signer: String,
}

/// The limits an answer is judged by.
#[derive(Clone, Copy, Debug)]
pub struct Freshness {
    /// Clock difference tolerated between us and the responder.
    pub skew_secs: i64,
    /// How long after `thisUpdate` an answer without `nextUpdate` counts as fresh.
    pub max_age_secs: i64,
}

/// A request ready to send, and what its answer must match.
#[derive(Clone, Debug)]
pub struct Query {
    pub der: Vec<u8>,
    cert_id: CertId,
    nonce: Option<Vec<u8>>,
}

/// The OCSP responders of a certificate's authorityInfoAccess (HTTP only: OCSP runs over
/// plain HTTP, its answers are signed).
pub fn responders(cert: &X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let mut out = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for d in &aia.accessdescs {
                if d.access_method.to_id_string() == AD_OCSP {
                    if let GeneralName::URI(u) = &d.access_location {
                        if u.starts_with("http://") || u.starts_with("https://") {
                            out.push(u.to_string());
                        }
                    }
                }
            }
        }
    }
    out
}

/// The request for `cert` issued by `issuer` (both DER), with `nonce` when given.
pub fn request(cert: &[u8], issuer: &[u8], nonce: Option<[u8; 16]>) -> Result<Query, OcspProblem> {
    let cert = Certificate::from_der(cert).map_err(request_problem("certificate"))?;
    let issuer = Certificate::from_der(issuer).map_err(request_problem("issuer"))?;
    let sha1 = |b: &[u8]| ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, b).as_ref().to_vec();
    let name = cert.tbs_certificate.issuer.to_der().map_err(request_problem("issuer name"))?;
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let cert_id = CertId {
        hash_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
            oid: SHA1,
            parameters: Some(der::asn1::Null.into()),
        },
        issuer_name_hash: OctetString::new(sha1(&name)).map_err(request_problem("issuer name hash"))?,
        issuer_key_hash: OctetString::new(sha1(key)).map_err(request_problem("issuer key hash"))?,
        serial_number: cert.tbs_certificate.serial_number.clone(),
    };
    let request_extensions = match nonce {
        Some(n) => {
            let value = OctetString::new(n.to_vec()).and_then(|o| o.to_der()).map_err(request_problem("nonce"))?;
            Some(vec![Extension {
                extn_id: NONCE,
                critical: false,
                extn_value: OctetString::new(value).map_err(request_problem("nonce"))?,
            }])
        }
        None => None,
    };
    let req = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request { req_cert: cert_id.clone(), single_request_extensions: None }],
            request_extensions,
        },
        optional_signature: None,
    };
    Ok(Query { der: req.to_der().map_err(request_problem("request"))?, cert_id, nonce: nonce.map(|n| n.to_vec()) })
}

/// Checks a responder's answer to `query` about a certificate of `issuer` (DER).
pub fn check_response(
    body: &[u8],
    query: &Query,
    issuer: &[u8],
    policy: NoncePolicy,
    fresh: Freshness,
    now: i64,
) -> Result<OcspAnswer, OcspProblem> {
    let resp = OcspResponse::from_der(body).map_err(|e| OcspProblem::NotOcsp { detail: e.to_string() })?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(OcspProblem::Refused { status: status_name(resp.response_status).into() });
    }
    let bytes = resp.response_bytes.ok_or(OcspProblem::NoBody)?;
    if bytes.response_type != BASIC {
        return Err(OcspProblem::UnsupportedType { oid: bytes.response_type.to_string() });
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| OcspProblem::NotOcsp { detail: format!("basic: {e}") })?;
    let (_, issuer_cert) = X509Certificate::from_der(issuer)
        .map_err(|e| OcspProblem::Unreadable { detail: format!("issuer certificate: {e}") })?;

    // Who signed: the issuer itself, or a certificate the issuer gave id-kp-OCSPSigning.
    let tbs = basic.tbs_response_data.to_der().map_err(|e| OcspProblem::Unreadable { detail: e.to_string() })?;
    let sig_alg = basic.signature_algorithm.oid.to_string();
    let sig = basic
        .signature
        .as_bytes()
        .ok_or_else(|| OcspProblem::Unreadable { detail: "signature is not a whole number of bytes".into() })?;
    let signer = if responder_is(&basic.tbs_response_data.responder_id, &issuer_cert) {
        verify(&issuer_cert, &sig_alg, &tbs, sig)
            .map_err(|problem| OcspProblem::Signature { delegate: None, problem })?;
        "issuer".to_string()
    } else {
        let certs = basic.certs.as_deref().unwrap_or_default();
        let ders: Vec<Vec<u8>> = certs.iter().filter_map(|c| c.to_der().ok()).collect();
        let named: Vec<X509Certificate<'_>> = ders
            .iter()
            .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
            .filter(|c| responder_is(&basic.tbs_response_data.responder_id, c))
            .collect();
        let delegate = named.first().ok_or(OcspProblem::UnknownSigner)?;
        delegated_ok(delegate, &issuer_cert, now)
            .map_err(|problem| OcspProblem::Delegate { responder: common_name(delegate), problem })?;
        verify(delegate, &sig_alg, &tbs, sig)
            .map_err(|problem| OcspProblem::Signature { delegate: Some(common_name(delegate)), problem })?;
        format!("delegated {}", common_name(delegate))
    };

    // Our nonce, when we sent one.
    let echoed = basic.tbs_response_data.nonce().map(|n| n.0.as_bytes().to_vec());
    match (&query.nonce, echoed) {
        (Some(ours), Some(theirs)) if *ours != theirs => return Err(OcspProblem::NonceNotOurs),
        (Some(_), None) if policy == NoncePolicy::Require => return Err(OcspProblem::NonceMissing),
        _ => {}
    }

    // The answer about our certificate.
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| same_cert(&r.cert_id, &query.cert_id))
        .ok_or(OcspProblem::OtherCertificate)?;
    let secs = |t: &x509_ocsp::OcspGeneralizedTime| t.0.to_unix_duration().as_secs() as i64;
    let this_update = secs(&single.this_update);
    let next_update = single.next_update.as_ref().map(secs);
    if this_update > now + fresh.skew_secs {
        return Err(OcspProblem::FromTheFuture { this_update });
    }
    let until = next_update.unwrap_or(this_update + fresh.max_age_secs);
    if now > until + fresh.skew_secs {
        return Err(OcspProblem::Stale { until, next_update: next_update.is_some() });
    }
    let status = match &single.cert_status {
        CertStatus::Good(_) => OcspStatus::Good,
        CertStatus::Revoked(info) => OcspStatus::Revoked { at: secs(&info.revocation_time) },
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    };
    Ok(OcspAnswer { status, this_update, next_update, signer })
}

fn same_cert(a: &CertId, b: &CertId) -> bool {
    a.hash_algorithm.oid == b.hash_algorithm.oid
        && a.issuer_name_hash == b.issuer_name_hash
        && a.issuer_key_hash == b.issuer_key_hash
        && a.serial_number == b.serial_number
}

/// Whether the response's responderID names `cert` (by subject or by key hash).
fn responder_is(id: &ResponderId, cert: &X509Certificate<'_>) -> bool {
    match id {
        ResponderId::ByName(name) => name.to_der().is_ok_and(|n| n.as_slice() == cert.subject().as_raw()),
        ResponderId::ByKey(hash) => {
            let key = &cert.public_key().subject_public_key.data;
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, key).as_ref() == hash.as_bytes()
        }
    }
}

/// A delegated responder: issued by the certificate's issuer, valid now, allowed to sign
/// OCSP answers (RFC 6960 §4.2.2.2).
fn delegated_ok(delegate: &X509Certificate<'_>, issuer: &X509Certificate<'_>, now: i64) -> Result<(), DelegateProblem> {
    if delegate.issuer().as_raw() != issuer.subject().as_raw()
        || delegate.verify_signature(Some(issuer.public_key())).is_err()
    {
        return Err(DelegateProblem::NotIssuedByTheIssuer);
    }
    let v = delegate.validity();
    if now < v.not_before.timestamp() || now > v.not_after.timestamp() {
        return Err(DelegateProblem::OutsideValidity);
    }
    match delegate.extended_key_usage() {
        Ok(Some(eku)) if eku.value.ocsp_signing => Ok(()),
        _ => Err(DelegateProblem::NoOcspSigning),
    }
}

/// A responder's refusal by its RFC 6960 name.
fn status_name(status: OcspResponseStatus) -> &'static str {
    match status {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

/// Verifies `sig` over `data` with `cert`'s key, for the signature algorithms CAs sign
/// OCSP answers with (SHA-2 only).
fn verify(cert: &X509Certificate<'_>, alg_oid: &str, data: &[u8], sig: &[u8]) -> Result<(), SignatureProblem> {
    let spki = cert.public_key();
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok()).map(|o| o.to_id_string());
    let alg: &dyn signature::VerificationAlgorithm = match (alg_oid, curve.as_deref()) {
        ("1.2.840.113549.1.1.11", _) => &signature::RSA_PKCS1_2048_8192_SHA256,
        ("1.2.840.113549.1.1.12", _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("1.2.840.113549.1.1.13", _) => &signature::RSA_PKCS1_2048_8192_SHA512,
        ("1.2.840.10045.4.3.2", Some("1.2.840.10045.3.1.7")) => &signature::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.4.3.3", Some("1.3.132.0.34")) => &signature::ECDSA_P384_SHA384_ASN1,
        ("1.2.840.113549.1.1.5" | "1.2.840.10045.4.1", _) => return Err(SignatureProblem::Sha1),
        (other, _) => return Err(SignatureProblem::Unsupported { algorithm: other.into() }),
    };
    UnparsedPublicKey::new(alg, &spki.subject_public_key.data)
        .verify(data, sig)
        .map_err(|_| SignatureProblem::DoesNotVerify)
}

fn common_name(cert: &X509Certificate<'_>) -> String {
    cert.subject().iter_common_name().next().and_then(|c| c.as_str().ok()).unwrap_or("?").to_string()
}
