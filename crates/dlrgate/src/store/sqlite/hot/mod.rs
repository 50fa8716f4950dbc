//! The hot writes without sqlx: plain functions on the write thread's own rusqlite connection,
//! each a whole write in one call (`write_runtime` wraps it in a savepoint of its batch). Through
//! sqlx every statement and every row crossed to sqlx's worker thread and back, about 11,000
//! thread switches a second under load (BENCHMARKS.md); here a write costs SQLite's work only.
//! Statements are prepared once and cached; rows go in one at a time, which a prepared
//! statement makes as cheap as the multi-row statements sqlx needed.

mod deliveries;
mod engine;
mod operators;
mod reports;
mod submit;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::WRITER_CACHE_KIB;
use crate::store::StoreError;

pub use deliveries::settle_and_claim;
pub use operators::{apply_operator_receipts, claim_due, settle_claims};
pub use reports::{apply_due, apply_receipts, record_submissions};
pub use submit::submit;

/// Opens the write thread's connection to the migrated store at `path`.
pub fn open_writer(path: &Path, synchronous_full: bool) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.pragma_update(None, "journal_mode", "wal")?;
    let synchronous = if synchronous_full { "full" } else { "normal" };
    connection.pragma_update(None, "synchronous", synchronous)?;
    connection.pragma_update(None, "foreign_keys", "on")?;
    connection.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// Maps rusqlite errors into the store's vocabulary, as `super::map_err` does sqlx's.
pub fn map_err(error: rusqlite::Error) -> StoreError {
    let text = || sqlx::Error::Protocol(format!("sqlite: {error}"));
    match &error {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(failure, message)
            if failure.code == ErrorCode::ConstraintViolation
                && matches!(failure.extended_code, 1555 | 2067) =>
        {
            StoreError::Conflict(message.clone().unwrap_or_else(|| error.to_string()))
        }
        rusqlite::Error::SqliteFailure(failure, _)
            if matches!(
                failure.code,
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::DiskFull
                    | ErrorCode::CannotOpen
            ) =>
        {
            StoreError::Unavailable(text())
        }
        _ => StoreError::Other(text()),
    }
}
