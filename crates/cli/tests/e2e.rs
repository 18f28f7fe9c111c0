//! End to end with real parts: `bhxh-server` (SQLite, a real SMTP server), SoftHSM2
//! tokens provisioned for this run, and the `bhxh` binary with the PIN on standard input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test stops at the first surprise

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use bhxh_server::testing::Backend;
use bhxh_testkit::{password_in, softhsm, MST, TEST_PIN};
use bhxh_token::p11::Pkcs11Token;
use bhxh_token::Token;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";
/// A PIN nothing else in the run contains, so a search for it cannot match by chance.
const DISTINCT_PIN: &str = "Zq7#pin-4821";

/// Server logs at debug level go to this file, to be searched for the PIN.
fn log_file() -> &'static Path {
    static LOG: OnceLock<std::path::PathBuf> = OnceLock::new();
    LOG.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("bhxh-e2e-server-{}.log", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let _ = tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_max_level(tracing::Level::DEBUG)
            .try_init();
        path
    })
}

struct Env {
    server: String,
    backend: Backend,
}

impl std::ops::Deref for Env {
    type Target = Backend;
    fn deref(&self) -> &Backend {
        &self.backend
    }
}

async fn start() -> Env {
    log_file();
    // Every test waits for the one PIN change: SoftHSM rewrites the token's files then,
    // and a test reading the tokens at that moment would see a half-written file.
    distinct_pin_rsa_slot();
    let backend = bhxh_server::testing::start(&[(USER, EMAIL)], |_| {}).await;
    Env { server: backend.origin.clone(), backend }
}

/// The slot of a provisioned token (slot ids change with every provisioning).
fn slot(label: &str) -> u64 {
    let hsm = softhsm();
    let t = Pkcs11Token::open(&hsm.module).unwrap();
    t.tokens().unwrap().into_iter().find(|t| t.label == label).unwrap().slot_id
}

/// The RSA token's PIN changed once to one that cannot match anything else.
fn distinct_pin_rsa_slot() -> u64 {
    static DONE: OnceLock<u64> = OnceLock::new();
    *DONE.get_or_init(|| {
        bhxh_testkit::change_pin("BHXH Test RSA", TEST_PIN, DISTINCT_PIN);
        slot("BHXH Test RSA")
    })
}

fn bhxh(server: &str, args: &[&str], stdin: &str) -> Output {
    let hsm = softhsm();
    bhxh_on(server, &hsm.module, &[("SOFTHSM2_CONF", hsm.conf.as_os_str())], args, stdin)
}

