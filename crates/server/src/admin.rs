//! Support-staff commands behind `bhxh-server account|audit|outbox|staff`. Staff can
//! enrol, look up, unlock and re-send, but never see or set a user's password: no command
//! prints a hash or a secret, and none takes a user's password. `staff add|password`
//! take the staff member's own console password, from standard input only.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::bail;
use bhxh_protocol::vnid::msts;
use bhxh_protocol::{Email, ErrorCode, Lang, Mst, Reference, Username};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::clock::{rfc3339, Clock};
use crate::context::user_limit_prefix;
use crate::store::{Actor, AuditEntry, AuditEvent, Detail, Outcome, StaffRole, Store};
use crate::verify::{fingerprint, read_pem_or_der};

/// An error carrying a catalogue code, printed as `CODE: tiếng Việt / English`.
pub fn coded(code: ErrorCode) -> anyhow::Error {
    anyhow::anyhow!("{}: {} / {}", code, code.message(Lang::Vi), code.message(Lang::En))
}

/// Who ran the command, for the audit log.
pub fn actor() -> Actor {
    Actor::Cli(std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into()))
}

fn admin_audit(event: AuditEvent, username: &str, detail: Detail, now: i64) -> AuditEntry {
    let mut entry = AuditEntry::new(Reference::new().to_string(), now, event, Outcome::Ok, actor());
    entry.username = Some(username.into());
    entry.detail = Some(detail);
    entry
}

/// `account add`: enrols an account, optionally pinning a certificate.
pub async fn account_add(
    store: &Store,
    clock: &Clock,
    username: &str,
    mst: &str,
    email: &str,
    cert: Option<&Path>,
) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    let mst = Mst::parse(mst).map_err(coded)?;
    let email = Email::parse(email).map_err(coded)?;
    let pin = match cert {
        None => None,
        Some(path) => {
            let der = read_pem_or_der(path, "CERTIFICATE")?.remove(0);
            let (_, parsed) = X509Certificate::from_der(&der).map_err(|_| coded(ErrorCode::CertMalformed))?;
            let ids = bhxh_protocol::vnid::ids_from_name(parsed.subject());
            if !msts(&ids).any(|m| *m == mst) {
                bail!("the certificate's subject does not carry MST:{mst}; refusing to pin it to this account");
            }
            Some(fingerprint(&der))
        }
    };
    let now = clock.now();
    let id = store.insert_account(username.as_str(), mst.as_str(), email.as_str(), pin.as_deref(), now).await?;
    if id.is_none() {
        return Err(coded(ErrorCode::AccountExists));
    }
    let detail = Detail::Enrolled { mst: mst.to_string(), pinned: pin.clone() };
    let entry = admin_audit(AuditEvent::AdminAccountAdd, username.as_str(), detail, now);
    store.audit(&entry).await?;
    Ok(format!(
        "Đã tạo tài khoản / Account created: {username} (MST {mst}, {email}){}\nMã tham chiếu / Reference: {}\n",
        pin.map(|p| format!(", chứng thư ghim / pinned certificate {p}")).unwrap_or_default(),
        entry.reference
    ))
}

/// `account show`: what staff may see of an account, and its latest attempts.
pub async fn account_show(store: &Store, clock: &Clock, username: &str) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    let Some(a) = store.account_by_username(username.as_str()).await? else {
        return Err(coded(ErrorCode::AccountNotFound));
    };
    let now = clock.now();
    let mut out = String::new();
    let _ = writeln!(out, "Tên đăng nhập / Username: {}", a.username);
    let _ = writeln!(out, "MST:                      {}", a.mst);
    let _ = writeln!(out, "Email:                    {}", a.email);
    let _ = writeln!(out, "Chứng thư ghim / Pinned:  {}", a.cert_fingerprint.as_deref().unwrap_or("— (MST binding)"));
    let _ = writeln!(
        out,
        "Mật khẩu / Password set:  {}",
        if a.password_hash.is_some() { "có / yes" } else { "không / no" }
    );
    let temp = match (&a.temp_password_hash, a.temp_expires_at, a.temp_used_at) {
        (None, _, _) => "không / none".to_string(),
        (Some(_), _, Some(used)) => format!("đã dùng / used {}, chờ đổi mật khẩu / awaiting change", rfc3339(used)),
        (Some(_), Some(exp), None) if exp < now => format!("hết hạn / expired {}", rfc3339(exp)),
        (Some(_), Some(exp), None) => format!("chưa dùng / unused, hết hạn / expires {}", rfc3339(exp)),
        (Some(_), None, None) => "?".into(),
    };
    let _ = writeln!(out, "Mật khẩu tạm / Temporary: {temp} (ref {})", a.temp_reference.as_deref().unwrap_or("—"));
    if let Some(at) = a.disabled_at {
        let _ = writeln!(
            out,
            "Vô hiệu hóa / Disabled:   {} ({})",
            rfc3339(at),
            a.disabled_reason.as_deref().unwrap_or("—")
        );
    }
    let _ = writeln!(out, "Tạo lúc / Created:        {}", rfc3339(a.created_at));
    let _ = writeln!(out, "Gần đây / Recent attempts:");
    for e in store.audit_by_username(&a.username, 10).await? {
        let _ = writeln!(out, "  {}", audit_line(&e));
    }
    Ok(out)
}

