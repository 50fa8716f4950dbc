//! Cancelling, re-routing and querying messages in SQLite (storing them is `hot::submit`).

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use super::map_err;
use super::rows::audited;
use super::rows::{VIEW_COLUMNS, placeholders, view_from_row};
use crate::store::*;

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
pub(super) const DUE_COLUMNS: &str =
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

pub async fn reroute_orphans(writer: &SqlitePool, known: &[String], to: &str) -> StoreResult<u64> {
    let sql = format!(
        "UPDATE messages SET connector = ? WHERE state = 'queued'
         AND (connector IS NULL OR connector NOT IN ({}))",
        placeholders(known.len().max(1))
    );
    let mut query = sqlx::query(audited(sql)).bind(to.to_owned());
    for name in known {
        query = query.bind(name.clone());
    }
    if known.is_empty() {
        query = query.bind(to.to_owned());
    }
    let done = query.execute(writer).await.map_err(map_err)?;
    Ok(done.rows_affected())
}
