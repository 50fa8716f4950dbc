//! `/api/status` (GET and POST, `msg_id` comma list), exactly seven-api.md §4: one entry per
//! requested id in request order, `status`/`status_time` null while no operator status exists.
//! A single id without JSON asked for gets the legacy two lines `STATUS\nTIME`; an unknown single
//! id gets `901`. Messages older than the retention period are not reported.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::auth::authenticate;
use super::error::{ApiError, SevenCode};
use super::params::SevenRequest;
use crate::domain::params::parse_message_ids;
use crate::domain::timefmt::seven_millis;
use crate::store::{MessageId, StatusView};
use crate::workers::now_millis;

/// Most ids one request may ask for.
const MAX_IDS: usize = 1000;

#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct StatusEntry {
    id: String,
    status: Option<&'static str>,
    status_time: Option<String>,
}

pub async fn status(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    request.params.check_known(&["msg_id"])?;
    let unknown =
        |detail: &str| ApiError::seven(SevenCode::InvalidMessageIdOrSignature, detail.to_owned());
    let raw = request
        .params
        .get("msg_id")
        .ok_or_else(|| unknown("msg_id is missing"))?;
    let requested: Vec<(String, Option<MessageId>)> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| (s.to_owned(), single_id(s)))
        .collect();
    if requested.is_empty() || requested.len() > MAX_IDS {
        return Err(unknown("msg_id must name 1 to 1000 ids"));
    }
    let ids: Vec<MessageId> = requested.iter().filter_map(|(_, id)| *id).collect();
    let since = now_millis().saturating_sub(
        i64::try_from(state.settings.retention.period.as_millis()).unwrap_or(i64::MAX),
    );
    let found: HashMap<MessageId, StatusView> = state
        .store
        .statuses(account.id, &ids, since)
        .await?
        .into_iter()
        .map(|view| (view.id, view))
        .collect();
    if requested.len() == 1 {
        let view = requested[0]
            .1
            .and_then(|id| found.get(&id))
            .ok_or_else(|| unknown("unknown message id"))?;
        if !request.wants_json() {
            return Ok(legacy_text(view).into_response());
        }
    }
    let entries: Vec<StatusEntry> = requested
        .iter()
        .map(|(raw, id)| {
            let view = id.and_then(|id| found.get(&id));
            StatusEntry {
                id: id.map(|id| id.to_string()).unwrap_or_else(|| raw.clone()),
                status: view.and_then(|v| v.status).map(|s| s.as_str()),
                status_time: view
                    .and_then(|v| v.status.and(v.status_at))
                    .map(seven_millis),
            }
        })
        .collect();
    Ok(Json(entries).into_response())
}

fn single_id(raw: &str) -> Option<MessageId> {
    parse_message_ids(raw).into_iter().next().flatten()
}

/// `DELIVERED\n2024-02-13 05:51:03.102`; both lines empty while there is no operator status.
fn legacy_text(view: &StatusView) -> String {
    match (view.status, view.status_at) {
        (Some(status), Some(at)) => format!("{status}\n{}", seven_millis(at)),
        _ => "\n".to_owned(),
    }
}
