//! `/api/hooks` in seven.io's shapes (seven-api.md §6.1): list, subscribe, unsubscribe, with the
//! legacy `action=read|subscribe|unsubscribe`; and dlrgate's own hook endpoints: the attempt log,
//! deliveries, enable/disable, re-send one delivery, recover everything failed since a time.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::auth::authenticate;
use super::error::{ApiError, SevenCode};
use super::params::SevenRequest;
use crate::dispatcher::client::WebhookClient;
use crate::dispatcher::signing::parse_custom_headers;
use crate::domain::msisdn::Msisdn;
use crate::domain::timefmt::{seven_millis, seven_seconds};
use crate::store::{Account, Hook, NewHook};
use crate::workers::now_millis;

pub(super) const HOOK_PARAMS: &[&str] = &[
    "action",
    "id",
    "target_url",
    "event_type",
    "request_method",
    "event_filter",
    "headers",
];

/// Every `event_type` any seven.io source names; `dlr` and `all` receive status reports.
const EVENT_TYPES: &[&str] = &[
    "all",
    "dlr",
    "sms_mo",
    "rcs",
    "rcs_dlr",
    "rcs_mo",
    "tracking",
    "voice_call",
    "voice_status",
    "voice_dtmf",
];

/// GET (and POST with `action`), as seven's SDKs send them.
pub async fn hooks(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    request.params.check_known(HOOK_PARAMS)?;
    let action = request.params.get("action").map(str::to_ascii_lowercase);
    let is_get = request.method == axum::http::Method::GET;
    let is_delete = request.method == axum::http::Method::DELETE;
    match action.as_deref() {
        Some("read") => list(&state, &account).await,
        Some("subscribe") => subscribe(&state, &account, &request).await,
        Some("unsubscribe") => unsubscribe(&state, &account, &request).await,
        Some(other) => Err(ApiError::seven(
            SevenCode::UnknownParameter,
            format!("unknown action {other}"),
        )),
        None if is_get => list(&state, &account).await,
        None if is_delete => unsubscribe(&state, &account, &request).await,
        None => subscribe(&state, &account, &request).await,
    }
}

async fn list(state: &AppState, account: &Account) -> Result<Response, ApiError> {
    let hooks: Vec<Value> = state
        .store
        .hooks(account.id)
        .await?
        .iter()
        .map(hook_json)
        .collect();
    Ok(Json(json!({ "success": true, "code": null, "hooks": hooks })).into_response())
}

fn hook_json(hook: &Hook) -> Value {
    json!({
        "id": hook.id.to_string(),
        "target_url": hook.target_url,
        "headers": hook.headers,
        "event_type": hook.event_type,
        "event_filter": hook.event_filter,
        "request_method": hook.request_method,
        "enabled": hook.enabled,
        "created": seven_seconds(hook.created_at),
        "disabled_reason": hook.disabled_reason,
        "backlog_full": hook.backlog_full,
    })
}

fn refused(code: &str, message: impl Into<String>) -> Response {
    Json(json!({ "success": false, "code": code, "error_message": message.into() })).into_response()
}

async fn subscribe(
    state: &AppState,
    account: &Account,
    request: &SevenRequest,
) -> Result<Response, ApiError> {
    let params = &request.params;
    let Some(target_url) = params.get("target_url") else {
        return Ok(refused("target_url", "target_url is missing"));
    };
    if let Err(failure) = WebhookClient::check_url(&state.address_policy, target_url) {
        return Ok(refused(
            "target_url",
            format!("target_url refused: {}", failure.detail),
        ));
    }
    let event_type = params.get("event_type").unwrap_or("").to_ascii_lowercase();
    if !EVENT_TYPES.contains(&event_type.as_str()) {
        return Ok(refused(
            "event_type",
            format!("event_type must be one of {}", EVENT_TYPES.join(", ")),
        ));
    }
    let request_method = params
        .get("request_method")
        .unwrap_or("POST")
        .to_ascii_uppercase();
    if !matches!(request_method.as_str(), "POST" | "GET" | "JSON") {
        return Ok(refused(
            "request_method",
            "request_method must be POST, GET or JSON",
        ));
    }
    let headers = params.raw("headers").unwrap_or("").replace("\\n", "\n");
    if let Err(why) = parse_custom_headers(&headers) {
        return Ok(refused("headers", why));
    }
    let most = state.settings.limits.hooks_per_account as usize;
    if most > 0 && state.store.hooks(account.id).await?.len() >= most {
        return Ok(refused(
            "limit",
            format!("this account has {most} hooks, the most limits.hooks_per_account allows"),
        ));
    }
    let country = Some(state.settings.sms.default_country_code.as_str()).filter(|c| !c.is_empty());
    // A number filter is stored normalised so it matches stored recipients; a sender name as is.
    let event_filter = params.get("event_filter").map(|raw| {
        Msisdn::parse(raw, country)
            .map(|n| n.as_str().to_owned())
            .unwrap_or_else(|_| raw.to_owned())
    });
    let hook = state
        .store
        .create_hook(NewHook {
            account_id: account.id,
            target_url: target_url.to_owned(),
            event_type,
            request_method,
            event_filter,
            headers: headers.trim().to_owned(),
            created_at: now_millis(),
        })
        .await?;
    Ok(Json(json!({ "success": true, "id": hook.id })).into_response())
}

