//! The per-hook backlog limit in SQLite: marks hooks whose pending deliveries reached the limit,
//! so status changes create no new deliveries for them, and clears the mark once they drained.
//! The pending deliveries are counted on a reader, so the one writer is held only when a mark
//! changes, however large the backlogs are.

use sqlx::{Row, SqlitePool};

use super::map_err;
use super::rows::{audited, placeholders};
use crate::store::*;

pub async fn check(
    writer: &SqlitePool,
    reader: &SqlitePool,
    full_at: u32,
    resume_below: u32,
) -> StoreResult<Backlogs> {
    let rows = sqlx::query(
        "SELECT h.id, h.backlog_full, COALESCE(p.pending, 0) AS pending
         FROM hooks h
         LEFT JOIN (SELECT hook_id, COUNT(*) AS pending FROM webhook_deliveries
                    WHERE state = 'pending' GROUP BY hook_id) p ON p.hook_id = h.id
         WHERE h.deleted = 0 AND (h.backlog_full = 1 OR p.pending >= ?1)",
    )
    .bind(i64::from(full_at))
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    let mut backlogs = Backlogs::default();
    for row in &rows {
        let id: HookId = row.try_get("id").map_err(map_err)?;
        let full: bool = row.try_get("backlog_full").map_err(map_err)?;
        let pending: i64 = row.try_get("pending").map_err(map_err)?;
        if !full && pending >= i64::from(full_at) {
            backlogs.filled.push(id);
        } else if full && pending < i64::from(resume_below) {
            backlogs.resumed.push(id);
        }
    }
    mark(writer, &backlogs.filled, true).await?;
    mark(writer, &backlogs.resumed, false).await?;
    Ok(backlogs)
}

async fn mark(writer: &SqlitePool, hooks: &[HookId], full: bool) -> StoreResult<()> {
    if hooks.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE hooks SET backlog_full = ? WHERE id IN ({})",
        placeholders(hooks.len())
    );
    let mut query = sqlx::query(audited(sql)).bind(full);
    for hook in hooks {
        query = query.bind(hook);
    }
    query.execute(writer).await.map_err(map_err)?;
    Ok(())
}
