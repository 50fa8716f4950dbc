//! Operator reports on the write thread: submissions recorded, scheduled reports applied.

use std::collections::HashSet;

use rusqlite::{Connection, params};

use super::engine::apply_many;
use super::map_err;
use super::operators::store_ids_and_unpark;
use crate::store::rows::status_from_column;
use crate::store::*;

/// `Store::record_submissions`: the still-queued messages among `submissions` become
/// processed, their immediate receipts are applied, operator ids stored (and receipts parked for
/// them applied), and their later reports scheduled.
pub fn record_submissions(
    conn: &Connection,
    submissions: &[Submission],
) -> StoreResult<Vec<StatusChange>> {
    let processed = mark_processed(conn, submissions)?;
    // Messages cancelled meanwhile are not processed.
    let submissions: Vec<&Submission> = submissions
        .iter()
        .filter(|s| processed.contains(&s.message_id))
        .collect();
    let mut event = conn
        .prepare_cached(
            "INSERT INTO status_events (message_id, kind, state, effect, at, source)
             VALUES (?1, 'internal', 'processed', 'applied', ?2, ?3)",
        )
        .map_err(map_err)?;
    for s in &submissions {
        event
            .execute(params![s.message_id, s.at, s.connector])
            .map_err(map_err)?;
    }
    let immediate: Vec<&Receipt> = submissions.iter().flat_map(|s| &s.immediate).collect();
    let mut changes = apply_many(conn, &immediate)?;
    changes.extend(store_ids_and_unpark(conn, &submissions)?);
    let mut schedule = conn
        .prepare_cached(
            "INSERT INTO scheduled_reports (message_id, part, status, due_at, source, error_code, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(map_err)?;
    for r in submissions.iter().flat_map(|s| &s.scheduled) {
        schedule
            .execute(params![
                r.message_id,
                i64::from(r.part),
                r.status.as_str(),
                r.at,
                r.source,
                r.error_code,
                r.raw
            ])
            .map_err(map_err)?;
    }
    Ok(changes)
}

/// Moves the still-queued messages among `submissions` to processed; returns their ids.
fn mark_processed(
    conn: &Connection,
    submissions: &[Submission],
) -> StoreResult<HashSet<MessageId>> {
    let mut update = conn
        .prepare_cached(
            "UPDATE messages SET state = 'processed', connector = ?2
             WHERE id = ?1 AND state IN ('queued', 'sending')",
        )
        .map_err(map_err)?;
    let mut processed = HashSet::with_capacity(submissions.len());
    for s in submissions {
        if update
            .execute(params![s.message_id, s.connector])
            .map_err(map_err)?
            > 0
        {
            processed.insert(s.message_id);
        }
    }
    Ok(processed)
}

/// `Store::apply_receipts`.
pub fn apply_receipts(conn: &Connection, receipts: &[Receipt]) -> StoreResult<Vec<StatusChange>> {
    apply_many(conn, &receipts.iter().collect::<Vec<_>>())
}

/// `Store::apply_due_reports`: up to `limit` scheduled reports due at `now`, applied in due
/// order and deleted.
pub fn apply_due(conn: &Connection, now: i64, limit: u32) -> StoreResult<Vec<StatusChange>> {
    let mut select = conn
        .prepare_cached(
            "SELECT id, message_id, part, status, due_at, source, error_code, raw
             FROM scheduled_reports WHERE due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
        )
        .map_err(map_err)?;
    let mut due = Vec::new();
    let mut applied: Vec<i64> = Vec::new();
    let mut rows = select
        .query(params![now, i64::from(limit)])
        .map_err(map_err)?;
    while let Some(row) = rows.next().map_err(map_err)? {
        let part: i64 = row.get(2).map_err(map_err)?;
        due.push(Receipt {
            message_id: row.get(1).map_err(map_err)?,
            part: u32::try_from(part).map_err(|_| StoreError::Corrupt(format!("part {part}")))?,
            status: status_from_column(row.get(3).map_err(map_err)?)?
                .ok_or_else(|| StoreError::Corrupt("scheduled report without status".into()))?,
            at: row.get(4).map_err(map_err)?,
            source: row.get(5).map_err(map_err)?,
            error_code: row.get(6).map_err(map_err)?,
            raw: row.get(7).map_err(map_err)?,
        });
        applied.push(row.get(0).map_err(map_err)?);
    }
    drop(rows);
    let changes = apply_many(conn, &due.iter().collect::<Vec<_>>())?;
    let mut delete = conn
        .prepare_cached("DELETE FROM scheduled_reports WHERE id = ?1")
        .map_err(map_err)?;
    for id in applied {
        delete.execute([id]).map_err(map_err)?;
    }
    Ok(changes)
}
