//! The submitter: one loop per connector takes that connector's queued messages whose send time
//! has come, in batches, hands them to its [`Operator`] and stores the answer (reports known at
//! once, planned reports, operator ids) in one transaction. Messages the operator could not take
//! stay queued; the loop waits as the operator asks before it tries them again.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{count_changes, now_millis, pause};
use crate::operators::Operator;
use crate::store::{Store, StoreError};

pub struct Submitter {
    pub store: Arc<dyn Store>,
    pub connector: String,
    pub operator: Arc<dyn Operator>,
    pub tick: Duration,
    pub batch_size: u32,
    /// Woken by the intake when new messages are stored.
    pub wake: Arc<Notify>,
    /// Woken here when new reports are scheduled.
    pub reports: Arc<Notify>,
    /// Woken here when status changes wrote webhook deliveries.
    pub deliveries: Arc<Notify>,
}

/// What one step did.
enum Step {
    /// A full batch went out: go on at once.
    More,
    Idle,
    Wait(Duration),
}

impl Submitter {
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let wait = match self.step().await {
                Ok(Step::More) => continue,
                Ok(Step::Idle) => self.tick,
                Ok(Step::Wait(wait)) => wait,
                Err(error) => {
                    tracing::error!(?error, connector = %self.connector, "submitting due messages failed; retrying");
                    self.tick
                }
            };
            if !pause(wait, &self.wake, &shutdown).await {
                return;
            }
        }
    }

    async fn step(&self) -> Result<Step, StoreError> {
        let now = now_millis();
        let due = self
            .store
            .due_messages(&self.connector, now, self.batch_size)
            .await?;
        if due.is_empty() {
            return Ok(Step::Idle);
        }
        let full = due.len() as u32 >= self.batch_size;
        let submitted = self.operator.submit(due, now).await;
        let count = submitted.submissions.len();
        let changes = self.store.record_submissions(submitted.submissions).await?;
        count_changes(&changes);
        if !changes.is_empty() {
            self.deliveries.notify_one();
        }
        metrics::counter!("dlrgate_messages_submitted_total", "connector" => self.connector.clone())
            .increment(count as u64);
        self.reports.notify_one();
        if let Some(fallback) = self
            .operator
            .fallback()
            .filter(|_| !submitted.reroute.is_empty())
        {
            let moved = self.store.reroute(&submitted.reroute, fallback).await?;
            tracing::warn!(connector = %self.connector, fallback, moved, "route down: messages moved to the fallback connector");
        }
        Ok(match submitted.retry_after {
            Some(wait) => Step::Wait(wait),
            None if full => Step::More,
            None => Step::Idle,
        })
    }
}
