//! Conversions from PostgreSQL rows to store types, and the helpers every query module shares.

use std::str::FromStr;

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::map_err;
use crate::domain::status::{DeliveryStatus, InternalState};
use crate::store::{Account, MessageView, StoreError, StoreResult};

pub fn account_from_row(row: &PgRow) -> StoreResult<Account> {
    Ok(Account {
        id: row.try_get("id").map_err(map_err)?,
        name: row.try_get("name").map_err(map_err)?,
        signing_secret: row.try_get("signing_secret").map_err(map_err)?,
        price_per_part_micros: row.try_get("price_per_part_micros").map_err(map_err)?,
        balance_micros: row.try_get("balance_micros").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
    })
}

pub fn status_from_column(value: Option<String>) -> StoreResult<Option<DeliveryStatus>> {
    value
        .map(|text| {
            DeliveryStatus::from_str(&text).map_err(|error| StoreError::Corrupt(error.to_string()))
        })
        .transpose()
}

pub const VIEW_COLUMNS: &str = "id, recipient, sender, text, encoding, parts, price_micros, label, foreign_id, \
     created_at, send_at, state, status, status_at, error_code";

pub fn view_from_row(row: &PgRow) -> StoreResult<MessageView> {
    let mut state: String = row.try_get("state").map_err(map_err)?;
    // A message its connector is sending right now is still queued as far as anyone can see.
    if state == "sending" {
        state = "queued".to_owned();
    }
    let parts: i64 = row.try_get("parts").map_err(map_err)?;
    Ok(MessageView {
        id: row.try_get("id").map_err(map_err)?,
        recipient: row.try_get("recipient").map_err(map_err)?,
        sender: row.try_get("sender").map_err(map_err)?,
        text: row.try_get("text").map_err(map_err)?,
        encoding: row.try_get("encoding").map_err(map_err)?,
        parts: u32::try_from(parts).map_err(|_| StoreError::Corrupt(format!("parts {parts}")))?,
        price_micros: row.try_get("price_micros").map_err(map_err)?,
        label: row.try_get("label").map_err(map_err)?,
        foreign_id: row.try_get("foreign_id").map_err(map_err)?,
        created_at: row.try_get("created_at").map_err(map_err)?,
        send_at: row.try_get("send_at").map_err(map_err)?,
        state: InternalState::from_str(&state)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?,
        status: status_from_column(row.try_get("status").map_err(map_err)?)?,
        status_at: row.try_get("status_at").map_err(map_err)?,
        error_code: row.try_get("error_code").map_err(map_err)?,
    })
}

/// Marks SQL built at run time as audited: dlrgate only ever formats its own constant column
/// lists and table names into SQL, never a value (values are always bound, lists as arrays).
pub fn audited(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

/// The part number as stored (BIGINT).
pub fn part_column(part: u32) -> i64 {
    i64::from(part)
}

/// A stored part number back as the store's `u32`.
pub fn part_from_column(part: i64) -> StoreResult<u32> {
    u32::try_from(part).map_err(|_| StoreError::Corrupt(format!("part {part}")))
}
