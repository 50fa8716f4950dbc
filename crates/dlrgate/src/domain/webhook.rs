//! Webhook delivery rules, free of I/O: how a receiver's answer is classified and when the next
//! attempt is due.
//!
//! - 2xx: delivered. 429, 5xx, timeouts and connection failures: retried. Any other answer (3xx,
//!   which dlrgate never follows, and 4xx) ends the delivery as failed; 410 also disables the hook.
//! - The schedule gives the delay before each attempt; its length is the number of attempts.
//! - `Retry-After` can stretch a delay (never shorten it), up to a configured maximum.

use std::time::Duration;

/// How a receiver's answer (or the lack of one) is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Retry,
    Failed,
    /// 410 Gone: failed, and the hook is disabled.
    Gone,
}

/// The verdict on an HTTP status code.
pub fn classify_status(status: u16) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        410 => Verdict::Gone,
        429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Failed,
    }
}

/// How many attempts one hook may have in flight. A hook starts at `min`; every delivery answered
/// within `slow_ms` lets it have one more, up to `max`; a failure or a slow answer halves it, down
/// to `min` (additive increase, multiplicative decrease, as TCP does). A receiver that keeps up
/// gets its webhooks at once; one that struggles is not piled on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcurrencyPolicy {
    pub min: u32,
    pub max: u32,
    pub slow_ms: i64,
}

impl ConcurrencyPolicy {
    /// Where a hook starts, and the least it ever gets: `min`, but never above `max`.
    pub fn start(&self) -> u32 {
        self.min.min(self.max).max(1)
    }

    /// The limit after an attempt that was `delivered` (2xx) or not, answered in `latency_ms`.
    pub fn next(&self, current: u32, delivered: bool, latency_ms: i64) -> u32 {
        if delivered && latency_ms <= self.slow_ms {
            current.saturating_add(1).min(self.max.max(1))
        } else {
            (current / 2).max(self.start())
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Delay before attempt n+1 (index n); `schedule[0]` is the delay of the first attempt.
    pub schedule: Vec<Duration>,
    /// Each delay varies by up to this fraction (0.2 = ±20 %).
    pub jitter: f64,
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// The delay before the next attempt after `attempts_made` failed attempts, or `None` when the
    /// schedule is used up. `random` is a number in [0, 1) that picks the jitter.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        random: f64,
    ) -> Option<Duration> {
        let scheduled = *self.schedule.get(attempts_made as usize)?;
        let factor = 1.0 + self.jitter * (2.0 * random.clamp(0.0, 1.0) - 1.0);
        let jittered = scheduled.mul_f64(factor.max(0.0));
        Some(match retry_after {
            Some(asked) if asked > jittered => asked.min(self.max_retry_after.max(jittered)),
            _ => jittered,
        })
    }

    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.schedule.len()).unwrap_or(u32::MAX)
    }
}

/// Reads `Retry-After` given in seconds (HTTP dates are not honoured: receivers almost always
/// send seconds, and a date needs a trustworthy clock on both sides).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {

    #[test]
    fn concurrency_grows_by_one_when_fast_and_halves_when_slow_or_failing() {
        let policy = ConcurrencyPolicy {
            min: 8,
            max: 128,
            slow_ms: 1000,
        };
        assert_eq!(policy.start(), 8);
        assert_eq!(policy.next(8, true, 5), 9);
        assert_eq!(policy.next(128, true, 5), 128);
        assert_eq!(policy.next(100, true, 1001), 50);
        assert_eq!(policy.next(100, false, 5), 50);
        assert_eq!(policy.next(12, false, 5), 8);
        let fixed = ConcurrencyPolicy {
            min: 32,
            max: 2,
            slow_ms: 1000,
        };
        assert_eq!(
            (
                fixed.start(),
                fixed.next(2, true, 1),
                fixed.next(2, false, 1)
            ),
            (2, 2, 2)
        );
    }

    use super::*;

    #[test]
    fn statuses_are_classified_like_seven() {
        let cases = [
            (200, Verdict::Delivered),
            (204, Verdict::Delivered),
            (301, Verdict::Failed),
            (400, Verdict::Failed),
            (404, Verdict::Failed),
            (410, Verdict::Gone),
            (429, Verdict::Retry),
            (500, Verdict::Retry),
            (503, Verdict::Retry),
            (504, Verdict::Retry),
        ];
        for (status, expect) in cases {
            assert_eq!(classify_status(status), expect, "{status}");
        }
    }

    fn policy(jitter: f64) -> RetryPolicy {
        let ms = Duration::from_millis;
        RetryPolicy {
            schedule: vec![ms(0), ms(100), ms(1000)],
            jitter,
            max_retry_after: Duration::from_secs(5),
        }
    }

    #[test]
    fn schedule_jitter_and_retry_after() {
        let ms = Duration::from_millis;
        let exact = policy(0.0);
        assert_eq!(exact.next_delay(0, None, 0.5), Some(ms(0)));
        assert_eq!(exact.next_delay(1, None, 0.9), Some(ms(100)));
        assert_eq!(exact.next_delay(3, None, 0.5), None);
        assert_eq!(exact.max_attempts(), 3);
        let jittered = policy(0.2);
        assert_eq!(jittered.next_delay(2, None, 0.0), Some(ms(800)));
        assert_eq!(jittered.next_delay(2, None, 1.0), Some(ms(1200)));
        // Retry-After stretches a delay up to the maximum, never shortens it.
        assert_eq!(
            exact.next_delay(1, Some(Duration::from_secs(2)), 0.5),
            Some(ms(2000))
        );
        assert_eq!(
            exact.next_delay(1, Some(Duration::from_secs(60)), 0.5),
            Some(ms(5000))
        );
        assert_eq!(exact.next_delay(2, Some(ms(10)), 0.5), Some(ms(1000)));
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
