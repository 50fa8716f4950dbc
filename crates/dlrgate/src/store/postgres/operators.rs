//! Operator message ids in PostgreSQL: storing each part's SMSC id, matching receipts that name
//! those ids, parking the ones that arrive before their submit response, and re-routing queued
//! messages.
//!
//! Parking needs one more lock than in SQLite. A receipt's transaction and the transaction that
//! stores its id can run at the same time, and neither sees what the other has not committed: the
//! receipt would be parked after the submission looked for parked receipts, and wait forever.
//! Both therefore take a transaction-scoped advisory lock per (connector, operator id) first
//! ([`lock_operator_ids`]), so one of them always runs after the other has committed.

use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::engine::apply_many;
use super::map_err;
use super::rows::part_column;
use crate::domain::status::DeliveryStatus;
use crate::store::rules::to_receipt;
use crate::store::*;

/// How long before a submission began a parked receipt may have arrived and still be its own
/// (a margin for clock adjustments; receipts come after their submit).
const PARK_MARGIN_MS: i64 = 60_000;

/// Locks the (connector, operator id) pairs until the transaction ends, in a fixed order so two
/// transactions cannot deadlock on them. Hash collisions only serialise a little more.
pub(super) async fn lock_operator_ids(
    conn: &mut PgConnection,
    pairs: &[(&str, &str)],
) -> StoreResult<()> {
    if pairs.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "SELECT pg_advisory_xact_lock(k) FROM (
             SELECT DISTINCT hashtextextended(c || chr(31) || i, 9) AS k
             FROM UNNEST($1::text[], $2::text[]) AS v(c, i) ORDER BY k) AS keys",
    )
    .bind(pairs.iter().map(|(c, _)| *c).collect::<Vec<_>>())
    .bind(pairs.iter().map(|(_, i)| *i).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub async fn apply_operator_receipts(
    pool: &PgPool,
    connector: &str,
    receipts: &[OperatorReceipt],
    now: i64,
) -> StoreResult<OperatorReceiptsOutcome> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let pairs: Vec<(&str, &str)> = receipts
        .iter()
        .map(|r| (connector, r.operator_id.as_str()))
        .collect();
    lock_operator_ids(&mut tx, &pairs).await?;
    let ids: Vec<&str> = receipts.iter().map(|r| r.operator_id.as_str()).collect();
    let parts = find_parts(&mut tx, connector, &ids).await?;
    let mut outcome = OperatorReceiptsOutcome::default();
    let mut matched = Vec::new();
    let mut unmatched = Vec::new();
    for receipt in receipts {
        match parts.get(&receipt.operator_id) {
            Some(&(message_id, part)) => {
                matched.push(to_receipt(connector, message_id, part, receipt.clone()))
            }
            None => unmatched.push(receipt),
        }
    }
    outcome.matched = matched.len();
    outcome.changes = apply_many(&mut tx, &matched.iter().collect::<Vec<_>>()).await?;
    outcome.parked = unmatched.len();
    park(&mut tx, connector, &unmatched, now).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(outcome)
}

