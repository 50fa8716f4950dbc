//! Plain data passed in and out of the `Store`. Times are unix milliseconds, money micro-units.

use crate::domain::status::{DeliveryStatus, InternalState};
use crate::store::HookId;
use crate::store::StatusChange;

pub type AccountId = i64;
pub type MessageId = i64;

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub signing_secret: String,
    pub price_per_part_micros: i64,
    /// `None` means unlimited.
    pub balance_micros: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub api_key_hash: Vec<u8>,
    pub signing_secret: String,
    pub billing: Billing,
    pub created_at: i64,
}

/// Price and balance of an account; `None` fields are left as they are on update.
#[derive(Debug, Clone, Copy, Default)]
pub struct Billing {
    pub price_per_part_micros: Option<i64>,
    /// `Some(None)` makes the balance unlimited.
    pub balance_micros: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub recipient: String,
    pub sender: String,
    pub text: String,
    pub encoding: String,
    pub parts: u32,
    pub price_micros: i64,
    pub label: Option<String>,
    pub foreign_id: Option<String>,
    pub udh: Option<String>,
    pub flash: bool,
    pub ttl_minutes: Option<u32>,
    pub send_at: i64,
    /// The connector routing chose for it.
    pub connector: String,
}

/// The messages of one API request: stored together or not at all.
#[derive(Debug, Clone)]
pub struct SubmitBatch {
    pub account_id: AccountId,
    pub created_at: i64,
    pub messages: Vec<NewMessage>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    /// The ids of the stored messages, in the order of the batch, and the balance left.
    Stored {
        ids: Vec<MessageId>,
        balance_micros: Option<i64>,
    },
    InsufficientBalance,
}

/// A queued message whose time has come, as an operator needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueMessage {
    pub id: MessageId,
    pub account_id: AccountId,
    pub recipient: String,
    pub sender: String,
    pub text: String,
    pub parts: u32,
    pub flash: bool,
    pub ttl_minutes: Option<u32>,
    pub send_at: i64,
}

/// What an operator did with a due message.
#[derive(Debug, Clone)]
pub struct Submission {
    pub message_id: MessageId,
    pub connector: String,
    pub at: i64,
    /// Reports known at submit time (ACCEPTED, or REJECTED for a permanent error).
    pub immediate: Vec<Receipt>,
    /// Reports the operator will give later (the sandbox's plan).
    pub scheduled: Vec<Receipt>,
    /// The operator's message id of each part, as matching keys (`receipt::normalize_id`).
    /// Receipts parked for these ids are applied in the same transaction.
    pub operator_ids: Vec<(u32, String)>,
}

/// What became of a batch of claimed messages.
#[derive(Debug, Clone, Default)]
pub struct SettledClaims {
    /// Handed to the operator: recorded as `record_submissions` does.
    pub submissions: Vec<Submission>,
    /// Not sent: back in the queue.
    pub release: Vec<MessageId>,
    /// Given up on: queued again on `fallback`.
    pub reroute: Vec<MessageId>,
    pub fallback: Option<String>,
}

/// A receipt that names the operator's message id, not dlrgate's (SMPP, upstream HTTP).
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorReceipt {
    /// The matching key (`receipt::normalize_id`).
    pub operator_id: String,
    pub status: DeliveryStatus,
    pub at: i64,
    pub error_code: Option<String>,
    pub raw: Option<String>,
}

/// What became of a batch of operator receipts; every one was stored either way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperatorReceiptsOutcome {
    pub changes: Vec<StatusChange>,
    pub matched: usize,
    /// Receipts no part matched yet; applied when a submission stores their id.
    pub parked: usize,
}

/// One operator report on one part of a message. For scheduled reports `at` is the due time.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub message_id: MessageId,
    pub part: u32,
    pub status: DeliveryStatus,
    pub at: i64,
    pub source: String,
    pub error_code: Option<String>,
    pub raw: Option<String>,
}

/// A message as the status API and the logbook show it.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub id: MessageId,
    pub recipient: String,
    pub sender: String,
    pub text: String,
    pub encoding: String,
    pub parts: u32,
    pub price_micros: i64,
    pub label: Option<String>,
    pub foreign_id: Option<String>,
    pub created_at: i64,
    pub send_at: i64,
    pub state: InternalState,
    pub status: Option<DeliveryStatus>,
    pub status_at: Option<i64>,
    pub error_code: Option<String>,
}

/// What `/api/status` reports of one message: its operator status and when it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusView {
    pub id: MessageId,
    pub status: Option<DeliveryStatus>,
    pub status_at: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalFilter {
    pub id: Option<MessageId>,
    /// Send time at or after this.
    pub from: Option<i64>,
    /// Send time strictly before this.
    pub to_before: Option<i64>,
    pub status: Option<DeliveryStatus>,
    pub recipient: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// One entry of a message's history.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEvent {
    pub part: Option<u32>,
    pub kind: String,
    pub state: String,
    pub effect: String,
    pub at: i64,
    pub source: String,
    pub error_code: Option<String>,
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueDepths {
    pub queued_messages: i64,
    pub scheduled_reports: i64,
    pub parked_receipts: i64,
}

/// Counts for an operator's summary (`dlrgate status`, `dlrgate hooks`), over every account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Messages sent (or due) at or after the given time, by their status: the latest operator
    /// status, or the internal state (`queued`, `sending`, `cancelled`…) before the first one.
    /// Sorted by status.
    pub messages: Vec<(String, i64)>,
    /// Every hook not deleted, by id.
    pub hooks: Vec<HookCounts>,
    /// Nodes seen within one lease (PostgreSQL); always 1 on SQLite.
    pub nodes: u32,
}

/// The deliveries of one hook by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookCounts {
    pub hook_id: HookId,
    pub account_id: AccountId,
    pub pending: i64,
    /// Failed or abandoned: what `dlrgate replay` can send again.
    pub failed: i64,
}
