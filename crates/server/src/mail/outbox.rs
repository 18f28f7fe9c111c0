//! The delivery worker: claims due mail (a lease, so several servers share one outbox),
//! opens its sealed secrets into the body, and sends it by SMTP or as an `.eml` file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::{Rng, RngCore};
use tokio::sync::Notify;
use zeroize::Zeroizing;

use super::sealed::OutboxKey;
use crate::clock::Clock;
use crate::config::{Config, OutboxConfig};
use crate::store::{Mail, Store};

/// A fresh Message-ID (without angle brackets).
pub fn new_message_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("{}@bhxh-reset", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// How mail leaves the server.
#[derive(Clone, Debug)]
pub enum Transport {
    /// A relay over SMTP.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in a folder: the embedded default, for demos and air-gapped use.
    Files(PathBuf),
}

impl Transport {
    /// From the configuration: SMTP when `smtp_url` is set, else `<data_dir>/outbox/`.
    pub fn from_config(config: &Config) -> anyhow::Result<Transport> {
        if config.smtp_url.is_empty() {
            let dir = config.data_dir.join("outbox");
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            tracing::warn!(dir = %dir.display(), "mail goes to .eml files (temporary passwords in clear, readable by this user only, removed after their lifetime): for a one-machine demo; set smtp_url for real use");
            Ok(Transport::Files(dir))
        } else {
            let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
                .context("smtp_url (smtp://user:pass@host:port?tls=required or smtps://…)")?
                .timeout(Some(Duration::from_secs(config.outbox.smtp_timeout_secs)))
                .build();
            Ok(Transport::Smtp(t))
        }
    }

    async fn send(&self, message: Message, file_stem: &str) -> Result<(), DeliveryError> {
        match self {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    DeliveryError::Permanent(e.to_string())
                } else {
                    DeliveryError::Transient(e.to_string())
                }
            }),
            Transport::Files(dir) => {
                let tmp = dir.join(format!(".{file_stem}.tmp"));
                let path = dir.join(format!("{file_stem}.eml"));
                let bytes = message.formatted();
                let write = async {
                    // The file holds the password in clear: readable by this user only.
                    let mut open = tokio::fs::OpenOptions::new();
                    open.write(true).create(true).truncate(true);
                    #[cfg(unix)]
                    open.mode(0o600);
                    let mut f = open.open(&tmp).await?;
                    tokio::io::AsyncWriteExt::write_all(&mut f, &bytes).await?;
                    f.sync_all().await?;
                    drop(f);
                    tokio::fs::rename(&tmp, &path).await
                };
                write.await.map_err(|e| DeliveryError::Transient(e.to_string()))
            }
        }
    }
}

#[derive(Debug)]
enum DeliveryError {
    Transient(String),
    Permanent(String),
}

/// Delivers the outbox: one worker per server process.
#[derive(Clone, Debug)]
pub struct Outbox {
    pub store: Store,
    pub transport: Transport,
    pub key: OutboxKey,
    pub clock: Clock,
    pub from: Mailbox,
    pub config: OutboxConfig,
    /// How long rows live (the worker runs the purge).
    pub retention: crate::config::RetentionConfig,
    /// How long an undelivered password may wait before it is useless (its lifetime).
    pub secret_ttl_secs: i64,
    pub wake: Arc<Notify>,
}