/// `bhxh --server S --module M ARGS` with `stdin`, in Vietnamese unless `--lang` says.
fn bhxh_on(server: &str, module: &Path, env: &[(&str, &std::ffi::OsStr)], args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bhxh"));
    cmd.arg("--server")
        .arg(server)
        .arg("--module")
        .arg(module)
        .args(args)
        .env("LANG", "vi_VN.UTF-8")
        .env_remove("BHXH_SERVER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn nothing_changed(env: &Env) {
    let mails = env.store.list_mail(100).await.unwrap();
    assert!(mails.is_empty(), "mail was queued: {mails:?}");
    let account = env.store.account_by_username(USER).await.unwrap().unwrap();
    assert!(account.temp_password_hash.is_none(), "a temporary password was set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_login_change_with_the_cli() {
    let env = start().await;
    let rsa = distinct_pin_rsa_slot().to_string();

    // Two tokens with usable certificates of the same MST: the CLI asks which.
    let o = bhxh(&env.server, &["recover", "--username", USER, "--pin-stdin"], &format!("{DISTINCT_PIN}\n"));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("SEVERAL_TOKENS"), "{}", text(&o));

    let o = bhxh(
        &env.server,
        &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa],
        &format!("{DISTINCT_PIN}\n"),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("CÔNG TY TNHH THỬ NGHIỆM BHXH") && out.contains(MST), "the certificate is shown: {out}");
    assert!(out.contains("ke***@c***.vn") && out.contains("RC-"), "{out}");

    let mail = env.smtp.wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let temp = password_in(&mail);

    // Login with the emailed password: the change is demanded at once, in the same run;
    // a new password that cannot be accepted is refused before the temporary one is used.
    let new = "Mua-thu-2026!";
    let o = bhxh(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{temp}\n{temp}\n"));
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("PASSWORD_REUSE"), "{}", text(&o));
    let o = bhxh(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{temp}\nshort\n"));
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("PASSWORD_POLICY"), "{}", text(&o));
    let o = bhxh(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{temp}\n"));
    assert_eq!(o.status.code(), Some(4), "a temporary password without a new one: {}", text(&o));
    assert!(text(&o).contains("PASSWORD_CHANGE_REQUIRED"), "{}", text(&o));
    // That login used the temporary password up (it works once): recover again.
    let o = bhxh(
        &env.server,
        &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa],
        &format!("{DISTINCT_PIN}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let reference = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.split("Mã tham chiếu: ").nth(1).map(str::to_string))
        .unwrap();
    let mail = loop {
        let m = env.smtp.wait_for(EMAIL, "Mật khẩu tạm thời").await;
        if m.text.contains(&reference) {
            break m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let temp = password_in(&mail);
    let o = bhxh(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{temp}\n{new}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Đã đổi mật khẩu"), "{}", text(&o));

    let o = bhxh(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{new}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("bhxh change-password"), "{}", text(&o));
    let o = bhxh(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{temp}\n"));
    assert_eq!(o.status.code(), Some(4), "the emailed password is refused: {}", text(&o));
    assert!(text(&o).contains("INVALID_CREDENTIALS"));
    env.smtp.wait_for(EMAIL, "Thông báo đổi mật khẩu").await;

    // A later change with the long-term password (no keyring here: log in inline).
    let newer = "Dong-chi-2027#";
    let o = bhxh(&env.server, &["change-password", "--username", USER, "--stdin"], &format!("{new}\n{newer}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = bhxh(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{newer}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The username lookup with the same token.
    let o = bhxh(&env.server, &["lookup-username", "--pin-stdin", "--slot", &rsa], &format!("{DISTINCT_PIN}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(USER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pin_changes_nothing_on_the_server() {
    let env = start().await;
    let rsa = distinct_pin_rsa_slot().to_string();
    let o = bhxh(&env.server, &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa], "000000\n");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("PIN_INCORRECT") && text(&o).contains("Caps Lock"), "{}", text(&o));
    nothing_changed(&env).await;
}

/// A reader with its own keypad (through the named stand-in module `p11shim` over the
/// run's SoftHSM2 tokens: no real part here has a keypad): the CLI says to type the PIN
/// on the reader, reads nothing (standard input is empty) and sends no PIN to the
/// module; the "keypad" logs in with the token's PIN and the recovery goes through.
/// Isolation: the shim's files are this test's own folder; the token is the run's RSA
/// token, which every test here only signs with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_pad_reader_takes_the_pin_and_the_cli_asks_for_none() {
    let env = start().await;
    let rsa = distinct_pin_rsa_slot().to_string();
    let hsm = softhsm();
    let dir = tempfile::tempdir().unwrap();
    let module = bhxh_testkit::build_p11shim(dir.path());
    let (control, log) = (dir.path().join("control"), dir.path().join("log"));
    std::fs::write(&control, "P11SHIM_PINPAD=1\n").unwrap();
    let env_vars = [
        ("SOFTHSM2_CONF", hsm.conf.as_os_str()),
        ("P11SHIM_CONTROL", control.as_os_str()),
        ("P11SHIM_LOG", log.as_os_str()),
        ("P11SHIM_PAD_PIN", std::ffi::OsStr::new(DISTINCT_PIN)),
    ];
    let o =
        bhxh_on(&env.server, &module, &env_vars, &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa], "");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("nhập mã PIN trên bàn phím của đầu đọc"), "the user is told where to type it: {out}");
    assert!(!out.contains("Caps Lock"), "no PIN typing advice for a keypad: {out}");
    env.smtp.wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("C_Login user=1 pin=absent rv=0x0"), "the keypad logged in:\n{log}");
    assert!(!log.contains("pin=given") && !log.contains(DISTINCT_PIN), "no PIN was sent to the module:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_of_another_mst_is_refused_and_nothing_changes() {
    let env = start().await;
    let other = slot("BHXH Other MST").to_string();
    let o =
        bhxh(&env.server, &["recover", "--username", USER, "--pin-stdin", "--slot", &other], &format!("{TEST_PIN}\n"));
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("CERT_NOT_BOUND") && out.contains("Mã tham chiếu: RC-"), "{out}");
    assert!(out.contains("Chứng thư số này không gắn với tài khoản nào."), "the server said which accounts: {out}");
    nothing_changed(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_clear_error() {
    let port = bhxh_testkit::free_port();
    let rsa = distinct_pin_rsa_slot().to_string();
    let o = bhxh(
        &format!("http://127.0.0.1:{port}"),
        &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa],
        &format!("{DISTINCT_PIN}\n"),
    );
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        text(&o).contains("SERVER_UNREACHABLE") && text(&o).contains("Không kết nối được tới máy chủ"),
        "{}",
        text(&o)
    );
    let o = bhxh("http://reset.example.vn", &["--lang", "en", "whoami"], "");
    assert_eq!(o.status.code(), Some(5));
    assert!(text(&o).contains("INSECURE_SERVER_URL") && text(&o).contains("must start with https://"), "{}", text(&o));
}

/// Every file under `dir` (recursively, not through symbolic links: a Wine prefix links
/// to `/`), with its contents.
fn files_under(dir: &Path, into: &mut Vec<(String, Vec<u8>)>) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else if e.file_type().is_ok_and(|t| t.is_file()) {
                into.push((p.display().to_string(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pin_is_nowhere_after_a_recovery() {
    let env = start().await;
    let rsa = distinct_pin_rsa_slot().to_string();
    let recover = bhxh(
        &env.server,
        &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa],
        &format!("{DISTINCT_PIN}\n"),
    );
    assert_eq!(recover.status.code(), Some(0), "{}", text(&recover));
    env.smtp.wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let doctor = bhxh(&env.server, &["doctor", "--json"], "");
    let doctor_text = text(&doctor);
    assert!(doctor_text.contains("\"pkcs11_module\"") && doctor_text.contains(MST), "{doctor_text}");

    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("recover output".into(), text(&recover).into_bytes()),
        ("doctor output".into(), doctor_text.into_bytes()),
        ("server log".into(), std::fs::read(log_file()).unwrap()),
    ];
    files_under(env.data.path(), &mut haystacks);
    assert!(haystacks.len() > 5, "searched too little: {:?}", haystacks.iter().map(|h| &h.0).collect::<Vec<_>>());
    for (name, bytes) in &haystacks {
        assert!(!bytes.windows(DISTINCT_PIN.len()).any(|w| w == DISTINCT_PIN.as_bytes()), "the PIN is in {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_tokens_and_server() {
    let env = start().await;
    let o = bhxh(&env.server, &["doctor"], "");
    let out = text(&o);
    assert!(out.contains("BHXH Test RSA") && out.contains("BHXH Test EC") && out.contains("BHXH Other MST"), "{out}");
    assert!(out.contains("[ ĐẠT ] máy chủ") && out.contains("đồng hồ"), "{out}");
    assert!(
        out.contains("PIN: bình thường") && out.contains("số sê-ri") && !out.contains("serial"),
        "Vietnamese details: {out}"
    );
    // The server's verdict on each certificate, before any PIN: its path to the root.
    assert!(
        out.contains("[ ĐẠT ] xác minh chứng thư")
            && out.contains("BHXH Test Issuing CA < BHXH Test Root CA (gốc tin cậy)"),
        "{out}"
    );
    let o = bhxh(&format!("http://127.0.0.1:{}", bhxh_testkit::free_port()), &["--lang", "en", "doctor"], "");
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("[FAIL ] server") && text(&o).contains("SERVER_UNREACHABLE"), "{}", text(&o));
}

/// `bhxh portal-recover` answering the captcha it saved, as a user reading the image would.
async fn portal_recover(env: &Env, email: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("captcha.png");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bhxh"))
        .args([
            "--server",
            &env.server,
            "portal-recover",
            "--mst",
            MST,
            "--email",
            email,
            "--answer-stdin",
            "--captcha-file",
        ])
        .arg(&image)
        .env("LANG", "vi_VN.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !image.exists() {
        assert!(std::time::Instant::now() < deadline, "no captcha image was saved");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(&std::fs::read(&image).unwrap()[..4], b"\x89PNG");
    let answer = env.captchas.lock().unwrap().last().unwrap().1.clone();
    child.stdin.take().unwrap().write_all(format!("{}\n", answer.to_lowercase()).as_bytes()).unwrap();
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_recovery_with_the_cli() {
    let env = start().await;
    let wrong = portal_recover(&env, "khac@congty.vn").await;
    assert_eq!(wrong.status.code(), Some(4), "{}", text(&wrong));
    assert!(text(&wrong).contains("PORTAL_EMAIL_MISMATCH") && text(&wrong).contains("1900 9068"), "{}", text(&wrong));
    nothing_changed(&env).await;

    let done = portal_recover(&env, EMAIL).await;
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    let out = text(&done);
    assert!(out.contains("ke***@c***.vn") && out.contains("RC-") && out.contains("kích hoạt"), "{out}");
    let mail = env.smtp.wait_for(EMAIL, "cần kích hoạt").await;
    let (_, link) = bhxh_testkit::portal_secrets_in(&mail);
    assert!(link.starts_with(&format!("{}/portal/activate?t=", env.server)), "{link}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tokens_own_ca_certificate_builds_the_path() {
    log_file();
    let rsa = distinct_pin_rsa_slot().to_string();
    // A backend that knows only the root: the issuing CA comes from the token (`chain`).
    let backend = bhxh_server::testing::start(&[(USER, EMAIL)], |c| c.trust_intermediates = None).await;
    let o = bhxh(
        &backend.origin,
        &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa],
        &format!("{DISTINCT_PIN}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let reference = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.split("Mã tham chiếu: ").nth(1).map(str::to_string))
        .unwrap();
    let lines = backend.store.audit_by_reference(reference.trim()).await.unwrap();
    let detail = lines[0]
        .detail
        .as_ref()
        .map(|d| bhxh_server::staff::words::detail(bhxh_protocol::Lang::En, d))
        .unwrap_or_default();
    assert!(detail.contains("BHXH Test Issuing CA < BHXH Test Root CA (anchor)"), "{detail}");
}

/// `bhxh` on opencryptoki's soft token, which locks for real: each PIN state in both
/// languages with its exit code, `--yes-final-try`, `doctor` showing the state, and
/// nothing changed on the server by any of it. (The token is this test's alone while
/// it runs: `bhxh_testkit::opencryptoki()`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_really_locks_step_by_step_with_the_cli() {
    let env = start().await;
    let ock = bhxh_testkit::opencryptoki();
    let run = |args: &[&str], stdin: &str, lang: &str| {
        let args: Vec<&str> = ["--lang", lang].iter().chain(args).copied().collect();
        bhxh_on(&env.server, &ock.module, &[], &args, stdin)
    };
    let recover = ["recover", "--username", USER, "--pin-stdin"];

    // It is read at all (opencryptoki's token clock broke the listing before).
    let o = run(&["doctor"], "", "vi");
    let out = text(&o);
    assert!(out.contains("BHXH OCK RSA") && !out.contains("Error parsing"), "{out}");
    // A right PIN works: RS256 by CKM_RSA_PKCS over a DigestInfo, checked by the server.
    let o = run(&recover, &format!("{TEST_PIN}\n"), "vi");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    env.smtp.wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let mails_before = env.store.list_mail(100).await.unwrap().len();

    // 1st wrong PIN, in Vietnamese.
    let o = run(&recover, "000000\n", "vi");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("PIN_INCORRECT") && text(&o).contains("Mã PIN không đúng"), "{}", text(&o));
    // 2nd, in English: the warning of the first is shown before the PIN is asked.
    let o = run(&recover, "000000\n", "en");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("a wrong PIN was entered before") && text(&o).contains("PIN_INCORRECT"), "{}", text(&o));
    // Final try: without --yes-final-try nothing is tried, in either language.
    for (lang, words) in [("vi", "Chỉ còn một lần nhập mã PIN"), ("en", "One PIN try is left")] {
        let o = run(&recover, &format!("{TEST_PIN}\n"), lang);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        assert!(text(&o).contains("PIN_FINAL_TRY") && text(&o).contains(words), "{}", text(&o));
    }
    assert!(ock.flags().contains("USER_PIN_FINAL_TRY"), "no try was spent: {}", ock.flags());
    let o = run(&["doctor"], "", "en");
    assert!(text(&o).contains("FinalTry"), "{}", text(&o));
    // Confirmed and wrong: locked for real.
    let args = ["recover", "--username", USER, "--pin-stdin", "--yes-final-try"];
    let o = run(&args, "000000\n", "vi");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("PIN_LOCKED") && text(&o).contains("Token đã bị khóa"), "{}", text(&o));
    // Locked: refused before any PIN is asked, in both languages; doctor says so.
    for (lang, words) in [("vi", "Token đã bị khóa"), ("en", "The token is locked")] {
        let o = run(&args, &format!("{TEST_PIN}\n"), lang);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        assert!(text(&o).contains("PIN_LOCKED") && text(&o).contains(words), "{}", text(&o));
    }
    let o = run(&["doctor"], "", "vi");
    assert!(text(&o).contains("PIN: đã bị khóa") && text(&o).contains("PIN_LOCKED"), "{}", text(&o));
    // None of it reached the server beyond challenges: no proof, no mail, no password.
    assert_eq!(env.store.list_mail(100).await.unwrap().len(), mails_before, "a mail was queued");
    let refused: Vec<_> = env
        .store
        .audit_by_username(USER, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == "complete" && e.outcome != "ok")
        .collect();
    assert!(refused.is_empty(), "a failed proof reached the server: {refused:?}");
    ock.reset_user_pin();
}

/// No module chosen: `doctor` finds every middleware installed — SoftHSM2 registered
/// with p11-kit by its Debian package, opencryptoki registered in the user's
/// `~/.config/pkcs11/modules` — loads each, and lists the tokens of both with the module
/// each came from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_without_a_chosen_module_shows_every_module_and_its_tokens() {
    let env = start().await;
    let ock = bhxh_testkit::opencryptoki();
    let hsm = softhsm();
    let home = tempfile::tempdir().unwrap();
    let reg = home.path().join(".config/pkcs11/modules");
    std::fs::create_dir_all(&reg).unwrap();
    std::fs::write(reg.join("opencryptoki.module"), format!("module: {}\n", ock.module.display())).unwrap();
    // A CA's signing plugin listening (on a port of this test's own).
    let plugin = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let plugin_port = plugin.local_addr().unwrap().port();
    let o = Command::new(env!("CARGO_BIN_EXE_bhxh"))
        .args(["--server", &env.server, "--lang", "en", "doctor"])
        .env(
            "BHXH_CA_PLUGIN_PORTS",
            format!("VNPT-CA Plugin={plugin_port},Viettel-CA Plugin={}", bhxh_testkit::free_port()),
        )
        .env("SOFTHSM2_CONF", &hsm.conf)
        .env("HOME", home.path())
        .env_remove("BHXH_PKCS11_MODULE")
        .env_remove("BHXH_SERVER")
        .output()
        .unwrap();
    let out = text(&o);
    assert!(out.contains("libsofthsm2.so") && out.contains("libopencryptoki.so"), "both modules: {out}");
    assert!(out.contains("BHXH OCK RSA") && out.contains("BHXH Test RSA"), "the tokens of both: {out}");
    assert!(out.contains("CA certificate(s) on the token"), "{out}");
    assert!(
        out.contains("running: VNPT-CA Plugin") && !out.contains("Viettel-CA Plugin"),
        "the plugin that answers, only: {out}"
    );
    drop(plugin);
}

/// The link to `path` in a mail (its own line).
fn link_in(mail: &bhxh_testkit::ReceivedMail, path: &str) -> String {
    mail.text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http") && l.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in {:?}", mail.text))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_the_registered_email_with_the_cli() {
    let env = start().await;
    let rsa = distinct_pin_rsa_slot().to_string();
    let new = "ketoan.moi@congty.vn";

    // A mistyped address is refused before the PIN is asked; another business's token
    // after the proof; neither changes anything.
    let o = bhxh(
        &env.server,
        &["change-email", "--username", USER, "--new-email", "ketoan.moi@", "--pin-stdin", "--slot", &rsa],
        "",
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("INVALID_EMAIL"), "{}", text(&o));
    let other = slot("BHXH Other MST").to_string();
    let o = bhxh(
        &env.server,
        &["change-email", "--username", USER, "--new-email", new, "--pin-stdin", "--slot", &other],
        &format!("{TEST_PIN}\n"),
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("CERT_NOT_BOUND"), "{}", text(&o));
    nothing_changed(&env).await;

    let o = bhxh(
        &env.server,
        &["change-email", "--username", USER, "--new-email", new, "--pin-stdin", "--slot", &rsa],
        &format!("{DISTINCT_PIN}\n"),
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("ke***@c***.vn") && out.contains("Mã tham chiếu: RC-") && out.contains("email cũ"), "{out}");
    let link = link_in(&env.smtp.wait_for(new, "Xác nhận email đăng ký mới").await, "/email-change/confirm?t=");
    let (path, t) = link.split_once("?t=").unwrap();
    let t = t.split('&').next().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http.post(path).form(&[("t", t)]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    env.smtp.wait_for(EMAIL, "Thông báo đổi email đăng ký").await;

    // During the waiting period (24 hours; the server's tests shift their clock past it)
    // a recovery still mails the old address.
    let o = bhxh(
        &env.server,
        &["recover", "--username", USER, "--pin-stdin", "--slot", &rsa],
        &format!("{DISTINCT_PIN}\n"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    env.smtp.wait_for(EMAIL, "Mật khẩu tạm thời").await;
    assert!(env
        .smtp
        .mails()
        .iter()
        .all(|m| !(m.to.iter().any(|t| t == new) && m.subject.contains("Mật khẩu tạm thời"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_support_code_from_the_cli_carries_what_it_showed() {
    let env = start().await;
    let config = tempfile::tempdir().unwrap();
    let dir = config.path().as_os_str();
    let hsm = softhsm();
    let run = |args: &[&str], stdin: &str| {
        bhxh_on(
            &env.server,
            &hsm.module,
            &[("SOFTHSM2_CONF", hsm.conf.as_os_str()), ("BHXH_CONFIG_DIR", dir)],
            args,
            stdin,
        )
    };

    // An attempt first, then the code: the desk sees that attempt under this install's id.
    let other = slot("BHXH Other MST").to_string();
    assert_eq!(
        run(&["recover", "--username", USER, "--pin-stdin", "--slot", &other], &format!("{TEST_PIN}\n")).status.code(),
        Some(4)
    );
    // Refused consent sends nothing.
    let o = run(&["support-code"], "k\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Chưa gửi gì"), "{}", text(&o));
    let o = run(&["support-code"], "c\n");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let shown = out.split("----\n").nth(1).expect("the report between the rules").to_string();
    let code = out.lines().find_map(|l| l.strip_prefix("Mã hỗ trợ: ")).expect("the code").trim().to_string();
    let stored = env.support_report(&code).await.expect("stored under the code");
    assert_eq!(stored, shown, "what is stored is what was shown");
    assert!(stored.contains("BHXH Test RSA") && !stored.contains(DISTINCT_PIN));
    // --yes gives the consent for a script.
    let o = run(&["support-code", "--yes"], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let instance = std::fs::read_to_string(config.path().join("instance-id")).unwrap().trim().to_string();
    let lines = env.store.audit_of_instance(&instance, 0, 100).await.unwrap();
    assert!(lines.iter().any(|l| l.event == "complete" && l.error_code() == Some("CERT_NOT_BOUND")), "{lines:?}");
    assert_eq!(lines.iter().filter(|l| l.event == "support.report").count(), 2);
}

/// The same command, built for Windows, under Wine.
#[path = "e2e/wine.rs"]
mod wine;
