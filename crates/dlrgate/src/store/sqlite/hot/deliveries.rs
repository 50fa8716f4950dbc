//! The dispatcher's cycle on the write thread (`Store::settle_and_claim`): finished attempts
//! recorded, deliveries moved on and hooks' failure runs kept, unsent deliveries released, and
//! due deliveries leased, interleaved across hooks within each hook's limit.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::map_err;
use crate::store::rows::status_from_column;
use crate::store::rules::hook_updates;
use crate::store::sqlite::hooks::{DUE_COLUMNS, DUE_FROM};
use crate::store::*;

pub fn settle_and_claim(
    conn: &Connection,
    finished: &[AttemptRecord],
    released: &[DeliveryId],
    claim: &ClaimRequest,
) -> StoreResult<Settled> {
    let disabled_hooks = record_batch(conn, finished)?;
    release(conn, released)?;
    let claimed = match claim.limit > 0 {
        true => claim_in(conn, claim)?,
        false => Vec::new(),
    };
    Ok(Settled {
        disabled_hooks,
        claimed,
    })
}

/// Records the attempts, moves each delivery on, and keeps each hook's failure run (disabling a
/// hook on 410 or after failing for longer than `disable_after_ms`). Returns the hooks that
/// became disabled.
fn record_batch(conn: &Connection, records: &[AttemptRecord]) -> StoreResult<Vec<HookId>> {
    let mut attempt = conn
        .prepare_cached(
            "INSERT INTO webhook_attempts (delivery_id, hook_id, attempt, at, http_status,
                 latency_ms, error_class, detail, response_snippet)
             SELECT ?1, ?2, d.attempts + 1, ?3, ?4, ?5, ?6, ?7, ?8
             FROM webhook_deliveries d WHERE d.id = ?1",
        )
        .map_err(map_err)?;
    let mut delivery = conn
        .prepare_cached(
            "UPDATE webhook_deliveries SET state = ?2, attempts = attempts + 1,
                 lease_until = NULL, next_attempt_at = COALESCE(?3, next_attempt_at),
                 last_error = ?4, finished_at = CASE WHEN ?2 = 'pending' THEN NULL ELSE ?5 END
             WHERE id = ?1",
        )
        .map_err(map_err)?;
    for r in records {
        attempt
            .execute(params![
                r.delivery_id,
                r.hook_id,
                r.at,
                r.http_status.map(i64::from),
                r.latency_ms,
                r.error_class,
                r.detail,
                r.response_snippet
            ])
            .map_err(map_err)?;
    }
    for r in records {
        let (state, next_at) = match r.fate {
            DeliveryFate::Delivered => ("delivered", None),
            DeliveryFate::Retry { at } => ("pending", Some(at)),
            DeliveryFate::Failed { .. } => ("failed", None),
            DeliveryFate::Abandoned => ("abandoned", None),
        };
        delivery
            .execute(params![r.delivery_id, state, next_at, r.detail, r.at])
            .map_err(map_err)?;
    }
    let mut disabled = Vec::new();
    for record in hook_updates(records) {
        if update_hook(conn, record)? == HookChange::Disabled {
            disabled.push(record.hook_id);
        }
    }
    Ok(disabled)
}

fn update_hook(conn: &Connection, attempt: &AttemptRecord) -> StoreResult<HookChange> {
    if attempt.fate == DeliveryFate::Delivered {
        conn.prepare_cached(
            "UPDATE hooks SET failing_since = NULL WHERE id = ?1 AND failing_since IS NOT NULL",
        )
        .and_then(|mut update| update.execute([attempt.hook_id]))
        .map_err(map_err)?;
        return Ok(HookChange::None);
    }
    let gone = attempt.fate == (DeliveryFate::Failed { disable_hook: true });
    let mut update = conn
        .prepare_cached(
            "UPDATE hooks SET failing_since = COALESCE(failing_since, ?1),
                 enabled = CASE WHEN ?2 OR ?1 - COALESCE(failing_since, ?1) >= ?3 THEN 0 ELSE enabled END,
                 disabled_reason = CASE
                     WHEN enabled = 0 THEN disabled_reason
                     WHEN ?2 THEN 'the receiver answered 410 Gone'
                     WHEN ?1 - COALESCE(failing_since, ?1) >= ?3 THEN 'every attempt failed for too long'
                     ELSE disabled_reason END
             WHERE id = ?4 AND enabled = 1
             RETURNING enabled",
        )
        .map_err(map_err)?;
    let mut rows = update
        .query(params![
            attempt.at,
            gone,
            attempt.disable_after_ms,
            attempt.hook_id
        ])
        .map_err(map_err)?;
    let now_disabled = match rows.next().map_err(map_err)? {
        Some(row) => !row.get::<_, bool>(0).map_err(map_err)?,
        None => false,
    };
    Ok(match now_disabled {
        true => HookChange::Disabled,
        false => HookChange::None,
    })
}

/// Hands leased deliveries back, unsent: a later claim takes them, in order.
fn release(conn: &Connection, ids: &[DeliveryId]) -> StoreResult<()> {
    let mut update = conn
        .prepare_cached(
            "UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ?1 AND state = 'pending'",
        )
        .map_err(map_err)?;
    for id in ids {
        update.execute([id]).map_err(map_err)?;
    }
    Ok(())
}

