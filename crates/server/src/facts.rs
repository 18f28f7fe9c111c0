//! What the certificate checks found, as values: a path, what revocation said of each
//! certificate on it, why a certificate was refused. They are kept as JSON in an audit
//! line's detail (`store::detail`), answered to the app's certificate check, shown in
//! the console and by `trust show`, each time by one function per language ([`vi`] and
//! [`en`] of each type): the server never writes a sentence that something later turns
//! into another language. Names, URLs, numbers and a library's error text are data and
//! keep their letters.
//!
//! This module is a leaf: it uses nothing of the server but the clock's time format.
//!
//! [`vi`]: CertProblem::vi
//! [`en`]: CertProblem::en

use bhxh_protocol::Lang;
use serde::{Deserialize, Serialize};

use crate::clock::vn_time;

/// Picks the text of a language.
fn pick(lang: Lang, vi: String, en: String) -> String {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// A checked path to a trust anchor: the certificates' names from the token's up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertPath {
    /// The token's certificate first, then each CA above it.
    pub names: Vec<String>,
    /// The anchor's name.
    pub anchor: String,
}

impl CertPath {
    pub fn render(&self, lang: Lang) -> String {
        let anchor = match lang {
            Lang::Vi => format!("{} (gốc tin cậy)", self.anchor),
            Lang::En => format!("{} (anchor)", self.anchor),
        };
        self.names.iter().cloned().chain([anchor]).collect::<Vec<_>>().join(" < ")
    }
}

/// Which CRL: one of the configured file, or one fetched from a distribution point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum CrlRef {
    File { number: Option<String> },
    Fetched { url: String, number: Option<String> },
}

impl CrlRef {
    pub fn render(&self, lang: Lang) -> String {
        let number = |n: &Option<String>| n.clone().unwrap_or_else(|| "—".into());
        match (self, lang) {
            (CrlRef::File { number: n }, Lang::Vi) => format!("tệp CRL (số {})", number(n)),
            (CrlRef::File { number: n }, Lang::En) => format!("CRL file (number {})", number(n)),
            (CrlRef::Fetched { url, number: n }, Lang::Vi) => format!("CRL {url} (số {})", number(n)),
            (CrlRef::Fetched { url, number: n }, Lang::En) => format!("CRL {url} (number {})", number(n)),
        }
    }
}

/// Why one CRL could not be relied on for a certificate it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum CrlProblem {
    /// Past its nextUpdate.
    Stale {
        issuer: String,
        next_update: i64,
    },
    SignedWithSha1 {
        issuer: String,
    },
    /// The CA's keyUsage lacks cRLSign.
    IssuerMayNotSignCrls {
        issuer: String,
    },
    BadSignature {
        issuer: String,
    },
    NoNextUpdate {
        issuer: String,
    },
    /// Not a CRL at all, or one the parser refuses (its words, as data).
    Unreadable {
        issuer: Option<String>,
        error: String,
    },
}

impl CrlProblem {
    pub fn render(&self, lang: Lang) -> String {
        match self {
            CrlProblem::Stale { issuer, next_update } => pick(
                lang,
                format!("CRL của {issuer} đã quá hạn (cập nhật kế tiếp {})", vn_time(*next_update)),
                format!("CRL of {issuer} is stale (nextUpdate {})", vn_time(*next_update)),
            ),
            CrlProblem::SignedWithSha1 { issuer } => pick(
                lang,
                format!("CRL của {issuer} được ký bằng SHA-1"),
                format!("CRL of {issuer} is signed with SHA-1"),
            ),
            CrlProblem::IssuerMayNotSignCrls { issuer } => pick(
                lang,
                format!("{issuer} không được phép ký CRL (keyUsage thiếu cRLSign)"),
                format!("{issuer} may not sign CRLs (keyUsage without cRLSign)"),
            ),
            CrlProblem::BadSignature { issuer } => pick(
                lang,
                format!("CRL của {issuer}: chữ ký không khớp khóa của CA"),
                format!("CRL of {issuer}: the signature does not verify with the issuer's key"),
            ),
            CrlProblem::NoNextUpdate { issuer } => pick(
                lang,
                format!("CRL của {issuer} không có nextUpdate: không bao giờ biết được nó đã cũ"),
                format!("CRL of {issuer} has no nextUpdate: it could never be known to be stale"),
            ),
            CrlProblem::Unreadable { issuer: Some(issuer), error } => {
                pick(lang, format!("CRL của {issuer} không đọc được: {error}"), format!("CRL of {issuer}: {error}"))
            }
            CrlProblem::Unreadable { issuer: None, error } => {
                pick(lang, format!("không phải CRL đọc được: {error}"), format!("not a readable CRL: {error}"))
            }
        }
    }
}

