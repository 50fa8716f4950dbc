//! `Store` for `PgStore`: each method is one module function, and each that writes runs through
//! [`retrying`], so a transaction PostgreSQL aborted for a concurrent one runs again.

use async_trait::async_trait;

use super::retrying;
use super::{
    PgStore, accounts, attempts, backlog, dashboard, hooks, map_err, messages, nodes, operators,
    outbox, overview, reports,
};
use crate::store::*;

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
    async fn close(&self) {
        PgStore::close(self).await;
    }

    async fn create_account(&self, account: NewAccount) -> StoreResult<(Account, i64)> {
        retrying(|| accounts::create(&self.pool, &account)).await
    }
    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        accounts::list(&self.pool).await
    }
    async fn count_accounts(&self) -> StoreResult<i64> {
        accounts::count(&self.pool).await
    }
    async fn account(&self, id: AccountId) -> StoreResult<Account> {
        accounts::by_id(&self.pool, id).await
    }
    async fn account_by_name(&self, name: &str) -> StoreResult<Account> {
        accounts::by_name(&self.pool, name).await
    }
    async fn update_billing(&self, id: AccountId, billing: Billing) -> StoreResult<Account> {
        retrying(|| accounts::update_billing(&self.pool, id, billing)).await
    }
    async fn create_api_key(&self, account: AccountId, key_hash: &[u8]) -> StoreResult<i64> {
        retrying(|| accounts::create_key(&self.pool, account, key_hash)).await
    }
    async fn revoke_api_key(&self, key_id: i64) -> StoreResult<()> {
        retrying(|| accounts::revoke_key(&self.pool, key_id)).await
    }
    async fn account_by_key_hash(&self, key_hash: &[u8]) -> StoreResult<Option<Account>> {
        accounts::by_key_hash(&self.pool, key_hash).await
    }

    async fn submit(&self, batches: Vec<SubmitBatch>) -> StoreResult<Vec<SubmitOutcome>> {
        timed_write(
            "submit",
            retrying(|| messages::submit(&self.pool, &batches)),
        )
        .await
    }
    async fn cancel_scheduled(
        &self,
        account: AccountId,
        ids: &[MessageId],
    ) -> StoreResult<Vec<MessageId>> {
        retrying(|| messages::cancel(&self.pool, account, ids)).await
    }
    async fn due_messages(
        &self,
        connector: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueMessage>> {
        messages::due(&self.pool, connector, now, limit).await
    }
    async fn claim_due(
        &self,
        connector: &str,
        now: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueMessage>> {
        timed_write(
            "claim_due",
            retrying(|| messages::claim_due(&self.pool, connector, now, limit)),
        )
        .await
    }
    async fn claimed(&self, connector: &str) -> StoreResult<Vec<DueMessage>> {
        messages::claimed(&self.pool, connector).await
    }
    async fn take_over_claims(&self, connector: &str) -> StoreResult<Vec<DueMessage>> {
        retrying(|| nodes::take_over_claims(&self.pool, connector)).await
    }
    async fn renew_claims(&self) -> StoreResult<u64> {
        retrying(|| nodes::renew_claims(&self.pool)).await
    }
    async fn heartbeat(&self) -> StoreResult<u32> {
        retrying(|| nodes::heartbeat(&self.pool)).await
    }
    async fn settle_claims(&self, settled: &SettledClaims) -> StoreResult<Vec<StatusChange>> {
        timed_write(
            "settle_claims",
            retrying(|| operators::settle_claims(&self.pool, settled)),
        )
        .await
    }
    async fn reroute_orphans(&self, known: &[String], to: &str) -> StoreResult<u64> {
        retrying(|| operators::reroute_orphans(&self.pool, known, to)).await
    }
    async fn record_submissions(
        &self,
        submissions: Vec<Submission>,
    ) -> StoreResult<Vec<StatusChange>> {
        timed_write(
            "record_submissions",
            retrying(|| reports::record_submissions(&self.pool, &submissions)),
        )
        .await
    }
    async fn apply_receipts(&self, receipts: Vec<Receipt>) -> StoreResult<Vec<StatusChange>> {
        timed_write(
            "apply_receipts",
            retrying(|| reports::apply_receipts(&self.pool, &receipts)),
        )
        .await
    }
    async fn apply_operator_receipts(
        &self,
        connector: &str,
        receipts: Vec<OperatorReceipt>,
    ) -> StoreResult<OperatorReceiptsOutcome> {
        let now = crate::workers::now_millis();
        timed_write(
            "apply_operator_receipts",
            retrying(|| operators::apply_operator_receipts(&self.pool, connector, &receipts, now)),
        )
        .await
    }
    async fn apply_due_reports(&self, now: i64, limit: u32) -> StoreResult<Vec<StatusChange>> {
        timed_write(
            "apply_due_reports",
            retrying(|| reports::apply_due(&self.pool, now, limit)),
        )
        .await
    }
    async fn next_report_due(&self) -> StoreResult<Option<i64>> {
        reports::next_due(&self.pool).await
    }

    async fn statuses(
        &self,
        account: AccountId,
        ids: &[MessageId],
        since: i64,
    ) -> StoreResult<Vec<StatusView>> {
        messages::statuses(&self.pool, account, ids, since).await
    }
    async fn journal(
        &self,
        account: AccountId,
        filter: &JournalFilter,
    ) -> StoreResult<Vec<MessageView>> {
        messages::journal(&self.pool, account, filter).await
    }
    async fn events(&self, account: AccountId, id: MessageId) -> StoreResult<Vec<StatusEvent>> {
        reports::events(&self.pool, account, id).await
    }
    async fn status_counts(&self, account: AccountId, since: i64) -> StoreResult<Vec<StatusCount>> {
        dashboard::status_counts(&self.pool, account, since).await
    }
    async fn activity(
        &self,
        account: AccountId,
        window: ActivityWindow,
    ) -> StoreResult<Vec<ActivityBucket>> {
        dashboard::activity(&self.pool, account, window).await
    }

    async fn create_hook(&self, hook: NewHook) -> StoreResult<Hook> {
        retrying(|| hooks::create(&self.pool, &hook)).await
    }
    async fn hooks(&self, account: AccountId) -> StoreResult<Vec<Hook>> {
        hooks::list(&self.pool, account).await
    }
    async fn delete_hook(&self, account: AccountId, id: HookId, now: i64) -> StoreResult<bool> {
        retrying(|| hooks::delete(&self.pool, account, id, now)).await
    }
    async fn set_hook_enabled(
        &self,
        account: AccountId,
        id: HookId,
        enabled: bool,
        now: i64,
    ) -> StoreResult<Hook> {
        retrying(|| hooks::set_enabled(&self.pool, account, id, enabled, now)).await
    }
    async fn settle_and_claim(
        &self,
        finished: Vec<AttemptRecord>,
        released: Vec<DeliveryId>,
        claim: ClaimRequest,
    ) -> StoreResult<Settled> {
        timed_write(
            "settle_and_claim",
            retrying(|| hooks::settle_and_claim(&self.pool, &finished, &released, &claim)),
        )
        .await
    }
    async fn release_leases(&self) -> StoreResult<u64> {
        retrying(|| hooks::release_leases(&self.pool)).await
    }
    async fn renew_leases(&self, deliveries: &[DeliveryId], until: i64) -> StoreResult<u64> {
        retrying(|| hooks::renew_leases(&self.pool, deliveries, until)).await
    }
    async fn next_delivery_due(&self, now: i64) -> StoreResult<Option<i64>> {
        hooks::next_due(&self.pool, now).await
    }
    async fn last_delivery_id(&self) -> StoreResult<DeliveryId> {
        outbox::last_id(&self.pool).await
    }
    async fn pushed_deliveries(
        &self,
        after: DeliveryId,
        now: i64,
        limit: u32,
    ) -> StoreResult<Pushed> {
        retrying(|| outbox::pushed(&self.pool, after, now, limit)).await
    }
    async fn attempts(
        &self,
        account: AccountId,
        hook: HookId,
        limit: u32,
    ) -> StoreResult<Vec<AttemptView>> {
        attempts::list(&self.pool, account, hook, limit).await
    }
    async fn deliveries(
        &self,
        account: AccountId,
        hook: HookId,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryView>> {
        attempts::deliveries(&self.pool, account, hook, limit).await
    }
    async fn resend_delivery(
        &self,
        account: AccountId,
        hook: HookId,
        delivery: DeliveryId,
        now: i64,
    ) -> StoreResult<bool> {
        retrying(|| attempts::resend(&self.pool, account, hook, delivery, now)).await
    }
    async fn recover_deliveries(
        &self,
        account: AccountId,
        hook: HookId,
        since: i64,
        now: i64,
    ) -> StoreResult<u64> {
        retrying(|| attempts::recover(&self.pool, account, hook, since, now)).await
    }
    async fn rotate_signing_secret(
        &self,
        account: AccountId,
        secret: &str,
        previous_until: i64,
    ) -> StoreResult<()> {
        retrying(|| accounts::rotate_secret(&self.pool, account, secret, previous_until)).await
    }

    async fn purge(&self, cutoff: i64, limit: u32) -> StoreResult<u64> {
        retrying(|| reports::purge(&self.pool, cutoff, limit)).await
    }
    async fn queue_depths(&self) -> StoreResult<QueueDepths> {
        reports::queue_depths(&self.pool).await
    }
    async fn outbox_by_hook(&self) -> StoreResult<Vec<HookOutbox>> {
        backlog::outbox_by_hook(&self.pool).await
    }
    async fn overview(&self, since: i64) -> StoreResult<Overview> {
        overview::overview(&self.pool, since).await
    }
    async fn check_backlogs(&self, full_at: u32, resume_below: u32) -> StoreResult<Backlogs> {
        retrying(|| backlog::check(&self.pool, full_at, resume_below)).await
    }
}
