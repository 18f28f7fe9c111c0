//! The whole verdict on a token certificate: its own checks and path to an anchor
//! ([`crate::verify`]), the policies its issuers require, then the revocation of every
//! certificate on the path ([`crate::revocation`]). A recovery, the check before the
//! PIN and `bhxh-server trust check` all reach it through [`Judge::certificate_verdict`]: one
//! function, one verdict. [`TrustCheck`] is that verdict as the desk and operators read
//! it, without an account and without a signature.

use bhxh_protocol::vnid::msts;
use bhxh_protocol::{Algorithm, ErrorCode, Lang};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::clock::rfc3339;
use crate::config::RequiredPolicy;
use crate::facts::RevocationFact;
use crate::revocation::Revocation;
use crate::store::Proven;
use crate::verify::{CertRefusal, CheckedCert, TrustStore};

/// A certificate that passed every check, and what decided its revocation status.
#[derive(Debug)]
pub struct Verified {
    pub checked: CheckedCert,
    pub revocation: Vec<RevocationFact>,
}

impl Verified {
    /// What the checks found, for the audit line.
    pub fn proven(&self) -> Proven {
        Proven {
            subject: self.checked.common_name.clone(),
            path: self.checked.path.clone(),
            revocation: self.revocation.clone(),
        }
    }
}

impl std::ops::Deref for Verified {
    type Target = CheckedCert;
    fn deref(&self) -> &Self::Target {
        &self.checked
    }
}

/// What judges a certificate: the deployment's trust, the policies its issuers must
/// require, its revocation sources.
#[derive(Clone, Copy, Debug)]
pub struct Judge<'a> {
    pub trust: &'a TrustStore,
    pub policies: &'a [RequiredPolicy],
    pub revocation: &'a Revocation,
}

impl Judge<'_> {
    /// Checks a certificate as a recovery does: `chain` is the CA certificates the token
    /// carries (DER); `algorithm` the declared one, or (no signature to check) the key's
    /// own. The path is checked at `path_at`, revocation at `now` (the sources say what
    /// is revoked now; a recovery passes the same time for both).
    pub async fn certificate_verdict(
        &self,
        der: &[u8],
        chain: &[Vec<u8>],
        algorithm: Option<Algorithm>,
        path_at: i64,
        now: i64,
    ) -> Result<Verified, CertRefusal> {
        let algorithm = match algorithm {
            Some(a) => a,
            None => crate::verify::algorithm_of(der)?,
        };
        let checked = self.trust.check_certificate(der, chain, algorithm, path_at)?;
        crate::verify::check_policies(self.policies, der, &checked.links)?;
        let revocation = self.revocation.check(&checked.links, now).await?;
        Ok(Verified { checked, revocation })
    }
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A recovery with this certificate passes the certificate's checks (its signature
    /// and an account of its MST are still to come).
    Accepted,
    /// Refused, for the code's reason.
    Refused,
    /// No verdict now: the revocation status could not be had (fail-closed; a recovery
    /// now would be refused with the same code, and may pass later).
    Undecided,
}

impl Outcome {
    /// The exit status of `trust check`: 0 accepted, 2 refused, 3 undecided.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Accepted => 0,
            Outcome::Refused => 2,
            Outcome::Undecided => 3,
        }
    }
}

/// One text in both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Words {
    pub vi: String,
    pub en: String,
}

impl Words {
    fn of(f: impl Fn(Lang) -> String) -> Words {
        Words { vi: f(Lang::Vi), en: f(Lang::En) }
    }
}

/// `bhxh-server trust check`'s answer: what a recovery with this certificate would meet.
#[derive(Clone, Debug, Serialize)]
pub struct TrustCheck {
    pub outcome: Outcome,
    /// The refusal's catalogue code (absent when accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The refusal as the user reads it, and what exactly failed when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Words>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Words>,
    /// What the certificate says of itself (empty when it does not parse).
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// The MSTs of its subject (`UID=MST:…`): the accounts it can recover.
    pub msts: Vec<String>,
    /// Its key usage bits, by their RFC 5280 names.
    pub key_usage: Vec<&'static str>,
    /// The path that decided, leaf first (accepted only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Words>,
    /// What decided each certificate's revocation status, leaf first (accepted only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<Words>,
    /// The time the validity and the path were checked at.
    pub checked_at: String,
    /// Whether revocation is checked by this configuration (off only in development).
    pub revocation_checked: bool,
}