/// Why a source of revocation gave no answer that may decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum SourceProblem {
    /// A "good" too old to decide alone and not bound to our nonce: the CRL decides.
    OcspGoodTooOld { responder: String, this_update: i64, alone_secs: i64 },
    /// No usable answer (the network's or the parser's words, as data).
    OcspFailed { responder: String, error: String },
    /// A distribution point's CRL that leaves the certificate out (issuer or partition).
    CrlNotCovering { url: String, issuer: String },
    /// A CRL that covers the certificate and cannot be relied on.
    Crl { source: Option<String>, problem: CrlProblem },
    /// A CRL that could not be had (fetch, cache).
    CrlUnavailable { url: String, error: String },
    /// No CRL of the issuer anywhere.
    NoCrl { issuer: String },
}

impl SourceProblem {
    pub fn render(&self, lang: Lang) -> String {
        match self {
            SourceProblem::OcspGoodTooOld { responder, this_update, alone_secs } => pick(
                lang,
                format!(
                    "OCSP {responder} trả lời còn hiệu lực, cập nhật lúc {}, cũ hơn {alone_secs} giây và không gắn với nonce của máy chủ: CRL quyết định",
                    vn_time(*this_update)
                ),
                format!(
                    "OCSP {responder} answered good with thisUpdate {}, older than {alone_secs} s and not bound to our nonce: the CRL decides",
                    vn_time(*this_update)
                ),
            ),
            SourceProblem::OcspFailed { responder, error } => pick(
                lang,
                format!("OCSP {responder} không cho câu trả lời dùng được: {error}"),
                format!("OCSP {responder}: {error}"),
            ),
            SourceProblem::CrlNotCovering { url, issuer } => pick(
                lang,
                format!("CRL {url} không áp dụng cho chứng thư này (CA {issuer} hoặc phạm vi)"),
                format!("CRL {url} does not cover this certificate (issuer {issuer} or scope)"),
            ),
            SourceProblem::Crl { source: Some(url), problem } => format!("{url}: {}", problem.render(lang)),
            SourceProblem::Crl { source: None, problem } => problem.render(lang),
            SourceProblem::CrlUnavailable { url, error } => {
                pick(lang, format!("CRL {url} không tải được: {error}"), format!("CRL {url}: {error}"))
            }
            SourceProblem::NoCrl { issuer } => pick(
                lang,
                format!("không có CRL nào của {issuer} được cấu hình hay phân phối"),
                format!("no CRL of {issuer} is configured or distributed"),
            ),
        }
    }
}

fn problems(lang: Lang, list: &[SourceProblem]) -> String {
    list.iter().map(|p| p.render(lang)).collect::<Vec<_>>().join("; ")
}

/// What revocation said of one certificate of a path: what decided it good, or why it
/// was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "said", rename_all = "snake_case")]
pub enum RevocationFact {
    /// The development profile: nothing was checked.
    NotChecked,
    OcspGood {
        cert: String,
        responder: String,
        this_update: i64,
    },
    /// A CRL said good; `problems` are the sources tried before it.
    CrlGood {
        cert: String,
        crl: CrlRef,
        problems: Vec<SourceProblem>,
    },
    /// A current CRL at hand lists it, whatever OCSP said (a replayed "good").
    RevokedPerCrlDespiteOcsp {
        cert: String,
        crl: CrlRef,
        responder: String,
        this_update: i64,
    },
    RevokedPerOcsp {
        cert: String,
        responder: String,
        at: i64,
    },
    RevokedPerCrl {
        cert: String,
        crl: CrlRef,
        problems: Vec<SourceProblem>,
    },
    /// The CA's responder does not know it (unknown is not good).
    OcspUnknown {
        cert: String,
        responder: String,
    },
    /// Nothing fresh could decide.
    Undecided {
        cert: String,
        problems: Vec<SourceProblem>,
    },
}

