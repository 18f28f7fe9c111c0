//! The whole recovery against the real server, SQLite and a real SMTP server:
//! enrol → challenge → sign → complete → mail → login → must change → change.

use crate::common::*;
use bhxh_protocol::Purpose;
use serde_json::json;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";
const NEW_PASSWORD: &str = "Mua-thu-2026!";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_recovery_end_to_end() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;

    // Complete: the answer shows where the mail went, masked, and when it expires.
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["masked_email"], "ke***@c***.vn");
    assert_eq!(body["delivery"], "email");
    assert!(body.get("temporary_password").is_none());
    let reference = body["reference"].as_str().unwrap().to_string();

    // The mail arrives over SMTP with the password, Vietnamese first.
    let mail = srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let temp = password_in(&mail);
    assert_eq!(temp.chars().count(), 14);
    assert!(mail.text.contains(&reference), "the mail quotes the reference");
    assert!(mail.text.contains("1800 1260"), "the mail names the hotline");
    assert!(mail.text.find("Việc cần làm").unwrap() < mail.text.find("What to do next").unwrap());
    assert!(mail.text.contains(&format!("Tên đăng nhập:  {USER}")), "the mail names the account as the portal's does");
    // One mail per reset: no notice beside it that a user could open first and think
    // the reset failed (the outbox holds this reset's mail and nothing else).
    let mails = srv.store.list_mail(10).await.unwrap();
    assert_eq!(mails.iter().map(|m| m.kind.as_str()).collect::<Vec<_>>(), ["reset"], "{mails:?}");

    // Only hashes at rest: neither the database nor the outbox holds the password.
    let db = std::fs::read(srv.data.path().join("server/bhxh.db")).unwrap();
    let wal = std::fs::read(srv.data.path().join("server/bhxh.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(temp.len()).any(|w| w == temp.as_bytes()), "temporary password found at rest");
    }

    // Login with it: the session may do nothing but change the password.
    let (status, login) = srv.login(USER, &temp).await;
    assert_eq!(status, 200, "{login}");
    assert_eq!(login["must_change_password"], true);
    let token = login["session_token"].as_str().unwrap().to_string();

    // The temporary password can never become the long-term one; the policy holds.
    let (status, body) = srv
        .post_auth("/v1/auth/change-password", &token, json!({"current_password": temp, "new_password": temp}))
        .await;
    assert_eq!((status, code(&body)), (400, "PASSWORD_REUSE"));
    let (status, body) = srv
        .post_auth("/v1/auth/change-password", &token, json!({"current_password": temp, "new_password": "short"}))
        .await;
    assert_eq!((status, code(&body)), (400, "PASSWORD_POLICY"));
    let (status, body) = srv
        .post_auth(
            "/v1/auth/change-password",
            &token,
            json!({"current_password": "wrong", "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "INVALID_CREDENTIALS"));
    let (status, body) = srv
        .post_auth("/v1/auth/change-password", &token, json!({"current_password": temp, "new_password": NEW_PASSWORD}))
        .await;
    assert_eq!(status, 200, "{body}");

    // Every session ended; the notification arrived without any password.
    let (status, body) = srv.post_auth("/v1/auth/logout", &token, json!({})).await;
    assert_eq!((status, code(&body)), (401, "SESSION_INVALID"));
    let changed = srv.smtp().wait_for(EMAIL, "Thông báo đổi mật khẩu").await;
    assert!(!changed.text.contains(&temp) && !changed.text.contains(NEW_PASSWORD));

    // The emailed password is refused; the new one works and needs no change.
    let (status, body) = srv.login(USER, &temp).await;
    assert_eq!((status, code(&body)), (401, "INVALID_CREDENTIALS"));
    let (status, body) = srv.login(USER, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["must_change_password"], false);

    // A second recovery, with the P-256 token: the old password keeps working until the
    // temporary one is used, and is refused after.
    let (status, body) = srv.recover(&SoftToken::load("ec-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    let reference2 = body["reference"].as_str().unwrap().to_string();
    let mail2 = loop {
        let m = srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await;
        if m.text.contains(&reference2) {
            break m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let temp2 = password_in(&mail2);
    assert_ne!(temp, temp2);
    let (status, long_login) = srv.login(USER, NEW_PASSWORD).await;
    assert_eq!(status, 200, "old password still works before the temporary one is used");
    // A session opened with the long-term password must send it to change it: without
    // it the change is refused for that reason, and nothing changes.
    let long_token = long_login["session_token"].as_str().unwrap();
    let (status, body) =
        srv.post_auth("/v1/auth/change-password", long_token, json!({"new_password": "Ke-toan-khac-2027!"})).await;
    assert_eq!((status, code(&body)), (401, "INVALID_CREDENTIALS"), "{body}");
    let refused = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert_eq!(refused[0].detail, Some(Detail::NoCurrentPassword), "{refused:?}");
    let (status, login2) = srv.login(USER, &temp2).await;
    assert_eq!(status, 200);
    assert_eq!(login2["must_change_password"], true);
    let (status, body) = srv.login(USER, NEW_PASSWORD).await;
    assert_eq!(
        (status, code(&body)),
        (401, "INVALID_CREDENTIALS"),
        "old password refused once the temporary one is used"
    );
    let (status, body) = srv.login(USER, &temp2).await;
    assert_eq!((status, code(&body)), (401, "INVALID_CREDENTIALS"), "the temporary password works once");
    let token2 = login2["session_token"].as_str().unwrap();
    let session = srv.http.get(format!("{}/v1/auth/session", srv.base)).bearer_auth(token2).send().await.unwrap();
    let session: serde_json::Value = session.json().await.unwrap();
    assert_eq!(session["must_change_password"], true);
    assert_eq!(session["username"], USER);
    // It is the proof: the app does not ask for the temporary password again.
    let (status, body) =
        srv.post_auth("/v1/auth/change-password", token2, json!({"new_password": "Dong-chi-2027#"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = srv.login(USER, "Dong-chi-2027#").await;
    assert_eq!(status, 200);

    // The audit log has the reset under its reference, without the password.
    let lines = srv.store.audit_by_reference(&reference).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0].event.as_str(), lines[0].outcome.as_str()), ("complete", "ok"));
    assert!(lines[0].cert_fingerprint.is_some());
    let all = srv.store.audit_by_username(USER, 1000).await.unwrap();
    let dump = format!("{all:?}");
    assert!(!dump.contains(&temp) && !dump.contains(&temp2) && !dump.contains(NEW_PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn username_lookup_by_token() {
    let srv = TestServer::start().await;
    srv.enrol("ketoan01", MST, EMAIL).await;
    srv.enrol("ketoan02", MST, "ketoan2@congty.vn").await;
    srv.enrol("khac01", "0309999999", "khac@khac.vn").await;
    let token = SoftToken::load("rsa-valid");
    let ch = srv.challenge("", Purpose::UsernameLookup).await;
    let (status, body) = srv.complete(&token, "", Purpose::UsernameLookup, &ch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["usernames"], json!(["ketoan01", "ketoan02"]));
    // No password was issued and no mail was queued by a lookup.
    assert_eq!(srv.side_effects("ketoan01").await, (0, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_app_delivery_shows_the_password_once_and_mails_only_a_notice() {
    let srv = TestServer::start_with(|c| c.deliver = bhxh_server::config::Delivery::InApp).await;
    srv.enrol(USER, MST, EMAIL).await;
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["delivery"], "in-app");
    let temp = body["temporary_password"].as_str().unwrap().to_string();
    let notice = srv.smtp().wait_for(EMAIL, "Thông báo cấp lại mật khẩu").await;
    assert!(!notice.text.contains(&temp));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(srv.smtp().mails().iter().all(|m| !m.text.contains(&temp)), "the password was mailed");
    let (status, login) = srv.login(USER, &temp).await;
    assert_eq!(status, 200);
    assert_eq!(login["must_change_password"], true);
}

/// A must-change session may change the password without the temporary one, so it must
/// not outlive a newer reset: someone who logged in with a stolen temporary password
/// cannot set the password after the owner got a new one (the reset ends the session).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_reset_ends_the_must_change_session() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    let token = SoftToken::load("rsa-valid");
    let (status, first) = srv.recover(&token, USER).await;
    assert_eq!(status, 200, "{first}");
    // The account's only mail so far.
    let mail = srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await;
    assert!(mail.text.contains(first["reference"].as_str().unwrap()));
    let (status, login) = srv.login(USER, &password_in(&mail)).await;
    assert_eq!((status, login["must_change_password"].as_bool()), (200, Some(true)), "{login}");
    let stolen = login["session_token"].as_str().unwrap().to_string();
    // The owner gets a new temporary password (here with the token; the desk's reset
    // writes it the same way).
    let (status, body) = srv.recover(&token, USER).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        srv.post_auth("/v1/auth/change-password", &stolen, json!({"new_password": "Ke-gian-2027!"})).await;
    assert_eq!((status, code(&body)), (401, "SESSION_INVALID"), "{body}");
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    assert!(
        account.temp_used_at.is_none() && account.temp_password_hash.is_some(),
        "the new temporary password still stands"
    );
}
