//! `[limits]`: the abuse limits one tenant cannot go beyond, so it cannot exhaust the gateway or
//! its store for the others. Enforced per node (docs/security.md).

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Sustained requests per second of one API key; 0 turns the limit off.
    pub requests_per_second: u32,
    /// Requests one key may make at once above the sustained rate.
    pub request_burst: u32,
    /// Sustained messages (recipients) per second of one account; 0 turns the limit off.
    pub messages_per_second: u32,
    /// Messages one account may send at once above the sustained rate.
    pub message_burst: u32,
    /// Most hooks one account may have; 0 means no limit.
    pub hooks_per_account: u32,
    /// Pending deliveries one hook may have before it receives no new ones; 0 means no limit.
    pub pending_deliveries_per_hook: u32,
    /// How often the pending deliveries of every hook are counted.
    #[serde(with = "humantime_serde")]
    pub backlog_check_interval: Duration,
}

impl LimitSettings {
    /// Why these limits cannot work, with the key to blame.
    pub fn problem(&self, max_recipients: usize) -> Option<(&'static str, &'static str)> {
        if self.requests_per_second > 0 && self.request_burst < self.requests_per_second {
            return Some((
                "limits.request_burst",
                "must be at least limits.requests_per_second",
            ));
        }
        if self.messages_per_second > 0 {
            if self.message_burst < self.messages_per_second {
                return Some((
                    "limits.message_burst",
                    "must be at least limits.messages_per_second",
                ));
            }
            if (self.message_burst as usize) < max_recipients {
                return Some((
                    "limits.message_burst",
                    "must be at least sms.max_recipients, or a full request could never pass",
                ));
            }
        }
        if self.backlog_check_interval.is_zero() {
            return Some(("limits.backlog_check_interval", "must be longer than zero"));
        }
        None
    }
}
