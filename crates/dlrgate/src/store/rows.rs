//! Rows to store types for both backends: the tables, column names and conversions are the same
//! in SQLite and PostgreSQL, so only the row type differs. Decoding failures are
//! `StoreError::Other`, as each backend's `map_err` makes them.

use std::str::FromStr;

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{Account, MessageView, StatusView, StoreError, StoreResult};
use crate::domain::status::{DeliveryStatus, InternalState};

/// The columns [`view_from_row`] reads, in `messages`.
pub const VIEW_COLUMNS: &str = "id, recipient, sender, text, encoding, parts, price_micros, label, foreign_id, \
     created_at, send_at, state, status, status_at, error_code";

/// One column of `row`, decoded.
fn get<'r, R, T>(row: &'r R, column: &'r str) -> StoreResult<T>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(column).map_err(StoreError::Other)
}

pub fn account_from_row<'r, R>(row: &'r R) -> StoreResult<Account>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Account {
        id: get(row, "id")?,
        name: get(row, "name")?,
        signing_secret: get(row, "signing_secret")?,
        price_per_part_micros: get(row, "price_per_part_micros")?,
        balance_micros: get(row, "balance_micros")?,
        created_at: get(row, "created_at")?,
    })
}

pub fn view_from_row<'r, R>(row: &'r R) -> StoreResult<MessageView>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut state: String = get(row, "state")?;
    // A message its connector is sending right now is still queued as far as anyone can see.
    if state == "sending" {
        state = "queued".to_owned();
    }
    let parts: i64 = get(row, "parts")?;
    Ok(MessageView {
        id: get(row, "id")?,
        recipient: get(row, "recipient")?,
        sender: get(row, "sender")?,
        text: get(row, "text")?,
        encoding: get(row, "encoding")?,
        parts: u32::try_from(parts).map_err(|_| StoreError::Corrupt(format!("parts {parts}")))?,
        price_micros: get(row, "price_micros")?,
        label: get(row, "label")?,
        foreign_id: get(row, "foreign_id")?,
        created_at: get(row, "created_at")?,
        send_at: get(row, "send_at")?,
        state: InternalState::from_str(&state)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?,
        status: status_from_column(get(row, "status")?)?,
        status_at: get(row, "status_at")?,
        error_code: get(row, "error_code")?,
    })
}

/// `id, status, status_at` of a message, as `/api/status` reports it.
pub fn status_view_from_row<'r, R>(row: &'r R) -> StoreResult<StatusView>
where
    R: Row,
    &'r str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(StatusView {
        id: get(row, "id")?,
        status: status_from_column(get(row, "status")?)?,
        status_at: get(row, "status_at")?,
    })
}

pub fn status_from_column(value: Option<String>) -> StoreResult<Option<DeliveryStatus>> {
    value
        .map(|text| {
            DeliveryStatus::from_str(&text).map_err(|error| StoreError::Corrupt(error.to_string()))
        })
        .transpose()
}