impl Outbox {
    /// Runs until the task is aborted: delivers what is due, then sleeps until woken
    /// by a new mail or the poll interval.
    pub async fn run(self) {
        let mut last_purge = 0;
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = %e, "outbox pass failed");
            }
            let now = self.clock.now();
            if now - last_purge >= self.retention.purge_interval_secs {
                // Bulk work (hundreds of thousands of lines on a busy server) waits in the
                // ordinary lane: it never holds strangers' writes back for its whole length.
                match crate::store::gate::in_request(self.store.purge(now, &self.retention)).await {
                    Ok(counts) => {
                        let gone: Vec<String> =
                            counts.iter().filter(|(_, n)| *n > 0).map(|(t, n)| format!("{t}={n}")).collect();
                        if !gone.is_empty() {
                            tracing::info!(purged = %gone.join(" "), "rows past their lifetime deleted");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "purge failed"),
                }
                self.purge_files();
                last_purge = now;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(self.config.poll_ms)) => {}
            }
        }
    }

    /// The file outbox keeps no mail past the temporary password's lifetime: the files
    /// hold it in clear.
    pub fn purge_files(&self) {
        let Transport::Files(dir) = &self.transport else { return };
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let keep = Duration::from_secs(self.secret_ttl_secs.max(0) as u64);
        for e in entries.flatten() {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > keep);
            if old && e.path().extension().is_some_and(|x| x == "eml") {
                if let Err(err) = std::fs::remove_file(e.path()) {
                    tracing::warn!(file = %e.path().display(), error = %err, "could not remove an expired .eml");
                }
            }
        }
    }

    /// One pass over the due mail; returns how many were delivered.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let mut delivered = 0;
        loop {
            let due = self.store.due_mail(self.clock.now_ms(), 50, self.key.id()).await?;
            if due.is_empty() {
                return Ok(delivered);
            }
            let mut progress = false;
            // Several at once, each bounded in time: a slow or silent relay holds one
            // delivery for at most `delivery_timeout_secs`, never the whole loop. Each
            // is recorded as soon as it ends.
            let mut batch = tokio::task::JoinSet::new();
            let concurrency = self.config.concurrency.max(1);
            for mail in due {
                // Several servers may share the outbox: only the one that claims a mail
                // tries it now, for the lease's length.
                let now_ms = self.clock.now_ms();
                let lease = now_ms + self.config.claim_lease_secs.max(1) * 1000;
                if !self.store.claim_mail(mail.id, now_ms, lease).await? {
                    continue;
                }
                let me = self.clone();
                batch.spawn(async move {
                    let limit = Duration::from_secs(me.config.delivery_timeout_secs.max(1));
                    let outcome = match tokio::time::timeout(limit, me.deliver(&mail)).await {
                        Ok(r) => r,
                        Err(_) => Err(DeliveryError::Transient(format!(
                            "no answer from the relay within {} s",
                            limit.as_secs()
                        ))),
                    };
                    (mail, outcome)
                });
                while batch.len() >= concurrency {
                    if let Some(done) = batch.join_next().await {
                        let (mail, outcome) = done?;
                        (delivered, progress) = self.record(&mail, outcome, delivered, progress).await?;
                    }
                }
            }
            while let Some(done) = batch.join_next().await {
                let (mail, outcome) = done?;
                (delivered, progress) = self.record(&mail, outcome, delivered, progress).await?;
            }
            if !progress {
                return Ok(delivered);
            }
        }
    }

    /// Records how a delivery ended: (delivered so far, whether the pass progressed).
    async fn record(
        &self,
        mail: &Mail,
        outcome: Result<(), DeliveryError>,
        delivered: usize,
        progress: bool,
    ) -> anyhow::Result<(usize, bool)> {
        match outcome {
            Ok(()) => {
                self.store.mark_sent(mail.id, self.clock.now()).await?;
                tracing::info!(mail = mail.id, reference = %mail.reference, kind = %mail.kind, "mail delivered");
                Ok((delivered + 1, true))
            }
            Err(DeliveryError::Transient(err)) => {
                let next = self.clock.now_ms() + self.backoff_ms(mail.attempts);
                tracing::warn!(mail = mail.id, reference = %mail.reference, error = %err, "mail delivery failed; will retry");
                self.store.mark_failed(mail.id, next, &err).await?;
                Ok((delivered, progress))
            }
            Err(DeliveryError::Permanent(err)) => {
                tracing::error!(mail = mail.id, reference = %mail.reference, error = %err, "mail refused; giving up");
                self.store.mark_dead(mail.id, &err).await?;
                Ok((delivered, true))
            }
        }
    }

    fn backoff_ms(&self, attempts: i64) -> i64 {
        let exp = self.config.base_backoff_ms.saturating_mul(1i64 << attempts.clamp(0, 20));
        let capped = exp.min(self.config.max_backoff_ms).max(1);
        // Up to 25 % jitter so a relay coming back is not hit by every mail at once.
        capped + rand::rngs::OsRng.gen_range(0..=capped / 4)
    }

    async fn deliver(&self, mail: &Mail) -> Result<(), DeliveryError> {
        let body = match &mail.secret {
            Some(sealed) => {
                if self.clock.now() > mail.created_at + self.secret_ttl_secs {
                    return Err(DeliveryError::Permanent("the temporary password expired before delivery".into()));
                }
                let secrets = self
                    .key
                    .open_secrets(&mail.message_id, sealed)
                    .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
                let mut body = Zeroizing::new(mail.body.clone());
                for (placeholder, value) in secrets.0.iter() {
                    *body = body.replace(placeholder.as_str(), value);
                }
                body
            }
            None => Zeroizing::new(mail.body.clone()),
        };
        let to: Mailbox = mail.recipient.parse().map_err(|e| DeliveryError::Permanent(format!("recipient: {e}")))?;
        let message = Message::builder()
            .message_id(Some(format!("<{}>", mail.message_id)))
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(String::clone(&body))
            .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        let stem = format!("{}-{}-{}", mail.created_at, mail.id, mail.kind);
        self.transport.send(message, &stem).await
    }
}
