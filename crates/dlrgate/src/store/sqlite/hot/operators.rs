//! Operators on the write thread: claiming due messages, settling claims, matching receipts
//! by operator id and parking those that come before their submission (docs/adr/0005).

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::engine::apply_many;
use super::map_err;
use crate::domain::status::DeliveryStatus;
use crate::store::rules::to_receipt;
use crate::store::sqlite::messages::DUE_COLUMNS;
use crate::store::*;

/// How long before a submission began a parked receipt may have arrived and still be its own
/// (a margin for clock adjustments; receipts come after their submit).
const PARK_MARGIN_MS: i64 = 60_000;

/// `Store::claim_due`: up to `limit` due messages of `connector` move from queued to sending.
pub fn claim_due(
    conn: &Connection,
    connector: &str,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<DueMessage>> {
    let mut claim = conn
        .prepare_cached(&format!(
            "UPDATE messages SET state = 'sending' WHERE id IN (
                 SELECT id FROM messages WHERE state = 'queued' AND connector = ?1 AND send_at <= ?2
                 ORDER BY send_at, id LIMIT ?3)
             RETURNING {DUE_COLUMNS}"
        ))
        .map_err(map_err)?;
    let mut due = Vec::new();
    let mut rows = claim
        .query(params![connector, now, i64::from(limit)])
        .map_err(map_err)?;
    while let Some(row) = rows.next().map_err(map_err)? {
        due.push(due_message(row)?);
    }
    due.sort_by_key(|m: &DueMessage| (m.send_at, m.id));
    Ok(due)
}

fn due_message(row: &rusqlite::Row) -> StoreResult<DueMessage> {
    let parts: i64 = row.get("parts").map_err(map_err)?;
    let ttl: Option<i64> = row.get("ttl_minutes").map_err(map_err)?;
    Ok(DueMessage {
        id: row.get("id").map_err(map_err)?,
        account_id: row.get("account_id").map_err(map_err)?,
        recipient: row.get("recipient").map_err(map_err)?,
        sender: row.get("sender").map_err(map_err)?,
        text: row.get("text").map_err(map_err)?,
        parts: u32::try_from(parts).unwrap_or(1),
        flash: row.get("flash").map_err(map_err)?,
        ttl_minutes: ttl.and_then(|t| u32::try_from(t).ok()),
        send_at: row.get("send_at").map_err(map_err)?,
    })
}

/// `Store::settle_claims`: submissions recorded, the ones not sent back in the queue, the ones
/// given up moved to the fallback connector.
pub fn settle_claims(conn: &Connection, settled: &SettledClaims) -> StoreResult<Vec<StatusChange>> {
    let changes = super::reports::record_submissions(conn, &settled.submissions)?;
    requeue(conn, &settled.release, None)?;
    if let Some(fallback) = &settled.fallback {
        requeue(conn, &settled.reroute, Some(fallback))?;
    }
    Ok(changes)
}

/// Claimed messages back to the queue, on `connector` when given.
fn requeue(conn: &Connection, ids: &[MessageId], connector: Option<&str>) -> StoreResult<()> {
    let mut update = conn
        .prepare_cached(
            "UPDATE messages SET state = 'queued', connector = COALESCE(?2, connector)
             WHERE id = ?1 AND state = 'sending'",
        )
        .map_err(map_err)?;
    for id in ids {
        update.execute(params![id, connector]).map_err(map_err)?;
    }
    Ok(())
}

