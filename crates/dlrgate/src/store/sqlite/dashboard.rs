//! The dashboard's summaries in SQLite: status counts and activity per time bucket, read from
//! the reader pool.

use sqlx::{Row, SqlitePool};

use super::map_err;
use super::rows::audited;
use crate::store::dashboard_types::{final_statuses_sql, fold_buckets, parse_status};
use crate::store::*;

pub async fn status_counts(
    reader: &SqlitePool,
    account: AccountId,
    since: i64,
) -> StoreResult<Vec<StatusCount>> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS messages FROM messages
         WHERE account_id = ? AND send_at >= ? AND state != 'cancelled'
         GROUP BY status ORDER BY status",
    )
    .bind(account)
    .bind(since)
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            let status = parse_status(row.try_get("status").map_err(map_err)?)
                .map_err(|raw| StoreError::Corrupt(format!("message status {raw:?}")))?;
            let messages: i64 = row.try_get("messages").map_err(map_err)?;
            Ok(StatusCount {
                status,
                messages: messages.unsigned_abs(),
            })
        })
        .collect()
}

pub async fn activity(
    reader: &SqlitePool,
    account: AccountId,
    window: ActivityWindow,
) -> StoreResult<Vec<ActivityBucket>> {
    let sent = "SELECT (send_at - ?1) / ?2 AS slot, COUNT(*) AS sent, 0 AS delivered, 0 AS failed
         FROM messages
         WHERE account_id = ?3 AND send_at >= ?1 AND send_at < ?4 AND state != 'cancelled'
         GROUP BY slot"
        .to_owned();
    let finals = format!(
        "SELECT (status_at - ?1) / ?2 AS slot, 0 AS sent,
                SUM(CASE WHEN status = 'DELIVERED' THEN 1 ELSE 0 END) AS delivered,
                SUM(CASE WHEN status = 'DELIVERED' THEN 0 ELSE 1 END) AS failed
         FROM messages
         WHERE account_id = ?3 AND status_at >= ?1 AND status_at < ?4
           AND status IN ({})
         GROUP BY slot",
        final_statuses_sql()
    );
    let mut rows = Vec::new();
    for sql in [sent, finals] {
        let found = sqlx::query(audited(sql))
            .bind(window.from)
            .bind(window.bucket_ms.max(1))
            .bind(account)
            .bind(window.until)
            .fetch_all(reader)
            .await
            .map_err(map_err)?;
        for row in &found {
            rows.push(slot_row(row)?);
        }
    }
    Ok(fold_buckets(window, rows))
}

/// `(slot, sent, delivered, failed)` of one row.
fn slot_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<(i64, u64, u64, u64)> {
    let count = |column: &str| -> StoreResult<u64> {
        let value: i64 = row.try_get(column).map_err(map_err)?;
        Ok(value.unsigned_abs())
    };
    let slot: i64 = row.try_get("slot").map_err(map_err)?;
    Ok((slot, count("sent")?, count("delivered")?, count("failed")?))
}
