//! SQL helpers of the PostgreSQL backend; row conversions are shared (`store::rows`).

use crate::store::{StoreError, StoreResult};

pub use crate::store::rows::{
    VIEW_COLUMNS, account_from_row, status_from_column, status_view_from_row, view_from_row,
};

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
