//! The support desk's staff console against the real server, SQLite and a real SMTP
//! server: refused without a login, every action audited with the staff member's name,
//! and no page, answer or log line that shows a password.

use crate::common::*;
use bhxh_server::passwords::Hasher;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use zeroize::Zeroizing;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";
const STAFF: &str = "hotro.an";
const STAFF_NAME: &str = "Nguyễn Văn An";
const STAFF_PASSWORD: &str = "Ban-ho-tro-2026!";

pub(crate) struct Console {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
    /// The session's whole `Set-Cookie`, as the login answered it.
    set_cookie: Option<String>,
    /// Headers a proxy in front would add (`X-Forwarded-For`, `X-Forwarded-Proto`).
    proxy_headers: Vec<(&'static str, String)>,
}

impl Console {
    pub(crate) fn new(srv: &TestServer) -> Console {
        let http = reqwest::Client::builder().no_proxy().redirect(Policy::none()).build().unwrap();
        Console {
            base: srv.staff_base.clone().expect("staff console on"),
            http,
            cookie: None,
            set_cookie: None,
            proxy_headers: Vec::new(),
        }
    }

    /// The same console reached through a proxy that adds these headers.
    fn via(srv: &TestServer, headers: &[(&'static str, &str)]) -> Console {
        let mut c = Console::new(srv);
        c.proxy_headers = headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
        c
    }

    fn req(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        self.proxy_headers.iter().fold(r, |r, (k, v)| r.header(*k, v))
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String, Option<String>) {
        let mut req = self.req(self.http.get(format!("{}{path}", self.base)));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        let r = req.send().await.unwrap();
        let location = r.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), r.text().await.unwrap(), location)
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, Option<String>) {
        let mut req = self.req(self.http.post(format!("{}{path}", self.base)).form(form));
        if let Some(c) = &self.cookie {
            req = req.header(COOKIE, c);
        }
        let r = req.send().await.unwrap();
        let location = r.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string());
        (r.status().as_u16(), r.text().await.unwrap(), location)
    }

    /// The login page's CSRF token and its cookie (`name=value`).
    async fn login_token(&self) -> (String, String) {
        let r = self.req(self.http.get(format!("{}/login", self.base))).send().await.unwrap();
        let cookie = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.contains("bhxh_staff_login="))
            .expect("the login CSRF cookie");
        let page = r.text().await.unwrap();
        let at = page.find("name=\"csrf\" value=\"").expect("a login form with a CSRF token") + 19;
        let len = page[at..].find('"').expect("the token's end");
        (page[at..at + len].to_string(), cookie)
    }

    /// Logs in through the login page, as a browser does: (status, the answer's reference code).
    pub(crate) async fn login(&mut self, username: &str, password: &str) -> (u16, String) {
        let (csrf, login_cookie) = self.login_token().await;
        let r = self
            .req(self.http.post(format!("{}/login", self.base)))
            .header(COOKIE, login_cookie)
            .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        if let Some(c) = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap())
            .find(|c| c.starts_with("bhxh_staff=") || c.starts_with("__Host-bhxh_staff="))
        {
            self.set_cookie = Some(c.to_string());
            self.cookie = Some(c.split(';').next().unwrap().to_string());
        }
        let reference = r.headers()["x-reference"].to_str().unwrap().to_string();
        (r.status().as_u16(), reference)
    }

    /// The CSRF token the pages carry.
    pub(crate) async fn csrf(&self) -> String {
        let (_, page, _) = self.get("/").await;
        let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
        page[at..at + 48].to_string()
    }
}

