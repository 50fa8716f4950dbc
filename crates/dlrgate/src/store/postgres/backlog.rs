//! The per-hook backlog limit in PostgreSQL: marks hooks whose pending deliveries reached the
//! limit, so status changes create no new deliveries for them, and clears the mark once they
//! drained.

use sqlx::PgPool;

use super::map_err;
use super::rows::audited;
use crate::store::*;

const PENDING_AT_LEAST: &str = "SELECT hook_id FROM webhook_deliveries WHERE state = 'pending'
     GROUP BY hook_id HAVING COUNT(*) >= $1";

pub async fn check(pool: &PgPool, full_at: u32, resume_below: u32) -> StoreResult<Backlogs> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let filled = sqlx::query_scalar(audited(format!(
        "UPDATE hooks SET backlog_full = true
         WHERE NOT backlog_full AND NOT deleted AND id IN ({PENDING_AT_LEAST}) RETURNING id"
    )))
    .bind(i64::from(full_at))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let resumed = sqlx::query_scalar(audited(format!(
        "UPDATE hooks SET backlog_full = false
         WHERE backlog_full AND id NOT IN ({PENDING_AT_LEAST}) RETURNING id"
    )))
    .bind(i64::from(resume_below))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Backlogs { filled, resumed })
}
