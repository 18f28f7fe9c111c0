//! The steps that several rooms' transactions share (a temporary password set, the
//! links and changes a step ends): here, below every room's file, so no room's file
//! calls another's and the store has no import circle.

use super::Tx;

/// What the states a change can still move from are, in SQL.
pub(super) const OPEN: &str = "('proposed', 'confirming', 'waiting')";

/// Sets a temporary password (the long-term one keeps working until it is used), ends
/// every must-change session (opened with an earlier temporary password: it may change
/// the password without sending one, so it must not outlive a newer reset) and cancels
/// any portal link still waiting.
pub(super) async fn set_temp_password(
    tx: &mut Tx<'_>,
    account_id: i64,
    temp_hash: &str,
    temp_expires_at: i64,
    reference: &str,
    now: i64,
) -> anyhow::Result<()> {
    // Not on an account disabled since it was read (the transaction then rolls back).
    let set = sqlx::query(
        "UPDATE accounts SET temp_password_hash = $1, temp_expires_at = $2, temp_used_at = NULL,
         temp_reference = $3, updated_at = $4 WHERE id = $5 AND disabled_at IS NULL",
    )
    .bind(temp_hash)
    .bind(temp_expires_at)
    .bind(reference)
    .bind(now)
    .bind(account_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if set != 1 {
        anyhow::bail!("account {account_id} was disabled meanwhile; nothing written");
    }
    sqlx::query("DELETE FROM sessions WHERE account_id = $1 AND must_change = 1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    supersede_activations(tx, account_id, now).await
}

/// Ends the account's portal links still waiting (a newer reset or change supersedes them).
pub(super) async fn supersede_activations(tx: &mut Tx<'_>, account_id: i64, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE activations SET superseded_at = $1 WHERE account_id = $2 AND used_at IS NULL AND superseded_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends the account's open changes (the account is being disabled), in its transaction.
pub(super) async fn end_email_changes(tx: &mut Tx<'_>, account_id: i64, now: i64, by: &str) -> anyhow::Result<()> {
    sqlx::query(&format!("UPDATE email_changes SET state = 'cancelled', ended_at = $1, ended_by = $2 WHERE account_id = $3 AND state IN {OPEN}"))
        .bind(now)
        .bind(by)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
