//! Support codes against the real server (SQLite, and PostgreSQL for the main path) and
//! its staff console over HTTP: a caller's report stored sealed under a code, opened by
//! staff with the attempts of the same app instance since, gone after an hour; every
//! lookup audited; unknown, mistyped and expired codes answered alike; the limits.

use crate::common::*;
use crate::staff::Console;
use bhxh_protocol::Purpose;
use serde_json::{json, Value};

const USER: &str = "ketoan01";
const INSTANCE: &str = "app-instance-0123456789abcdef";
const REPORT: &str = "bhxh-desktop 0.1.0 on linux x86_64\n[ LỖI ] token        BHXH Test RSA (SoftHSM), PIN: Locked — …\n[ ĐẠT ] certificate  CÔNG TY B — MST 0309999999 — cấp bởi VNPT-CA\n[ ĐẠT ] server       http://127.0.0.1\nlast error: PIN_LOCKED RC-7F3K-9Q2M\n";

/// The same report's checks as values, as the app sends them beside its text.
fn facts() -> Value {
    json!({"checks": [{"name": "token", "status": "fail", "code": "PIN_LOCKED"}, {"name": "server", "status": "ok"}],
           "last_error": "PIN_LOCKED"})
}

async fn send(srv: &TestServer, instance: Option<&str>, report: &str) -> (u16, Value) {
    let mut req =
        srv.http.post(format!("{}/v1/support/reports", srv.base)).json(&json!({"report": report, "facts": facts()}));
    if let Some(i) = instance {
        req = req.header(bhxh_protocol::INSTANCE_HEADER, i);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn desk(srv: &TestServer) -> Console {
    let hasher = bhxh_server::passwords::Hasher::new(&bhxh_server::config::Argon2Config::default()).unwrap();
    bhxh_server::admin::staff_add(
        &srv.store,
        &srv.clock,
        &hasher,
        "hotro.an",
        "Nguyễn Văn An",
        bhxh_server::store::StaffRole::Agent,
        zeroize::Zeroizing::new("Ban-ho-tro-2026!".into()),
    )
    .await
    .unwrap();
    let mut c = Console::new(srv);
    assert_eq!(c.login("hotro.an", "Ban-ho-tro-2026!").await.0, 303);
    c
}

/// A recovery attempt from `instance` with another business's token (refused).
async fn attempt(srv: &TestServer, instance: &str) {
    let token = SoftToken::load("other-mst");
    let (status, ch) =
        srv.post("/v1/recovery/challenge", json!({"username": USER, "purpose": "bhxh-password-recovery/v1"})).await;
    assert_eq!(status, 200);
    let ch: bhxh_protocol::wire::ChallengeResponse = serde_json::from_value(ch).unwrap();
    let sig = token.sign(&bhxh_protocol::to_be_signed(Purpose::PasswordRecovery, &ch.origin, USER, &ch.nonce));
    let body = json!({"challenge_id": ch.challenge_id, "username": USER, "purpose": "bhxh-password-recovery/v1",
        "certificate": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &token.cert_der), "algorithm": token.alg,
        "signature": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &sig)});
    let r = srv
        .http
        .post(format!("{}/v1/recovery/complete", srv.base))
        .header(bhxh_protocol::INSTANCE_HEADER, instance)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

async fn the_desk_sees_what_the_caller_sent(srv: TestServer) {
    srv.enrol(USER, MST, "ketoan@congty.vn").await;
    srv.enrol("ketoan09", "0309999999", "ketoan09@congtyb.vn").await;
    let console = desk(&srv).await;
    // An attempt too long before the report, then the refusal that made the caller send it.
    attempt(&srv, INSTANCE).await;
    srv.clock.shift(31 * 60);
    attempt(&srv, INSTANCE).await;
    let (status, body) = send(&srv, Some(INSTANCE), REPORT).await;
    assert_eq!(status, 200, "{body}");
    let code = body["support_code"].as_str().unwrap().to_string();
    assert!(bhxh_protocol::SupportCode::parse(&code).is_some() && code.starts_with("HT-"), "{code}");
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));

    // Attempts of that app after the code, and one of another app.
    attempt(&srv, INSTANCE).await;
    attempt(&srv, "another-instance-0123456789").await;

    // The search box takes the code as the caller reads it.
    let spoken = code.to_lowercase().replace('-', " ");
    let (status, _, location) = console.get(&format!("/?q={}", spoken.replace(' ', "+"))).await;
    assert_eq!((status, location.as_deref()), (303, Some(format!("/support/{code}").as_str())));
    let (status, page, _) = console.get(&format!("/support/{code}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("PIN: Locked") && page.contains("http-equiv=\"refresh\""), "the report, reloaded");
    assert!(page.contains("điểm giao dịch"), "the next step for a locked token");
    assert_eq!(
        page.matches("data-event=\"complete\"").count(),
        2,
        "this app's attempts from 30 minutes before the report on, no other app's: {page}"
    );
    assert!(page.contains("CERT_NOT_BOUND"));
    // The accounts to open: the one the app tried, then the one of the report's MST.
    assert_eq!(page.matches("data-testid=\"support-account\"").count(), 2, "{page}");
    assert!(page.contains("href=\"/account/ketoan01\" data-testid=\"support-account\">ketoan01</a> <span class=\"muted\">(ứng dụng này đã thử)"), "{page}");
    assert!(page.contains("href=\"/account/ketoan09\" data-testid=\"support-account\">ketoan09</a> <span class=\"muted\">(theo MST trong báo cáo)"), "{page}");
    // Viewing is audited with who looked, without the code.
    let all = srv.store.audit_since(0, 1000).await.unwrap();
    assert!(all.iter().any(|l| l.event == "staff.support_view"
        && l.outcome == "ok"
        && l.actor == Actor::staff("hotro.an", "Nguyễn Văn An")));
    assert!(all.iter().all(|l| !detail_en(&l.detail).contains(&code[3..])), "no audit line holds the code");

    // Sealed at rest: the database holds no word of the report.
    let key = bhxh_server::mail::OutboxKey::load_or_create(&srv.data.path().join("server")).unwrap();
    let parsed = bhxh_protocol::SupportCode::parse(&code).unwrap();
    let row = srv
        .store
        .support_report(&bhxh_server::support::code_hash(&key, &parsed), srv.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        row.code_hash,
        bhxh_server::passwords::token_hash(&parsed.digits()),
        "the stored hash is keyed, not a plain hash of nine digits"
    );
    assert!(!String::from_utf8_lossy(&row.sealed).contains("PIN: Locked"));

    // An hour later the code is gone, answered like one never made.
    srv.clock.shift(3601);
    let mut console = console;
    assert_eq!(console.login("hotro.an", "Ban-ho-tro-2026!").await.0, 303);
    let (status, expired, _) = console.get(&format!("/support/{code}")).await;
    assert!(status == 404 && expired.contains("SUPPORT_CODE_UNKNOWN"), "{status}");
    // And the purge (the server's own, or this one) deletes it.
    srv.store.purge(srv.clock.now(), &bhxh_server::config::RetentionConfig::default()).await.unwrap();
    assert!(srv.store.support_report(&row.code_hash, 0).await.unwrap().is_none(), "the expired report is still stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_sees_what_the_caller_sent_on_sqlite() {
    the_desk_sees_what_the_caller_sent(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_sees_what_the_caller_sent_on_postgres() {
    let url = postgres_database();
    the_desk_sees_what_the_caller_sent(TestServer::start_with(move |c| c.database_url = url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_mistyped_and_expired_codes_are_answered_alike() {
    let srv = TestServer::start().await;
    let console = desk(&srv).await;
    let never = bhxh_protocol::SupportCode::new().to_string();
    let (s1, p1, _) = console.get(&format!("/support/{never}")).await;
    let mistyped = format!("{}0", &never[..never.len() - 1]);
    let mistyped = if bhxh_protocol::SupportCode::parse(&mistyped).is_some() {
        format!("{}1", &never[..never.len() - 1])
    } else {
        mistyped
    };
    let (s2, p2, _) = console.get(&format!("/support/{mistyped}")).await;
    assert_eq!((s1, s2), (404, 404));
    assert!(p1.contains("SUPPORT_CODE_UNKNOWN") && p2.contains("SUPPORT_CODE_UNKNOWN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_refused_for_its_reason_and_codes_are_limited() {
    // Every request counts against the client's limit, refused or not: five here.
    let srv = TestServer::start_with(|c| c.support.codes_per_client_per_hour = 5).await;
    let (status, body) = send(&srv, None, REPORT).await;
    assert_eq!((status, code(&body)), (400, "MALFORMED_REQUEST"), "an app must say which instance it is");
    let (status, body) = send(&srv, Some("short"), REPORT).await;
    assert_eq!((status, code(&body)), (400, "MALFORMED_REQUEST"), "an id that is not one is no id");
    let (status, body) = send(&srv, Some(INSTANCE), "  \n ").await;
    assert_eq!((status, code(&body)), (400, "MALFORMED_REQUEST"));
    let (status, body) = send(&srv, Some(INSTANCE), "a\u{1b}[31mred").await;
    assert_eq!((status, code(&body)), (400, "MALFORMED_REQUEST"));
    let (status, body) = send(&srv, Some(INSTANCE), &"x".repeat(40 * 1024)).await;
    assert_eq!((status, code(&body)), (413, "BODY_TOO_LARGE"));
    // The five refusals counted: a sixth request, good or not, waits for the hour.
    let (status, body) = send(&srv, Some(INSTANCE), REPORT).await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    assert!(srv.store.audit_since(0, 100).await.unwrap().iter().filter(|l| l.event == "support.report").count() >= 5);

    // Staff lookups are limited too.
    let srv = TestServer::start_with(|c| c.support.lookups_per_staff = 2).await;
    let console = desk(&srv).await;
    let code = send(&srv, Some(INSTANCE), REPORT).await.1["support_code"].as_str().unwrap().to_string();
    for _ in 0..2 {
        assert_eq!(console.get(&format!("/support/{code}")).await.0, 200);
    }
    let (status, page, _) = console.get(&format!("/support/{code}")).await;
    assert!(status == 429 && page.contains("RATE_LIMITED"), "{status}");
}

/// A report from `addr` (the test's proxy says so).
async fn send_from(srv: &TestServer, addr: &str) -> (u16, Value) {
    let r = srv
        .http
        .post(format!("{}/v1/support/reports", srv.base))
        .header("x-forwarded-for", addr)
        .header(bhxh_protocol::INSTANCE_HEADER, INSTANCE)
        .json(&json!({"report": REPORT, "facts": facts()}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// A site's network is one budget, whatever number of addresses it holds: the /64s of
/// one /48 together make at most `codes_per_network_per_hour` codes; every client
/// together at most `codes_per_hour` (what reports may take of the database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_is_one_budget_and_everyone_together_another() {
    let srv = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        let s = &mut c.support;
        (s.codes_per_client_per_hour, s.codes_per_network_per_hour, s.codes_per_hour) = (2, 4, 6);
    })
    .await;
    let status = |r: (u16, Value)| (r.0, code(&r.1).to_string());
    let ok = (200, "<none>".to_string());
    let refused = (429, "RATE_LIMITED".to_string());
    // Two /64s of 2001:db8:1::/48 spend the network's four codes (two each: the third
    // from the first is its own client's refusal and spends nothing of the network's).
    assert_eq!(status(send_from(&srv, "2001:db8:1:a::1").await), ok);
    assert_eq!(status(send_from(&srv, "2001:db8:1:a::2").await), ok);
    assert_eq!(status(send_from(&srv, "2001:db8:1:a::3").await), refused, "the client's own budget");
    assert_eq!(status(send_from(&srv, "2001:db8:1:b::1").await), ok);
    assert_eq!(status(send_from(&srv, "2001:db8:1:b::1").await), ok);
    // A third /64 of the same /48, its first code: the network's budget is spent.
    assert_eq!(status(send_from(&srv, "2001:db8:1:c::1").await), refused, "the network's budget");
    // Another network is not held back by it.
    assert_eq!(status(send_from(&srv, "2001:db8:2:a::1").await), ok);
    assert_eq!(status(send_from(&srv, "198.51.100.1").await), ok);
    // Six codes made in all: the seventh, from a network and client that made none, waits.
    assert_eq!(status(send_from(&srv, "203.0.113.9").await), refused, "everyone's budget");
    assert_eq!(
        srv.store
            .audit_since(0, 100)
            .await
            .unwrap()
            .iter()
            .filter(|l| l.event == "support.report" && l.outcome == "ok")
            .count(),
        6
    );
}

/// An instance id is the app's own word: a report made from another network under the
/// id of an app that tried a recovery shows the desk none of that app's attempts (nor
/// the steps they would bring); from the app's own network, they are shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_networks_report_under_the_same_instance_shows_none_of_its_attempts() {
    let srv = TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]).await;
    srv.enrol(USER, MST, "ketoan@congty.vn").await;
    let console = desk(&srv).await;
    let elsewhere = send_from(&srv, "203.0.113.50").await.1["support_code"].as_str().unwrap().to_string();
    let own = send(&srv, Some(INSTANCE), REPORT).await.1["support_code"].as_str().unwrap().to_string();
    attempt(&srv, INSTANCE).await;
    let (status, page, _) = console.get(&format!("/support/{elsewhere}")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches("data-event=\"complete\"").count(), 0, "another network's report: {page}");
    assert!(
        !page.contains("Tên đăng nhập gõ sai hoặc token của doanh nghiệp khác"),
        "no step from attempts that are not the caller's"
    );
    let (_, page, _) = console.get(&format!("/support/{own}")).await;
    assert_eq!(page.matches("data-event=\"complete\"").count(), 1, "the app's own network: {page}");
    assert!(
        page.contains("Tên đăng nhập gõ sai hoặc token của doanh nghiệp khác"),
        "the CERT_NOT_BOUND step, from the server's own record"
    );
}
