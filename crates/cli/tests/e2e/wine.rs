//! `bhxh.exe`, the Windows build (`scripts/build-windows.sh`), run under Debian's Wine
//! against the Linux server of these tests on loopback: the Windows code paths for real —
//! `%APPDATA%` of a user named "Nguyễn Văn A" (letters with diacritics, spaces), the session
//! in the Windows Credential Manager (keyring's Windows backend over Wine's
//! `CredWrite`/`CredRead`), module discovery in `System32`, `SysWOW64` and
//! `Program Files`, the smart-card service that does not answer, exit codes, and UTF-8
//! output whatever the console's code page.
//!
//! Isolation: one Wine prefix for this test process (`bhxh_testkit::wine`), booted once;
//! each test has its own backend (so its own origin and its own credential in the
//! prefix's Credential Manager, and its own audit lines of the installation's id, which
//! the tests share as the programs of one user do). Only the module and installer tests
//! write into the prefix's system or program folders, and only files no other test looks
//! for.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use bhxh_testkit::wine::{windows_exe, wine, Wine};
use serde_json::Value;

use super::{start, text, Env, EMAIL, USER};

/// `bhxh.exe --server S ARGS` under Wine with `stdin`, with no module or server from
/// the environment.
fn bhxh_exe(server: &str, args: &[&str], stdin: &str) -> Output {
    let w = wine();
    let mut all: Vec<&OsStr> = vec![OsStr::new("--server"), OsStr::new(server)];
    all.extend(args.iter().map(OsStr::new));
    w.run(
        &windows_exe("bhxh.exe"),
        &all,
        &[("BHXH_SERVER", OsStr::new("")), ("BHXH_PKCS11_MODULE", OsStr::new(""))],
        stdin,
    )
}

/// `C:\users\Nguyễn Văn A\REST` as a Windows path.
fn in_profile(rest: &str) -> String {
    format!(r"C:\users\{}\{rest}", bhxh_testkit::wine::USER)
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}): {}", text(o)))
}

