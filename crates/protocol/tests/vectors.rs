//! The committed test vectors pin the to-be-signed bytes. They were computed with
//! Python's hashlib, independently of this crate, so a drift in either is caught.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use bhxh_protocol::{domain::normalize_username, signed_data, Email, Purpose};

#[derive(serde::Deserialize)]
struct Doc {
    vectors: Vec<Vector>,
}

#[derive(serde::Deserialize)]
struct Vector {
    purpose: String,
    origin: String,
    username: String,
    username_normalized: String,
    nonce: String,
    #[serde(default)]
    new_email: Option<String>,
    #[serde(default)]
    new_email_normalized: Option<String>,
    tbs_hex: String,
}

#[test]
fn to_be_signed_matches_the_committed_vectors() {
    let doc: Doc = serde_json::from_str(include_str!("vectors/tbs.json")).unwrap();
    assert!(doc.vectors.len() >= 7);
    assert!(doc.vectors.iter().any(|v| v.purpose == "bhxh-email-change/v1"));
    for v in doc.vectors {
        let purpose = Purpose::parse(&v.purpose).unwrap();
        assert_eq!(normalize_username(&v.username), v.username_normalized);
        if let (Some(raw), Some(normalized)) = (&v.new_email, &v.new_email_normalized) {
            assert_eq!(Email::parse(raw).unwrap().as_str(), normalized);
        }
        assert_eq!(v.new_email.is_some(), purpose == Purpose::EmailChange, "only an email change signs an address");
        let got = signed_data(purpose, &v.origin, &v.username, &v.nonce, v.new_email.as_deref());
        assert_eq!(hex::encode(got), v.tbs_hex, "vector for {:?}", v.username);
    }
}
