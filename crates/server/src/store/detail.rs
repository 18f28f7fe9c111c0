//! An audit line's detail: what happened beyond its event and outcome, as a value. It is
//! stored as JSON in the `detail` column and shown by one function per language
//! (`staff::words::detail`), in the console's timeline, the command line's audit and
//! the support desk's pages; nothing turns an English sentence into Vietnamese.
//!
//! Lines written before details were values hold a sentence: they read back as
//! [`Detail::Legacy`] and are shown as they were written.

use bhxh_protocol::Purpose;
use serde::{Deserialize, Serialize};
use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};

use super::{ChangeVia, MailKind};
use crate::facts::{CertPath, CertProblem, RevocationFact};

/// What a count in a refusal counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counted {
    FailedProofsFromClient,
    WrongPasswordsFromClient,
    PasswordMailsToday,
}

impl Counted {
    /// Its name in metrics (as in the audit's JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Counted::FailedProofsFromClient => "failed_proofs_from_client",
            Counted::WrongPasswordsFromClient => "wrong_passwords_from_client",
            Counted::PasswordMailsToday => "password_mails_today",
        }
    }
}

/// Why a caller's support report was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportProblem {
    NoInstance,
    EmptyOrNotText,
    /// Larger than the limit (its size).
    TooLarge {
        bytes: usize,
    },
    /// More checks than a report has.
    TooManyChecks {
        count: usize,
    },
}

/// The proof a token recovery made: what the certificate checks found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proven {
    pub subject: String,
    pub path: CertPath,
    pub revocation: Vec<RevocationFact>,
}

/// The detail of one audit line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Detail {
    /// A line written before details were values: its sentence as it was.
    #[serde(skip)]
    Legacy(String),

    // Token proofs and certificate checks.
    /// A certificate that passed every check (the check before the PIN).
    CertificateGood {
        proven: Proven,
    },
    /// A token proof that verified, for `purpose`; an email change's request says its
    /// new address (masked) and the link's end.
    Proved {
        purpose: Purpose,
        proven: Proven,
        new_address: Option<String>,
        link_until: Option<i64>,
        superseded: u64,
    },
    /// Why the certificate was refused.
    CertRefused {
        problem: CertProblem,
    },
    /// The certificate's MSTs are not the account's (`None`: it carries no MST).
    MstMismatch {
        cert_msts: Vec<String>,
        account_mst: String,
    },
    /// The account is pinned to another certificate.
    PinnedToAnother,
    NoSuchAccount {
        cert_msts: Vec<String>,
    },
    /// A name that cannot be a username (its size only).
    NotAUsername {
        bytes: usize,
    },
    /// A limit reached: how many.
    TooMany {
        count: i64,
        counted: Counted,
    },
    /// The first refusal of a challenge limit: the next ones until `until` are not written.
    FurtherRefusalsUnwritten {
        key: String,
        until: i64,
    },

    // Passwords, sessions, the portal.
    TempPasswordUsed {
        reference: Option<String>,
    },
    AccountDisabled,
    NoCurrentPassword,
    /// A newer reset replaced the temporary password this session was opened with.
    SessionReplaced,
    /// A portal request for an MST; `disabled` names its disabled accounts.
    Portal {
        mst: String,
        disabled: Vec<String>,
    },
    PortalLinkSent {
        mst: String,
        until: i64,
    },
    PortalActivated {
        reference: String,
    },

    // Email changes.
    /// Today's changes of the account or (with `mst`) of its MST, by one way.
    EmailChangesToday {
        count: i64,
        mst: Option<String>,
        via: ChangeVia,
    },
    /// The registered address cancelled a change: token requests pause.
    TokenRequestsPaused {
        cancelled_at: i64,
        until: i64,
    },
    EmailApplied {
        old: String,
        new: String,
        via: ChangeVia,
    },
    EmailConfirmed {
        new: String,
        request: String,
        effective: i64,
    },
    EmailCancelledByOldAddress {
        request: String,
    },
    /// At the desk: the documents as recorded (free text, IDs cut).
    EmailProposed {
        new: String,
        documents: String,
    },
    EmailProposalRefused {
        documents_missing: bool,
    },
    EmailApproved {
        new: String,
        proposed_by: Option<String>,
        request: String,
        superseded: u64,
    },
    EmailApprovalRefused {
        request: String,
    },
    EmailCancelled {
        request: String,
        new: String,
        reason: String,
    },
    EmailCancelRefused {
        request: String,
    },

    // The desk and the command line.
    LimitsCleared {
        count: u64,
        staff: Option<String>,
    },
    /// A desk reset: the agent's note of how the caller was verified (IDs cut).
    VerifiedByPhone {
        note: String,
    },
    MailResent {
        id: i64,
        mail_kind: MailKind,
        of: Option<String>,
    },
    Search {
        query: String,
    },
    AccountPage,
    SupportCodeUnknown,
    SupportReportOpened {
        reference: String,
    },
    SupportCodeMade {
        bytes: usize,
        until: i64,
    },
    SupportReportRefused {
        problem: ReportProblem,
    },
    Enrolled {
        mst: String,
        pinned: Option<String>,
    },
    Disabled {
        reason: String,
    },
    Enabled,
    OutboxKeyAdopted {
        key: String,
    },
    StaffAdded {
        name: String,
        role: String,
    },
    StaffRole {
        username: String,
        role: String,
    },
    StaffPassword {
        username: String,
    },
    StaffDisabled {
        username: String,
    },
}

impl Detail {
    /// The stored form.
    pub fn to_json(&self) -> String {
        match self {
            Detail::Legacy(text) => text.clone(),
            d => serde_json::to_string(d).unwrap_or_default(),
        }
    }

    /// A stored detail: a value, or a sentence written before there were values.
    pub fn from_stored(text: String) -> Detail {
        if text.starts_with('{') {
            if let Ok(d) = serde_json::from_str(&text) {
                return d;
            }
        }
        Detail::Legacy(text)
    }

    /// Counts a proof's or an approval's superseded changes of the account.
    pub fn with_superseded(mut self, n: u64) -> Detail {
        match &mut self {
            Detail::Proved { superseded, .. } | Detail::EmailApproved { superseded, .. } => *superseded = n,
            _ => {}
        }
        self
    }
}

impl sqlx::Type<Any> for Detail {
    fn type_info() -> AnyTypeInfo {
        <String as sqlx::Type<Any>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Any> for Detail {
    fn decode(value: AnyValueRef<'r>) -> Result<Detail, sqlx::error::BoxDynError> {
        <String as sqlx::Decode<'r, Any>>::decode(value).map(Detail::from_stored)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_is_stored_as_json_and_an_old_sentence_reads_back_as_it_was() {
        let d = Detail::TooMany { count: 3, counted: Counted::FailedProofsFromClient };
        let json = d.to_json();
        assert_eq!(json, r#"{"kind":"too_many","count":3,"counted":"failed_proofs_from_client"}"#);
        assert_eq!(Detail::from_stored(json), d);
        let old = "mst=0101234567; activation link sent, valid until 2026-11-26T09:14:03Z";
        assert_eq!(Detail::from_stored(old.into()), Detail::Legacy(old.into()));
        // A sentence that happens to start with a brace is still a sentence.
        assert_eq!(Detail::from_stored("{not json".into()), Detail::Legacy("{not json".into()));
        let mail = Detail::MailResent { id: 12, mail_kind: MailKind::Reset, of: Some("RC-AAAA-BBBB".into()) };
        assert_eq!(Detail::from_stored(mail.to_json()), mail);
    }
}
