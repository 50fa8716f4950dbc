//! The operator's summary (`Store::overview`): counts over every account, read in one snapshot
//! from the reader pool.

use sqlx::{Row, SqlitePool};

use super::map_err;
use crate::store::*;

pub async fn overview(reader: &SqlitePool, since: i64) -> StoreResult<Overview> {
    // One read transaction: the counts are of one moment.
    let mut tx = reader.begin().await.map_err(map_err)?;
    let messages = sqlx::query(
        "SELECT COALESCE(status, state) AS status, COUNT(*) AS n FROM messages
         WHERE send_at >= ? GROUP BY 1 ORDER BY 1",
    )
    .bind(since)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?
    .iter()
    .map(|row| -> StoreResult<(String, i64)> {
        Ok((
            row.try_get(0).map_err(map_err)?,
            row.try_get(1).map_err(map_err)?,
        ))
    })
    .collect::<StoreResult<Vec<_>>>()?;
    let hooks = sqlx::query(
        "SELECT h.id, h.account_id,
                COALESCE(SUM(d.state = 'pending'), 0),
                COALESCE(SUM(d.state IN ('failed', 'abandoned')), 0)
         FROM hooks h LEFT JOIN webhook_deliveries d ON d.hook_id = h.id
         WHERE h.deleted = 0 GROUP BY h.id, h.account_id ORDER BY h.id",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?
    .iter()
    .map(|row| -> StoreResult<HookCounts> {
        Ok(HookCounts {
            hook_id: row.try_get(0).map_err(map_err)?,
            account_id: row.try_get(1).map_err(map_err)?,
            pending: row.try_get(2).map_err(map_err)?,
            failed: row.try_get(3).map_err(map_err)?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    tx.commit().await.map_err(map_err)?;
    Ok(Overview {
        messages,
        hooks,
        nodes: 1,
    })
}