async fn add_staff(srv: &TestServer) {
    let hasher = Hasher::new(&bhxh_server::config::Argon2Config::default()).unwrap();
    bhxh_server::admin::staff_add(
        &srv.store,
        &srv.clock,
        &hasher,
        STAFF,
        STAFF_NAME,
        bhxh_server::store::StaffRole::Agent,
        Zeroizing::new(STAFF_PASSWORD.into()),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_login_staff_get_nothing() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    add_staff(&srv).await;
    let c = Console::new(&srv);
    for path in ["/", "/?q=ketoan01", "/account/ketoan01"] {
        let (status, body, location) = c.get(path).await;
        assert_eq!((status, location.as_deref()), (303, Some("/login")), "{path}: {body}");
    }
    for path in ["/account/ketoan01/unlock", "/account/ketoan01/reset", "/mail/1/resend", "/logout"] {
        let (status, body, _) = c.post(path, &[("csrf", "x"), ("verified", "yes"), ("note", "n")]).await;
        assert_eq!(status, 401, "{path}");
        assert!(body.contains("STAFF_LOGIN_REQUIRED"), "{path}: {body}");
    }
    // A made-up cookie is no session either.
    let mut forged = Console::new(&srv);
    forged.cookie = Some("bhxh_staff=forged".into());
    assert_eq!(forged.get("/").await.0, 303);
    // The public listener does not serve the console.
    let r = srv.http.get(format!("{}/account/ketoan01", srv.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(srv.store.list_mail(10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_or_a_disabled_member_cannot_log_in_and_it_is_audited() {
    let srv = TestServer::start().await;
    add_staff(&srv).await;
    let mut c = Console::new(&srv);
    let (status, wrong) = c.login(STAFF, "Sai-mat-khau-1!").await;
    assert_eq!(status, 401);
    assert!(c.cookie.is_none());
    assert_eq!(c.login("nobody", STAFF_PASSWORD).await.0, 401);
    let (status, ok) = c.login(STAFF, STAFF_PASSWORD).await;
    assert_eq!(status, 303);
    assert_eq!(c.get("/").await.0, 200);
    let refused = srv.store.audit_by_reference(&wrong).await.unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!((refused[0].event.as_str(), &refused[0].actor), ("staff.login", &Actor::staff_login("hotro.an")));
    assert_eq!(refused[0].error_code(), Some("STAFF_LOGIN_FAILED"));
    let accepted = srv.store.audit_by_reference(&ok).await.unwrap();
    assert_eq!(accepted[0].actor, Actor::staff(STAFF, STAFF_NAME));
    assert_eq!(accepted[0].outcome, "ok");

    bhxh_server::admin::staff_disable(&srv.store, &srv.clock, STAFF).await.unwrap();
    assert_eq!(c.get("/").await.0, 303, "the disabled member's session ended");
    let mut again = Console::new(&srv);
    assert_eq!(again.login(STAFF, STAFF_PASSWORD).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_find_unlock_reset_and_resend_and_every_action_names_them() {
    // The server's own log, at debug level, is searched for secrets at the end.
    let log = std::env::temp_dir().join(format!("bhxh-staff-test-{}.log", std::process::id()));
    let file = std::fs::File::create(&log).unwrap();
    tracing_subscriber::fmt().with_writer(std::sync::Mutex::new(file)).with_max_level(tracing::Level::DEBUG).init();
    let srv = TestServer::start_with(|c| c.limits.per_username = 2).await;
    srv.enrol(USER, MST, EMAIL).await;
    add_staff(&srv).await;

    // A user locked out by too many failed logins, and a portal request with a wrong email.
    for _ in 0..3 {
        srv.login(USER, "Sai-mat-khau-1!").await;
    }
    assert_eq!(code(&srv.login(USER, "Sai-mat-khau-1!").await.1), "RATE_LIMITED");
    let (_, mismatch) = srv.portal(MST, "khac@congty.vn").await;
    let mismatch_ref = mismatch["reference"].as_str().unwrap().to_string();

    let mut c = Console::new(&srv);
    assert_eq!(c.login(STAFF, STAFF_PASSWORD).await.0, 303);
    let (_, home, _) = c.get("/").await;
    assert!(home.contains(STAFF_NAME));

    // Find by username, by MST, by reference code.
    let r =
        c.http.get(format!("{}/?q=KeToan01", c.base)).header(COOKIE, c.cookie.clone().unwrap()).send().await.unwrap();
    let search_ref = r.headers()["x-reference"].to_str().unwrap().to_string();
    // One account found: its page opens at once.
    assert_eq!(
        (r.status().as_u16(), r.headers().get(LOCATION).and_then(|l| l.to_str().ok())),
        (303, Some("/account/ketoan01"))
    );
    let searched = srv.store.audit_by_reference(&search_ref).await.unwrap();
    assert_eq!(searched.len(), 1, "a search is audited: {searched:?}");
    assert_eq!(
        (searched[0].event.as_str(), &searched[0].detail),
        ("staff.search", &Some(Detail::Search { query: "KeToan01".into() }))
    );
    assert_eq!(searched[0].actor, Actor::staff(STAFF, STAFF_NAME));
    let (status, _, location) = c.get(&format!("/?q={MST}")).await;
    assert_eq!((status, location.as_deref()), (303, Some("/account/ketoan01")));
    // As a caller reads them out: the MST in groups, the registered email in any case.
    let registered = srv.store.account_by_username("ketoan01").await.unwrap().unwrap().email;
    for q in [
        format!("{} {} {}", &MST[..4], &MST[4..7], &MST[7..]),
        format!("{}.{}.{}", &MST[..4], &MST[4..7], &MST[7..]),
        registered.to_uppercase(),
    ] {
        let (status, _, location) = c.get(&format!("/?q={}", q.replace(' ', "%20").replace('@', "%40"))).await;
        assert_eq!((status, location.as_deref()), (303, Some("/account/ketoan01")), "{q}");
    }
    // Two accounts of the MST: the list, to choose from.
    srv.enrol("ketoan02", MST, "ketoan2@congty.vn").await;
    let (status, by_mst, _) = c.get(&format!("/?q={MST}")).await;
    assert_eq!(status, 200);
    assert!(by_mst.contains("href=\"/account/ketoan01\"") && by_mst.contains("href=\"/account/ketoan02\""), "{by_mst}");
    let (_, by_ref, _) = c.get(&format!("/?q={}", mismatch_ref.to_lowercase())).await;
    assert!(by_ref.contains("PORTAL_EMAIL_MISMATCH") && by_ref.contains(&mismatch_ref), "{by_ref}");

    // The account page: the lock, the timeline with the refusals.
    let (status, page, _) = c.get("/account/ketoan01").await;
    assert_eq!(status, 200);
    assert!(page.contains("đang bị chặn tạm thời"), "{page}");
    assert!(
        page.contains("RATE_LIMITED") && page.contains("INVALID_CREDENTIALS") && page.contains("PORTAL_EMAIL_MISMATCH"),
        "{page}"
    );

    // An action without the form's token is refused and changes nothing.
    let (status, body, _) = c.post("/account/ketoan01/unlock", &[("csrf", "0000")]).await;
    assert_eq!(status, 403);
    assert!(body.contains("STAFF_CSRF"));
    assert_eq!(code(&srv.login(USER, "Sai-mat-khau-1!").await.1), "RATE_LIMITED");

    // Unlock.
    let csrf = c.csrf().await;
    let (status, _, location) = c.post("/account/ketoan01/unlock", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert!(location.unwrap().starts_with("/account/ketoan01?done=unlock"));
    assert_eq!(code(&srv.login(USER, "Sai-mat-khau-1!").await.1), "INVALID_CREDENTIALS", "unlocked");

    // A reset needs the verification box and a note.
    let (status, _, _) = c.post("/account/ketoan01/reset", &[("csrf", &csrf), ("note", "")]).await;
    assert_eq!(status, 400);
    assert!(srv.store.list_mail(10).await.unwrap().iter().all(|m| m.kind != "reset"));
    let (status, _, location) = c
        .post(
            "/account/ketoan01/reset",
            &[("csrf", &csrf), ("verified", "yes"), ("note", "gọi 9:40, đối chiếu CCCD 001086012345")],
        )
        .await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    // A whole ID number typed into the note, or searched for, never reaches the audit
    // (kept two years): its last 4 digits do.
    c.get("/?q=001%20086%20012%20345").await;
    let audit = srv.store.audit_since(0, 10_000).await.unwrap();
    let searches = &audit;
    for line in &audit {
        let d = detail_en(&line.detail);
        assert!(!d.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() == 12) && !d.contains("001 086"), "{d}");
    }
    assert!(
        audit.iter().any(|l| l.event == "staff.reset" && detail_en(&l.detail).contains("CCCD [CCCD/CMND …2345]")),
        "{audit:#?}"
    );
    assert!(
        searches
            .iter()
            .any(|l| l.event == "staff.search"
                && l.detail == Some(Detail::Search { query: "[CCCD/CMND …2345]".into() })),
        "{searches:#?}"
    );
    let reset_ref = location.split("r=").nth(1).unwrap().to_string();
    let mail = srv.smtp().wait_for(EMAIL, "Mật khẩu tạm thời").await;
    let temp = password_in(&mail);
    assert!(mail.text.contains("nhân viên đã xác minh danh tính"), "{}", mail.text);
    let (status, login) = srv.login(USER, &temp).await;
    assert_eq!((status, login["must_change_password"].as_bool()), (200, Some(true)), "{login}");

    // One mail per reset: the password mail is its own notice.
    assert!(srv.store.list_mail(20).await.unwrap().iter().all(|m| m.kind != "notice-reset"));
    // Resend: the delivered password mail cannot be (its content is wiped); a notice can.
    let session = login["session_token"].as_str().unwrap();
    let (status, body) = srv
        .post_auth(
            "/v1/auth/change-password",
            session,
            serde_json::json!({"current_password": temp, "new_password": "Moi-Mat-Khau-2026!"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    srv.smtp().wait_for(EMAIL, "Thông báo đổi mật khẩu").await;
    let mails = srv.store.list_mail(20).await.unwrap();
    let reset_mail = mails.iter().find(|m| m.kind == "reset").unwrap();
    let notice = mails.iter().find(|m| m.kind == "notice-changed").unwrap();
    let (status, body, _) = c.post(&format!("/mail/{}/resend", reset_mail.id), &[("csrf", &csrf)]).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("MAIL_CONTENT_WIPED"));
    // The refusal keeps the agent on the account; and the page never offered it: "Gửi
    // lại" is only where it can work, the notice keeps it.
    assert!(body.contains(&format!("href=\"/account/{USER}\" data-testid=\"back-to-account\"")), "{body}");
    let (_, page, _) = c.get(&format!("/account/{USER}")).await;
    assert!(!page.contains(&format!("data-testid=\"resend-{}\"", reset_mail.id)), "{page}");
    assert!(page.contains(&format!("data-testid=\"no-resend-{}\"", reset_mail.id)), "{page}");
    assert!(page.contains(&format!("data-testid=\"resend-{}\"", notice.id)), "{page}");
    let before = srv.smtp().mails().len();
    let (status, _, _) = c.post(&format!("/mail/{}/resend", notice.id), &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    let after = srv.smtp().wait_count(before + 1, std::time::Duration::from_secs(60)).await;
    assert!(after.len() > before, "the notice was not sent again");
    assert!(after.last().unwrap().subject.contains("Thông báo đổi mật khẩu"));

    // Every action is audited with the staff member's username and name.
    let actor = Actor::staff(STAFF, STAFF_NAME);
    let timeline = srv.store.audit_by_username(USER, 100).await.unwrap();
    for event in ["staff.view", "staff.unlock", "staff.reset", "staff.resend"] {
        assert!(timeline.iter().any(|l| l.event == event && l.actor == actor), "{event} not audited: {timeline:#?}");
    }
    let reset_line = srv.store.audit_by_reference(&reset_ref).await.unwrap();
    assert!(reset_line.iter().any(|l| l.event == "staff.reset" && detail_en(&l.detail).contains("CCCD")));

    // The timeline speaks the desk's language: its details hold no English phrase and
    // no UTC time beside the Vietnam-time column; the actor is named in Vietnamese.
    let (_, page, _) = c.get("/account/ketoan01").await;
    let details: Vec<&str> = page
        .split("<td class=\"muted detail\"")
        .skip(1)
        .filter_map(|c| c.split("</td>").next()?.split_once('>').map(|(_, d)| d))
        .collect();
    assert!(details.iter().any(|d| d.contains("đã xác minh qua điện thoại")), "{details:?}");
    assert!(
        details.iter().any(|d| d.contains("mật khẩu tạm thời của RC-") && d.contains("đã được dùng")),
        "{details:?}"
    );
    const ENGLISH: &[&str] = &[
        "the",
        "of",
        "to",
        "in",
        "is",
        "sent",
        "valid",
        "until",
        "used",
        "account",
        "certificate",
        "purpose",
        "verified",
        "phone",
        "cleared",
        "windows",
        "page",
        "opened",
        "password",
        "request",
        "link",
        "disabled",
        "notice",
        "member",
        "mail",
    ];
    for d in &details {
        let english: Vec<&str> = d.split(|c: char| !c.is_alphanumeric()).filter(|w| ENGLISH.contains(w)).collect();
        assert!(english.is_empty(), "English {english:?} in the Vietnamese timeline: {d}");
        assert!(
            !d.as_bytes()
                .windows(4)
                .any(|w| w[0] == b':' && w[1].is_ascii_digit() && w[2].is_ascii_digit() && w[3] == b'Z'),
            "a UTC time: {d}"
        );
    }
    assert!(
        page.contains("<td class=\"nowrap\">người dùng</td>")
            && page.contains(&format!("nhân viên {STAFF} ({STAFF_NAME})")),
        "actors in Vietnamese"
    );
    assert!(!page.contains(">staff.view<") && !page.contains(">complete<"), "no raw event names");

    // No page, answer or log shows the password or a hash.
    let mut seen = String::new();
    for path in ["/", "/?q=ketoan01", &format!("/?q={reset_ref}"), "/account/ketoan01", &location] {
        seen.push_str(&c.get(path).await.1);
    }
    let audit: String = timeline.iter().map(|l| format!("{l:?}")).collect();
    let server_log = std::fs::read_to_string(&log).unwrap();
    assert!(server_log.contains("staff console") || server_log.contains("mail delivered"), "the log was not captured");
    for (name, haystack) in [("pages", &seen), ("audit", &audit), ("server log", &server_log)] {
        assert!(!haystack.contains(&temp), "the temporary password is in the {name}");
        assert!(!haystack.contains("$argon2"), "a hash is in the {name}");
    }
    let _ = std::fs::remove_file(&log);

    // Logout ends the session.
    let (status, _, _) = c.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    assert_eq!(c.get("/").await.0, 303);
}

/// The desk's first page says how the service is doing today: token proofs, portal
/// recoveries, logins and refusals by reason, the accounts under attack (each a link),
/// the revocation sources with their dates, the outbox. A search replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_page_shows_the_service_today() {
    let srv = TestServer::start_with(|c| (c.limits.per_username, c.limits.per_username_total) = (3, 2)).await;
    srv.enrol(USER, MST, EMAIL).await;
    add_staff(&srv).await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    assert_eq!(code(&srv.recover(&SoftToken::load("other-mst"), USER).await.1), "CERT_NOT_BOUND");
    assert_eq!(code(&srv.recover(&SoftToken::load("revoked"), USER).await.1), "CERT_REVOKED");
    // Three wrong passwords: past the account's mark of two (every client together).
    for i in 0..3 {
        assert_eq!(code(&srv.login(USER, &format!("Sai-mat-khau-{i}!")).await.1), "INVALID_CREDENTIALS");
    }
    let mut c = Console::new(&srv);
    assert_eq!(c.login(STAFF, STAFF_PASSWORD).await.0, 303);
    let (status, page, _) = c.get("/").await;
    assert_eq!(status, 200);
    // The markup from an element's opening tag to `end` (the page is the server's own).
    let part = |start: &str, end: &str| -> String {
        let from = page.find(start).unwrap_or_else(|| panic!("{start} missing:\n{page}"));
        let to = page[from..].find(end).map_or(page.len(), |i| from + i);
        page[from..to].to_string()
    };
    assert!(part("data-testid=\"today-proofs\"", "</strong>").ends_with(">1"), "one successful proof");
    assert!(
        part("data-testid=\"today-refused\"", "</strong>").ends_with(">5"),
        "two refused proofs, three wrong passwords"
    );
    let refusals = part("data-testid=\"refusals\"", "</table>");
    for want in [
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "INVALID_CREDENTIALS",
        "CERT_NOT_BOUND",
        "Chứng thư số đã bị thu hồi.",
    ] {
        assert!(refusals.contains(want), "{want}: {refusals}");
    }
    let wrong = part("data-code=\"INVALID_CREDENTIALS\"", "</tr>");
    assert!(wrong.ends_with("<td>3</td>"), "{wrong}");
    let attacked = part("data-testid=\"under-attack-list\"", "</ul>");
    assert!(attacked.contains("href=\"/account/ketoan01\"") && attacked.contains("sai mật khẩu"), "{attacked}");
    let sources = part("data-testid=\"revocation-sources\"", "</div>");
    assert!(sources.contains("CRL BHXH Test Issuing CA (tệp)") && sources.contains("còn hiệu lực"), "{sources}");
    assert!(part("data-testid=\"outbox-state\"", "</p>").contains("thư đang chờ gửi"));
    // A search shows its results, not the state.
    let (_, results, _) = c.get("/?q=khongcoai").await;
    assert!(!results.contains("data-testid=\"service-state\""), "{results}");
}

/// A caller names the company: the desk finds its accounts by the name a verified
/// certificate of the MST carries (its CN), in any case, with or without diacritics; a
/// certificate sent with a junk signature teaches it no name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_finds_accounts_by_the_business_name_a_verified_certificate_carries() {
    use bhxh_protocol::{to_be_signed, Purpose};
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    add_staff(&srv).await;
    let mut c = Console::new(&srv);
    assert_eq!(c.login(STAFF, STAFF_PASSWORD).await.0, 303);
    let token = SoftToken::load("rsa-valid");
    let find = |q: &str| format!("/?q={}", q.replace(' ', "%20"));
    let (status, page, _) = c.get(&find("thu nghiem")).await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"no-result\""), "no proof yet, no name: {page}");
    // The public certificate with a junk signature: refused, and no name kept.
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let junk = srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &[0x5a; 256], token.alg).await;
    assert_eq!(code(&junk.1), "SIGNATURE_INVALID");
    assert!(c.get(&find("thu nghiem")).await.1.contains("data-testid=\"no-result\""));
    // Signed by the token, over what the server asked: the name is kept.
    let ch = srv.challenge(USER, Purpose::PasswordRecovery).await;
    let signed = token.sign(&to_be_signed(Purpose::PasswordRecovery, &ch.origin, USER, &ch.nonce));
    assert_eq!(srv.complete_raw(&token, USER, Purpose::PasswordRecovery, &ch, &signed, token.alg).await.0, 200);
    for q in
        ["thu nghiem", "CÔNG TY TNHH THỬ NGHIỆM", "công  ty tnhh thử nghiệm bhxh", "Cong Ty Tnhh", "cong ty thu nghiem"]
    {
        let (status, _, location) = c.get(&find(q)).await;
        assert_eq!((status, location.as_deref()), (303, Some("/account/ketoan01")), "{q}");
    }
    let (_, account, _) = c.get("/account/ketoan01").await;
    assert!(account.contains("CÔNG TY TNHH THỬ NGHIỆM BHXH"), "{account}");
    // Two accounts of the business: the list, with its name.
    srv.enrol("ketoan02", MST, "ketoan2@congty.vn").await;
    let (status, list, _) = c.get(&find("thử nghiệm")).await;
    assert_eq!(status, 200);
    assert!(list.contains("href=\"/account/ketoan02\"") && list.contains("CÔNG TY TNHH THỬ NGHIỆM BHXH"), "{list}");
    // A name no business has, and wildcards taken as themselves.
    for q in ["cong ty khac", "%25%25%25", "___"] {
        assert!(c.get(&find(q)).await.1.contains("data-testid=\"no-result\""), "{q}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_form_must_come_from_the_login_page() {
    let srv = TestServer::start().await;
    add_staff(&srv).await;
    let c = Console::new(&srv);
    // Posted from elsewhere: no token, or a token without its cookie, or another's cookie.
    let (token, cookie) = c.login_token().await;
    let (other, _) = c.login_token().await;
    for (csrf, cookie) in [(None, None), (Some(token.as_str()), None), (Some(other.as_str()), Some(cookie.as_str()))] {
        let mut req = c.http.post(format!("{}/login", c.base));
        if let Some(cookie) = cookie {
            req = req.header(COOKIE, cookie);
        }
        let mut form = vec![("username", STAFF), ("password", STAFF_PASSWORD)];
        if let Some(t) = csrf {
            form.push(("csrf", t));
        }
        let r = req.form(&form).send().await.unwrap();
        let session = r.headers().get_all(SET_COOKIE).iter().any(|v| v.to_str().unwrap().starts_with("bhxh_staff="));
        let reference = r.headers()["x-reference"].to_str().unwrap().to_string();
        assert_eq!(r.status().as_u16(), 403);
        assert!(!session, "no session for a forged login");
        assert!(r.text().await.unwrap().contains("STAFF_CSRF"));
        let lines = srv.store.audit_by_reference(&reference).await.unwrap();
        assert_eq!(lines[0].error_code(), Some("STAFF_CSRF"), "{lines:?}");
    }
    // Through the page it works, with the right password.
    assert_eq!(Console::new(&srv).login(STAFF, STAFF_PASSWORD).await.0, 303);
}

/// The login CSRF pair must be one this server gave this client: a pair made up by
/// another site (the same value in a planted cookie and in its form), or one the
/// planter fetched from its own address, opens no login; an expired one neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_login_token_opens_no_login() {
    let srv = TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]).await;
    add_staff(&srv).await;
    let victim = Console::via(&srv, &[("x-forwarded-for", "203.0.113.20")]);
    let planter = Console::via(&srv, &[("x-forwarded-for", "198.51.100.66")]);
    let made_up = "a".repeat(48);
    let (fetched, _) = planter.login_token().await;
    let (own, _) = victim.login_token().await;
    let post = |token: String| {
        let victim = &victim;
        async move {
            let r = victim
                .req(victim.http.post(format!("{}/login", victim.base)))
                .header(COOKIE, format!("bhxh_staff_login={token}"))
                .form(&[("username", STAFF), ("password", STAFF_PASSWORD), ("csrf", &token)])
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    for (what, token) in [("made up", made_up), ("fetched by another address", fetched)] {
        let (status, page) = post(token).await;
        assert!(status == 403 && page.contains("STAFF_CSRF"), "{what}: {status}");
    }
    // Its own token, once its 30 minutes are past.
    srv.clock.shift(1801);
    let (status, page) = post(own.clone()).await;
    assert!(status == 403 && page.contains("STAFF_CSRF"), "expired: {status}");
    srv.clock.shift(-1801);
    // The same token in time: the right password logs in (the refusals were the token's).
    let (status, _) = post(own).await;
    assert_eq!(status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_tls_proxy_the_session_is_a_secure_host_cookie() {
    let srv = TestServer::start_with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]).await;
    add_staff(&srv).await;
    let mut tls = Console::via(&srv, &[("x-forwarded-proto", "https")]);
    assert_eq!(tls.login(STAFF, STAFF_PASSWORD).await.0, 303);
    let set = tls.set_cookie.clone().unwrap();
    assert!(
        set.starts_with("__Host-bhxh_staff=")
            && set.contains("; Secure")
            && set.contains("Path=/")
            && !set.contains("Domain"),
        "{set}"
    );
    assert_eq!(tls.get("/").await.0, 200);
    // The same token under the plain name is no session over HTTPS.
    let token = tls.cookie.clone().unwrap().split_once('=').unwrap().1.to_string();
    let mut plain_name = Console::via(&srv, &[("x-forwarded-proto", "https")]);
    plain_name.cookie = Some(format!("bhxh_staff={token}"));
    assert_eq!(plain_name.get("/").await.0, 303);
    // Nor over plain HTTP, under the name plain HTTP uses: a session made over HTTPS
    // is no session where its token may have been read.
    let mut over_http = Console::via(&srv, &[]);
    over_http.cookie = Some(format!("bhxh_staff={token}"));
    assert_eq!(over_http.get("/").await.0, 303);
    // Every answer over HTTPS tells the browser to keep to HTTPS (HSTS), the console's
    // and the public origin's; the language cookie is HttpOnly and Secure there too.
    // Over plain HTTP neither is sent (the header means nothing there).
    let http = reqwest::Client::builder().no_proxy().redirect(Policy::none()).build().unwrap();
    let staff = srv.staff_base.clone().unwrap();
    for (url, https) in [
        (format!("{staff}/lang/en"), true),
        (format!("{}/v1/health", srv.base), true),
        (format!("{staff}/lang/en"), false),
        (format!("{}/v1/health", srv.base), false),
    ] {
        let mut req = http.get(&url);
        if https {
            req = req.header("x-forwarded-proto", "https");
        }
        let r = req.send().await.unwrap();
        let hsts = r.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(hsts.as_deref(), https.then_some("max-age=31536000"), "{url} https={https}");
        if url.ends_with("/lang/en") {
            let set = r.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_string();
            assert!(set.contains("; HttpOnly") && set.contains("; Secure") == https, "{set}");
        }
    }
    // A client that is not a trusted proxy cannot claim HTTPS (its cookie would then
    // never come back over plain HTTP).
    let srv2 = TestServer::start().await;
    add_staff(&srv2).await;
    let mut claims = Console::via(&srv2, &[("x-forwarded-proto", "https")]);
    assert_eq!(claims.login(STAFF, STAFF_PASSWORD).await.0, 303);
    let set = claims.set_cookie.clone().unwrap();
    assert!(set.starts_with("bhxh_staff=") && !set.contains("Secure"), "{set}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_guessing_does_not_lock_a_staff_member_out() {
    let srv = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.limits.per_username = 3;
        // Passed by the guessers together below: it refuses no one.
        c.limits.per_username_total = 5;
    })
    .await;
    add_staff(&srv).await;
    let mut guesser = Console::via(&srv, &[("x-forwarded-for", "198.51.100.66")]);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(guesser.login(STAFF, "Sai-mat-khau-1!").await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    // The member, from the office, logs in.
    let mut member = Console::via(&srv, &[("x-forwarded-for", "203.0.113.10")]);
    assert_eq!(member.login(STAFF, STAFF_PASSWORD).await.0, 303);
    // Many clients guessing together lock no one out either.
    for c in 1..=5 {
        let mut other = Console::via(&srv, &[("x-forwarded-for", &format!("198.51.100.{c}"))]);
        for _ in 0..3 {
            assert_eq!(other.login(STAFF, "Sai-mat-khau-1!").await.0, 401);
        }
    }
    let mut member = Console::via(&srv, &[("x-forwarded-for", "203.0.113.11")]);
    assert_eq!(member.login(STAFF, STAFF_PASSWORD).await.0, 303);
    // A member's own client, locked by its own mistakes, is opened by `staff unlock`.
    let out = bhxh_server::admin::staff_unlock(&srv.store, &srv.clock, STAFF).await.unwrap();
    assert!(out.contains("Staff login limits cleared"), "{out}");
    assert_eq!(guesser.login(STAFF, "Sai-mat-khau-1!").await.0, 401, "its window was cleared");
    assert!(bhxh_server::admin::staff_unlock(&srv.store, &srv.clock, "khong-co-ai").await.is_err());
}

/// A relay that answers a mail with a 4xx once and then with 5xx: the mail is retried,
/// then given up on (a dead letter, its secret wiped), and the console says so on its
/// first page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_refused_for_good_is_a_dead_letter_and_the_console_warns() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mails = AtomicUsize::new(0);
    let (port, serving) = scripted_relay(move |event| match event {
        RelayEvent::Command(c) if c.to_ascii_uppercase().starts_with("MAIL FROM") => {
            if mails.fetch_add(1, Ordering::SeqCst) == 0 {
                RelayReply::Send(b"451 4.3.0 try again later\r\n")
            } else {
                RelayReply::Send(b"550 5.1.1 mailbox unavailable\r\n")
            }
        }
        _ => RelayReply::Send(b"250 OK\r\n"),
    })
    .await;
    let srv = TestServer::start_with(|c| c.smtp_url = format!("smtp://127.0.0.1:{port}")).await;
    srv.enrol(USER, MST, EMAIL).await;
    add_staff(&srv).await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mails_now = loop {
        let m = srv.store.list_mail(10).await.unwrap();
        if m.len() == 1 && m.iter().all(|m| m.status == "failed") {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "not given up on: {m:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // The reset's one mail was tried twice (4xx, then 5xx) and given up; its secret wiped.
    let attempts: Vec<i64> = mails_now.iter().map(|m| m.attempts).collect();
    assert_eq!(attempts, [2], "{mails_now:?}");
    assert!(
        mails_now.iter().all(|m| m.secret.is_none() && m.last_error.as_deref().unwrap_or_default().contains("550")),
        "{mails_now:?}"
    );
    let mut c = Console::new(&srv);
    assert_eq!(c.login(STAFF, STAFF_PASSWORD).await.0, 303);
    let (status, page, _) = c.get("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"dead-mail-alert\"") && page.contains("1 thư không gửi được"), "{page}");
    serving.abort();
}

/// A disabled account: its page says so and why, and a reset by staff is refused with
/// `ACCOUNT_DISABLED` (no mail, no temporary password).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_account_shows_why_and_staff_cannot_start_a_reset() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    add_staff(&srv).await;
    bhxh_server::admin::account_set_disabled(&srv.store, &srv.clock, USER, Some("doanh nghiệp đã giải thể"))
        .await
        .unwrap();
    let mut c = Console::new(&srv);
    assert_eq!(c.login(STAFF, STAFF_PASSWORD).await.0, 303);
    let (status, page, _) = c.get("/account/ketoan01").await;
    assert_eq!(status, 200);
    assert!(page.contains("data-testid=\"account-disabled\"") && page.contains("doanh nghiệp đã giải thể"), "{page}");
    let csrf = c.csrf().await;
    let (status, page, _) = c
        .post("/account/ketoan01/reset", &[("csrf", &csrf), ("verified", "yes"), ("note", "gọi 9:40, đối chiếu CCCD")])
        .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("ACCOUNT_DISABLED") || page.contains("Tài khoản đang bị vô hiệu hóa"), "{page}");
    assert!(page.contains("data-testid=\"back-to-account\">Về trang tài khoản ketoan01"), "{page}");
    assert_eq!(srv.side_effects(USER).await, (0, false), "no mail, no temporary password");
}
