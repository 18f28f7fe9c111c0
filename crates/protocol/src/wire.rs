//! Request and response bodies of protocol v1 (JSON). Binary fields are standard
//! base64 with padding. Times are RFC 3339 strings in UTC.
//!
//! `docs/protocol.md` describes the same types for an independent implementer; a test
//! in `tests/wire.rs` pins their JSON shape.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, Secret};

/// What a signed challenge is for. The purpose is part of the signed bytes, so a
/// signature made for one purpose is worthless for the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum Purpose {
    /// Prove the token to get a temporary password for one username.
    #[serde(rename = "bhxh-password-recovery/v1")]
    PasswordRecovery,
    /// Prove the token to learn the usernames registered for its MST.
    #[serde(rename = "bhxh-username-lookup/v1")]
    UsernameLookup,
    /// Prove the token to change the account's registered email to the one signed for
    /// (the challenge carries it; the signed data ends with its hash).
    #[serde(rename = "bhxh-email-change/v1")]
    EmailChange,
}

impl Purpose {
    /// The purpose string exactly as it is hashed into the to-be-signed data.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::PasswordRecovery => "bhxh-password-recovery/v1",
            Purpose::UsernameLookup => "bhxh-username-lookup/v1",
            Purpose::EmailChange => "bhxh-email-change/v1",
        }
    }

    /// The inverse of [`Purpose::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "bhxh-password-recovery/v1" => Some(Purpose::PasswordRecovery),
            "bhxh-username-lookup/v1" => Some(Purpose::UsernameLookup),
            "bhxh-email-change/v1" => Some(Purpose::EmailChange),
            _ => None,
        }
    }
}

/// Signature algorithm of the token's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (PKCS#11 `CKM_SHA256_RSA_PKCS`), RSA ≥ 2048 bits.
    RS256,
    /// ECDSA P-256 with SHA-256, signature as raw `r ‖ s` (64 bytes).
    ES256,
}

/// `POST /v1/recovery/challenge`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChallengeRequest {
    /// For `UsernameLookup` the client sends an empty username.
    pub username: String,
    pub purpose: Purpose,
    /// [`Purpose::EmailChange`] only (and required there): the new address. It is sealed
    /// into the challenge and its hash ends the signed data, so the token signs for this
    /// address and no other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
}

/// Answer to [`ChallengeRequest`]; the same shape whether the username exists or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChallengeResponse {
    pub challenge_id: String,
    /// 32 random bytes, base64 (44 characters). Hashed into the signed data as this text.
    pub nonce: String,
    /// `scheme://host[:port]` of the backend; the client compares it with the origin it
    /// actually reached and refuses to sign when they differ.
    pub origin: String,
    pub expires_at: String,
    pub reference: String,
}

/// `POST /v1/recovery/complete`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    pub challenge_id: String,
    pub username: String,
    pub purpose: Purpose,
    /// The signing certificate, DER, base64.
    pub certificate: String,
    /// CA certificates the client read from the token, DER, base64 (at most 4): used to
    /// build the path to a trust anchor, never trusted by themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
    pub algorithm: Algorithm,
    /// The signature over [`crate::to_be_signed`], base64.
    pub signature: String,
}

/// `POST /v1/certificate/check`: the certificate's path and revocation only, before the
/// PIN is asked. It never looks at accounts, so it says nothing about them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CertificateCheckRequest {
    /// The certificate, DER, base64.
    pub certificate: String,
    /// CA certificates read from the token, as in [`CompleteRequest::chain`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
}

/// Answer to [`CertificateCheckRequest`] for a certificate that passes every check a
/// recovery makes of it (a refusal is the error answer with the same code a recovery
/// would get).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateCheck {
    /// The path that decided, leaf first: `holder < intermediate < root (anchor)`.
    pub path: String,
    /// Whether revocation was checked (off only on a development server).
    pub revocation_checked: bool,
    /// What decided each certificate's status, leaf first, e.g. `holder: OCSP good
    /// (http://ocsp…, thisUpdate …); CA: CRL http://… (number 1a)` (public facts only).
    #[serde(default)]
    pub revocation: String,
    pub reference: String,
}

/// Answer to a completed [`Purpose::PasswordRecovery`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryComplete {
    /// The registered address with most of it hidden, e.g. `ng***@c***.vn`.
    pub masked_email: String,
    pub reference: String,
    /// When the temporary password stops working (24 hours).
    pub password_expires_at: String,
    /// How the temporary password is delivered: `email`, or `in-app` where the server
    /// runs in the strict mode and the password is in `temporary_password`.
    pub delivery: String,
    /// Only in the strict `in-app` delivery mode: shown once, never stored by the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<Secret>,
}

/// Answer to a completed [`Purpose::EmailChange`]: a confirmation link went to the new
/// address; nothing changed yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailChangeStarted {
    /// The new address, masked (`ng***@c***.vn`).
    pub masked_new_email: String,
    /// The registered address that will be told and can cancel, masked.
    pub masked_old_email: String,
    /// The confirmation link stops working at this time (30 minutes).
    pub confirm_expires_at: String,
    /// How long after the confirmation the change takes effect (unless cancelled).
    pub wait_secs: u64,
    pub reference: String,
}

/// Answer to a completed [`Purpose::UsernameLookup`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsernameLookupComplete {
    pub usernames: Vec<String>,
    pub reference: String,
}

