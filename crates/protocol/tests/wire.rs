//! Pins the JSON shape of the wire types: a change here is a protocol change and must
//! come with a new protocol version and an update of docs/protocol.md.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use bhxh_protocol::wire::*;
use bhxh_protocol::{Algorithm, ErrorCode, Purpose};
use serde_json::json;

#[test]
fn challenge_request_shape() {
    let r = ChallengeRequest { username: "ketoan01".into(), purpose: Purpose::PasswordRecovery, new_email: None };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"username": "ketoan01", "purpose": "bhxh-password-recovery/v1"})
    );
    let change = ChallengeRequest { new_email: Some("moi@congty.vn".into()), purpose: Purpose::EmailChange, ..r };
    assert_eq!(
        serde_json::to_value(&change).unwrap(),
        json!({"username": "ketoan01", "purpose": "bhxh-email-change/v1", "new_email": "moi@congty.vn"})
    );
    let bad = serde_json::from_value::<ChallengeRequest>(json!({"username": "a", "purpose": "x"}));
    assert!(bad.is_err());
    let extra = serde_json::from_value::<ChallengeRequest>(
        json!({"username": "a", "purpose": "bhxh-username-lookup/v1", "evil": 1}),
    );
    assert!(extra.is_err(), "unknown fields are refused");
}

#[test]
fn complete_request_shape() {
    let r = CompleteRequest {
        challenge_id: "c".into(),
        username: "u".into(),
        purpose: Purpose::UsernameLookup,
        certificate: "AA==".into(),
        chain: Vec::new(),
        algorithm: Algorithm::ES256,
        signature: "AQ==".into(),
    };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"challenge_id": "c", "username": "u", "purpose": "bhxh-username-lookup/v1",
               "certificate": "AA==", "algorithm": "ES256", "signature": "AQ=="})
    );
    let with_chain = CompleteRequest { chain: vec!["AQ==".into()], ..r };
    assert_eq!(serde_json::to_value(&with_chain).unwrap()["chain"], json!(["AQ=="]));
}

#[test]
fn error_body_shape() {
    let e = ErrorBody {
        code: ErrorCode::RateLimited.as_str().into(),
        message: "m".into(),
        hint: "h".into(),
        reference: "RC-0000-0000".into(),
        retry_after: Some(30),
        usernames: None,
    };
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!({"code": "RATE_LIMITED", "message": "m", "hint": "h", "reference": "RC-0000-0000", "retry_after": 30})
    );
    let e = ErrorBody { retry_after: None, ..e };
    assert!(serde_json::to_value(&e).unwrap().get("retry_after").is_none());
    // The accounts a refused proof does reach: present when named, even empty.
    let named = ErrorBody { usernames: Some(vec![]), ..e.clone() };
    assert_eq!(serde_json::to_value(&named).unwrap()["usernames"], json!([]));
    let old: ErrorBody =
        serde_json::from_value(json!({"code": "CERT_NOT_BOUND", "message": "m", "hint": "h", "reference": "r"}))
            .unwrap();
    assert_eq!(old.usernames, None, "an older server's refusal reads as naming none");
}

#[test]
fn secrets_never_show_in_debug() {
    let l = LoginRequest { username: "u".into(), password: "Sup3r-secret!".into() };
    assert!(!format!("{l:?}").contains("Sup3r"));
    let c = ChangePasswordRequest { current_password: Some("Sup3r-old!".into()), new_password: "Sup3r-new!".into() };
    assert!(!format!("{c:?}").contains("Sup3r"));
    // A must-change session's change leaves the current password out of the wire.
    let forced = ChangePasswordRequest { current_password: None, new_password: "Sup3r-new!".into() };
    assert_eq!(serde_json::to_value(&forced).unwrap(), serde_json::json!({"new_password": "Sup3r-new!"}));
    let r = LoginResponse {
        session_token: "tok-secret".into(),
        must_change_password: true,
        expires_at: "t".into(),
        reference: "r".into(),
    };
    assert!(!format!("{r:?}").contains("tok-secret"));
}

#[test]
fn docs_protocol_md_lists_exactly_the_catalogue() {
    let doc = include_str!("../../../docs/protocol.md");
    for code in ErrorCode::ALL {
        let status = if code.is_client_side() { "client".to_string() } else { code.http_status().to_string() };
        assert!(doc.contains(&format!("| `{}` | {status} |", code.as_str())), "docs/protocol.md lacks {code}");
    }
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let code = line.trim_start_matches("| `").split('`').next().unwrap();
        assert!(ErrorCode::parse(code).is_some(), "docs/protocol.md lists {code}, which the catalogue does not have");
    }
}

#[test]
fn support_report_shapes() {
    let r = SupportReportRequest { report: "bhxh-desktop 0.1".into(), facts: Default::default() };
    assert_eq!(serde_json::to_value(&r).unwrap(), json!({"report": "bhxh-desktop 0.1", "facts": {"checks": []}}));
    // An older app sends no facts; a newer one sends its checks as values.
    let old: SupportReportRequest = serde_json::from_value(json!({"report": "x"})).unwrap();
    assert_eq!(old.facts, ReportFacts::default());
    let facts: ReportFacts = serde_json::from_value(json!({
        "checks": [{"name": "token", "status": "fail", "code": "PIN_LOCKED"}, {"name": "clock", "status": "warn"}],
        "last_error": "CERT_NOT_BOUND"
    }))
    .unwrap();
    assert!(facts.has_code(bhxh_protocol::ErrorCode::PinLocked) && facts.has(CheckName::Clock, CheckStatus::Warn));
    // Information carries its code for the record, and marks nothing to act on.
    let info: ReportFacts = serde_json::from_value(json!({
        "checks": [{"name": "readers", "status": "info", "code": "READER_SERVICE_UNAVAILABLE"}]
    }))
    .unwrap();
    assert!(info.has(CheckName::Readers, CheckStatus::Info));
    assert!(!info.has_code(bhxh_protocol::ErrorCode::ReaderServiceUnavailable));
    assert!(
        serde_json::from_value::<ReportFacts>(json!({"checks": [{"name": "token", "status": "fail", "text": "x"}]}))
            .is_err(),
        "a check is a value, not a sentence"
    );
    assert!(
        serde_json::from_value::<SupportReportRequest>(json!({"report": "x", "pin": "1"})).is_err(),
        "unknown fields are refused"
    );
    let issued = SupportCodeIssued {
        support_code: "HT-4821-7305-6".into(),
        expires_at: "t".into(),
        reference: "RC-0000-0000".into(),
    };
    assert_eq!(
        serde_json::to_value(&issued).unwrap(),
        json!({"support_code": "HT-4821-7305-6", "expires_at": "t", "reference": "RC-0000-0000"})
    );
}
