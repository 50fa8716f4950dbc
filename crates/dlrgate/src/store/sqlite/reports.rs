//! Operator reports in SQLite: submissions, receipts through the status engine, scheduled
//! reports, history, and the retention purge.

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::map_err;
use super::rows::status_from_column;
use std::collections::HashSet;

use super::rows::{audited, insert_many, placeholders};
use crate::domain::status::{self, Decision, PartState};
use crate::store::*;

pub async fn record_submissions(
    writer: &SqlitePool,
    submissions: Vec<Submission>,
) -> StoreResult<Vec<StatusChange>> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let changes = record_in(&mut tx, submissions).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

/// `record_submissions` inside a transaction of the caller.
pub(super) async fn record_in(
    tx: &mut SqliteConnection,
    submissions: Vec<Submission>,
) -> StoreResult<Vec<StatusChange>> {
    let tx = &mut *tx;
    let processed = mark_processed(&mut *tx, &submissions).await?;
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
    let mut changes = Vec::new();
    for receipt in submissions.iter().flat_map(|s| &s.immediate) {
        changes.extend(apply_one(&mut *tx, receipt).await?);
    }
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
    let mut changes = Vec::new();
    for receipt in &receipts {
        changes.extend(apply_one(&mut tx, receipt).await?);
    }
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

/// Runs one receipt through the status engine, records it as an event and updates the part and,
/// when its aggregated status changes, the message.
pub(super) async fn apply_one(
    conn: &mut SqliteConnection,
    receipt: &Receipt,
) -> StoreResult<Option<StatusChange>> {
    let Some(mut message) = load_message_state(conn, receipt.message_id).await? else {
        record_unmatched(conn, receipt).await?;
        return Ok(None);
    };
    let Some(index) = message
        .parts
        .iter()
        .position(|(part, _)| *part == receipt.part)
    else {
        record_unmatched(conn, receipt).await?;
        return Ok(None);
    };
    let decision = status::transition(message.parts[index].1, receipt.status);
    let effect = match decision {
        Decision::Apply(_) => "applied",
        Decision::Duplicate => "duplicate",
        Decision::Stale => "stale",
    };
    sqlx::query(
        "INSERT INTO status_events (message_id, part, kind, state, effect, at, source, error_code, raw)
         VALUES (?, ?, 'report', ?, ?, ?, ?, ?, ?)",
    )
    .bind(receipt.message_id)
    .bind(i64::from(receipt.part))
    .bind(receipt.status.as_str())
    .bind(effect)
    .bind(receipt.at)
    .bind(&receipt.source)
    .bind(&receipt.error_code)
    .bind(&receipt.raw)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    let Decision::Apply(next) = decision else {
        return Ok(None);
    };
    sqlx::query("UPDATE message_parts SET status = ?, status_at = ?, provisional = ? WHERE message_id = ? AND part = ?")
        .bind(next.status.map(|s| s.as_str()))
        .bind(receipt.at)
        .bind(next.provisional)
        .bind(receipt.message_id)
        .bind(i64::from(receipt.part))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    message.parts[index].1 = next;
    update_message(conn, receipt, &message).await
}

/// A message's parts and its shown status, read in one statement.
struct MessageState {
    account_id: AccountId,
    status: Option<status::DeliveryStatus>,
    provisional: bool,
    parts: Vec<(u32, PartState)>,
}

async fn load_message_state(
    conn: &mut SqliteConnection,
    id: MessageId,
) -> StoreResult<Option<MessageState>> {
    let rows = sqlx::query(
        "SELECT p.part, p.status, p.provisional, m.account_id, m.status AS message_status,
                m.provisional AS message_provisional
         FROM message_parts p JOIN messages m ON m.id = p.message_id WHERE p.message_id = ? ORDER BY p.part",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut parts = Vec::with_capacity(rows.len());
    for row in &rows {
        let part: i64 = row.try_get("part").map_err(map_err)?;
        parts.push((u32::try_from(part).unwrap_or(0), part_state(row)?));
    }
    Ok(Some(MessageState {
        account_id: first.try_get("account_id").map_err(map_err)?,
        status: status_from_column(first.try_get("message_status").map_err(map_err)?)?,
        provisional: first.try_get("message_provisional").map_err(map_err)?,
        parts,
    }))
}

/// A receipt for a part the message does not have is kept in the message's history (effect
/// `unmatched`); one for a message that does not exist can only be logged.
async fn record_unmatched(conn: &mut SqliteConnection, receipt: &Receipt) -> StoreResult<()> {
    tracing::warn!(
        message_id = receipt.message_id,
        part = receipt.part,
        "receipt for an unknown message part"
    );
    sqlx::query(
        "INSERT INTO status_events (message_id, part, kind, state, effect, at, source, error_code, raw)
         SELECT id, ?, 'report', ?, 'unmatched', ?, ?, ?, ? FROM messages WHERE id = ?",
    )
    .bind(i64::from(receipt.part))
    .bind(receipt.status.as_str())
    .bind(receipt.at)
    .bind(&receipt.source)
    .bind(&receipt.error_code)
    .bind(&receipt.raw)
    .bind(receipt.message_id)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

fn part_state(row: &sqlx::sqlite::SqliteRow) -> StoreResult<PartState> {
    Ok(PartState {
        status: status_from_column(row.try_get("status").map_err(map_err)?)?,
        provisional: row.try_get("provisional").map_err(map_err)?,
    })
}

/// Recomputes the message status from its parts after `receipt` changed one of them.
async fn update_message(
    conn: &mut SqliteConnection,
    receipt: &Receipt,
    message: &MessageState,
) -> StoreResult<Option<StatusChange>> {
    let parts: Vec<PartState> = message.parts.iter().map(|(_, state)| *state).collect();
    let Some(aggregated) = status::aggregate(&parts) else {
        return Ok(None);
    };
    let provisional = status::aggregate_is_provisional(&parts);
    let (account_id, before, was_provisional) =
        (message.account_id, message.status, message.provisional);
    let next = status::message_update(before, Some(aggregated));
    if next.is_none() && was_provisional == provisional {
        return Ok(None);
    }
    let shown = next.or(before).unwrap_or(aggregated);
    sqlx::query("UPDATE messages SET status = ?, status_at = ?, provisional = ?, error_code = ? WHERE id = ?")
        .bind(shown.as_str())
        .bind(receipt.at)
        .bind(provisional)
        .bind(&receipt.error_code)
        .bind(receipt.message_id)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let Some(status) = next else {
        return Ok(None);
    };
    let change = StatusChange {
        message_id: receipt.message_id,
        account_id,
        status,
        at: receipt.at,
    };
    // The transactional outbox: the webhook deliveries of this change commit with it.
    super::hooks::enqueue(conn, &change, crate::workers::now_millis()).await?;
    Ok(Some(change))
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
    let mut changes = Vec::new();
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
        changes.extend(apply_one(&mut tx, &receipt).await?);
        applied.push(id);
    }
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
