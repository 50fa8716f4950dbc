//! The receipt hub: one task that owns every scheduled receipt, the receipts waiting for a
//! receiver bind, and the list of bound receivers per account.
//!
//! Sessions talk to it through one channel, a batch per message. Due receipts sit in a
//! `BinaryHeap` ordered by due time and one `sleep_until` wakes the hub for the earliest, so no
//! task is spawned and no lock is taken per message. The hub never touches a socket: it hands
//! batches of receipts to sessions, and sessions hand back whatever they could not get
//! acknowledged, so a receipt is never lost while the process runs.

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::receipt::Receipt;
use super::stats::Counters;

/// A session's identity within one simulator run.
pub(crate) type SessionId = u64;

/// What sessions tell the hub.
#[derive(Debug)]
pub(crate) enum HubCommand {
    /// Receipts of newly accepted messages, each with its due time.
    Schedule(Vec<(Instant, Receipt)>),
    /// A receiver or transceiver bind is up; receipts for `system_id` may go to `outbox`.
    Attach {
        system_id: Arc<str>,
        session: SessionId,
        outbox: mpsc::UnboundedSender<Vec<Receipt>>,
    },
    /// The session has ended. `in_flight` were written but not acknowledged (they go out again,
    /// counted as re-sends); `unsent` were never written.
    Detach {
        session: SessionId,
        in_flight: Vec<Receipt>,
        unsent: Vec<Receipt>,
    },
    /// Receipts answered with an error or not at all; sent again after the retry delay.
    Retry(Vec<Receipt>),
}

/// A scheduled receipt; the heap is a max-heap, so the order is reversed to pop the earliest.
struct Timed {
    due: Instant,
    /// Insertion order, so receipts due at the same instant keep their submit order.
    order: u64,
    /// How many copies to send (1 plus the configured duplicates for first sends).
    copies: u32,
    receipt: Receipt,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.due, other.order).cmp(&(self.due, self.order))
    }
}

/// The bound receivers of one account, served round-robin.
#[derive(Default)]
struct Receivers {
    sessions: Vec<(SessionId, mpsc::UnboundedSender<Vec<Receipt>>)>,
    next: usize,
}

pub(crate) struct Hub {
    timers: BinaryHeap<Timed>,
    order: u64,
    /// Due receipts of accounts with no receiver bound, in due order.
    waiting: HashMap<Arc<str>, VecDeque<Receipt>>,
    waiting_total: usize,
    receivers: HashMap<Arc<str>, Receivers>,
    duplicates: u32,
    retry_delay: Duration,
    counters: Arc<Counters>,
}

impl Hub {
    pub(crate) fn new(duplicates: u32, retry_delay: Duration, counters: Arc<Counters>) -> Self {
        Self {
            timers: BinaryHeap::new(),
            order: 0,
            waiting: HashMap::new(),
            waiting_total: 0,
            receivers: HashMap::new(),
            duplicates,
            retry_delay,
            counters,
        }
    }

