//! `Store::submit` on the write thread: balances read and charged per account, then every
//! message, its queued event and its parts inserted.

use rusqlite::{Connection, params};

use super::map_err;
use crate::store::rules::{Balances, charge};
use crate::store::*;

pub fn submit(conn: &Connection, batches: &[SubmitBatch]) -> StoreResult<Vec<SubmitOutcome>> {
    let mut balances = balances_of(conn, batches)?;
    let charged: Vec<Option<Option<i64>>> = batches
        .iter()
        .map(|batch| charge(&mut balances, batch))
        .collect();
    let mut update = conn
        .prepare_cached("UPDATE accounts SET balance_micros = ?1 WHERE id = ?2")
        .map_err(map_err)?;
    for (account, (balance, changed)) in &balances {
        if *changed {
            update.execute(params![balance, account]).map_err(map_err)?;
        }
    }
    let mut outcomes = Vec::with_capacity(batches.len());
    for (batch, charged) in batches.iter().zip(charged) {
        outcomes.push(match charged {
            Some(balance_micros) => SubmitOutcome::Stored {
                ids: insert_batch(conn, batch)?,
                balance_micros,
            },
            None => SubmitOutcome::InsufficientBalance,
        });
    }
    Ok(outcomes)
}

fn balances_of(conn: &Connection, batches: &[SubmitBatch]) -> StoreResult<Balances> {
    let mut select = conn
        .prepare_cached("SELECT balance_micros FROM accounts WHERE id = ?1")
        .map_err(map_err)?;
    let mut balances = Balances::new();
    for batch in batches {
        if balances.contains_key(&batch.account_id) {
            continue;
        }
        let mut rows = select.query([batch.account_id]).map_err(map_err)?;
        if let Some(row) = rows.next().map_err(map_err)? {
            let balance: Option<i64> = row.get(0).map_err(map_err)?;
            balances.insert(batch.account_id, (balance, false));
        }
    }
    Ok(balances)
}

/// Inserts one request's messages, each with its queued event and its parts; returns their ids
/// in the order given.
fn insert_batch(conn: &Connection, batch: &SubmitBatch) -> StoreResult<Vec<MessageId>> {
    let mut message = conn
        .prepare_cached(
            "INSERT INTO messages (account_id, recipient, sender, text, encoding, parts,
                 price_micros, label, foreign_id, udh, flash, ttl_minutes, created_at, send_at,
                 state, connector)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'queued', ?15)",
        )
        .map_err(map_err)?;
    let mut event = conn
        .prepare_cached(
            "INSERT INTO status_events (message_id, kind, state, effect, at, source)
             VALUES (?1, 'internal', 'queued', 'applied', ?2, 'api')",
        )
        .map_err(map_err)?;
    let mut part = conn
        .prepare_cached("INSERT INTO message_parts (message_id, part) VALUES (?1, ?2)")
        .map_err(map_err)?;
    let mut ids = Vec::with_capacity(batch.messages.len());
    for m in &batch.messages {
        message
            .execute(params![
                batch.account_id,
                m.recipient,
                m.sender,
                m.text,
                m.encoding,
                i64::from(m.parts),
                m.price_micros,
                m.label,
                m.foreign_id,
                m.udh,
                m.flash,
                m.ttl_minutes.map(i64::from),
                batch.created_at,
                m.send_at,
                m.connector,
            ])
            .map_err(map_err)?;
        let id = conn.last_insert_rowid();
        event
            .execute(params![id, batch.created_at])
            .map_err(map_err)?;
        for number in 1..=i64::from(m.parts.max(1)) {
            part.execute(params![id, number]).map_err(map_err)?;
        }
        ids.push(id);
    }
    Ok(ids)
}
