//! Operator message ids in SQLite: storing each part's SMSC id, matching receipts that name those
//! ids, parking the ones that arrive before their submit response, and re-routing queued messages.

use std::collections::HashMap;

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::engine::apply_many;
use super::map_err;
use super::rows::{audited, insert_many, placeholders};
use crate::domain::status::DeliveryStatus;
use crate::store::*;

/// How long before a submission began a parked receipt may have arrived and still be its own
/// (a margin for clock adjustments; receipts come after their submit).
const PARK_MARGIN_MS: i64 = 60_000;

pub async fn apply_operator_receipts(
    writer: &SqlitePool,
    connector: &str,
    receipts: Vec<OperatorReceipt>,
    now: i64,
) -> StoreResult<OperatorReceiptsOutcome> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let ids: Vec<&str> = receipts.iter().map(|r| r.operator_id.as_str()).collect();
    let parts = find_parts(&mut tx, connector, &ids).await?;
    let mut outcome = OperatorReceiptsOutcome::default();
    let mut matched = Vec::new();
    let mut unmatched = Vec::new();
    for receipt in receipts {
        match parts.get(&receipt.operator_id) {
            Some(&(message_id, part)) => {
                matched.push(to_receipt(connector, message_id, part, receipt))
            }
            None => unmatched.push(receipt),
        }
    }
    outcome.matched = matched.len();
    outcome.changes = apply_many(&mut tx, &matched.iter().collect::<Vec<_>>()).await?;
    outcome.parked = unmatched.len();
    insert_many(
        &mut tx,
        "INSERT INTO parked_receipts (connector, operator_message_id, status, at, received_at, error_code, raw)",
        "(?, ?, ?, ?, ?, ?, ?)",
        &unmatched,
        |query, r| {
            query
                .bind(connector.to_owned())
                .bind(r.operator_id.clone())
                .bind(r.status.as_str())
                .bind(r.at)
                .bind(now)
                .bind(r.error_code.clone())
                .bind(r.raw.clone())
        },
    )
    .await?;
    tx.commit().await.map_err(map_err)?;
    Ok(outcome)
}

/// The part each of `ids` names on `connector`, looked up in one statement per chunk. An id
/// given to several parts names the newest (SMSC counters wrap and reuse ids).
async fn find_parts(
    conn: &mut SqliteConnection,
    connector: &str,
    ids: &[&str],
) -> StoreResult<HashMap<String, (MessageId, u32)>> {
    let mut parts = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT p.operator_message_id, p.message_id, p.part FROM message_parts p
             JOIN messages m ON m.id = p.message_id
             WHERE m.connector = ? AND p.operator_message_id IN ({})
             ORDER BY p.message_id",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(audited(sql)).bind(connector.to_owned());
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_err)? {
            let part: i64 = row.try_get(2).map_err(map_err)?;
            let found = (
                row.try_get(1).map_err(map_err)?,
                u32::try_from(part).unwrap_or(1),
            );
            // Ascending message ids: the newest part wins.
            parts.insert(row.try_get(0).map_err(map_err)?, found);
        }
    }
    Ok(parts)
}

fn to_receipt(connector: &str, message_id: MessageId, part: u32, r: OperatorReceipt) -> Receipt {
    Receipt {
        message_id,
        part,
        status: r.status,
        at: r.at,
        source: connector.to_owned(),
        error_code: r.error_code,
        raw: r.raw,
    }
}

