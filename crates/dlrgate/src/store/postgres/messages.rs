//! Storing, cancelling, claiming and querying messages in PostgreSQL.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};

use super::map_err;
use super::rows::{VIEW_COLUMNS, audited, status_view_from_row, view_from_row};
use crate::store::rules::{Balances, charge};
use crate::store::*;

/// Stores a group of requests in one transaction with a handful of array-bound statements,
/// whatever the number of requests: balances are locked, read and charged per account, then
/// every message, its queued event and its parts are inserted together.
pub async fn submit(pool: &PgPool, batches: &[SubmitBatch]) -> StoreResult<Vec<SubmitOutcome>> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let mut balances = balances_of(&mut tx, batches).await?;
    let charged: Vec<Option<Option<i64>>> = batches
        .iter()
        .map(|batch| charge(&mut balances, batch))
        .collect();
    for (account, (balance, changed)) in &balances {
        if *changed {
            sqlx::query("UPDATE accounts SET balance_micros = $1 WHERE id = $2")
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
    let created: Vec<i64> = accepted.iter().map(|(batch, _)| batch.created_at).collect();
    sqlx::query(
        "INSERT INTO status_events (message_id, kind, state, effect, at, source)
         SELECT id, 'internal', 'queued', 'applied', at, 'api'
         FROM UNNEST($1::bigint[], $2::bigint[]) WITH ORDINALITY AS v(id, at, n) ORDER BY n",
    )
    .bind(&ids)
    .bind(&created)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    // Each part gets its status row.
    let (part_ids, parts): (Vec<MessageId>, Vec<i64>) = ids
        .iter()
        .zip(&accepted)
        .flat_map(|(id, (_, message))| {
            (1..=i64::from(message.parts.max(1))).map(move |part| (*id, part))
        })
        .unzip();
    sqlx::query(
        "INSERT INTO message_parts (message_id, part)
         SELECT * FROM UNNEST($1::bigint[], $2::bigint[])",
    )
    .bind(&part_ids)
    .bind(&parts)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
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

/// Reads the balances of the accounts of `batches`, locked (in id order) until the commit, so a
/// concurrent refund or charge cannot be overwritten.
async fn balances_of(conn: &mut PgConnection, batches: &[SubmitBatch]) -> StoreResult<Balances> {
    let mut accounts: Vec<AccountId> = batches.iter().map(|b| b.account_id).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let rows = sqlx::query(
        "SELECT id, balance_micros FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&accounts)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    let mut balances = Balances::new();
    for row in rows {
        let id: AccountId = row.try_get(0).map_err(map_err)?;
        balances.insert(id, (row.try_get(1).map_err(map_err)?, false));
    }
    Ok(balances)
}

/// Inserts the messages with one statement; returns their ids in the order given. The rows are
/// inserted in the order of the arrays (`ORDER BY n`), so each takes the next value of the
/// identity sequence in that order, and the returned ids, sorted, line up with the rows.
async fn insert_messages(
    conn: &mut PgConnection,
    messages: &[(&SubmitBatch, &NewMessage)],
) -> StoreResult<Vec<MessageId>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&(&SubmitBatch, &NewMessage)) -> Option<String>| -> Vec<Option<String>> {
        messages.iter().map(f).collect()
    };
    let numbers = |f: fn(&(&SubmitBatch, &NewMessage)) -> Option<i64>| -> Vec<Option<i64>> {
        messages.iter().map(f).collect()
    };
    let flash: Vec<bool> = messages.iter().map(|(_, m)| m.flash).collect();
    let mut ids: Vec<MessageId> = sqlx::query_scalar(
        "INSERT INTO messages (account_id, recipient, sender, text, encoding, parts, price_micros, label,
             foreign_id, udh, flash, ttl_minutes, created_at, send_at, state, connector)
         SELECT account_id, recipient, sender, text, encoding, parts, price_micros, label,
             foreign_id, udh, flash, ttl_minutes, created_at, send_at, 'queued', connector
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                     $7::bigint[], $8::text[], $9::text[], $10::text[], $11::boolean[],
                     $12::bigint[], $13::bigint[], $14::bigint[], $15::text[])
              WITH ORDINALITY AS v(account_id, recipient, sender, text, encoding, parts,
                  price_micros, label, foreign_id, udh, flash, ttl_minutes, created_at, send_at,
                  connector, n)
         ORDER BY n
         RETURNING id",
    )
    .bind(numbers(|(b, _)| Some(b.account_id)))
    .bind(column(|(_, m)| Some(m.recipient.clone())))
    .bind(column(|(_, m)| Some(m.sender.clone())))
    .bind(column(|(_, m)| Some(m.text.clone())))
    .bind(column(|(_, m)| Some(m.encoding.clone())))
    .bind(numbers(|(_, m)| Some(i64::from(m.parts))))
    .bind(numbers(|(_, m)| Some(m.price_micros)))
    .bind(column(|(_, m)| m.label.clone()))
    .bind(column(|(_, m)| m.foreign_id.clone()))
    .bind(column(|(_, m)| m.udh.clone()))
    .bind(flash)
    .bind(numbers(|(_, m)| m.ttl_minutes.map(i64::from)))
    .bind(numbers(|(b, _)| Some(b.created_at)))
    .bind(numbers(|(_, m)| Some(m.send_at)))
    .bind(column(|(_, m)| Some(m.connector.clone())))
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    ids.sort_unstable();
    Ok(ids)
}

