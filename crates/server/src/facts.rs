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

/// Why an HTTP exchange with a CA (for a CRL or an OCSP answer) brought nothing back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fetch", rename_all = "snake_case")]
pub enum FetchProblem {
    /// The URL (or the mirror configured for it) is not HTTP(S).
    NotHttp { url: String },
    /// No answer: refused, timed out, a TLS failure (the network library's words, as data).
    NoAnswer { url: String, detail: String },
    /// An HTTP status other than success.
    Status { url: String, status: u16 },
    /// Larger than the configured limit.
    TooLarge { url: String, max: usize },
}

impl FetchProblem {
    pub fn render(&self, lang: Lang) -> String {
        match self {
            FetchProblem::NotHttp { url } => {
                pick(lang, format!("{url} không phải địa chỉ HTTP(S)"), format!("not an HTTP(S) URL: {url}"))
            }
            FetchProblem::NoAnswer { url, detail } => {
                pick(lang, format!("{url} không trả lời ({detail})"), format!("{url}: no answer ({detail})"))
            }
            FetchProblem::Status { url, status } => {
                pick(lang, format!("{url} trả lời HTTP {status}"), format!("{url}: HTTP {status}"))
            }
            FetchProblem::TooLarge { url, max } => {
                pick(lang, format!("{url} gửi về hơn {max} byte"), format!("{url}: larger than {max} bytes"))
            }
        }
    }
}

/// Why a delegated OCSP responder may not answer for a CA (RFC 6960 §4.2.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelegateProblem {
    NotIssuedByTheIssuer,
    OutsideValidity,
    NoOcspSigning,
}

/// What is wrong with a signature over an OCSP answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "signature", rename_all = "snake_case")]
pub enum SignatureProblem {
    Sha1,
    /// An algorithm this server does not verify (its OID).
    Unsupported {
        algorithm: String,
    },
    DoesNotVerify,
}

/// Why a responder's answer could not be used: the network's failure, or which of
/// RFC 6960's checks it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ocsp", rename_all = "snake_case")]
pub enum OcspProblem {
    /// The request could not be made from the certificate and its issuer (the DER
    /// library's words).
    Request {
        detail: String,
    },
    Fetch {
        fetch: FetchProblem,
    },
    /// Not an OCSP response, or not a basic one (the DER library's words).
    NotOcsp {
        detail: String,
    },
    /// The responder's refusal, by its RFC 6960 name (`tryLater`, `unauthorized`, …).
    Refused {
        status: String,
    },
    NoBody,
    UnsupportedType {
        oid: String,
    },
    /// A part that could not be read (the library's words).
    Unreadable {
        detail: String,
    },
    /// Signed by neither the issuer nor a certificate in the answer.
    UnknownSigner,
    Delegate {
        responder: String,
        problem: DelegateProblem,
    },
    /// The signature, by the issuer (`delegate` none) or by the named delegated responder.
    Signature {
        delegate: Option<String>,
        problem: SignatureProblem,
    },
    /// A nonce other than ours: a replayed answer?
    NonceNotOurs,
    /// No nonce echoed where the policy requires one.
    NonceMissing,
    /// About another certificate.
    OtherCertificate,
    FromTheFuture {
        this_update: i64,
    },
    /// Past `until`: its nextUpdate, or (`next_update` false, none given) its thisUpdate
    /// plus the maximum age.
    Stale {
        until: i64,
        next_update: bool,
    },
}

