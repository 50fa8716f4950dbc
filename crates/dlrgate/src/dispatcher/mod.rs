//! The webhook dispatcher: claims due deliveries from the outbox with a lease, sends each
//! (signed) on its own task, and records every attempt with its fate, batching the records of a
//! cycle with the next claim in one transaction. Deliveries to one hook run
//! concurrently up to a limit (counted in the store, so it holds across restarts and nodes); a
//! slow hook only ever holds its own slots, so other hooks and accounts go on. The limit adapts
//! per hook (`domain::webhook::ConcurrencyPolicy`): it grows while the receiver answers fast and
//! halves when it fails or slows down.
//!
//! At-least-once: a delivery is marked delivered only after a 2xx. If dlrgate dies mid-attempt,
//! the delivery is sent again (same `webhook-id`): at the next start (SQLite), or when its lease
//! expires.

pub mod client;
pub mod payload;
pub mod signing;
pub mod ssrf;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::client::{Answer, Failure, WebhookClient};
use crate::domain::webhook::{ConcurrencyPolicy, RetryPolicy, Verdict, classify_status};
use crate::store::{AttemptRecord, ClaimRequest, DeliveryFate, DueDelivery, HookId, Store};
use crate::workers::now_millis;

pub struct Dispatcher {
    pub store: Arc<dyn Store>,
    pub client: Arc<WebhookClient>,
    pub policy: RetryPolicy,
    pub timeout: Duration,
    pub concurrency: ConcurrencyPolicy,
    /// Each hook's current limit; hooks not in it are at `concurrency.start()`.
    pub limits: std::sync::Mutex<HashMap<HookId, u32>>,
    pub batch_size: u32,
    pub tick: Duration,
    pub disable_after: Duration,
    /// Woken when status changes have written new deliveries.
    pub wake: Arc<Notify>,
}

impl Dispatcher {
    /// The dispatcher loop. Each cycle records every attempt that finished since the last one and
    /// claims what is due, in one store transaction, so the cost of a commit is shared by all
    /// attempts of a cycle. Attempts run on their own tasks and report back over a channel.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let in_flight = TaskTracker::new();
        let (done, mut finished_rx) = mpsc::unbounded_channel::<AttemptRecord>();
        let mut finished = Vec::new();
        while !shutdown.is_cancelled() {
            let claimed = self
                .cycle(std::mem::take(&mut finished), self.batch_size)
                .await;
            let full = claimed.len() >= self.batch_size as usize;
            for delivery in claimed {
                let (dispatcher, done) = (self.clone(), done.clone());
                in_flight.spawn(async move {
                    let _ = done.send(dispatcher.attempt(delivery).await);
                });
            }
            if !full {
                let wait = self.until_next_due().await;
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.wake.notified() => {}
                    Some(record) = finished_rx.recv() => finished.push(record),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
            while let Ok(record) = finished_rx.try_recv() {
                finished.push(record);
            }
        }
        // Attempts already on the wire finish (each is bounded by the timeout) and are recorded.
        in_flight.close();
        in_flight.wait().await;
        while let Ok(record) = finished_rx.try_recv() {
            finished.push(record);
        }
        self.cycle(finished, 0).await;
    }

    /// Records `finished` and claims up to `limit` due deliveries. If the store fails, the
    /// records are lost and their leases expire, so those deliveries go out again: at least once.
    async fn cycle(&self, finished: Vec<AttemptRecord>, limit: u32) -> Vec<DueDelivery> {
        let now = now_millis();
        let lease = i64::try_from((self.timeout * 2 + Duration::from_secs(5)).as_millis())
            .unwrap_or(i64::MAX);
        let claim = ClaimRequest {
            now,
            limit,
            per_hook: self.concurrency.start(),
            per_hook_limits: self.adapt(&finished),
            lease_until: now.saturating_add(lease),
        };
        match self.store.settle_and_claim(finished, claim).await {
            Ok(settled) => {
                for hook_id in settled.disabled_hooks {
                    tracing::warn!(hook_id, "webhook disabled: its receiver keeps failing");
                    metrics::counter!("dlrgate_webhook_hooks_disabled_total").increment(1);
                }
                settled.claimed
            }
            Err(error) => {
                tracing::error!(
                    ?error,
                    "recording webhook attempts or claiming deliveries failed; retrying"
                );
                Vec::new()
            }
        }
    }

