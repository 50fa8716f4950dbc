//! The PostgreSQL backend: the same contract as `SqliteStore` on a server several dlrgate nodes
//! can share later. One pool of connections; every method is one transaction.
//!
//! What differs from SQLite, and why:
//! - Writers run concurrently, so whatever reads a row to decide how to change it locks it first
//!   (`FOR UPDATE`, in id order, so two transactions cannot deadlock on the same rows), and work
//!   is claimed with `FOR UPDATE SKIP LOCKED` (due messages, webhook deliveries, scheduled
//!   reports, purge batches), so two claims never take the same row and never wait on each other.
//! - The outbox's fast path cannot follow the delivery id (ids are not committed in order); it
//!   reads a `pushed` mark instead (`outbox.rs`).
//! - A transaction PostgreSQL aborts as a deadlock or serialization failure is run again, a few
//!   times, before the error reaches the caller ([`retrying`]): nothing of it was committed.
//! - Lists are bound as arrays (`= ANY($1)`, `UNNEST`), not as one placeholder per value.
//! - Several nodes may share the database. Each `PgStore` is one node with its own id: the
//!   leases of webhook deliveries and the claims of messages name their owner and end after
//!   `lease_timeout` unless the owner renews them; a node reads only the deliveries pushed to
//!   it, hands back only its own leases, and takes over the claims of a node that stopped
//!   renewing. Every connection carries the node id and the lease length as session settings
//!   (`dlrgate.node`, `dlrgate.lease_ms`), so SQL anywhere can stamp what it leases.

mod accounts;
mod attempts;
mod backlog;
mod dashboard;
mod engine;
mod hooks;
mod messages;
mod nodes;
mod operators;
mod outbox;
mod overview;
mod reports;
mod rows;
mod store_impl;

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::StoreError;

/// How the pool connects; `store.max_connections` and `store.acquire_timeout` in the settings.
#[derive(Debug, Clone, Copy)]
pub struct PgPoolSettings {
    pub max_connections: u32,
    /// How long a method waits for a free connection before the store is `Unavailable`.
    pub acquire_timeout: Duration,
    /// How long a lease or claim of this node outlives its last renewal (`store.lease_timeout`):
    /// when a node dies, others take over its work after this long.
    pub lease_timeout: Duration,
}

impl Default for PgPoolSettings {
    fn default() -> Self {
        PgPoolSettings {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            lease_timeout: Duration::from_secs(30),
        }
    }
}

pub struct PgStore {
    pool: PgPool,
    /// This node's id, unique per process (128 random bits): what its leases and claims are stamped with.
    node: String,
}

/// Maps sqlx errors into the store's vocabulary.
pub(crate) fn map_err(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // Connection exceptions, the server shutting down or starting, too many connections.
        sqlx::Error::Database(db)
            if db.code().is_some_and(|code| {
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
            }) =>
        {
            StoreError::Unavailable(error)
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(error),
        _ => StoreError::Other(error),
    }
}

/// Whether PostgreSQL aborted the transaction only because of a concurrent one (deadlock,
/// serialization failure): running it again is safe, nothing of it was committed.
fn is_transient(error: &StoreError) -> bool {
    matches!(error, StoreError::Other(sqlx::Error::Database(db))
        if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// Runs `transaction` until it commits or fails for another reason than a concurrent
/// transaction; after a few aborted tries the last error is returned.
pub(crate) async fn retrying<T, F, Fut>(mut transaction: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    const TRIES: u32 = 5;
    let mut tries = 0;
    loop {
        tries += 1;
        match transaction().await {
            Err(error) if tries < TRIES && is_transient(&error) => {
                tracing::debug!(
                    ?error,
                    tries,
                    "transaction aborted by a concurrent one; again"
                );
                tokio::time::sleep(Duration::from_millis(u64::from(tries) * 5)).await;
            }
            result => return result,
        }
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`) and applies the migrations.
    pub async fn open(url: &str, settings: PgPoolSettings) -> Result<PgStore, StoreError> {
        let store = PgStore::connect(url, settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub async fn connect(url: &str, settings: PgPoolSettings) -> Result<PgStore, StoreError> {
        let node = format!("{:032x}", rand::random::<u128>());
        let lease_ms = i64::try_from(settings.lease_timeout.as_millis()).unwrap_or(i64::MAX);
        let options: PgConnectOptions = url.parse().map_err(map_err)?;
        let options = options.options([
            ("dlrgate.node", node.clone()),
            ("dlrgate.lease_ms", lease_ms.max(1).to_string()),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok(PgStore { pool, node })
    }

    /// This node's id, as its leases and claims name it.
    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// Applies the migrations not applied yet. sqlx holds an advisory lock meanwhile, so nodes
    /// starting together do not run them twice.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|error| StoreError::Other(error.into()))
    }

    /// Closes the pool, waiting for running statements.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
