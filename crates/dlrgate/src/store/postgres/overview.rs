//! The operator's summary (`Store::overview`): counts over every account and the live nodes,
//! read in one snapshot (a repeatable-read, read-only transaction).

use sqlx::{PgPool, Row};

use super::map_err;
use crate::store::*;

pub async fn overview(pool: &PgPool, since: i64) -> StoreResult<Overview> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let messages = sqlx::query(
        "SELECT COALESCE(status, state) AS status, COUNT(*) AS n FROM messages
         WHERE send_at >= $1 GROUP BY 1 ORDER BY 1",
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
                COUNT(*) FILTER (WHERE d.state = 'pending'),
                COUNT(*) FILTER (WHERE d.state IN ('failed', 'abandoned'))
         FROM hooks h LEFT JOIN webhook_deliveries d ON d.hook_id = h.id
         WHERE NOT h.deleted GROUP BY h.id, h.account_id ORDER BY h.id",
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
    // Nodes seen within one lease, as `heartbeat` counts them; this connection is no node.
    let nodes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM nodes
         WHERE seen_at > $1 - current_setting('dlrgate.lease_ms')::bigint",
    )
    .bind(crate::workers::now_millis())
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Overview {
        messages,
        hooks,
        nodes: u32::try_from(nodes).unwrap_or(u32::MAX),
    })
}
