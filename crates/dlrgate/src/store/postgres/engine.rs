//! Receipts through the status engine in PostgreSQL, a batch at a time: the messages a batch
//! names are locked in id order and their states read, the receipts are run through
//! `domain::status` in memory (`store::plan`, shared with SQLite), and the results are written
//! with a handful of array-bound statements: events, part states, message states and the
//! webhook deliveries of each status change (the outbox).
//!
//! The lock is what SQLite's single writer gives for free: two batches that name the same
//! message (a receipt sink and the report applier, say) apply one after the other, so neither
//! overwrites what the other decided, and a message's deliveries are inserted in the order of
//! its status changes. Locking in id order keeps two batches from deadlocking.
//!
//! Every receipt is kept as an event: `applied`, `duplicate`, `stale`, or `unmatched` when the
//! message has no such part. A receipt for a message that does not exist can only be logged.

use std::collections::HashMap;

use sqlx::{PgConnection, Row};

use super::map_err;
use super::rows::{part_column, part_from_column, status_from_column};
use crate::domain::status::PartState;
use crate::store::plan::{MessageRow, MessageState, plan};
use crate::store::*;

/// Applies `receipts` in order and returns the status changes of whole messages, in order.
pub(super) async fn apply_many(
    conn: &mut PgConnection,
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

/// Locks the messages (in id order) and reads their parts.
async fn load_states(
    conn: &mut PgConnection,
    ids: &[MessageId],
) -> StoreResult<HashMap<MessageId, MessageState>> {
    sqlx::query("SELECT id FROM messages WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let rows = sqlx::query(
        "SELECT p.message_id, p.part, p.status, p.provisional, m.account_id,
                m.status AS message_status, m.provisional AS message_provisional,
                m.send_at, COALESCE(m.connector, '') AS connector
         FROM message_parts p JOIN messages m ON m.id = p.message_id
         WHERE p.message_id = ANY($1) ORDER BY p.message_id, p.part",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    let mut states: HashMap<MessageId, MessageState> = HashMap::with_capacity(ids.len());
    for row in rows {
        let id: MessageId = row.try_get("message_id").map_err(map_err)?;
        let part = part_from_column(row.try_get("part").map_err(map_err)?).unwrap_or(0);
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
        state.parts.push((part, part_state));
    }
    Ok(states)
}

/// Inserts the events in the order given, so their ids (the history's order) follow it.
async fn insert_events(
    conn: &mut PgConnection,
    events: &[(&Receipt, &'static str)],
) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let receipts = || events.iter().map(|(r, _)| *r);
    sqlx::query(
        "INSERT INTO status_events (message_id, part, kind, state, effect, at, source, error_code, raw)
         SELECT message_id, part, 'report', state, effect, at, source, error_code, raw
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                     $7::text[], $8::text[])
              WITH ORDINALITY AS v(message_id, part, state, effect, at, source, error_code, raw, n)
         ORDER BY n",
    )
    .bind(receipts().map(|r| r.message_id).collect::<Vec<_>>())
    .bind(receipts().map(|r| part_column(r.part)).collect::<Vec<_>>())
    .bind(receipts().map(|r| r.status.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|(_, effect)| *effect).collect::<Vec<_>>())
    .bind(receipts().map(|r| r.at).collect::<Vec<_>>())
    .bind(receipts().map(|r| r.source.clone()).collect::<Vec<_>>())
    .bind(receipts().map(|r| r.error_code.clone()).collect::<Vec<_>>())
    .bind(receipts().map(|r| r.raw.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn write_parts(
    conn: &mut PgConnection,
    parts: &HashMap<(MessageId, u32), (PartState, i64)>,
) -> StoreResult<()> {
    if parts.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = parts.iter().collect();
    sqlx::query(
        "UPDATE message_parts p SET status = v.status, status_at = v.at, provisional = v.provisional
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::boolean[])
              AS v(message_id, part, status, at, provisional)
         WHERE p.message_id = v.message_id AND p.part = v.part",
    )
    .bind(rows.iter().map(|((id, _), _)| *id).collect::<Vec<_>>())
    .bind(rows.iter().map(|((_, part), _)| part_column(*part)).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|(_, (state, _))| state.status.map(|s| s.as_str()))
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|(_, (_, at))| *at).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, (state, _))| state.provisional).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn write_messages(
    conn: &mut PgConnection,
    messages: &HashMap<MessageId, MessageRow>,
) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = messages.iter().collect();
    sqlx::query(
        "UPDATE messages m SET status = v.status, status_at = v.at, provisional = v.provisional,
             error_code = v.error_code
         FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::boolean[], $5::text[])
              AS v(id, status, at, provisional, error_code)
         WHERE m.id = v.id",
    )
    .bind(rows.iter().map(|(id, _)| **id).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|(_, row)| row.shown.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(rows.iter().map(|(_, row)| row.at).collect::<Vec<_>>())
    .bind(
        rows.iter()
            .map(|(_, row)| row.provisional)
            .collect::<Vec<_>>(),
    )
    .bind(
        rows.iter()
            .map(|(_, row)| row.error_code.clone())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Writes the webhook deliveries of `changes` (the outbox, in the caller's transaction): one
/// pending delivery per change and matching hook, in the order of the changes, so a message's
/// statuses go out in order. A delivery to an enabled hook with nothing of its message pending
/// before it, other than what this node holds, is created leased to this node (`dlrgate.node`,
/// for `dlrgate.lease_ms`) and marked `pushed`, for its dispatcher to read once the transaction
/// commits ([`super::outbox::pushed`]). One behind a delivery that is unleased, or leased to
/// another node, is created unleased: a claim takes it once those before it are done.
async fn enqueue_deliveries(conn: &mut PgConnection, changes: &[StatusChange]) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let now = crate::workers::now_millis();
    sqlx::query(
        "INSERT INTO webhook_deliveries (hook_id, account_id, message_id, status, status_at,
             created_at, state, next_attempt_at, lease_until, lease_owner, pushed)
         SELECT hook_id, account_id, message_id, status, status_at, $1, 'pending', $1,
                CASE WHEN free THEN $1 + current_setting('dlrgate.lease_ms')::bigint END,
                CASE WHEN free THEN current_setting('dlrgate.node') END, free
         FROM (SELECT h.id AS hook_id, h.account_id, m.id AS message_id, v.status,
                      v.at AS status_at, v.n,
                      h.enabled AND NOT EXISTS (
                          SELECT 1 FROM webhook_deliveries e
                          WHERE e.hook_id = h.id AND e.message_id = m.id AND e.state = 'pending'
                            AND (e.lease_until IS NULL OR e.lease_until <= $1
                                 OR e.lease_owner IS DISTINCT FROM current_setting('dlrgate.node'))) AS free
               FROM UNNEST($2::bigint[], $3::text[], $4::bigint[]) WITH ORDINALITY
                    AS v(message_id, status, at, n)
               JOIN messages m ON m.id = v.message_id
               JOIN hooks h ON h.account_id = m.account_id
               WHERE NOT h.deleted AND NOT h.backlog_full AND h.event_type IN ('dlr', 'all')
                 AND (h.event_filter IS NULL OR h.event_filter = m.recipient
                      OR h.event_filter = m.sender)) AS s
         ORDER BY n, hook_id",
    )
    .bind(now)
    .bind(changes.iter().map(|c| c.message_id).collect::<Vec<_>>())
    .bind(
        changes
            .iter()
            .map(|c| c.status.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(changes.iter().map(|c| c.at).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}
