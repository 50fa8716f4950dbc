//! SQL helpers of the SQLite backend; row conversions are shared (`store::rows`).

pub use crate::store::rows::{VIEW_COLUMNS, account_from_row, status_from_column, view_from_row};

/// Marks SQL built at run time as audited: dlrgate only ever formats its own constant column
/// lists, table names and `?` placeholders into SQL, never a value (values are always bound).
pub fn audited(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

/// `?, ?, ?` with `count` placeholders, for `IN (…)` lists.
pub fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}
