//! The `Store` trait: every piece of state dlrgate keeps, behind domain-level methods.
//!
//! One method is one transaction, so no transaction type leaks out, and nothing is acknowledged
//! before the method that stored it has returned. SQLite is the embedded backend; PostgreSQL is
//! the one several nodes can share; both run the same contract tests (`tests/it/store_contract.rs`).
//! Handlers never run SQL: they call these methods.

mod dashboard_types;
mod plan;
mod postgres;
mod rows;
mod rules;
mod sqlite;
mod types;
mod webhook_types;

use async_trait::async_trait;

pub use dashboard_types::{ActivityBucket, ActivityWindow, StatusCount};
pub use postgres::{PgPoolSettings, PgStore};
pub use sqlite::SqliteStore;
pub use types::*;
pub use webhook_types::*;

use crate::domain::status::DeliveryStatus;

/// Everything that can go wrong in a store, independent of the database behind it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("store unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("store error")]
    Other(#[source] sqlx::Error),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Runs one of the hot write transactions and records, in `dlrgate_store_write_seconds{op}`, how
/// long it took, waiting for the writer included: their sum against the wall clock shows how
/// busy the one writer is.
pub(crate) async fn timed_write<T>(
    op: &'static str,
    write: impl std::future::Future<Output = StoreResult<T>>,
) -> StoreResult<T> {
    let begin = std::time::Instant::now();
    let result = write.await;
    metrics::histogram!("dlrgate_store_write_seconds", "op" => op)
        .record(begin.elapsed().as_secs_f64());
    result
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the store can serve requests.
    async fn ping(&self) -> StoreResult<()>;
    /// Closes the store's connections, waiting for running statements (at shutdown).
    async fn close(&self);

    // Accounts and keys.
    async fn create_account(&self, account: NewAccount) -> StoreResult<(Account, i64)>;
    async fn list_accounts(&self) -> StoreResult<Vec<Account>>;
    async fn count_accounts(&self) -> StoreResult<i64>;
    async fn account(&self, id: AccountId) -> StoreResult<Account>;
    async fn account_by_name(&self, name: &str) -> StoreResult<Account>;
    async fn update_billing(&self, id: AccountId, billing: Billing) -> StoreResult<Account>;
    async fn create_api_key(&self, account: AccountId, key_hash: &[u8]) -> StoreResult<i64>;
    async fn revoke_api_key(&self, key_id: i64) -> StoreResult<()>;
    /// The account whose unrevoked key hashes to `key_hash`.
    async fn account_by_key_hash(&self, key_hash: &[u8]) -> StoreResult<Option<Account>>;

    // Messages.
    /// Stores each batch in one transaction (group commit): a batch whose account cannot pay is
    /// rejected alone and the others go through.
    async fn submit(&self, batches: Vec<SubmitBatch>) -> StoreResult<Vec<SubmitOutcome>>;
    /// Cancels those of `ids` that belong to `account` and have not been sent yet.
    async fn cancel_scheduled(
        &self,
        account: AccountId,
        ids: &[MessageId],
    ) -> StoreResult<Vec<MessageId>>;
    /// Queued messages of `connector` whose send time has come, oldest first.
    async fn due_messages(
        &self,
        connector: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueMessage>>;
    /// Claims up to `limit` due messages of `connector` for sending: they leave the queue (no
    /// other loop takes them, a cancel no longer reaches them) until `settle_claims`.
    async fn claim_due(
        &self,
        connector: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueMessage>>;
    /// Messages of `connector` this node claimed and never settled: a previous process of this
    /// node died while sending them (SQLite: the one process).
    async fn claimed(&self, connector: &str) -> StoreResult<Vec<DueMessage>>;
    /// Messages of `connector` claimed by a node that stopped renewing its claims (it died),
    /// now claimed by this one to settle. Always empty on SQLite, where `claimed` finds them.
    async fn take_over_claims(&self, connector: &str) -> StoreResult<Vec<DueMessage>>;
    /// Renews every claim this node holds, so no other node takes them over while it lives.
    async fn renew_claims(&self) -> StoreResult<u64>;
    /// Records that this node lives; returns how many nodes share the store (at least 1; always
    /// 1 on SQLite).
    async fn heartbeat(&self) -> StoreResult<u32>;
    /// What became of claimed messages, in one transaction (see [`SettledClaims`]).
    async fn settle_claims(&self, settled: &SettledClaims) -> StoreResult<Vec<StatusChange>>;
    /// Moves queued messages whose connector is not in `known` to `to` (after a config change).
    async fn reroute_orphans(&self, known: &[String], to: &str) -> StoreResult<u64>;
    /// Marks messages as handed to an operator, applies the reports the operator gave at once
    /// (ACCEPTED, REJECTED…) and stores the reports it scheduled for later.
    async fn record_submissions(
        &self,
        submissions: Vec<Submission>,
    ) -> StoreResult<Vec<StatusChange>>;
    /// Applies operator receipts through the status engine; every receipt is kept as an event.
    async fn apply_receipts(&self, receipts: Vec<Receipt>) -> StoreResult<Vec<StatusChange>>;
    /// Applies receipts that name `connector`'s message ids; one whose id no part has yet is
    /// parked until a submission stores it. One transaction: persist this before acknowledging.
    async fn apply_operator_receipts(
        &self,
        connector: &str,
        receipts: Vec<OperatorReceipt>,
    ) -> StoreResult<OperatorReceiptsOutcome>;
    /// Applies the scheduled reports due at `now` and deletes them, in one transaction.
    async fn apply_due_reports(&self, now: i64, limit: u32) -> StoreResult<Vec<StatusChange>>;
    /// When the next scheduled report is due.
    async fn next_report_due(&self) -> StoreResult<Option<i64>>;

    // Queries.
    /// The messages of `account` among `ids` sent (or due) at or after `since`, in no particular
    /// order; cancelled messages are not included.
    async fn statuses(
        &self,
        account: AccountId,
        ids: &[MessageId],
        since: i64,
    ) -> StoreResult<Vec<StatusView>>;
    async fn journal(
        &self,
        account: AccountId,
        filter: &JournalFilter,
    ) -> StoreResult<Vec<MessageView>>;
    async fn events(&self, account: AccountId, id: MessageId) -> StoreResult<Vec<StatusEvent>>;
    /// How many of `account`'s messages sent at or after `since` have each status (cancelled
    /// ones not counted), ordered by status with `None` (no report yet) first; no zero counts.
    async fn status_counts(&self, account: AccountId, since: i64) -> StoreResult<Vec<StatusCount>>;
    /// `account`'s messages sent and final statuses reached per bucket of `window`, oldest
    /// first; buckets with nothing in them are left out.
    async fn activity(
        &self,
        account: AccountId,
        window: ActivityWindow,
    ) -> StoreResult<Vec<ActivityBucket>>;

    // Webhooks.
    async fn create_hook(&self, hook: NewHook) -> StoreResult<Hook>;
    /// The account's hooks that are not deleted, oldest first.
    async fn hooks(&self, account: AccountId) -> StoreResult<Vec<Hook>>;
    /// Deletes a hook; its pending deliveries are abandoned. False when there was no such hook.
    async fn delete_hook(&self, account: AccountId, id: HookId, now: i64) -> StoreResult<bool>;
    async fn set_hook_enabled(
        &self,
        account: AccountId,
        id: HookId,
        enabled: bool,
        now: i64,
    ) -> StoreResult<Hook>;
    /// Records finished attempts (each moving its delivery on, maybe disabling its hook), hands
    /// back the leases of `released` (unsent) deliveries, then leases due deliveries: per hook
    /// and message only the oldest pending one, at most `per_hook` in flight per hook. One
    /// transaction.
    async fn settle_and_claim(
        &self,
        finished: Vec<AttemptRecord>,
        released: Vec<DeliveryId>,
        claim: ClaimRequest,
    ) -> StoreResult<Settled>;
    /// Hands back every delivery lease this node holds (SQLite: every lease), at start and at a
    /// graceful stop: what it had in flight is due again at once.
    async fn release_leases(&self) -> StoreResult<u64>;
    /// Extends this node's leases of `deliveries` (held by its dispatcher) to `until`; returns
    /// how many it still held.
    async fn renew_leases(&self, deliveries: &[DeliveryId], until: i64) -> StoreResult<u64>;
    /// When the next pending delivery that no lease holds is due.
    async fn next_delivery_due(&self, now: i64) -> StoreResult<Option<i64>>;
    /// The highest delivery id so far: where [`Store::pushed_deliveries`] starts reading.
    async fn last_delivery_id(&self) -> StoreResult<DeliveryId>;
    /// Up to `limit` deliveries that status changes created leased for this process's dispatcher
    /// and that it has not read yet (the outbox's fast path: no claim before the first attempt).
    /// SQLite reads them after the cursor `after`; PostgreSQL, whose commits do not follow id
    /// order, marks them instead and ignores `after` (store/postgres/outbox.rs).
    async fn pushed_deliveries(
        &self,
        after: DeliveryId,
        now: i64,
        limit: u32,
    ) -> StoreResult<Pushed>;
    /// A hook's attempt log, newest first.
    async fn attempts(
        &self,
        account: AccountId,
        hook: HookId,
        limit: u32,
    ) -> StoreResult<Vec<AttemptView>>;
    async fn deliveries(
        &self,
        account: AccountId,
        hook: HookId,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryView>>;
    async fn resend_delivery(
        &self,
        account: AccountId,
        hook: HookId,
        delivery: DeliveryId,
        now: i64,
    ) -> StoreResult<bool>;
    async fn recover_deliveries(
        &self,
        account: AccountId,
        hook: HookId,
        since: i64,
        now: i64,
    ) -> StoreResult<u64>;
    /// Makes `secret` the signing secret; the old one keeps signing until `previous_until`.
    async fn rotate_signing_secret(
        &self,
        account: AccountId,
        secret: &str,
        previous_until: i64,
    ) -> StoreResult<()>;

    // Housekeeping.
    /// Deletes up to `limit` messages (and their parts, events and scheduled reports) sent before
    /// `cutoff`, except queued ones, and parked receipts received before it. Returns how many
    /// messages went.
    async fn purge(&self, cutoff: i64, limit: u32) -> StoreResult<u64>;
    async fn queue_depths(&self) -> StoreResult<QueueDepths>;
    /// Every hook that is not deleted with its pending deliveries (the outbox), for the metrics
    /// scrape: how many, and when the oldest was created. Reads the pending-deliveries index.
    async fn outbox_by_hook(&self) -> StoreResult<Vec<HookOutbox>>;
    /// Messages by status since `since`, each hook's pending and failed deliveries, and the live
    /// nodes: an operator's summary (`dlrgate status`), read in one snapshot.
    async fn overview(&self, since: i64) -> StoreResult<Overview>;
    /// Marks the hooks with at least `full_at` pending deliveries as full (status changes create
    /// no deliveries for them) and clears the mark of those with fewer than `resume_below`.
    async fn check_backlogs(&self, full_at: u32, resume_below: u32) -> StoreResult<Backlogs>;
}

/// A status change of a whole message, for metrics and (later) webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusChange {
    pub message_id: MessageId,
    pub account_id: AccountId,
    pub status: DeliveryStatus,
    pub at: i64,
    /// When the message was due to be sent (accepted, or its scheduled time), read with its
    /// state: the send-to-final latency needs no query of its own.
    pub send_at: i64,
    /// The connector that has the message (its route, then the one that sent it).
    pub connector: String,
}