    /// Moves each hook's limit by the attempts that finished; returns the limits to claim with.
    fn adapt(&self, finished: &[AttemptRecord]) -> HashMap<HookId, u32> {
        let mut limits = self
            .limits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for record in finished {
            let current = limits
                .get(&record.hook_id)
                .copied()
                .unwrap_or_else(|| self.concurrency.start());
            let delivered = record.error_class.is_none();
            let next = self.concurrency.next(current, delivered, record.latency_ms);
            limits.insert(record.hook_id, next);
        }
        limits.clone()
    }

    async fn until_next_due(&self) -> Duration {
        match self.store.next_delivery_due().await {
            Ok(Some(due)) => {
                Duration::from_millis(u64::try_from(due - now_millis()).unwrap_or(0)).min(self.tick)
            }
            _ => self.tick,
        }
    }

    /// Sends one delivery; returns the attempt to record.
    async fn attempt(&self, delivery: DueDelivery) -> AttemptRecord {
        let rendered = payload::render(&delivery);
        let mut headers: Vec<(String, String)> =
            signing::parse_custom_headers(&delivery.hook.headers).unwrap_or_default();
        let webhook_id = format!("msg_dlr{}", delivery.id);
        let timestamp = now_millis() / 1000;
        headers.extend(
            signing::headers(&delivery.secrets, &webhook_id, timestamp, &rendered)
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v)),
        );
        let started = Instant::now();
        let result = self.client.send(&rendered, &headers).await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let record = self.record_for(&delivery, result, latency_ms);
        let outcome = record.error_class.unwrap_or("delivered");
        metrics::counter!("dlrgate_webhook_attempts_total", "outcome" => outcome).increment(1);
        metrics::histogram!("dlrgate_webhook_attempt_seconds").record(latency_ms as f64 / 1000.0);
        record
    }

    fn record_for(
        &self,
        delivery: &DueDelivery,
        result: Result<Answer, Failure>,
        latency_ms: i64,
    ) -> AttemptRecord {
        let at = now_millis();
        let (verdict, http_status, retry_after, class, detail, snippet) = match result {
            Ok(answer) => {
                let verdict = classify_status(answer.status);
                let class = (verdict != Verdict::Delivered).then_some("http_status");
                let detail = class.map(|_| format!("the receiver answered HTTP {}", answer.status));
                (
                    verdict,
                    Some(answer.status),
                    answer.retry_after,
                    class,
                    detail,
                    Some(answer.snippet),
                )
            }
            Err(failure) => (
                Verdict::Retry,
                None,
                None,
                Some(failure.class),
                Some(failure.detail),
                None,
            ),
        };
        let fate = match verdict {
            Verdict::Delivered => DeliveryFate::Delivered,
            Verdict::Gone => DeliveryFate::Failed { disable_hook: true },
            Verdict::Failed => DeliveryFate::Failed {
                disable_hook: false,
            },
            Verdict::Retry => match self.policy.next_delay(
                delivery.attempts + 1,
                retry_after,
                rand::rng().random::<f64>(),
            ) {
                Some(delay) => DeliveryFate::Retry {
                    at: at.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
                },
                None => DeliveryFate::Abandoned,
            },
        };
        AttemptRecord {
            delivery_id: delivery.id,
            hook_id: delivery.hook.id,
            at,
            http_status,
            latency_ms,
            error_class: class,
            detail,
            response_snippet: snippet,
            fate,
            disable_after_ms: i64::try_from(self.disable_after.as_millis()).unwrap_or(i64::MAX),
        }
    }
}