async fn unsubscribe(
    state: &AppState,
    account: &Account,
    request: &SevenRequest,
) -> Result<Response, ApiError> {
    let id = request
        .params
        .get("id")
        .and_then(|raw| raw.parse::<i64>().ok());
    let deleted = match id {
        Some(id) => {
            state
                .store
                .delete_hook(account.id, id, now_millis())
                .await?
        }
        None => false,
    };
    Ok(Json(json!({ "success": deleted })).into_response())
}

/// `limit` of a listing: 1 to 1000, 100 when absent.
fn list_limit(request: &SevenRequest) -> u32 {
    let limit = request
        .params
        .get("limit")
        .and_then(|l| l.parse::<u32>().ok());
    limit.unwrap_or(100).clamp(1, 1000)
}

/// The calling account and its hook `id`.
async fn caller_and_hook(
    state: &AppState,
    request: &SevenRequest,
    id: &str,
) -> Result<(Account, Hook), ApiError> {
    let account = authenticate(state, request).await?;
    let hook = owned_hook(state, &account, id).await?;
    Ok((account, hook))
}

/// Parses a hook id from the path; another account's hooks are "not found".
async fn owned_hook(state: &AppState, account: &Account, id: &str) -> Result<Hook, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found("no such hook"))?;
    let hooks = state.store.hooks(account.id).await?;
    hooks
        .into_iter()
        .find(|hook| hook.id == id)
        .ok_or_else(|| ApiError::not_found("no such hook"))
}

/// `GET /api/hooks/{id}/attempts`: the attempt log, newest first (`limit` ≤ 1000, default 100).
pub async fn attempts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let (account, hook) = caller_and_hook(&state, &request, &id).await?;
    let limit = list_limit(&request);
    let attempts: Vec<Value> = state
        .store
        .attempts(account.id, hook.id, limit)
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id.to_string(), "delivery_id": a.delivery_id.to_string(), "msg_id": a.message_id.to_string(),
                "status": a.status, "attempt": a.attempt, "time": seven_millis(a.at), "http_status": a.http_status,
                "latency_ms": a.latency_ms, "error_class": a.error_class, "detail": a.detail, "response": a.response_snippet,
            })
        })
        .collect();
    Ok(Json(
        json!({ "hook_id": hook.id.to_string(), "enabled": hook.enabled, "attempts": attempts }),
    )
    .into_response())
}

/// `GET /api/hooks/{id}/deliveries`: deliveries with their state, newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let (account, hook) = caller_and_hook(&state, &request, &id).await?;
    let limit = list_limit(&request);
    let deliveries: Vec<Value> = state
        .store
        .deliveries(account.id, hook.id, limit)
        .await?
        .into_iter()
        .map(|d| {
            json!({
                "id": d.id.to_string(), "msg_id": d.message_id.to_string(), "status": d.status, "state": d.state,
                "attempts": d.attempts, "created": seven_millis(d.created_at),
                "next_attempt": (d.state == "pending").then(|| seven_millis(d.next_attempt_at)), "last_error": d.last_error,
            })
        })
        .collect();
    Ok(Json(json!({ "hook_id": hook.id.to_string(), "deliveries": deliveries })).into_response())
}

/// `POST /api/hooks/{id}/enable` and `/disable`.
pub async fn enable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    set_enabled(state, id, request, true).await
}

pub async fn disable(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    set_enabled(state, id, request, false).await
}

async fn set_enabled(
    state: AppState,
    id: String,
    request: SevenRequest,
    enabled: bool,
) -> Result<Response, ApiError> {
    let (account, hook) = caller_and_hook(&state, &request, &id).await?;
    let hook = state
        .store
        .set_hook_enabled(account.id, hook.id, enabled, now_millis())
        .await?;
    state.deliveries.notify_one();
    Ok(Json(hook_json(&hook)).into_response())
}

/// `POST /api/hooks/{id}/deliveries/{delivery}/resend`: sends one finished delivery again.
pub async fn resend(
    State(state): State<AppState>,
    Path((id, delivery)): Path<(String, String)>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let (account, hook) = caller_and_hook(&state, &request, &id).await?;
    let delivery: i64 = delivery
        .parse()
        .map_err(|_| ApiError::not_found("no such delivery"))?;
    if !state
        .store
        .resend_delivery(account.id, hook.id, delivery, now_millis())
        .await?
    {
        return Err(ApiError::not_found("no such finished delivery"));
    }
    state.deliveries.notify_one();
    Ok(Json(json!({ "success": true, "id": delivery.to_string() })).into_response())
}

/// `POST /api/hooks/{id}/recover` with `since` (unix seconds or `YYYY-MM-DD hh:mm:ss`): re-sends
/// every failed or abandoned delivery created since then.
pub async fn recover(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let (account, hook) = caller_and_hook(&state, &request, &id).await?;
    let now = time::OffsetDateTime::now_utc();
    let since = request
        .params
        .get("since")
        .map(|raw| crate::domain::params::parse_delay(raw, now))
        .transpose()
        .map_err(|e| ApiError::seven(SevenCode::UnknownParameter, format!("since: {e}")))?
        .ok_or_else(|| ApiError::seven(SevenCode::UnknownParameter, "since is missing"))?;
    let count = state
        .store
        .recover_deliveries(
            account.id,
            hook.id,
            crate::domain::timefmt::to_millis(since),
            now_millis(),
        )
        .await?;
    state.deliveries.notify_one();
    Ok(Json(json!({ "success": true, "recovered": count })).into_response())
}
