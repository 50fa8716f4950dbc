//! The embedded SQLite backend: one file in WAL mode. The hot writes (`hot`) run on the write
//! thread's own rusqlite connection, several to a commit (`write_runtime`); the rare ones go
//! through sqlx's one writer connection, which the write thread holds while it writes, so SQLite
//! never sees two writers at once (no `SQLITE_BUSY`). Reads go to a pool of sqlx readers and, for
//! status queries and key lookups, to `direct` readers. `synchronous = FULL` by default, so a
//! commit has reached the disk before any caller acknowledges what it stored.

mod accounts;
mod attempts;
mod backlog;
mod dashboard;
mod direct;
mod hooks;
mod hot;
mod messages;
mod outbox;
mod overview;
mod reports;
mod rows;
mod write_runtime;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::*;

/// Page cache of the write thread's connection (negative: KiB), where every hot insert and update
/// lands. (16 MiB here and 8 MiB for sqlx's writer left the peak RSS at 1,000,000 messages
/// unchanged, BENCHMARKS.md.)
const WRITER_CACHE_KIB: &str = "-32768";
/// Page cache of each reader connection (sqlx's 4 and the `DIRECT_READERS`). Readers walk
/// recent rows (status queries, the outbox's fast path); a large cache each made the process grow
/// with the store (378 MiB after 1,000,000 messages with 32 MiB each).
const READER_CACHE_KIB: &str = "-8192";

/// Rows sqlx's worker thread may hand over before the reader takes them. With its default (50)
/// the worker blocks and wakes the reader once per 50 rows; a 1,000-row logbook page fits whole.
const ROW_BUFFER: usize = 1024;

/// Threads of `direct::DirectReaders`, which serve the status query and API-key lookups.
const DIRECT_READERS: usize = 2;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    direct: direct::DirectReaders,
    writes: write_runtime::WriteRuntime,
}

