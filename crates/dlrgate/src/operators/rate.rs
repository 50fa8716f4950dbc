//! A shared messages-per-second limit for one connector: each caller gets the next free slot and
//! sleeps until it, so traffic is spread evenly instead of bursting at the start of each second.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    /// `None` when `per_second` is 0 (no limit).
    pub fn per_second(per_second: u32) -> Option<RateLimiter> {
        (per_second > 0).then(|| RateLimiter {
            interval: Duration::from_secs(1) / per_second,
            next: Mutex::new(Instant::now()),
        })
    }

    /// Waits for the next slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let slot = (*next).max(Instant::now());
            *next = slot + self.interval;
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
        let limiter = RateLimiter::per_second(100).unwrap();
        let start = Instant::now();
        for _ in 0..50 {
            limiter.acquire().await;
        }
        // 50 slots at 10 ms: the first is immediate, the last 490 ms later (virtual time).
        assert_eq!(start.elapsed(), Duration::from_millis(490));
        assert!(RateLimiter::per_second(0).is_none());
    }
}
