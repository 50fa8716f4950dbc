//! The node keeper: every third of `store.lease_timeout` it records that this node lives (the
//! heartbeat, which also counts the nodes sharing the store) and renews the claims of the
//! messages this node is sending, so other nodes leave them alone while it lives and take them
//! over soon after it dies. The count of live nodes is shared with the dispatcher, which takes
//! that share of each hook's concurrency. The dispatcher renews its webhook leases itself (it
//! knows what it holds). Started only on PostgreSQL: on SQLite there is one node.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

pub struct NodeKeeper {
    pub store: Arc<dyn Store>,
    pub lease: Duration,
    /// How many nodes share the store, as the last heartbeat counted them.
    pub nodes: Arc<AtomicU32>,
}

impl NodeKeeper {
    pub async fn run(self, shutdown: CancellationToken) {
        super::every(self.lease / 3, &shutdown, || self.keep()).await;
    }

    async fn keep(&self) {
        match self.store.heartbeat().await {
            Ok(nodes) => {
                self.nodes.store(nodes, Ordering::Relaxed);
                metrics::gauge!("dlrgate_nodes").set(f64::from(nodes));
            }
            Err(error) => tracing::error!(?error, "node heartbeat failed; retrying"),
        }
        if let Err(error) = self.store.renew_claims().await {
            tracing::error!(
                ?error,
                "renewing this node's message claims failed; retrying"
            );
        }
    }
}
