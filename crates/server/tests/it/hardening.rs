//! What a browser, a proxy or another local user could take from the server without
//! asking it anything wrong: answers kept in a cache or read as another type, request
//! heads of any size, a database file others can read, every connection slot held by
//! one client. Each test has its own server and data dir; the connection test its own
//! loopback source addresses.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

const USER: &str = "ketoan01";
const EMAIL: &str = "ketoan@congty.vn";

#[tokio::test]
async fn json_answers_are_never_kept_or_sniffed() {
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    srv.set_password(USER, "Dung-Mat-Khau-2026").await;
    // A login's answer carries the session token: no browser or proxy may keep it.
    let login = srv
        .http
        .post(format!("{}/v1/auth/login", srv.base))
        .json(&serde_json::json!({"username": USER, "password": "Dung-Mat-Khau-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    // An error, a health answer and the fallback alike.
    let wrong = srv
        .http
        .post(format!("{}/v1/auth/login", srv.base))
        .json(&serde_json::json!({"username": USER, "password": "x"}))
        .send()
        .await
        .unwrap();
    let health = srv.http.get(format!("{}/v1/health", srv.base)).send().await.unwrap();
    let missing = srv.http.get(format!("{}/khong-co", srv.base)).send().await.unwrap();
    for (what, r) in [("login", &login), ("refused login", &wrong), ("health", &health), ("404", &missing)] {
        let h = r.headers();
        assert_eq!(h.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{what}: {h:?}");
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{what}: {h:?}");
        assert!(h["content-type"].to_str().unwrap().starts_with("application/json"), "{what}: {h:?}");
        assert_eq!(
            h.get("content-security-policy").map(|v| v.to_str().unwrap()),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{what}"
        );
    }
}

/// The console's refusals that the web framework writes itself (a path it cannot read,
/// echoing the request's text) are never sniffed, framed or kept either.
#[tokio::test]
async fn the_consoles_plain_refusals_are_not_sniffed_framed_or_kept() {
    let srv = TestServer::start().await;
    let staff = srv.staff_base.clone().expect("a staff listener");
    let r = srv.http.post(format!("{staff}/mail/%3Cscript%3Ealert(1)%3C%2Fscript%3E/resend")).send().await.unwrap();
    let h = r.headers().clone();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{h:?}");
    assert!(
        h.get("content-security-policy")
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
            .contains("frame-ancestors 'none'"),
        "{h:?}"
    );
    assert_eq!(h.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{h:?}");
}

/// A request head of 200 KB is refused with 431 before any handler sees it; one of a
/// normal size on the same server is answered.
#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let srv = TestServer::start().await;
    let port: u16 = srv.base.rsplit(':').next().unwrap().parse().unwrap();
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!("GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n", "a".repeat(200 * 1024));
    // The server may stop reading (and close) before the whole head is written.
    let _ = c.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), c.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let ok =
        srv.http.get(format!("{}/v1/health", srv.base)).header("x-normal", "a".repeat(4 * 1024)).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

/// The database and its WAL files hold emails, MSTs and every argon2 hash: the server
/// creates them, and the data folder, for its own user only.
#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_folder_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let srv = TestServer::start().await;
    srv.enrol(USER, MST, EMAIL).await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), USER).await.0, 200);
    let dir = srv.data.path().join("server");
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")).permissions().mode() & 0o777
    };
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    for name in ["bhxh.db", "bhxh.db-wal", "bhxh.db-shm", "outbox.key"] {
        assert_eq!(mode(name), 0o600, "{name}");
    }
}

/// A database file left readable by others (an older version, a copy) is narrowed to
/// its owner when the server opens it.
#[cfg(unix)]
#[tokio::test]
async fn a_database_file_others_can_read_is_narrowed_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cu.db");
    let url = format!("sqlite://{}", db.display());
    bhxh_server::store::Store::open(&url).await.unwrap().close().await;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = bhxh_server::store::Store::open(&url).await.unwrap();
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o600);
    store.close().await;
}

/// A connection from `from` (another loopback address: each is a client of its own).
async fn connect_from(from: &str, port: u16) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(([127, 0, 0, 1], port).into()).await.unwrap()
}

