//! Recording webhook attempts, the attempt log, and re-sending deliveries, in PostgreSQL.

use sqlx::{PgConnection, PgPool, Row};

use super::map_err;
use super::rows::audited;
use crate::store::rules::hook_updates;
use crate::store::*;

/// Records a cycle's attempts, moves each delivery on, and keeps each hook's failure run
/// (disabling a hook on 410 or after failing for longer than `disable_after_ms`), inside the
/// caller's transaction, which has locked the deliveries (deliveries before hooks). Attempts and
/// deliveries are written with one statement each. Returns the hooks that became disabled.
pub async fn record_batch(
    tx: &mut PgConnection,
    records: &[AttemptRecord],
) -> StoreResult<Vec<HookId>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    write_records(tx, records, ATTEMPTS_INSERT).await?;
    write_records(tx, records, DELIVERIES_UPDATE).await?;
    let mut disabled = Vec::new();
    for record in hook_updates(records) {
        if update_hook(tx, record).await? == HookChange::Disabled {
            disabled.push(record.hook_id);
        }
    }
    Ok(disabled)
}

/// The records as the table `v`, in their order (`n`).
const RECORDS: &str = "UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
         $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[]) WITH ORDINALITY
     AS v(delivery_id, hook_id, at, http_status, latency_ms, error_class, detail, snippet, state,
          next_at, n)";

const ATTEMPTS_INSERT: &str = "INSERT INTO webhook_attempts
         (delivery_id, hook_id, attempt, at, http_status, latency_ms, error_class, detail, response_snippet)
     SELECT v.delivery_id, v.hook_id, d.attempts + 1, v.at, v.http_status, v.latency_ms, v.error_class, v.detail, v.snippet
     FROM {RECORDS} JOIN webhook_deliveries d ON d.id = v.delivery_id ORDER BY v.n";

const DELIVERIES_UPDATE: &str = "UPDATE webhook_deliveries w SET state = v.state, attempts = w.attempts + 1,
         lease_until = NULL, lease_owner = NULL, next_attempt_at = COALESCE(v.next_at, w.next_attempt_at), last_error = v.detail,
         finished_at = CASE WHEN v.state = 'pending' THEN NULL ELSE v.at END
     FROM {RECORDS} WHERE w.id = v.delivery_id";

/// Runs `statement` with the records bound as the table `v`.
async fn write_records(
    tx: &mut PgConnection,
    records: &[AttemptRecord],
    statement: &str,
) -> StoreResult<()> {
    let fates: Vec<(&str, Option<i64>)> = records
        .iter()
        .map(|record| match record.fate {
            DeliveryFate::Delivered => ("delivered", None),
            DeliveryFate::Retry { at } => ("pending", Some(at)),
            DeliveryFate::Failed { .. } => ("failed", None),
            DeliveryFate::Abandoned => ("abandoned", None),
        })
        .collect();
    let sql = statement.replace("{RECORDS}", RECORDS);
    sqlx::query(audited(sql))
        .bind(records.iter().map(|r| r.delivery_id).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.hook_id).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.at).collect::<Vec<_>>())
        .bind(
            records
                .iter()
                .map(|r| r.http_status.map(i64::from))
                .collect::<Vec<_>>(),
        )
        .bind(records.iter().map(|r| r.latency_ms).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.error_class).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.detail.clone()).collect::<Vec<_>>())
        .bind(
            records
                .iter()
                .map(|r| r.response_snippet.clone())
                .collect::<Vec<_>>(),
        )
        .bind(fates.iter().map(|(state, _)| *state).collect::<Vec<_>>())
        .bind(fates.iter().map(|(_, next)| *next).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn update_hook(conn: &mut PgConnection, attempt: &AttemptRecord) -> StoreResult<HookChange> {
    if attempt.fate == DeliveryFate::Delivered {
        sqlx::query(
            "UPDATE hooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
        )
        .bind(attempt.hook_id)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
        return Ok(HookChange::None);
    }
    let gone = attempt.fate == (DeliveryFate::Failed { disable_hook: true });
    let disabled = sqlx::query(
        "UPDATE hooks SET failing_since = COALESCE(failing_since, $1),
             enabled = CASE WHEN $2 OR $1 - COALESCE(failing_since, $1) >= $3 THEN false
                            ELSE enabled END,
             disabled_reason = CASE
                 WHEN NOT enabled THEN disabled_reason
                 WHEN $2 THEN 'the receiver answered 410 Gone'
                 WHEN $1 - COALESCE(failing_since, $1) >= $3 THEN 'every attempt failed for too long'
                 ELSE disabled_reason END
         WHERE id = $4 AND enabled
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
    pool: &PgPool,
    account: AccountId,
    hook: HookId,
    limit: u32,
) -> StoreResult<Vec<AttemptView>> {
    let rows = sqlx::query(
        "SELECT t.id, t.delivery_id, d.message_id, d.status, t.attempt, t.at, t.http_status,
                t.latency_ms, t.error_class, t.detail, t.response_snippet
         FROM webhook_attempts t JOIN webhook_deliveries d ON d.id = t.delivery_id
         WHERE t.hook_id = $1 AND d.account_id = $2 ORDER BY t.id DESC LIMIT $3",
    )
    .bind(hook)
    .bind(account)
    .bind(i64::from(limit))
    .fetch_all(pool)
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
    pool: &PgPool,
    account: AccountId,
    hook: HookId,
    limit: u32,
) -> StoreResult<Vec<DeliveryView>> {
    let rows = sqlx::query(
        "SELECT id, hook_id, message_id, status, state, attempts, created_at, next_attempt_at, last_error
         FROM webhook_deliveries WHERE hook_id = $1 AND account_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(hook)
    .bind(account)
    .bind(i64::from(limit))
    .fetch_all(pool)
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

/// Puts deliveries back in the queue with a fresh schedule, due at `$1`.
const REQUEUE: &str = "UPDATE webhook_deliveries
     SET state = 'pending', attempts = 0, next_attempt_at = $1, finished_at = NULL,
         lease_until = NULL, lease_owner = NULL, pushed = false";

/// Puts a finished delivery back in the queue with a fresh schedule.
pub async fn resend(
    pool: &PgPool,
    account: AccountId,
    hook: HookId,
    delivery: DeliveryId,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(audited(format!(
        "{REQUEUE} WHERE id = $2 AND hook_id = $3 AND account_id = $4 AND state <> 'pending'
           AND hook_id IN (SELECT id FROM hooks WHERE NOT deleted)"
    )))
    .bind(now)
    .bind(delivery)
    .bind(hook)
    .bind(account)
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

/// Re-sends every failed or abandoned delivery of a hook created at or after `since`.
pub async fn recover(
    pool: &PgPool,
    account: AccountId,
    hook: HookId,
    since: i64,
    now: i64,
) -> StoreResult<u64> {
    let done = sqlx::query(audited(format!(
        "{REQUEUE} WHERE hook_id = $2 AND account_id = $3 AND state IN ('failed', 'abandoned')
           AND created_at >= $4 AND hook_id IN (SELECT id FROM hooks WHERE NOT deleted)"
    )))
    .bind(now)
    .bind(hook)
    .bind(account)
    .bind(since)
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}
