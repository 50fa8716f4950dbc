//! The dashboard's JSON beyond the existing API: the accounts (administrator only), status
//! counts and activity per minute of one account, and connector health (administrator only:
//! connectors are shared by every account).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::metrics_text::per_connector;
use crate::api::AppState;
use crate::api::auth::{authenticate, require_admin};
use crate::api::error::{ApiError, SevenCode};
use crate::api::params::SevenRequest;
use crate::domain::timefmt::seven_millis;
use crate::store::{ActivityBucket, ActivityWindow};
use crate::workers::now_millis;

/// Parameters of `GET /api/dashboard/counts`.
pub const COUNT_PARAMS: &[&str] = &["hours"];
/// Parameters of `GET /api/dashboard/activity`.
pub const ACTIVITY_PARAMS: &[&str] = &["minutes"];

const MINUTE: i64 = 60_000;

/// `GET /api/dashboard/accounts`: every account, for the administrator's account picker.
pub async fn accounts(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    require_admin(&state, &request)?;
    request.params.check_known(&[])?;
    let accounts: Vec<Value> = state
        .store
        .list_accounts()
        .await?
        .into_iter()
        .map(|account| json!({ "id": account.id.to_string(), "name": account.name }))
        .collect();
    Ok(Json(json!({ "accounts": accounts })).into_response())
}

/// `GET /api/dashboard/counts?hours=24`: how many of the account's messages sent in the last
/// `hours` (1 to 720) have each status; `PENDING` counts those without a report yet.
pub async fn counts(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    request.params.check_known(COUNT_PARAMS)?;
    let hours = number(&request, "hours", 1..=720, 24)?;
    let since = now_millis() - hours * 60 * MINUTE;
    let mut counts = serde_json::Map::new();
    for count in state.store.status_counts(account.id, since).await? {
        let name = count.status.map_or("PENDING", |status| status.as_str());
        counts.insert(name.to_owned(), count.messages.into());
    }
    Ok(Json(json!({
        "account": { "id": account.id.to_string(), "name": account.name },
        "since": seven_millis(since),
        "counts": counts,
    }))
    .into_response())
}

/// `GET /api/dashboard/activity?minutes=60`: per minute of the last `minutes` (1 to 1440),
/// the account's messages sent and final statuses reached, oldest first, every minute present.
pub async fn activity(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    request.params.check_known(ACTIVITY_PARAMS)?;
    let minutes = number(&request, "minutes", 1..=1440, 60)?;
    let until = (now_millis() / MINUTE + 1) * MINUTE;
    let window = ActivityWindow {
        from: until - minutes * MINUTE,
        until,
        bucket_ms: MINUTE,
    };
    let found = state.store.activity(account.id, window).await?;
    let buckets: Vec<Value> = (0..minutes)
        .map(|slot| window.from + slot * MINUTE)
        .map(|start| {
            let bucket = found.iter().find(|b| b.start == start).copied();
            let bucket = bucket.unwrap_or(ActivityBucket {
                start,
                ..ActivityBucket::default()
            });
            json!({
                "time": seven_millis(start), "sent": bucket.sent,
                "delivered": bucket.delivered, "failed": bucket.failed,
            })
        })
        .collect();
    Ok(Json(json!({ "bucket_seconds": 60, "buckets": buckets })).into_response())
}

/// `GET /api/dashboard/connectors`: each connector with its type and, from this node's metrics,
/// SMPP binds up, messages handed over and throttled answers so far.
pub async fn connectors(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    require_admin(&state, &request)?;
    request.params.check_known(&[])?;
    let exposition = state.metrics.render();
    let binds = per_connector(&exposition, "dlrgate_smpp_binds_up");
    let submitted = per_connector(&exposition, "dlrgate_messages_submitted_total");
    let throttled = per_connector(&exposition, "dlrgate_smpp_throttled_total");
    let mut names: Vec<(String, &'static str)> = state
        .settings
        .connectors
        .iter()
        .map(|connector| (connector.name().to_owned(), kind(connector)))
        .collect();
    if !names
        .iter()
        .any(|(name, _)| name == crate::operators::settings::SANDBOX)
    {
        names.insert(
            0,
            (crate::operators::settings::SANDBOX.to_owned(), "sandbox"),
        );
    }
    let connectors: Vec<Value> = names
        .into_iter()
        .map(|(name, kind)| {
            let of = |map: &std::collections::BTreeMap<String, f64>| {
                map.get(&name).copied().unwrap_or(0.0)
            };
            json!({
                "name": name, "type": kind,
                "binds_up": (kind == "smpp").then(|| of(&binds)),
                "submitted_total": of(&submitted), "throttled_total": of(&throttled),
            })
        })
        .collect();
    Ok(
        Json(json!({ "time": seven_millis(now_millis()), "connectors": connectors }))
            .into_response(),
    )
}

fn kind(connector: &crate::config::ConnectorSettings) -> &'static str {
    use crate::config::ConnectorSettings::*;
    match connector {
        Sandbox { .. } => "sandbox",
        Smpp(_) => "smpp",
        Kannel(_) => "kannel",
        Http(_) => "http",
    }
}

/// The integer parameter `name` within `range`, or `default` when absent; otherwise `308`.
fn number(
    request: &SevenRequest,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> Result<i64, ApiError> {
    let Some(raw) = request.params.get(name) else {
        return Ok(default);
    };
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            ApiError::seven(
                SevenCode::UnknownParameter,
                format!("{name}: {raw:?} is not {}..={}", range.start(), range.end()),
            )
        })
}