pub async fn cancel(
    pool: &PgPool,
    account: AccountId,
    ids: &[MessageId],
) -> StoreResult<Vec<MessageId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await.map_err(map_err)?;
    let rows = sqlx::query(
        "UPDATE messages SET state = 'cancelled'
         WHERE state = 'queued' AND id IN (
             SELECT id FROM messages WHERE account_id = $1 AND state = 'queued' AND id = ANY($2)
             ORDER BY id FOR UPDATE)
         RETURNING id, price_micros",
    )
    .bind(account)
    .bind(ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let mut cancelled = Vec::with_capacity(rows.len());
    let mut refund = 0i64;
    for row in &rows {
        cancelled.push(row.try_get::<MessageId, _>(0).map_err(map_err)?);
        refund = refund.saturating_add(row.try_get::<i64, _>(1).map_err(map_err)?);
    }
    // Give the money back for what will not be sent.
    if !cancelled.is_empty() {
        sqlx::query(
            "UPDATE accounts SET balance_micros = balance_micros + $1
             WHERE id = $2 AND balance_micros IS NOT NULL",
        )
        .bind(refund)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    cancelled.sort_unstable();
    Ok(cancelled)
}

/// The columns `due_from_row` reads.
pub(super) const DUE_COLUMNS: &str =
    "id, account_id, recipient, sender, text, parts, flash, ttl_minutes, send_at";

fn due_from_row(row: &PgRow) -> StoreResult<DueMessage> {
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

/// Queued messages of `connector` whose time has come (a read; `claim_due` takes them).
pub async fn due(
    pool: &PgPool,
    connector: &str,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<DueMessage>> {
    let rows = sqlx::query(audited(format!(
        "SELECT {DUE_COLUMNS} FROM messages
         WHERE state = 'queued' AND connector = $1 AND send_at <= $2 ORDER BY send_at, id LIMIT $3"
    )))
    .bind(connector)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(due_from_row).collect()
}

/// Claims up to `limit` due messages of `connector` (queued → sending) for this node, until
/// its lease runs out unless renewed, and returns them. Rows another transaction holds are
/// skipped, so concurrent claims never take the same message.
pub async fn claim_due(
    pool: &PgPool,
    connector: &str,
    now: i64,
    limit: u32,
) -> StoreResult<Vec<DueMessage>> {
    let rows = sqlx::query(audited(format!(
        "UPDATE messages SET state = 'sending', claim_owner = current_setting('dlrgate.node'),
             claim_until = $4 + current_setting('dlrgate.lease_ms')::bigint
         WHERE id IN (
             SELECT id FROM messages WHERE state = 'queued' AND connector = $1 AND send_at <= $2
             ORDER BY send_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING {DUE_COLUMNS}"
    )))
    .bind(connector)
    .bind(now)
    .bind(i64::from(limit))
    .bind(crate::workers::now_millis())
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    sorted(&rows)
}

pub(super) fn sorted(rows: &[PgRow]) -> StoreResult<Vec<DueMessage>> {
    let mut due = rows
        .iter()
        .map(due_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    due.sort_by_key(|m| (m.send_at, m.id));
    Ok(due)
}

/// The messages of `connector` this node claimed and has not settled.
pub async fn claimed(pool: &PgPool, connector: &str) -> StoreResult<Vec<DueMessage>> {
    let rows = sqlx::query(audited(format!(
        "SELECT {DUE_COLUMNS} FROM messages
         WHERE state = 'sending' AND connector = $1
           AND claim_owner = current_setting('dlrgate.node')
         ORDER BY send_at, id"
    )))
    .bind(connector)
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(due_from_row).collect()
}

pub async fn statuses(
    pool: &PgPool,
    account: AccountId,
    ids: &[MessageId],
    since: i64,
) -> StoreResult<Vec<StatusView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT id, status, status_at FROM messages
         WHERE account_id = $1 AND send_at >= $2 AND state <> 'cancelled' AND id = ANY($3)",
    )
    .bind(account)
    .bind(since)
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(status_view_from_row).collect()
}

pub async fn journal(
    pool: &PgPool,
    account: AccountId,
    filter: &JournalFilter,
) -> StoreResult<Vec<MessageView>> {
    let mut query: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {VIEW_COLUMNS} FROM messages WHERE account_id = "
    ));
    query.push_bind(account).push(" AND state <> 'cancelled'");
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
    let rows = query.build().fetch_all(pool).await.map_err(map_err)?;
    rows.iter().map(view_from_row).collect()
}