fn check<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    report["checks"].as_array().unwrap().iter().filter(|c| c["name"] == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_doctor_json_and_the_smart_card_service_that_does_not_answer() {
    let env = start().await;
    let w = wine();

    let o = bhxh_exe(&env.server, &["doctor", "--json"], "");
    // No token (module, reader): the token exit code, with every check in Vietnamese.
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let report = json_of(&o);
    assert_eq!(report["server"], env.server.as_str());
    let server = check(&report, "server");
    assert_eq!(server[0]["status"], "ok", "the Linux server answers the Windows client: {report:#}");
    // Wine's winscard.dll has no smart-card service behind it (SCardEstablishContext is a
    // stub there, as the service is absent on a Windows without a reader): that is what
    // the user is told, never that the token failed.
    let readers = check(&report, "readers");
    assert_eq!(readers[0]["code"], "READER_SERVICE_UNAVAILABLE", "{report:#}");
    assert_eq!(readers[0]["detail"], "Dịch vụ đọc thẻ thông minh (PC/SC) không chạy.");
    assert!(readers[0]["fix"].as_str().unwrap().contains("services.msc"), "{report:#}");
    assert!(!o.stdout.windows(12).any(|b| b == b"TOKEN_FAILUR"), "{}", text(&o));
    let module = check(&report, "pkcs11_module");
    assert_eq!(module[0]["code"], "MODULE_NOT_FOUND", "{report:#}");
    // The installation's id lives in %APPDATA%\bhxh, under the Vietnamese profile name.
    let id = std::fs::read_to_string(w.profile().join("AppData/Roaming/bhxh/instance-id"))
        .expect("instance-id in %APPDATA%\\bhxh");
    assert!(bhxh_protocol::valid_instance(id.trim()), "{id}");

    // In English on request, and the same machine-readable codes.
    let o = bhxh_exe(&env.server, &["--lang", "en", "doctor", "--json"], "");
    let report = json_of(&o);
    assert_eq!(check(&report, "readers")[0]["detail"], "The smart-card service (PC/SC) is not running.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_module_discovery_reports_and_skips_what_is_not_a_pkcs11_module() {
    let env = start().await;
    let w = wine();
    // DLLs under the VN CA table's names that are not PKCS#11 modules (real PE DLLs with
    // no C_GetFunctionList): a 64-bit one in System32, one in SysWOW64 (where a 64-bit
    // program cannot load what it finds), one in a vendor's Program Files folder, its
    // name in capitals as some installers write it (Windows compares names without case).
    let not_a_module = w.drive_c().join("windows/system32/bcryptprimitives.dll");
    let placed = [
        r"C:\windows\system32\vnpt-ca_csp11.dll",
        r"C:\windows\syswow64\eps2003csp11.dll",
        r"C:\Program Files\Viettel-CA\Token Manager\Viettel-CA_v6.DLL",
    ];
    for p in placed {
        let target = w.on_c(p);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&not_a_module, &target).unwrap();
    }
    let o = bhxh_exe(&env.server, &["doctor", "--json"], "");
    let report = json_of(&o);
    let skipped: Vec<String> = report["skipped_modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_lowercase())
        .collect();
    for p in
        ["system32\\vnpt-ca_csp11.dll", "syswow64\\eps2003csp11.dll", "viettel-ca\\token manager\\viettel-ca_v6.dll"]
    {
        assert!(skipped.iter().any(|s| s.ends_with(p)), "{p} is reported as skipped: {report:#}");
    }
    // Each one a warning naming its file; then, none being usable, one failure.
    let checks = check(&report, "pkcs11_module");
    assert!(checks.iter().all(|c| c["code"] == "MODULE_LOAD_FAILED"), "{report:#}");
    let warnings: Vec<_> = checks.iter().filter(|c| c["status"] == "warn").collect();
    assert!(warnings.len() >= 3, "{report:#}");
    assert!(
        warnings.iter().any(|c| c["detail"]
            .as_str()
            .unwrap()
            .starts_with(r"C:\Program Files\Viettel-CA\Token Manager\Viettel-CA_v6.DLL: bỏ qua")),
        "{report:#}"
    );
    assert_eq!(checks.iter().filter(|c| c["status"] == "fail").count(), 1, "{report:#}");
    assert!(
        !report.to_string().contains(r"\\?\\"),
        "paths as the user knows them, not Windows' verbatim form: {report:#}"
    );
    // Nothing crashed: the token exit code (no token), the server still checked.
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(check(&report, "server")[0]["status"], "ok");
    for p in placed {
        let _ = std::fs::remove_file(w.on_c(p));
    }
}

/// `bhxh.exe portal-recover`, answering the captcha it saved where the user asked (a
/// Vietnamese folder name with spaces), as a user reading the image would.
async fn portal_recover(env: &Env, email: &str) -> Output {
    let w = wine();
    let image_win = in_profile(r"Desktop\mã xác nhận.png");
    let image = w.on_c(&image_win);
    std::fs::create_dir_all(image.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&image);
    let exe = windows_exe("bhxh.exe");
    let mut cmd = w.command(exe.as_os_str());
    cmd.args([
        "--server",
        &env.server,
        "portal-recover",
        "--mst",
        bhxh_testkit::MST,
        "--email",
        email,
        "--answer-stdin",
        "--captcha-file",
        &image_win,
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    wait_for_file(&image).await;
    assert_eq!(&std::fs::read(&image).unwrap()[..4], b"\x89PNG");
    let answer = env.captchas.lock().unwrap().last().unwrap().1.clone();
    child.stdin.take().unwrap().write_all(format!("{}\n", answer.to_lowercase()).as_bytes()).unwrap();
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap()
}

/// Waits for a file a program under Wine writes (Wine starts slowly on a busy machine).
async fn wait_for_file(path: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !path.is_file() || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) < 8 {
        assert!(std::time::Instant::now() < deadline, "{} was not written within 90 s", path.display());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_portal_login_forced_change_and_the_credential_manager() {
    let env = start().await;
    let w = wine();

    // A wrong email: the refusal, its exit code, the hotline; nothing changes.
    let o = portal_recover(&env, "khac@congty.vn").await;
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("PORTAL_EMAIL_MISMATCH"), "{}", text(&o));
    super::nothing_changed(&env).await;

    // The registered email: a new password and the activation link.
    let o = portal_recover(&env, EMAIL).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("kích hoạt"), "{}", text(&o));
    let mail = env.smtp.wait_for(EMAIL, "cần kích hoạt").await;
    let (password, link) = bhxh_testkit::portal_secrets_in(&mail);
    env.activate(&link).await;

    // Log in with it: the change is asked for in the same run; the session that is left
    // is kept in the Credential Manager, which a second process reads back.
    let new = "Gio-mua-2026!";
    let o = bhxh_exe(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{password}\n{new}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Đã đổi mật khẩu"), "{}", text(&o));
    let o = bhxh_exe(&env.server, &["login", "--username", USER, "--password-stdin"], &format!("{new}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("KEYRING_UNAVAILABLE"), "the Credential Manager keeps the session: {}", text(&o));
    let o = bhxh_exe(&env.server, &["whoami"], "");
    assert_eq!(o.status.code(), Some(0), "a second process finds the session: {}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("Tên đăng nhập: {USER}")), "{}", text(&o));
    // Where Windows keeps it: a generic credential named after the backend, in the
    // prefix's store (Wine keeps Credential Manager entries under HKCU), never the password.
    let store = w.reg(&["query", r"HKCU\Software\Wine\Credential Manager", "/s"]);
    let listing = String::from_utf8_lossy(&store.stdout);
    assert!(listing.contains(&env.server), "the credential is named after the backend: {listing}");
    assert!(!listing.contains(new), "{listing}");

    // Logging out removes it.
    let o = bhxh_exe(&env.server, &["logout"], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = bhxh_exe(&env.server, &["whoami"], "");
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("NOT_LOGGED_IN"), "{}", text(&o));
    let listing =
        String::from_utf8_lossy(&w.reg(&["query", r"HKCU\Software\Wine\Credential Manager", "/s"]).stdout).to_string();
    assert!(!listing.contains(&env.server), "{listing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_support_code_exit_codes_and_utf8_whatever_the_code_page() {
    let env = start().await;
    let w = wine();

    // The support code: the report that was shown is what the desk reads, and it says
    // the program ran on Windows.
    let o = bhxh_exe(&env.server, &["support-code", "--yes"], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let shown = out.split("----\n").nth(1).expect("the report between the rules").to_string();
    let code = out.lines().find_map(|l| l.strip_prefix("Mã hỗ trợ: ")).expect("the code").trim().to_string();
    let stored = env.support_report(&code).await.expect("stored under the code");
    assert_eq!(stored, shown);
    assert!(stored.contains("trên windows x86_64"), "{stored}");
    let instance =
        std::fs::read_to_string(w.profile().join("AppData/Roaming/bhxh/instance-id")).unwrap().trim().to_string();
    let lines = env.store.audit_of_instance(&instance, 0, 100).await.unwrap();
    assert_eq!(lines.iter().filter(|l| l.event == "support.report").count(), 1, "{lines:?}");

    // Exit codes: usage 2, refused 4, unreachable 5.
    let o = bhxh_exe(&env.server, &["recover"], "");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = bhxh_exe(&env.server, &["whoami"], "");
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let port = bhxh_testkit::free_port();
    let image = in_profile(r"Desktop\captcha.png");
    let o = bhxh_exe(
        &format!("http://127.0.0.1:{port}"),
        &["portal-recover", "--mst", bhxh_testkit::MST, "--email", EMAIL, "--captcha-file", &image],
        "",
    );
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(text(&o).contains("SERVER_UNREACHABLE"), "{}", text(&o));

    // Output to a file from a batch file in cmd.exe, under the Western ANSI code page
    // (1252, which has no Vietnamese letters) and the OEM one (437): UTF-8 either way,
    // full diacritics. (Wine 8's chcp knows no 1258.)
    for cp in ["1252", "437"] {
        let out_win = format!(r"C:\doctor-{cp}.txt");
        let out = w.on_c(&out_win);
        let exe = format!(r"Z:{}", windows_exe("bhxh.exe").display().to_string().replace('/', "\\"));
        let batch = format!("chcp {cp} >nul\r\n{exe} --server {} doctor > {out_win}\r\n", env.server);
        std::fs::write(w.on_c(&format!(r"C:\doctor-{cp}.bat")), batch).unwrap();
        let o = w.command(OsStr::new("cmd")).args(["/c", &format!(r"C:\doctor-{cp}.bat")]).output().unwrap();
        let written = std::fs::read(&out).unwrap_or_else(|e| panic!("cmd wrote no {out_win} ({e}): {}", text(&o)));
        let s = String::from_utf8(written).expect("UTF-8 in the file");
        assert!(s.contains("Dịch vụ đọc thẻ thông minh (PC/SC) không chạy."), "{s}");
        assert!(s.contains("thư viện điều khiển"), "{s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_token_recovery_through_a_pkcs11_module_built_for_windows() {
    let env = start().await;
    let w = wine();
    // SoftHSM2 built for Windows (mingw-w64, its own OpenSSL) where a CA's installer puts
    // its middleware, with two tokens of this test's own; the RSA one's PIN is one nothing
    // else in the run contains, so it can be searched for afterwards.
    let hsm = w.softhsm("rsa other");
    bhxh_testkit::change_pin_in(&hsm.linux_conf, "BHXH Test RSA", bhxh_testkit::TEST_PIN, super::DISTINCT_PIN);
    let run = |args: &[&str], stdin: &str| {
        let mut all: Vec<&OsStr> =
            vec![OsStr::new("--server"), OsStr::new(&env.server), OsStr::new("--module"), OsStr::new(&hsm.module)];
        all.extend(args.iter().map(OsStr::new));
        let vars = [
            ("BHXH_SERVER", OsStr::new("")),
            ("BHXH_PKCS11_MODULE", OsStr::new("")),
            ("SOFTHSM2_CONF", OsStr::new(&hsm.conf)),
        ];
        w.run(&windows_exe("bhxh.exe"), &all, &vars, stdin)
    };

    // doctor through the Windows module: both tokens, their certificates, the module by
    // its Windows path (spaces in it).
    let doctor = run(&["doctor", "--json"], "");
    let report = json_of(&doctor);
    let tokens = report["tokens"].as_array().unwrap();
    let slot_of = |label: &str| {
        tokens.iter().find(|t| t["label"] == label).unwrap_or_else(|| panic!("{label} is listed: {report:#}"))
            ["slot_id"]
            .as_u64()
            .unwrap()
            .to_string()
    };
    let (rsa, other) = (slot_of("BHXH Test RSA"), slot_of("BHXH Other MST"));
    assert!(report.to_string().contains(r"C:\\Program Files\\SoftHSM2\\lib\\softhsm2-x64.dll"), "{report:#}");
    assert_eq!(check(&report, "server")[0]["status"], "ok", "{report:#}");

    // Two tokens, no choice made: the CLI asks which, touching neither.
    let o = run(&["recover", "--username", USER, "--pin-stdin"], &format!("{}\n", super::DISTINCT_PIN));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("SEVERAL_TOKENS"), "{}", text(&o));
    // A wrong PIN: the token refuses it, the user is told in Vietnamese, nothing changes.
    let o = run(&["recover", "--username", USER, "--pin-stdin", "--slot", &rsa], "000000\n");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("PIN_INCORRECT") && text(&o).contains("Caps Lock"), "{}", text(&o));
    super::nothing_changed(&env).await;
    // A token of another company: signed on Windows, refused by the server for its MST.
    let o = run(
        &["recover", "--username", USER, "--pin-stdin", "--slot", &other],
        &format!("{}\n", bhxh_testkit::TEST_PIN),
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("CERT_NOT_BOUND"), "{}", text(&o));
    super::nothing_changed(&env).await;

    // The recovery: the certificate shown, the challenge signed by the Windows module,
    // the server's checks passed, the new password mailed.
    let o = run(&["recover", "--username", USER, "--pin-stdin", "--slot", &rsa], &format!("{}\n", super::DISTINCT_PIN));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("CÔNG TY TNHH THỬ NGHIỆM BHXH") && out.contains(bhxh_testkit::MST),
        "the certificate is shown: {out}"
    );
    assert!(out.contains("ke***@c***.vn") && out.contains("RC-"), "{out}");
    let mail = env.smtp.wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let temp = bhxh_testkit::password_in(&mail);
    // Logging in with it demands the change at once, in the same run.
    let new = "Tet-Binh-Ngo-2026!";
    let o = run(&["login", "--username", USER, "--password-stdin"], &format!("{temp}\n{new}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("Đã đổi mật khẩu"), "{}", text(&o));
    // The new password is hers from now on.
    let o = run(&["login", "--username", USER, "--password-stdin"], &format!("{new}\n"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = run(&["logout"], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // The PIN is nowhere in Windows: not in any file of the prefix (profile, program
    // data, the module's tokens), not in its registry, not in what was printed.
    let mut haystacks =
        vec![("recover output".to_string(), out.into_bytes()), ("doctor output".to_string(), doctor.stdout.clone())];
    super::files_under(w.prefix(), &mut haystacks);
    assert!(haystacks.iter().any(|(n, _)| n.ends_with("user.reg")) && haystacks.len() > 100, "searched too little");
    for (name, bytes) in &haystacks {
        for needle in [
            super::DISTINCT_PIN.as_bytes().to_vec(),
            super::DISTINCT_PIN.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ] {
            assert!(!bytes.windows(needle.len()).any(|b| b == needle.as_slice()), "the PIN is in {name}");
        }
    }
}

/// A registry key as `reg export` writes it (UTF-16), as text.
fn reg_export(w: &Wine, key: &str) -> Option<String> {
    let file = w.drive_c().join("export.reg");
    let _ = std::fs::remove_file(&file);
    let o = w.reg(&["export", key, r"C:\export.reg", "/y"]);
    if !o.status.success() {
        return None;
    }
    let bytes = std::fs::read(&file).ok()?;
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    Some(String::from_utf16_lossy(&units))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_installer_per_user_with_its_start_menu_entry_and_a_clean_uninstall() {
    let env = start().await;
    // A prefix of its own: installing and removing the product must not touch the
    // folders the other tests of this process share.
    let w = Wine::fresh("installer");
    let setup = windows_exe(&format!("Lay-lai-mat-khau-BHXH_{}_x64-setup.exe", env!("CARGO_PKG_VERSION")));
    let product = "Lấy lại mật khẩu BHXH";
    let installed = w.profile().join("AppData/Local/Programs").join(product);
    let entry =
        w.profile().join("AppData/Roaming/Microsoft/Windows/Start Menu/Programs").join(format!("{product}.lnk"));
    let uninstall_key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\vn.bhxh.recovery";
    let webview2_key = r"HKCU\Software\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}";

    // Wine has no WebView2 runtime and this machine no Internet: the installer cannot get
    // the runtime, says so (a message box, answered by /S) and installs nothing.
    let o = w.run(&setup, &[OsStr::new("/S")], &[], "");
    w.wait_server();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!installed.exists() && !entry.exists(), "nothing is installed without the runtime");
    assert!(reg_export(&w, uninstall_key).is_none());

    // With the runtime registered (a stand-in: the key and version the WebView2 runtime's
    // own installer writes per user; no runtime can be installed here), a silent install
    // per user, without administrator rights.
    let o = w.reg(&["add", webview2_key, "/v", "pv", "/t", "REG_SZ", "/d", "131.0.2903.86", "/f"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = w.run(&setup, &[OsStr::new("/S")], &[], "");
    w.wait_server();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in ["bhxh-desktop.exe", "WebView2Loader.dll", "bhxh.exe", "uninstall.exe"] {
        assert!(installed.join(f).is_file(), "{f} in %LOCALAPPDATA%\\Programs\\{product}");
    }
    assert!(!installed.join("bcryptprimitives.dll").exists(), "the test rig's DLL is never shipped");
    assert!(entry.is_file(), "the Start-menu entry {product} (what Windows search finds)");
    // Apps & Features: the name with its diacritics, the version, the uninstaller.
    let key = reg_export(&w, uninstall_key).expect("the Apps & Features entry");
    assert!(key.contains(&format!("\"DisplayName\"=\"{product}\"")), "{key}");
    assert!(key.contains(&format!("\"DisplayVersion\"=\"{}\"", env!("CARGO_PKG_VERSION"))), "{key}");
    assert!(key.contains("uninstall.exe"), "{key}");

    // The installed CLI runs from its folder (Vietnamese letters and spaces in the path)
    // and reaches the server.
    let o = w.run(
        &installed.join("bhxh.exe"),
        &[OsStr::new("--server"), OsStr::new(&env.server), OsStr::new("doctor"), OsStr::new("--json")],
        &[],
        "",
    );
    let report = json_of(&o);
    assert_eq!(check(&report, "server")[0]["status"], "ok", "{report:#}");
    let profile_data = w.profile().join("AppData/Roaming/bhxh");
    assert!(profile_data.join("instance-id").is_file());

    // The uninstaller (it copies itself to %TEMP% and runs from there: wait for the
    // prefix's processes to end) leaves no file, no entry and no registration behind.
    let o = w.run(&installed.join("uninstall.exe"), &[OsStr::new("/S")], &[], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    w.wait_server();
    assert!(
        !installed.exists(),
        "the program folder is gone: {:?}",
        std::fs::read_dir(&installed).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
    assert!(!entry.exists() && !profile_data.exists());
    assert!(reg_export(&w, uninstall_key).is_none(), "the Apps & Features entry is gone");
}
