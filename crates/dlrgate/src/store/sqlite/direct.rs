//! The hottest reads, without sqlx: a few threads, each owning one read-only rusqlite connection,
//! run a whole query per job and hand back the decoded rows at once. sqlx's SQLite driver crosses
//! to its worker thread for every statement and streams every row back over a channel, which
//! cost more than SQLite itself for `/api/status` with 100 ids (BENCHMARKS.md). No crate runs
//! rusqlite on dedicated threads for the libsqlite3-sys that sqlx links (tokio-rusqlite pins
//! another one, and only one may be linked), hence this small pool.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::READER_CACHE_KIB;
use super::rows::status_from_column;
use crate::store::*;

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// Read-only connections on their own threads; jobs go to whichever is free.
pub struct DirectReaders {
    jobs: flume::Sender<Job>,
}

impl DirectReaders {
    /// Opens `count` read-only connections to `path` (which must exist, migrated).
    pub fn open(path: &Path, count: usize) -> StoreResult<DirectReaders> {
        let (jobs, queue) = flume::unbounded::<Job>();
        for index in 0..count {
            let connection = open_reader(path).map_err(unavailable)?;
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("dlrgate-sqlite-reader-{index}"))
                .spawn(move || {
                    // Ends when the store, and with it the last sender, is dropped.
                    while let Ok(job) = queue.recv() {
                        job(&connection);
                    }
                })
                .map_err(|error| StoreError::Unavailable(sqlx::Error::Io(error)))?;
        }
        Ok(DirectReaders { jobs })
    }

    /// Runs `query` on a free connection and returns its answer.
    pub async fn run<T, F>(&self, query: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let _ = answer.send(query(connection));
        });
        let gone = || StoreError::Unavailable(sqlx::Error::PoolClosed);
        self.jobs.send(job).map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }

    /// Statuses of the messages of `account` among `ids` sent at or after `since`
    /// (`Store::statuses`).
    pub async fn statuses(
        &self,
        account: AccountId,
        ids: &[MessageId],
        since: i64,
    ) -> StoreResult<Vec<StatusView>> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        self.run(move |connection| {
            // One rowid lookup per id: cheaper than `IN (…)`, which the planner answers through
            // the (account_id, id) index and then the table.
            let mut statement = connection
                .prepare_cached(
                    "SELECT status, status_at FROM messages
                     WHERE id = ?1 AND account_id = ?2 AND send_at >= ?3 AND state != 'cancelled'",
                )
                .map_err(other)?;
            // One read transaction for all lookups: each autocommit statement would take and
            // release the shared lock, and the readers contend for SQLite's process-wide mutex.
            let read = connection.unchecked_transaction().map_err(other)?;
            let mut views = Vec::with_capacity(ids.len());
            for id in ids {
                let found = statement
                    .query_row(params![id, account, since], |row| {
                        Ok((row.get::<_, Option<String>>(0)?, row.get(1)?))
                    })
                    .optional()
                    .map_err(other)?;
                if let Some((status, status_at)) = found {
                    let status = status_from_column(status)?;
                    views.push(StatusView {
                        id,
                        status,
                        status_at,
                    });
                }
            }
            read.commit().map_err(other)?;
            Ok(views)
        })
        .await
    }

    /// The account an unrevoked key belongs to (`Store::account_by_key_hash`).
    pub async fn account_by_key_hash(&self, key_hash: &[u8]) -> StoreResult<Option<Account>> {
        let key_hash = key_hash.to_vec();
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT a.id, a.name, a.signing_secret, a.price_per_part_micros,
                            a.balance_micros, a.created_at
                     FROM api_keys k JOIN accounts a ON a.id = k.account_id
                     WHERE k.key_hash = ?1 AND k.revoked_at IS NULL",
                )
                .map_err(other)?;
            statement
                .query_row([key_hash], |row| {
                    Ok(Account {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        signing_secret: row.get(2)?,
                        price_per_part_micros: row.get(3)?,
                        balance_micros: row.get(4)?,
                        created_at: row.get(5)?,
                    })
                })
                .optional()
                .map_err(other)
        })
        .await
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
    connection.set_prepared_statement_cache_capacity(16);
    Ok(connection)
}

fn other(error: rusqlite::Error) -> StoreError {
    StoreError::Other(sqlx::Error::Protocol(format!("sqlite: {error}")))
}

fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Protocol(format!("sqlite: {error}")))
}
