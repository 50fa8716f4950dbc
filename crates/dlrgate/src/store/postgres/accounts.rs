//! Accounts and API keys in PostgreSQL.

use sqlx::PgPool;

use super::map_err;
use super::rows::{account_from_row, audited};
use crate::store::{Account, AccountId, Billing, NewAccount, StoreError, StoreResult};

const ACCOUNT_COLUMNS: &str =
    "id, name, signing_secret, price_per_part_micros, balance_micros, created_at";

pub async fn create(pool: &PgPool, new: &NewAccount) -> StoreResult<(Account, i64)> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let row = sqlx::query(audited(format!(
        "INSERT INTO accounts (name, signing_secret, price_per_part_micros, balance_micros, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING {ACCOUNT_COLUMNS}"
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
    let key_id: i64 = sqlx::query_scalar(
        "INSERT INTO api_keys (account_id, key_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(account.id)
    .bind(&new.api_key_hash)
    .bind(new.created_at)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok((account, key_id))
}

pub async fn list(pool: &PgPool) -> StoreResult<Vec<Account>> {
    let rows = sqlx::query(audited(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY id"
    )))
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(account_from_row).collect()
}

pub async fn count(pool: &PgPool) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
        .fetch_one(pool)
        .await
        .map_err(map_err)
}

pub async fn by_id(pool: &PgPool, id: AccountId) -> StoreResult<Account> {
    let row = sqlx::query(audited(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
    )))
    .bind(id)
    .fetch_one(pool)
    .await
    .map_err(map_err)?;
    account_from_row(&row)
}

pub async fn by_name(pool: &PgPool, name: &str) -> StoreResult<Account> {
    let row = sqlx::query(audited(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1"
    )))
    .bind(name)
    .fetch_one(pool)
    .await
    .map_err(map_err)?;
    account_from_row(&row)
}

pub async fn update_billing(
    pool: &PgPool,
    id: AccountId,
    billing: Billing,
) -> StoreResult<Account> {
    let row = sqlx::query(audited(format!(
        "UPDATE accounts SET
             price_per_part_micros = COALESCE($1, price_per_part_micros),
             balance_micros = CASE WHEN $2 THEN $3 ELSE balance_micros END
         WHERE id = $4 RETURNING {ACCOUNT_COLUMNS}"
    )))
    .bind(billing.price_per_part_micros)
    .bind(billing.balance_micros.is_some())
    .bind(billing.balance_micros.flatten())
    .bind(id)
    .fetch_one(pool)
    .await
    .map_err(map_err)?;
    account_from_row(&row)
}

pub async fn create_key(pool: &PgPool, account: AccountId, key_hash: &[u8]) -> StoreResult<i64> {
    let now = crate::domain::timefmt::to_millis(time::OffsetDateTime::now_utc());
    let result = sqlx::query_scalar(
        "INSERT INTO api_keys (account_id, key_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(account)
    .bind(key_hash)
    .bind(now)
    .fetch_one(pool)
    .await;
    match result {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            Err(StoreError::NotFound)
        }
        Err(error) => Err(map_err(error)),
    }
}

pub async fn revoke_key(pool: &PgPool, key_id: i64) -> StoreResult<()> {
    let now = crate::domain::timefmt::to_millis(time::OffsetDateTime::now_utc());
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now)
            .bind(key_id)
            .execute(pool)
            .await
            .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn by_key_hash(pool: &PgPool, key_hash: &[u8]) -> StoreResult<Option<Account>> {
    let row = sqlx::query(
        "SELECT a.id, a.name, a.signing_secret, a.price_per_part_micros, a.balance_micros, a.created_at
         FROM api_keys k JOIN accounts a ON a.id = k.account_id
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await
    .map_err(map_err)?;
    row.as_ref().map(account_from_row).transpose()
}

/// Makes `secret` the signing secret; the old one stays valid for signing until `previous_until`.
pub async fn rotate_secret(
    pool: &PgPool,
    account: AccountId,
    secret: &str,
    previous_until: i64,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE accounts SET previous_signing_secret = signing_secret, previous_secret_until = $1,
             signing_secret = $2 WHERE id = $3",
    )
    .bind(previous_until)
    .bind(secret)
    .bind(account)
    .execute(pool)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
