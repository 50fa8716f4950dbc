//! Hooks and the webhook delivery outbox in SQLite: subscribing, deleting, enabling, leases and
//! the claimed deliveries' columns (claiming and recording attempts are `hot::deliveries`).

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::map_err;
use super::rows::{audited, placeholders, status_from_column};
use crate::store::*;

const HOOK_COLUMNS: &str = "id, account_id, target_url, event_type, request_method, event_filter, headers, enabled, \
     created_at, failing_since, disabled_reason, backlog_full";

fn hook_from_row(row: &SqliteRow) -> StoreResult<Hook> {
    Ok(Hook {
        id: row.try_get("id").map_err(map_err)?,
        account_id: row.try_get("account_id").map_err(map_err)?,
        target_url: row.try_get("target_url").map_err(map_err)?,
        event_type: row.try_get("event_type").map_err(map_err)?,
        request_method: row.try_get("request_method").map_err(map_err)?,
        event_filter: row.try_get("event_filter").map_err(map_err)?,
        headers: row.try_get("headers").map_err(map_err)?,
        enabled: row.try_get("enabled").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        failing_since: row.try_get("failing_since").map_err(map_err)?,
        disabled_reason: row.try_get("disabled_reason").map_err(map_err)?,
        backlog_full: row.try_get("backlog_full").map_err(map_err)?,
    })
}

pub async fn create(writer: &SqlitePool, hook: NewHook) -> StoreResult<Hook> {
    let row = sqlx::query(audited(format!(
        "INSERT INTO hooks (account_id, target_url, event_type, request_method, event_filter, headers, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {HOOK_COLUMNS}"
    )))
    .bind(hook.account_id)
    .bind(&hook.target_url)
    .bind(&hook.event_type)
    .bind(&hook.request_method)
    .bind(&hook.event_filter)
    .bind(&hook.headers)
    .bind(hook.created_at)
    .fetch_one(writer)
    .await
    .map_err(map_err)?;
    hook_from_row(&row)
}

pub async fn list(reader: &SqlitePool, account: AccountId) -> StoreResult<Vec<Hook>> {
    let rows = sqlx::query(audited(format!(
        "SELECT {HOOK_COLUMNS} FROM hooks WHERE account_id = ? AND deleted = 0 ORDER BY id"
    )))
    .bind(account)
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    rows.iter().map(hook_from_row).collect()
}

/// Deletes a hook; its pending deliveries end as abandoned so nothing waits on them.
pub async fn delete(
    writer: &SqlitePool,
    account: AccountId,
    id: HookId,
    now: i64,
) -> StoreResult<bool> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let done = sqlx::query(
        "UPDATE hooks SET deleted = 1, enabled = 0 WHERE id = ? AND account_id = ? AND deleted = 0",
    )
    .bind(id)
    .bind(account)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'abandoned', finished_at = ?, last_error = 'hook deleted', lease_until = NULL
         WHERE hook_id = ? AND account_id = ? AND state = 'pending'",
    )
    .bind(now)
    .bind(id)
    .bind(account)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

/// Enables or disables a hook. Enabling clears its failure run and makes its pending deliveries
/// due at once; they then go out in order.
pub async fn set_enabled(
    writer: &SqlitePool,
    account: AccountId,
    id: HookId,
    enabled: bool,
    now: i64,
) -> StoreResult<Hook> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let row = sqlx::query(audited(format!(
        "UPDATE hooks SET enabled = ?, failing_since = NULL,
             disabled_reason = CASE WHEN ? THEN NULL ELSE 'disabled through the API' END
         WHERE id = ? AND account_id = ? AND deleted = 0 RETURNING {HOOK_COLUMNS}"
    )))
    .bind(enabled)
    .bind(enabled)
    .bind(id)
    .bind(account)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    if enabled {
        sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = MIN(next_attempt_at, ?) WHERE hook_id = ? AND state = 'pending'")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    hook_from_row(&row)
}

