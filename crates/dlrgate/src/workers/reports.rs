//! The report applier: applies the sandbox operator's scheduled reports when they fall due, in
//! batches, through the same status engine and store call as any operator receipt. It sleeps
//! until the next report is due (at most one tick) so reports land within milliseconds.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{count_changes, now_millis, pause};
use crate::store::Store;

pub struct ReportApplier {
    pub store: Arc<dyn Store>,
    pub tick: Duration,
    pub batch_size: u32,
    pub wake: Arc<Notify>,
    /// Woken here when status changes wrote webhook deliveries.
    pub deliveries: Arc<Notify>,
}

impl ReportApplier {
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let wait = match self.step().await {
                Ok(_) => self.until_next_due().await,
                Err(error) => {
                    tracing::error!(?error, "applying due reports failed; retrying");
                    self.tick
                }
            };
            if wait.is_zero() && !shutdown.is_cancelled() {
                continue;
            }
            if !pause(wait, &self.wake, &shutdown).await {
                return;
            }
        }
    }

    /// Applies one batch of due reports; returns how many message statuses changed.
    pub async fn step(&self) -> Result<usize, crate::store::StoreError> {
        let changes = self
            .store
            .apply_due_reports(now_millis(), self.batch_size)
            .await?;
        count_changes(&changes);
        if !changes.is_empty() {
            self.deliveries.notify_one();
        }
        Ok(changes.len())
    }

    async fn until_next_due(&self) -> Duration {
        match self.store.next_report_due().await {
            Ok(Some(due)) => {
                let millis = u64::try_from(due - now_millis()).unwrap_or(0);
                Duration::from_millis(millis).min(self.tick)
            }
            _ => self.tick,
        }
    }
}
