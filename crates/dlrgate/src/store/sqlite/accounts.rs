//! Accounts and API keys in SQLite.

use sqlx::{Row, SqlitePool};

use super::map_err;
use super::rows::account_from_row;
use super::rows::audited;
use crate::store::{Account, AccountId, Billing, NewAccount, StoreError, StoreResult};

const ACCOUNT_COLUMNS: &str =
    "id, name, signing_secret, price_per_part_micros, balance_micros, created_at";

pub async fn create(writer: &SqlitePool, new: NewAccount) -> StoreResult<(Account, i64)> {
    let mut tx = writer.begin().await.map_err(map_err)?;
    let row = sqlx::query(audited(format!(
        "INSERT INTO accounts (name, signing_secret, price_per_part_micros, balance_micros, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING {ACCOUNT_COLUMNS}"
    )))
    .bind(&new.name)
    .bind(&new.signing_secret)
    .bind(new.billing.price_per_part_micros.unwrap_or(0))
    .bind(new.billing.balance_micros.flatten())
    .bind(new.created_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    let account = account_from_row(&row)?;
    let key_id: i64 = sqlx::query(
        "INSERT INTO api_keys (account_id, key_hash, created_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(account.id)
    .bind(&new.api_key_hash)
    .bind(new.created_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?
    .try_get(0)
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok((account, key_id))
}

pub async fn list(reader: &SqlitePool) -> StoreResult<Vec<Account>> {
    let rows = sqlx::query(audited(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"
    )))
    .fetch_all(reader)
    .await
    .map_err(map_err)?;
    rows.iter().map(account_from_row).collect()
}

pub async fn count(reader: &SqlitePool) -> StoreResult<i64> {
    sqlx::query("SELECT COUNT(*) FROM accounts")
        .fetch_one(reader)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(map_err)
}

pub async fn by_id(reader: &SqlitePool, id: AccountId) -> StoreResult<Account> {
    let row = sqlx::query(audited(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?"
    )))
    .bind(id)
    .fetch_one(reader)
    .await
    .map_err(map_err)?;
    account_from_row(&row)
}

pub async fn by_name(reader: &SqlitePool, name: &str) -> StoreResult<Account> {
    let row = sqlx::query(audited(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = ?"
    )))
    .bind(name)
    .fetch_one(reader)
    .await
    .map_err(map_err)?;
    account_from_row(&row)
}

pub async fn update_billing(
    writer: &SqlitePool,
    id: AccountId,
    billing: Billing,
) -> StoreResult<Account> {
    let row = sqlx::query(audited(format!(
        "UPDATE accounts SET
             price_per_part_micros = COALESCE(?, price_per_part_micros),
             balance_micros = CASE WHEN ? THEN ? ELSE balance_micros END
         WHERE id = ? RETURNING {ACCOUNT_COLUMNS}"
    )))
    .bind(billing.price_per_part_micros)
    .bind(billing.balance_micros.is_some())
    .bind(billing.balance_micros.flatten())
    .bind(id)
    .fetch_one(writer)
    .await
    .map_err(map_err)?;
    account_from_row(&row)
}

pub async fn create_key(
    writer: &SqlitePool,
    account: AccountId,
    key_hash: &[u8],
) -> StoreResult<i64> {
    let now = crate::domain::timefmt::to_millis(time::OffsetDateTime::now_utc());
    let result = sqlx::query(
        "INSERT INTO api_keys (account_id, key_hash, created_at) VALUES (?, ?, ?) RETURNING id",
    )
    .bind(account)
    .bind(key_hash)
    .bind(now)
    .fetch_one(writer)
    .await;
    match result {
        Ok(row) => row.try_get(0).map_err(map_err),
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            Err(StoreError::NotFound)
        }
        Err(error) => Err(map_err(error)),
    }
}

pub async fn revoke_key(writer: &SqlitePool, key_id: i64) -> StoreResult<()> {
    let now = crate::domain::timefmt::to_millis(time::OffsetDateTime::now_utc());
    let done = sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?")
        .bind(now)
        .bind(key_id)
        .execute(writer)
        .await
        .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Makes `secret` the signing secret; the old one stays valid for signing until `previous_until`.
pub async fn rotate_secret(
    writer: &SqlitePool,
    account: AccountId,
    secret: &str,
    previous_until: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE accounts SET previous_signing_secret = signing_secret, previous_secret_until = ?, signing_secret = ? WHERE id = ?",
    )
    .bind(previous_until)
    .bind(secret)
    .bind(account)
    .execute(writer)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