/// `account unlock`: clears the rate-limit windows of a username (there is no hard lock).
pub async fn account_unlock(store: &Store, clock: &Clock, username: &str) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    if store.account_by_username(username.as_str()).await?.is_none() {
        return Err(coded(ErrorCode::AccountNotFound));
    }
    let cleared = store.clear_limits(&user_limit_prefix(username.as_str())).await?;
    let entry = admin_audit(
        AuditEvent::AdminAccountUnlock,
        username.as_str(),
        Detail::LimitsCleared { count: cleared, staff: None },
        clock.now(),
    );
    store.audit(&entry).await?;
    Ok(format!(
        "Đã mở giới hạn / Limits cleared for {username} ({cleared})\nMã tham chiếu / Reference: {}\n",
        entry.reference
    ))
}

/// `account disable USERNAME --reason …` / `account enable USERNAME`. A disabled account
/// is answered like an unknown one on every public path; its sessions, temporary
/// password and pending links end at once.
pub async fn account_set_disabled(
    store: &Store,
    clock: &Clock,
    username: &str,
    reason: Option<&str>,
) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    let Some(account) = store.account_by_username(username.as_str()).await? else {
        return Err(coded(ErrorCode::AccountNotFound));
    };
    let reason = reason.map(str::trim);
    if reason.is_some_and(str::is_empty) {
        bail!("--reason must say why (it is kept in the audit) / --reason phải ghi lý do");
    }
    let (event, detail) = match reason {
        Some(r) => (AuditEvent::AdminAccountDisable, Detail::Disabled { reason: r.to_string() }),
        None => (AuditEvent::AdminAccountEnable, Detail::Enabled),
    };
    let now = clock.now();
    let entry = admin_audit(event, username.as_str(), detail, now);
    if !store.set_account_disabled(account.id, reason, now, &entry).await? {
        return Ok(match reason {
            Some(_) => format!("Tài khoản đã bị vô hiệu hóa từ trước / Already disabled: {username}\n"),
            None => format!("Tài khoản không bị vô hiệu hóa / Not disabled: {username}\n"),
        });
    }
    Ok(match reason {
        Some(_) => format!(
            "Đã vô hiệu hóa / Disabled: {username}. Phiên đăng nhập, mật khẩu tạm và đường link kích hoạt đã hết hiệu lực / \
             Sessions, temporary password and activation links no longer work.\nMã tham chiếu / Reference: {}\n",
            entry.reference
        ),
        None => format!("Đã bật lại / Enabled: {username}\nMã tham chiếu / Reference: {}\n", entry.reference),
    })
}

/// `outbox adopt-key`: this server's outbox key becomes the database's.
pub async fn outbox_adopt_key(store: &Store, clock: &Clock, key: &crate::mail::OutboxKey) -> anyhow::Result<String> {
    let now = clock.now();
    let mut entry =
        admin_audit(AuditEvent::AdminOutboxAdoptKey, "", Detail::OutboxKeyAdopted { key: key.id().to_string() }, now);
    entry.username = None;
    let dropped = store.adopt_outbox_key(key.id(), now, &entry).await?;
    Ok(format!(
        "Khóa hộp thư của cơ sở dữ liệu giờ là / The database's outbox key is now {}.\n\
         Thư đang chờ bị bỏ (niêm phong bằng khóa cũ) / Pending mails given up (sealed with the old key): {dropped}\n\
         Mã tham chiếu / Reference: {}\n",
        key.id(),
        entry.reference
    ))
}

