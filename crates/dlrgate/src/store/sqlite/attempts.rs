//! Recording webhook attempts, the attempt log, and re-sending deliveries, in SQLite.

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::map_err;
use crate::store::*;

/// Records a cycle's attempts, moves each delivery on, and keeps each hook's failure run
/// (disabling a hook on 410 or after failing for longer than `disable_after_ms`), inside the
/// caller's transaction. Attempts and deliveries are written with one statement per chunk, not
/// one per attempt. Returns the hooks that became disabled.
pub async fn record_batch(
    tx: &mut SqliteConnection,
    records: &[AttemptRecord],
) -> StoreResult<Vec<HookId>> {
    for chunk in records.chunks(100) {
        write_chunk(tx, chunk, ATTEMPTS_INSERT).await?;
        write_chunk(tx, chunk, DELIVERIES_UPDATE).await?;
    }
    let mut disabled = Vec::new();
    for record in hook_updates(records) {
        if update_hook(tx, record).await? == HookChange::Disabled {
            disabled.push(record.hook_id);
        }
    }
    Ok(disabled)
}

const ATTEMPTS_INSERT: &str = "INSERT INTO webhook_attempts
         (delivery_id, hook_id, attempt, at, http_status, latency_ms, error_class, detail, response_snippet)
     SELECT v.delivery_id, v.hook_id, d.attempts + 1, v.at, v.http_status, v.latency_ms, v.error_class, v.detail, v.snippet
     FROM v JOIN webhook_deliveries d ON d.id = v.delivery_id";

const DELIVERIES_UPDATE: &str = "UPDATE webhook_deliveries SET state = v.state, attempts = attempts + 1,
         lease_until = NULL, next_attempt_at = COALESCE(v.next_at, next_attempt_at), last_error = v.detail,
         finished_at = CASE WHEN v.state = 'pending' THEN NULL ELSE v.at END
     FROM v WHERE webhook_deliveries.id = v.delivery_id";

/// Runs `statement` with the records bound as the table `v`.
async fn write_chunk(
    tx: &mut SqliteConnection,
    records: &[AttemptRecord],
    statement: &str,
) -> StoreResult<()> {
    let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; records.len()].join(", ");
    let sql = format!(
        "WITH v(delivery_id, hook_id, at, http_status, latency_ms, error_class, detail, snippet, state, next_at)
         AS (VALUES {rows}) {statement}"
    );
    let mut query = sqlx::query(super::rows::audited(sql));
    for record in records {
        let (state, next_at) = match record.fate {
            DeliveryFate::Delivered => ("delivered", None),
            DeliveryFate::Retry { at } => ("pending", Some(at)),
            DeliveryFate::Failed { .. } => ("failed", None),
            DeliveryFate::Abandoned => ("abandoned", None),
        };
        query = query
            .bind(record.delivery_id)
            .bind(record.hook_id)
            .bind(record.at)
            .bind(record.http_status.map(i64::from))
            .bind(record.latency_ms)
            .bind(record.error_class)
            .bind(record.detail.clone())
            .bind(record.response_snippet.clone())
            .bind(state)
            .bind(next_at);
    }
    query.execute(&mut *tx).await.map_err(map_err)?;
    Ok(())
}

/// The records that decide each hook's failure run, in order: per hook, its last success (which
/// ends a run), then the first failure after it (which starts one), any 410 after it, and its
/// last failure (which may have lasted long enough to disable the hook).
fn hook_updates(records: &[AttemptRecord]) -> Vec<&AttemptRecord> {
    let mut hooks: Vec<HookId> = records.iter().map(|r| r.hook_id).collect();
    hooks.sort_unstable();
    hooks.dedup();
    let mut updates = Vec::new();
    for hook in hooks {
        let own: Vec<&AttemptRecord> = records.iter().filter(|r| r.hook_id == hook).collect();
        let last_success = own.iter().rposition(|r| r.fate == DeliveryFate::Delivered);
        if let Some(index) = last_success {
            updates.push(own[index]);
        }
        let failures = &own[last_success.map_or(0, |i| i + 1)..];
        let gone = failures
            .iter()
            .find(|r| r.fate == (DeliveryFate::Failed { disable_hook: true }));
        let picked = [failures.first(), gone, failures.last()];
        for record in picked.into_iter().flatten() {
            if !updates.iter().any(|u| std::ptr::eq(*u, *record)) {
                updates.push(record);
            }
        }
    }
    updates
}

async fn update_hook(
    conn: &mut sqlx::SqliteConnection,
    attempt: &AttemptRecord,
) -> StoreResult<HookChange> {
    if attempt.fate == DeliveryFate::Delivered {
        sqlx::query(
            "UPDATE hooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL",
        )
        .bind(attempt.hook_id)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
        return Ok(HookChange::None);
    }
    let gone = attempt.fate == (DeliveryFate::Failed { disable_hook: true });
    let disabled = sqlx::query(
        "UPDATE hooks SET failing_since = COALESCE(failing_since, ?1),
             enabled = CASE WHEN ?2 OR ?1 - COALESCE(failing_since, ?1) >= ?3 THEN 0 ELSE enabled END,
             disabled_reason = CASE
                 WHEN enabled = 0 THEN disabled_reason
                 WHEN ?2 THEN 'the receiver answered 410 Gone'
                 WHEN ?1 - COALESCE(failing_since, ?1) >= ?3 THEN 'every attempt failed for too long'
                 ELSE disabled_reason END
         WHERE id = ?4 AND enabled = 1
         RETURNING enabled",
    )
    .bind(attempt.at)
    .bind(gone)
    .bind(attempt.disable_after_ms)
    .bind(attempt.hook_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let now_disabled = match disabled {
        Some(row) => !row.try_get::<bool, _>(0).map_err(map_err)?,
        None => false,
    };
    Ok(if now_disabled {
        HookChange::Disabled
    } else {
        HookChange::None
    })
}

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
