//! The outbox under a failing relay: SMTP down during 100 resets, then back.

use std::time::Duration;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_down_during_100_resets_then_back_delivers_each_mail_once() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = test_config(&data.path().join("server"), Some(port));
    let srv = TestServer::start_config(config, data, None).await;
    let token = SoftToken::load("rsa-valid");
    // scripts/bench-faults.sh runs it with 1,000.
    let n: usize = std::env::var("BHXH_BENCH_RESETS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    for i in 0..n {
        srv.enrol(&format!("user{i:03}"), MST, &format!("user{i:03}@congty.vn")).await;
    }

    // The relay is down: every reset still succeeds and its mail waits in the outbox.
    for i in 0..n {
        let (status, body) = srv.recover(&token, &format!("user{i:03}")).await;
        assert_eq!(status, 200, "{body}");
    }
    // Until the worker has tried (and failed) at least once: a condition, not a pause.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let queued = loop {
        let queued = srv.store.list_mail(100_000).await.unwrap();
        if queued.iter().any(|m| m.attempts > 0) || std::time::Instant::now() > deadline {
            break queued;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(queued.len(), n, "one mail per reset");
    assert!(queued.iter().all(|m| m.status == "pending"));
    assert!(queued.iter().any(|m| m.attempts > 0 && m.last_error.is_some()), "the worker tried and failed");
    assert!(queued.iter().filter(|m| m.kind == "reset").all(|m| m.has_secret()), "passwords wait encrypted");

    // The relay comes back on the same port.
    let sink = SmtpSink::start(&srv.data.path().join("received"), port);
    let mails = sink.wait_count(n, Duration::from_secs(60)).await;
    // Give a duplicate, if there were one, the time to arrive.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails = if sink.mails().len() > mails.len() { sink.mails() } else { mails };
    assert_eq!(mails.len(), n, "every mail delivered, none twice");
    let ids: std::collections::HashSet<_> = mails.iter().map(|m| m.message_id.clone()).collect();
    assert_eq!(ids.len(), n, "no Message-ID twice");
    for i in 0..n {
        let to = format!("user{i:03}@congty.vn");
        let resets: Vec<_> =
            mails.iter().filter(|m| m.to == [to.clone()] && m.subject.contains("Mật khẩu tạm thời")).collect();
        assert_eq!(resets.len(), 1, "{to}");
        password_in(resets[0]);
    }
    eprintln!(
        "smtp outage: {n} resets while the relay was down; {} mails delivered after it came back, 0 lost, 0 duplicates",
        mails.len()
    );
    let after = srv.store.list_mail(100_000).await.unwrap();
    assert!(after.iter().all(|m| m.status == "sent" && !m.has_secret()), "secrets are wiped once delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_outbox_is_the_embedded_default() {
    let data = tempfile::tempdir().unwrap();
    let config = test_config(&data.path().join("server"), None);
    let srv = TestServer::start_config(config, data, None).await;
    srv.enrol("ketoan01", MST, "ketoan@congty.vn").await;
    let (status, _) = srv.recover(&SoftToken::load("ec-valid"), "ketoan01").await;
    assert_eq!(status, 200);
    let dir = srv.data.path().join("server/outbox");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let emls = loop {
        let emls: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        if !emls.is_empty() || std::time::Instant::now() > deadline {
            break emls;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(emls.len(), 1, "the reset mail as an .eml file");
    let reset = emls.iter().find(|p| p.to_string_lossy().ends_with("-reset.eml")).expect("the reset mail");
    let raw = std::fs::read_to_string(reset).unwrap();
    assert!(raw.contains("To: ketoan@congty.vn"));
    assert!(raw.contains("Message-ID: <"));
    // It holds the password in clear: this user only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in &emls {
            assert_eq!(std::fs::metadata(p).unwrap().permissions().mode() & 0o777, 0o600, "{}", p.display());
        }
    }
}

/// The `.eml` files hold temporary passwords in clear: they are removed once the
/// password's lifetime is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eml_files_are_removed_after_the_password_lifetime() {
    let data = tempfile::tempdir().unwrap();
    let mut config = test_config(&data.path().join("server"), None);
    config.temp_password_ttl_secs = 2;
    config.retention.purge_interval_secs = 1;
    let srv = TestServer::start_config(config, data, None).await;
    srv.enrol("ketoan01", MST, "ketoan@congty.vn").await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), "ketoan01").await.0, 200);
    let dir = srv.data.path().join("server/outbox");
    // When each .eml was written (its mtime, which the purge also goes by).
    let emls = || -> Vec<std::time::SystemTime> {
        std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .filter_map(|e| e.metadata().and_then(|m| m.modified()).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let written = loop {
        if let Some(&at) = emls().iter().max() {
            break at;
        }
        assert!(std::time::Instant::now() < deadline, "the mail was not written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    while !emls().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the .eml files outlived the password");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Measured from the write itself, not from when this test noticed it (late on a
    // loaded machine); the file's clock is coarse, hence the margin below 2 s.
    let lived = std::time::SystemTime::now().duration_since(written).unwrap_or_default();
    assert!(lived >= Duration::from_millis(1900), "removed {lived:?} after it was written, before the 2 s lifetime");
}

/// A relay that accepts connections and then says nothing (a hung MTA, a firewall that
/// drops after the handshake): each delivery is cut off after its time limit and
/// retried, instead of holding the one delivery loop for ever; when a working relay
/// comes back on the same port, the mail is delivered, once, with its password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_accepts_and_goes_silent_does_not_stall_the_outbox() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            conns.push(c); // kept open, never written to
        }
    });
    let data = tempfile::tempdir().unwrap();
    let mut config = test_config(&data.path().join("server"), Some(port));
    config.outbox.delivery_timeout_secs = 1;
    config.outbox.claim_lease_secs = 3;
    config.outbox.base_backoff_ms = 50;
    config.outbox.max_backoff_ms = 100;
    let srv = TestServer::start_config(config, data, None).await;
    srv.enrol("ketoan01", MST, "ketoan@congty.vn").await;
    assert_eq!(srv.recover(&SoftToken::load("rsa-valid"), "ketoan01").await.0, 200);
    // The mail is tried again and again, each attempt ended by the time limit.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mails = srv.store.list_mail(10).await.unwrap();
        if mails.len() == 1 && mails.iter().all(|m| m.attempts >= 2) {
            assert!(
                mails
                    .iter()
                    .all(|m| m.status == "pending"
                        && m.last_error.as_deref() == Some("no answer from the relay within 1 s")),
                "{mails:?}"
            );
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the outbox is stuck on the silent relay: {mails:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The hung relay goes (its listener and every connection it held are closed) and a
    // working one takes its port.
    held.abort();
    let _ = held.await;
    let sink = SmtpSink::start(&srv.data.path().join("received"), port);
    let mail = sink.wait_for("ketoan@congty.vn", "Mật khẩu tạm thời").await;
    password_in(&mail);
    // Give a duplicate, if there were one, the time to arrive.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mails = srv.store.list_mail(10).await.unwrap();
        if mails.iter().all(|m| m.status == "sent") {
            assert!(mails.iter().all(|m| !m.has_secret()), "the secret is wiped once delivered: {mails:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never marked sent: {mails:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink.wait_count(2, Duration::from_millis(1500)).await.len(), 1, "delivered once");
}

/// Staff press "resend" while a worker is delivering the mail (it holds the claim): the
/// mail is not made due again, so no second worker sends it at the same time. A mail
/// waiting out a long backoff is made due at once.
#[tokio::test]
async fn a_resend_during_a_delivery_does_not_send_the_mail_twice() {
    use bhxh_server::store::{AuditEntry, AuditEvent, MailKind, NewMail, Outcome, Store};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}/bhxh.db", dir.path().display())).await.unwrap();
    let now = 1_800_000_000;
    let audit = || {
        AuditEntry::new("RC-TEST-0001".into(), now, AuditEvent::StaffResend, Outcome::Ok, Actor::staff_login("test"))
    };
    let mail = NewMail {
        message_id: "m1@bhxh-reset".into(),
        account_id: None,
        kind: MailKind::NoticeReset,
        recipient: "ketoan@congty.vn".into(),
        subject: "s".into(),
        body: "b".into(),
        secret: None,
        key_id: None,
        reference: "RC-TEST-0001".into(),
    };
    assert!(store.resend_mail(0, Some(&mail), now, 60_000, &audit()).await.unwrap(), "enqueued");
    let id = store.list_mail(1).await.unwrap()[0].id;
    let now_ms = now * 1000;
    // A worker takes it for 60 s.
    assert!(store.claim_mail(id, now_ms, now_ms + 60_000).await.unwrap());
    assert!(store.resend_mail(id, None, now, 60_000, &audit()).await.unwrap(), "staff are told it is on its way");
    assert!(store.due_mail(now_ms, 10, "k1-test").await.unwrap().is_empty(), "not due again while a worker holds it");
    // Waiting out a 5-minute backoff instead: made due now.
    store.mark_failed(id, now_ms + 300_000, "451 try later").await.unwrap();
    assert!(store.resend_mail(id, None, now, 60_000, &audit()).await.unwrap());
    assert_eq!(store.due_mail(now_ms, 10, "k1-test").await.unwrap().len(), 1);
}