/// `audit show REF`: every line with this reference.
pub async fn audit_show(store: &Store, reference: &str) -> anyhow::Result<String> {
    let Some(r) = Reference::parse(reference) else {
        bail!("{reference:?} is not a reference code (RC-XXXX-XXXX)");
    };
    let lines = store.audit_by_reference(r.as_str()).await?;
    if lines.is_empty() {
        bail!("không có mục nào / nothing recorded under {r}");
    }
    Ok(lines.iter().map(|e| audit_line(e) + "\n").collect())
}

/// `audit list --username U`: the latest attempts of a username.
pub async fn audit_list(store: &Store, username: &str, limit: i64) -> anyhow::Result<String> {
    let username = bhxh_protocol::domain::normalize_username(username);
    Ok(store.audit_by_username(&username, limit).await?.iter().map(|e| audit_line(e) + "\n").collect())
}

/// `outbox list`: mail and its delivery state; never a body or a secret.
pub async fn outbox_list(store: &Store, limit: i64) -> anyhow::Result<String> {
    let mut out = String::from("id\tstatus\tattempts\tkind\trecipient\treference\tcreated\tsent\tlast_error\n");
    for m in store.list_mail(limit).await? {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            m.id,
            m.status,
            m.attempts,
            m.kind,
            m.recipient,
            m.reference,
            rfc3339(m.created_at),
            m.sent_at.map(rfc3339).unwrap_or_else(|| "—".into()),
            m.last_error.as_deref().unwrap_or("")
        );
    }
    Ok(out)
}

/// `outbox retry ID`: makes a pending mail due now.
pub async fn outbox_retry(store: &Store, clock: &Clock, id: i64) -> anyhow::Result<String> {
    if !store.retry_mail(id, clock.now_ms()).await? {
        bail!("không có thư chờ gửi số {id} / no pending mail {id}");
    }
    Ok(format!("Thư {id} sẽ được gửi lại ngay / Mail {id} will be retried now\n"))
}

/// The staff console's password rules: the users' policy (length, classes, not the
/// username), so a staff login is never weaker than a user's.
fn staff_password_ok(password: &str, username: &str) -> anyhow::Result<()> {
    let broken = bhxh_protocol::domain::password_policy(password, username);
    if !broken.is_empty() {
        return Err(coded(ErrorCode::PasswordPolicy));
    }
    Ok(())
}

/// `staff add`: a support staff member for the console.
pub async fn staff_add(
    store: &Store,
    clock: &Clock,
    hasher: &crate::passwords::Hasher,
    username: &str,
    name: &str,
    role: StaffRole,
    password: zeroize::Zeroizing<String>,
) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        bail!("--name: họ tên 1–80 ký tự / a name of 1–80 characters");
    }
    staff_password_ok(&password, username.as_str())?;
    let hash = hasher.hash(crate::passwords::Lane::Login, password).await?;
    let now = clock.now();
    let mut entry = admin_audit(
        AuditEvent::AdminStaffAdd,
        username.as_str(),
        Detail::StaffAdded { name: name.to_string(), role: role.to_string() },
        now,
    );
    entry.username = None;
    let id = store.insert_staff(username.as_str(), name, role, &hash, now, &entry).await?;
    if id.is_none() {
        return Err(coded(ErrorCode::AccountExists));
    }
    Ok(format!(
        "Đã tạo nhân viên / Staff member created: {username} ({name}), {} / {role}\nMã tham chiếu / Reference: {}\n",
        role_vi(role),
        entry.reference
    ))
}

fn role_vi(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Agent => "nhân viên hỗ trợ",
        StaffRole::Supervisor => "giám sát",
    }
}

/// `staff role`: makes a staff member an agent or a supervisor.
pub async fn staff_role(store: &Store, clock: &Clock, username: &str, role: StaffRole) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    let mut entry = admin_audit(
        AuditEvent::AdminStaffRole,
        username.as_str(),
        Detail::StaffRole { username: username.to_string(), role: role.to_string() },
        clock.now(),
    );
    entry.username = None;
    if !store.set_staff_role(username.as_str(), role, &entry).await? {
        return Err(coded(ErrorCode::AccountNotFound));
    }
    Ok(format!(
        "Đã đặt vai trò / Role set: {username}: {} / {role}\nMã tham chiếu / Reference: {}\n",
        role_vi(role),
        entry.reference
    ))
}

