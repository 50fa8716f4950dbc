//! A shared messages-per-second limit for one connector: each caller gets the next free slot and
//! sleeps until it, so traffic is spread evenly instead of bursting at the start of each second.
//! With several nodes on one database the limit is the cluster's: each node spaces its slots by
//! the interval times the live nodes (as the heartbeat counts them), so together they send at
//! most the connector's rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct RateLimiter {
    interval: Duration,
    /// How many nodes share the limit (1 on SQLite).
    nodes: Arc<AtomicU32>,
    next: Mutex<Instant>,
}

impl RateLimiter {
    /// `None` when `per_second` is 0 (no limit).
    pub fn per_second(per_second: u32, nodes: Arc<AtomicU32>) -> Option<RateLimiter> {
        (per_second > 0).then(|| RateLimiter {
            interval: Duration::from_secs(1) / per_second,
            nodes,
            next: Mutex::new(Instant::now()),
        })
    }

    /// Waits for the next slot of this node's share.
    pub async fn acquire(&self) {
        let share = self.interval * self.nodes.load(Ordering::Relaxed).max(1);
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + share;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_by_the_interval() {
        let limiter = RateLimiter::per_second(100, Arc::new(AtomicU32::new(1))).unwrap();
        let start = Instant::now();
        for _ in 0..50 {
            limiter.acquire().await;
        }
        // 50 slots at 10 ms: the first is immediate, the last 490 ms later (virtual time).
        assert_eq!(start.elapsed(), Duration::from_millis(490));
        assert!(RateLimiter::per_second(0, Arc::new(AtomicU32::new(1))).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn each_of_several_nodes_takes_its_share() {
        let nodes = Arc::new(AtomicU32::new(1));
        let limiter = RateLimiter::per_second(100, nodes.clone()).unwrap();
        limiter.acquire().await;
        // A second node joins: this one now sends 50/s, a slot every 20 ms.
        nodes.store(2, Ordering::Relaxed);
        let start = Instant::now();
        for _ in 0..10 {
            limiter.acquire().await;
        }
        // The first of these waits out the old 10 ms slot, the other nine 20 ms each.
        assert_eq!(start.elapsed(), Duration::from_millis(10 + 9 * 20));
    }
}
