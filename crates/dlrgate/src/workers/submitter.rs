//! The submitter: one loop per connector claims that connector's queued messages whose send time
//! has come (they leave the queue, so a cancel no longer reaches them), hands them to its
//! [`Operator`] many at a time, and stores each outcome as it comes, grouped into short
//! transactions: what was handed over is recorded within milliseconds, not when the slowest
//! message of the batch is done. Messages not sent go back to the queue; messages given up on go
//! to the fallback connector or become FAILED.
//!
//! A store failure while recording is retried, never dropped: dropping would put messages the
//! operator already has back in the queue. Messages still claimed when the process died are
//! found at start: sent again when nothing can have left the process (the sandbox), otherwise
//! UNKNOWN with error code `in-doubt` (docs/adr/0005). With several nodes, the claims of a node
//! that died are taken over the same way once they run out (`store.lease_timeout`); the live
//! node keeps its own renewed ([`super::leases::NodeKeeper`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{count_changes, now_millis, pause};
use crate::domain::status::DeliveryStatus;
use crate::operators::{Operator, Outcome};
use crate::store::{DueMessage, Receipt, SettledClaims, Store, StoreError, Submission};

/// Outcomes that arrive within this long of each other are stored in one transaction.
const GROUP_WINDOW: Duration = Duration::from_millis(2);
/// Most outcomes stored in one transaction.
const GROUP_MAX: usize = 512;
/// How long a failing store is retried before the outcomes are left for the next start.
const SETTLE_PATIENCE: Duration = Duration::from_secs(60);

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
    /// How long a claim lasts unrenewed: claims of dead nodes are looked for every half of it.
    pub lease: Duration,
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
        if let Err(error) = self.recover().await {
            tracing::error!(?error, connector = %self.connector, "recovering claimed messages failed");
        }
        let mut next_take_over = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_take_over {
                next_take_over = tokio::time::Instant::now() + self.lease / 2;
                if let Err(error) = self.take_over().await {
                    tracing::error!(?error, connector = %self.connector, "taking over the claims of a stopped node failed");
                }
            }
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

    /// Settles messages a previous process claimed and never settled.
    async fn recover(&self) -> Result<(), StoreError> {
        let claimed = self.store.claimed(&self.connector).await?;
        self.settle_orphans(claimed).await;
        Ok(())
    }

    /// Settles messages another node claimed and stopped renewing: it died while sending them.
    async fn take_over(&self) -> Result<(), StoreError> {
        let orphans = self.store.take_over_claims(&self.connector).await?;
        if !orphans.is_empty() {
            tracing::warn!(connector = %self.connector, count = orphans.len(),
                "took over the messages of a node that stopped while sending them");
        }
        self.settle_orphans(orphans).await;
        Ok(())
    }

    /// Settles claimed messages whose sender died: sent again if nothing can have left it.
    async fn settle_orphans(&self, claimed: Vec<DueMessage>) {
        if claimed.is_empty() {
            return;
        }
        let mut settled = SettledClaims::default();
        if self.operator.resend_after_crash() {
            settled.release = claimed.iter().map(|m| m.id).collect();
        } else {
            tracing::warn!(connector = %self.connector, count = claimed.len(),
                "messages were being sent when the last process died; they are in doubt (UNKNOWN) and not sent again");
            let now = now_millis();
            settled.submissions = claimed
                .iter()
                .map(|m| self.all_parts(m, now, DeliveryStatus::Unknown, "in-doubt"))
                .collect();
        }
        self.settle(settled).await;
    }

    async fn step(&self) -> Result<Step, StoreError> {
        let now = now_millis();
        let claimed = self
            .store
            .claim_due(&self.connector, now, self.batch_size)
            .await?;
        if claimed.is_empty() {
            return Ok(Step::Idle);
        }
        let full = claimed.len() as u32 >= self.batch_size;
        let operator = self.operator.clone();
        let mut outcomes = futures_util::stream::iter(claimed)
            .map(|message| {
                let operator = operator.clone();
                async move {
                    let outcome = operator.submit(&message, now).await;
                    (message, outcome)
                }
            })
            .buffer_unordered(self.operator.concurrency().max(1));
        let mut retry_after: Option<Duration> = None;
        let mut group = Vec::new();
        loop {
            let next = if group.is_empty() {
                outcomes.next().await
            } else {
                match tokio::time::timeout(GROUP_WINDOW, outcomes.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.settle_outcomes(std::mem::take(&mut group), now, &mut retry_after)
                            .await;
                        continue;
                    }
                }
            };
            let Some(outcome) = next else { break };
            group.push(outcome);
            if group.len() >= GROUP_MAX {
                self.settle_outcomes(std::mem::take(&mut group), now, &mut retry_after)
                    .await;
            }
        }
        self.settle_outcomes(group, now, &mut retry_after).await;
        Ok(match retry_after {
            Some(wait) => Step::Wait(wait),
            None if full => Step::More,
            None => Step::Idle,
        })
    }

    async fn settle_outcomes(
        &self,
        outcomes: Vec<(DueMessage, Outcome)>,
        now: i64,
        retry_after: &mut Option<Duration>,
    ) {
        if outcomes.is_empty() {
            return;
        }
        let fallback = self.operator.fallback().map(str::to_owned);
        let mut settled = SettledClaims {
            fallback: fallback.clone(),
            ..SettledClaims::default()
        };
        for (message, outcome) in outcomes {
            match outcome {
                Outcome::Submitted(submission) => settled.submissions.push(submission),
                Outcome::NotSent(wait) => {
                    settled.release.push(message.id);
                    *retry_after = Some(retry_after.map_or(wait, |w| w.min(wait)));
                }
                Outcome::GaveUp(_) if fallback.is_some() => settled.reroute.push(message.id),
                Outcome::GaveUp(reason) => settled.submissions.push(self.all_parts(
                    &message,
                    now,
                    DeliveryStatus::Failed,
                    &reason,
                )),
            }
        }
        if !settled.reroute.is_empty() {
            tracing::warn!(connector = %self.connector, fallback = ?fallback, count = settled.reroute.len(),
                "route down: messages moved to the fallback connector");
        }
        let count = settled.submissions.len() as u64;
        self.settle(settled).await;
        metrics::counter!("dlrgate_messages_submitted_total", "connector" => self.connector.clone())
            .increment(count);
    }

    /// Stores `settled`, retrying a failing store for a while; what still fails stays claimed
    /// and is settled by `recover` at the next start.
    async fn settle(&self, settled: SettledClaims) {
        let started = tokio::time::Instant::now();
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.store.settle_claims(&settled).await {
                Ok(changes) => {
                    count_changes(&changes);
                    if !changes.is_empty() {
                        self.deliveries.notify_one();
                    }
                    self.reports.notify_one();
                    return;
                }
                Err(error) if started.elapsed() < SETTLE_PATIENCE => {
                    tracing::error!(?error, connector = %self.connector, "storing submit outcomes failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(error) => {
                    tracing::error!(?error, connector = %self.connector,
                        "storing submit outcomes failed for too long; they are settled at the next start");
                    return;
                }
            }
        }
    }

    /// A submission giving every part of `message` the same status.
    fn all_parts(
        &self,
        message: &DueMessage,
        now: i64,
        status: DeliveryStatus,
        error_code: &str,
    ) -> Submission {
        let immediate = (1..=message.parts.max(1))
            .map(|part| Receipt {
                message_id: message.id,
                part,
                status,
                at: now,
                source: self.connector.clone(),
                error_code: Some(error_code.to_owned()),
                raw: None,
            })
            .collect();
        Submission {
            message_id: message.id,
            connector: self.connector.clone(),
            at: now,
            immediate,
            scheduled: Vec::new(),
            operator_ids: Vec::new(),
        }
    }
}
