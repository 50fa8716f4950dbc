//! Background work: the intake (group commit of accepted messages), the submitter that hands due
//! messages to an operator, the sandbox operator's report applier, the retention purge, the
//! per-hook backlog limit and the renewal of this node's claims.
//! Every loop stops when its `CancellationToken` fires, after finishing the batch at hand.

pub mod backlog;
pub mod intake;
pub mod leases;
pub mod reports;
pub mod retention;
pub mod submitter;

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Sleeps for `duration`, waking early on `wake` or shutdown. Returns false on shutdown.
pub(crate) async fn pause(
    duration: Duration,
    wake: &tokio::sync::Notify,
    shutdown: &CancellationToken,
) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = wake.notified() => true,
        _ = tokio::time::sleep(duration) => true,
    }
}

/// Runs `work` now and then every `interval`, until shutdown.
pub(crate) async fn every<F, Fut>(interval: Duration, shutdown: &CancellationToken, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    loop {
        work().await;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// The current time in unix milliseconds.
pub(crate) fn now_millis() -> i64 {
    crate::domain::timefmt::to_millis(time::OffsetDateTime::now_utc())
}

/// Counts a status change of a whole message and, for a final status, how long after its send
/// time it came (from the change itself: no clock but one read per batch, no query).
pub(crate) fn count_changes(changes: &[crate::store::StatusChange]) {
    if changes.is_empty() {
        return;
    }
    let now = now_millis();
    for change in changes {
        let status = change.status.as_str();
        metrics::counter!("dlrgate_message_status_total", "status" => status).increment(1);
        if change.status.is_final() {
            let seconds = (now - change.send_at).max(0) as f64 / 1000.0;
            metrics::histogram!(
                crate::telemetry::MESSAGE_FINAL_SECONDS,
                "connector" => change.connector.clone(),
                "status" => status
            )
            .record(seconds);
        }
    }
}