impl OcspProblem {
    /// As the caches keep it (JSON; see [`stored_failure`]).
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn render(&self, lang: Lang) -> String {
        let s = |vi: &str, en: &str| pick(lang, vi.into(), en.into());
        match self {
            OcspProblem::Request { detail } => pick(
                lang,
                format!("không lập được yêu cầu OCSP ({detail})"),
                format!("the OCSP request could not be made ({detail})"),
            ),
            OcspProblem::Fetch { fetch } => fetch.render(lang),
            OcspProblem::NotOcsp { detail } => pick(
                lang,
                format!("không phải câu trả lời OCSP ({detail})"),
                format!("not an OCSP response ({detail})"),
            ),
            OcspProblem::Refused { status } => {
                pick(lang, format!("máy chủ OCSP từ chối ({status})"), format!("the responder answered {status}"))
            }
            OcspProblem::NoBody => {
                s("câu trả lời thành công nhưng không có nội dung", "a successful response without a body")
            }
            OcspProblem::UnsupportedType { oid } => {
                pick(lang, format!("loại câu trả lời không hỗ trợ {oid}"), format!("unsupported response type {oid}"))
            }
            OcspProblem::Unreadable { detail } => {
                pick(lang, format!("câu trả lời không đọc được ({detail})"), format!("an unreadable answer ({detail})"))
            }
            OcspProblem::UnknownSigner => s(
                "được ký bởi một máy chủ không phải CA phát hành, cũng không có chứng thư trong câu trả lời",
                "signed by a responder that is neither the issuer nor a certificate in the response",
            ),
            OcspProblem::Delegate { responder, problem } => {
                let (vi, en) = match problem {
                    DelegateProblem::NotIssuedByTheIssuer => {
                        ("không do CA phát hành chứng thư cấp", "is not issued by the certificate's issuer")
                    }
                    DelegateProblem::OutsideValidity => ("ngoài thời hạn hiệu lực", "is outside its validity"),
                    DelegateProblem::NoOcspSigning => {
                        ("không có quyền ký OCSP (id-kp-OCSPSigning)", "lacks id-kp-OCSPSigning")
                    }
                };
                pick(
                    lang,
                    format!("máy chủ OCSP được ủy quyền {responder} {vi}"),
                    format!("the delegated responder {responder} {en}"),
                )
            }
            OcspProblem::Signature { delegate, problem } => {
                let by = match (delegate, lang) {
                    (None, Lang::Vi) => "chữ ký của CA phát hành".to_string(),
                    (None, Lang::En) => "signature by the issuer".to_string(),
                    (Some(who), Lang::Vi) => format!("chữ ký của máy chủ được ủy quyền {who}"),
                    (Some(who), Lang::En) => format!("signature by the delegated responder {who}"),
                };
                let what = match problem {
                    SignatureProblem::Sha1 => s("dùng SHA-1", "signed with SHA-1"),
                    SignatureProblem::Unsupported { algorithm } => pick(
                        lang,
                        format!("thuật toán không hỗ trợ {algorithm}"),
                        format!("unsupported signature algorithm {algorithm}"),
                    ),
                    SignatureProblem::DoesNotVerify => s("không khớp", "does not verify"),
                };
                format!("{by}: {what}")
            }
            OcspProblem::NonceNotOurs => s(
                "nonce trong câu trả lời không phải của máy chủ (trả lời cũ gửi lại?)",
                "the answer's nonce is not ours (a replay?)",
            ),
            OcspProblem::NonceMissing => s(
                "câu trả lời không kèm nonce của máy chủ (bắt buộc)",
                "the answer does not echo our nonce (nonce required)",
            ),
            OcspProblem::OtherCertificate => {
                s("câu trả lời nói về chứng thư khác", "the answer is about another certificate")
            }
            OcspProblem::FromTheFuture { this_update } => pick(
                lang,
                format!("thời điểm cập nhật {} nằm trong tương lai", vn_time(*this_update)),
                format!("thisUpdate {} is in the future", vn_time(*this_update)),
            ),
            OcspProblem::Stale { until, next_update: true } => pick(
                lang,
                format!("câu trả lời đã cũ (cập nhật kế tiếp {})", vn_time(*until)),
                format!("stale answer (nextUpdate {})", vn_time(*until)),
            ),
            OcspProblem::Stale { until, next_update: false } => pick(
                lang,
                format!("câu trả lời đã cũ (quá tuổi tối đa lúc {})", vn_time(*until)),
                format!("stale answer (past the maximum age at {})", vn_time(*until)),
            ),
        }
    }
}

/// Why a distribution point's CRL could not be had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "crl", rename_all = "snake_case")]
pub enum CrlFetchProblem {
    Fetch {
        fetch: FetchProblem,
    },
    /// The shared cache (the database's words).
    Cache {
        detail: String,
    },
    /// What came is not a CRL that can be used.
    Crl {
        problem: CrlProblem,
    },
}

impl CrlFetchProblem {
    /// As the caches keep it (JSON; see [`stored_failure`]).
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn render(&self, lang: Lang) -> String {
        match self {
            CrlFetchProblem::Fetch { fetch } => fetch.render(lang),
            CrlFetchProblem::Cache { detail } => {
                pick(lang, format!("bộ nhớ đệm CRL: {detail}"), format!("CRL cache: {detail}"))
            }
            CrlFetchProblem::Crl { problem } => problem.render(lang),
        }
    }
}

/// A source's last failure as the caches keep it (`last_error`, JSON): rendered, or, for a
/// line written before failures were values, shown as written.
pub fn stored_failure(lang: Lang, stored: &str) -> String {
    if let Ok(p) = serde_json::from_str::<OcspProblem>(stored) {
        return p.render(lang);
    }
    match serde_json::from_str::<CrlFetchProblem>(stored) {
        Ok(p) => p.render(lang),
        Err(_) => stored.to_string(),
    }
}

