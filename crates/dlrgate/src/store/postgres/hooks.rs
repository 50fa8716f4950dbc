//! Hooks and the webhook delivery outbox in PostgreSQL: subscribing, claiming due deliveries with
//! a lease (`FOR UPDATE SKIP LOCKED`), and what changing a hook does to its deliveries.
//!
//! Lock order, so transactions wait for each other instead of deadlocking: deliveries (in id
//! order) before their hook. A claim locks the hooks it serves with `SKIP LOCKED`, so counting a
//! hook's deliveries in flight and leasing more is one step for whoever holds the hook.

use std::collections::HashMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::map_err;
use super::rows::{audited, status_from_column};
use crate::store::*;

const HOOK_COLUMNS: &str = "id, account_id, target_url, event_type, request_method, event_filter, headers, enabled, \
     created_at, failing_since, disabled_reason, backlog_full";

fn hook_from_row(row: &PgRow) -> StoreResult<Hook> {
    Ok(Hook {
        id: row.try_get("id").map_err(map_err)?,
        account_id: row.try_get("account_id").map_err(map_err)?,
        target_url: row.try_get("target_url").map_err(map_err)?,
        event_type: row.try_get("event_type").map_err(map_err)?,
        request_method: row.try_get("request_method").map_err(map_err)?,
        event_filter: row.try_get("event_filter").map_err(map_err)?,
        headers: row.try_get("headers").map_err(map_err)?,
        enabled: row.try_get("enabled").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        failing_since: row.try_get("failing_since").map_err(map_err)?,
        disabled_reason: row.try_get("disabled_reason").map_err(map_err)?,
        backlog_full: row.try_get("backlog_full").map_err(map_err)?,
    })
}

pub async fn create(pool: &PgPool, hook: &NewHook) -> StoreResult<Hook> {
    let row = sqlx::query(audited(format!(
        "INSERT INTO hooks (account_id, target_url, event_type, request_method, event_filter, headers, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {HOOK_COLUMNS}"
    )))
    .bind(hook.account_id)
    .bind(&hook.target_url)
    .bind(&hook.event_type)
    .bind(&hook.request_method)
    .bind(&hook.event_filter)
    .bind(&hook.headers)
    .bind(hook.created_at)
    .fetch_one(pool)
    .await
    .map_err(map_err)?;
    hook_from_row(&row)
}

pub async fn list(pool: &PgPool, account: AccountId) -> StoreResult<Vec<Hook>> {
    let rows = sqlx::query(audited(format!(
        "SELECT {HOOK_COLUMNS} FROM hooks WHERE account_id = $1 AND NOT deleted ORDER BY id"
    )))
    .bind(account)
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(hook_from_row).collect()
}

/// Locks the pending deliveries of `hook` in id order (deliveries before hooks).
async fn lock_pending_of(conn: &mut PgConnection, hook: HookId) -> StoreResult<()> {
    sqlx::query(
        "SELECT id FROM webhook_deliveries WHERE hook_id = $1 AND state = 'pending'
         ORDER BY id FOR UPDATE",
    )
    .bind(hook)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

/// Deletes a hook; its pending deliveries end as abandoned so nothing waits on them.
pub async fn delete(pool: &PgPool, account: AccountId, id: HookId, now: i64) -> StoreResult<bool> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    lock_pending_of(&mut tx, id).await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'abandoned', finished_at = $1,
             last_error = 'hook deleted', lease_until = NULL
         WHERE hook_id = $2 AND account_id = $3 AND state = 'pending'",
    )
    .bind(now)
    .bind(id)
    .bind(account)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let done = sqlx::query(
        "UPDATE hooks SET deleted = true, enabled = false
         WHERE id = $1 AND account_id = $2 AND NOT deleted",
    )
    .bind(id)
    .bind(account)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

/// Enables or disables a hook. Enabling clears its failure run and makes its pending deliveries
/// due at once; they then go out in order.
pub async fn set_enabled(
    pool: &PgPool,
    account: AccountId,
    id: HookId,
    enabled: bool,
    now: i64,
) -> StoreResult<Hook> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    if enabled {
        lock_pending_of(&mut tx, id).await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = LEAST(next_attempt_at, $1)
             WHERE hook_id = $2 AND state = 'pending'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    let row = sqlx::query(audited(format!(
        "UPDATE hooks SET enabled = $1, failing_since = NULL,
             disabled_reason = CASE WHEN $1 THEN NULL ELSE 'disabled through the API' END
         WHERE id = $2 AND account_id = $3 AND NOT deleted RETURNING {HOOK_COLUMNS}"
    )))
    .bind(enabled)
    .bind(id)
    .bind(account)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    hook_from_row(&row)
}

