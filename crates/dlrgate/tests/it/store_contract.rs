//! The `Store` contract: one `pub async fn …(store: &dyn Store)` per behaviour, run against every
//! backend: SQLite (`sqlite`) and PostgreSQL (`postgres`, on the local server; it fails when the
//! server is unreachable), each through one `store_contract_tests!(…)` invocation with its opener.
//!
//! This is the one place tests import server types: the store has no wire of its own, so its types
//! are its contract. Every function creates its own account, so none depends on another. Functions
//! that look at store-wide views (`due_messages`, `next_report_due`, `queue_depths`, `purge`)
//! expect a store that no other test writes to while they run; the openers give each test a fresh one.

#![allow(clippy::unwrap_used)]

/// Expands to one `#[tokio::test]` per contract function, each on a fresh store from `$open`
/// (an async fn returning something with `fn store(&self) -> &dyn Store`).
macro_rules! store_contract_tests {
    ($open:path) => {
        store_contract_tests! { @each $open;
            accounts::created_account_is_found_by_its_key_hash,
            accounts::revoked_key_finds_no_account_and_other_keys_still_work,
            accounts::duplicate_account_name_or_key_is_a_conflict,
            accounts::unknown_key_or_account_is_not_found,
            accounts::two_accounts_never_see_each_others_messages,
            accounts::billing_update_changes_price_and_balance,
            backlog::a_full_backlog_stops_new_deliveries_until_it_drained,
            backlog::outbox_by_hook_counts_pending_deliveries_and_dates_the_oldest,
            dashboard::status_counts_count_each_status_of_the_account_since_a_time,
            dashboard::activity_counts_sends_by_send_time_and_finals_by_status_time,
            submit::ids_are_unique_and_ascending_across_batches_and_calls,
            submit::every_part_of_a_message_takes_receipts,
            submit::stored_batch_debits_its_price_from_the_balance,
            submit::insufficient_balance_stores_nothing_and_keeps_the_balance,
            submit::rejected_batch_does_not_affect_other_batches_of_the_same_submit,
            submit::due_messages_respects_send_time_state_and_limit,
            submit::cancel_scheduled_cancels_only_own_queued_messages_and_refunds_once,
            submit::every_submitted_message_gets_a_queued_event_first,
            submissions::recorded_submission_is_processed_with_immediate_and_scheduled_reports,
            submissions::recorded_submission_skips_cancelled_and_already_processed_messages,
            receipts::duplicate_receipt_changes_nothing_but_is_kept,
            receipts::final_status_never_regresses,
            receipts::failed_from_unknown_is_replaced_by_a_later_definite_final,
            receipts::multipart_message_is_delivered_only_when_every_part_is,
            receipts::multipart_message_takes_the_worst_final_status_of_its_parts,
            receipts::every_receipt_is_kept_with_its_effect_error_code_and_raw_text,
            receipts::events_are_tenant_scoped,
            receipts::receipt_for_an_unknown_message_changes_nothing,
            receipts::receipt_for_a_part_the_message_does_not_have_is_kept_as_unmatched,
            receipts::multipart_message_does_not_fall_back_to_accepted,
            submissions::due_reports_are_applied_in_due_order_and_deleted,
            submissions::due_reports_respect_the_limit,
            submissions::a_batch_of_receipts_behaves_like_one_receipt_at_a_time,
            queries::statuses_respect_account_and_since_and_exclude_cancelled,
            queries::statuses_window_goes_by_send_time_not_creation_time,
            queries::journal_is_newest_first_and_pages_with_limit_and_offset,
            queries::journal_filters_by_id_status_and_recipient,
            queries::journal_filters_by_send_time_range,
            housekeeping::purge_deletes_old_finished_messages_with_their_history,
            housekeeping::purge_works_in_bounded_batches_and_keeps_queued_messages,
            housekeeping::purge_keeps_a_message_for_the_retention_period_from_its_send_time,
            housekeeping::queue_depths_count_queued_messages_and_scheduled_reports,
            operators::operator_receipt_matches_its_part_on_its_connector_only,
            operators::receipt_before_its_submission_is_parked_then_applied_in_order,
            operators::duplicate_operator_receipt_is_kept_and_changes_nothing,
            operators::due_messages_and_reroutes_go_by_connector,
            operators::purge_deletes_receipts_parked_before_the_cutoff,
            operators::a_reused_operator_id_names_the_newest_part,
            operators::claimed_messages_leave_the_queue_until_settled,
            operators::a_receipt_parked_before_the_submission_began_is_not_its_own,
            overview::overview_counts_messages_by_status_and_deliveries_per_hook,
        }
    };
    (@each $open:path; $($module:ident :: $name:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let backend = $open().await;
                $crate::store_contract::$module::$name(backend.store()).await;
            }
        )+
    };
}

// Declared after the macro, so that its textual scope covers the backends' modules.
mod accounts;
mod backlog;
mod dashboard;
mod fixtures;
mod housekeeping;
mod nodes;
mod operators;
mod overview;
mod postgres;
mod queries;
mod receipts;
mod sqlite;
mod submissions;
mod submit;
