//! Operational endpoints: liveness, readiness (the store answers), Prometheus metrics, and the
//! fallback for unknown paths.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

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
    match state.store.queue_depths().await {
        Ok(depths) => {
            metrics::gauge!("dlrgate_queue_depth", "queue" => "queued_messages")
                .set(depths.queued_messages as f64);
            metrics::gauge!("dlrgate_queue_depth", "queue" => "scheduled_reports")
                .set(depths.scheduled_reports as f64);
        }
        Err(error) => tracing::warn!(?error, "reading queue depths failed"),
    }
    state.metrics.render().into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}