/// Records finished attempts, hands back released leases, then leases due deliveries, in one
/// transaction: a dispatcher cycle costs one commit however many attempts finished.
pub async fn settle_and_claim(
    pool: &PgPool,
    finished: &[AttemptRecord],
    released: &[DeliveryId],
    claim: &ClaimRequest,
) -> StoreResult<Settled> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // Everything this cycle writes, locked at once in id order (deliveries before hooks).
    let mut ids: Vec<DeliveryId> = finished.iter().map(|r| r.delivery_id).collect();
    ids.extend_from_slice(released);
    ids.sort_unstable();
    ids.dedup();
    if !ids.is_empty() {
        sqlx::query("SELECT id FROM webhook_deliveries WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    let disabled_hooks = super::attempts::record_batch(&mut tx, finished).await?;
    super::outbox::release(&mut tx, released).await?;
    let claimed = if claim.limit > 0 {
        claim_in(&mut tx, claim).await?
    } else {
        Vec::new()
    };
    tx.commit().await.map_err(map_err)?;
    Ok(Settled {
        disabled_hooks,
        claimed,
    })
}

/// Hands back every lease this node holds (and its unread pushes), at start and at a graceful
/// stop: what it had in flight is due again at once for any node. Other nodes' leases stay.
pub async fn release_leases(pool: &PgPool) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = NULL, lease_owner = NULL, pushed = false
         WHERE lease_owner = current_setting('dlrgate.node') AND state = 'pending'",
    )
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

/// Extends this node's leases of `ids` to `until` (the dispatcher holds them: queued or on the
/// wire), so no other node takes them over while this one lives. Returns how many it still held.
pub async fn renew_leases(pool: &PgPool, ids: &[DeliveryId], until: i64) -> StoreResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = $1
         WHERE id = ANY($2) AND state = 'pending'
           AND lease_owner = current_setting('dlrgate.node')",
    )
    .bind(until)
    .bind(ids)
    .execute(pool)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected())
}

/// Leases up to `limit` due deliveries: for each hook and message only the oldest pending one (so
/// statuses go out in order), at most the hook's limit in flight per hook, hooks interleaved so
/// one busy hook cannot take the whole batch. Hooks and deliveries another transaction holds are
/// skipped (`SKIP LOCKED`); they are taken by a later claim.
pub async fn claim_in(
    tx: &mut PgConnection,
    claim: &ClaimRequest,
) -> StoreResult<Vec<DueDelivery>> {
    let now = claim.now;
    let cap_of = |hook: &HookId| {
        claim
            .per_hook_limits
            .get(hook)
            .copied()
            .unwrap_or(claim.per_hook)
    };
    let widest = claim
        .per_hook_limits
        .values()
        .copied()
        .fold(claim.per_hook, u32::max);
    let hooks: Vec<HookId> = sqlx::query_scalar(
        "SELECT id FROM hooks WHERE enabled AND NOT deleted ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let in_flight = in_flight(tx, &hooks, now).await?;
    let mut per_hook_ids: Vec<Vec<i64>> = Vec::new();
    for hook in hooks {
        let free = i64::from(cap_of(&hook)) - in_flight.get(&hook).copied().unwrap_or(0);
        if free > 0 {
            per_hook_ids.push(due_of_hook(tx, hook, now, free).await?);
        }
    }
    // Interleave: the first due delivery of every hook, then the second of every hook, …
    let mut ids: Vec<i64> = Vec::new();
    for rank in 0..widest as usize {
        ids.extend(
            per_hook_ids
                .iter()
                .filter_map(|hook_ids| hook_ids.get(rank)),
        );
    }
    ids.truncate(claim.limit as usize);
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    lease(tx, &ids, claim).await
}

/// Each of `hooks`' deliveries in flight (leased and not expired).
async fn in_flight(
    tx: &mut PgConnection,
    hooks: &[HookId],
    now: i64,
) -> StoreResult<HashMap<HookId, i64>> {
    sqlx::query(
        "SELECT hook_id, COUNT(*) FROM webhook_deliveries
         WHERE lease_until IS NOT NULL AND lease_until > $1 AND state = 'pending'
           AND hook_id = ANY($2)
         GROUP BY hook_id",
    )
    .bind(now)
    .bind(hooks)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?
    .iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()
    .map_err(map_err)
}

/// Locks and leases those of `ids` still claimable, and returns them in id order. The pushed
/// mark is cleared too: a delivery claimed after its pushed lease ran out must not be read again.
async fn lease(
    tx: &mut PgConnection,
    ids: &[i64],
    claim: &ClaimRequest,
) -> StoreResult<Vec<DueDelivery>> {
    let locked: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM webhook_deliveries
         WHERE id = ANY($1) AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $2)
         ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .bind(ids)
    .bind(claim.now)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    if locked.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = $1, pushed = false,
             lease_owner = current_setting('dlrgate.node')
         WHERE id = ANY($2)",
    )
    .bind(claim.lease_until)
    .bind(&locked)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let rows = sqlx::query(audited(format!(
        "SELECT {DUE_COLUMNS} {DUE_FROM} WHERE d.id = ANY($1) ORDER BY d.id"
    )))
    .bind(&locked)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    rows.iter()
        .map(|row| due_from_row(row, claim.now))
        .collect()
}

