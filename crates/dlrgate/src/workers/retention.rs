//! The retention purge: deletes messages and their history once they are older than the retention
//! period, in bounded batches with a pause between them, so it never stalls traffic.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::now_millis;
use crate::store::{Store, StoreError};

pub struct Retention {
    pub store: Arc<dyn Store>,
    pub period: Duration,
    pub interval: Duration,
    pub batch_size: u32,
}

impl Retention {
    pub async fn run(self, shutdown: CancellationToken) {
        super::every(self.interval, &shutdown, || async {
            if let Err(error) = self.purge_all(&shutdown).await {
                tracing::error!(?error, "retention purge failed; trying again later");
            }
        })
        .await;
    }

    /// Purges everything past the period, one batch per transaction. Returns how many messages.
    pub async fn purge_all(&self, shutdown: &CancellationToken) -> Result<u64, StoreError> {
        let period = i64::try_from(self.period.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_millis().saturating_sub(period);
        let mut total = 0;
        while !shutdown.is_cancelled() {
            let purged = self.store.purge(cutoff, self.batch_size).await?;
            total += purged;
            metrics::counter!("dlrgate_retention_purged_messages_total").increment(purged);
            if purged < u64::from(self.batch_size) {
                break;
            }
            // Let the writer serve traffic between batches.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if total > 0 {
            tracing::info!(
                messages = total,
                "purged messages past the retention period"
            );
        }
        Ok(total)
    }
}
