//! The dispatcher's in-memory schedule of the deliveries it holds (leased to it): which may go
//! out now. Per hook, at most its concurrency limit in flight; per hook and message, one at a
//! time in the order added, so each hook gets a message's statuses in order. When an attempt
//! must be retried later, the deliveries queued behind it go back to the store, which hands
//! them out again only after it (the claim's order rule). Pure state: no I/O, no clock.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::store::{DeliveryId, DueDelivery, HookId, MessageId};

type Key = (HookId, MessageId);

/// What became of a delivery after an attempt, as far as the lanes care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Delivered or given up: the next one of its message may go.
    Done,
    /// Pending again, for a retry later.
    Retry,
    /// Given up, and the receiver asked for its hook to be disabled (410).
    HookGone,
}

/// What [`Lanes::add`] did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Queued,
    /// Already held (a claim and the pushed read can both return one delivery).
    AlreadyHeld,
    /// An earlier delivery of its message waits for a retry: it must go back to the store.
    Release,
}

#[derive(Default)]
struct Lane {
    in_flight: u32,
    ready: VecDeque<DueDelivery>,
}

#[derive(Default)]
pub struct Lanes {
    /// Every delivery added and not yet settled in the store (queued, in flight or finished).
    held: HashSet<DeliveryId>,
    lanes: BTreeMap<HookId, Lane>,
    /// Messages with a delivery queued or in flight, and the deliveries waiting behind it.
    chains: HashMap<Key, VecDeque<DueDelivery>>,
    /// Messages whose delivery went back for a retry and whose store record is not yet known to
    /// be visible to the pushed read; what arrives for them meanwhile goes back too.
    retrying: HashMap<Key, u32>,
    /// Hooks a 410 disables, until the store's record of it is visible to the pushed read.
    gone: HashMap<HookId, u32>,
}

impl Lanes {
    /// Deliveries held, for the bound on memory.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Every delivery held, for renewing their leases.
    pub fn held_ids(&self) -> Vec<DeliveryId> {
        self.held.iter().copied().collect()
    }

    pub fn add(&mut self, delivery: DueDelivery) -> Added {
        let key = (delivery.hook.id, delivery.message_id);
        if self.retrying.contains_key(&key) || self.gone.contains_key(&key.0) {
            return if self.held.contains(&delivery.id) {
                Added::AlreadyHeld
            } else {
                Added::Release
            };
        }
        if !self.held.insert(delivery.id) {
            return Added::AlreadyHeld;
        }
        match self.chains.get_mut(&key) {
            Some(behind) => behind.push_back(delivery),
            None => {
                self.chains.insert(key, VecDeque::new());
                self.lane(delivery.hook.id).ready.push_back(delivery);
            }
        }
        Added::Queued
    }

    /// Takes the deliveries that may go out now, hooks interleaved, and counts them in flight.
    pub fn take_sendable(&mut self, limit: impl Fn(HookId) -> u32) -> Vec<DueDelivery> {
        let mut out = Vec::new();
        loop {
            let before = out.len();
            for (hook, lane) in self.lanes.iter_mut() {
                if lane.in_flight < limit(*hook)
                    && let Some(delivery) = lane.ready.pop_front()
                {
                    lane.in_flight += 1;
                    out.push(delivery);
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }

    /// An attempt of a delivery of `hook` and `message` finished. If the delivery is done, the
    /// next one of its message becomes ready; if it waits for a retry, those behind it are
    /// returned, to go back to the store; if its hook is gone, all that hook's unsent ones are.
    pub fn finish(&mut self, hook: HookId, message: MessageId, after: After) -> Vec<DeliveryId> {
        let key = (hook, message);
        let lane = self.lane(hook);
        lane.in_flight = lane.in_flight.saturating_sub(1);
        match after {
            After::Retry => {
                *self.retrying.entry(key).or_default() += 1;
                let behind = self.chains.remove(&key).unwrap_or_default();
                self.drop_idle(hook);
                behind.into_iter().map(|d| self.unhold(d.id)).collect()
            }
            After::HookGone => {
                *self.gone.entry(hook).or_default() += 1;
                let mut released = self.unqueue_hook(hook);
                let behind = self.chains.remove(&key).unwrap_or_default();
                released.extend(behind.into_iter().map(|d| self.unhold(d.id)));
                released
            }
            After::Done => {
                match self.chains.get_mut(&key).and_then(VecDeque::pop_front) {
                    Some(next) => self.lane(hook).ready.push_back(next),
                    None => {
                        self.chains.remove(&key);
                    }
                }
                self.drop_idle(hook);
                Vec::new()
            }
        }
    }

    /// The store recorded the attempts of `ids`: a later claim may take them again.
    pub fn settled(&mut self, ids: impl IntoIterator<Item = DeliveryId>) {
        for id in ids {
            self.held.remove(&id);
        }
    }

    /// The retries of `keys` and the 410s of `hooks` are recorded and the pushed read has
    /// looked since: what it returns for them from now on already follows the store.
    pub fn records_visible(&mut self, keys: &[(HookId, MessageId)], hooks: &[HookId]) {
        for key in keys {
            decrement(&mut self.retrying, key);
        }
        for hook in hooks {
            decrement(&mut self.gone, hook);
        }
    }

    /// Takes back everything of `hook` not yet sent (the hook was disabled); returns it to
    /// release. Attempts in flight finish as usual.
    pub fn unqueue_hook(&mut self, hook: HookId) -> Vec<DeliveryId> {
        let ready: Vec<DueDelivery> = match self.lanes.get_mut(&hook) {
            Some(lane) => lane.ready.drain(..).collect(),
            None => Vec::new(),
        };
        let mut unsent = Vec::new();
        for head in ready {
            // A queued head has nothing of its message in flight: the whole chain goes.
            unsent.extend(
                self.chains
                    .remove(&(hook, head.message_id))
                    .unwrap_or_default(),
            );
            unsent.push(head);
        }
        for ((of, _), behind) in self.chains.iter_mut() {
            if *of == hook {
                unsent.extend(behind.drain(..));
            }
        }
        self.drop_idle(hook);
        unsent.into_iter().map(|d| self.unhold(d.id)).collect()
    }

    /// Takes back everything not yet sent (shutdown); returns it to release.
    pub fn unqueue_all(&mut self) -> Vec<DeliveryId> {
        let hooks: Vec<HookId> = self.lanes.keys().copied().collect();
        hooks
            .into_iter()
            .flat_map(|hook| self.unqueue_hook(hook))
            .collect()
    }

    fn unhold(&mut self, id: DeliveryId) -> DeliveryId {
        self.held.remove(&id);
        id
    }

    fn lane(&mut self, hook: HookId) -> &mut Lane {
        self.lanes.entry(hook).or_default()
    }

    fn drop_idle(&mut self, hook: HookId) {
        if self
            .lanes
            .get(&hook)
            .is_some_and(|lane| lane.in_flight == 0 && lane.ready.is_empty())
        {
            self.lanes.remove(&hook);
        }
    }
}

fn decrement<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, u32>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
#[path = "lanes_tests.rs"]
mod tests;
