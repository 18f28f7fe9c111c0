//! Mail: what the reset and notification mails say, the outbox's encryption at rest,
//! and the worker that delivers the outbox over SMTP (or into `.eml` files).
//!
//! A mail is written into the `outbox` table in the same transaction as the change it
//! reports, so a reset is never committed without its mail nor a mail sent for a reset
//! that did not happen. The worker delivers at least once; the Message-ID is fixed at
//! enqueue time, so a receiver can drop a duplicate after a crash between "sent" and
//! "marked sent".

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use base64::Engine;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::{Rng, RngCore};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use tokio::sync::Notify;
use zeroize::Zeroizing;

use crate::clock::{vn_time, Clock};
use crate::config::{Config, OutboxConfig};
use crate::store::{Mail, Store};

/// Where the temporary password goes in a stored body; filled in only at delivery.
pub const PASSWORD_PLACEHOLDER: &str = "{{TEMP_PASSWORD}}";
/// Where a portal mail's activation link goes; a secret too (it activates the password).
pub const LINK_PLACEHOLDER: &str = "{{ACTIVATION_LINK}}";

/// The secrets of one mail, sealed together: placeholder → value. Wiped on drop.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Secrets(pub std::collections::BTreeMap<String, String>);

impl Secrets {
    /// From `(placeholder, value)` pairs.
    pub fn from<const N: usize>(pairs: [(String, String); N]) -> Secrets {
        Secrets(pairs.into_iter().collect())
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Drop for Secrets {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for v in self.0.values_mut() {
            v.zeroize();
        }
    }
}

/// The key that encrypts temporary passwords in the outbox (AES-256-GCM).
#[derive(Clone)]
pub struct OutboxKey(Arc<LessSafeKey>);

impl std::fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutboxKey([redacted])")
    }
}

impl OutboxKey {
    /// `BHXH_OUTBOX_KEY` (base64 of 32 bytes) if set, else `<data_dir>/outbox.key`,
    /// created with mode 0600 on first start.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<OutboxKey> {
        let bytes: Zeroizing<Vec<u8>> = if let Ok(b64) = std::env::var("BHXH_OUTBOX_KEY") {
            Zeroizing::new(base64::engine::general_purpose::STANDARD.decode(b64.trim()).context("BHXH_OUTBOX_KEY")?)
        } else {
            let path = data_dir.join("outbox.key");
            if !path.exists() {
                std::fs::create_dir_all(data_dir)?;
                let mut key = Zeroizing::new(vec![0u8; 32]);
                rand::rngs::OsRng.fill_bytes(&mut key);
                write_private(&path, &key)?;
            }
            Zeroizing::new(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
        };
        OutboxKey::from_bytes(&bytes)
    }

