//! An OCSP responder's answer, as it arrives over plain HTTP (anyone on the path can
//! write it): every check of `check_response` over arbitrary bytes, for a real query
//! (the VNPT intermediate, issued by the national root).
#![no_main]

use std::sync::OnceLock;

use bhxh_server::revocation::ocsp::{check_response, request, Freshness, NoncePolicy, Query};
use bhxh_server::verify::{pem_blocks, DEFAULT_INTERMEDIATES_PEM, NATIONAL_ROOT_PEM};
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (Query, Vec<u8>) {
    static SETUP: OnceLock<(Query, Vec<u8>)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let cert = pem_blocks(DEFAULT_INTERMEDIATES_PEM.as_bytes(), "CERTIFICATE").expect("pem").remove(0);
        let issuer = pem_blocks(NATIONAL_ROOT_PEM.as_bytes(), "CERTIFICATE").expect("pem").remove(0);
        (request(&cert, &issuer, Some([7; 16])).expect("request"), issuer)
    })
}

fuzz_target!(|data: &[u8]| {
    let (query, issuer) = setup();
    let fresh = Freshness { skew_secs: 300, max_age_secs: 3600 };
    for policy in [NoncePolicy::Off, NoncePolicy::Require] {
        let _ = check_response(data, query, issuer, policy, fresh, 1_780_000_000);
    }
});
