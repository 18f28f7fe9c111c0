//! Criterion micro-benchmarks of the server's hot, pure work (`cargo bench -p bhxh-server
//! --bench hot`): the whole verify path of a token proof, the to-be-signed bytes, a
//! captcha image, a temporary password, a captcha answer's hash. Figures, no assertions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::hint::black_box;

use bhxh_protocol::{to_be_signed, Purpose};
use bhxh_server::verify::{check_signature, TrustStore};
use criterion::{criterion_group, criterion_main, Criterion};

#[path = "support/mod.rs"]
mod support;
use support::Token;

fn hot(c: &mut Criterion) {
    let dir = bhxh_testkit::fixtures();
    let trust = TrustStore::load(Some(&dir.join("trust.pem")), Some(&dir.join("intermediates.pem"))).unwrap();
    let (rt, revocation) = support::revocation(dir, &dir.join("crl.pem"), None);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let data = to_be_signed(Purpose::PasswordRecovery, "https://reset.example.vn", "ketoan01", "bm9uY2U=");
    for (name, label) in [("rsa-valid", "RS256 (RSA-2048)"), ("ec-valid", "ES256 (P-256)")] {
        let token = Token::load(dir, name);
        let sig = token.sign(&data);
        c.bench_function(&format!("verify path {label}: parse, chain, CRL, signature"), |b| {
            b.iter(|| {
                let checked = trust.check_certificate(black_box(&token.cert), &[], token.alg, now).unwrap();
                black_box(rt.block_on(revocation.check(&checked.links, now)).unwrap());
                check_signature(&token.cert, token.alg, &data, black_box(&sig)).unwrap();
            })
        });
    }
    // OCSP for the token's certificate from a real responder (openssl ocsp on loopback):
    // the first query is cold, then the cached answer is reused (the hot path).
    let responder = bhxh_testkit::ocsp::OcspResponder::start("ica", &["-nmin", "60"]);
    let (ort, ocsp) = support::revocation(dir, &dir.join("crl.pem"), Some(&responder.base));
    let token = Token::load(dir, "rsa-valid");
    let checked = trust.check_certificate(&token.cert, &[], token.alg, now).unwrap();
    let started = std::time::Instant::now();
    let first = ort.block_on(ocsp.check(&checked.links, now)).unwrap();
    println!(
        "cold OCSP query to the local responder (request, POST, checks, cache write): {:.2} ms — {}",
        started.elapsed().as_secs_f64() * 1000.0,
        bhxh_server::facts::RevocationFact::render_all(&first, bhxh_protocol::Lang::En)
    );
    cold_ocsp(dir, &responder.base, &token.cert);
    let sig = token.sign(&data);
    c.bench_function("verify path RS256 with OCSP, warm cache", |b| {
        b.iter(|| {
            let checked = trust.check_certificate(black_box(&token.cert), &[], token.alg, now).unwrap();
            black_box(ort.block_on(ocsp.check(&checked.links, now)).unwrap());
            check_signature(&token.cert, token.alg, &data, black_box(&sig)).unwrap();
        })
    });
    drop(responder);
    c.bench_function("to-be-signed bytes", |b| {
        b.iter(|| {
            to_be_signed(Purpose::PasswordRecovery, black_box("https://reset.example.vn"), "ketoan01", "bm9uY2U=")
        })
    });
    c.bench_function("temporary password (CSPRNG, 14 characters)", |b| {
        b.iter(bhxh_server::passwords::temporary_password)
    });
    // What every answer adds for the metrics (a labelled counter and a histogram).
    let metrics = bhxh_server::metrics::metrics();
    c.bench_function("metrics: one answer recorded", |b| {
        b.iter(|| {
            metrics.answered(
                black_box("/v1/recovery/challenge"),
                black_box("ok"),
                std::time::Duration::from_micros(300),
            )
        })
    });
    c.bench_function("metrics: one scrape rendered", |b| {
        let scraped = bhxh_server::metrics::Scraped::default();
        b.iter(|| metrics.render(black_box(&scraped)).map(|t| t.len()))
    });
    c.bench_function("captcha answer hash", |b| {
        b.iter(|| bhxh_server::portal::captcha_answer_hash(black_box("d2hhdGV2ZXI"), black_box("ab3kx")))
    });
    let mut slow = c.benchmark_group("slow");
    slow.sample_size(30);
    slow.bench_function("captcha image (5 characters, 280×70 PNG)", |b| b.iter(bhxh_server::portal::make_captcha));
    slow.finish();

    // A CA's full CRL: 100,000 serials (the issuing CA's, signed by it), besides the root's.
    let big = big_crl(dir, 100_000);
    let crls = std::env::temp_dir().join(format!("bhxh-bench-crls-{}.pem", std::process::id()));
    let mut pem = std::fs::read(dir.join("root-crl.pem")).unwrap();
    pem.extend(std::fs::read(&big).unwrap());
    std::fs::write(&crls, pem).unwrap();
    let started = std::time::Instant::now();
    let (rt, revocation) = support::revocation(dir, &crls, None);
    println!(
        "loading a CRL of 100,000 serials ({} bytes): {:.0} ms",
        std::fs::metadata(&big).unwrap().len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let token = Token::load(dir, "rsa-valid");
    let sig = token.sign(&data);
    c.bench_function("verify path RS256 with a CRL of 100,000 serials", |b| {
        b.iter(|| {
            let checked = trust.check_certificate(black_box(&token.cert), &[], token.alg, now).unwrap();
            black_box(rt.block_on(revocation.check(&checked.links, now)).unwrap());
            check_signature(&token.cert, token.alg, &data, black_box(&sig)).unwrap();
        })
    });
}

/// Cold OCSP queries, one after another (request, POST to the responder, the answer's
/// checks), without the cache: p50 and p99.
fn cold_ocsp(dir: &std::path::Path, responder: &str, cert: &[u8]) {
    use bhxh_server::revocation::ocsp;
    let issuer = std::fs::read(dir.join("ica.cert.der")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let http = reqwest::Client::new();
    let fresh = ocsp::Freshness { skew_secs: 300, max_age_secs: 3600 };
    let mut times = Vec::new();
    for i in 0..200u8 {
        let started = std::time::Instant::now();
        let q = ocsp::request(cert, &issuer, Some([i; 16])).unwrap();
        let body = rt.block_on(async {
            let resp = http
                .post(responder)
                .header("content-type", "application/ocsp-request")
                .body(q.der.clone())
                .send()
                .await
                .unwrap();
            resp.bytes().await.unwrap()
        });
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let a = ocsp::check_response(&body, &q, &issuer, ocsp::NoncePolicy::Require, fresh, now).unwrap();
        assert_eq!(a.status, ocsp::OcspStatus::Good);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("cold OCSP query, 200 in a row: p50 {:.2} ms  p99 {:.2} ms", times[100], times[198]);
}

/// The issuing CA's CRL listing `n` random serials: `openssl ca -gencrl` over a CA
/// database written directly (revoking 100,000 certificates one by one would take hours).
fn big_crl(fixtures: &std::path::Path, n: usize) -> std::path::PathBuf {
    use std::fmt::Write as _;
    let dir = std::env::temp_dir().join(format!("bhxh-bench-bigcrl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut index = String::new();
    for i in 0..n {
        let _ = writeln!(
            index,
            "R\t300101000000Z\t250101000000Z,keyCompromise\t{:032X}\tunknown\t/CN=revoked {i}",
            0x1000_0000_u64 + i as u64 * 7919
        );
    }
    std::fs::write(dir.join("index.txt"), index).unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\ncrl_extensions = e\n[e]\nauthorityKeyIdentifier = keyid:always\n",
    )
    .unwrap();
    let out = dir.join("big-crl.pem");
    let status = std::process::Command::new("openssl")
        .current_dir(&dir)
        .args(["ca", "-batch", "-config", "ca.cnf", "-gencrl", "-cert"])
        .arg(fixtures.join("ica.cert.pem"))
        .arg("-keyfile")
        .arg(fixtures.join("ica.key.pem"))
        .arg("-out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "openssl ca -gencrl");
    out
}

criterion_group!(benches, hot);
criterion_main!(benches);
