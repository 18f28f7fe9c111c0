//! A CRL as fetched from a distribution point (plain HTTP, PEM or DER): the parser, then
//! the issuer match, signature and lookup for a real certificate and issuer.
#![no_main]

use std::sync::OnceLock;

use bhxh_server::revocation::crl::ParsedCrl;
use bhxh_server::verify::{pem_blocks, DEFAULT_INTERMEDIATES_PEM, NATIONAL_ROOT_PEM};
use libfuzzer_sys::fuzz_target;
use x509_parser::prelude::{FromDer, X509Certificate};

fn ders() -> &'static (Vec<u8>, Vec<u8>) {
    static DERS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    DERS.get_or_init(|| {
        let cert = pem_blocks(DEFAULT_INTERMEDIATES_PEM.as_bytes(), "CERTIFICATE").expect("pem").remove(0);
        let issuer = pem_blocks(NATIONAL_ROOT_PEM.as_bytes(), "CERTIFICATE").expect("pem").remove(0);
        (cert, issuer)
    })
}

fuzz_target!(|data: &[u8]| {
    let der = pem_blocks(data, "X509 CRL").ok().and_then(|b| b.into_iter().next()).unwrap_or_else(|| data.to_vec());
    let Ok(crl) = ParsedCrl::parse(der) else { return };
    let (cert, issuer) = ders();
    let (Ok((_, cert)), Ok((_, issuer))) = (X509Certificate::from_der(cert), X509Certificate::from_der(issuer)) else { return };
    let _ = crl.status(&cert, &issuer, 1_780_000_000);
    let _ = crl.describe(1_780_000_000);
});
