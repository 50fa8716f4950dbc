//! Operator reports in SQLite: the status history, when the next scheduled report is due, queue
//! depths and the retention purge (applying reports is `hot::reports`).

use sqlx::{Row, SqlitePool};

use super::map_err;

use super::rows::audited;
use crate::store::*;

pub async fn next_due(reader: &SqlitePool) -> StoreResult<Option<i64>> {
    sqlx::query("SELECT MIN(due_at) FROM scheduled_reports")
        .fetch_one(reader)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(map_err)
}

pub async fn events(
    reader: &SqlitePool,
    account: AccountId,
    id: MessageId,
) -> StoreResult<Vec<StatusEvent>> {
    let rows = sqlx::query(
        "SELECT e.part, e.kind, e.state, e.effect, e.at, e.source, e.error_code, e.raw
         FROM status_events e JOIN messages m ON m.id = e.message_id
         WHERE m.account_id = ? AND e.message_id = ? ORDER BY e.id",
    )
    .bind(account)
    .bind(id)
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let part: Option<i64> = row.try_get("part").map_err(map_err)?;
            Ok(StatusEvent {
                part: part.and_then(|p| u32::try_from(p).ok()),
                kind: row.try_get("kind").map_err(map_err)?,
                state: row.try_get("state").map_err(map_err)?,
                effect: row.try_get("effect").map_err(map_err)?,
                at: row.try_get("at").map_err(map_err)?,
                source: row.try_get("source").map_err(map_err)?,
                error_code: row.try_get("error_code").map_err(map_err)?,
                raw: row.try_get("raw").map_err(map_err)?,
            })
        })
        .collect()
}

pub async fn purge(writer: &SqlitePool, cutoff: i64, limit: u32) -> StoreResult<u64> {
    let victims = "SELECT id FROM messages WHERE send_at < ?1 AND state NOT IN ('queued', 'sending') ORDER BY send_at LIMIT ?2";
    let mut tx = writer.begin().await.map_err(map_err)?;
    sqlx::query(audited(format!(
        "DELETE FROM webhook_attempts WHERE delivery_id IN
             (SELECT id FROM webhook_deliveries WHERE message_id IN ({victims}))"
    )))
    .bind(cutoff)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let tables = [
        "status_events",
        "message_parts",
        "scheduled_reports",
        "webhook_deliveries",
    ];
    for table in tables {
        sqlx::query(audited(format!(
            "DELETE FROM {table} WHERE message_id IN ({victims})"
        )))
        .bind(cutoff)
        .bind(i64::from(limit))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    let done = sqlx::query(audited(format!(
        "DELETE FROM messages WHERE id IN ({victims})"
    )))
    .bind(cutoff)
    .bind(i64::from(limit))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query("DELETE FROM parked_receipts WHERE received_at < ?")
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(done.rows_affected())
}

pub async fn queue_depths(reader: &SqlitePool) -> StoreResult<QueueDepths> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE state IN ('queued', 'sending')), (SELECT COUNT(*) FROM scheduled_reports),
                (SELECT COUNT(*) FROM parked_receipts)",
    )
    .fetch_one(reader)
    .await
    .map_err(map_err)?;
    Ok(QueueDepths {
        queued_messages: row.try_get(0).map_err(map_err)?,
        scheduled_reports: row.try_get(1).map_err(map_err)?,
        parked_receipts: row.try_get(2).map_err(map_err)?,
    })
}