/// What a dispatcher needs to send a delivery: the delivery, its hook, message and account.
pub(super) const DUE_COLUMNS: &str = "d.id AS delivery_id, d.attempts, d.created_at AS delivery_created_at,
        d.message_id, d.status AS delivery_status, d.status_at, m.recipient, m.sender, m.foreign_id, m.label,
        a.signing_secret, a.previous_signing_secret, a.previous_secret_until,
        h.id, h.account_id, h.target_url, h.event_type, h.request_method, h.event_filter, h.headers, h.enabled,
        h.created_at, h.failing_since, h.disabled_reason, h.backlog_full";
pub(super) const DUE_FROM: &str = "FROM webhook_deliveries d
     JOIN hooks h ON h.id = d.hook_id
     JOIN messages m ON m.id = d.message_id
     JOIN accounts a ON a.id = d.account_id";

pub(super) fn due_from_row(row: &PgRow, now: i64) -> StoreResult<DueDelivery> {
    let attempts: i64 = row.try_get("attempts").map_err(map_err)?;
    let mut secrets = vec![
        row.try_get::<String, _>("signing_secret")
            .map_err(map_err)?,
    ];
    let previous: Option<String> = row.try_get("previous_signing_secret").map_err(map_err)?;
    let until: Option<i64> = row.try_get("previous_secret_until").map_err(map_err)?;
    if let (Some(previous), Some(until)) = (previous, until)
        && until > now
    {
        secrets.push(previous);
    }
    Ok(DueDelivery {
        id: row.try_get("delivery_id").map_err(map_err)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at: row.try_get("delivery_created_at").map_err(map_err)?,
        hook: hook_from_row(row)?,
        message_id: row.try_get("message_id").map_err(map_err)?,
        status: status_from_column(row.try_get("delivery_status").map_err(map_err)?)?
            .ok_or_else(|| StoreError::Corrupt("delivery without status".into()))?,
        status_at: row.try_get("status_at").map_err(map_err)?,
        recipient: row.try_get("recipient").map_err(map_err)?,
        sender: row.try_get("sender").map_err(map_err)?,
        foreign_id: row.try_get("foreign_id").map_err(map_err)?,
        label: row.try_get("label").map_err(map_err)?,
        secrets,
    })
}

/// Up to `free` due deliveries of `hook` that no live lease holds and that head their message's
/// queue, in due order: unleased ones through their index, and those whose lease ran out.
async fn due_of_hook(
    tx: &mut PgConnection,
    hook: HookId,
    now: i64,
    free: i64,
) -> StoreResult<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM (
             (SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
                 WHERE d.hook_id = $1 AND d.state = 'pending' AND d.lease_until IS NULL
                   AND d.next_attempt_at <= $2 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                       WHERE e.hook_id = d.hook_id AND e.message_id = d.message_id
                         AND e.state = 'pending' AND e.id < d.id)
                 ORDER BY d.next_attempt_at, d.id LIMIT $3)
             UNION ALL
             (SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
                 WHERE d.state = 'pending' AND d.lease_until IS NOT NULL AND d.lease_until <= $2
                   AND d.hook_id = $1 AND d.next_attempt_at <= $2
                   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                       WHERE e.hook_id = d.hook_id AND e.message_id = d.message_id
                         AND e.state = 'pending' AND e.id < d.id)
                 ORDER BY d.lease_until LIMIT $3)) AS due
         ORDER BY next_attempt_at, id LIMIT $3",
    )
    .bind(hook)
    .bind(now)
    .bind(free)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)
}

/// When the next delivery that no live lease holds is due (one whose lease ran out is due now).
pub async fn next_due(pool: &PgPool, now: i64) -> StoreResult<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(due) FROM (
             SELECT MIN(d.next_attempt_at) AS due FROM webhook_deliveries d
             JOIN hooks h ON h.id = d.hook_id
             WHERE d.state = 'pending' AND d.lease_until IS NULL AND h.enabled
             UNION ALL
             SELECT MIN(d.lease_until) FROM webhook_deliveries d
             WHERE d.state = 'pending' AND d.lease_until IS NOT NULL AND d.lease_until <= $1) AS t",
    )
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(map_err)
}