impl RevocationFact {
    pub fn render(&self, lang: Lang) -> String {
        let also = |p: &[SourceProblem]| if p.is_empty() { String::new() } else { format!(" ({})", problems(lang, p)) };
        match self {
            RevocationFact::NotChecked => {
                pick(lang, "KHÔNG kiểm tra thu hồi (cấu hình phát triển)".into(), "revocation NOT checked (development profile)".into())
            }
            RevocationFact::OcspGood { cert, responder, this_update } => pick(
                lang,
                format!("{cert}: OCSP: còn hiệu lực ({responder}, cập nhật lúc {})", vn_time(*this_update)),
                format!("{cert}: OCSP good ({responder}, thisUpdate {})", vn_time(*this_update)),
            ),
            RevocationFact::CrlGood { cert, crl, problems: p } => {
                pick(lang, format!("{cert}: {}{}", crl.render(lang), also(p)), format!("{cert}: {}{}", crl.render(lang), also(p)))
            }
            RevocationFact::RevokedPerCrlDespiteOcsp { cert, crl, responder, this_update } => pick(
                lang,
                format!(
                    "{cert}: bị thu hồi theo {}, dù OCSP {responder} trả lời còn hiệu lực (cập nhật lúc {})",
                    crl.render(lang),
                    vn_time(*this_update)
                ),
                format!(
                    "{cert}: revoked per {}, although OCSP {responder} answered good (thisUpdate {})",
                    crl.render(lang),
                    vn_time(*this_update)
                ),
            ),
            RevocationFact::RevokedPerOcsp { cert, responder, at } => pick(
                lang,
                format!("{cert}: bị thu hồi theo OCSP {responder} (lúc {})", vn_time(*at)),
                format!("{cert}: revoked per OCSP {responder} (at {})", vn_time(*at)),
            ),
            RevocationFact::RevokedPerCrl { cert, crl, problems: p } => pick(
                lang,
                format!("{cert}: bị thu hồi theo {}{}", crl.render(lang), also(p)),
                format!("{cert}: revoked per {}{}", crl.render(lang), also(p)),
            ),
            RevocationFact::OcspUnknown { cert, responder } => pick(
                lang,
                format!("{cert}: OCSP {responder} trả lời không biết chứng thư (máy chủ OCSP của CA không biết chứng thư này; không biết không phải là còn hiệu lực)"),
                format!("{cert}: OCSP {responder} answered unknown (the CA's responder does not know this certificate; unknown is not good)"),
            ),
            RevocationFact::Undecided { cert, problems: p } => format!("{cert}: {}", problems(lang, p)),
        }
    }

    /// What was said of a whole path, the anchor's end first.
    pub fn render_all(list: &[RevocationFact], lang: Lang) -> String {
        list.iter().map(|f| f.render(lang)).collect::<Vec<_>>().join("; ")
    }
}

/// Which entry of a request's `chain` was refused, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainEntryProblem {
    NotBase64,
    NotDer,
    NotCa,
}

/// Why a certificate was refused, beyond its error code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum CertProblem {
    NoKeyUsage,
    /// Signed with SHA-1 (the algorithm's OID).
    Sha1Signature {
        algorithm: String,
    },
    /// The path ends at an anchor this deployment does not know.
    UnknownAnchor,
    NotCa,
    OutsideValidity,
    /// No anchor valid now issued this CA certificate.
    NoAnchorIssued,
    /// None of the policies required for the issuer.
    Policy {
        carried: Vec<String>,
        required: Vec<String>,
        issuer: String,
    },
    ChainTooLong {
        len: usize,
        max: usize,
    },
    ChainEntry {
        index: usize,
        why: ChainEntryProblem,
    },
    /// The path builder's refusal (rustls-webpki's error, by its name).
    Path {
        error: String,
    },
    Revocation {
        fact: RevocationFact,
    },
}

