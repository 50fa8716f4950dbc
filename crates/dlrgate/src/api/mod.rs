//! The HTTP API: seven.io-compatible endpoints under `/api` and dlrgate's own operational ones.
//! Handlers parse and validate, call `Store` methods (or the intake) and shape the answer; they
//! never run SQL. Wire types live here and are converted from store and domain types. Every
//! route is in `routes::table()`; `openapi` describes them all (GET /openapi.json).

mod auth;
mod dashboard;
mod error;
mod health;
mod hooks;
mod ingest;
mod journal;
mod limits;
mod openapi;
pub mod params;
mod routes;
mod serve;
mod sms;
pub mod sms_request;
mod status;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::sync::Notify;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use auth::NonceCache;
pub use error::{ApiError, SevenCode};
pub use limits::RateLimits;
pub use serve::serve;

use crate::config::Settings;
use crate::dispatcher::ssrf::AddressPolicy;
use crate::store::Store;
use crate::workers::intake::Intake;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub intake: Intake,
    pub nonces: Arc<NonceCache>,
    /// Requests per API key and messages per account (`[limits]`).
    pub limits: Arc<RateLimits>,
    pub metrics: PrometheusHandle,
    /// Where webhooks may go; checked at subscribe time for literal IPs.
    pub address_policy: Arc<AddressPolicy>,
    /// Wakes the dispatcher after hooks are re-enabled or deliveries re-sent.
    pub deliveries: Arc<Notify>,
    /// Picks each accepted message's connector.
    pub routes: Arc<crate::domain::routing::Router>,
}

pub fn router(state: AppState) -> Router {
    let timeout = state.settings.server.request_timeout;
    routes::build(routes::table())
        .fallback(health::not_found)
        .layer(middleware::from_fn(record_request))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span of one request: method and path, never the query, which may carry the API key
/// (`p`), recipients and message texts. (tower-http's default span logs the whole URI.)
fn request_span(request: &Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}

/// Records request latency by route and status in the Prometheus histogram.
async fn record_request(request: Request, next: Next) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("dlrgate_http_request_duration_seconds", "method" => method, "path" => path, "status" => status)
        .record(started.elapsed().as_secs_f64());
    response
}
