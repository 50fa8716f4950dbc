//! Plain data of the dashboard's summaries: status counts and activity over time, per account.

use crate::domain::status::DeliveryStatus;

/// How many messages have one status; `status: None` counts those without an operator report yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    pub status: Option<DeliveryStatus>,
    pub messages: u64,
}

/// The time range of [`crate::store::Store::activity`], cut into buckets of `bucket_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityWindow {
    /// Start of the first bucket (unix ms).
    pub from: i64,
    /// End of the range, exclusive (unix ms).
    pub until: i64,
    /// Width of one bucket in ms; at least 1.
    pub bucket_ms: i64,
}

/// One bucket of activity: messages sent (by send time) and final statuses reached (by status
/// time) within `[start, start + bucket_ms)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActivityBucket {
    pub start: i64,
    pub sent: u64,
    pub delivered: u64,
    /// Final statuses other than DELIVERED (NOTDELIVERED, EXPIRED, REJECTED, FAILED, UNKNOWN).
    pub failed: u64,
}

/// Parses a status column read back from the store (`None`: no report yet).
pub(crate) fn parse_status(raw: Option<String>) -> Result<Option<DeliveryStatus>, String> {
    raw.map(|raw| raw.parse::<DeliveryStatus>().map_err(|_| raw))
        .transpose()
}

/// Folds per-slot rows `(slot, sent, delivered, failed)` into buckets ordered by start, summing
/// rows of the same slot (sends and finals come from two queries).
pub(crate) fn fold_buckets(
    window: ActivityWindow,
    rows: impl IntoIterator<Item = (i64, u64, u64, u64)>,
) -> Vec<ActivityBucket> {
    let mut buckets = std::collections::BTreeMap::<i64, ActivityBucket>::new();
    for (slot, sent, delivered, failed) in rows {
        let start = window.from + slot * window.bucket_ms;
        let bucket = buckets.entry(start).or_insert(ActivityBucket {
            start,
            ..ActivityBucket::default()
        });
        bucket.sent += sent;
        bucket.delivered += delivered;
        bucket.failed += failed;
    }
    buckets.into_values().collect()
}

/// The final statuses as an SQL list (`'DELIVERED', …`), from [`DeliveryStatus::is_final`].
pub(crate) fn final_statuses_sql() -> String {
    DeliveryStatus::ALL
        .into_iter()
        .filter(|status| status.is_final())
        .map(|status| format!("'{}'", status.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
