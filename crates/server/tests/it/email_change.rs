//! Changing the registered email by a token proof, against the real server (SQLite, and
//! PostgreSQL for the whole path), a real SMTP server and the clock shifted in process:
//! confirmed from the new address, told to the old one, in effect after the waiting
//! period unless cancelled; every refusal for its own reason, with nothing written.

use crate::common::*;
use bhxh_protocol::wire::ChallengeResponse;
use bhxh_protocol::{signed_data, Purpose};
use serde_json::{json, Value};

const USER: &str = "ketoan01";
const OLD: &str = "ketoan.cu@congty.vn";
const NEW: &str = "ketoan.moi@congty.vn";
const WAIT: i64 = 24 * 3600;

/// A challenge for an email change to `new_email`.
async fn change_challenge(srv: &TestServer, user: &str, new_email: &str) -> ChallengeResponse {
    let (status, body) = srv
        .post(
            "/v1/recovery/challenge",
            json!({"username": user, "purpose": Purpose::EmailChange.as_str(), "new_email": new_email}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

/// Signs `signed_for` (the address the client means) over `ch` and completes it.
async fn complete_change(
    srv: &TestServer,
    token: &SoftToken,
    user: &str,
    ch: &ChallengeResponse,
    signed_for: &str,
) -> (u16, Value) {
    let sig = token.sign(&signed_data(Purpose::EmailChange, &ch.origin, user, &ch.nonce, Some(signed_for)));
    srv.complete_raw(token, user, Purpose::EmailChange, ch, &sig, token.alg).await
}

/// Challenge → sign → complete, as the app does.
async fn ask(srv: &TestServer, token: &SoftToken, user: &str, new_email: &str) -> (u16, Value) {
    let ch = change_challenge(srv, user, new_email).await;
    complete_change(srv, token, user, &ch, new_email).await
}

/// The link to `path` in a mail (its own line).
fn link_in(mail: &ReceivedMail, path: &str) -> String {
    mail.text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("http") && l.contains(path))
        .unwrap_or_else(|| panic!("no {path} link in {:?}", mail.text))
        .to_string()
}

/// The confirmation link in the newest confirmation mail to `to`.
async fn confirm_link(srv: &TestServer, to: &str) -> String {
    link_in(&srv.smtp().wait_for(to, "Xác nhận").await, "/email-change/confirm?t=")
}

/// Opens a link's page, then presses its button: (page status, answer status, answer).
async fn press(srv: &TestServer, link: &str) -> (u16, u16, String) {
    let page = srv.http.get(link).send().await.unwrap();
    let page_status = page.status().as_u16();
    let (path, token) = link.split_once("?t=").unwrap();
    let token = token.split('&').next().unwrap();
    let r = srv.http.post(path).form(&[("t", token)]).send().await.unwrap();
    (page_status, r.status().as_u16(), r.text().await.unwrap())
}

fn mails_to(srv: &TestServer, to: &str) -> Vec<ReceivedMail> {
    srv.smtp().mails().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect()
}

/// A recovery; waits for its password mail (only for it: a wait for a mail that does not
/// come would let the shifted clock run on in real time) and says where it went.
async fn recovery_goes_to(srv: &TestServer, token: &SoftToken) -> String {
    let before = srv.smtp().mails().len();
    let (status, body) = srv.recover(token, USER).await;
    assert_eq!(status, 200, "{body}");
    let reset =
        srv.smtp().wait_match(before, "with the temporary password", |m| m.subject.contains("Mật khẩu tạm thời")).await;
    assert_eq!(reset.to.len(), 1);
    reset.to[0].clone()
}

async fn events(srv: &TestServer) -> Vec<(String, String, String)> {
    let lines = srv.store.audit_for_account(USER, MST, 200).await.unwrap();
    lines.iter().map(|e| (e.event.to_string(), e.outcome.as_str().to_string(), e.actor.to_string())).collect()
}

/// The whole self-service path on one server (SQLite or PostgreSQL).
async fn whole_path(srv: TestServer) {
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");

    let (status, body) = ask(&srv, &token, USER, "  Ketoan.Moi@CongTy.VN ").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["masked_new_email"], "Ke***@c***.vn");
    assert_eq!(body["masked_old_email"], "ke***@c***.vn");
    assert_eq!(body["wait_secs"], WAIT);
    assert!(body["confirm_expires_at"].as_str().unwrap().ends_with('Z'));
    let reference = body["reference"].as_str().unwrap().to_string();

    // The confirmation goes to the new address only; nothing changed yet.
    let confirm = srv.smtp().wait_for("Ketoan.Moi@congty.vn", "Xác nhận email đăng ký mới").await;
    assert!(confirm.text.contains(&reference) && confirm.text.contains("24 giờ"));
    assert!(mails_to(&srv, OLD).is_empty(), "the old address hears of it only once the new one is confirmed");
    assert_eq!(srv.store.account_by_username(USER).await.unwrap().unwrap().email, OLD);
    let link = link_in(&confirm, "/email-change/confirm?t=");
    assert!(link.starts_with(&srv.origin));

    // A mail scanner fetching the link changes nothing; the button confirms.
    let (page, status, answer) = press(&srv, &link).await;
    assert_eq!((page, status), (200, 200), "{answer}");
    assert!(answer.contains("data-testid=\"confirmed\""), "{answer}");
    // One event, one code: the answer page gives the change's reference, as its mails do.
    assert!(answer.contains(&format!("data-testid=\"reference\">{reference}<")), "{answer}");
    let notice = srv.smtp().wait_for(OLD, "Thông báo đổi email đăng ký").await;
    assert!(notice.text.contains("Ke***@c***.vn") && notice.text.contains(&reference), "{}", notice.text);
    assert!(notice.text.find("Có hiệu lực lúc").unwrap() < notice.text.find("Takes effect at").unwrap());
    let cancel = link_in(&notice, "/email-change/cancel?t=");
    // The link works once.
    let (_, again, answer) = press(&srv, &link).await;
    assert_eq!(again, 410);
    assert!(answer.contains("EMAIL_CHANGE_LINK_USED"), "{answer}");

    // During the waiting period a recovery still goes to the old address.
    assert_eq!(recovery_goes_to(&srv, &token).await, OLD);
    srv.clock.shift(WAIT - 60);
    assert_eq!(recovery_goes_to(&srv, &token).await, OLD);

    // Past it, the change is in effect before the next mail is written.
    srv.clock.shift(61);
    assert_eq!(recovery_goes_to(&srv, &token).await, "Ketoan.Moi@congty.vn");
    assert_eq!(srv.store.account_by_username(USER).await.unwrap().unwrap().email, "Ketoan.Moi@congty.vn");
    srv.smtp().wait_for("Ketoan.Moi@congty.vn", "Email đăng ký đã được đổi").await;
    // Too late to cancel now.
    let (_, status, answer) = press(&srv, &cancel).await;
    assert_eq!(status, 409);
    assert!(answer.contains("EMAIL_CHANGE_APPLIED"), "{answer}");

    let ev = events(&srv).await;
    for (event, actor) in
        [("email_change.request", "user"), ("email_change.confirm", "user"), ("email_change.apply", "system")]
    {
        assert!(ev.iter().any(|(e, o, a)| e == event && o == "ok" && a == actor), "{event} by {actor} in {ev:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_path_on_sqlite() {
    whole_path(TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_path_on_postgres() {
    let url = postgres_database();
    whole_path(TestServer::start_with(move |c| c.database_url = url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_address_cancels_and_nothing_changes() {
    // A pause of 3 days instead of 30: the fixture CRLs are valid for 30 days, and the
    // clock cannot pass them without every certificate check failing for that reason.
    const PAUSE: i64 = 3 * 24 * 3600;
    let srv = TestServer::start_with(|c| c.email_change.token_pause_after_cancel_secs = PAUSE).await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    let (status, asked) = ask(&srv, &token, USER, NEW).await;
    assert_eq!(status, 200, "{asked}");
    let reference = asked["reference"].as_str().unwrap();
    let confirm = confirm_link(&srv, NEW).await;
    assert_eq!(press(&srv, &confirm).await.1, 200);
    let cancel = link_in(&srv.smtp().wait_for(OLD, "Thông báo đổi email").await, "/email-change/cancel?t=");

    let (page, status, answer) = press(&srv, &cancel).await;
    assert_eq!((page, status), (200, 200), "{answer}");
    assert!(answer.contains("data-testid=\"cancelled\""), "{answer}");
    // The cancel page and the mail it sends give the change's reference, as every mail of it.
    assert!(answer.contains(&format!("data-testid=\"reference\">{reference}<")), "{answer}");
    let cancelled = srv.smtp().wait_for(NEW, "Yêu cầu đổi email đã bị hủy").await;
    assert!(cancelled.text.contains(reference), "{}", cancelled.text);
    // The links are spent, and the waiting period passing changes nothing.
    let (_, status, answer) = press(&srv, &cancel).await;
    assert!(status == 410 && answer.contains("EMAIL_CHANGE_ENDED"), "{status} {answer}");
    srv.clock.shift(WAIT + 1);
    assert_eq!(recovery_goes_to(&srv, &token).await, OLD);
    assert!(events(&srv).await.iter().any(|(e, o, _)| e == "email_change.cancel" && o == "ok"));

    // Whoever holds the token cannot simply ask again and wait for a notice the owner
    // misses: token requests pause for 30 days, told as such; the desk still can.
    let (status, body) = ask(&srv, &token, USER, "nguoi.la@example.vn").await;
    assert_eq!((status, code(&body)), (409, "EMAIL_CHANGE_PAUSED"), "{body}");
    assert!(body["hint"].as_str().unwrap().contains("tổng đài"), "{body}");
    let lines = srv.store.audit_by_reference(body["reference"].as_str().unwrap()).await.unwrap();
    assert!(detail_en(&lines[0].detail).contains("token requests pause until"), "{lines:?}");
    let (agent, _) = desk(&srv).await;
    assert_eq!(propose(&agent, "2345", "registrant", "", NEW).await.0, 303, "the desk is not paused");
    srv.clock.shift(PAUSE - WAIT - 60);
    let (status, body) = ask(&srv, &token, USER, "nguoi.la@example.vn").await;
    assert_eq!((status, code(&body)), (409, "EMAIL_CHANGE_PAUSED"), "a minute before its end: {body}");
    srv.clock.shift(61);
    let (status, body) = ask(&srv, &token, USER, "nguoi.la@example.vn").await;
    assert_eq!(status, 200, "the pause ends: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_address_never_confirmed_changes_nothing() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    let confirm = confirm_link(&srv, NEW).await;
    srv.clock.shift(30 * 60 + 1);
    let (page, status, answer) = press(&srv, &confirm).await;
    assert_eq!((page, status), (410, 410));
    assert!(answer.contains("EMAIL_CHANGE_LINK_EXPIRED"), "{answer}");
    srv.clock.shift(WAIT);
    assert_eq!(recovery_goes_to(&srv, &token).await, OLD);
    // Nothing of a change was written for anyone (the outbox, delivered or not).
    let written = srv.store.list_mail(100).await.unwrap();
    assert!(written.iter().all(|m| !m.subject.contains("Thông báo đổi email")), "{written:?}");
    assert!(mails_to(&srv, OLD).iter().all(|m| !m.subject.contains("Thông báo đổi email")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_request_supersedes_the_first() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    let first = link_in(&srv.smtp().wait_for(NEW, "Xác nhận").await, "/email-change/confirm?t=");
    assert_eq!(ask(&srv, &token, USER, "ketoan.moi2@congty.vn").await.0, 200);
    let second = confirm_link(&srv, "ketoan.moi2@congty.vn").await;
    let (_, status, answer) = press(&srv, &first).await;
    assert!(status == 410 && answer.contains("EMAIL_CHANGE_ENDED"), "{status} {answer}");
    assert_eq!(press(&srv, &second).await.1, 200);
    srv.clock.shift(WAIT + 1);
    assert_eq!(recovery_goes_to(&srv, &token).await, "ketoan.moi2@congty.vn");
}

/// A refused request: its code, nothing mailed, no change stored.
async fn refused(srv: &TestServer, (status, body): (u16, Value), want_status: u16, want: &str) {
    assert_eq!((status, code(&body)), (want_status, want), "{body}");
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    assert!(srv.store.email_changes_of(account.id, 10).await.unwrap().is_empty(), "a change was stored");
    assert!(srv.store.list_mail(100).await.unwrap().is_empty(), "a mail was queued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_cannot_prove_the_account_is_refused_for_its_reason() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    // Another business's token: a valid proof, bound to nothing.
    refused(&srv, ask(&srv, &SoftToken::load("other-mst"), USER, NEW).await, 403, "CERT_NOT_BOUND").await;
    // A revoked certificate (the fixture CRL lists it).
    refused(&srv, ask(&srv, &SoftToken::load("revoked"), USER, NEW).await, 403, "CERT_REVOKED").await;
    // The account's own token once its certificate has expired.
    srv.clock.shift(2 * 365 * 86_400);
    refused(&srv, ask(&srv, &SoftToken::load("rsa-valid"), USER, NEW).await, 403, "CERT_EXPIRED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_foreign_and_altered_proofs_are_refused() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");

    // The token signed for another address than the challenge carries (a relay swapped
    // it): the signature does not verify.
    let ch = change_challenge(&srv, USER, "attacker@evil.example").await;
    refused(&srv, complete_change(&srv, &token, USER, &ch, NEW).await, 403, "SIGNATURE_INVALID").await;
    // A recovery's signature over an email-change challenge (a foreign purpose).
    let ch = change_challenge(&srv, USER, NEW).await;
    let sig = token.sign(&bhxh_protocol::to_be_signed(Purpose::PasswordRecovery, &ch.origin, USER, &ch.nonce));
    refused(
        &srv,
        srv.complete_raw(&token, USER, Purpose::EmailChange, &ch, &sig, token.alg).await,
        403,
        "SIGNATURE_INVALID",
    )
    .await;
    // An email-change challenge completed as a recovery: the purpose is the challenge's.
    let ch = change_challenge(&srv, USER, NEW).await;
    let sig = token.sign(&bhxh_protocol::to_be_signed(Purpose::PasswordRecovery, &ch.origin, USER, &ch.nonce));
    let r = srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &sig, token.alg).await;
    refused(&srv, r, 400, "CHALLENGE_MISMATCH").await;
    // A used challenge cannot be replayed, even with a good signature.
    let ch = change_challenge(&srv, USER, NEW).await;
    assert_eq!(complete_change(&srv, &token, USER, &ch, NEW).await.0, 200);
    let (status, body) = complete_change(&srv, &token, USER, &ch, NEW).await;
    assert_eq!((status, code(&body)), (400, "CHALLENGE_USED"), "{body}");

    // The challenge must name a valid address, and only an email change names one.
    let (status, body) =
        srv.post("/v1/recovery/challenge", json!({"username": USER, "purpose": "bhxh-email-change/v1"})).await;
    assert_eq!((status, code(&body)), (400, "INVALID_EMAIL"));
    let (status, body) = srv
        .post(
            "/v1/recovery/challenge",
            json!({"username": USER, "purpose": "bhxh-email-change/v1", "new_email": "not an address"}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "INVALID_EMAIL"));
    let (status, body) = srv
        .post(
            "/v1/recovery/challenge",
            json!({"username": USER, "purpose": "bhxh-password-recovery/v1", "new_email": NEW}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "MALFORMED_REQUEST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_address_and_too_many_requests_are_refused() {
    let srv = TestServer::start_with(|c| c.email_change.per_account_per_day = 2).await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    refused(&srv, ask(&srv, &token, USER, "KETOAN.CU@congty.vn").await, 400, "EMAIL_UNCHANGED").await;
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    assert_eq!(ask(&srv, &token, USER, "b@congty.vn").await.0, 200);
    let (status, body) = ask(&srv, &token, USER, "c@congty.vn").await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    assert_eq!(srv.store.email_changes_of(account.id, 10).await.unwrap().len(), 2);
    // A day later the account may ask again.
    srv.clock.shift(24 * 3600 + 1);
    assert_eq!(ask(&srv, &token, USER, "c@congty.vn").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_username_is_answered_like_a_known_one() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    srv.enrol("ketoan.khac", "0109999999", "khac@congty.vn").await;
    let token = SoftToken::load("rsa-valid");
    // The challenge step is the same for both; the proof fails at the same check.
    let known = change_challenge(&srv, "ketoan.khac", NEW).await;
    let unknown = change_challenge(&srv, "khong.ton.tai", NEW).await;
    assert_eq!(known.challenge_id.len(), unknown.challenge_id.len());
    let (s1, b1) = complete_change(&srv, &token, "ketoan.khac", &known, NEW).await;
    let (s2, b2) = complete_change(&srv, &token, "khong.ton.tai", &unknown, NEW).await;
    assert_eq!((s1, code(&b1)), (403, "CERT_NOT_BOUND"));
    assert_eq!((s2, code(&b2)), (s1, code(&b1)));
    let keys = |b: &Value| b.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&b1), keys(&b2));
    assert_eq!((b1["message"].clone(), b1["hint"].clone()), (b2["message"].clone(), b2["hint"].clone()));
    assert!(srv.store.list_mail(100).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_the_account_ends_its_change() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    let confirm = confirm_link(&srv, NEW).await;
    bhxh_server::admin::account_set_disabled(&srv.store, &srv.clock, USER, Some("nghi ngo gian lan")).await.unwrap();
    let (_, status, answer) = press(&srv, &confirm).await;
    assert!(status == 410 && answer.contains("EMAIL_CHANGE_ENDED"), "{status} {answer}");
}

// ---- at the support desk -------------------------------------------------------------

const AGENT: (&str, &str) = ("hotro.an", "Nguyễn Văn An");
const SUPERVISOR: (&str, &str) = ("giamsat.binh", "Trần Thị Bình");
const SUPERVISOR2: (&str, &str) = ("giamsat.cuong", "Lê Văn Cường");
const STAFF_PASSWORD: &str = "Ban-ho-tro-2026!";
/// A whole CCCD number: what the desk must never keep.
const CCCD: &str = "001086012345";

async fn desk(srv: &TestServer) -> (crate::staff::Console, crate::staff::Console) {
    use bhxh_server::store::StaffRole;
    let hasher = bhxh_server::passwords::Hasher::new(&bhxh_server::config::Argon2Config::default()).unwrap();
    for ((user, name), role) in
        [(AGENT, StaffRole::Agent), (SUPERVISOR, StaffRole::Supervisor), (SUPERVISOR2, StaffRole::Supervisor)]
    {
        bhxh_server::admin::staff_add(
            &srv.store,
            &srv.clock,
            &hasher,
            user,
            name,
            role,
            zeroize::Zeroizing::new(STAFF_PASSWORD.into()),
        )
        .await
        .unwrap();
    }
    let mut agent = crate::staff::Console::new(srv);
    assert_eq!(agent.login(AGENT.0, STAFF_PASSWORD).await.0, 303);
    let mut supervisor = crate::staff::Console::new(srv);
    assert_eq!(supervisor.login(SUPERVISOR.0, STAFF_PASSWORD).await.0, 303);
    (agent, supervisor)
}

async fn propose(
    c: &crate::staff::Console,
    last4: &str,
    caller: &str,
    name: &str,
    new_email: &str,
) -> (u16, String, Option<String>) {
    let csrf = c.csrf().await;
    c.post(
        &format!("/account/{USER}/email-change"),
        &[
            ("csrf", csrf.as_str()),
            ("id_type", "CCCD"),
            ("id_last4", last4),
            ("licence", MST),
            ("caller", caller),
            ("authorised_name", name),
            ("phone", "0912 345 678"),
            ("new_email", new_email),
        ],
    )
    .await
}

async fn change_id(srv: &TestServer) -> i64 {
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    srv.store.email_changes_of(account.id, 1).await.unwrap()[0].id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_desk_an_agent_proposes_and_another_supervisor_approves() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let (agent, supervisor) = desk(&srv).await;

    // A whole CCCD number, or an authorised caller without a name, is refused and kept nowhere.
    let (status, page, _) = propose(&agent, CCCD, "registrant", "", NEW).await;
    assert!(status == 400 && page.contains("STAFF_DOCUMENTS_MISSING"), "{status}");
    let (status, page, _) = propose(&agent, "2345", "authorised", "", NEW).await;
    assert!(status == 400 && page.contains("STAFF_DOCUMENTS_MISSING"), "{status}");
    assert_eq!(srv.store.email_changes_of(1, 10).await.unwrap().len(), 0);

    let (status, _, location) = propose(&agent, "2345", "authorised", "Phạm Thị Dung", NEW).await;
    assert_eq!(status, 303);
    assert!(location.unwrap().contains("done=email-proposed"));
    let id = change_id(&srv).await;
    assert!(srv.smtp().mails().is_empty(), "nothing is mailed before the approval");

    // Four eyes: the agent cannot approve at all; the proposer never their own.
    let csrf = agent.csrf().await;
    let (status, page, _) = agent.post(&format!("/email-change/{id}/approve"), &[("csrf", &csrf)]).await;
    assert!(status == 403 && page.contains("STAFF_ROLE_REQUIRED"), "{status}");
    let (status, _, _) = propose(&supervisor, "2345", "registrant", "", "tu.duyet@congty.vn").await;
    assert_eq!(status, 303);
    let own = change_id(&srv).await;
    let csrf = supervisor.csrf().await;
    let (status, page, _) = supervisor.post(&format!("/email-change/{own}/approve"), &[("csrf", &csrf)]).await;
    assert!(status == 403 && page.contains("STAFF_FOUR_EYES"), "{status}");
    // Proposals stand side by side until one is approved; the agent proposes again and
    // the other supervisor approves (a page for supervisors shows the button).
    assert_eq!(propose(&agent, "2345", "registrant", "", NEW).await.0, 303);
    let id = change_id(&srv).await;
    // Each member's home says how many wait: a supervisor's, those they may approve.
    let (_, home, _) = supervisor.get("/").await;
    assert!(home.contains("<strong>2</strong> yêu cầu đổi email đang chờ bạn phê duyệt"), "{home}");
    let (_, home, _) = agent.get("/").await;
    assert!(home.contains("<strong>3</strong> yêu cầu đổi email đang chờ người giám sát phê duyệt"), "{home}");
    let (_, list, _) = supervisor.get("/email-changes").await;
    assert!(list.contains(&format!("data-testid=\"approve-{id}\"")) && list.contains(NEW) && list.contains("****2345"));
    let (status, _, location) = supervisor.post(&format!("/email-change/{id}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303, "{location:?}");
    // The approval ended the other proposals.
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    let states: Vec<&str> =
        srv.store.email_changes_of(account.id, 10).await.unwrap().iter().map(|c| c.state.as_str()).collect();
    assert_eq!(states, ["confirming", "superseded", "superseded"]);
    assert!(!supervisor.get("/").await.1.contains("approvals-waiting"), "none waits any more");

    // Then the same way as a token's: the link to the new address, the notice to the old.
    let confirm = confirm_link(&srv, NEW).await;
    assert!(srv.smtp().wait_for(NEW, "Xác nhận").await.text.contains("người giám sát đã phê duyệt"));
    assert_eq!(press(&srv, &confirm).await.1, 200);
    srv.smtp().wait_for(OLD, "Thông báo đổi email").await;
    let (_, list, _) = agent.get("/email-changes").await;
    assert!(list.contains("data-state=\"waiting\""), "{list}");

    // Staff cancel it; the new address is told; the old stays.
    let csrf = agent.csrf().await;
    let (status, _, _) = agent
        .post(&format!("/email-change/{id}/cancel"), &[("csrf", &csrf), ("reason", "khách gọi lại báo nhầm")])
        .await;
    assert_eq!(status, 303);
    srv.smtp().wait_for(NEW, "đã bị hủy").await;
    srv.clock.shift(WAIT + 1);
    // (A staff session lasts a working day: log in again.)
    let (mut agent, mut supervisor) = (agent, supervisor);
    assert_eq!(agent.login(AGENT.0, STAFF_PASSWORD).await.0, 303);
    assert_eq!(supervisor.login(SUPERVISOR.0, STAFF_PASSWORD).await.0, 303);
    let (_, page, _) = agent.get(&format!("/account/{USER}")).await;
    assert!(page.contains(OLD) && page.contains("data-state=\"cancelled\""));

    // Every step audited with who did it; no page holds a whole CCCD number.
    let lines = srv.store.audit_for_account(USER, MST, 200).await.unwrap();
    let by = |event: &str, outcome: &str, who: &str| {
        lines.iter().any(|e| e.event == event && e.outcome.as_str() == outcome && e.actor.to_string().contains(who))
    };
    assert!(by("staff.email_propose", "ok", AGENT.1) && by("staff.email_propose", "rejected", AGENT.1));
    assert!(by("staff.email_approve", "rejected", AGENT.1) && by("staff.email_approve", "rejected", SUPERVISOR.1));
    assert!(by("staff.email_approve", "ok", SUPERVISOR.1) && by("staff.email_cancel", "ok", AGENT.1));
    for path in ["/email-changes".to_string(), format!("/account/{USER}"), format!("/?q={USER}")] {
        let (_, page, _) = supervisor.get(&path).await;
        assert!(!page.contains(CCCD), "{path} shows a whole CCCD number");
    }
    assert!(lines.iter().all(|e| !detail_en(&e.detail).contains(CCCD)));
}

/// An owner's confirmed change, waiting out its day, is not ended by one agent's
/// proposal: the agent is shown it first, and only a supervisor's approval replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proposal_ends_a_waiting_change_only_once_approved() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    assert_eq!(press(&srv, &confirm_link(&srv, NEW).await).await.1, 200);
    let cancel = link_in(&srv.smtp().wait_for(OLD, "Thông báo đổi email").await, "/email-change/cancel?t=");
    let waiting = change_id(&srv).await;

    let (agent, supervisor) = desk(&srv).await;
    let (_, page, _) = agent.get(&format!("/account/{USER}")).await;
    assert!(page.contains("data-testid=\"pending-change\"") && page.contains(NEW), "the agent sees the change first");
    assert_eq!(propose(&agent, "2345", "registrant", "", "ke.toan.khac@congty.vn").await.0, 303);
    let proposal = change_id(&srv).await;
    let state = |id: i64| {
        let srv = &srv;
        async move { srv.store.email_change(id).await.unwrap().unwrap().state.as_str().to_string() }
    };
    assert_eq!((state(waiting).await, state(proposal).await), ("waiting".to_string(), "proposed".to_string()));
    // The owner's cancel link still works meanwhile (it has not been silently ended).
    let cancel_page = srv.http.get(&cancel).send().await.unwrap();
    assert_eq!(cancel_page.status(), 200);
    assert!(!cancel_page.text().await.unwrap().contains("EMAIL_CHANGE_ENDED"));

    // Approved, the proposal replaces the waiting change, and the audit says so.
    let csrf = supervisor.csrf().await;
    let (status, _, _) = supervisor.post(&format!("/email-change/{proposal}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!((state(waiting).await, state(proposal).await), ("superseded".to_string(), "confirming".to_string()));
    let lines = srv.store.audit_for_account(USER, MST, 100).await.unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.event == "staff.email_approve" && detail_en(&l.detail).contains("1 open change(s) superseded")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_the_change_is_in_effect_a_desk_reset_goes_to_the_new_address() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let (agent, supervisor) = desk(&srv).await;
    assert_eq!(propose(&agent, "2345", "registrant", "", NEW).await.0, 303);
    let id = change_id(&srv).await;
    let csrf = supervisor.csrf().await;
    assert_eq!(supervisor.post(&format!("/email-change/{id}/approve"), &[("csrf", &csrf)]).await.0, 303);
    let confirm = confirm_link(&srv, NEW).await;
    assert_eq!(press(&srv, &confirm).await.1, 200);
    srv.clock.shift(WAIT + 1);
    let mut agent = agent;
    assert_eq!(agent.login(AGENT.0, STAFF_PASSWORD).await.0, 303);
    let csrf = agent.csrf().await;
    let (status, _, _) = agent
        .post(&format!("/account/{USER}/reset"), &[("csrf", &csrf), ("verified", "yes"), ("note", "gọi lúc 9:40")])
        .await;
    assert_eq!(status, 303);
    let reset = srv.smtp().wait_for(NEW, "Mật khẩu tạm thời").await;
    let temp = password_in(&reset);
    for path in ["/email-changes".to_string(), format!("/account/{USER}")] {
        let (_, page, _) = agent.get(&path).await;
        assert!(!page.contains(&temp), "{path} shows the password");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_of_one_mst_share_a_daily_limit() {
    let srv = TestServer::start_with(|c| c.email_change.per_mst_per_day = 1).await;
    srv.enrol(USER, MST, OLD).await;
    srv.enrol("ketoan02", MST, "ketoan02@congty.vn").await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    let (status, body) = ask(&srv, &token, "ketoan02", "ketoan02.moi@congty.vn").await;
    assert_eq!((status, code(&body)), (429, "RATE_LIMITED"), "{body}");
    let lines = srv.store.audit_by_username("ketoan02", 10).await.unwrap();
    assert!(
        lines.iter().any(|l| l.event == "email_change.request" && detail_en(&l.detail).contains("MST")),
        "{lines:?}"
    );
    // Token requests spent the token's budget only: the desk can still propose the real
    // address today.
    let (agent, _) = desk(&srv).await;
    assert_eq!(propose(&agent, "2345", "registrant", "", "ketoan.that@congty.vn").await.0, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_in_effect_what_the_old_address_got_stops_working() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    let confirm = confirm_link(&srv, NEW).await;
    assert_eq!(press(&srv, &confirm).await.1, 200);
    // During the wait, a token recovery and a portal request mail the old address.
    assert_eq!(recovery_goes_to(&srv, &token).await, OLD);
    let temp = password_in(&srv.smtp().wait_for(OLD, "Mật khẩu tạm thời").await);
    assert_eq!(srv.portal(MST, OLD).await.0, 200);
    let (_, link) = portal_secrets_in(&srv.smtp().wait_for(OLD, "cần kích hoạt").await);
    srv.clock.shift(WAIT + 1);
    // In effect: neither works any more (the portal link is superseded, the temporary
    // password gone), and the portal now wants the new address.
    let (page, status, answer) = press(&srv, &link).await;
    assert!(page == 410 && status == 410 && answer.contains("ACTIVATION_SUPERSEDED"), "{status} {answer}");
    let (status, body) = srv.login(USER, &temp).await;
    assert_eq!((status, code(&body)), (401, "INVALID_CREDENTIALS"), "{body}");
    assert_eq!(code(&srv.portal(MST, OLD).await.1), "PORTAL_EMAIL_MISMATCH");
    assert_eq!(srv.portal(MST, NEW).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_that_can_never_go_on_expire_and_leave_the_open_list() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, OLD).await;
    let (agent, _supervisor) = desk(&srv).await;
    let token = SoftToken::load("rsa-valid");
    assert_eq!(ask(&srv, &token, USER, NEW).await.0, 200);
    srv.clock.shift(31 * 60);
    assert!(bhxh_server::email_change::settle_store(&srv.store, &srv.clock, 7 * 86_400).await.is_ok());
    let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
    assert_eq!(srv.store.email_changes_of(account.id, 1).await.unwrap()[0].state, "expired");
    assert!(srv.store.open_email_changes(10).await.unwrap().is_empty());
    // A proposal nobody approved expires after its week.
    assert_eq!(propose(&agent, "2345", "registrant", "", NEW).await.0, 303);
    srv.clock.shift(7 * 86_400 + 1);
    bhxh_server::email_change::settle_store(&srv.store, &srv.clock, 7 * 86_400).await.unwrap();
    assert_eq!(srv.store.email_changes_of(account.id, 1).await.unwrap()[0].state, "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_field_holding_an_id_number_is_refused_and_unlock_keeps_the_daily_limit() {
    let srv = TestServer::start_with(|c| c.email_change.per_account_per_day = 1).await;
    srv.enrol(USER, MST, OLD).await;
    let (agent, _) = desk(&srv).await;
    let csrf = agent.csrf().await;
    let form = |phone: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("id_type", "CCCD".into()),
            ("id_last4", "2345".into()),
            ("licence", MST.into()),
            ("caller", "registrant".into()),
            ("phone", phone.into()),
            ("new_email", NEW.into()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let agent = &agent;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            agent.post(&format!("/account/{USER}/email-change"), &pairs).await
        }
    };
    let (status, page, _) = post(form(CCCD)).await;
    assert!(status == 400 && page.contains("STAFF_DOCUMENTS_MISSING"), "{status}");
    assert_eq!(post(form("0912 345 678")).await.0, 303);
    // The day's one change is used; unlocking the account clears its retry windows only.
    let (status, _, _) = agent.post(&format!("/account/{USER}/unlock"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    let (status, page, _) = post(form("0912 345 678")).await;
    assert!(status == 429 && page.contains("RATE_LIMITED"), "{status}");
    let lines = srv.store.audit_for_account(USER, MST, 100).await.unwrap();
    assert!(lines.iter().all(|l| !detail_en(&l.detail).contains(CCCD)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_username_that_starts_like_a_support_code_is_still_found() {
    let srv = TestServer::start().await;
    srv.enrol("htx_nongnghiep", MST, OLD).await;
    let (agent, _) = desk(&srv).await;
    let (status, _, location) = agent.get("/?q=htx_nongnghiep").await;
    // The one account found opens at once (not a support code's page).
    assert_eq!((status, location.as_deref()), (303, Some("/account/htx_nongnghiep")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_requests_at_once_on_postgres_leave_one_open_change() {
    let url = postgres_database();
    let srv = TestServer::start_with(move |c| {
        c.database_url = url;
        c.email_change.per_account_per_day = 100;
        c.email_change.per_mst_per_day = 100;
    })
    .await;
    srv.enrol(USER, MST, OLD).await;
    let token = SoftToken::load("rsa-valid");
    for round in 0..5 {
        let (ea, eb) = (format!("a{round}@congty.vn"), format!("b{round}@congty.vn"));
        let (a, b) = tokio::join!(ask(&srv, &token, USER, &ea), ask(&srv, &token, USER, &eb));
        assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
        let account = srv.store.account_by_username(USER).await.unwrap().unwrap();
        let open: Vec<_> = srv
            .store
            .email_changes_of(account.id, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.state == "confirming")
            .collect();
        assert_eq!(open.len(), 1, "round {round}: {open:?}");
    }
}
