//! The hot writes run on a thread of their own, on its own rusqlite connection (`hot`), and
//! those waiting together share one commit.
//!
//! Through sqlx every statement, and every row, crossed to sqlx's worker thread and back, and on
//! the server's runtime each wake-up also waited behind HTTP handlers and webhook sends: about
//! 11,000 thread switches a second under load, and ~400 commits a second from the intake, the
//! submitter, the report applier and the dispatcher each committing on its own (BENCHMARKS.md).
//! Here a write is a plain function call, and the writes waiting when a batch ends are run one
//! after another, each in a savepoint of one transaction, and answered after its commit: group
//! commit across all hot writes, as the intake already does for requests.
//!
//! A write that fails is rolled back to its savepoint and answered with its error at once; the
//! batch then commits what came before it, and the writes after it go into the next batch.
//! Nothing is answered before it is committed. The other writes (hooks, leases, retention) go
//! through sqlx's one writer connection; a batch holds that connection while it runs, so the two
//! never meet a locked database.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;

use rusqlite::{Connection, TransactionBehavior};
use sqlx::SqlitePool;
use tokio::runtime::Builder;
use tokio::sync::{mpsc, oneshot};

use crate::store::{StoreError, StoreResult, timed_write};

/// Most writes one commit covers, so an answer never waits behind an unbounded batch.
const MAX_BATCH: usize = 64;

/// Answers a write that went well, once its batch's commit has succeeded or failed (why).
type Answer = Box<dyn FnOnce(Result<(), &str>) + Send>;
/// A write waiting for the writer; `None` from it means it failed and was answered.
type Job = Box<dyn FnOnce(&Connection) -> Option<Answer> + Send>;

/// The write thread; it ends, after the batch it is running, when this is dropped.
pub struct WriteRuntime {
    jobs: mpsc::UnboundedSender<Job>,
}

impl WriteRuntime {
    /// Starts the thread, which writes through `direct` (its own connection,
    /// `hot::open_writer`) while it holds `writer`, the pool of sqlx's one writer connection.
    pub fn start(writer: SqlitePool, direct: Connection) -> StoreResult<WriteRuntime> {
        let io = |error| StoreError::Unavailable(sqlx::Error::Io(error));
        // Only for taking the sqlx connection: the writes themselves are synchronous.
        let runtime = Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io)?;
        let (jobs, waiting) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("dlrgate-sqlite-writes".to_owned())
            .spawn(move || runtime.block_on(write_loop(writer, direct, waiting)))
            .map_err(io)?;
        Ok(WriteRuntime { jobs })
    }

    /// Runs `write` on the write thread, in a savepoint, and answers after the commit that made
    /// it durable; `op` names it in the metrics. It runs to its end even when the caller stops
    /// waiting, so a write is never cut in half by a client that went away.
    pub async fn run<T, F>(&self, op: &'static str, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| settle(write(conn), answer));
        let closed = || StoreError::Unavailable(sqlx::Error::PoolClosed);
        timed_write(op, async {
            self.jobs.send(job).map_err(|_| closed())?;
            answered.await.map_err(|_| closed())?
        })
        .await
    }
}

/// A write's result: an error is answered at once (its savepoint is rolled back), a value once
/// the batch has committed.
fn settle<T: Send + 'static>(
    result: StoreResult<T>,
    answer: oneshot::Sender<StoreResult<T>>,
) -> Option<Answer> {
    match result {
        Ok(value) => Some(Box::new(move |committed: Result<(), &str>| {
            let _ = answer.send(committed.map(|()| value).map_err(commit_failed));
        })),
        Err(error) => {
            let _ = answer.send(Err(error));
            None
        }
    }
}

fn commit_failed(error: &str) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Protocol(format!("commit failed: {error}")))
}

/// Takes what is waiting, up to `MAX_BATCH`, runs it as one transaction, and again, until the
/// store is dropped.
async fn write_loop(
    writer: SqlitePool,
    mut conn: Connection,
    mut jobs: mpsc::UnboundedReceiver<Job>,
) {
    let mut waiting = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match jobs.recv().await {
                Some(job) => waiting.push_back(job),
                None => return,
            }
        }
        while waiting.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => break,
            }
        }
        let ran = match writer.acquire().await {
            // Holding sqlx's writer connection keeps the other writes out for the batch: they
            // queue for the pool rather than meet a locked database and sleep in SQLite's busy
            // handler.
            Ok(_sqlx_writer) => run_batch(&mut conn, &mut waiting),
            Err(error) => {
                // Dropping the writes answers them "unavailable".
                tracing::error!(%error, writes = waiting.len(), "the writer is gone");
                waiting.clear();
                0
            }
        };
        metrics::histogram!("dlrgate_store_commit_writes").record(ran as f64);
    }
}

