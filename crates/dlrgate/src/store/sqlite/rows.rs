//! SQL helpers of the SQLite backend; row conversions are shared (`store::rows`).
use super::map_err;
use crate::store::StoreResult;

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

/// A query whose arguments are being bound.
pub type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// Inserts `rows` with one multi-row statement per chunk: `head` is `INSERT INTO t (cols)`,
/// `row` the placeholder tuple of one row (constants allowed), `bind` binds one row's values.
pub async fn insert_many<T>(
    conn: &mut sqlx::SqliteConnection,
    head: &str,
    row: &str,
    rows: &[T],
    bind: impl for<'q> Fn(SqliteQuery<'q>, &T) -> SqliteQuery<'q>,
) -> StoreResult<()> {
    for chunk in rows.chunks(100) {
        let sql = format!("{head} VALUES {}", vec![row; chunk.len()].join(", "));
        let mut query = sqlx::query(audited(sql));
        for item in chunk {
            query = bind(query, item);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
    }
    Ok(())
}