/// Clears every lease, for a process that is the only dispatcher of this store (SQLite at start):
/// what the previous process had in flight is due again at once.
pub async fn release_leases(writer: &SqlitePool) -> StoreResult<u64> {
    let done = sqlx::query("UPDATE webhook_deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL AND state = 'pending'")
        .execute(writer)
        .await
        .map_err(map_err)?;
    Ok(done.rows_affected())
}

/// Extends the leases of `ids` (held by the dispatcher) to `until`; returns how many are still
/// pending and leased. One process: whatever is leased is its own.
pub async fn renew_leases(writer: &SqlitePool, ids: &[DeliveryId], until: i64) -> StoreResult<u64> {
    let mut renewed = 0;
    for chunk in ids.chunks(500) {
        let sql = format!(
            "UPDATE webhook_deliveries SET lease_until = ?
             WHERE id IN ({}) AND state = 'pending' AND lease_until IS NOT NULL",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(audited(sql)).bind(until);
        for id in chunk {
            query = query.bind(id);
        }
        renewed += query
            .execute(writer)
            .await
            .map_err(map_err)?
            .rows_affected();
    }
    Ok(renewed)
}

/// What a dispatcher needs to send a delivery: the delivery, its hook, message and account.
pub(super) const DUE_COLUMNS: &str = "d.id AS delivery_id, d.attempts, d.created_at AS delivery_created_at,
        d.message_id, d.status AS delivery_status, d.status_at, m.recipient, m.sender, m.foreign_id, m.label,
        a.signing_secret, a.previous_signing_secret, a.previous_secret_until,
        h.id, h.account_id, h.target_url, h.event_type, h.request_method, h.event_filter, h.headers, h.enabled,
        h.created_at, h.failing_since, h.disabled_reason, h.backlog_full";
pub(super) const DUE_FROM: &str = "FROM webhook_deliveries d
     JOIN hooks h ON h.id = d.hook_id
     JOIN messages m ON m.id = d.message_id
     JOIN accounts a ON a.id = d.account_id";

pub(super) fn due_from_row(row: &SqliteRow, now: i64) -> StoreResult<DueDelivery> {
    let attempts: i64 = row.try_get("attempts").map_err(map_err)?;
    let mut secrets = vec![
        row.try_get::<String, _>("signing_secret")
            .map_err(map_err)?,
    ];
    let previous: Option<String> = row.try_get("previous_signing_secret").map_err(map_err)?;
    let until: Option<i64> = row.try_get("previous_secret_until").map_err(map_err)?;
    if let (Some(previous), Some(until)) = (previous, until)
        && until > now
    {
        secrets.push(previous);
    }
    Ok(DueDelivery {
        id: row.try_get("delivery_id").map_err(map_err)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at: row.try_get("delivery_created_at").map_err(map_err)?,
        hook: hook_from_row(row)?,
        message_id: row.try_get("message_id").map_err(map_err)?,
        status: status_from_column(row.try_get("delivery_status").map_err(map_err)?)?
            .ok_or_else(|| StoreError::Corrupt("delivery without status".into()))?,
        status_at: row.try_get("status_at").map_err(map_err)?,
        recipient: row.try_get("recipient").map_err(map_err)?,
        sender: row.try_get("sender").map_err(map_err)?,
        foreign_id: row.try_get("foreign_id").map_err(map_err)?,
        label: row.try_get("label").map_err(map_err)?,
        secrets,
    })
}

/// When the next delivery that no live lease holds is due (one whose lease ran out is due now).
pub async fn next_due(reader: &SqlitePool, now: i64) -> StoreResult<Option<i64>> {
    sqlx::query(
        "SELECT MIN(due) FROM (
             SELECT MIN(d.next_attempt_at) AS due FROM webhook_deliveries d JOIN hooks h ON h.id = d.hook_id
             WHERE d.state = 'pending' AND d.lease_until IS NULL AND h.enabled = 1
             UNION ALL
             SELECT MIN(d.lease_until) FROM webhook_deliveries d
             WHERE d.state = 'pending' AND d.lease_until IS NOT NULL AND d.lease_until <= ?)",
    )
    .bind(now)
    .fetch_one(reader)
    .await
    .and_then(|row| row.try_get(0))
    .map_err(map_err)
}