/// Runs the writes at the front of `waiting` in one transaction until one fails, and answers
/// them after its commit; returns how many it committed. Writes it could not start are dropped,
/// which answers them "unavailable".
fn run_batch(conn: &mut Connection, waiting: &mut VecDeque<Job>) -> usize {
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => {
            tracing::error!(%error, writes = waiting.len(), "cannot begin a write transaction");
            waiting.clear();
            return 0;
        }
    };
    let mut answers = Vec::with_capacity(waiting.len());
    while answers.len() < MAX_BATCH {
        let Some(job) = waiting.pop_front() else {
            break;
        };
        let savepoint = match tx.savepoint() {
            Ok(savepoint) => savepoint,
            Err(error) => {
                tracing::error!(%error, "cannot open a savepoint");
                break;
            }
        };
        // A savepoint dropped without `commit` is rolled back.
        match std::panic::catch_unwind(AssertUnwindSafe(|| job(&savepoint))) {
            Ok(Some(answer)) => match savepoint.commit() {
                Ok(()) => answers.push(answer),
                Err(error) => {
                    answer(Err(&error.to_string()));
                    break;
                }
            },
            Ok(None) => break,
            Err(_) => {
                // Its caller, whose answer was dropped, hears "unavailable".
                tracing::error!("a store write panicked");
                break;
            }
        }
    }
    let committed = tx.commit().map_err(|error| error.to_string());
    if let Err(error) = &committed {
        tracing::error!(%error, writes = answers.len(), "a write transaction did not commit");
    }
    let ran = answers.len();
    for answer in answers {
        answer(committed.as_ref().map(|_| ()).map_err(String::as_str));
    }
    ran
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

    use super::*;

    /// A store file with a table `t (x UNIQUE)`, the write thread on it, and a reader.
    async fn start() -> (tempfile::TempDir, WriteRuntime, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)")
            .execute(&writer)
            .await
            .unwrap();
        let direct = Connection::open(&path).unwrap();
        let reader = Connection::open(&path).unwrap();
        (dir, WriteRuntime::start(writer, direct).unwrap(), reader)
    }

    fn insert(x: i64) -> impl FnOnce(&Connection) -> StoreResult<i64> + Send + 'static {
        move |conn| {
            conn.execute("INSERT INTO t (x) VALUES (?1)", [x])
                .map_err(super::super::hot::map_err)?;
            Ok(x)
        }
    }

    fn stored(reader: &Connection) -> Vec<i64> {
        let mut select = reader.prepare("SELECT x FROM t ORDER BY x").unwrap();
        let rows = select.query_map([], |row| row.get(0)).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    #[tokio::test]
    async fn writes_queued_together_commit_together_and_a_failed_one_leaves_no_trace() {
        // Arrange: the first write holds the thread while the others queue behind it, so they
        // share the next batch; the third inserts a row and then fails.
        let (_dir, writes, reader) = start().await;
        let slow = writes.run("slow", |conn| {
            std::thread::sleep(Duration::from_millis(200));
            insert(1)(conn)
        });
        let failing = |conn: &Connection| -> StoreResult<i64> {
            insert(3)(conn)?;
            Err(StoreError::Corrupt(
                "this write fails after its insert".into(),
            ))
        };

        // Act
        let (slow, second, third, fourth, duplicate) = tokio::join!(
            slow,
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                writes.run("second", insert(2)).await
            },
            async {
                tokio::time::sleep(Duration::from_millis(60)).await;
                writes.run("third", failing).await
            },
            async {
                tokio::time::sleep(Duration::from_millis(70)).await;
                writes.run("fourth", insert(4)).await
            },
            async {
                tokio::time::sleep(Duration::from_millis(80)).await;
                writes.run("duplicate", insert(2)).await
            },
        );

        // Assert: every write that succeeded is stored; the failed one's insert is rolled back
        // and the writes after it still committed; a unique violation is a conflict.
        assert_eq!(slow.unwrap(), 1);
        assert_eq!(second.unwrap(), 2);
        assert!(matches!(third, Err(StoreError::Corrupt(_))), "{third:?}");
        assert_eq!(fourth.unwrap(), 4);
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{duplicate:?}"
        );
        assert_eq!(stored(&reader), vec![1, 2, 4]);
    }

    #[tokio::test]
    async fn a_write_that_panics_is_answered_unavailable_and_the_thread_goes_on() {
        let (_dir, writes, reader) = start().await;

        let panicked = writes
            .run("panics", |conn: &Connection| -> StoreResult<()> {
                insert(7)(conn)?;
                panic!("a bug in a write");
            })
            .await;
        let after = writes.run("after", insert(8)).await;

        assert!(
            matches!(panicked, Err(StoreError::Unavailable(_))),
            "{panicked:?}"
        );
        assert_eq!(after.unwrap(), 8);
        assert_eq!(stored(&reader), vec![8]);
    }
}
