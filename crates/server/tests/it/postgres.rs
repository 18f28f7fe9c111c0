//! The same server on PostgreSQL (Debian `postgresql`, a cluster of this test process's
//! own): the token flow, the race for a challenge, rate limits, the portal path with its
//! activation link, the staff console's reset, and two servers sharing one database —
//! the reason to outgrow SQLite.

use crate::common::*;
use bhxh_protocol::Purpose;
use bhxh_server::store::{Engine, Store};
use serde_json::json;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

/// What several servers behind one name share: the public origin clients sign for.
const ORIGIN: &str = "https://reset.example.vn";

async fn pg_server(adjust: impl FnOnce(&mut bhxh_server::Config)) -> (TestServer, String) {
    let url = postgres_database();
    let for_server = url.clone();
    let srv = TestServer::start_with(move |c| {
        c.database_url = for_server;
        c.public_origin = ORIGIN.into();
        adjust(c);
    })
    .await;
    assert_eq!(srv.store.engine(), Engine::Postgres);
    (srv, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_recovery_login_and_change_on_postgres() {
    let (srv, _) = pg_server(|_| {}).await;
    srv.enrol(USER, MST, EMAIL).await;
    let (status, body) = srv.recover(&SoftToken::load("rsa-valid"), USER).await;
    assert_eq!(status, 200, "{body}");
    // The business name kept from the proof, found as the desk searches it; a later
    // certificate's name replaces it (the upsert), not beside it.
    let found = srv.store.accounts_by_business("Cong ty TNHH thu nghiem", 10).await.unwrap();
    assert_eq!(found.iter().map(|a| a.username.as_str()).collect::<Vec<_>>(), [USER]);
    srv.store.remember_business_name(MST, "CÔNG TY CỔ PHẦN ĐỔI TÊN", 1).await.unwrap();
    assert_eq!(srv.store.business_name(MST).await.unwrap().as_deref(), Some("CÔNG TY CỔ PHẦN ĐỔI TÊN"));
    assert_eq!(srv.store.accounts_by_business("doi ten", 10).await.unwrap().len(), 1);
    assert!(srv.store.accounts_by_business("thu nghiem", 10).await.unwrap().is_empty());
    let temp = password_in(&srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await);
    let (status, login) = srv.login(USER, &temp).await;
    assert_eq!((status, login["must_change_password"].as_bool()), (200, Some(true)), "{login}");
    let token = login["session_token"].as_str().unwrap();
    let (status, body) = srv
        .post_auth(
            "/v1/auth/change-password",
            token,
            json!({"current_password": temp, "new_password": "Mua-thu-2026!"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(code(&srv.login(USER, &temp).await.1), "INVALID_CREDENTIALS");
    assert_eq!(srv.login(USER, "Mua-thu-2026!").await.0, 200);
    srv.smtp().wait_for(EMAIL, "Thông báo đổi mật khẩu").await;
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert_eq!(lines[0].event, "change_password");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_race_for_a_challenge_and_exactly_one_wins() {
    let (a, url) = pg_server(|_| {}).await;
    a.enrol(USER, MST, EMAIL).await;
    // A second server on the same database and outbox key, as a deployment behind a load
    // balancer would run it, delivering to the same SMTP server.
    let key = std::fs::read(a.data.path().join("server/outbox.key")).unwrap();
    let b_data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(b_data.path().join("server")).unwrap();
    std::fs::write(b_data.path().join("server/outbox.key"), &key).unwrap();
    let mut config = test_config(&b_data.path().join("server"), None);
    config.database_url = url;
    config.public_origin = ORIGIN.into();
    config.smtp_url = format!("smtp://127.0.0.1:{}", a.smtp().port);
    let b = TestServer::start_config(config, b_data, None).await;

    let token = SoftToken::load("rsa-valid");
    for i in 0..10 {
        // Issued by one server, completed on both at once: exactly one wins.
        let ch = if i % 2 == 0 {
            a.challenge(USER, Purpose::PasswordRecovery).await
        } else {
            b.challenge(USER, Purpose::PasswordRecovery).await
        };
        let (x, y) = tokio::join!(
            a.complete(&token, USER, Purpose::PasswordRecovery, &ch),
            b.complete(&token, USER, Purpose::PasswordRecovery, &ch)
        );
        let mut statuses = [x.0, y.0];
        statuses.sort();
        assert_eq!(statuses, [200, 400], "{x:?} {y:?}");
        let loser = if x.0 == 400 { &x.1 } else { &y.1 };
        assert_eq!(code(loser), "CHALLENGE_USED");
    }
    let resets = a.store.list_mail(1000).await.unwrap().iter().filter(|m| m.kind == "reset").count();
    assert_eq!(resets, 10, "one reset mail per won challenge");
    // What A wrote, B reads: the same accounts, audit and outbox.
    let on_b = b.store.account_by_username(USER).await.unwrap().unwrap();
    assert!(on_b.temp_password_hash.is_some());
    let (status, _) = b.login(USER, "Sai-mat-khau-1!").await;
    assert_eq!(status, 401);
    // Every mail is delivered exactly once although two workers poll the same outbox.
    let mails = a.smtp().wait_count(10, std::time::Duration::from_secs(30)).await;
    assert!(mails.len() >= 10, "{} mails", mails.len());
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let mut ids: Vec<_> = a.smtp().mails().into_iter().map(|m| m.message_id).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len(), n), (10, 10), "a mail was delivered twice (one mail per reset)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_hold_on_postgres() {
    let (srv, _) = pg_server(|c| c.limits.per_username = 3).await;
    srv.enrol(USER, MST, EMAIL).await;
    let mut last = (0, serde_json::Value::Null);
    for _ in 0..4 {
        last = srv.login(USER, "Sai-mat-khau-1!").await;
    }
    assert_eq!((last.0, code(&last.1)), (429, "RATE_LIMITED"), "{}", last.1);
    let cleared = srv.store.clear_limits(&bhxh_server::context::user_limit_prefix(USER)).await.unwrap();
    assert!(cleared >= 1);
    assert_eq!(code(&srv.login(USER, "Sai-mat-khau-1!").await.1), "INVALID_CREDENTIALS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portal_path_and_staff_reset_on_postgres() {
    let (srv, _) = pg_server(|_| {}).await;
    srv.enrol(USER, MST, EMAIL).await;
    let (id, answer) = srv.captcha().await;
    let (status, body) = srv
        .post("/v1/portal/recover", json!({"mst": MST, "email": EMAIL, "captcha_id": id, "captcha_answer": "WRONG"}))
        .await;
    assert_eq!((status, code(&body)), (400, "CAPTCHA_INCORRECT"));
    let (status, body) = srv
        .post("/v1/portal/recover", json!({"mst": MST, "email": EMAIL, "captcha_id": id, "captcha_answer": answer}))
        .await;
    assert_eq!((status, code(&body)), (400, "CAPTCHA_USED"));
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    assert_eq!(srv.portal(MST, EMAIL).await.0, 200);
    let mails = srv.smtp().wait_count(2, std::time::Duration::from_secs(60)).await;
    let links: Vec<_> = mails.iter().filter(|m| m.subject.contains("cần kích hoạt")).map(portal_secrets_in).collect();
    assert_eq!(links.len(), 2);
    let post = |link: &str| {
        let token = link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string();
        let http = srv.http.clone();
        let base = srv.base.clone();
        async move {
            http.post(format!("{base}/portal/activate")).form(&[("t", token)]).send().await.unwrap().status().as_u16()
        }
    };
    let (older, newer) = (&links[0], &links[1]);
    assert_eq!(post(&older.1).await, 410, "superseded");
    assert_eq!(post(&newer.1).await, 200);
    assert_eq!(post(&newer.1).await, 410, "used");
    let (status, login) = srv.login(USER, &newer.0).await;
    assert_eq!((status, login["must_change_password"].as_bool()), (200, Some(true)));

    // The staff console's reset, on the same database.
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
    let staff = srv.store.staff_by_username("hotro.an").await.unwrap().unwrap();
    assert!(staff.disabled_at.is_none());
    let list = bhxh_server::admin::staff_list(&srv.store).await.unwrap();
    assert!(list.contains("hotro.an\tNguyễn Văn An"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_and_both_engines_have_the_same_columns() {
    let url = postgres_database();
    let (first, second) = tokio::join!(Store::open(&url), Store::open(&url));
    first.unwrap();
    second.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    let pg = Store::open(&url).await.unwrap();
    assert_eq!(sqlite.columns().await.unwrap(), pg.columns().await.unwrap());
}
