//! Portal recovery against the real server, SQLite and a real SMTP server: MST + email +
//! captcha → mail with a new password and an activation link → the link activates it.
//! The captcha wrong / reused / expired; the link reused / expired / superseded; the
//! email mismatch with the hotlines; the rate limits.

use crate::common::*;
use serde_json::{json, Value};

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";
const OLD: &str = "Mat-khau-cu-2025!";

async fn get(srv: &TestServer, url: &str) -> (u16, String) {
    let r = srv.http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn post_form(srv: &TestServer, url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = srv.http.post(url).form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The link's token.
fn token_of(link: &str) -> String {
    link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string()
}

async fn activate(srv: &TestServer, link: &str) -> (u16, String) {
    post_form(srv, &format!("{}/portal/activate", srv.base), &[("t", &token_of(link))]).await
}

async fn nothing_written(srv: &TestServer) {
    let mails = srv.store.list_mail(100).await.unwrap();
    assert!(mails.iter().all(|m| m.kind != "portal-reset"), "a portal mail was queued: {mails:?}");
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    assert!(account.temp_password_hash.is_none());
    assert!(srv.store.pending_activation(account.id, srv.clock.now()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_recovery_end_to_end() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    srv.set_password(USER, OLD).await;
    let (status, before) = srv.login(USER, OLD).await;
    assert_eq!(status, 200, "{before}");
    let old_session = before["session_token"].as_str().unwrap().to_string();

    // The email matches whatever its case.
    let (status, body) = srv.portal(MST, "KeToan@CongTy.vn").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["masked_email"], "ke***@c***.vn");
    let reference = body["reference"].as_str().unwrap().to_string();
    assert!(body["activation_expires_at"].as_str().unwrap().ends_with('Z'));

    let mail = srv.smtp().wait_for(EMAIL, "cần kích hoạt").await;
    let (temp, link) = portal_secrets_in(&mail);
    assert!(mail.text.contains(&reference) && mail.text.contains(USER));
    assert!(link.starts_with(&format!("{}/portal/activate?t=", srv.origin)), "{link}");
    // At rest: neither the password nor the link's token.
    let db = std::fs::read(srv.data.path().join("server/bhxh.db")).unwrap();
    let wal = std::fs::read(srv.data.path().join("server/bhxh.db-wal")).unwrap_or_default();
    for secret in [temp.as_str(), token_of(&link).as_str()] {
        for bytes in [&db, &wal] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "a secret is stored in the clear");
        }
    }

    // Until the link is opened the new password does nothing and the old one works.
    assert_eq!(code(&srv.login(USER, &temp).await.1), "INVALID_CREDENTIALS");
    assert_eq!(srv.login(USER, OLD).await.0, 200);
    // Opening the link (GET) only shows the page; a mail scanner fetching it changes nothing.
    let (status, page) = get(&srv, &link).await;
    assert_eq!(status, 200);
    assert!(page.contains("Kích hoạt mật khẩu mới") && page.contains("data-testid=\"activate\""), "{page}");
    assert_eq!(srv.login(USER, OLD).await.0, 200);

    // The button activates: the old password stops, every session ends, a notice follows.
    let (status, page) = activate(&srv, &link).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Mật khẩu mới đã được kích hoạt"), "{page}");
    assert_eq!(code(&srv.login(USER, OLD).await.1), "INVALID_CREDENTIALS");
    let (status, info) = srv.post_auth("/v1/auth/logout", &old_session, json!({})).await;
    assert_eq!((status, code(&info)), (401, "SESSION_INVALID"), "the session from before survived");
    let notice = srv.smtp().wait_for(EMAIL, "kích hoạt mật khẩu mới").await;
    assert!(!notice.text.contains(&temp));

    let (status, login) = srv.login(USER, &temp).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["must_change_password"], true);

    // The audit log tells the story under the reference.
    let lines = srv.store.audit_by_reference(&reference).await.unwrap();
    assert!(lines.iter().any(|l| l.event == "portal_recover" && l.outcome == "ok"), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_captcha_wrong_reused_expired_or_unknown_is_refused_and_nothing_is_written() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    let recover = |id: String, answer: String| {
        let srv = &srv;
        async move {
            srv.post(
                "/v1/portal/recover",
                json!({"mst": MST, "email": EMAIL, "captcha_id": id, "captcha_answer": answer}),
            )
            .await
        }
    };

    // Wrong: refused, and the captcha is used up, so the right answer no longer helps.
    let (id, answer) = srv.captcha().await;
    let wrong = if answer == "AAAAA" { "BBBBB" } else { "AAAAA" };
    let (status, body) = recover(id.clone(), wrong.into()).await;
    assert_eq!((status, code(&body)), (400, "CAPTCHA_INCORRECT"), "{body}");
    assert!(body["hint"].as_str().unwrap().contains("Đổi mã khác"));
    let (status, body) = recover(id, answer).await;
    assert_eq!((status, code(&body)), (400, "CAPTCHA_USED"), "{body}");

    // Reused after a success.
    let (id, answer) = srv.captcha().await;
    let (status, body) = recover(id.clone(), answer.to_lowercase()).await;
    assert_eq!(status, 200, "lower case is accepted: {body}");
    let (status, body) = recover(id, answer).await;
    assert_eq!((status, code(&body)), (400, "CAPTCHA_USED"), "{body}");

    // Expired after 2 minutes; unknown ids read as expired.
    let srv2 = TestServer::start().await;
    srv2.enrol(USER, MST, EMAIL).await;
    let (id, answer) = srv2.captcha().await;
    srv2.clock.shift(121);
    let (status, body) = srv2
        .post("/v1/portal/recover", json!({"mst": MST, "email": EMAIL, "captcha_id": id, "captcha_answer": answer}))
        .await;
    assert_eq!((status, code(&body)), (400, "CAPTCHA_EXPIRED"), "{body}");
    let (status, body) = srv2
        .post(
            "/v1/portal/recover",
            json!({"mst": MST, "email": EMAIL, "captcha_id": "nope", "captcha_answer": "ABCDE"}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "CAPTCHA_EXPIRED"), "{body}");
    nothing_written(&srv2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_email_or_unknown_mst_gets_the_same_answer_with_the_hotlines() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    let (s1, wrong_email) = srv.portal(MST, "someone@else.vn").await;
    let (s2, unknown_mst) = srv.portal("0309999999", EMAIL).await;
    for (status, body) in [(s1, &wrong_email), (s2, &unknown_mst)] {
        assert_eq!((status, code(body)), (400, "PORTAL_EMAIL_MISMATCH"), "{body}");
        let hint = body["hint"].as_str().unwrap();
        assert!(hint.contains("1900 9068") && hint.contains("1900 5555 64"), "{hint}");
    }
    assert_eq!(wrong_email["message"], unknown_mst["message"]);
    nothing_written(&srv).await;
    // Recorded for staff under the MST.
    let lines = srv.store.audit_by_reference(wrong_email["reference"].as_str().unwrap()).await.unwrap();
    assert_eq!(lines[0].error_code(), Some("PORTAL_EMAIL_MISMATCH"));
    assert_eq!(lines[0].detail, Some(Detail::Portal { mst: "0101234567".into(), disabled: vec![] }));

    // Malformed input is refused before the captcha is spent.
    let (id, answer) = srv.captcha().await;
    let (status, body) = srv
        .post("/v1/portal/recover", json!({"mst": "12345", "email": EMAIL, "captcha_id": id, "captcha_answer": answer}))
        .await;
    assert_eq!((status, code(&body)), (400, "INVALID_MST"));
    let (status, body) = srv
        .post(
            "/v1/portal/recover",
            json!({"mst": MST, "email": "not-an-email", "captcha_id": id, "captcha_answer": answer}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "INVALID_EMAIL"));
    let (status, body) = srv
        .post("/v1/portal/recover", json!({"mst": MST, "email": EMAIL, "captcha_id": id, "captcha_answer": answer}))
        .await;
    assert_eq!(status, 200, "the captcha survived the malformed attempts: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_works_once_and_a_reused_link_changes_nothing() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let (temp, link) = portal_secrets_in(&srv.smtp().wait_for(EMAIL, "cần kích hoạt").await);
    assert_eq!(activate(&srv, &link).await.0, 200);
    let (status, login) = srv.login(USER, &temp).await;
    assert_eq!(status, 200, "{login}");

    for (status, page) in [activate(&srv, &link).await, get(&srv, &link).await] {
        assert_eq!(status, 410, "{page}");
        assert!(page.contains("ACTIVATION_USED") && page.contains("data-testid=\"reference\""), "{page}");
    }
    let (status, page) = activate(&srv, "https://x/portal/activate?t=not-a-token").await;
    assert_eq!(status, 404);
    assert!(page.contains("ACTIVATION_INVALID"));
    // The reused link did not make the used temporary password work again.
    assert_eq!(code(&srv.login(USER, &temp).await.1), "INVALID_CREDENTIALS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_refused_and_its_password_never_works() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    srv.set_password(USER, OLD).await;
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let (temp, link) = portal_secrets_in(&srv.smtp().wait_for(EMAIL, "cần kích hoạt").await);
    srv.clock.shift(30 * 60 + 1);
    let (status, page) = activate(&srv, &link).await;
    assert_eq!(status, 410);
    assert!(page.contains("ACTIVATION_EXPIRED") && page.contains("hết hạn"), "{page}");
    assert_eq!(code(&srv.login(USER, &temp).await.1), "INVALID_CREDENTIALS");
    assert_eq!(srv.login(USER, OLD).await.0, 200, "the old password still works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_request_or_a_token_recovery_supersedes_the_link() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let first = portal_secrets_in(&srv.smtp().wait_for(EMAIL, "cần kích hoạt").await);
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let second = srv.smtp().wait_count(2, std::time::Duration::from_secs(60)).await;
    let second = second
        .iter()
        .filter(|m| m.subject.contains("cần kích hoạt"))
        .map(portal_secrets_in)
        .find(|s| s.1 != first.1)
        .unwrap();

    let (status, page) = activate(&srv, &first.1).await;
    assert_eq!(status, 410);
    assert!(page.contains("ACTIVATION_SUPERSEDED"), "{page}");
    assert_eq!(code(&srv.login(USER, &first.0).await.1), "INVALID_CREDENTIALS");

    // A token recovery also cancels a waiting link.
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = activate(&srv, &second.1).await;
    assert_eq!(status, 410);
    assert!(page.contains("ACTIVATION_SUPERSEDED"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_requests_are_limited_per_mst_and_per_client() {
    let srv = TestServer::start_with(|c| c.limits.per_username = 2).await;
    srv.enrol(USER, MST, EMAIL).await;
    let mut last: (u16, Value) = (0, Value::Null);
    for _ in 0..3 {
        last = srv.portal(MST, "wrong@congty.vn").await;
    }
    assert_eq!((last.0, code(&last.1)), (429, "RATE_LIMITED"), "{}", last.1);
    assert!(last.1["retry_after"].as_u64().unwrap() > 0);
    // Another MST from the same client is not affected by that MST's limit.
    assert_eq!(code(&srv.portal("0309999999", EMAIL).await.1), "PORTAL_EMAIL_MISMATCH");

    let srv = TestServer::start_with(|c| c.limits.per_client = 3).await;
    let mut codes = Vec::new();
    for i in 0..4 {
        let (_, body) = srv
            .post(
                "/v1/portal/recover",
                json!({"mst": format!("030999999{i}"), "email": EMAIL, "captcha_id": "x", "captcha_answer": "y"}),
            )
            .await;
        codes.push(code(&body).to_string());
    }
    assert_eq!(codes.last().map(String::as_str), Some("RATE_LIMITED"), "{codes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activation_page_speaks_english_and_sends_no_referrer() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let (_, link) = portal_secrets_in(&srv.smtp().wait_for(EMAIL, "cần kích hoạt").await);
    // The mailed link opens in Vietnamese, the mail's first language, even for a browser
    // set to English; its switch (lang=en) gives English.
    let page =
        srv.http.get(&link).header("accept-language", "en-US,en;q=0.9").send().await.unwrap().text().await.unwrap();
    assert!(
        link.ends_with("&lang=vi") && page.contains("Kích hoạt mật khẩu mới") && page.contains("lang=\"vi\""),
        "{link}"
    );
    let r = srv.http.get(link.replace("&lang=vi", "&lang=en")).send().await.unwrap();
    let headers = r.headers().clone();
    let page = r.text().await.unwrap();
    assert!(page.contains("Activate the new password") && page.contains("lang=\"en\""), "{page}");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
}

/// One desk, one number: wherever a reference is to be read out (the health answer the
/// app shows it from, the mails, the activation and email-change pages and their
/// errors), the configured hotline and no other; BHXH's lines stay in the hint of a wrong
/// email alone, for the registration file only BHXH holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_desk_one_number_wherever_a_reference_is_read_out() {
    let srv = TestServer::start_with(|c| c.hotline = "1900 6868 99".into()).await;
    srv.enrol(USER, MST, EMAIL).await;
    let health: Value = srv.http.get(format!("{}/v1/health", srv.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["hotline"], "1900 6868 99");

    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let mail = srv.smtp().wait_for(EMAIL, "cần kích hoạt").await;
    let (_, link) = portal_secrets_in(&mail);
    let (_, page) = get(&srv, &link).await;
    let (done_status, done) = activate(&srv, &link).await;
    assert_eq!(done_status, 200, "{done}");
    let notice = srv.smtp().wait_for(EMAIL, "kích hoạt mật khẩu mới").await;
    let (used_status, used) = activate(&srv, &link).await;
    assert_eq!(used_status, 410, "{used}");
    let (_, change_invalid) = get(&srv, &format!("{}/email-change/confirm?t=khong-co", srv.base)).await;
    let (_, cancel_invalid) = get(&srv, &format!("{}/email-change/cancel?t=khong-co&lang=en", srv.base)).await;
    for (what, text, tel) in [
        ("the portal mail", &mail.text, false),
        ("the activation notice", &notice.text, false),
        ("the activation page", &page, true),
        ("a used link's page", &used, true),
        ("an unknown email-change link's page", &change_invalid, true),
        ("the same in English", &cancel_invalid, true),
    ] {
        assert!(text.contains("1900 6868 99"), "{what} does not give the hotline: {text}");
        assert!(!tel || text.contains("href=\"tel:1900686899\""), "{what}: no link to call: {text}");
        for other in ["1900 9068", "1900 5555 64", "1800 1260"] {
            assert!(!text.contains(other), "{what} names {other}: {text}");
        }
    }

    // The wrong email: the BHXH lines, for what only BHXH holds, with no code to read.
    let (_, wrong) = srv.portal(MST, "khac@congty.vn").await;
    let hint = wrong["hint"].as_str().unwrap();
    let bhxh = hint.find("1900 9068").unwrap();
    assert!(hint[bhxh..].contains("không cần mã tham chiếu"), "{hint}");
}
