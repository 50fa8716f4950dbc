//! Logging (tracing) and the Prometheus metrics recorder: the buckets of each histogram, and the
//! help text of every metric (docs/operations.md says what each means and what to alert on).
//!
//! Recording must stay cheap on the hot path: a histogram sample or counter increment is a hash
//! lookup and an atomic add; nothing here queries the store. Gauges of the store (queue depths,
//! the outbox per hook) are computed when `/metrics` is scraped (`api/health.rs`).

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogSettings;

/// From a message's send time (acceptance, or its scheduled time) to its final status.
pub const MESSAGE_FINAL_SECONDS: &str = "dlrgate_message_final_seconds";
/// From a status change (its webhook delivery created in the same transaction) to the 2xx of
/// the receiver, retries included.
pub const WEBHOOK_DELIVERY_SECONDS: &str = "dlrgate_webhook_delivery_seconds";

/// Requests and store round trips: half a millisecond to ten seconds.
const FAST: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Webhooks from the status to the receiver: milliseconds (pushed at once) to an hour (retries).
const WEBHOOK: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 3600.0,
];
/// Messages from send to final: the sandbox's milliseconds to a day (handsets switched off).
const FINAL: &[f64] = &[
    0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    7200.0, 21600.0, 86400.0,
];
/// Messages per intake commit (a count, not a time).
const GROUP: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// Installs the global tracing subscriber; logs go to stderr so stdout stays for command output.
/// Safe to call more than once (later calls do nothing), which tests rely on.
pub fn init(settings: &LogSettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = if settings.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = builder()
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Another recorder may exist when several apps run in one test process; the handle
            // then still renders this recorder's (empty) view, which is harmless.
            if metrics::set_global_recorder(recorder).is_ok() {
                describe();
            }
            handle
        })
        .clone()
}

fn builder() -> Result<PrometheusBuilder, BuildError> {
    let full = |name: &str| Matcher::Full(name.to_owned());
    PrometheusBuilder::new()
        .set_buckets(FAST)?
        .set_buckets_for_metric(full(MESSAGE_FINAL_SECONDS), FINAL)?
        .set_buckets_for_metric(full(WEBHOOK_DELIVERY_SECONDS), WEBHOOK)?
        .set_buckets_for_metric(full("dlrgate_webhook_attempt_seconds"), WEBHOOK)?
        .set_buckets_for_metric(full("dlrgate_intake_group_size"), GROUP)?
        .set_buckets_for_metric(full("dlrgate_store_commit_writes"), GROUP)
}

/// Help text and units, and the counters without labels registered at 0, so that `rate()` and
/// alerts see them before their first event.
fn describe() {
    describe_histogram!(
        "dlrgate_store_write_seconds",
        Unit::Seconds,
        "Hot write transactions by operation, waiting for the writer included"
    );
    describe_histogram!(
        "dlrgate_store_commit_writes",
        Unit::Count,
        "Hot writes made durable by one SQLite commit"
    );
    describe_histogram!(
        "dlrgate_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP requests by method, route and status"
    );
    describe_histogram!(
        MESSAGE_FINAL_SECONDS,
        Unit::Seconds,
        "From a message's send time to its final status, by connector and status"
    );
    describe_histogram!(
        WEBHOOK_DELIVERY_SECONDS,
        Unit::Seconds,
        "From a stored status to the receiver's 2xx for its webhook, retries included"
    );
    describe_histogram!(
        "dlrgate_webhook_attempt_seconds",
        Unit::Seconds,
        "One webhook HTTP attempt, any outcome"
    );
    describe_histogram!(
        "dlrgate_intake_group_size",
        Unit::Count,
        "Requests stored per intake commit"
    );
    describe_counters();
    describe_gauges();
}

fn describe_counters() {
    let counters = [
        (
            "dlrgate_messages_accepted_total",
            "Messages accepted by /api/sms",
        ),
        (
            "dlrgate_rate_limited_total",
            "Requests refused by a rate limit",
        ),
        (
            "dlrgate_webhook_hooks_disabled_total",
            "Hooks disabled after failing too long or a 410",
        ),
        (
            "dlrgate_hook_backlog_full_total",
            "Times a hook reached its pending-deliveries limit",
        ),
        (
            "dlrgate_retention_purged_messages_total",
            "Messages deleted by retention",
        ),
    ];
    for (name, help) in counters {
        describe_counter!(name, Unit::Count, help);
        metrics::counter!(name).absolute(0);
    }
    describe_counter!(
        "dlrgate_message_status_total",
        "Status changes of whole messages, by status"
    );
    describe_counter!(
        "dlrgate_messages_submitted_total",
        "Messages handed to a connector"
    );
    describe_counter!(
        "dlrgate_webhook_attempts_total",
        "Webhook attempts by outcome (delivered or the failure class)"
    );
    describe_counter!(
        "dlrgate_receipts_total",
        "SMPP receipts by connector and result (matched, parked)"
    );
    describe_counter!(
        "dlrgate_smpp_ignored_total",
        "deliver_sm that were neither a receipt nor understood"
    );
    describe_counter!(
        "dlrgate_smpp_throttled_total",
        "submit_sm answered with a throttling or queue-full status"
    );
}

fn describe_gauges() {
    describe_gauge!(
        "dlrgate_queue_depth",
        "Queued messages, scheduled reports and parked receipts (at scrape)"
    );
    describe_gauge!(
        "dlrgate_webhook_outbox_depth",
        "Pending webhook deliveries per hook (at scrape)"
    );
    describe_gauge!(
        "dlrgate_webhook_outbox_oldest_age_seconds",
        Unit::Seconds,
        "Age of the oldest pending delivery per hook, 0 when none (at scrape)"
    );
    describe_gauge!("dlrgate_smpp_binds_up", "Bound SMPP sessions per connector");
    describe_gauge!(
        "dlrgate_smpp_window",
        "submit_sm allowed unanswered per connector (window times binds)"
    );
    describe_gauge!(
        "dlrgate_smpp_submits_in_flight",
        "submit_sm sent or waiting for a window slot, per connector"
    );
    describe_gauge!("dlrgate_nodes", "Live nodes sharing the database");
    describe_gauge!(
        "dlrgate_store_up",
        "1 when the store answered the last scrape's queries (as /readyz), else 0"
    );
}