/// Checks `der` (with the CA certificates `chain`) as a recovery at `at` would, with
/// revocation as the sources say it `now`.
pub async fn trust_check(judge: Judge<'_>, der: &[u8], chain: &[Vec<u8>], at: i64, now: i64) -> TrustCheck {
    let verdict = judge.certificate_verdict(der, chain, None, at, now).await;
    let parsed = match X509Certificate::from_der(der) {
        Ok((_, c)) => Some(c),
        Err(_) => None,
    };
    let mut check = TrustCheck {
        outcome: Outcome::Accepted,
        code: None,
        message: None,
        problem: None,
        subject: parsed.as_ref().map(|c| c.subject().to_string()).unwrap_or_default(),
        issuer: parsed.as_ref().map(|c| c.issuer().to_string()).unwrap_or_default(),
        serial: parsed.as_ref().map(|c| c.raw_serial_as_string()).unwrap_or_default(),
        fingerprint: crate::verify::fingerprint(der),
        not_before: parsed.as_ref().map(|c| rfc3339(c.validity().not_before.timestamp())),
        not_after: parsed.as_ref().map(|c| rfc3339(c.validity().not_after.timestamp())),
        msts: parsed
            .as_ref()
            .map(|c| msts(&bhxh_protocol::vnid::ids_from_name(c.subject())).map(|m| m.as_str().to_string()).collect())
            .unwrap_or_default(),
        key_usage: parsed.as_ref().map(key_usage).unwrap_or_default(),
        path: None,
        revocation: None,
        checked_at: rfc3339(at),
        revocation_checked: judge.revocation.enabled(),
    };
    match verdict {
        Ok(v) => {
            check.path = Some(Words::of(|lang| v.checked.path.render(lang)));
            check.revocation = Some(Words::of(|lang| RevocationFact::render_all(&v.revocation, lang)));
        }
        Err(refused) => {
            check.outcome = match refused.code {
                ErrorCode::CertRevocationUnknown => Outcome::Undecided,
                _ => Outcome::Refused,
            };
            check.code = Some(refused.code.as_str());
            check.message = Some(Words::of(|lang| refused.code.message(lang).to_string()));
            check.problem = refused.problem.map(|p| Words::of(|lang| p.render(lang)));
        }
    }
    check
}

fn key_usage(cert: &X509Certificate<'_>) -> Vec<&'static str> {
    let Ok(Some(ku)) = cert.key_usage() else { return Vec::new() };
    let ku = ku.value;
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

impl TrustCheck {
    /// The answer as the desk reads it: Vietnamese, then English, line by line.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let verdict = match self.outcome {
            Outcome::Accepted => "CHẤP NHẬN / ACCEPTED".to_string(),
            Outcome::Refused => format!("TỪ CHỐI / REFUSED [{}]", self.code.unwrap_or("?")),
            Outcome::Undecided => format!("CHƯA XÁC ĐỊNH ĐƯỢC / UNDECIDED [{}]", self.code.unwrap_or("?")),
        };
        let _ = writeln!(out, "Kết luận / Verdict: {verdict}");
        match self.outcome {
            Outcome::Accepted => {
                let _ = writeln!(
                    out,
                    "  Lấy lại mật khẩu bằng chứng thư này qua được bước kiểm tra chứng thư; còn cần chữ ký của token và một tài khoản có MST của nó."
                );
                let _ = writeln!(
                    out,
                    "  A recovery with this certificate passes the certificate's checks; the token's signature and an account of its MST are still needed."
                );
            }
            _ => {
                if let Some(m) = &self.message {
                    let _ = writeln!(out, "  {}\n  {}", m.vi, m.en);
                }
                if let Some(p) = &self.problem {
                    let _ = writeln!(out, "  Chi tiết / Detail: {} / {}", p.vi, p.en);
                }
            }
        }
        let _ = writeln!(out, "Chủ thể / Subject: {}", self.subject);
        let _ = writeln!(out, "Nơi cấp / Issuer: {}", self.issuer);
        let _ = writeln!(out, "Số sê-ri / Serial: {}", self.serial);
        let _ = writeln!(out, "SHA-256: {}", self.fingerprint);
        if let (Some(from), Some(to)) = (&self.not_before, &self.not_after) {
            let _ = writeln!(out, "Hiệu lực / Valid: {from} → {to} (kiểm tra lúc / checked at {})", self.checked_at);
        }
        let msts = if self.msts.is_empty() { "(không có / none)".to_string() } else { self.msts.join(", ") };
        let _ = writeln!(out, "MST: {msts}");
        let usage =
            if self.key_usage.is_empty() { "(không có / none)".to_string() } else { self.key_usage.join(", ") };
        let _ = writeln!(out, "Mục đích khóa / Key usage: {usage}");
        if let Some(p) = &self.path {
            let _ = writeln!(out, "Chuỗi chứng thư / Path: {}", p.vi);
            if p.en != p.vi {
                let _ = writeln!(out, "  {}", p.en);
            }
        }
        if let Some(r) = &self.revocation {
            let _ = writeln!(out, "Thu hồi / Revocation: {}", r.vi);
            if r.en != r.vi {
                let _ = writeln!(out, "  {}", r.en);
            }
        }
        if !self.revocation_checked {
            let _ = writeln!(out, "Cảnh báo / Warning: cấu hình này không kiểm tra thu hồi / this configuration does not check revocation");
        }
        out
    }
}
