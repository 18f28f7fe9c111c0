//! A full recovery on SoftHSM2 from PIN to the mail in the inbox, split into its parts,
//! and `bhxh doctor` against `pkcs11-tool -L -O` (OpenSC) on the same tokens
//! (`cargo bench -p bhxh-cli --bench recovery`). Reports figures; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bhxh_client::flows::{choose, Choice};
use bhxh_client::ApiClient;
use bhxh_protocol::wire::CompleteRequest;
use bhxh_protocol::{to_be_signed, Lang, Purpose};
use bhxh_server::Clock;
use bhxh_testkit::{softhsm, MST, TEST_PIN};
use bhxh_token::p11::Pkcs11Token;
use bhxh_token::{AuthPin, SignRequest, Token};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// 20 recoveries with `label`'s token, each part timed; prints the medians.
async fn recovery_figures(
    name: &str,
    token: Arc<dyn Token>,
    label: &str,
    prefix: &str,
    api: &ApiClient,
    store: &bhxh_server::store::Store,
    smtp: &bhxh_testkit::SmtpSink,
) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let tokens = token.tokens().unwrap();
    let slot = tokens.iter().find(|t| t.label == label).unwrap().slot_id;
    let (chosen, cert) = choose(&tokens, &Choice { slot_id: Some(slot), cert_id: None }, now).unwrap();
    let (mut list, mut challenge, mut sign, mut complete, mut mail, mut total) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for i in 0..20 {
        let user = format!("{prefix}user{i:02}");
        let email = format!("{prefix}{i}@congty.vn");
        bhxh_server::admin::account_add(store, &Clock::system(), &user, MST, &email, None).await.unwrap();
        let t0 = Instant::now();
        let t = token.clone();
        tokio::task::spawn_blocking(move || t.tokens().unwrap()).await.unwrap();
        let t1 = Instant::now();
        let ch = api.challenge(&user, Purpose::PasswordRecovery, None).await.unwrap();
        let t2 = Instant::now();
        let data = to_be_signed(Purpose::PasswordRecovery, api.origin(), &user, &ch.nonce);
        let (t, id, slot) = (token.clone(), cert.id_bytes(), chosen.slot_id);
        let signed = tokio::task::spawn_blocking(move || {
            let pin = AuthPin::from(TEST_PIN.to_string());
            t.sign(&SignRequest { slot_id: slot, cert_id: &id, pin: &pin, data: &data, confirm_final_try: false })
                .unwrap()
        })
        .await
        .unwrap();
        let t3 = Instant::now();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        api.complete_recovery(&CompleteRequest {
            challenge_id: ch.challenge_id,
            username: user.clone(),
            purpose: Purpose::PasswordRecovery,
            certificate: b64.encode(&signed.certificate),
            chain: Vec::new(),
            algorithm: signed.algorithm,
            signature: b64.encode(&signed.signature),
        })
        .await
        .unwrap();
        let t4 = Instant::now();
        smtp.wait_for(&email, "Mật khẩu tạm thời").await;
        let t5 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        list.push(ms(t0, t1));
        challenge.push(ms(t1, t2));
        sign.push(ms(t2, t3));
        complete.push(ms(t3, t4));
        mail.push(ms(t4, t5));
        total.push(ms(t0, t5));
    }
    println!("full recovery on {name}, medians of 20 (ms):");
    println!("  read token (list + certificates)     {:7.2}", median(list));
    println!("  challenge round trip                 {:7.2}", median(challenge));
    println!("  token login + sign + logout          {:7.2}", median(sign));
    println!("  complete round trip (server checks,  {:7.2}", median(complete));
    println!("    argon2id, one transaction)");
    println!("  outbox → SMTP → inbox                {:7.2}", median(mail));
    println!("  total, PIN to inbox                  {:7.2}", median(total));
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` smoke run: nothing to measure
    }
    let hsm = softhsm();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let backend = bhxh_server::testing::start(&[], |c| {
            c.outbox.poll_ms = 50;
            c.limits.per_username = 1_000_000;
            c.limits.per_client = 1_000_000;
        })
        .await;
        let (store, smtp) = (&backend.store, &backend.smtp);
        let api = ApiClient::new(&backend.origin, Lang::Vi).unwrap();
        let token: Arc<dyn Token> = Arc::new(Pkcs11Token::open(&hsm.module).unwrap());
        recovery_figures("SoftHSM2 (CKM_SHA256_RSA_PKCS)", token, "BHXH Test RSA", "hsm", &api, store, smtp).await;
        // opencryptoki's soft token: no CKM_SHA256_RSA_PKCS, so CKM_RSA_PKCS over a DigestInfo.
        let ock = bhxh_testkit::opencryptoki();
        let token: Arc<dyn Token> = Arc::new(Pkcs11Token::open(&ock.module).unwrap());
        recovery_figures("opencryptoki (CKM_RSA_PKCS over a DigestInfo)", token, ock.label, "ock", &api, store, smtp)
            .await;
    });
    // `bhxh doctor` against `pkcs11-tool -L -O` on the same tokens.
    let time = |cmd: &mut Command| {
        let mut v = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let out = cmd.output().unwrap();
            assert!(out.status.code().is_some());
            v.push(t.elapsed().as_secs_f64() * 1e3);
        }
        median(v)
    };
    let doctor = time(
        Command::new(env!("CARGO_BIN_EXE_bhxh"))
            .args(["--server", "http://127.0.0.1:9", "--module"])
            .arg(&hsm.module)
            .args(["doctor", "--json"])
            .env("SOFTHSM2_CONF", &hsm.conf),
    );
    let tool =
        time(Command::new("pkcs11-tool").arg("--module").arg(&hsm.module).args(["-L"]).env("SOFTHSM2_CONF", &hsm.conf));
    let objects: f64 = ["BHXH Test RSA", "BHXH Test EC", "BHXH Other MST"]
        .iter()
        .map(|label| {
            time(
                Command::new("pkcs11-tool")
                    .arg("--module")
                    .arg(&hsm.module)
                    .args(["--token-label", label, "-O"])
                    .env("SOFTHSM2_CONF", &hsm.conf),
            )
        })
        .sum();
    println!("bhxh doctor --json (3 tokens, certificates parsed, server down): {doctor:.1} ms");
    println!(
        "pkcs11-tool -L + -O on each of the 3 tokens:                    {:.1} ms ({tool:.1} + {:.1})",
        tool + objects,
        objects
    );

    // Both real modules installed (SoftHSM2 registered with p11-kit by its package,
    // opencryptoki in the user's p11-kit folder), no module chosen: every module found
    // and loaded, against pkcs11-tool on each module and each token.
    let ock = bhxh_testkit::opencryptoki();
    let home = std::env::temp_dir().join(format!("bhxh-bench-home-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".config/pkcs11/modules")).unwrap();
    std::fs::write(
        home.join(".config/pkcs11/modules/opencryptoki.module"),
        format!("module: {}\n", ock.module.display()),
    )
    .unwrap();
    let doctor_all = time(
        Command::new(env!("CARGO_BIN_EXE_bhxh"))
            .args(["--server", "http://127.0.0.1:9", "doctor", "--json"])
            .env("SOFTHSM2_CONF", &hsm.conf)
            .env("HOME", &home)
            .env_remove("BHXH_PKCS11_MODULE"),
    );
    let ock_tool = time(Command::new("pkcs11-tool").arg("--module").arg(&ock.module).args(["-L"]))
        + time(Command::new("pkcs11-tool").arg("--module").arg(&ock.module).args(["--slot", "3", "-O"]));
    println!(
        "bhxh doctor --json, no module chosen (every module found: SoftHSM2 + opencryptoki + OpenSC; 4 tokens): {doctor_all:.1} ms"
    );
    println!("pkcs11-tool -L + -O, SoftHSM2's 3 tokens and opencryptoki's 1:   {:.1} ms", tool + objects + ock_tool);
    let _ = std::fs::remove_dir_all(home);
    let _ = Duration::ZERO;
}
