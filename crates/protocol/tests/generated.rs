//! Files generated from this crate and committed for the front end: the error
//! catalogue (ui/src/generated/errors.json) and the password-policy vectors the
//! TypeScript policy is tested against. A drift fails here; regenerate with
//! `BHXH_UPDATE_GENERATED=1 cargo test -p bhxh-protocol --test generated`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::collections::BTreeMap;
use std::path::Path;

use bhxh_protocol::domain::password_policy;
use bhxh_protocol::{ErrorCode, Lang};
use serde_json::{json, Value};

fn check_or_write(relative: &str, value: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(relative);
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("BHXH_UPDATE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{relative} is out of date: run BHXH_UPDATE_GENERATED=1 cargo test -p bhxh-protocol --test generated"
    );
}

#[test]
fn error_catalogue_for_the_ui() {
    let mut map = BTreeMap::new();
    for code in ErrorCode::ALL {
        let text = |lang| json!({"message": code.message(lang), "hint": code.hint(lang)});
        map.insert(code.as_str(), json!({"status": code.http_status(), "vi": text(Lang::Vi), "en": text(Lang::En)}));
    }
    check_or_write("ui/src/generated/errors.json", &json!(map));
}

#[test]
fn password_policy_vectors() {
    let cases = [
        ("Mua-thu-2026!", "ketoan01"),
        ("short1A!", "x"),
        ("alllowercase1!", "x"),
        ("ALLUPPERCASE1!", "x"),
        ("NoDigitsHere!!", "x"),
        ("NoSymbols12345", "x"),
        ("KeToan01-2026xyz", "ketoan01"),
        ("Mật-khẩu-Mới-2026", "ketoan01"),
        ("Đông-chí-2027", "x"),
        ("ab", "abc"),
        ("", "x"),
    ];
    let vectors: Vec<Value> = cases
        .iter()
        .map(|(p, u)| {
            let unmet: Vec<Value> = password_policy(p, u).iter().map(|r| serde_json::to_value(r).unwrap()).collect();
            json!({"password": p, "username": u, "unmet": unmet})
        })
        .collect();
    check_or_write("crates/protocol/tests/vectors/password_policy.json", &json!(vectors));
}
