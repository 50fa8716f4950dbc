//! The attempt log, and re-sending and recovering deliveries, in SQLite (attempts are recorded
//! by `hot::deliveries`).

use sqlx::{Row, SqlitePool};

use super::map_err;
use crate::store::*;

pub async fn list(
    reader: &SqlitePool,
    account: AccountId,
    hook: HookId,
    limit: u32,
) -> StoreResult<Vec<AttemptView>> {
    let rows = sqlx::query(
        "SELECT t.id, t.delivery_id, d.message_id, d.status, t.attempt, t.at, t.http_status, t.latency_ms,
                t.error_class, t.detail, t.response_snippet
         FROM webhook_attempts t JOIN webhook_deliveries d ON d.id = t.delivery_id
         WHERE t.hook_id = ? AND d.account_id = ? ORDER BY t.id DESC LIMIT ?",
    )
    .bind(hook)
    .bind(account)
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let attempt: i64 = row.try_get("attempt").map_err(map_err)?;
            let http_status: Option<i64> = row.try_get("http_status").map_err(map_err)?;
            Ok(AttemptView {
                id: row.try_get("id").map_err(map_err)?,
                delivery_id: row.try_get("delivery_id").map_err(map_err)?,
                message_id: row.try_get("message_id").map_err(map_err)?,
                status: row.try_get("status").map_err(map_err)?,
                attempt: u32::try_from(attempt).unwrap_or(0),
                at: row.try_get("at").map_err(map_err)?,
                http_status: http_status.and_then(|s| u16::try_from(s).ok()),
                latency_ms: row.try_get("latency_ms").map_err(map_err)?,
                error_class: row.try_get("error_class").map_err(map_err)?,
                detail: row.try_get("detail").map_err(map_err)?,
                response_snippet: row.try_get("response_snippet").map_err(map_err)?,
            })
        })
        .collect()
}

pub async fn deliveries(
    reader: &SqlitePool,
    account: AccountId,
    hook: HookId,
    limit: u32,
) -> StoreResult<Vec<DeliveryView>> {
    let rows = sqlx::query(
        "SELECT id, hook_id, message_id, status, state, attempts, created_at, next_attempt_at, last_error
         FROM webhook_deliveries WHERE hook_id = ? AND account_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(hook)
    .bind(account)
    .bind(i64::from(limit))
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let attempts: i64 = row.try_get("attempts").map_err(map_err)?;
            Ok(DeliveryView {
                id: row.try_get("id").map_err(map_err)?,
                hook_id: row.try_get("hook_id").map_err(map_err)?,
                message_id: row.try_get("message_id").map_err(map_err)?,
                status: row.try_get("status").map_err(map_err)?,
                state: row.try_get("state").map_err(map_err)?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                created_at: row.try_get("created_at").map_err(map_err)?,
                next_attempt_at: row.try_get("next_attempt_at").map_err(map_err)?,
                last_error: row.try_get("last_error").map_err(map_err)?,
            })
        })
        .collect()
}

/// Puts deliveries back in the queue with a fresh schedule, due at the bound time.
const REQUEUE: &str = "UPDATE webhook_deliveries
     SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL, lease_until = NULL";

/// Puts a finished delivery back in the queue with a fresh schedule.
pub async fn resend(
    writer: &SqlitePool,
    account: AccountId,
    hook: HookId,
    delivery: DeliveryId,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(super::rows::audited(format!(
        "{REQUEUE} WHERE id = ? AND hook_id = ? AND account_id = ? AND state != 'pending'
           AND hook_id IN (SELECT id FROM hooks WHERE deleted = 0)"
    )))
    .bind(now)
    .bind(delivery)
    .bind(hook)
    .bind(account)
    .execute(writer)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

/// Re-sends every failed or abandoned delivery of a hook created at or after `since`.
pub async fn recover(
    writer: &SqlitePool,
    account: AccountId,
    hook: HookId,
    since: i64,
    now: i64,
) -> StoreResult<u64> {
    let done = sqlx::query(super::rows::audited(format!(
        "{REQUEUE} WHERE hook_id = ? AND account_id = ? AND state IN ('failed', 'abandoned') AND created_at >= ?
           AND hook_id IN (SELECT id FROM hooks WHERE deleted = 0)"
    )))
    .bind(now)
    .bind(hook)
    .bind(account)
    .bind(since)
    .execute(writer)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}