/// `Store::apply_operator_receipts`: receipts matched to their part by operator id are applied;
/// the others are parked until their submission is stored.
pub fn apply_operator_receipts(
    conn: &Connection,
    connector: &str,
    receipts: Vec<OperatorReceipt>,
    now: i64,
) -> StoreResult<OperatorReceiptsOutcome> {
    let mut find = conn
        .prepare_cached(
            "SELECT p.message_id, p.part FROM message_parts p
             JOIN messages m ON m.id = p.message_id
             WHERE p.operator_message_id = ?1 AND m.connector = ?2
             ORDER BY p.message_id DESC LIMIT 1",
        )
        .map_err(map_err)?;
    let mut matched = Vec::new();
    let mut unmatched = Vec::new();
    for receipt in receipts {
        // An id given to several parts names the newest (SMSC counters wrap and reuse ids).
        let mut rows = find
            .query(params![receipt.operator_id, connector])
            .map_err(map_err)?;
        match rows.next().map_err(map_err)? {
            Some(row) => {
                let message_id: MessageId = row.get(0).map_err(map_err)?;
                let part: i64 = row.get(1).map_err(map_err)?;
                let part = u32::try_from(part).unwrap_or(1);
                drop(rows);
                matched.push(to_receipt(connector, message_id, part, receipt));
            }
            None => {
                drop(rows);
                unmatched.push(receipt);
            }
        }
    }
    let mut outcome = OperatorReceiptsOutcome {
        matched: matched.len(),
        parked: unmatched.len(),
        ..OperatorReceiptsOutcome::default()
    };
    outcome.changes = apply_many(conn, &matched.iter().collect::<Vec<_>>())?;
    let mut park = conn
        .prepare_cached(
            "INSERT INTO parked_receipts
                 (connector, operator_message_id, status, at, received_at, error_code, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(map_err)?;
    for r in &unmatched {
        park.execute(params![
            connector,
            r.operator_id,
            r.status.as_str(),
            r.at,
            now,
            r.error_code,
            r.raw
        ])
        .map_err(map_err)?;
    }
    Ok(outcome)
}

/// Stores the operator id of each submitted part, then applies (and deletes) the receipts parked
/// for those ids, oldest first.
pub fn store_ids_and_unpark(
    conn: &Connection,
    submissions: &[&Submission],
) -> StoreResult<Vec<StatusChange>> {
    let ids: Vec<(&Submission, u32, &str)> = submissions
        .iter()
        .flat_map(|s| {
            s.operator_ids
                .iter()
                .map(move |(part, id)| (*s, *part, id.as_str()))
        })
        .collect();
    let mut store = conn
        .prepare_cached(
            "UPDATE message_parts SET operator_message_id = ?3 WHERE message_id = ?1 AND part = ?2",
        )
        .map_err(map_err)?;
    for (submission, part, id) in &ids {
        store
            .execute(params![submission.message_id, i64::from(*part), id])
            .map_err(map_err)?;
    }
    let unparked: Vec<Receipt> = unpark(conn, &ids)?
        .into_iter()
        .map(|(s, part, receipt)| to_receipt(&s.connector, s.message_id, part, receipt))
        .collect();
    apply_many(conn, &unparked.iter().collect::<Vec<_>>())
}

/// Deletes the receipts parked for `ids` and returns them with their part, oldest first.
fn unpark<'s>(
    conn: &Connection,
    ids: &[(&'s Submission, u32, &str)],
) -> StoreResult<Vec<(&'s Submission, u32, OperatorReceipt)>> {
    let mut connectors: Vec<&str> = ids.iter().map(|(s, _, _)| s.connector.as_str()).collect();
    connectors.sort_unstable();
    connectors.dedup();
    let mut any = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM parked_receipts WHERE connector = ?1 AND received_at >= ?2)",
        )
        .map_err(map_err)?;
    let mut take = conn
        .prepare_cached(
            "DELETE FROM parked_receipts
             WHERE connector = ?1 AND received_at >= ?2 AND operator_message_id = ?3
             RETURNING id, operator_message_id, status, at, error_code, raw",
        )
        .map_err(map_err)?;
    let mut parked = Vec::new();
    for connector in connectors {
        let own: Vec<&(&Submission, u32, &str)> = ids
            .iter()
            .filter(|(s, _, _)| s.connector == connector)
            .collect();
        // Receipts parked before these submissions began belong to an earlier use of the id.
        let since = own
            .iter()
            .map(|(s, _, _)| s.at)
            .min()
            .unwrap_or(i64::MIN)
            .saturating_sub(PARK_MARGIN_MS);
        let exists: bool = any
            .query_row(params![connector, since], |row| row.get(0))
            .map_err(map_err)?;
        if !exists {
            continue;
        }
        let owners: HashMap<&str, (&Submission, u32)> =
            own.iter().map(|(s, part, id)| (*id, (*s, *part))).collect();
        for (id, &(submission, part)) in &owners {
            let mut rows = take.query(params![connector, since, id]).map_err(map_err)?;
            while let Some(row) = rows.next().map_err(map_err)? {
                parked.push((
                    row.get::<_, i64>(0).map_err(map_err)?,
                    submission,
                    part,
                    parked_receipt(row)?,
                ));
            }
        }
    }
    parked.sort_by_key(|(seq, _, _, _)| *seq);
    Ok(parked
        .into_iter()
        .map(|(_, s, part, r)| (s, part, r))
        .collect())
}

fn parked_receipt(row: &rusqlite::Row) -> StoreResult<OperatorReceipt> {
    let status: String = row.get(2).map_err(map_err)?;
    let status: DeliveryStatus = status
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("parked status {status:?}")))?;
    Ok(OperatorReceipt {
        operator_id: row.get(1).map_err(map_err)?,
        status,
        at: row.get(3).map_err(map_err)?,
        error_code: row.get(4).map_err(map_err)?,
        raw: row.get(5).map_err(map_err)?,
    })
}
