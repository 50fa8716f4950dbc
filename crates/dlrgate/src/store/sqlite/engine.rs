//! Receipts through the status engine, a batch at a time: the states of every message a batch
//! names are read in one statement, the receipts are run through `domain::status` in memory in
//! the order given (`store::plan`, shared with PostgreSQL), and the results are written with a
//! handful of set-based statements: events, part states, message states and the webhook
//! deliveries of each status change (the outbox).
//!
//! Every receipt is kept as an event: `applied`, `duplicate`, `stale`, or `unmatched` when the
//! message has no such part. A receipt for a message that does not exist can only be logged.

use std::collections::HashMap;

use sqlx::{Row, SqliteConnection};

use super::map_err;
use super::rows::{audited, insert_many, placeholders, status_from_column};
use crate::domain::status::PartState;
use crate::store::plan::{MessageRow, MessageState, plan};
use crate::store::*;

/// Rows per multi-row statement (SQLite allows 32,766 parameters; the widest row here has 8).
const CHUNK: usize = 400;

/// Applies `receipts` in order and returns the status changes of whole messages, in order.
pub(super) async fn apply_many(
    conn: &mut SqliteConnection,
    receipts: &[&Receipt],
) -> StoreResult<Vec<StatusChange>> {
    if receipts.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<MessageId> = receipts.iter().map(|r| r.message_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut states = load_states(conn, &ids).await?;
    let plan = plan(receipts, &mut states);
    insert_events(conn, &plan.events).await?;
    write_parts(conn, &plan.parts).await?;
    write_messages(conn, &plan.messages).await?;
    enqueue_deliveries(conn, &plan.changes).await?;
    Ok(plan.changes)
}

async fn load_states(
    conn: &mut SqliteConnection,
    ids: &[MessageId],
) -> StoreResult<HashMap<MessageId, MessageState>> {
    let mut states: HashMap<MessageId, MessageState> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT p.message_id, p.part, p.status, p.provisional, m.account_id,
                    m.status AS message_status, m.provisional AS message_provisional,
                    m.send_at, COALESCE(m.connector, '') AS connector
             FROM message_parts p JOIN messages m ON m.id = p.message_id
             WHERE p.message_id IN ({}) ORDER BY p.message_id, p.part",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(audited(sql));
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_err)? {
            let id: MessageId = row.try_get("message_id").map_err(map_err)?;
            let part: i64 = row.try_get("part").map_err(map_err)?;
            let part_state = PartState {
                status: status_from_column(row.try_get("status").map_err(map_err)?)?,
                provisional: row.try_get("provisional").map_err(map_err)?,
            };
            let state = match states.entry(id) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => entry.insert(MessageState {
                    account_id: row.try_get("account_id").map_err(map_err)?,
                    status: status_from_column(row.try_get("message_status").map_err(map_err)?)?,
                    provisional: row.try_get("message_provisional").map_err(map_err)?,
                    parts: Vec::new(),
                    send_at: row.try_get("send_at").map_err(map_err)?,
                    connector: row.try_get("connector").map_err(map_err)?,
                }),
            };
            state
                .parts
                .push((u32::try_from(part).unwrap_or(0), part_state));
        }
    }
    Ok(states)
}

async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[(&Receipt, &'static str)],
) -> StoreResult<()> {
    insert_many(
        conn,
        "INSERT INTO status_events (message_id, part, kind, state, effect, at, source, error_code, raw)",
        "(?, ?, 'report', ?, ?, ?, ?, ?, ?)",
        events,
        |query, (r, effect)| {
            query
                .bind(r.message_id)
                .bind(i64::from(r.part))
                .bind(r.status.as_str())
                .bind(*effect)
                .bind(r.at)
                .bind(r.source.clone())
                .bind(r.error_code.clone())
                .bind(r.raw.clone())
        },
    )
    .await
}

async fn write_parts(
    conn: &mut SqliteConnection,
    parts: &HashMap<(MessageId, u32), (PartState, i64)>,
) -> StoreResult<()> {
    let rows: Vec<_> = parts.iter().collect();
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "UPDATE message_parts SET status = v.column3, status_at = v.column4, provisional = v.column5
             FROM (VALUES {}) AS v WHERE message_id = v.column1 AND part = v.column2",
            vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query(audited(sql));
        for ((id, part), (state, at)) in chunk {
            query = query
                .bind(*id)
                .bind(i64::from(*part))
                .bind(state.status.map(|s| s.as_str()))
                .bind(*at)
                .bind(state.provisional);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}

async fn write_messages(
    conn: &mut SqliteConnection,
    messages: &HashMap<MessageId, MessageRow>,
) -> StoreResult<()> {
    let rows: Vec<_> = messages.iter().collect();
    for chunk in rows.chunks(CHUNK) {
        let sql = format!(
            "UPDATE messages SET status = v.column2, status_at = v.column3, provisional = v.column4,
                 error_code = v.column5
             FROM (VALUES {}) AS v WHERE id = v.column1",
            vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query(audited(sql));
        for (id, row) in chunk {
            query = query
                .bind(**id)
                .bind(row.shown.as_str())
                .bind(row.at)
                .bind(row.provisional)
                .bind(row.error_code.clone());
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}

/// The transactional outbox: one pending delivery per change and matching hook, in the order of
/// the changes, so a message's statuses go out in order.
/// How long a delivery created leased stays with this process's dispatcher before another claim
/// may take it (it reaches the dispatcher in milliseconds; the lease only matters if it never does).
pub(super) const PUSHED_LEASE_MS: i64 = 60_000;

/// Writes the webhook deliveries of `changes` (the outbox, in the caller's transaction). A
/// delivery to an enabled hook with nothing of its message waiting unleased before it is created
/// leased, for this process's dispatcher to read once the transaction commits
/// ([`super::outbox::pushed`]): no claim, no second write before it goes out.
async fn enqueue_deliveries(
    conn: &mut SqliteConnection,
    changes: &[StatusChange],
) -> StoreResult<()> {
    let now = crate::workers::now_millis();
    let numbered: Vec<(usize, &StatusChange)> = changes.iter().enumerate().collect();
    for chunk in numbered.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO webhook_deliveries (hook_id, account_id, message_id, status, status_at, created_at, state, next_attempt_at, lease_until)
             SELECT h.id, h.account_id, m.id, v.column3, v.column4, ?, 'pending', ?,
                    CASE WHEN h.enabled = 1 AND NOT EXISTS (
                        SELECT 1 FROM webhook_deliveries e
                        WHERE e.hook_id = h.id AND e.message_id = m.id AND e.state = 'pending'
                          AND (e.lease_until IS NULL OR e.lease_until <= ?))
                    THEN ? END
             FROM (VALUES {}) AS v
             JOIN messages m ON m.id = v.column2
             JOIN hooks h ON h.account_id = m.account_id
             WHERE h.deleted = 0 AND h.backlog_full = 0 AND h.event_type IN ('dlr', 'all')
               AND (h.event_filter IS NULL OR h.event_filter = m.recipient OR h.event_filter = m.sender)
             ORDER BY v.column1, h.id",
            vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        // Anonymous `?` only: sqlx numbers them from 1 whatever `?N` the statement also has.
        let mut query = sqlx::query(audited(sql))
            .bind(now)
            .bind(now)
            .bind(now)
            .bind(now.saturating_add(PUSHED_LEASE_MS));
        for (seq, change) in chunk {
            query = query
                .bind(i64::try_from(*seq).unwrap_or(i64::MAX))
                .bind(change.message_id)
                .bind(change.status.as_str())
                .bind(change.at);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}
