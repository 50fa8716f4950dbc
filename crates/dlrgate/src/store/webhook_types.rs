//! Data of webhooks passed in and out of the `Store`: hooks, deliveries (the outbox) and attempts.

use crate::domain::status::DeliveryStatus;
use crate::store::{AccountId, MessageId};

pub type HookId = i64;
pub type DeliveryId = i64;

#[derive(Debug, Clone, PartialEq)]
pub struct NewHook {
    pub account_id: AccountId,
    pub target_url: String,
    pub event_type: String,
    pub request_method: String,
    pub event_filter: Option<String>,
    pub headers: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub id: HookId,
    pub account_id: AccountId,
    pub target_url: String,
    pub event_type: String,
    pub request_method: String,
    pub event_filter: Option<String>,
    pub headers: String,
    pub enabled: bool,
    pub created_at: i64,
    pub failing_since: Option<i64>,
    pub disabled_reason: Option<String>,
    /// Its pending deliveries reached `limits.pending_deliveries_per_hook`: it gets no new ones
    /// until the backlog is below 90 % of the limit.
    pub backlog_full: bool,
}

/// What one check of the per-hook backlog limit changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Backlogs {
    /// Hooks that reached the limit and get no new deliveries from now on.
    pub filled: Vec<HookId>,
    /// Hooks below the resume mark again, getting new deliveries from now on.
    pub resumed: Vec<HookId>,
}

/// One hook's pending deliveries, as the metrics scrape reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookOutbox {
    pub hook_id: HookId,
    pub pending: i64,
    /// When its oldest pending delivery was created (unix ms); `None` when nothing is pending.
    pub oldest_created_at: Option<i64>,
}

/// A delivery a dispatcher has leased, with what it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub attempts: u32,
    pub created_at: i64,
    pub hook: Hook,
    pub message_id: MessageId,
    pub status: DeliveryStatus,
    pub status_at: i64,
    pub recipient: String,
    pub sender: String,
    pub foreign_id: Option<String>,
    pub label: Option<String>,
    /// The account's signing secrets: current first, then the previous one during its grace.
    pub secrets: Vec<String>,
}

/// What became of one attempt, as the dispatcher decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFate {
    Delivered,
    /// Try again at this time (unix ms).
    Retry {
        at: i64,
    },
    /// The receiver refused it for good (a 4xx other than 429); 410 also disables the hook.
    Failed {
        disable_hook: bool,
    },
    /// Every attempt of the schedule failed.
    Abandoned,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub delivery_id: DeliveryId,
    pub hook_id: HookId,
    pub at: i64,
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    /// `None` on success, else one of the closed set in the attempt log.
    pub error_class: Option<&'static str>,
    pub detail: Option<String>,
    pub response_snippet: Option<String>,
    pub fate: DeliveryFate,
    /// A hook failing since longer than this (ms) is disabled by this failure.
    pub disable_after_ms: i64,
}

/// What recording an attempt did to the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookChange {
    None,
    Disabled,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttemptView {
    pub id: i64,
    pub delivery_id: DeliveryId,
    pub message_id: MessageId,
    pub status: String,
    pub attempt: u32,
    pub at: i64,
    pub http_status: Option<u16>,
    pub latency_ms: i64,
    pub error_class: Option<String>,
    pub detail: Option<String>,
    pub response_snippet: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryView {
    pub id: DeliveryId,
    pub hook_id: HookId,
    pub message_id: MessageId,
    pub status: String,
    pub state: String,
    pub attempts: u32,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

/// What a dispatcher asks for when it claims deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRequest {
    pub now: i64,
    /// Most deliveries to lease; 0 only settles.
    pub limit: u32,
    /// Most deliveries of one hook leased at once (counting those already in flight), for hooks
    /// not in `per_hook_limits`.
    pub per_hook: u32,
    /// The limit of particular hooks (the dispatcher's adaptive concurrency).
    pub per_hook_limits: std::collections::HashMap<HookId, u32>,
    pub lease_until: i64,
}

/// The result of a dispatcher cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// Hooks that the recorded failures disabled.
    pub disabled_hooks: Vec<HookId>,
    pub claimed: Vec<DueDelivery>,
}

/// Deliveries created leased for this process's dispatcher, read after their commit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pushed {
    /// The last delivery id read: the next read starts after it.
    pub cursor: DeliveryId,
    /// Whether the read stopped at its limit (more may follow at once).
    pub full: bool,
    /// Those that may go out now, in id order.
    pub deliveries: Vec<DueDelivery>,
    /// Those created leased that may not go out yet: to release.
    pub stale: Vec<DeliveryId>,
}