impl CertProblem {
    pub fn render(&self, lang: Lang) -> String {
        match self {
            CertProblem::NoKeyUsage => {
                pick(lang, "không có phần mở rộng keyUsage".into(), "no keyUsage extension".into())
            }
            CertProblem::Sha1Signature { algorithm } => {
                pick(lang, format!("ký bằng {algorithm} (SHA-1)"), format!("signed with {algorithm} (SHA-1)"))
            }
            CertProblem::UnknownAnchor => {
                pick(lang, "chuỗi dẫn tới một gốc không tin cậy".into(), "path to an unknown anchor".into())
            }
            CertProblem::NotCa => pick(lang, "không phải chứng thư của CA".into(), "not a CA certificate".into()),
            CertProblem::OutsideValidity => pick(lang, "ngoài thời hạn hiệu lực".into(), "outside its validity".into()),
            CertProblem::NoAnchorIssued => {
                pick(lang, "không gốc tin cậy nào phát hành".into(), "no anchor issued it".into())
            }
            CertProblem::Policy { carried, required, issuer } => pick(
                lang,
                format!(
                    "chính sách chứng thư [{}] không có chính sách nào trong [{}] mà {issuer} yêu cầu",
                    carried.join(", "),
                    required.join(", ")
                ),
                format!(
                    "certificate policies [{}] include none of [{}] required for {issuer}",
                    carried.join(", "),
                    required.join(", ")
                ),
            ),
            CertProblem::ChainTooLong { len, max } => pick(
                lang,
                format!("{len} chứng thư trong chuỗi (tối đa {max})"),
                format!("{len} certificates in chain (at most {max})"),
            ),
            CertProblem::ChainEntry { index, why } => {
                let (vi, en) = match why {
                    ChainEntryProblem::NotBase64 => ("không phải base64", "not base64"),
                    ChainEntryProblem::NotDer => ("không phải chứng thư DER", "not a DER certificate"),
                    ChainEntryProblem::NotCa => ("không phải chứng thư của CA", "not a CA certificate"),
                };
                pick(lang, format!("chain[{index}]: {vi}"), format!("chain[{index}]: {en}"))
            }
            CertProblem::Path { error } => pick(lang, format!("chuỗi chứng thư: {error}"), format!("path: {error}")),
            CertProblem::Revocation { fact } => fact.render(lang),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_in_both_languages_and_keep_their_data() {
        let path = CertPath { names: vec!["Công ty A".into(), "VNPT-CA".into()], anchor: "Root".into() };
        assert_eq!(path.render(Lang::Vi), "Công ty A < VNPT-CA < Root (gốc tin cậy)");
        assert_eq!(path.render(Lang::En), "Công ty A < VNPT-CA < Root (anchor)");
        let fact = RevocationFact::RevokedPerCrl {
            cert: "Công ty A".into(),
            crl: CrlRef::Fetched { url: "http://crl.example/a.crl".into(), number: Some("1a".into()) },
            problems: vec![SourceProblem::OcspFailed {
                responder: "http://ocsp.example".into(),
                error: "HTTP 500".into(),
            }],
        };
        assert_eq!(
            fact.render(Lang::Vi),
            "Công ty A: bị thu hồi theo CRL http://crl.example/a.crl (số 1a) (OCSP http://ocsp.example không cho câu trả lời dùng được: HTTP 500)"
        );
        assert_eq!(
            fact.render(Lang::En),
            "Công ty A: revoked per CRL http://crl.example/a.crl (number 1a) (OCSP http://ocsp.example: HTTP 500)"
        );
        // Stored as JSON and read back the same.
        let json = serde_json::to_string(&CertProblem::Revocation { fact: fact.clone() }).unwrap();
        assert_eq!(serde_json::from_str::<CertProblem>(&json).unwrap(), CertProblem::Revocation { fact });
        // Times in Vietnam time.
        let stale = CrlProblem::Stale { issuer: "CA".into(), next_update: 1_580_515_200 };
        assert_eq!(stale.render(Lang::En), "CRL of CA is stale (nextUpdate 01/02/2020 07:00)");
    }
}