/// Up to `?3` due deliveries of hook `?1` at `?2` that no live lease holds and that head their
/// message's queue, in due order: unleased ones through their index, and those whose lease ran
/// out.
const DUE_OF_HOOK: &str = "SELECT id FROM (
         SELECT * FROM (SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
             WHERE d.hook_id = ?1 AND d.state = 'pending' AND d.lease_until IS NULL
               AND d.next_attempt_at <= ?2 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                   WHERE e.hook_id = d.hook_id AND e.message_id = d.message_id
                     AND e.state = 'pending' AND e.id < d.id)
             ORDER BY d.next_attempt_at, d.id LIMIT ?3)
         UNION ALL
         SELECT * FROM (SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
             WHERE d.state = 'pending' AND d.lease_until IS NOT NULL AND d.lease_until <= ?2
               AND d.hook_id = ?1 AND d.next_attempt_at <= ?2 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                   WHERE e.hook_id = d.hook_id AND e.message_id = d.message_id
                     AND e.state = 'pending' AND e.id < d.id)
             ORDER BY d.lease_until LIMIT ?3))
     ORDER BY next_attempt_at, id LIMIT ?3";

/// Leases up to `claim.limit` due deliveries: per hook up to its free share, interleaved across
/// hooks (the first of every hook, then the second, …).
fn claim_in(conn: &Connection, claim: &ClaimRequest) -> StoreResult<Vec<DueDelivery>> {
    let now = claim.now;
    let cap_of = |hook: &HookId| {
        let cap = claim.per_hook_limits.get(hook).copied();
        cap.unwrap_or(claim.per_hook)
    };
    let widest = claim
        .per_hook_limits
        .values()
        .copied()
        .fold(claim.per_hook, u32::max);
    let in_flight: HashMap<HookId, i64> = conn
        .prepare_cached(
            "SELECT hook_id, COUNT(*) FROM webhook_deliveries
             WHERE lease_until IS NOT NULL AND lease_until > ?1 AND state = 'pending'
             GROUP BY hook_id",
        )
        .and_then(|mut select| {
            select
                .query_map([now], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
        .map_err(map_err)?;
    let hooks: Vec<HookId> = conn
        .prepare_cached("SELECT id FROM hooks WHERE enabled = 1 AND deleted = 0 ORDER BY id")
        .and_then(|mut select| select.query_map([], |row| row.get(0))?.collect())
        .map_err(map_err)?;
    let mut due_of_hook = conn.prepare_cached(DUE_OF_HOOK).map_err(map_err)?;
    let mut per_hook_ids: Vec<Vec<i64>> = Vec::new();
    for hook in hooks {
        let free = i64::from(cap_of(&hook)) - in_flight.get(&hook).copied().unwrap_or(0);
        if free > 0 {
            let ids = due_of_hook
                .query_map(params![hook, now, free], |row| row.get(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<i64>>>())
                .map_err(map_err)?;
            per_hook_ids.push(ids);
        }
    }
    let mut ids: Vec<i64> = Vec::new();
    for rank in 0..widest as usize {
        ids.extend(
            per_hook_ids
                .iter()
                .filter_map(|hook_ids| hook_ids.get(rank)),
        );
    }
    ids.truncate(claim.limit as usize);
    let mut lease = conn
        .prepare_cached("UPDATE webhook_deliveries SET lease_until = ?2 WHERE id = ?1")
        .map_err(map_err)?;
    let mut select = conn
        .prepare_cached(&format!("SELECT {DUE_COLUMNS} {DUE_FROM} WHERE d.id = ?1"))
        .map_err(map_err)?;
    let mut claimed = Vec::with_capacity(ids.len());
    ids.sort_unstable();
    for id in ids {
        lease
            .execute(params![id, claim.lease_until])
            .map_err(map_err)?;
        let mut rows = select.query([id]).map_err(map_err)?;
        if let Some(row) = rows.next().map_err(map_err)? {
            claimed.push(due_delivery(row, now)?);
        }
    }
    Ok(claimed)
}

/// A claimed delivery with its hook, message and signing secrets (`sqlite::hooks::due_from_row`
/// for sqlx rows).
fn due_delivery(row: &rusqlite::Row, now: i64) -> StoreResult<DueDelivery> {
    let attempts: i64 = row.get("attempts").map_err(map_err)?;
    let mut secrets = vec![row.get::<_, String>("signing_secret").map_err(map_err)?];
    let previous: Option<String> = row.get("previous_signing_secret").map_err(map_err)?;
    let until: Option<i64> = row.get("previous_secret_until").map_err(map_err)?;
    if let (Some(previous), Some(until)) = (previous, until)
        && until > now
    {
        secrets.push(previous);
    }
    Ok(DueDelivery {
        id: row.get("delivery_id").map_err(map_err)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at: row.get("delivery_created_at").map_err(map_err)?,
        hook: Hook {
            id: row.get("id").map_err(map_err)?,
            account_id: row.get("account_id").map_err(map_err)?,
            target_url: row.get("target_url").map_err(map_err)?,
            event_type: row.get("event_type").map_err(map_err)?,
            request_method: row.get("request_method").map_err(map_err)?,
            event_filter: row.get("event_filter").map_err(map_err)?,
            headers: row.get("headers").map_err(map_err)?,
            enabled: row.get("enabled").map_err(map_err)?,
            created_at: row.get("created_at").map_err(map_err)?,
            failing_since: row.get("failing_since").map_err(map_err)?,
            disabled_reason: row.get("disabled_reason").map_err(map_err)?,
            backlog_full: row.get("backlog_full").map_err(map_err)?,
        },
        message_id: row.get("message_id").map_err(map_err)?,
        status: status_from_column(row.get("delivery_status").map_err(map_err)?)?
            .ok_or_else(|| StoreError::Corrupt("delivery without status".into()))?,
        status_at: row.get("status_at").map_err(map_err)?,
        recipient: row.get("recipient").map_err(map_err)?,
        sender: row.get("sender").map_err(map_err)?,
        foreign_id: row.get("foreign_id").map_err(map_err)?,
        label: row.get("label").map_err(map_err)?,
        secrets,
    })
}
