//! Operator message ids in SQLite: storing each part's SMSC id, matching receipts that name those
//! ids, parking the ones that arrive before their submit response, and re-routing queued messages.

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::map_err;
use super::reports::apply_one;
use super::rows::{audited, insert_many, placeholders};
use crate::domain::status::DeliveryStatus;
use crate::store::*;

pub async fn apply_operator_receipts(
    writer: &SqlitePool,
    connector: &str,
    receipts: Vec<OperatorReceipt>,
    now: i64,
) -> StoreResult<OperatorReceiptsOutcome> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let mut outcome = OperatorReceiptsOutcome::default();
    let mut unmatched = Vec::new();
    for receipt in receipts {
        match find_part(&mut tx, connector, &receipt.operator_id).await? {
            Some((message_id, part)) => {
                outcome.matched += 1;
                let receipt = to_receipt(connector, message_id, part, receipt);
                outcome.changes.extend(apply_one(&mut tx, &receipt).await?);
            }
            None => unmatched.push(receipt),
        }
    }
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

/// The newest part `connector` gave this id (SMSC counters can wrap and reuse ids).
async fn find_part(
    conn: &mut SqliteConnection,
    connector: &str,
    operator_id: &str,
) -> StoreResult<Option<(MessageId, u32)>> {
    let row = sqlx::query(
        "SELECT p.message_id, p.part FROM message_parts p JOIN messages m ON m.id = p.message_id
         WHERE p.operator_message_id = ? AND m.connector = ? ORDER BY p.message_id DESC LIMIT 1",
    )
    .bind(operator_id)
    .bind(connector)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    row.map(|row| {
        let part: i64 = row.try_get(1).map_err(map_err)?;
        Ok((
            row.try_get(0).map_err(map_err)?,
            u32::try_from(part).unwrap_or(1),
        ))
    })
    .transpose()
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
/// for those ids, oldest first.
pub(super) async fn store_ids_and_unpark(
    conn: &mut SqliteConnection,
    submissions: &[&Submission],
) -> StoreResult<Vec<StatusChange>> {
    let mut changes = Vec::new();
    for submission in submissions {
        for (part, operator_id) in &submission.operator_ids {
            sqlx::query(
                "UPDATE message_parts SET operator_message_id = ? WHERE message_id = ? AND part = ?",
            )
            .bind(operator_id)
            .bind(submission.message_id)
            .bind(i64::from(*part))
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        }
        if submission.operator_ids.is_empty() {
            continue;
        }
        for (part, receipt) in unpark(conn, submission).await? {
            let receipt = to_receipt(&submission.connector, submission.message_id, part, receipt);
            changes.extend(apply_one(conn, &receipt).await?);
        }
    }
    Ok(changes)
}

async fn unpark(
    conn: &mut SqliteConnection,
    submission: &Submission,
) -> StoreResult<Vec<(u32, OperatorReceipt)>> {
    let ids = &submission.operator_ids;
    let sql = format!(
        "DELETE FROM parked_receipts WHERE connector = ? AND operator_message_id IN ({})
         RETURNING id, operator_message_id, status, at, error_code, raw",
        placeholders(ids.len())
    );
    let mut query = sqlx::query(audited(sql)).bind(submission.connector.clone());
    for (_, id) in ids {
        query = query.bind(id.clone());
    }
    let rows = query.fetch_all(&mut *conn).await.map_err(map_err)?;
    let mut parked = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.try_get("id").map_err(map_err)?;
        let operator_id: String = row.try_get("operator_message_id").map_err(map_err)?;
        let status: String = row.try_get("status").map_err(map_err)?;
        let status: DeliveryStatus = status
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("parked status {status:?}")))?;
        let part = ids
            .iter()
            .find(|(_, id)| *id == operator_id)
            .map_or(1, |(part, _)| *part);
        let receipt = OperatorReceipt {
            operator_id,
            status,
            at: row.try_get("at").map_err(map_err)?,
            error_code: row.try_get("error_code").map_err(map_err)?,
            raw: row.try_get("raw").map_err(map_err)?,
        };
        parked.push((seq, part, receipt));
    }
    parked.sort_by_key(|(seq, _, _)| *seq);
    Ok(parked.into_iter().map(|(_, part, r)| (part, r)).collect())
}

pub async fn reroute(writer: &SqlitePool, ids: &[MessageId], connector: &str) -> StoreResult<u64> {
    let mut moved = 0;
    let mut tx = writer.begin().await.map_err(map_err)?;
    for chunk in ids.chunks(500) {
        let sql = format!(
            "UPDATE messages SET connector = ? WHERE state = 'queued' AND id IN ({})",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(audited(sql)).bind(connector.to_owned());
        for id in chunk {
            query = query.bind(id);
        }
        moved += query
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
    }
    tx.commit().await.map_err(map_err)?;
    Ok(moved)
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
