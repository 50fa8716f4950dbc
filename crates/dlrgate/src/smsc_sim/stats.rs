//! The simulator's counters, shared by the hub and every session and read through `SimHandle`.
//!
//! Owns only the numbers. Sessions add per batch of PDUs, not per message, so two cores do not
//! fight over one cache line at 20,000 messages a second.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters; see [`SimStats`] for their meaning.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) binds_accepted: AtomicU64,
    pub(crate) submits_received: AtomicU64,
    pub(crate) submits_accepted: AtomicU64,
    pub(crate) receipts_sent: AtomicU64,
    pub(crate) receipts_acknowledged: AtomicU64,
    pub(crate) receipts_resent: AtomicU64,
    pub(crate) receipts_waiting: AtomicU64,
}

/// A snapshot of the counters since the simulator started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Successful binds of any kind.
    pub binds_accepted: u64,
    /// Every `submit_sm` read, including throttled and rejected ones.
    pub submits_received: u64,
    /// `submit_sm` answered ESME_ROK with a message id.
    pub submits_accepted: u64,
    /// `deliver_sm` receipts written, counting duplicates and re-sends.
    pub receipts_sent: u64,
    /// `deliver_sm_resp` with status 0 received.
    pub receipts_acknowledged: u64,
    /// Receipts scheduled again after a negative, late or lost `deliver_sm_resp`.
    pub receipts_resent: u64,
    /// Receipts that are due but held because no receiver or transceiver of their account is bound.
    pub receipts_waiting: u64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        if n > 0 {
            counter.fetch_add(n, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> SimStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        SimStats {
            binds_accepted: get(&self.binds_accepted),
            submits_received: get(&self.submits_received),
            submits_accepted: get(&self.submits_accepted),
            receipts_sent: get(&self.receipts_sent),
            receipts_acknowledged: get(&self.receipts_acknowledged),
            receipts_resent: get(&self.receipts_resent),
            receipts_waiting: get(&self.receipts_waiting),
        }
    }
}
