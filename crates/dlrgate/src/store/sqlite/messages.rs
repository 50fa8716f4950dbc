//! Storing, cancelling and querying messages in SQLite.

use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use super::map_err;
use super::rows::audited;
use super::rows::{VIEW_COLUMNS, insert_many, placeholders, view_from_row};
use crate::store::*;

/// Stores a group of requests in one transaction with a handful of multi-row statements,
/// whatever the number of requests: balances are read and charged per account, then every
/// message, its queued event and its parts are inserted together.
pub async fn submit(
    writer: &SqlitePool,
    batches: Vec<SubmitBatch>,
) -> StoreResult<Vec<SubmitOutcome>> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let mut balances = balances_of(&mut tx, &batches).await?;
    let charged: Vec<Option<Option<i64>>> = batches
        .iter()
        .map(|batch| charge(&mut balances, batch))
        .collect();
    for (account, (balance, changed)) in &balances {
        if *changed {
            sqlx::query("UPDATE accounts SET balance_micros = ? WHERE id = ?")
                .bind(balance)
                .bind(account)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
    }
    let accepted: Vec<(&SubmitBatch, &NewMessage)> = batches
        .iter()
        .zip(&charged)
        .filter(|(_, charged)| charged.is_some())
        .flat_map(|(batch, _)| batch.messages.iter().map(move |m| (batch, m)))
        .collect();
    let ids = insert_messages(&mut tx, &accepted).await?;
    insert_many(
        &mut tx,
        "INSERT INTO status_events (message_id, kind, state, effect, at, source)",
        "(?, 'internal', 'queued', 'applied', ?, 'api')",
        &ids.iter().zip(&accepted).collect::<Vec<_>>(),
        |query, (id, (batch, _))| query.bind(**id).bind(batch.created_at),
    )
    .await?;
    // Each part gets its status row.
    let parts: Vec<(MessageId, i64)> = ids
        .iter()
        .zip(&accepted)
        .flat_map(|(id, (_, message))| {
            (1..=i64::from(message.parts.max(1))).map(move |part| (*id, part))
        })
        .collect();
    insert_many(
        &mut tx,
        "INSERT INTO message_parts (message_id, part)",
        "(?, ?)",
        &parts,
        |query, (id, part)| query.bind(*id).bind(*part),
    )
    .await?;
    tx.commit().await.map_err(map_err)?;
    let mut ids = ids.into_iter();
    Ok(batches
        .iter()
        .zip(charged)
        .map(|(batch, charged)| match charged {
            Some(balance_micros) => SubmitOutcome::Stored {
                ids: ids.by_ref().take(batch.messages.len()).collect(),
                balance_micros,
            },
            None => SubmitOutcome::InsufficientBalance,
        })
        .collect())
}

/// Each account's balance (`None`: unlimited) and whether this group changed it.
type Balances = std::collections::HashMap<AccountId, (Option<i64>, bool)>;

async fn balances_of(
    conn: &mut SqliteConnection,
    batches: &[SubmitBatch],
) -> StoreResult<Balances> {
    let mut accounts: Vec<AccountId> = batches.iter().map(|b| b.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let mut balances = Balances::new();
    for chunk in accounts.chunks(500) {
        let sql = format!(
            "SELECT id, balance_micros FROM accounts WHERE id IN ({})",
            placeholders(chunk.len())
        );
        let mut query = sqlx::query(audited(sql));
        for account in chunk {
            query = query.bind(account);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_err)? {
            let id: AccountId = row.try_get(0).map_err(map_err)?;
            balances.insert(id, (row.try_get(1).map_err(map_err)?, false));
        }
    }
    Ok(balances)
}

/// Charges `batch` to its account if it can pay: `Some(balance left)`, else `None`.
fn charge(balances: &mut Balances, batch: &SubmitBatch) -> Option<Option<i64>> {
    let total: i64 = batch.messages.iter().map(|m| m.price_micros).sum();
    let (balance, changed) = balances.get_mut(&batch.account_id)?;
    match *balance {
        None => Some(None),
        Some(left) if left < total => None,
        Some(left) => {
            if total > 0 {
                *balance = Some(left - total);
                *changed = true;
            }
            Some(*balance)
        }
    }
}

/// Inserts the messages with multi-row statements; returns their ids in the order given. Rows
/// of one statement get increasing ids in the order of its VALUES (AUTOINCREMENT, one writer),
/// so the returned ids, sorted, line up with the rows.
async fn insert_messages(
    conn: &mut SqliteConnection,
    messages: &[(&SubmitBatch, &NewMessage)],
) -> StoreResult<Vec<MessageId>> {
    let mut ids = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(500) {
        let sql = format!(
            "INSERT INTO messages (account_id, recipient, sender, text, encoding, parts, price_micros, label,
                 foreign_id, udh, flash, ttl_minutes, created_at, send_at, state, connector)
             VALUES {} RETURNING id",
            vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)"; chunk.len()].join(", ")
        );
        let mut query = sqlx::query_scalar(audited(sql));
        for (batch, message) in chunk {
            query = query
                .bind(batch.account_id)
                .bind(&message.recipient)
                .bind(&message.sender)
                .bind(&message.text)
                .bind(&message.encoding)
                .bind(i64::from(message.parts))
                .bind(message.price_micros)
                .bind(&message.label)
                .bind(&message.foreign_id)
                .bind(&message.udh)
                .bind(message.flash)
                .bind(message.ttl_minutes.map(i64::from))
                .bind(batch.created_at)
                .bind(message.send_at)
                .bind(&message.connector);
        }
        let mut chunk_ids: Vec<MessageId> = query.fetch_all(&mut *conn).await.map_err(map_err)?;
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

pub async fn cancel(
    writer: &SqlitePool,
    account: AccountId,
    ids: &[MessageId],
) -> StoreResult<Vec<MessageId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "UPDATE messages SET state = 'cancelled'
         WHERE account_id = ? AND state = 'queued' AND id IN ({}) RETURNING id",
        placeholders(ids.len())
    );
    let mut query = sqlx::query_scalar(audited(sql)).bind(account);
    for id in ids {
        query = query.bind(id);
    }
    let mut tx = writer.begin().await.map_err(map_err)?;
    let mut cancelled: Vec<MessageId> = query.fetch_all(&mut *tx).await.map_err(map_err)?;
    // Give the money back for what will not be sent.
    for id in &cancelled {
        sqlx::query(
            "UPDATE accounts SET balance_micros = balance_micros + (SELECT price_micros FROM messages WHERE id = ?)
             WHERE id = ? AND balance_micros IS NOT NULL",
        )
        .bind(id)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    cancelled.sort_unstable();
    Ok(cancelled)
}

