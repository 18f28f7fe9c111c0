//! What the benches share: a "token" made of the fixture keys, signing as a client would.

use std::path::Path;

use bhxh_protocol::Algorithm;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256};

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

pub struct Token {
    pub cert: Vec<u8>,
    pub alg: Algorithm,
    key: Signer,
}

impl Token {
    pub fn load(dir: &Path, name: &str) -> Token {
        let cert = std::fs::read(dir.join(format!("{name}.cert.der"))).unwrap();
        let pem = std::fs::read(dir.join(format!("{name}.key.pem"))).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        match RsaKeyPair::from_pkcs8(&pem.contents) {
            Ok(k) => Token { cert, alg: Algorithm::RS256, key: Signer::Rsa(k) },
            Err(_) => {
                let k = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pem.contents, &SystemRandom::new())
                    .unwrap();
                Token { cert, alg: Algorithm::ES256, key: Signer::Ec(k) }
            }
        }
    }

    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.key {
            Signer::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, data, &mut sig).unwrap();
                sig
            }
            Signer::Ec(k) => k.sign(&rng, data).unwrap().as_ref().to_vec(),
        }
    }
}

/// The revocation check of a server with `crl_file` and, when given, the OCSP responder
/// at `ocsp` for the token certificates (no CRL fetched), on a SQLite database of its
/// own, and the runtime it runs on.
pub fn revocation(
    fixtures: &Path,
    crl_file: &Path,
    ocsp: Option<&str>,
) -> (tokio::runtime::Runtime, bhxh_server::revocation::Revocation) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("bhxh-bench-revocation-{}-{}", std::process::id(), ocsp.is_some()));
    std::fs::create_dir_all(&dir).unwrap();
    let trust = bhxh_server::verify::TrustStore::load(
        Some(&fixtures.join("trust.pem")),
        Some(&fixtures.join("intermediates.pem")),
    )
    .unwrap();
    let file = bhxh_server::revocation::load_crl_file(crl_file, &trust).unwrap();
    let mut config = bhxh_server::config::RevocationConfig::default();
    (config.ocsp, config.fetch_crls) = (ocsp.is_some(), false);
    if let Some(url) = ocsp {
        config.mirrors.insert(bhxh_testkit::ocsp::OCSP_URL.into(), url.into());
    }
    let revocation = rt.block_on(async {
        let store = bhxh_server::store::Store::open(&format!("sqlite://{}/bench.db", dir.display())).await.unwrap();
        bhxh_server::revocation::Revocation::new(store, bhxh_server::Clock::system(), config, file).unwrap()
    });
    (rt, revocation)
}
