//! The webhook dispatcher: sends every delivery of the outbox (signed), each on its own task,
//! and records every attempt with its fate.
//!
//! The fast path: a status change writes its deliveries already leased to this process, and
//! its commit wakes the dispatcher, which reads them from the reader pool and sends them at once
//! (no claim, no poll). Everything nobody holds (retries, deliveries of a previous process,
//! overflow) is claimed from the store every tick. Attempts are recorded a batch at a time (one
//! transaction, group commit) while the next ones are already on the wire.
//!
//! Deliveries to one hook run concurrently up to a limit that adapts per hook
//! (`domain::webhook::ConcurrencyPolicy`): it grows while the receiver answers fast and halves
//! when it fails or slows down. With several nodes each sends at most its share of it (the limit
//! divided by the live nodes, at least 1), so the limit holds for the cluster. A message's deliveries reach a hook one at a time, in order
//! ([`lanes::Lanes`]). What the dispatcher holds in memory is bounded (`max_held`); beyond it,
//! deliveries wait in the store.
//!
//! At-least-once: a delivery is marked delivered only after a 2xx. If dlrgate dies mid-attempt,
//! the delivery is sent again (same `webhook-id`): at the next start (SQLite), or when its lease
//! expires and another node claims it (PostgreSQL). While the dispatcher lives it renews the
//! leases of everything it holds every third of `lease`, so no other node takes over a delivery
//! it is still sending or about to send.

mod attempt;
pub mod client;
mod lanes;
pub mod payload;
pub mod signing;
pub mod ssrf;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::client::WebhookClient;
use self::lanes::{Added, After, Lanes};
use crate::domain::webhook::{ConcurrencyPolicy, RetryPolicy};
use crate::store::{
    AttemptRecord, ClaimRequest, DeliveryFate, DeliveryId, DueDelivery, HookId, MessageId, Settled,
    Store, StoreResult,
};
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
    /// How often deliveries nobody holds are looked for.
    pub tick: Duration,
    pub disable_after: Duration,
    /// Most deliveries held in memory (queued or in flight); the rest wait in the store.
    pub max_held: usize,
    /// Woken when status changes have committed new deliveries.
    pub wake: Arc<Notify>,
    /// The highest delivery id when this process started: the pushed read begins after it.
    pub first_cursor: DeliveryId,
    /// How long a lease of this dispatcher lasts without renewal (`store.lease_timeout`).
    pub lease: Duration,
    /// How many nodes share the store: each sends at most its share of a hook's limit, so the
    /// limit holds for the cluster.
    pub nodes: Arc<AtomicU32>,
}

/// A finished attempt, on its way to the store.
struct Finished {
    record: AttemptRecord,
    message_id: MessageId,
}

/// A store write in progress (attempts, releases, maybe a claim) and what it covers.
struct Write {
    task: JoinHandle<StoreResult<Settled>>,
    recorded: Vec<DeliveryId>,
    retries: Vec<(HookId, MessageId)>,
    gone: Vec<HookId>,
    claim_limit: u32,
}

/// What woke the loop.
enum Event {
    Woken,
    Finished(Finished),
    Written(Option<(Write, Option<Settled>)>),
    Tick,
    Renew,
}

/// The loop's state.
struct Run {
    lanes: Lanes,
    cursor: DeliveryId,
    /// New deliveries may have been committed since the last pushed read.
    unread: bool,
    finished: Vec<Finished>,
    released: Vec<DeliveryId>,
    write: Option<Write>,
    next_claim: Instant,
    next_renewal: Instant,
    /// Retries and 410s recorded by a finished write: visible to the next pushed read.
    recorded_retries: Vec<(HookId, MessageId)>,
    recorded_gone: Vec<HookId>,
}

