//! Receipts through the status engine, a batch at a time: the states of every message a batch
//! names are read, the receipts are run through `domain::status` in memory in the order given
//! (`store::plan`, shared with PostgreSQL), and the results are written with prepared
//! statements: events, part states, message states and the webhook deliveries of each status
//! change (the outbox).
//!
//! Every receipt is kept as an event: `applied`, `duplicate`, `stale`, or `unmatched` when the
//! message has no such part. A receipt for a message that does not exist can only be logged.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::map_err;
use crate::domain::status::PartState;
use crate::store::plan::{MessageRow, MessageState, plan};
use crate::store::rows::status_from_column;
use crate::store::*;

/// Applies `receipts` in order and returns the status changes of whole messages, in order.
pub fn apply_many(conn: &Connection, receipts: &[&Receipt]) -> StoreResult<Vec<StatusChange>> {
    if receipts.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<MessageId> = receipts.iter().map(|r| r.message_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut states = load_states(conn, &ids)?;
    let plan = plan(receipts, &mut states);
    insert_events(conn, &plan.events)?;
    write_parts(conn, &plan.parts)?;
    write_messages(conn, &plan.messages)?;
    enqueue_deliveries(conn, &plan.changes)?;
    Ok(plan.changes)
}

fn load_states(
    conn: &Connection,
    ids: &[MessageId],
) -> StoreResult<HashMap<MessageId, MessageState>> {
    let mut select = conn
        .prepare_cached(
            "SELECT p.part, p.status, p.provisional, m.account_id, m.status, m.provisional,
                    m.send_at, COALESCE(m.connector, '')
             FROM message_parts p JOIN messages m ON m.id = p.message_id
             WHERE p.message_id = ?1 ORDER BY p.part",
        )
        .map_err(map_err)?;
    let mut states: HashMap<MessageId, MessageState> = HashMap::with_capacity(ids.len());
    for &id in ids {
        let mut rows = select.query([id]).map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            let part: i64 = row.get(0).map_err(map_err)?;
            let part_state = PartState {
                status: status_from_column(row.get(1).map_err(map_err)?)?,
                provisional: row.get(2).map_err(map_err)?,
            };
            let state = match states.entry(id) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => entry.insert(MessageState {
                    account_id: row.get(3).map_err(map_err)?,
                    status: status_from_column(row.get(4).map_err(map_err)?)?,
                    provisional: row.get(5).map_err(map_err)?,
                    parts: Vec::new(),
                    send_at: row.get(6).map_err(map_err)?,
                    connector: row.get(7).map_err(map_err)?,
                }),
            };
            state
                .parts
                .push((u32::try_from(part).unwrap_or(0), part_state));
        }
    }
    Ok(states)
}

fn insert_events(conn: &Connection, events: &[(&Receipt, &'static str)]) -> StoreResult<()> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO status_events
                 (message_id, part, kind, state, effect, at, source, error_code, raw)
             VALUES (?1, ?2, 'report', ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(map_err)?;
    for (r, effect) in events {
        insert
            .execute(params![
                r.message_id,
                i64::from(r.part),
                r.status.as_str(),
                effect,
                r.at,
                r.source,
                r.error_code,
                r.raw,
            ])
            .map_err(map_err)?;
    }
    Ok(())
}

fn write_parts(
    conn: &Connection,
    parts: &HashMap<(MessageId, u32), (PartState, i64)>,
) -> StoreResult<()> {
    let mut update = conn
        .prepare_cached(
            "UPDATE message_parts SET status = ?3, status_at = ?4, provisional = ?5
             WHERE message_id = ?1 AND part = ?2",
        )
        .map_err(map_err)?;
    for ((id, part), (state, at)) in parts {
        let status = state.status.map(|s| s.as_str());
        update
            .execute(params![id, i64::from(*part), status, at, state.provisional])
            .map_err(map_err)?;
    }
    Ok(())
}

fn write_messages(conn: &Connection, messages: &HashMap<MessageId, MessageRow>) -> StoreResult<()> {
    let mut update = conn
        .prepare_cached(
            "UPDATE messages SET status = ?2, status_at = ?3, provisional = ?4, error_code = ?5
             WHERE id = ?1",
        )
        .map_err(map_err)?;
    for (id, row) in messages {
        update
            .execute(params![
                id,
                row.shown.as_str(),
                row.at,
                row.provisional,
                row.error_code
            ])
            .map_err(map_err)?;
    }
    Ok(())
}

/// How long a delivery created leased stays with this process's dispatcher before another claim
/// may take it (it reaches the dispatcher in milliseconds; the lease only matters if it never does).
const PUSHED_LEASE_MS: i64 = 60_000;

/// Writes the webhook deliveries of `changes` (the outbox, in the caller's transaction): one
/// pending delivery per change and matching hook, in the order of the changes, so a message's
/// statuses go out in order. A delivery to an enabled hook with nothing of its message waiting
/// unleased before it is created leased, for this process's dispatcher to read once the
/// transaction commits ([`crate::store::sqlite::outbox::pushed`]): no claim, no second write
/// before it goes out.
fn enqueue_deliveries(conn: &Connection, changes: &[StatusChange]) -> StoreResult<()> {
    let now = crate::workers::now_millis();
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO webhook_deliveries (hook_id, account_id, message_id, status, status_at,
                 created_at, state, next_attempt_at, lease_until)
             SELECT h.id, h.account_id, m.id, ?2, ?3, ?4, 'pending', ?4,
                    CASE WHEN h.enabled = 1 AND NOT EXISTS (
                        SELECT 1 FROM webhook_deliveries e
                        WHERE e.hook_id = h.id AND e.message_id = m.id AND e.state = 'pending'
                          AND (e.lease_until IS NULL OR e.lease_until <= ?4))
                    THEN ?5 END
             FROM messages m JOIN hooks h ON h.account_id = m.account_id
             WHERE m.id = ?1 AND h.deleted = 0 AND h.backlog_full = 0
               AND h.event_type IN ('dlr', 'all')
               AND (h.event_filter IS NULL OR h.event_filter = m.recipient
                    OR h.event_filter = m.sender)
             ORDER BY h.id",
        )
        .map_err(map_err)?;
    let lease_until = now.saturating_add(PUSHED_LEASE_MS);
    for change in changes {
        insert
            .execute(params![
                change.message_id,
                change.status.as_str(),
                change.at,
                now,
                lease_until
            ])
            .map_err(map_err)?;
    }
    Ok(())
}
