//! Operational endpoints: liveness, readiness (the store answers), Prometheus metrics, and the
//! fallback for unknown paths. The store's gauges (queue depths, the outbox per hook) are read
//! at each scrape, so nothing on the hot path maintains them.

use std::collections::BTreeSet;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::store::{HookId, HookOutbox};

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(?error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let depths = state.store.queue_depths().await;
    metrics::gauge!("dlrgate_store_up").set(if depths.is_ok() { 1.0 } else { 0.0 });
    match depths {
        Ok(depths) => {
            metrics::gauge!("dlrgate_queue_depth", "queue" => "queued_messages")
                .set(depths.queued_messages as f64);
            metrics::gauge!("dlrgate_queue_depth", "queue" => "scheduled_reports")
                .set(depths.scheduled_reports as f64);
            metrics::gauge!("dlrgate_queue_depth", "queue" => "parked_receipts")
                .set(depths.parked_receipts as f64);
        }
        Err(error) => tracing::warn!(?error, "reading queue depths failed"),
    }
    match state.store.outbox_by_hook().await {
        Ok(outboxes) => set_outbox_gauges(&outboxes, crate::workers::now_millis()),
        Err(error) => tracing::warn!(?error, "reading the outbox per hook failed"),
    }
    state.metrics.render().into_response()
}

/// Sets the per-hook outbox gauges; a hook reported before and gone since (deleted) is set to 0,
/// since the recorder keeps a gauge at its last value. The set is process-wide, like the recorder.
fn set_outbox_gauges(outboxes: &[HookOutbox], now: i64) {
    static REPORTED: Mutex<BTreeSet<HookId>> = Mutex::new(BTreeSet::new());
    let mut reported = REPORTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let current: BTreeSet<HookId> = outboxes.iter().map(|o| o.hook_id).collect();
    let gone = reported.difference(&current).map(|&hook_id| HookOutbox {
        hook_id,
        pending: 0,
        oldest_created_at: None,
    });
    for outbox in outboxes.iter().copied().chain(gone) {
        let hook = outbox.hook_id.to_string();
        let age = outbox
            .oldest_created_at
            .map_or(0.0, |created| (now - created).max(0) as f64 / 1000.0);
        metrics::gauge!("dlrgate_webhook_outbox_depth", "hook" => hook.clone())
            .set(outbox.pending as f64);
        metrics::gauge!("dlrgate_webhook_outbox_oldest_age_seconds", "hook" => hook).set(age);
    }
    *reported = current;
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}
