//! The committed test vectors pin the to-be-signed bytes. They were computed with
//! Python's hashlib, independently of this crate, so a drift in either is caught.

use bhxh_protocol::{domain::normalize_username, to_be_signed, Purpose};

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
    tbs_hex: String,
}

#[test]
fn to_be_signed_matches_the_committed_vectors() {
    let doc: Doc = serde_json::from_str(include_str!("vectors/tbs.json")).unwrap();
    assert!(doc.vectors.len() >= 5);
    for v in doc.vectors {
        let purpose = Purpose::parse(&v.purpose).unwrap();
        assert_eq!(normalize_username(&v.username), v.username_normalized);
        let got = to_be_signed(purpose, &v.origin, &v.username, &v.nonce);
        assert_eq!(hex::encode(got), v.tbs_hex, "vector for {:?}", v.username);
    }
}
