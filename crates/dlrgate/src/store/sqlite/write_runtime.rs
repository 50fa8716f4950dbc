//! The hot write transactions run on a runtime of their own, one thread that does nothing else.
//! A transaction through sqlx is a conversation: every statement goes to sqlx's worker thread and
//! its answer wakes the task again. On the server's runtime each wake-up waited behind HTTP
//! handlers and webhook sends, so a transaction of a few statements held the one writer for about
//! 3 ms while SQLite worked a fraction of that (`dlrgate_store_write_seconds`, BENCHMARKS.md);
//! every other write, the intake's included, queued behind it.

use std::future::Future;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

use crate::store::{StoreError, StoreResult, timed_write};

/// A current-thread runtime on its own thread; it stops when this is dropped.
pub struct WriteRuntime {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl WriteRuntime {
    pub fn start() -> StoreResult<WriteRuntime> {
        let io = |error| StoreError::Unavailable(sqlx::Error::Io(error));
        let runtime = Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io)?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("dlrgate-sqlite-writes".to_owned())
            .spawn(move || {
                // Runs the spawned transactions until the store goes away; those still running
                // then are dropped with the runtime, which rolls them back.
                let _ = runtime.block_on(stopped);
            })
            .map_err(io)?;
        Ok(WriteRuntime {
            handle,
            _stop: stop,
        })
    }

    /// Runs `write` (one transaction, `op` names it in the metrics) on the write thread. It runs
    /// to its end even when the caller stops waiting, so a transaction is never cut in half by a
    /// client that went away.
    pub async fn run<T, F>(&self, op: &'static str, write: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Future<Output = StoreResult<T>> + Send + 'static,
    {
        match self.handle.spawn(timed_write(op, write)).await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolClosed)),
        }
    }
}
