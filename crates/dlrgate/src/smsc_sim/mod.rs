//! `dlrgate smsc-sim`: an SMSC simulator, an SMPP 3.4 server built on `crates/smpp` that users run
//! to try their dlrgate setup and that tests and benchmarks start in-process.
//!
//! It accepts binds with a credential check, answers `submit_sm` with fresh ids and sends delivery
//! receipts whose outcome and timing follow the sandbox's last-digit rule, and on request it
//! misbehaves the way real SMSCs do (smpp.md §4, §7.2). It must not use anything of dlrgate but the
//! pure `domain` rules: it stands in for an operator, so it shares no state with the gateway.
//!
//! # Layout
//! - [`config`]: [`SimConfig`] and its validation.
//! - `args`: the `smsc-sim` command line ([`SimArgs`]) and [`run`].
//! - `session`: one connection's read/write loop and its window of unanswered receipts.
//! - `requests`: the answer to each PDU (binds, `submit_sm`, pathologies).
//! - `receipt`: which receipts a message earns and the `deliver_sm` that carries one.
//! - `hub`: the one task that times receipts and routes them to receiver binds.
//! - `ids`, `stats`: message ids and counters.

mod args;
pub mod config;
mod hub;
mod ids;
mod receipt;
mod requests;
mod session;
mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use args::{SimArgs, run};
pub use config::{Credential, ReceiptIdFormat, SimConfig, SubmitIdFormat};
pub use requests::status;
pub use stats::SimStats;

use hub::{Hub, HubCommand};
use ids::IdSource;
use stats::Counters;

/// What every session of one simulator shares.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) counters: Arc<Counters>,
    pub(crate) hub: mpsc::UnboundedSender<HubCommand>,
    pub(crate) ids: IdSource,
    pub(crate) shutdown: CancellationToken,
}

/// A running simulator. Dropping it stops the simulator, as [`SimHandle::shutdown`] does.
#[derive(Debug)]
pub struct SimHandle {
    local_addr: SocketAddr,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl SimHandle {
    /// The address the simulator listens on (the real port when the config said port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The counters since start.
    pub fn stats(&self) -> SimStats {
        self.counters.snapshot()
    }

    /// A token that stops the simulator when cancelled (for example from a signal handler).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting connections, closes every session and waits for the listener and the hub.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }

    /// Waits until the simulator has been stopped through its token.
    pub async fn stopped(mut self) {
        self.shutdown.cancelled().await;
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Binds `config.listen` and starts serving in the background of the current tokio runtime.
pub async fn start(config: SimConfig) -> std::io::Result<SimHandle> {
    config.validate()?;
    let listener = TcpListener::bind(config.listen).await?;
    let local_addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let counters = Arc::new(Counters::default());
    let (hub_tx, hub_rx) = mpsc::unbounded_channel();
    let hub = Hub::new(
        config.duplicates,
        config.receipt_retry_delay,
        Arc::clone(&counters),
    );
    let shared = Arc::new(Shared {
        config,
        counters: Arc::clone(&counters),
        hub: hub_tx,
        ids: IdSource::new(),
        shutdown: shutdown.clone(),
    });
    let hub_task = tokio::spawn(hub.run(hub_rx, shutdown.clone()));
    let accept_task = tokio::spawn(accept(listener, shared));
    tracing::info!(%local_addr, "smsc-sim: listening");
    Ok(SimHandle {
        local_addr,
        counters,
        shutdown,
        tasks: vec![accept_task, hub_task],
    })
}

/// Accepts connections until shutdown; each gets one task for its whole life.
async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let next_session = AtomicU64::new(1);
    loop {
        let accepted = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let id = next_session.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%peer, session = id, "smsc-sim: connection accepted");
                let session = session::Session::new(id, Arc::clone(&shared));
                tokio::spawn(session.run(stream));
            }
            Err(error) => {
                // Out of file descriptors, usually; back off instead of spinning.
                tracing::warn!(%error, "smsc-sim: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