/// Maps sqlx errors into the store's vocabulary.
pub(crate) fn map_err(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(error)
        }
        _ => StoreError::Other(error),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `dlrgate.db` in `data_dir` and applies the migrations.
    pub async fn open(data_dir: &Path, synchronous_full: bool) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|error| StoreError::Unavailable(sqlx::Error::Io(error)))?;
        let path = data_dir.join("dlrgate.db");
        let synchronous = if synchronous_full {
            SqliteSynchronous::Full
        } else {
            SqliteSynchronous::Normal
        };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(map_err)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", WRITER_CACHE_KIB)
            .row_buffer_size(ROW_BUFFER);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // An embedded connection does not go stale; the write thread takes it per batch.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|error| StoreError::Other(error.into()))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                options
                    .read_only(true)
                    .pragma("cache_size", READER_CACHE_KIB),
            )
            .await
            .map_err(map_err)?;
        let direct = direct::DirectReaders::open(&path, DIRECT_READERS)?;
        let hot_writer = hot::open_writer(&path, synchronous_full).map_err(hot::map_err)?;
        Ok(SqliteStore {
            writes: write_runtime::WriteRuntime::start(writer.clone(), hot_writer)?,
            writer,
            reader,
            direct,
        })
    }

    /// Closes both pools, waiting for running statements.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }
    async fn close(&self) {
        SqliteStore::close(self).await;
    }

    async fn create_account(&self, account: NewAccount) -> StoreResult<(Account, i64)> {
        accounts::create(&self.writer, account).await
    }
    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        accounts::list(&self.reader).await
    }
    async fn count_accounts(&self) -> StoreResult<i64> {
        accounts::count(&self.reader).await
    }
    async fn account(&self, id: AccountId) -> StoreResult<Account> {
        accounts::by_id(&self.reader, id).await
    }
    async fn account_by_name(&self, name: &str) -> StoreResult<Account> {
        accounts::by_name(&self.reader, name).await
    }
    async fn update_billing(&self, id: AccountId, billing: Billing) -> StoreResult<Account> {
        accounts::update_billing(&self.writer, id, billing).await
    }
    async fn create_api_key(&self, account: AccountId, key_hash: &[u8]) -> StoreResult<i64> {
        accounts::create_key(&self.writer, account, key_hash).await
    }
    async fn revoke_api_key(&self, key_id: i64) -> StoreResult<()> {
        accounts::revoke_key(&self.writer, key_id).await
    }
    async fn account_by_key_hash(&self, key_hash: &[u8]) -> StoreResult<Option<Account>> {
        self.direct.account_by_key_hash(key_hash).await
    }

    async fn submit(&self, batches: Vec<SubmitBatch>) -> StoreResult<Vec<SubmitOutcome>> {
        self.writes
            .run("submit", move |conn| hot::submit(conn, &batches))
            .await
    }
    async fn cancel_scheduled(
        &self,
        account: AccountId,
        ids: &[MessageId],
    ) -> StoreResult<Vec<MessageId>> {
        messages::cancel(&self.writer, account, ids).await
    }
    async fn due_messages(
        &self,
        connector: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueMessage>> {
        messages::due(&self.writer, connector, now, limit).await
    }
    async fn claim_due(
        &self,
        connector: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueMessage>> {
        let connector = connector.to_owned();
        self.writes
            .run("claim_due", move |conn| {
                hot::claim_due(conn, &connector, now, limit)
            })
            .await
    }
    async fn claimed(&self, connector: &str) -> StoreResult<Vec<DueMessage>> {
        messages::claimed(&self.reader, connector).await
    }
    async fn take_over_claims(&self, _connector: &str) -> StoreResult<Vec<DueMessage>> {
        // One process: a claim it holds is its own; those of a dead process are `claimed`.
        Ok(Vec::new())
    }
    async fn renew_claims(&self) -> StoreResult<u64> {
        // Claims never run out on SQLite: no other process could take them over.
        Ok(0)
    }
    async fn heartbeat(&self) -> StoreResult<u32> {
        Ok(1)
    }
    async fn settle_claims(&self, settled: &SettledClaims) -> StoreResult<Vec<StatusChange>> {
        let settled = settled.clone();
        self.writes
            .run("settle_claims", move |conn| {
                hot::settle_claims(conn, &settled)
            })
            .await
    }
    async fn reroute_orphans(&self, known: &[String], to: &str) -> StoreResult<u64> {
        messages::reroute_orphans(&self.writer, known, to).await
    }
    async fn record_submissions(
        &self,
        submissions: Vec<Submission>,
    ) -> StoreResult<Vec<StatusChange>> {
        self.writes
            .run("record_submissions", move |conn| {
                hot::record_submissions(conn, &submissions)
            })
            .await
    }
    async fn apply_receipts(&self, receipts: Vec<Receipt>) -> StoreResult<Vec<StatusChange>> {
        self.writes
            .run("apply_receipts", move |conn| {
                hot::apply_receipts(conn, &receipts)
            })
            .await
    }
    async fn apply_operator_receipts(
        &self,
        connector: &str,
        receipts: Vec<OperatorReceipt>,
    ) -> StoreResult<OperatorReceiptsOutcome> {
        let now = crate::workers::now_millis();
        let connector = connector.to_owned();
        self.writes
            .run("apply_operator_receipts", move |conn| {
                hot::apply_operator_receipts(conn, &connector, receipts, now)
            })
            .await
    }
    async fn apply_due_reports(&self, now: i64, limit: u32) -> StoreResult<Vec<StatusChange>> {
        self.writes
            .run("apply_due_reports", move |conn| {
                hot::apply_due(conn, now, limit)
            })
            .await
    }
    async fn next_report_due(&self) -> StoreResult<Option<i64>> {
        reports::next_due(&self.reader).await
    }

    async fn statuses(
        &self,
        account: AccountId,
        ids: &[MessageId],
        since: i64,
    ) -> StoreResult<Vec<StatusView>> {
        self.direct.statuses(account, ids, since).await
    }
    async fn journal(
        &self,
        account: AccountId,
        filter: &JournalFilter,
    ) -> StoreResult<Vec<MessageView>> {
        messages::journal(&self.reader, account, filter).await
    }
    async fn events(&self, account: AccountId, id: MessageId) -> StoreResult<Vec<StatusEvent>> {
        reports::events(&self.reader, account, id).await
    }
    async fn status_counts(&self, account: AccountId, since: i64) -> StoreResult<Vec<StatusCount>> {
        dashboard::status_counts(&self.reader, account, since).await
    }
    async fn activity(
        &self,
        account: AccountId,
        window: ActivityWindow,
    ) -> StoreResult<Vec<ActivityBucket>> {
        dashboard::activity(&self.reader, account, window).await
    }

    async fn create_hook(&self, hook: NewHook) -> StoreResult<Hook> {
        hooks::create(&self.writer, hook).await
    }
    async fn hooks(&self, account: AccountId) -> StoreResult<Vec<Hook>> {
        hooks::list(&self.reader, account).await
    }
    async fn delete_hook(&self, account: AccountId, id: HookId, now: i64) -> StoreResult<bool> {
        hooks::delete(&self.writer, account, id, now).await
    }
    async fn set_hook_enabled(
        &self,
        account: AccountId,
        id: HookId,
        enabled: bool,
        now: i64,
    ) -> StoreResult<Hook> {
        hooks::set_enabled(&self.writer, account, id, enabled, now).await
    }
    async fn settle_and_claim(
        &self,
        finished: Vec<AttemptRecord>,
        released: Vec<DeliveryId>,
        claim: ClaimRequest,
    ) -> StoreResult<Settled> {
        self.writes
            .run("settle_and_claim", move |conn| {
                hot::settle_and_claim(conn, &finished, &released, &claim)
            })
            .await
    }
    async fn release_leases(&self) -> StoreResult<u64> {
        hooks::release_leases(&self.writer).await
    }
    async fn renew_leases(&self, deliveries: &[DeliveryId], until: i64) -> StoreResult<u64> {
        hooks::renew_leases(&self.writer, deliveries, until).await
    }
    async fn next_delivery_due(&self, now: i64) -> StoreResult<Option<i64>> {
        hooks::next_due(&self.reader, now).await
    }
    async fn last_delivery_id(&self) -> StoreResult<DeliveryId> {
        outbox::last_id(&self.reader).await
    }
    async fn pushed_deliveries(
        &self,
        after: DeliveryId,
        now: i64,
        limit: u32,
    ) -> StoreResult<Pushed> {
        outbox::pushed(&self.reader, after, now, limit).await
    }
    async fn attempts(
        &self,
        account: AccountId,
        hook: HookId,
        limit: u32,
    ) -> StoreResult<Vec<AttemptView>> {
        attempts::list(&self.reader, account, hook, limit).await
    }
    async fn deliveries(
        &self,
        account: AccountId,
        hook: HookId,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryView>> {
        attempts::deliveries(&self.reader, account, hook, limit).await
    }
    async fn resend_delivery(
        &self,
        account: AccountId,
        hook: HookId,
        delivery: DeliveryId,
        now: i64,
    ) -> StoreResult<bool> {
        attempts::resend(&self.writer, account, hook, delivery, now).await
    }
    async fn recover_deliveries(
        &self,
        account: AccountId,
        hook: HookId,
        since: i64,
        now: i64,
    ) -> StoreResult<u64> {
        attempts::recover(&self.writer, account, hook, since, now).await
    }
    async fn rotate_signing_secret(
        &self,
        account: AccountId,
        secret: &str,
        previous_until: i64,
    ) -> StoreResult<()> {
        accounts::rotate_secret(&self.writer, account, secret, previous_until).await
    }

    async fn purge(&self, cutoff: i64, limit: u32) -> StoreResult<u64> {
        reports::purge(&self.writer, cutoff, limit).await
    }
    async fn queue_depths(&self) -> StoreResult<QueueDepths> {
        reports::queue_depths(&self.reader).await
    }
    async fn outbox_by_hook(&self) -> StoreResult<Vec<HookOutbox>> {
        backlog::outbox_by_hook(&self.reader).await
    }
    async fn overview(&self, since: i64) -> StoreResult<Overview> {
        overview::overview(&self.reader, since).await
    }
    async fn check_backlogs(&self, full_at: u32, resume_below: u32) -> StoreResult<Backlogs> {
        backlog::check(&self.writer, &self.reader, full_at, resume_below).await
    }
}