/// `GET /v1/portal/captcha`: an image captcha, single use, short-lived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalCaptcha {
    pub captcha_id: String,
    /// The PNG image, standard base64.
    pub image_png: String,
    pub expires_at: String,
    pub reference: String,
}

/// `POST /v1/portal/recover`: the BHXH portal's path, without a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PortalRecoverRequest {
    pub mst: String,
    pub email: String,
    pub captcha_id: String,
    pub captcha_answer: String,
}

/// Answer to [`PortalRecoverRequest`]: a temporary password and an activation link
/// were emailed; the password works only once the link is opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortalRecoverComplete {
    pub masked_email: String,
    pub reference: String,
    /// The link stops working at this time.
    pub activation_expires_at: String,
}

/// `POST /v1/auth/login`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: Secret,
}

/// Answer to [`LoginRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`; the server keeps only its hash.
    pub session_token: Secret,
    /// True after logging in with a temporary password: only
    /// `change-password`, `session` and `logout` are allowed until it is changed.
    pub must_change_password: bool,
    pub expires_at: String,
    pub reference: String,
}

/// `POST /v1/auth/change-password` (with a bearer session).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password the session was opened with. A must-change session (opened with the
    /// temporary password moments ago) is the proof itself and may leave it out; any
    /// other session must send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_password: Option<Secret>,
    pub new_password: Secret,
}

/// `GET /v1/auth/session`: who the bearer is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub username: String,
    pub must_change_password: bool,
    pub expires_at: String,
    pub reference: String,
}

/// The answer of endpoints that only acknowledge (change-password, logout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ack {
    pub reference: String,
}

/// `GET /v1/health/live`: 200 while the process serves requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Liveness {
    /// `alive`.
    pub status: String,
    pub reference: String,
}

/// `GET /v1/health/ready` (200 when ready, else 503): whether this server can serve a
/// recovery now, for a load balancer or an orchestrator (liveness is
/// `GET /v1/health/live`, 200 while the process serves).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// The database answered.
    pub database: bool,
    /// Revocation can decide: it is off (development only), or no CRL the server holds
    /// is past its nextUpdate (a recovery it covers would fail closed).
    pub revocation: bool,
    pub reference: String,
}

/// `GET /v1/health`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
    pub protocol: String,
    /// The server's clock, for the client's clock-skew check.
    pub time: String,
    /// The support desk's number, as configured: the one line where a reference code
    /// is read out (the app shows it; empty from a server older than this field).
    #[serde(default)]
    pub hotline: String,
    pub reference: String,
}

/// Every error answer: a stable code, a message in the language of
/// `Accept-Language` (Vietnamese by default), a hint for support staff, and the
/// reference code staff look up in the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    #[cfg_attr(feature = "openapi", schema(value_type = crate::errors::AnsweredCode))]
    pub code: String,
    pub message: String,
    pub hint: String,
    pub reference: String,
    /// Seconds to wait, on `RATE_LIMITED` (also sent as `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// On `CERT_NOT_BOUND` once the signature verified: the usernames of the
    /// certificate's MSTs other than the one claimed — what a username lookup with the
    /// same token answers — so a mistyped username is corrected without another proof
    /// of the lookup. Absent on every other refusal (and from older servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usernames: Option<Vec<String>>,
}

/// `POST /v1/support/reports`: the support report the caller agreed to send (sent with
/// the app's instance id in [`crate::INSTANCE_HEADER`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupportReportRequest {
    /// The report as the caller saw it (at most 32 KiB of text; no secret is in it).
    pub report: String,
    /// The same checks as values, for the desk's advice (absent from older apps).
    #[serde(default)]
    pub facts: ReportFacts,
}

/// What a line of the app's checklist is about (in JSON, its snake_case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    Pkcs11Module,
    Readers,
    Token,
    Certificate,
    CertTrust,
    CaPlugins,
    Server,
    Clock,
}

/// How a line of the checklist came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    /// Worth knowing, and of no matter for what is in use (no PC/SC while the token is
    /// read through its module): never a warning, never the desk's next step.
    Info,
    Warn,
    Fail,
}

/// One line of the checklist as a value: what, how it came out, its error code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckFact {
    pub name: CheckName,
    pub status: CheckStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
}

/// The facts of a support report: its checks, and the code of the last error the app
/// showed. What the caller's computer says of itself, as the text does (the desk's
/// steps that act on an account come from the server's own records, never from here).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReportFacts {
    /// At most [`ReportFacts::MAX_CHECKS`].
    #[serde(default)]
    pub checks: Vec<CheckFact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<ErrorCode>,
}

impl ReportFacts {
    pub const MAX_CHECKS: usize = 64;

    /// Whether the last error or any check that matters (not [`CheckStatus::Info`])
    /// carries `code`.
    pub fn has_code(&self, code: ErrorCode) -> bool {
        self.last_error == Some(code)
            || self.checks.iter().any(|c| c.code == Some(code) && c.status != CheckStatus::Info)
    }

    /// Whether the check `name` came out `status`.
    pub fn has(&self, name: CheckName, status: CheckStatus) -> bool {
        self.checks.iter().any(|c| c.name == name && c.status == status)
    }
}

/// Answer to [`SupportReportRequest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupportCodeIssued {
    /// `HT-4821-7305-6`: what the caller reads out to the desk.
    pub support_code: String,
    /// The code and the report are gone at this time (1 hour).
    pub expires_at: String,
    pub reference: String,
}
