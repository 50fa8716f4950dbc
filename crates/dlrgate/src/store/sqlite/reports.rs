//! Operator reports in SQLite: submissions, receipts through the status engine, scheduled
//! reports, history, and the retention purge.

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::engine::apply_many;
use super::map_err;
use super::rows::status_from_column;
use std::collections::HashSet;

use super::rows::{audited, insert_many, placeholders};
use crate::store::*;

pub async fn record_submissions(
    writer: &SqlitePool,
    submissions: Vec<Submission>,
) -> StoreResult<Vec<StatusChange>> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let changes = record_in(&mut tx, &submissions).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

/// `record_submissions` inside a transaction of the caller.
pub(super) async fn record_in(
    tx: &mut SqliteConnection,
    submissions: &[Submission],
) -> StoreResult<Vec<StatusChange>> {
    let tx = &mut *tx;
    let processed = mark_processed(&mut *tx, submissions).await?;
    // Messages cancelled meanwhile are not processed.
    let submissions: Vec<&Submission> = submissions
        .iter()
        .filter(|s| processed.contains(&s.message_id))
        .collect();
    insert_many(
        &mut *tx,
        "INSERT INTO status_events (message_id, kind, state, effect, at, source)",
        "(?, 'internal', 'processed', 'applied', ?, ?)",
        &submissions,
        |query, s| {
            query
                .bind(s.message_id)
                .bind(s.at)
                .bind(s.connector.clone())
        },
    )
    .await?;
    let immediate: Vec<&Receipt> = submissions.iter().flat_map(|s| &s.immediate).collect();
    let mut changes = apply_many(&mut *tx, &immediate).await?;
    changes.extend(super::operators::store_ids_and_unpark(&mut *tx, &submissions).await?);
    let scheduled: Vec<&Receipt> = submissions.iter().flat_map(|s| &s.scheduled).collect();
    insert_many(
        &mut *tx,
        "INSERT INTO scheduled_reports (message_id, part, status, due_at, source, error_code, raw)",
        "(?, ?, ?, ?, ?, ?, ?)",
        &scheduled,
        |query, r| {
            query
                .bind(r.message_id)
                .bind(i64::from(r.part))
                .bind(r.status.as_str())
                .bind(r.at)
                .bind(r.source.clone())
                .bind(r.error_code.clone())
                .bind(r.raw.clone())
        },
    )
    .await?;
    Ok(changes)
}

/// Moves the still-queued messages among `submissions` to processed; returns their ids.
async fn mark_processed(
    conn: &mut SqliteConnection,
    submissions: &[Submission],
) -> StoreResult<HashSet<MessageId>> {
    let mut processed = HashSet::with_capacity(submissions.len());
    let mut connectors: Vec<&str> = submissions.iter().map(|s| s.connector.as_str()).collect();
    connectors.sort_unstable();
    connectors.dedup();
    for connector in connectors {
        let ids: Vec<MessageId> = submissions
            .iter()
            .filter(|s| s.connector == connector)
            .map(|s| s.message_id)
            .collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "UPDATE messages SET state = 'processed', connector = ? WHERE state IN ('queued', 'sending') AND id IN ({}) RETURNING id",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(audited(sql)).bind(connector.to_owned());
            for id in chunk {
                query = query.bind(id);
            }
            for row in query.fetch_all(&mut *conn).await.map_err(map_err)? {
                processed.insert(row.try_get::<MessageId, _>(0).map_err(map_err)?);
            }
        }
    }
    Ok(processed)
}

pub async fn apply_receipts(
    writer: &SqlitePool,
    receipts: Vec<Receipt>,
) -> StoreResult<Vec<StatusChange>> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let changes = apply_many(&mut tx, &receipts.iter().collect::<Vec<_>>()).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

pub async fn apply_due(
    writer: &SqlitePool,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<StatusChange>> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let rows = sqlx::query(
        "SELECT id, message_id, part, status, due_at, source, error_code, raw FROM scheduled_reports
         WHERE due_at <= ? ORDER BY due_at, id LIMIT ?",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let mut due = Vec::with_capacity(rows.len());
    let mut applied: Vec<i64> = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id").map_err(map_err)?;
        let part: i64 = row.try_get("part").map_err(map_err)?;
        let receipt = Receipt {
            message_id: row.try_get("message_id").map_err(map_err)?,
            part: u32::try_from(part).map_err(|_| StoreError::Corrupt(format!("part {part}")))?,
            status: status_from_column(row.try_get("status").map_err(map_err)?)?
                .ok_or_else(|| StoreError::Corrupt("scheduled report without status".into()))?,
            at: row.try_get("due_at").map_err(map_err)?,
            source: row.try_get("source").map_err(map_err)?,
            error_code: row.try_get("error_code").map_err(map_err)?,
            raw: row.try_get("raw").map_err(map_err)?,
        };
        due.push(receipt);
        applied.push(id);
    }
    let changes = apply_many(&mut tx, &due.iter().collect::<Vec<_>>()).await?;
    if !applied.is_empty() {
        let sql = format!(
            "DELETE FROM scheduled_reports WHERE id IN ({})",
            placeholders(applied.len())
        );
        let mut delete = sqlx::query(audited(sql));
        for id in &applied {
            delete = delete.bind(id);
        }
        delete.execute(&mut *tx).await.map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

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