/// Stores the operator id of each submitted part, then applies (and deletes) the receipts parked
/// for those ids, oldest first. A few statements per batch, not per part.
pub(super) async fn store_ids_and_unpark(
    conn: &mut SqliteConnection,
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
    for chunk in ids.chunks(300) {
        let sql = format!(
            "UPDATE message_parts SET operator_message_id = v.column3
             FROM (VALUES {}) AS v WHERE message_id = v.column1 AND part = v.column2",
            vec!["(?, ?, ?)"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query(audited(sql));
        for (submission, part, id) in chunk {
            query = query
                .bind(submission.message_id)
                .bind(i64::from(*part))
                .bind(*id);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
    }
    let unparked: Vec<Receipt> = unpark(conn, &ids)
        .await?
        .into_iter()
        .map(|(s, part, receipt)| to_receipt(&s.connector, s.message_id, part, receipt))
        .collect();
    apply_many(conn, &unparked.iter().collect::<Vec<_>>()).await
}

/// Deletes the receipts parked for `ids` and returns them with their part, oldest first.
async fn unpark<'s>(
    conn: &mut SqliteConnection,
    ids: &[(&'s Submission, u32, &str)],
) -> StoreResult<Vec<(&'s Submission, u32, OperatorReceipt)>> {
    let mut connectors: Vec<&str> = ids.iter().map(|(s, _, _)| s.connector.as_str()).collect();
    connectors.sort_unstable();
    connectors.dedup();
    let mut parked = Vec::new();
    for connector in connectors {
        // Receipts parked before these submissions began belong to an earlier use of the id.
        let since = ids
            .iter()
            .filter(|(s, _, _)| s.connector == connector)
            .map(|(s, _, _)| s.at)
            .min()
            .unwrap_or(i64::MIN)
            .saturating_sub(PARK_MARGIN_MS);
        let any: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM parked_receipts WHERE connector = ? AND received_at >= ?)",
        )
        .bind(connector)
        .bind(since)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
        if !any {
            continue;
        }
        let owners: HashMap<&str, (&Submission, u32)> = ids
            .iter()
            .filter(|(s, _, _)| s.connector == connector)
            .map(|(s, part, id)| (*id, (*s, *part)))
            .collect();
        let keys: Vec<&str> = owners.keys().copied().collect();
        for chunk in keys.chunks(500) {
            let sql = format!(
                "DELETE FROM parked_receipts WHERE connector = ? AND received_at >= ?
                 AND operator_message_id IN ({})
                 RETURNING id, operator_message_id, status, at, error_code, raw",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query(audited(sql))
                .bind(connector.to_owned())
                .bind(since);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&mut *conn).await.map_err(map_err)? {
                let (seq, receipt) = parked_from_row(&row)?;
                if let Some(&(submission, part)) = owners.get(receipt.operator_id.as_str()) {
                    parked.push((seq, submission, part, receipt));
                }
            }
        }
    }
    parked.sort_by_key(|(seq, _, _, _)| *seq);
    Ok(parked
        .into_iter()
        .map(|(_, s, part, r)| (s, part, r))
        .collect())
}

fn parked_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<(i64, OperatorReceipt)> {
    let status: String = row.try_get("status").map_err(map_err)?;
    let status: DeliveryStatus = status
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("parked status {status:?}")))?;
    let receipt = OperatorReceipt {
        operator_id: row.try_get("operator_message_id").map_err(map_err)?,
        status,
        at: row.try_get("at").map_err(map_err)?,
        error_code: row.try_get("error_code").map_err(map_err)?,
        raw: row.try_get("raw").map_err(map_err)?,
    };
    Ok((row.try_get("id").map_err(map_err)?, receipt))
}

pub async fn reroute_orphans(writer: &SqlitePool, known: &[String], to: &str) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE messages SET connector = ? WHERE state = 'queued'
         AND (connector IS NULL OR connector NOT IN ({}))",
        placeholders(known.len().max(1))
    );
    let mut query = sqlx::query(audited(sql)).bind(to.to_owned());
    for name in known {
        query = query.bind(name.clone());
    }
    if known.is_empty() {
        query = query.bind(to.to_owned());
    }
    let done = query.execute(writer).await.map_err(map_err)?;
    Ok(done.rows_affected())
}

/// Stores what became of claimed messages in one transaction: submissions recorded, the ones
/// not sent back in the queue, the ones given up moved to the fallback connector.
pub async fn settle_claims(
    writer: &SqlitePool,
    settled: &SettledClaims,
) -> StoreResult<Vec<StatusChange>> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let changes = super::reports::record_in(&mut tx, &settled.submissions).await?;
    requeue(&mut tx, &settled.release, None).await?;
    if let Some(fallback) = &settled.fallback {
        requeue(&mut tx, &settled.reroute, Some(fallback)).await?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(changes)
}

/// Claimed messages back to the queue, on `connector` when given.
async fn requeue(
    conn: &mut SqliteConnection,
    ids: &[MessageId],
    connector: Option<&str>,
) -> StoreResult<()> {
    for chunk in ids.chunks(500) {
        let sql = format!(
            "UPDATE messages SET state = 'queued', connector = COALESCE(?, connector)
             WHERE state = 'sending' AND id IN ({})",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(audited(sql)).bind(connector.map(str::to_owned));
        for id in chunk {
            query = query.bind(id);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}