pub async fn due(
    writer: &SqlitePool,
    connector: &str,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<DueMessage>> {
    let rows = sqlx::query(audited(format!(
            "SELECT {DUE_COLUMNS} FROM messages
             WHERE state = 'queued' AND connector = ? AND send_at <= ? ORDER BY send_at, id LIMIT ?"
        )))
    .bind(connector)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(writer)
    .await
    .map_err(map_err)?;
    rows.iter().map(due_from_row).collect()
}

/// The columns `due_from_row` reads.
const DUE_COLUMNS: &str =
    "id, account_id, recipient, sender, text, parts, flash, ttl_minutes, send_at";

fn due_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<DueMessage> {
    let parts: i64 = row.try_get("parts").map_err(map_err)?;
    let ttl: Option<i64> = row.try_get("ttl_minutes").map_err(map_err)?;
    Ok(DueMessage {
        id: row.try_get("id").map_err(map_err)?,
        account_id: row.try_get("account_id").map_err(map_err)?,
        recipient: row.try_get("recipient").map_err(map_err)?,
        sender: row.try_get("sender").map_err(map_err)?,
        text: row.try_get("text").map_err(map_err)?,
        parts: u32::try_from(parts).unwrap_or(1),
        flash: row.try_get("flash").map_err(map_err)?,
        ttl_minutes: ttl.and_then(|t| u32::try_from(t).ok()),
        send_at: row.try_get("send_at").map_err(map_err)?,
    })
}

/// Claims up to `limit` due messages of `connector` (queued → sending) and returns them.
pub async fn claim_due(
    writer: &SqlitePool,
    connector: &str,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<DueMessage>> {
    let rows = sqlx::query(audited(format!(
        "UPDATE messages SET state = 'sending' WHERE id IN (
                 SELECT id FROM messages WHERE state = 'queued' AND connector = ? AND send_at <= ?
                 ORDER BY send_at, id LIMIT ?)
             RETURNING {DUE_COLUMNS}"
    )))
    .bind(connector)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(writer)
    .await
    .map_err(map_err)?;
    let mut due = rows
        .iter()
        .map(due_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    due.sort_by_key(|m| (m.send_at, m.id));
    Ok(due)
}

/// The messages of `connector` claimed and not settled (after a crash).
pub async fn claimed(reader: &SqlitePool, connector: &str) -> StoreResult<Vec<DueMessage>> {
    let rows = sqlx::query(audited(format!(
        "SELECT {DUE_COLUMNS} FROM messages
             WHERE state = 'sending' AND connector = ? ORDER BY send_at, id"
    )))
    .bind(connector)
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    rows.iter().map(due_from_row).collect()
}

pub async fn journal(
    reader: &SqlitePool,
    account: AccountId,
    filter: &JournalFilter,
) -> StoreResult<Vec<MessageView>> {
    let mut query: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "SELECT {VIEW_COLUMNS} FROM messages WHERE account_id = "
    ));
    query.push_bind(account).push(" AND state != 'cancelled'");
    if let Some(id) = filter.id {
        query.push(" AND id = ").push_bind(id);
    }
    if let Some(from) = filter.from {
        query.push(" AND send_at >= ").push_bind(from);
    }
    if let Some(before) = filter.to_before {
        query.push(" AND send_at < ").push_bind(before);
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(recipient) = &filter.recipient {
        query.push(" AND recipient = ").push_bind(recipient.clone());
    }
    query
        .push(" ORDER BY id DESC LIMIT ")
        .push_bind(i64::from(filter.limit));
    query.push(" OFFSET ").push_bind(i64::from(filter.offset));
    let rows = query.build().fetch_all(reader).await.map_err(map_err)?;
    rows.iter().map(view_from_row).collect()
}
