//! Reconnect delays: exponential back-off with jitter between a minimum and a maximum.
//!
//! Owns the delay arithmetic only; the supervisor does the sleeping. Jitter comes from std's randomly
//! keyed hasher, which is plenty to keep many clients from reconnecting in lock-step and avoids a
//! dependency on a random number crate.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    /// Failed attempts since the last success; the un-jittered delay is `min * 2^failures`.
    failures: u32,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            failures: 0,
        }
    }

    /// After a successful bind the next failure waits only `min` again.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }

    /// The delay before the next attempt: uniformly in `[base / 2, base]` ("equal jitter") where `base`
    /// doubles per failure and is capped at `max`, and never below `min`.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let base = self
            .min
            .saturating_mul(1 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = base / 2;
        let jitter = half.mul_f64(random_fraction());
        (half + jitter).clamp(self.min, self.max)
    }
}

/// A number in `[0, 1)`, different on every call.
fn random_fraction() -> f64 {
    // Each `RandomState::new()` is keyed differently, so hashing a constant yields a fresh value.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u8(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(5);

    #[test]
    fn delays_grow_from_the_minimum_and_stay_within_bounds() {
        let mut backoff = Backoff::new(MIN, MAX);
        let delays: Vec<Duration> = (0..12).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays[0], MIN);
        assert!(delays.iter().all(|d| (MIN..=MAX).contains(d)), "{delays:?}");
        // From the 7th attempt the base is capped, so the delay is within the top half of the range.
        assert!(delays[8..].iter().all(|d| *d >= MAX / 2), "{delays:?}");
        assert!(delays[3] >= MIN * 4, "{delays:?}");
    }

    #[test]
    fn reset_goes_back_to_the_minimum() {
        let mut backoff = Backoff::new(MIN, MAX);
        for _ in 0..5 {
            backoff.next_delay();
        }
        backoff.reset();
        assert_eq!(backoff.next_delay(), MIN);
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut delays = std::collections::HashSet::new();
        for _ in 0..20 {
            let mut backoff = Backoff::new(MIN, MAX);
            backoff.failures = 5;
            delays.insert(backoff.next_delay());
        }
        assert!(delays.len() > 1, "no jitter: {delays:?}");
    }

    #[test]
    fn random_fraction_is_in_the_unit_interval() {
        assert!(
            (0..1000)
                .map(|_| random_fraction())
                .all(|f| (0.0..1.0).contains(&f))
        );
    }
}