    /// A key from 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<OutboxKey> {
        if bytes.len() != 32 {
            bail!("the outbox key must be 32 bytes");
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("bad outbox key"))?;
        Ok(OutboxKey(Arc::new(LessSafeKey::new(key))))
    }

    /// `nonce ‖ ciphertext ‖ tag`, bound to the mail's Message-ID.
    pub fn seal(&self, message_id: &str, plaintext: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut buf = plaintext.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(message_id.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Seals every secret of a mail at once (a JSON object of placeholder → value).
    pub fn seal_secrets(&self, message_id: &str, secrets: &Secrets) -> anyhow::Result<Vec<u8>> {
        let json = Zeroizing::new(serde_json::to_string(secrets)?);
        self.seal(message_id, &json)
    }

    /// The inverse of [`OutboxKey::seal_secrets`]; a plain sealed string is the password.
    pub fn open_secrets(&self, message_id: &str, sealed: &[u8]) -> anyhow::Result<Secrets> {
        let plain = self.open(message_id, sealed)?;
        Ok(match serde_json::from_str::<Secrets>(&plain) {
            Ok(map) => map,
            Err(_) => Secrets::from([(PASSWORD_PLACEHOLDER.to_string(), plain.to_string())]),
        })
    }

    /// The inverse of [`OutboxKey::seal`].
    pub fn open(&self, message_id: &str, sealed: &[u8]) -> anyhow::Result<Zeroizing<String>> {
        if sealed.len() < NONCE_LEN {
            bail!("sealed secret too short");
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(message_id.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("the outbox secret does not open with this key"))?;
        Ok(Zeroizing::new(String::from_utf8(plain.to_vec()).context("secret is not UTF-8")?))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// A fresh Message-ID (without angle brackets).
pub fn new_message_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("{}@bhxh-reset", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

/// Facts a mail reports.
#[derive(Debug)]
pub struct MailFacts<'a> {
    pub username: &'a str,
    pub at: i64,
    pub reference: &'a str,
    pub hotline: &'a str,
}

/// `ke****01`: enough for the owner to recognise, not enough to learn it.
pub fn mask_username(username: &str) -> String {
    let chars: Vec<char> = username.chars().collect();
    if chars.len() <= 4 {
        return format!("{}***", chars.first().map(|c| c.to_string()).unwrap_or_default());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}****{tail}")
}


/// How a reset was asked for, as the reset mail tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetVia {
    /// Proven with the user's digital-signature token.
    Token,
    /// Started by support staff for a caller who proved who they are by phone.
    Staff,
}

/// The reset mail: subject and body with [`PASSWORD_PLACEHOLDER`] where the password goes.
pub fn reset_mail(f: &MailFacts<'_>, expires_at: i64) -> (String, String) {
    reset_mail_via(f, expires_at, ResetVia::Token)
}

/// [`reset_mail`] for a reset asked for `via` the token or support staff.
pub fn reset_mail_via(f: &MailFacts<'_>, expires_at: i64, via: ResetVia) -> (String, String) {
    let (how_vi, how_en) = match via {
        ResetVia::Token => (
            "Theo yêu cầu lấy lại mật khẩu đã được xác thực bằng chữ ký số (token)",
            "After a password recovery proven with your digital-signature token,",
        ),
        ResetVia::Staff => (
            "Theo yêu cầu qua tổng đài hỗ trợ, sau khi nhân viên đã xác minh danh tính người gọi",
            "At your request by phone, after support staff verified who you are,",
        ),
    };
    let user = mask_username(f.username);
    let (at, exp) = (vn_time(f.at), vn_time(expires_at));
    let subject = format!("[BHXH] Mật khẩu tạm thời cho tài khoản {user} / Temporary password");
    let body = format!(
        "Kính gửi Quý khách,\n\n\
{how_vi}, hệ thống đã cấp mật khẩu tạm thời cho tài khoản {user}.\n\n\
  Thời gian:      {at} (giờ Việt Nam)\n\
  Mã tham chiếu:  {reference}\n\
  Mật khẩu tạm thời: {PASSWORD_PLACEHOLDER}\n\n\
Việc cần làm tiếp theo:\n\
  1. Mở phần mềm BHXH và đăng nhập bằng mật khẩu tạm thời trên.\n\
  2. Hệ thống sẽ yêu cầu đổi mật khẩu ngay; hãy đặt mật khẩu mới của riêng bạn.\n\
Mật khẩu tạm thời chỉ dùng được một lần và hết hạn lúc {exp}. Mật khẩu cũ vẫn dùng được cho đến khi bạn đăng nhập bằng mật khẩu tạm thời.\n\n\
Không phải bạn yêu cầu? Hãy gọi ngay tổng đài {hotline} và đọc mã tham chiếu {reference}. Không chia sẻ mật khẩu này với bất kỳ ai, kể cả nhân viên hỗ trợ.\n\n\
-- \nEnglish\n\n\
{how_en} the system has issued a temporary password for account {user}.\n\n\
  Time:               {at} (Vietnam time)\n\
  Reference code:     {reference}\n\
  Temporary password: {PASSWORD_PLACEHOLDER}\n\n\
What to do next:\n\
  1. Open the BHXH software and log in with the temporary password above.\n\
  2. You will be asked to change it at once; choose a new password of your own.\n\
The temporary password works once and expires at {exp}. Your old password keeps working until you log in with the temporary one.\n\n\
Not you? Call the hotline {hotline} at once and read out the reference code {reference}. Never share this password with anyone, support staff included.\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject, body)
}

/// The portal mail: the temporary password and, at the end, the activation link
/// (both placeholders, filled in only at delivery).
pub fn portal_mail(f: &MailFacts<'_>, link_expires_at: i64, password_expires_at: i64) -> (String, String) {
    let user = f.username;
    let (at, link_exp, exp) = (vn_time(f.at), vn_time(link_expires_at), vn_time(password_expires_at));
    let subject = "[BHXH] Mật khẩu mới - cần kích hoạt / New password - activation needed".to_string();
    let body = format!(
        "Kính gửi Quý khách,\n\n\
Theo yêu cầu lấy lại mật khẩu trên cổng giao dịch điện tử BHXH (mã số thuế và email đã đăng ký), hệ thống đã cấp mật khẩu mới cho tài khoản {user}.\n\n\
  Thời gian:      {at} (giờ Việt Nam)\n\
  Mã tham chiếu:  {reference}\n\
  Mật khẩu mới:   {PASSWORD_PLACEHOLDER}\n\n\
Mật khẩu mới CHỈ có hiệu lực sau khi bạn nhấn vào đường link kích hoạt ở cuối thư này, trước {link_exp}. \
Mật khẩu cũ vẫn dùng được cho đến khi bạn kích hoạt. Sau khi kích hoạt, đăng nhập bằng mật khẩu mới và đổi ngay mật khẩu của riêng bạn; \
mật khẩu mới hết hạn lúc {exp}.\n\n\
Không phải bạn yêu cầu? Đừng nhấn vào đường link; hãy gọi tổng đài {hotline} và đọc mã tham chiếu {reference}.\n\n\
-- \nEnglish\n\n\
A password request on the BHXH e-filing portal (tax code and registered email) has issued a new password for account {user}.\n\n\
  Time:           {at} (Vietnam time)\n\
  Reference code: {reference}\n\
  New password:   {PASSWORD_PLACEHOLDER}\n\n\
The new password works ONLY after you open the activation link at the end of this mail, before {link_exp}. \
Your old password keeps working until then. Then log in with the new password and change it at once; it expires at {exp}.\n\n\
Not you? Do not open the link; call the hotline {hotline} and read out the reference code {reference}.\n\n\
Đường link kích hoạt / Activation link:\n{LINK_PLACEHOLDER}\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject, body)
}

/// The notification without a password that follows every reset and every change.
pub fn notice_mail(f: &MailFacts<'_>, kind: NoticeKind) -> (String, String) {
    let user = mask_username(f.username);
    let at = vn_time(f.at);
    let (vi_what, en_what, vi_subject, en_subject) = match kind {
        NoticeKind::Reset => (
            "mật khẩu đã được cấp lại bằng chữ ký số (token)",
            "the password was reset with the digital-signature token",
            "Thông báo cấp lại mật khẩu",
            "Password reset notice",
        ),
        NoticeKind::Changed => (
            "mật khẩu đã được thay đổi",
            "the password was changed",
            "Thông báo đổi mật khẩu",
            "Password changed",
        ),
        NoticeKind::Activated => (
            "mật khẩu mới đã được kích hoạt qua đường link trong email; mật khẩu cũ không còn dùng được",
            "the new password was activated with the emailed link; the old password no longer works",
            "Thông báo kích hoạt mật khẩu mới",
            "New password activated",
        ),
        NoticeKind::StaffReset => (
            "nhân viên hỗ trợ đã cấp lại mật khẩu theo yêu cầu qua điện thoại; mật khẩu tạm thời được gửi trong một thư riêng",
            "support staff reset the password at your request by phone; the temporary password is in a separate mail",
            "Thông báo cấp lại mật khẩu",
            "Password reset notice",
        ),
    };
    let subject = format!("[BHXH] {vi_subject} / {en_subject}");
    let body = format!(
        "Kính gửi Quý khách,\n\n\
Tài khoản {user}: {vi_what} lúc {at} (giờ Việt Nam). Mã tham chiếu: {reference}.\n\
Thư này không chứa mật khẩu. Nếu không phải bạn thực hiện, hãy gọi ngay tổng đài {hotline} và đọc mã tham chiếu trên.\n\n\
-- \nEnglish\n\n\
Account {user}: {en_what} at {at} (Vietnam time). Reference code: {reference}.\n\
This mail holds no password. If this was not you, call the hotline {hotline} at once and read out the reference code.\n",
        reference = f.reference,
        hotline = f.hotline,
    );
    (subject, body)
}

/// Which notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Reset,
    Changed,
    Activated,
    StaffReset,
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
                    tokio::fs::write(&tmp, &bytes).await?;
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
            if now - last_purge > 600 {
                if let Err(e) = self.store.purge(now).await {
                    tracing::warn!(error = %e, "purge failed");
                }
                last_purge = now;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(self.config.poll_ms)) => {}
            }
        }
    }

    /// One pass over the due mail; returns how many were delivered.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let mut delivered = 0;
        loop {
            let due = self.store.due_mail(self.clock.now_ms(), 50).await?;
            if due.is_empty() {
                return Ok(delivered);
            }
            let mut progress = false;
            for mail in due {
                // Several servers may share the outbox: only the one that claims a mail
                // tries it now, for the lease's length.
                let now_ms = self.clock.now_ms();
                let lease = now_ms + self.config.claim_lease_secs.max(1) * 1000;
                if !self.store.claim_mail(mail.id, now_ms, lease).await? {
                    continue;
                }
                match self.deliver(&mail).await {
                    Ok(()) => {
                        self.store.mark_sent(mail.id, self.clock.now()).await?;
                        tracing::info!(mail = mail.id, reference = %mail.reference, kind = %mail.kind, "mail delivered");
                        delivered += 1;
                        progress = true;
                    }
                    Err(DeliveryError::Transient(err)) => {
                        let next = self.clock.now_ms() + self.backoff_ms(mail.attempts);
                        tracing::warn!(mail = mail.id, reference = %mail.reference, error = %err, "mail delivery failed; will retry");
                        self.store.mark_failed(mail.id, next, &err).await?;
                    }
                    Err(DeliveryError::Permanent(err)) => {
                        tracing::error!(mail = mail.id, reference = %mail.reference, error = %err, "mail refused; giving up");
                        self.store.mark_dead(mail.id, &err).await?;
                        progress = true;
                    }
                }
            }
            if !progress {
                return Ok(delivered);
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
                let secrets =
                    self.key.open_secrets(&mail.message_id, sealed).map_err(|e| DeliveryError::Permanent(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_message_id() {
        let k = OutboxKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = k.seal("m1@x", "Ab3#defghijkmn").unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"Ab3#"));
        assert_eq!(k.open("m1@x", &sealed).unwrap().as_str(), "Ab3#defghijkmn");
        assert!(k.open("m2@x", &sealed).is_err());
        assert!(OutboxKey::from_bytes(&[8u8; 32]).unwrap().open("m1@x", &sealed).is_err());
    }

    #[test]
    fn several_secrets_seal_together_and_a_plain_one_is_the_password() {
        let k = OutboxKey::from_bytes(&[7u8; 32]).unwrap();
        let secrets = Secrets::from([
            (PASSWORD_PLACEHOLDER.to_string(), "Ab3#\"def".to_string()),
            (LINK_PLACEHOLDER.to_string(), "https://x/portal/activate?t=abc".to_string()),
        ]);
        let sealed = k.seal_secrets("m@x", &secrets).unwrap();
        assert!(!sealed.windows(3).any(|w| w == b"abc"));
        assert!(k.open_secrets("m@x", &sealed).unwrap() == secrets);
        let legacy = k.seal("m@x", "Ab3#defghijkmn").unwrap();
        assert_eq!(k.open_secrets("m@x", &legacy).unwrap().0[PASSWORD_PLACEHOLDER], "Ab3#defghijkmn");
        let (_, body) = portal_mail(&MailFacts { username: "ketoan01", at: 0, reference: "RC-A", hotline: "1" }, 1800, 86_400);
        assert!(body.trim_end().ends_with(LINK_PLACEHOLDER), "the link is at the end of the mail");
    }

    #[test]
    fn mails_are_vietnamese_first_and_hold_no_password_unless_placeholdered() {
        let f = MailFacts { username: "ketoan01", at: 1_764_000_000, reference: "RC-AAAA-BBBB", hotline: "1800 1260" };
        let (subject, body) = reset_mail(&f, 1_764_086_400);
        assert!(subject.starts_with("[BHXH] Mật khẩu tạm thời"));
        assert!(body.find("Mật khẩu tạm thời").unwrap() < body.find("Temporary password").unwrap());
        assert_eq!(body.matches(PASSWORD_PLACEHOLDER).count(), 2);
        assert!(body.contains("RC-AAAA-BBBB") && body.contains("1800 1260") && body.contains("ke****01"));
        assert!(!body.contains("ketoan01"));
        let (_, notice) = notice_mail(&f, NoticeKind::Changed);
        assert!(!notice.contains(PASSWORD_PLACEHOLDER));
    }
}
