//! The API's rate limits (`[limits]`): requests per API key and messages per account, as GCRA
//! buckets (governor) held in this node's memory. Beyond a limit the request is answered
//! [`ApiError::Limited`] and changes nothing.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::config::LimitSettings;
use crate::store::AccountId;

/// Keys and accounts are forgotten once their bucket is full again, every this many checks.
const FORGET_EVERY: u64 = 100_000;

pub struct RateLimits {
    requests: Option<DefaultKeyedRateLimiter<Vec<u8>>>,
    messages: Option<DefaultKeyedRateLimiter<AccountId>>,
    checks: std::sync::atomic::AtomicU64,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(settings: &LimitSettings) -> RateLimits {
        RateLimits {
            requests: limiter(settings.requests_per_second, settings.request_burst),
            messages: limiter(settings.messages_per_second, settings.message_burst),
            checks: std::sync::atomic::AtomicU64::new(0),
            clock: DefaultClock::default(),
        }
    }

    /// One request with the API key whose SHA-256 is `key_hash`.
    pub fn request(&self, key_hash: &[u8]) -> Result<(), ApiError> {
        let Some(limiter) = &self.requests else {
            return Ok(());
        };
        self.forget_now_and_then();
        limiter.check_key(&key_hash.to_vec()).map_err(|not_until| {
            limited(
                "too many requests with this API key",
                not_until.wait_time_from(self.clock.now()),
            )
        })
    }

    /// `count` messages of `account` at once.
    pub fn messages(&self, account: AccountId, count: usize) -> Result<(), ApiError> {
        let (Some(limiter), Some(cells)) = (&self.messages, nonzero(count)) else {
            return Ok(());
        };
        match limiter.check_key_n(&account, cells) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(limited(
                "too many messages from this account",
                not_until.wait_time_from(self.clock.now()),
            )),
            Err(_) => Err(limited(
                "more messages in one request than limits.message_burst allows",
                Duration::from_secs(1),
            )),
        }
    }

    fn forget_now_and_then(&self) {
        let checks = self
            .checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if checks % FORGET_EVERY == FORGET_EVERY - 1 {
            if let Some(limiter) = &self.requests {
                limiter.retain_recent();
            }
            if let Some(limiter) = &self.messages {
                limiter.retain_recent();
            }
        }
    }
}

fn limiter<K>(per_second: u32, burst: u32) -> Option<DefaultKeyedRateLimiter<K>>
where
    K: std::hash::Hash + Eq + Clone,
{
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(RateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

fn nonzero(count: usize) -> Option<NonZeroU32> {
    NonZeroU32::new(u32::try_from(count).unwrap_or(u32::MAX))
}

fn limited(detail: &str, wait: Duration) -> ApiError {
    metrics::counter!("dlrgate_rate_limited_total").increment(1);
    ApiError::Limited {
        detail: detail.to_owned(),
        retry_after: wait,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings(requests: u32, messages: u32, burst: u32) -> LimitSettings {
        LimitSettings {
            requests_per_second: requests,
            request_burst: burst,
            messages_per_second: messages,
            message_burst: burst,
            hooks_per_account: 0,
            pending_deliveries_per_hook: 0,
            backlog_check_interval: Duration::from_secs(1),
        }
    }

    fn wait(error: ApiError) -> Duration {
        match error {
            ApiError::Limited { retry_after, .. } => retry_after,
            other => panic!("not a limit: {other:?}"),
        }
    }

    #[test]
    fn a_key_gets_its_burst_then_waits_and_other_keys_are_not_affected() {
        let limits = RateLimits::new(&settings(1, 0, 3));
        for _ in 0..3 {
            limits.request(&[1u8; 32]).unwrap();
        }
        let waited = wait(limits.request(&[1u8; 32]).unwrap_err());
        assert!(waited > Duration::ZERO && waited <= Duration::from_secs(1));
        limits.request(&[2u8; 32]).unwrap();
    }

    #[test]
    fn messages_count_each_recipient_and_a_request_above_the_burst_never_passes() {
        let limits = RateLimits::new(&settings(0, 10, 10));
        limits.messages(1, 7).unwrap();
        assert!(limits.messages(1, 4).is_err());
        limits.messages(1, 3).unwrap();
        limits.messages(2, 10).unwrap();
        assert!(limits.messages(3, 11).is_err());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = RateLimits::new(&settings(0, 0, 0));
        for _ in 0..10_000 {
            limits.request(&[1u8; 32]).unwrap();
        }
        limits.messages(1, 1_000_000).unwrap();
    }
}
