//! The per-hook backlog limit (`limits.pending_deliveries_per_hook`): every check interval, hooks
//! whose pending deliveries reached the limit are marked full and get no new deliveries, so one
//! tenant's dead receiver cannot fill the store; below 90 % of the limit they get new ones again.
//! The statuses in between stay readable through `/api/status` and the logbook.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

pub struct BacklogLimit {
    pub store: Arc<dyn Store>,
    /// Pending deliveries that make a hook full.
    pub limit: u32,
    pub interval: Duration,
}

impl BacklogLimit {
    /// The backlog a full hook must fall below to get new deliveries again.
    pub fn resume_below(&self) -> u32 {
        (u64::from(self.limit) * 9 / 10).max(1) as u32
    }

    pub async fn run(self, shutdown: CancellationToken) {
        super::every(self.interval, &shutdown, || self.check()).await;
    }

    async fn check(&self) {
        match self
            .store
            .check_backlogs(self.limit, self.resume_below())
            .await
        {
            Ok(changes) => {
                for hook in &changes.filled {
                    tracing::warn!(
                        hook,
                        limit = self.limit,
                        "hook backlog full: no new deliveries until it drains"
                    );
                }
                for hook in &changes.resumed {
                    tracing::info!(hook, "hook backlog drained: new deliveries again");
                }
                let filled = changes.filled.len() as u64;
                metrics::counter!("dlrgate_hook_backlog_full_total").increment(filled);
            }
            Err(error) => tracing::error!(?error, "backlog check failed; trying again later"),
        }
    }
}