    /// Runs until `shutdown`; receipts still scheduled then are dropped with the process.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<HubCommand>,
        shutdown: CancellationToken,
    ) {
        let far_future = || Instant::now() + Duration::from_secs(86_400 * 365);
        let sleep = tokio::time::sleep_until(far_future());
        tokio::pin!(sleep);
        loop {
            let next_due = self.timers.peek().map_or_else(far_future, |t| t.due);
            if sleep.deadline() != next_due {
                sleep.as_mut().reset(next_due);
            }
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                command = commands.recv() => {
                    let Some(command) = command else { return };
                    self.handle(command);
                    // Take whatever else is queued before looking at the clock again.
                    for _ in 0..1024 {
                        match commands.try_recv() {
                            Ok(command) => self.handle(command),
                            Err(_) => break,
                        }
                    }
                }
                () = &mut sleep => {}
            }
            self.fire_due(Instant::now());
            self.counters
                .receipts_waiting
                .store(self.waiting_total as u64, Ordering::Relaxed);
        }
    }

    fn handle(&mut self, command: HubCommand) {
        match command {
            HubCommand::Schedule(receipts) => {
                let copies = 1 + self.duplicates;
                for (due, receipt) in receipts {
                    self.push(due, copies, receipt);
                }
            }
            HubCommand::Attach {
                system_id,
                session,
                outbox,
            } => {
                let backlog: Vec<Receipt> = self
                    .waiting
                    .remove(&system_id)
                    .map(Vec::from)
                    .unwrap_or_default();
                self.waiting_total -= backlog.len();
                if !backlog.is_empty() {
                    tracing::info!(%system_id, count = backlog.len(), "smsc-sim: sending held receipts");
                }
                let receivers = self.receivers.entry(system_id).or_default();
                receivers.sessions.push((session, outbox.clone()));
                if !backlog.is_empty()
                    && let Err(mpsc::error::SendError(back)) = outbox.send(backlog)
                {
                    // The session ended already; its Detach will follow and remove it.
                    self.dispatch(back.into_iter().map(|r| (1, r)).collect());
                }
            }
            HubCommand::Detach {
                session,
                in_flight,
                unsent,
            } => {
                for receivers in self.receivers.values_mut() {
                    receivers.sessions.retain(|(id, _)| *id != session);
                }
                Counters::add(&self.counters.receipts_resent, in_flight.len() as u64);
                self.dispatch(
                    in_flight
                        .into_iter()
                        .chain(unsent)
                        .map(|r| (1, r))
                        .collect(),
                );
            }
            HubCommand::Retry(receipts) => {
                Counters::add(&self.counters.receipts_resent, receipts.len() as u64);
                let now = Instant::now();
                let due = now
                    .checked_add(self.retry_delay)
                    .unwrap_or(now + Duration::from_secs(86_400));
                for receipt in receipts {
                    self.push(due, 1, receipt);
                }
            }
        }
    }

    fn push(&mut self, due: Instant, copies: u32, receipt: Receipt) {
        self.order += 1;
        self.timers.push(Timed {
            due,
            order: self.order,
            copies,
            receipt,
        });
    }

    fn fire_due(&mut self, now: Instant) {
        let mut due = Vec::new();
        while self.timers.peek().is_some_and(|t| t.due <= now) {
            if let Some(timed) = self.timers.pop() {
                due.push((timed.copies, timed.receipt));
            }
        }
        if !due.is_empty() {
            self.dispatch(due);
        }
    }

    /// Hands receipts to bound receivers of their account (one batch per session), or holds them.
    fn dispatch(&mut self, receipts: Vec<(u32, Receipt)>) {
        let mut batches: HashMap<SessionId, (mpsc::UnboundedSender<Vec<Receipt>>, Vec<Receipt>)> =
            HashMap::new();
        for (copies, receipt) in receipts {
            let system_id = &receipt.message.system_id;
            let target = self.receivers.get_mut(&**system_id).and_then(|receivers| {
                let count = receivers.sessions.len();
                (count > 0).then(|| {
                    receivers.next = (receivers.next + 1) % count;
                    receivers.sessions[receivers.next].clone()
                })
            });
            match target {
                Some((session, outbox)) => {
                    let batch = batches
                        .entry(session)
                        .or_insert_with(|| (outbox, Vec::new()));
                    for _ in 1..copies {
                        batch.1.push(receipt.clone());
                    }
                    batch.1.push(receipt);
                }
                None => {
                    let queue = self.waiting.entry(Arc::clone(system_id)).or_default();
                    for _ in 1..copies {
                        queue.push_back(receipt.clone());
                    }
                    queue.push_back(receipt);
                    self.waiting_total += copies as usize;
                }
            }
        }
        for (session, (outbox, batch)) in batches {
            if let Err(mpsc::error::SendError(back)) = outbox.send(batch) {
                for receivers in self.receivers.values_mut() {
                    receivers.sessions.retain(|(id, _)| *id != session);
                }
                self.dispatch(back.into_iter().map(|r| (1, r)).collect());
            }
        }
    }
}
