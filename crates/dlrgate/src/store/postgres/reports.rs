//! Operator reports in PostgreSQL: submissions, receipts through the status engine, scheduled
//! reports, history, and the retention purge.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::engine::apply_many;
use super::map_err;
use super::rows::{part_column, part_from_column, status_from_column};
use crate::store::*;

pub async fn record_submissions(
    pool: &PgPool,
    submissions: &[Submission],
) -> StoreResult<Vec<StatusChange>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let changes = record_in(&mut tx, submissions).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

/// `record_submissions` inside a transaction of the caller. The operator ids are locked first
/// (before any message row), so a receipt for one of them cannot be parked unseen meanwhile.
pub(super) async fn record_in(
    tx: &mut PgConnection,
    submissions: &[Submission],
) -> StoreResult<Vec<StatusChange>> {
    let pairs = super::operators::operator_pairs(submissions);
    super::operators::lock_operator_ids(&mut *tx, &pairs).await?;
    let processed = mark_processed(&mut *tx, submissions).await?;
    // Messages cancelled meanwhile are not processed.
    let submissions: Vec<&Submission> = submissions
        .iter()
        .filter(|s| processed.contains(&s.message_id))
        .collect();
    if !submissions.is_empty() {
        sqlx::query(
            "INSERT INTO status_events (message_id, kind, state, effect, at, source)
             SELECT id, 'internal', 'processed', 'applied', at, source
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) WITH ORDINALITY
                  AS v(id, at, source, n)
             ORDER BY n",
        )
        .bind(submissions.iter().map(|s| s.message_id).collect::<Vec<_>>())
        .bind(submissions.iter().map(|s| s.at).collect::<Vec<_>>())
        .bind(
            submissions
                .iter()
                .map(|s| s.connector.clone())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    let immediate: Vec<&Receipt> = submissions.iter().flat_map(|s| &s.immediate).collect();
    let mut changes = apply_many(&mut *tx, &immediate).await?;
    changes.extend(super::operators::store_ids_and_unpark(&mut *tx, &submissions).await?);
    let scheduled: Vec<&Receipt> = submissions.iter().flat_map(|s| &s.scheduled).collect();
    if !scheduled.is_empty() {
        sqlx::query(
            "INSERT INTO scheduled_reports (message_id, part, status, due_at, source, error_code, raw)
             SELECT message_id, part, status, due_at, source, error_code, raw
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[],
                         $6::text[], $7::text[]) WITH ORDINALITY
                  AS v(message_id, part, status, due_at, source, error_code, raw, n)
             ORDER BY n",
        )
        .bind(scheduled.iter().map(|r| r.message_id).collect::<Vec<_>>())
        .bind(scheduled.iter().map(|r| part_column(r.part)).collect::<Vec<_>>())
        .bind(scheduled.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
        .bind(scheduled.iter().map(|r| r.at).collect::<Vec<_>>())
        .bind(scheduled.iter().map(|r| r.source.clone()).collect::<Vec<_>>())
        .bind(scheduled.iter().map(|r| r.error_code.clone()).collect::<Vec<_>>())
        .bind(scheduled.iter().map(|r| r.raw.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    Ok(changes)
}

/// Moves the still-queued (or claimed) messages among `submissions` to processed, on the
/// connector that took each; returns their ids. The rows are locked in id order first.
async fn mark_processed(
    conn: &mut PgConnection,
    submissions: &[Submission],
) -> StoreResult<std::collections::HashSet<MessageId>> {
    if submissions.is_empty() {
        return Ok(Default::default());
    }
    let ids: Vec<MessageId> = submissions.iter().map(|s| s.message_id).collect();
    sqlx::query("SELECT id FROM messages WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&ids)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let processed: Vec<MessageId> = sqlx::query_scalar(
        "UPDATE messages m SET state = 'processed', connector = v.connector
         FROM UNNEST($1::bigint[], $2::text[]) AS v(id, connector)
         WHERE m.id = v.id AND m.state IN ('queued', 'sending')
         RETURNING m.id",
    )
    .bind(&ids)
    .bind(
        submissions
            .iter()
            .map(|s| s.connector.clone())
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(processed.into_iter().collect())
}

pub async fn apply_receipts(pool: &PgPool, receipts: &[Receipt]) -> StoreResult<Vec<StatusChange>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let changes = apply_many(&mut tx, &receipts.iter().collect::<Vec<_>>()).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

/// Takes (deletes) up to `limit` scheduled reports due at `now` and applies them in due order.
/// Reports another transaction holds are skipped: two appliers never apply one report twice. A
/// report with an earlier one of its message still scheduled and not taken here (another node's
/// applier holds it, or the limit cut it off) waits, so a message's reports apply in order
/// whichever nodes apply them.
pub async fn apply_due(pool: &PgPool, now: i64, limit: u32) -> StoreResult<Vec<StatusChange>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let rows = sqlx::query(
        "WITH due AS (
             SELECT id, message_id, due_at FROM scheduled_reports WHERE due_at <= $1
             ORDER BY due_at, id LIMIT $2 FOR UPDATE SKIP LOCKED),
         ready AS (
             SELECT d.id FROM due d WHERE NOT EXISTS (
                 SELECT 1 FROM scheduled_reports e
                 WHERE e.message_id = d.message_id AND (e.due_at, e.id) < (d.due_at, d.id)
                   AND NOT EXISTS (SELECT 1 FROM due x WHERE x.id = e.id)))
         DELETE FROM scheduled_reports s USING ready WHERE s.id = ready.id
         RETURNING s.id, s.message_id, s.part, s.status, s.due_at, s.source, s.error_code, s.raw",
    )
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let mut due = rows
        .iter()
        .map(scheduled_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    due.sort_by_key(|(id, receipt)| (receipt.at, *id));
    let receipts: Vec<&Receipt> = due.iter().map(|(_, receipt)| receipt).collect();
    let changes = apply_many(&mut tx, &receipts).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

fn scheduled_from_row(row: &PgRow) -> StoreResult<(i64, Receipt)> {
    let receipt = Receipt {
        message_id: row.try_get("message_id").map_err(map_err)?,
        part: part_from_column(row.try_get("part").map_err(map_err)?)?,
        status: status_from_column(row.try_get("status").map_err(map_err)?)?
            .ok_or_else(|| StoreError::Corrupt("scheduled report without status".into()))?,
        at: row.try_get("due_at").map_err(map_err)?,
        source: row.try_get("source").map_err(map_err)?,
        error_code: row.try_get("error_code").map_err(map_err)?,
        raw: row.try_get("raw").map_err(map_err)?,
    };
    Ok((row.try_get("id").map_err(map_err)?, receipt))
}

pub async fn next_due(pool: &PgPool) -> StoreResult<Option<i64>> {
    sqlx::query_scalar("SELECT MIN(due_at) FROM scheduled_reports")
        .fetch_one(pool)
        .await
        .map_err(map_err)
}

pub async fn events(
    pool: &PgPool,
    account: AccountId,
    id: MessageId,
) -> StoreResult<Vec<StatusEvent>> {
    let rows = sqlx::query(
        "SELECT e.part, e.kind, e.state, e.effect, e.at, e.source, e.error_code, e.raw
         FROM status_events e JOIN messages m ON m.id = e.message_id
         WHERE m.account_id = $1 AND e.message_id = $2 ORDER BY e.id",
    )
    .bind(account)
    .bind(id)
    .fetch_all(pool)
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

/// Deletes a bounded batch of old finished messages with everything that hangs off them, and
/// the receipts parked before `cutoff`. The batch is locked with `SKIP LOCKED`: a message some
/// other transaction is changing right now is left for the next batch.
pub async fn purge(pool: &PgPool, cutoff: i64, limit: u32) -> StoreResult<u64> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let victims: Vec<MessageId> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE send_at < $1 AND state NOT IN ('queued', 'sending')
         ORDER BY send_at LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(cutoff)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let mut purged = 0;
    if !victims.is_empty() {
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN
                 (SELECT id FROM webhook_deliveries WHERE message_id = ANY($1))",
        )
        .bind(&victims)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        for statement in [
            "DELETE FROM status_events WHERE message_id = ANY($1)",
            "DELETE FROM message_parts WHERE message_id = ANY($1)",
            "DELETE FROM scheduled_reports WHERE message_id = ANY($1)",
            "DELETE FROM webhook_deliveries WHERE message_id = ANY($1)",
        ] {
            sqlx::query(statement)
                .bind(&victims)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        purged = sqlx::query("DELETE FROM messages WHERE id = ANY($1)")
            .bind(&victims)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
    }
    sqlx::query("DELETE FROM parked_receipts WHERE received_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(purged)
}

pub async fn queue_depths(pool: &PgPool) -> StoreResult<QueueDepths> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM messages WHERE state IN ('queued', 'sending')),
                (SELECT COUNT(*) FROM scheduled_reports),
                (SELECT COUNT(*) FROM parked_receipts)",
    )
    .fetch_one(pool)
    .await
    .map_err(map_err)?;
    Ok(QueueDepths {
        queued_messages: row.try_get(0).map_err(map_err)?,
        scheduled_reports: row.try_get(1).map_err(map_err)?,
        parked_receipts: row.try_get(2).map_err(map_err)?,
    })
}