/// Why a source of revocation gave no answer that may decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum SourceProblem {
    /// A "good" too old to decide alone and not bound to our nonce: the CRL decides.
    OcspGoodTooOld { responder: String, this_update: i64, alone_secs: i64 },
    /// No usable answer.
    OcspFailed { responder: String, problem: OcspProblem },
    /// A distribution point's CRL that leaves the certificate out (issuer or partition).
    CrlNotCovering { url: String, issuer: String },
    /// A CRL that covers the certificate and cannot be relied on.
    Crl { source: Option<String>, problem: CrlProblem },
    /// A CRL that could not be had (fetch, cache).
    CrlUnavailable { url: String, problem: CrlFetchProblem },
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
            SourceProblem::OcspFailed { responder, problem } => pick(
                lang,
                format!("OCSP {responder} không cho câu trả lời dùng được: {}", problem.render(lang)),
                format!("OCSP {responder}: {}", problem.render(lang)),
            ),
            SourceProblem::CrlNotCovering { url, issuer } => pick(
                lang,
                format!("CRL {url} không áp dụng cho chứng thư này (CA {issuer} hoặc phạm vi)"),
                format!("CRL {url} does not cover this certificate (issuer {issuer} or scope)"),
            ),
            SourceProblem::Crl { source: Some(url), problem } => format!("{url}: {}", problem.render(lang)),
            SourceProblem::Crl { source: None, problem } => problem.render(lang),
            SourceProblem::CrlUnavailable { url, problem } => pick(
                lang,
                format!("CRL {url} không tải được: {}", problem.render(lang)),
                format!("CRL {url}: {}", problem.render(lang)),
            ),
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
                problem: OcspProblem::Fetch {
                    fetch: FetchProblem::Status { url: "http://ocsp.example".into(), status: 500 },
                },
            }],
        };
        assert_eq!(
            fact.render(Lang::Vi),
            "Công ty A: bị thu hồi theo CRL http://crl.example/a.crl (số 1a) (OCSP http://ocsp.example không cho câu trả lời dùng được: http://ocsp.example trả lời HTTP 500)"
        );
        assert_eq!(
            fact.render(Lang::En),
            "Công ty A: revoked per CRL http://crl.example/a.crl (number 1a) (OCSP http://ocsp.example: http://ocsp.example: HTTP 500)"
        );
        // Stored as JSON and read back the same.
        let json = serde_json::to_string(&CertProblem::Revocation { fact: fact.clone() }).unwrap();
        assert_eq!(serde_json::from_str::<CertProblem>(&json).unwrap(), CertProblem::Revocation { fact });
        // Times in Vietnam time.
        let stale = CrlProblem::Stale { issuer: "CA".into(), next_update: 1_580_515_200 };
        assert_eq!(stale.render(Lang::En), "CRL of CA is stale (nextUpdate 01/02/2020 07:00)");
    }

    #[test]
    fn a_source_failure_is_kept_as_a_value_and_read_in_both_languages() {
        let replay = OcspProblem::NonceNotOurs;
        let stored = serde_json::to_string(&replay).unwrap();
        assert_eq!(stored, r#"{"ocsp":"nonce_not_ours"}"#);
        assert_eq!(
            stored_failure(Lang::Vi, &stored),
            "nonce trong câu trả lời không phải của máy chủ (trả lời cũ gửi lại?)"
        );
        assert_eq!(stored_failure(Lang::En, &stored), "the answer's nonce is not ours (a replay?)");
        let delegate =
            OcspProblem::Signature { delegate: Some("OCSP Signer".into()), problem: SignatureProblem::DoesNotVerify };
        assert_eq!(delegate.render(Lang::Vi), "chữ ký của máy chủ được ủy quyền OCSP Signer: không khớp");
        let crl = CrlFetchProblem::Fetch {
            fetch: FetchProblem::NoAnswer {
                url: "http://crl.example/a.crl".into(),
                detail: "connection refused".into(),
            },
        };
        let stored = serde_json::to_string(&crl).unwrap();
        assert_eq!(stored_failure(Lang::Vi, &stored), "http://crl.example/a.crl không trả lời (connection refused)");
        assert_eq!(serde_json::from_str::<CrlFetchProblem>(&stored).unwrap(), crl);
        // A failure cached before failures were values: shown as written.
        assert_eq!(stored_failure(Lang::Vi, "HTTP 500"), "HTTP 500");
    }
}