/// Whether the server closed `c` (EOF or reset) within the deadline.
async fn closed_by_server(c: &mut tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(tokio::time::timeout(Duration::from_secs(20), c.read(&mut buf)).await, Ok(Ok(0)) | Ok(Err(_)))
}

/// One client cannot hold every connection slot: past its share its new connections
/// are closed at once, and another client is served meanwhile.
#[tokio::test]
async fn one_client_holds_at_most_its_share_of_connections() {
    let srv = TestServer::start_with(|c| c.http.max_connections_per_client = 4).await;
    let port: u16 = srv.base.rsplit(':').next().unwrap().parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from("127.0.0.2", port).await);
    }
    let mut fifth = connect_from("127.0.0.2", port).await;
    assert!(closed_by_server(&mut fifth).await, "the fifth connection of one client is closed");
    // Another client is served while the first holds its four.
    let other = reqwest::Client::builder()
        .no_proxy()
        .local_address("127.0.0.3".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    assert_eq!(other.get(format!("{}/v1/health", srv.base)).send().await.unwrap().status(), 200);
    // A connection given back is the client's again: a request on a new one is answered.
    drop(held.pop());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut c = connect_from("127.0.0.2", port).await;
        c.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut answer)).await;
        if answer.starts_with(b"HTTP/1.1 200") {
            break;
        }
        // The server may not have seen the close yet: it is counted until it does.
        assert!(std::time::Instant::now() < deadline, "the client's slot never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a keep-alive `GET /v1/health` on `c` and reads the whole answer, for at most
/// `wait`: `Some(status line)` if the server answered.
async fn health_on(c: &mut tokio::net::TcpStream, wait: Duration) -> Option<String> {
    c.write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    tokio::time::timeout(wait, read_answer(c)).await.ok()
}

/// Reads one answer (head and `content-length` body) off `c`; its status line.
async fn read_answer(c: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(c.read(&mut byte).await.unwrap(), 1, "closed mid-answer");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .expect("a content-length");
    let mut body = vec![0u8; length];
    c.read_exact(&mut body).await.unwrap();
    head.lines().next().unwrap().to_string()
}

/// Every connection slot taken (`max_connections`, by clients within their shares): a
/// new client's connection waits in the kernel's queue, unanswered and unrefused, and is
/// served as soon as a slot is given back. Each held connection proves it holds a slot
/// by being answered first; nothing closes them meanwhile (timeouts of two minutes).
#[tokio::test]
async fn at_the_connection_cap_a_new_client_waits_and_is_served_when_a_slot_comes_back() {
    let srv = TestServer::start_with(|c| {
        c.http.max_connections = 4;
        c.http.max_connections_per_client = 2;
        (c.http.header_read_timeout_secs, c.http.idle_timeout_secs) = (120, 120);
    })
    .await;
    let port: u16 = srv.base.rsplit(':').next().unwrap().parse().unwrap();
    let mut held = Vec::new();
    for from in ["127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"] {
        let mut c = connect_from(from, port).await;
        let status = health_on(&mut c, Duration::from_secs(20)).await.expect("a connection under the cap is served");
        assert_eq!(status, "HTTP/1.1 200 OK");
        held.push(c);
    }
    // The cap is reached: the kernel takes the connection, the server does not.
    let mut waiting = connect_from("127.0.0.4", port).await;
    assert_eq!(health_on(&mut waiting, Duration::from_secs(1)).await, None, "answered past the cap");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), waiting.peek(&mut [0u8; 1])).await.is_err(),
        "the waiting connection was closed instead of kept in the queue"
    );
    // A slot given back goes to the waiting client: its request, sent while it waited,
    // is answered.
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut waiting))
        .await
        .expect("the waiting client was never served");
    assert_eq!(status, "HTTP/1.1 200 OK");
    // The clients still holding slots are served on them all along.
    for c in &mut held {
        assert_eq!(health_on(c, Duration::from_secs(20)).await.as_deref(), Some("HTTP/1.1 200 OK"));
    }
}