async fn park(
    conn: &mut PgConnection,
    connector: &str,
    receipts: &[&OperatorReceipt],
    now: i64,
) -> StoreResult<()> {
    if receipts.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO parked_receipts (connector, operator_message_id, status, at, received_at, error_code, raw)
         SELECT $1, operator_message_id, status, at, $2, error_code, raw
         FROM UNNEST($3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) WITH ORDINALITY
              AS v(operator_message_id, status, at, error_code, raw, n)
         ORDER BY n",
    )
    .bind(connector)
    .bind(now)
    .bind(receipts.iter().map(|r| r.operator_id.clone()).collect::<Vec<_>>())
    .bind(receipts.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
    .bind(receipts.iter().map(|r| r.at).collect::<Vec<_>>())
    .bind(receipts.iter().map(|r| r.error_code.clone()).collect::<Vec<_>>())
    .bind(receipts.iter().map(|r| r.raw.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// The part each of `ids` names on `connector`, in one statement. An id given to several parts
/// names the newest (SMSC counters wrap and reuse ids).
async fn find_parts(
    conn: &mut PgConnection,
    connector: &str,
    ids: &[&str],
) -> StoreResult<HashMap<String, (MessageId, u32)>> {
    let rows = sqlx::query(
        "SELECT p.operator_message_id, p.message_id, p.part FROM message_parts p
         JOIN messages m ON m.id = p.message_id
         WHERE m.connector = $1 AND p.operator_message_id = ANY($2)
         ORDER BY p.message_id",
    )
    .bind(connector)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    let mut parts = HashMap::with_capacity(ids.len());
    for row in rows {
        let part: i64 = row.try_get(2).map_err(map_err)?;
        let found = (
            row.try_get(1).map_err(map_err)?,
            u32::try_from(part).unwrap_or(1),
        );
        // Ascending message ids: the newest part wins.
        parts.insert(row.try_get(0).map_err(map_err)?, found);
    }
    Ok(parts)
}

/// The (connector, operator id) pairs of `submissions`, for [`lock_operator_ids`].
pub(super) fn operator_pairs(submissions: &[Submission]) -> Vec<(&str, &str)> {
    submissions
        .iter()
        .flat_map(|s| {
            s.operator_ids
                .iter()
                .map(move |(_, id)| (s.connector.as_str(), id.as_str()))
        })
        .collect()
}

/// Stores the operator id of each submitted part, then applies (and deletes) the receipts parked
/// for those ids, oldest first. The caller (`reports::record_in`) holds the ids' advisory locks.
pub(super) async fn store_ids_and_unpark(
    conn: &mut PgConnection,
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
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query(
        "UPDATE message_parts p SET operator_message_id = v.id
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) AS v(message_id, part, id)
         WHERE p.message_id = v.message_id AND p.part = v.part",
    )
    .bind(ids.iter().map(|(s, _, _)| s.message_id).collect::<Vec<_>>())
    .bind(
        ids.iter()
            .map(|(_, part, _)| part_column(*part))
            .collect::<Vec<_>>(),
    )
    .bind(ids.iter().map(|(_, _, id)| *id).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    let unparked: Vec<Receipt> = unpark(conn, &ids)
        .await?
        .into_iter()
        .map(|(s, part, receipt)| to_receipt(&s.connector, s.message_id, part, receipt))
        .collect();
    apply_many(conn, &unparked.iter().collect::<Vec<_>>()).await
}

/// Deletes the receipts parked for `ids` and returns them with their part, oldest first.
async fn unpark<'s>(
    conn: &mut PgConnection,
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
        let owners: HashMap<&str, (&Submission, u32)> = ids
            .iter()
            .filter(|(s, _, _)| s.connector == connector)
            .map(|(s, part, id)| (*id, (*s, *part)))
            .collect();
        let keys: Vec<&str> = owners.keys().copied().collect();
        let rows = sqlx::query(
            "DELETE FROM parked_receipts WHERE connector = $1 AND received_at >= $2
             AND operator_message_id = ANY($3)
             RETURNING id, operator_message_id, status, at, error_code, raw",
        )
        .bind(connector)
        .bind(since)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        for row in rows {
            let (seq, receipt) = parked_from_row(&row)?;
            if let Some(&(submission, part)) = owners.get(receipt.operator_id.as_str()) {
                parked.push((seq, submission, part, receipt));
            }
        }
    }
    parked.sort_by_key(|(seq, _, _, _)| *seq);
    Ok(parked
        .into_iter()
        .map(|(_, s, part, r)| (s, part, r))
        .collect())
}

fn parked_from_row(row: &PgRow) -> StoreResult<(i64, OperatorReceipt)> {
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

pub async fn reroute_orphans(pool: &PgPool, known: &[String], to: &str) -> StoreResult<u64> {
    // No known connector at all: only what is not on `to` already moves (as in SQLite).
    let known: Vec<String> = if known.is_empty() {
        vec![to.to_owned()]
    } else {
        known.to_vec()
    };
    let done = sqlx::query(
        "UPDATE messages SET connector = $1 WHERE state = 'queued'
         AND (connector IS NULL OR NOT (connector = ANY($2)))",
    )
    .bind(to)
    .bind(&known)
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

/// Stores what became of claimed messages in one transaction: submissions recorded, the ones
/// not sent back in the queue, the ones given up moved to the fallback connector.
pub async fn settle_claims(
    pool: &PgPool,
    settled: &SettledClaims,
) -> StoreResult<Vec<StatusChange>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
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
    conn: &mut PgConnection,
    ids: &[MessageId],
    connector: Option<&str>,
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE messages SET state = 'queued', connector = COALESCE($1, connector)
         WHERE state = 'sending' AND id IN (
             SELECT id FROM messages WHERE id = ANY($2) AND state = 'sending' ORDER BY id
             FOR UPDATE)",
    )
    .bind(connector)
    .bind(ids)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}
