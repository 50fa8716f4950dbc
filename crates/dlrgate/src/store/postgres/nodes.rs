//! What several nodes on one database need beyond the leases in the other modules: each node's
//! heartbeat (the `nodes` table: how many share the store, for sharing a hook's concurrency), the
//! renewal of the node's message claims, and taking over the claims of a node that died.
//! Every statement names this node through the session setting `dlrgate.node` (`mod.rs`).

use sqlx::PgPool;

use super::map_err;
use super::messages::{DUE_COLUMNS, sorted};
use super::rows::audited;
use crate::store::*;

/// Takes over the claims of `connector`'s messages whose node stopped renewing them (it died
/// while sending), and returns them: this node settles what became of them.
pub async fn take_over_claims(pool: &PgPool, connector: &str) -> StoreResult<Vec<DueMessage>> {
    let rows = sqlx::query(audited(format!(
        "UPDATE messages SET claim_owner = current_setting('dlrgate.node'),
             claim_until = $2 + current_setting('dlrgate.lease_ms')::bigint
         WHERE id IN (
             SELECT id FROM messages
             WHERE state = 'sending' AND connector = $1
               AND (claim_until IS NULL OR claim_until <= $2)
             FOR UPDATE SKIP LOCKED)
         RETURNING {DUE_COLUMNS}"
    )))
    .bind(connector)
    .bind(crate::workers::now_millis())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    sorted(&rows)
}

/// Records that this node is alive, forgets nodes silent for ten leases, and counts the nodes
/// seen within one lease (this one included).
pub async fn heartbeat(pool: &PgPool) -> StoreResult<u32> {
    let now = crate::workers::now_millis();
    let mut tx = pool.begin().await.map_err(map_err)?;
    sqlx::query(
        "INSERT INTO nodes (id, seen_at) VALUES (current_setting('dlrgate.node'), $1)
         ON CONFLICT (id) DO UPDATE SET seen_at = EXCLUDED.seen_at",
    )
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "DELETE FROM nodes WHERE seen_at < $1 - 10 * current_setting('dlrgate.lease_ms')::bigint",
    )
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM nodes WHERE seen_at > $1 - current_setting('dlrgate.lease_ms')::bigint",
    )
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(u32::try_from(live).unwrap_or(u32::MAX).max(1))
}

/// Extends every claim this node holds by a lease, while its submitters are sending.
pub async fn renew_claims(pool: &PgPool) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE messages SET claim_until = $1 + current_setting('dlrgate.lease_ms')::bigint
         WHERE state = 'sending' AND claim_owner = current_setting('dlrgate.node')",
    )
    .bind(crate::workers::now_millis())
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}
