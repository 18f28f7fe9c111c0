//! The backend's HTML pages in a real browser (Debian chromium through playwright-core,
//! `ui/tests/pages/backend-pages.mjs`): the activation page and the staff console (with
//! the email change at the desk: an agent proposes, a supervisor approves and cancels),
//! against this real server, SQLite and SMTP. Screenshots land in
//! `ui/test-results/screenshots` as test artefacts.

use std::process::Command;

use crate::common::*;
use bhxh_server::passwords::Hasher;
use zeroize::Zeroizing;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_page_and_staff_console_in_chromium() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    let hasher = Hasher::new(&bhxh_server::config::Argon2Config::default()).unwrap();
    bhxh_server::admin::staff_add(
        &srv.store,
        &srv.clock,
        &hasher,
        "hotro.an",
        "Nguyễn Văn An",
        bhxh_server::store::StaffRole::Agent,
        Zeroizing::new("Ban-ho-tro-2026!".into()),
    )
    .await
    .unwrap();
    bhxh_server::admin::staff_add(
        &srv.store,
        &srv.clock,
        &hasher,
        "giamsat.binh",
        "Trần Thị Bình",
        bhxh_server::store::StaffRole::Supervisor,
        Zeroizing::new("Ban-giam-sat-2026!".into()),
    )
    .await
    .unwrap();
    // History for the timeline: a wrong email, then a good request.
    assert_eq!(code(&srv.portal(MST, "khac@congty.vn").await.1), "PORTAL_EMAIL_MISMATCH");
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let (portal_password, link) = portal_secrets_in(&srv.smtp().wait_for(EMAIL, "cần kích hoạt").await);

    // A caller's support code: their report, then an attempt of the same app.
    let instance = "app-instance-0123456789abcdef";
    let report = format!("bhxh-desktop 0.1.0 on windows x86_64\n[ LỖI ] token        BHXH Test RSA, PIN: Locked\n[ ĐẠT ] certificate  CÔNG TY A — MST {MST} — cấp bởi VNPT-CA\nlast error: PIN_LOCKED RC-7F3K-9Q2M\n");
    let issued: serde_json::Value = srv
        .http
        .post(format!("{}/v1/support/reports", srv.base))
        .header(bhxh_protocol::INSTANCE_HEADER, instance)
        .json(&serde_json::json!({"report": report,
            "facts": {"checks": [{"name": "token", "status": "fail", "code": "PIN_LOCKED"}], "last_error": "PIN_LOCKED"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let support_code = issued["support_code"].as_str().expect("a support code").to_string();
    let r = srv
        .http
        .post(format!("{}/v1/recovery/challenge", srv.base))
        .header(bhxh_protocol::INSTANCE_HEADER, instance)
        .json(
            &serde_json::json!({"username": "khong.co", "purpose": "bhxh-password-recovery/v1", "new_email": "x@y.vn"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "an attempt refused for its reason: MALFORMED_REQUEST");

    // The business the MST's certificate names, as a verified proof keeps it (the proof's
    // own path to it is tested over HTTP in staff.rs; a recovery here would change the
    // account the browser then works on).
    srv.store.remember_business_name(MST, "CÔNG TY TNHH THỬ NGHIỆM BHXH", srv.clock.now()).await.unwrap();
    let out = srv.data.path().join("pages.html");
    let spec = srv.data.path().join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({
            "link": link,
            "staffBase": srv.staff_base.clone().unwrap(),
            "staffUser": "hotro.an",
            "staffPassword": "Ban-ho-tro-2026!",
            "supervisorUser": "giamsat.binh",
            "supervisorPassword": "Ban-giam-sat-2026!",
            "newEmail": "ketoan.moi@congty.vn",
            "supportCode": support_code,
            "username": USER,
            "mst": MST,
            "out": out,
        })
        .to_string(),
    )
    .unwrap();
    let ui = bhxh_testkit::root().join("ui");
    let script = ui.join("tests/pages/backend-pages.mjs");
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(script).arg(spec).current_dir(ui).output().expect("node (scripts/test.sh installs it)")
    })
    .await
    .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "the browser run failed:\n{log}");
    for step in [
        "activation page in Vietnamese and English",
        "start a reset",
        "a delivered password mail offers no resend, a notice is resent",
        "an agent records the documents",
        "another staff member, a supervisor, approves",
        "staff cancel an open change",
        "a support code read out with spaces opens the caller's report",
        "a business named without diacritics opens its account",
        "logout ends",
    ] {
        assert!(log.contains(&format!("ok - {step}")), "step {step:?} missing:\n{log}");
    }

    // What the browser did, seen from the database.
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    let timeline = srv.store.audit_by_username(USER, 100).await.unwrap();
    assert!(timeline.iter().any(|l| l.event == "activate" && l.outcome == "ok"), "the link was not used");
    for event in ["staff.unlock", "staff.reset", "staff.resend"] {
        assert!(
            timeline.iter().any(|l| l.event == event && l.actor == Actor::staff("hotro.an", "Nguyễn Văn An")),
            "{event} not audited with the staff name"
        );
    }
    assert!(account.temp_password_hash.is_some());
    // The change at the desk: proposed by the agent, approved by the supervisor, then
    // cancelled; the registered email never changed.
    for (event, actor) in [
        ("staff.email_propose", Actor::staff("hotro.an", "Nguyễn Văn An")),
        ("staff.email_approve", Actor::staff("giamsat.binh", "Trần Thị Bình")),
        ("staff.email_cancel", Actor::staff("giamsat.binh", "Trần Thị Bình")),
    ] {
        assert!(
            timeline.iter().any(|l| l.event == event && l.outcome == "ok" && l.actor == actor),
            "{event} by {actor} missing"
        );
    }
    assert_eq!(account.email, EMAIL);
    let views = srv.store.audit_since(0, 1000).await.unwrap();
    assert!(
        views
            .iter()
            .any(|l| l.event == "staff.support_view" && l.outcome == "ok" && matches!(l.actor, Actor::Staff { .. })),
        "the support page view is audited"
    );
    srv.smtp().wait_for("ketoan.moi@congty.vn", "Xác nhận email đăng ký mới").await;

    // The staff never saw a password: neither the portal one nor the one staff started.
    let staff_mail = srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let staff_password = password_in(&staff_mail);
    let pages = std::fs::read_to_string(&out).unwrap();
    assert!(pages.matches("<!-- page -->").count() >= 6, "too few pages kept");
    for secret in [portal_password.as_str(), staff_password.as_str(), "$argon2"] {
        assert!(!pages.contains(secret), "a staff page showed a secret");
    }
}