impl Dispatcher {
    /// The dispatcher loop: read what commits pushed, send what the lanes allow, write what
    /// finished, claim what nobody holds; then wait for any of those to have work.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let tasks = TaskTracker::new();
        let (done, mut done_rx) = mpsc::unbounded_channel::<Finished>();
        let mut run = Run {
            lanes: Lanes::default(),
            cursor: self.first_cursor,
            unread: true,
            finished: Vec::new(),
            released: Vec::new(),
            write: None,
            next_claim: Instant::now(),
            next_renewal: Instant::now() + self.lease / 3,
            recorded_retries: Vec::new(),
            recorded_gone: Vec::new(),
        };
        while !shutdown.is_cancelled() {
            self.read_pushed(&mut run).await;
            self.send_ready(&mut run, &tasks, &done);
            if run.write.is_none() {
                self.start_write(&mut run).await;
            }
            let idle = run.write.is_none();
            let event = tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => Event::Woken,
                Some(finished) = done_rx.recv() => Event::Finished(finished),
                result = written(&mut run.write) => Event::Written(result),
                _ = tokio::time::sleep_until(run.next_claim), if idle => Event::Tick,
                _ = tokio::time::sleep_until(run.next_renewal) => Event::Renew,
            };
            match event {
                Event::Woken => run.unread = true,
                Event::Finished(finished) => self.finish(&mut run, finished),
                Event::Written(result) => self.written(&mut run, result),
                Event::Tick => {}
                Event::Renew => self.renew(&mut run).await,
            }
            while let Ok(finished) = done_rx.try_recv() {
                self.finish(&mut run, finished);
            }
        }
        // Attempts already on the wire finish (each is bounded by the timeout) and are recorded;
        // what was not sent is handed back.
        tasks.close();
        tasks.wait().await;
        if run.write.is_some() {
            let result = written(&mut run.write).await;
            self.written(&mut run, result);
        }
        while let Ok(finished) = done_rx.try_recv() {
            self.finish(&mut run, finished);
        }
        run.released.extend(run.lanes.unqueue_all());
        let records = run.finished.into_iter().map(|f| f.record).collect();
        let claim = self.claim_request(0);
        if let Err(error) = self
            .store
            .settle_and_claim(records, run.released, claim)
            .await
        {
            tracing::error!(?error, "recording the last webhook attempts failed");
        }
    }

    /// Reads the deliveries that commits created leased for this process, while there is room.
    async fn read_pushed(&self, run: &mut Run) {
        while run.unread && run.lanes.held() < self.max_held {
            let room = (self.max_held - run.lanes.held()).min(self.batch_size as usize);
            let room = u32::try_from(room).unwrap_or(u32::MAX);
            let pushed = match self
                .store
                .pushed_deliveries(run.cursor, now_millis(), room)
                .await
            {
                Ok(pushed) => pushed,
                Err(error) => {
                    tracing::error!(?error, "reading new webhook deliveries failed; retrying");
                    return;
                }
            };
            run.cursor = pushed.cursor;
            run.unread = pushed.full;
            // This read began after those records were committed, so it already saw them.
            run.lanes
                .records_visible(&run.recorded_retries, &run.recorded_gone);
            run.recorded_retries.clear();
            run.recorded_gone.clear();
            run.released.extend(pushed.stale);
            for delivery in pushed.deliveries {
                self.hold(run, delivery);
            }
        }
    }

    /// Renews the leases of everything held. One this node no longer holds in the store (it
    /// stalled past its lease and another node took the delivery over) is only logged: its
    /// attempt, if any, is a copy the receiver can drop by its `webhook-id`.
    async fn renew(&self, run: &mut Run) {
        run.next_renewal = Instant::now() + self.lease / 3;
        let held = run.lanes.held_ids();
        if held.is_empty() {
            return;
        }
        let until = now_millis().saturating_add(self.lease_millis());
        match self.store.renew_leases(&held, until).await {
            Ok(renewed) if renewed < held.len() as u64 => {
                tracing::debug!(
                    held = held.len(),
                    renewed,
                    "some held deliveries are settled or lost their lease"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::error!(?error, "renewing webhook leases failed; retrying"),
        }
    }

    fn lease_millis(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }

    fn hold(&self, run: &mut Run, delivery: DueDelivery) {
        let id = delivery.id;
        if run.lanes.add(delivery) == Added::Release {
            run.released.push(id);
        }
    }

    /// Starts an attempt for every delivery the lanes let go now.
    fn send_ready(
        self: &Arc<Self>,
        run: &mut Run,
        tasks: &TaskTracker,
        done: &mpsc::UnboundedSender<Finished>,
    ) {
        let limits = self
            .limits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let start = self.concurrency.start();
        let nodes = self.nodes.load(Ordering::Relaxed).max(1);
        let ready = run
            .lanes
            .take_sendable(|hook| (limits.get(&hook).copied().unwrap_or(start) / nodes).max(1));
        for delivery in ready {
            let (this, done) = (Arc::clone(self), done.clone());
            tasks.spawn(async move {
                let message_id = delivery.message_id;
                let record = this.attempt(delivery).await;
                let _ = done.send(Finished { record, message_id });
            });
        }
    }

    /// An attempt finished: adapt the hook's limit, move its message on, queue the record.
    fn finish(&self, run: &mut Run, finished: Finished) {
        self.adapt(&finished.record);
        let after = match finished.record.fate {
            DeliveryFate::Retry { .. } => After::Retry,
            DeliveryFate::Failed { disable_hook: true } => After::HookGone,
            _ => After::Done,
        };
        let released = run
            .lanes
            .finish(finished.record.hook_id, finished.message_id, after);
        run.released.extend(released);
        run.finished.push(finished);
    }

    /// Writes what finished and what goes back, and claims when a tick found due work.
    async fn start_write(&self, run: &mut Run) {
        let claim_limit = self.claim_limit(run).await;
        if claim_limit == 0 && run.finished.is_empty() && run.released.is_empty() {
            return;
        }
        let finished = std::mem::take(&mut run.finished);
        let recorded = finished.iter().map(|f| f.record.delivery_id).collect();
        let retries = finished
            .iter()
            .filter(|f| matches!(f.record.fate, DeliveryFate::Retry { .. }))
            .map(|f| (f.record.hook_id, f.message_id))
            .collect();
        let gone = finished
            .iter()
            .filter(|f| f.record.fate == DeliveryFate::Failed { disable_hook: true })
            .map(|f| f.record.hook_id)
            .collect();
        let records: Vec<AttemptRecord> = finished.into_iter().map(|f| f.record).collect();
        let claim = self.claim_request(claim_limit);
        let (store, released) = (self.store.clone(), std::mem::take(&mut run.released));
        run.write = Some(Write {
            task: tokio::spawn(
                async move { store.settle_and_claim(records, released, claim).await },
            ),
            recorded,
            retries,
            gone,
            claim_limit,
        });
    }

    /// How many deliveries to claim now: none before the tick, or when nothing is due.
    async fn claim_limit(&self, run: &mut Run) -> u32 {
        let now = Instant::now();
        if now < run.next_claim {
            return 0;
        }
        run.next_claim = now + self.tick;
        let room = self.max_held.saturating_sub(run.lanes.held());
        if room == 0 {
            return 0;
        }
        match self.store.next_delivery_due(now_millis()).await {
            Ok(Some(due)) if due <= now_millis() => {
                u32::try_from(room).unwrap_or(u32::MAX).min(self.batch_size)
            }
            Ok(_) => 0,
            Err(error) => {
                tracing::error!(?error, "looking for due webhook deliveries failed");
                0
            }
        }
    }

    /// A store write finished: what it recorded is no longer held, what it claimed is.
    fn written(&self, run: &mut Run, result: Option<(Write, Option<Settled>)>) {
        let Some((write, result)) = result else {
            return;
        };
        run.lanes.settled(write.recorded);
        run.recorded_retries.extend(write.retries);
        run.recorded_gone.extend(write.gone);
        // A later pushed read must confirm the retries are visible; make sure one comes.
        run.unread = true;
        // Without a result the records are lost and their leases expire, so those deliveries
        // go out again: at least once.
        let Some(settled) = result else {
            return;
        };
        for hook_id in settled.disabled_hooks {
            tracing::warn!(hook_id, "webhook disabled: its receiver keeps failing");
            metrics::counter!("dlrgate_webhook_hooks_disabled_total").increment(1);
            run.released.extend(run.lanes.unqueue_hook(hook_id));
        }
        if write.claim_limit > 0 && settled.claimed.len() >= write.claim_limit as usize {
            run.next_claim = Instant::now();
        }
        for delivery in settled.claimed {
            self.hold(run, delivery);
        }
    }

    fn claim_request(&self, limit: u32) -> ClaimRequest {
        let now = now_millis();
        // At least two attempt timeouts, so a delivery claimed just before a missed renewal is
        // still covered while it is on the wire.
        let lease = self
            .lease_millis()
            .max(i64::try_from((self.timeout * 2).as_millis()).unwrap_or(i64::MAX));
        ClaimRequest {
            now,
            limit,
            per_hook: self.concurrency.start(),
            per_hook_limits: self
                .limits
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
            lease_until: now.saturating_add(lease),
        }
    }

    /// Moves the hook's limit by an attempt that finished.
    fn adapt(&self, record: &AttemptRecord) {
        let mut limits = self
            .limits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = limits
            .get(&record.hook_id)
            .copied()
            .unwrap_or_else(|| self.concurrency.start());
        let delivered = record.error_class.is_none();
        let next = self.concurrency.next(current, delivered, record.latency_ms);
        limits.insert(record.hook_id, next);
    }
}

/// Waits for the write in progress, if any (forever if none, for `select!`); `None` as its
/// result when it failed (logged here).
async fn written(write: &mut Option<Write>) -> Option<(Write, Option<Settled>)> {
    let Some(current) = write.as_mut() else {
        return std::future::pending().await;
    };
    let result = match (&mut current.task).await {
        Ok(Ok(settled)) => Some(settled),
        Ok(Err(error)) => {
            tracing::error!(
                ?error,
                "recording webhook attempts or claiming deliveries failed; retrying"
            );
            None
        }
        Err(join) => {
            tracing::error!(?join, "recording webhook attempts failed (task ended)");
            None
        }
    };
    write.take().map(|w| (w, result))
}
