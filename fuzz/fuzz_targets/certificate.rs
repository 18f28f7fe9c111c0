//! A token certificate and a `chain` as a client sends them: every check of the verify
//! path (our own, then rustls-webpki's path building) over arbitrary DER, against the
//! trust the server ships (the national root, the VNPT intermediate).
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use bhxh_protocol::Algorithm;
use bhxh_server::verify::{algorithm_of, decode_chain, TrustStore};
use libfuzzer_sys::fuzz_target;

fn trust() -> &'static TrustStore {
    static TRUST: OnceLock<TrustStore> = OnceLock::new();
    TRUST.get_or_init(|| TrustStore::load(None, None).expect("the shipped trust loads"))
}

fuzz_target!(|data: &[u8]| {
    // The first byte splits the input: a leaf, then up to 4 chain certificates.
    let (n, rest) = match data.split_first() {
        Some((n, rest)) => ((*n % 5) as usize, rest),
        None => return,
    };
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut rest = rest;
    for _ in 0..n {
        if rest.len() < 2 {
            break;
        }
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let take = len.min(rest.len() - 2);
        parts.push(&rest[2..2 + take]);
        rest = &rest[2 + take..];
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let chain: Vec<String> = parts.iter().map(|p| b64.encode(p)).collect();
    let chain = decode_chain(&chain).unwrap_or_default();
    let _ = algorithm_of(rest);
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let _ = trust().check_certificate(rest, &chain, alg, 1_780_000_000);
    }
    let _ = trust().ca_path(rest, 1_780_000_000);
});
