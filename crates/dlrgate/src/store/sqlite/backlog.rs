//! The per-hook backlog limit in SQLite: marks hooks whose pending deliveries reached the limit,
//! so status changes create no new deliveries for them, and clears the mark once they drained.
//! The pending deliveries are counted on a reader, so the one writer is held only when a mark
//! changes, however large the backlogs are. Also the outbox per hook, for the metrics scrape.

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

/// Every live hook with its pending deliveries: counted on the pending-deliveries index, and the
/// oldest found as the lowest id (ids follow creation), so only one row per hook is read.
pub const OUTBOX_BY_HOOK: &str = "SELECT h.id, COALESCE(p.pending, 0) AS pending, d.created_at
     FROM hooks h
     LEFT JOIN (SELECT hook_id, COUNT(*) AS pending, MIN(id) AS oldest FROM webhook_deliveries
                WHERE state = 'pending' GROUP BY hook_id) p ON p.hook_id = h.id
     LEFT JOIN webhook_deliveries d ON d.id = p.oldest
     WHERE NOT h.deleted ORDER BY h.id";

pub async fn outbox_by_hook(reader: &SqlitePool) -> StoreResult<Vec<HookOutbox>> {
    let rows = sqlx::query(OUTBOX_BY_HOOK)
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    rows.iter()
        .map(|row| {
            Ok(HookOutbox {
                hook_id: row.try_get("id").map_err(map_err)?,
                pending: row.try_get("pending").map_err(map_err)?,
                oldest_created_at: row.try_get("created_at").map_err(map_err)?,
            })
        })
        .collect()
}