/// `staff password`: sets a staff member's console password (and re-enables them).
pub async fn staff_password(
    store: &Store,
    clock: &Clock,
    hasher: &crate::passwords::Hasher,
    username: &str,
    password: zeroize::Zeroizing<String>,
) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    staff_password_ok(&password, username.as_str())?;
    let hash = hasher.hash(crate::passwords::Lane::Login, password).await?;
    let mut entry = admin_audit(
        AuditEvent::AdminStaffPassword,
        username.as_str(),
        Detail::StaffPassword { username: username.to_string() },
        clock.now(),
    );
    entry.username = None;
    if !store.set_staff_password(username.as_str(), &hash, &entry).await? {
        return Err(coded(ErrorCode::AccountNotFound));
    }
    Ok(format!("Đã đặt mật khẩu / Password set: {username}\nMã tham chiếu / Reference: {}\n", entry.reference))
}

/// `staff unlock`: clears the windows of a staff member's console logins (someone
/// else's wrong passwords refuse only their own clients, but a member's own can lock
/// the member's client for the window).
pub async fn staff_unlock(store: &Store, clock: &Clock, username: &str) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    if store.staff_by_username(username.as_str()).await?.is_none() {
        return Err(coded(ErrorCode::AccountNotFound));
    }
    let cleared = store.clear_limits(&crate::context::staff_limit_prefix(username.as_str())).await?;
    let mut entry = admin_audit(
        AuditEvent::AdminStaffUnlock,
        username.as_str(),
        Detail::LimitsCleared { count: cleared, staff: Some(username.to_string()) },
        clock.now(),
    );
    entry.username = None;
    store.audit(&entry).await?;
    Ok(format!(
        "Đã mở giới hạn đăng nhập của nhân viên / Staff login limits cleared: {username} ({cleared})\nMã tham chiếu / Reference: {}\n",
        entry.reference
    ))
}

/// `staff disable`: the member can no longer log in; their sessions end now.
pub async fn staff_disable(store: &Store, clock: &Clock, username: &str) -> anyhow::Result<String> {
    let username = Username::parse(username).map_err(coded)?;
    let now = clock.now();
    let mut entry = admin_audit(
        AuditEvent::AdminStaffDisable,
        username.as_str(),
        Detail::StaffDisabled { username: username.to_string() },
        now,
    );
    entry.username = None;
    if !store.disable_staff(username.as_str(), now, &entry).await? {
        return Err(coded(ErrorCode::AccountNotFound));
    }
    Ok(format!(
        "Đã khóa nhân viên / Staff member disabled: {username}\nMã tham chiếu / Reference: {}\n",
        entry.reference
    ))
}

/// `staff list`: who can log in to the console.
pub async fn staff_list(store: &Store) -> anyhow::Result<String> {
    let mut out = String::from("username\tname\trole\tcreated\tstate\n");
    for st in store.list_staff().await? {
        let state = match st.disabled_at {
            Some(t) => format!("disabled {}", rfc3339(t)),
            None => "active".into(),
        };
        let _ = writeln!(out, "{}\t{}\t{}\t{}\t{}", st.username, st.name, st.role, rfc3339(st.created_at), state);
    }
    Ok(out)
}

fn audit_line(e: &AuditEntry) -> String {
    format!(
        "{}  {}  {:<16} {:<8} {:<24} user={} client={} actor={}{}{}",
        rfc3339(e.at),
        e.reference,
        e.event,
        e.outcome.as_str(),
        e.error_code().unwrap_or("-"),
        e.username.as_deref().unwrap_or("-"),
        e.client_addr.as_deref().unwrap_or("-"),
        e.actor,
        e.cert_fingerprint.as_ref().map(|f| format!(" cert={}", &f[..16.min(f.len())])).unwrap_or_default(),
        e.detail.as_ref().map(|d| format!(" ({})", crate::staff::words::detail(Lang::En, d))).unwrap_or_default(),
    )
}
