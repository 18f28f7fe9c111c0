//! Criterion micro-benchmarks of the server's hot, pure work (`cargo bench -p bhxh-server
//! --bench hot`): the whole verify path of a token proof, the to-be-signed bytes, a
//! captcha image, a temporary password, a captcha answer's hash. Figures, no assertions.

use std::hint::black_box;

use bhxh_protocol::{to_be_signed, Purpose};
use bhxh_server::verify::{check_signature, TrustStore};
use criterion::{criterion_group, criterion_main, Criterion};

#[path = "support/mod.rs"]
mod support;
use support::Token;

fn hot(c: &mut Criterion) {
    let dir = bhxh_testkit::fixtures();
    let trust = TrustStore::load(Some(&dir.join("trust.pem")), Some(&dir.join("intermediates.pem")), Some(&dir.join("crl.pem"))).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let data = to_be_signed(Purpose::PasswordRecovery, "https://reset.example.vn", "ketoan01", "bm9uY2U=");
    for (name, label) in [("rsa-valid", "RS256 (RSA-2048)"), ("ec-valid", "ES256 (P-256)")] {
        let token = Token::load(dir, name);
        let sig = token.sign(&data);
        c.bench_function(&format!("verify path {label}: parse, chain, CRL, signature"), |b| {
            b.iter(|| {
                let checked = trust.check_certificate(black_box(&token.cert), &[], token.alg, now).unwrap();
                black_box(&checked);
                check_signature(&token.cert, token.alg, &data, black_box(&sig)).unwrap();
            })
        });
    }
    c.bench_function("to-be-signed bytes", |b| {
        b.iter(|| to_be_signed(Purpose::PasswordRecovery, black_box("https://reset.example.vn"), "ketoan01", "bm9uY2U="))
    });
    c.bench_function("temporary password (CSPRNG, 14 characters)", |b| b.iter(bhxh_server::passwords::temporary_password));
    c.bench_function("captcha answer hash", |b| {
        b.iter(|| bhxh_server::portal::captcha_answer_hash(black_box("d2hhdGV2ZXI"), black_box("ab3kx")))
    });
    let mut slow = c.benchmark_group("slow");
    slow.sample_size(30);
    slow.bench_function("captcha image (5 characters, 200×70 PNG)", |b| b.iter(bhxh_server::portal::make_captcha));
    slow.finish();
}

criterion_group!(benches, hot);
criterion_main!(benches);
