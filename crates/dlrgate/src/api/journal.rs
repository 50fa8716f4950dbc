//! The logbook (`/api/journal/outbound`, legacy `/api/journal?type=`), `/api/balance`, and
//! dlrgate's own `/api/messages/{id}/events` (a message's full status history).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::AppState;
use super::auth::authenticate;
use super::error::{ApiError, SevenCode};
use super::params::{Params, SevenRequest};
use super::sms::money;
use crate::domain::msisdn::Msisdn;
use crate::domain::params::{parse_date, parse_message_ids};
use crate::domain::status::DeliveryStatus;
use crate::domain::timefmt::{seven_millis, to_millis};
use crate::store::{JournalFilter, MessageView};

pub(super) const JOURNAL_PARAMS: &[&str] = &[
    "id",
    "date_from",
    "date_to",
    "state",
    "to",
    "limit",
    "offset",
    "type",
];

/// One outbound logbook row (seven-api.md §5).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct OutboundRow {
    id: String,
    to: String,
    from: String,
    text: String,
    timestamp: String,
    price: String,
    dlr: Option<&'static str>,
    dlr_timestamp: Option<String>,
    mccmnc: Option<String>,
    latency: Option<String>,
    #[serde(rename = "type")]
    kind: &'static str,
    channel: &'static str,
    connection: &'static str,
    label: Option<String>,
    foreign_id: Option<String>,
    /// dlrgate addition: the operator's error code of the latest report.
    dlr_error: Option<String>,
}

pub async fn journal(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    answer(&state, &kind, &request).await
}

pub async fn legacy(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let kind = request.params.get("type").unwrap_or("outbound").to_owned();
    answer(&state, &kind, &request).await
}

async fn answer(
    state: &AppState,
    kind: &str,
    request: &SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(state, request).await?;
    request.params.check_known(JOURNAL_PARAMS)?;
    match kind {
        "outbound" => {}
        "inbound" | "replies" | "voice" | "voice_call" => {
            return Ok(Json(json!([])).into_response());
        }
        other => {
            return Err(ApiError::seven(
                SevenCode::UnknownParameter,
                format!("unknown journal type {other}"),
            ));
        }
    }
    let filter = journal_filter(&request.params, &state.settings.sms.default_country_code)?;
    let rows = state.store.journal(account.id, &filter).await?;
    Ok(Json(rows.into_iter().map(outbound_row).collect::<Vec<_>>()).into_response())
}

fn invalid(name: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::seven(SevenCode::UnknownParameter, format!("{name}: {detail}"))
}

fn journal_filter(params: &Params, country: &str) -> Result<JournalFilter, ApiError> {
    let number = |name: &str, max: u32| -> Result<Option<u32>, ApiError> {
        params
            .get(name)
            .map(|raw| {
                raw.parse::<u32>()
                    .ok()
                    .filter(|n| *n <= max)
                    .ok_or_else(|| invalid(name, format!("{raw:?} is not 0..={max}")))
            })
            .transpose()
    };
    let limit = number("limit", 100)?.unwrap_or(100);
    if limit == 0 {
        return Err(invalid("limit", "must be 1..=100"));
    }
    let day = |name: &str| {
        params
            .get(name)
            .map(parse_date)
            .transpose()
            .map_err(|e| invalid(name, e))
    };
    let id = match params.get("id") {
        Some(raw) => Some(
            parse_message_ids(raw)
                .into_iter()
                .next()
                .flatten()
                .ok_or_else(|| invalid("id", "not a message id"))?,
        ),
        None => None,
    };
    let country = Some(country).filter(|c| !c.is_empty());
    Ok(JournalFilter {
        id,
        from: day("date_from")?.map(|date| to_millis(date.midnight().assume_utc())),
        to_before: day("date_to")?
            .and_then(|date| date.next_day())
            .map(|date| to_millis(date.midnight().assume_utc())),
        status: params
            .get("state")
            .map(|raw| raw.parse::<DeliveryStatus>())
            .transpose()
            .map_err(|e| invalid("state", e))?,
        recipient: params
            .get("to")
            .map(|raw| Msisdn::parse(raw, country).map(|n| n.as_str().to_owned()))
            .transpose()
            .map_err(|e| invalid("to", e))?,
        limit,
        offset: number("offset", u32::MAX)?.unwrap_or(0),
    })
}

fn outbound_row(view: MessageView) -> OutboundRow {
    let latency = view
        .status_at
        .map(|at| format!("{:.4}", (at - view.send_at).max(0) as f64 / 1000.0));
    OutboundRow {
        id: view.id.to_string(),
        to: view.recipient,
        from: view.sender,
        text: view.text,
        timestamp: seven_millis(view.send_at),
        price: format!("{:.4}", money(view.price_micros)),
        dlr: view.status.map(|s| s.as_str()),
        dlr_timestamp: view.status_at.map(seven_millis),
        mccmnc: None,
        latency: view.status.and(latency),
        kind: "direct",
        channel: "SMS",
        connection: "http",
        label: view.label,
        foreign_id: view.foreign_id,
        dlr_error: view.error_code,
    }
}

/// `GET /api/balance`: `{amount, currency}` as JSON, or the bare amount as text. An unlimited
/// account reports `amount: null` and `unlimited: true` (text: `unlimited`).
pub async fn balance(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    request.params.check_known(&[])?;
    let amount = account.balance_micros.map(money);
    if !request.wants_json() {
        return Ok(amount
            .map(|a| a.to_string())
            .unwrap_or_else(|| "unlimited".to_owned())
            .into_response());
    }
    Ok(
        Json(json!({ "amount": amount, "currency": "EUR", "unlimited": amount.is_none() }))
            .into_response(),
    )
}

/// `GET /api/messages/{id}/events`: every internal state change and operator report of one
/// message, applied or not, oldest first. 404 for ids of other accounts.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found("no such message"))?;
    let events = state.store.events(account.id, id).await?;
    if events.is_empty() {
        return Err(ApiError::not_found("no such message"));
    }
    let events: Vec<serde_json::Value> = events
        .into_iter()
        .map(|e| {
            json!({"part": e.part, "kind": e.kind, "state": e.state, "effect": e.effect, "time": seven_millis(e.at),
                   "source": e.source, "error_code": e.error_code, "raw": e.raw})
        })
        .collect();
    Ok(Json(json!({ "id": id.to_string(), "events": events })).into_response())
}
