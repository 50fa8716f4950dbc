//! `/api/sms`: send (POST or GET) and cancel scheduled messages (DELETE), in seven.io's shapes.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::AppState;
use super::auth::authenticate;
use super::error::{ApiError, SevenCode};
use super::params::SevenRequest;
use super::sms_request::{Recipient, SmsRequest};
use crate::domain::params::parse_message_ids;
use crate::store::{Account, MessageId, NewMessage, SubmitBatch, SubmitOutcome};
use crate::workers::intake::IntakeError;

/// One entry of `messages[]` in the send response (seven-api.md §3).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct SentMessage {
    id: Option<String>,
    sender: String,
    recipient: String,
    text: String,
    encoding: &'static str,
    label: Option<String>,
    parts: u32,
    udh: Option<String>,
    is_binary: bool,
    price: f64,
    success: bool,
    error: Option<String>,
    error_text: Option<String>,
}

pub async fn send(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    let now = OffsetDateTime::now_utc();
    let sms = SmsRequest::parse(&request.params, &state.settings.sms, now)?;
    let price = account.price_per_part_micros * i64::from(sms.parts);
    let (ids, balance) = if sms.debug {
        (Vec::new(), account.balance_micros)
    } else {
        state.limits.messages(account.id, sms.valid_count())?;
        store_messages(&state, &account, &sms, price, now).await?
    };
    metrics::counter!("dlrgate_messages_accepted_total").increment(ids.len() as u64);
    let messages = response_messages(&sms, &ids, price);
    let code = if sms.valid_count() == sms.recipients.len() {
        "100"
    } else {
        "101"
    };
    if !request.wants_json() {
        let mut text = code.to_owned();
        if sms.return_msg_id {
            for id in &ids {
                text.push('\n');
                text.push_str(&id.to_string());
            }
        }
        return Ok(text.into_response());
    }
    let total: f64 = messages.iter().map(|m| m.price).sum();
    Ok(Json(json!({
        "success": code,
        "total_price": total,
        "balance": balance.map(money),
        "debug": if sms.debug { "true" } else { "false" },
        "sms_type": "direct",
        "messages": messages,
    }))
    .into_response())
}

async fn store_messages(
    state: &AppState,
    account: &Account,
    sms: &SmsRequest,
    price: i64,
    now: OffsetDateTime,
) -> Result<(Vec<MessageId>, Option<i64>), ApiError> {
    let messages = sms
        .recipients
        .iter()
        .filter_map(|recipient| match recipient {
            Recipient::Valid(number) => Some(NewMessage {
                recipient: number.as_str().to_owned(),
                sender: sms.sender.clone(),
                text: sms.text.clone(),
                encoding: sms.encoding.as_str().to_owned(),
                parts: sms.parts,
                price_micros: price,
                label: sms.label.clone(),
                foreign_id: sms.foreign_id.clone(),
                udh: sms.udh.clone(),
                flash: sms.flash,
                ttl_minutes: sms.ttl_minutes,
                send_at: sms.send_at,
                connector: state
                    .routes
                    .route(&account.name, number.as_str())
                    .to_owned(),
            }),
            Recipient::Invalid { .. } => None,
        })
        .collect();
    let batch = SubmitBatch {
        account_id: account.id,
        created_at: crate::domain::timefmt::to_millis(now),
        messages,
    };
    match state.intake.submit(batch).await {
        Ok(SubmitOutcome::Stored {
            ids,
            balance_micros,
        }) => Ok((ids, balance_micros)),
        Ok(SubmitOutcome::InsufficientBalance) => Err(ApiError::seven(
            SevenCode::InsufficientCredit,
            "balance too low for this message",
        )),
        Err(IntakeError::Stopped) => Err(ApiError::Internal("intake stopped".into())),
        Err(IntakeError::Store(error)) => Err(ApiError::Internal(format!(
            "storing messages failed: {error}"
        ))),
    }
}

fn response_messages(sms: &SmsRequest, ids: &[MessageId], price: i64) -> Vec<SentMessage> {
    let mut ids = ids.iter();
    sms.recipients
        .iter()
        .map(|recipient| {
            let (number, id, error) = match recipient {
                Recipient::Valid(number) => (
                    number.as_str().to_owned(),
                    ids.next().map(|id| id.to_string()),
                    None,
                ),
                Recipient::Invalid { raw, reason } => (raw.clone(), None, Some(reason.clone())),
            };
            SentMessage {
                id,
                sender: sms.sender.clone(),
                recipient: number,
                text: sms.text.clone(),
                encoding: sms.encoding.as_str(),
                label: sms.label.clone(),
                parts: sms.parts,
                udh: sms.udh.clone(),
                is_binary: sms.is_binary,
                price: if error.is_some() { 0.0 } else { money(price) },
                success: error.is_none(),
                error: error
                    .as_ref()
                    .map(|_| (SevenCode::InvalidRecipient as u16).to_string()),
                error_text: error,
            }
        })
        .collect()
}

/// Micro-units as a currency amount.
pub fn money(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// `DELETE /api/sms` with `ids`: cancels scheduled messages that have not been sent yet.
pub async fn cancel(
    State(state): State<AppState>,
    request: SevenRequest,
) -> Result<Response, ApiError> {
    let account = authenticate(&state, &request).await?;
    request.params.check_known(&["ids"])?;
    let ids: Vec<MessageId> = request
        .params
        .get("ids")
        .map(parse_message_ids)
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let deleted = state.store.cancel_scheduled(account.id, &ids).await?;
    let deleted: Vec<String> = deleted.iter().map(ToString::to_string).collect();
    Ok(Json(json!({ "success": !deleted.is_empty(), "deleted": deleted })).into_response())
}
