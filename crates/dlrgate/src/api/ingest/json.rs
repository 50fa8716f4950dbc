//! dlrgate's generic JSON report form (docs/upstreams.md): one object or an array of up to
//! [`MAX_REPORTS`] objects `{"id", "status", "error_code"?, "timestamp"?}`. `status` is a
//! dlrgate status (`DELIVERED`) or a receipt stat code (`DELIVRD`); `timestamp` is unix seconds
//! or RFC 3339. The same fields also work as query or form parameters. A batch is stored whole
//! or, when any report in it is bad, not at all.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Received, bad_request, receipt};
use crate::api::error::ApiError;
use crate::domain::dlr::{self, DlrReading};
use crate::domain::receipt::{IdFormat, normalize_id};
use crate::store::OperatorReceipt;

/// Most reports one request may carry.
const MAX_REPORTS: usize = 1000;

pub(super) fn receipts(
    received: &Received,
    id_format: IdFormat,
) -> Result<Vec<OperatorReceipt>, ApiError> {
    let Some(json) = received.json() else {
        return from_params(received, id_format).map(|receipt| vec![receipt]);
    };
    let items = match json {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    if items.is_empty() || items.len() > MAX_REPORTS {
        return Err(bad_request(format!(
            "expected 1 to {MAX_REPORTS} reports, got {}",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            from_json(received, item, id_format)
                .map_err(|detail| bad_request(format!("report {index}: {detail}")))
        })
        .collect()
}

fn from_json(
    received: &Received,
    item: &Value,
    id_format: IdFormat,
) -> Result<OperatorReceipt, String> {
    let Value::Object(fields) = item else {
        return Err("expected an object".to_owned());
    };
    let id = text(fields.get("id"))
        .filter(|id| !id.trim().is_empty())
        .ok_or("id is missing")?;
    let status = match fields.get("status") {
        Some(Value::String(status)) => status.as_str(),
        _ => return Err("status is missing".to_owned()),
    };
    let error_code = text(fields.get("error_code"));
    let seconds = match fields.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => Some(
            number
                .as_i64()
                .or_else(|| number.as_f64().map(|f| f as i64))
                .ok_or("timestamp is not unix seconds")?,
        ),
        Some(Value::String(text)) => Some(parse_timestamp(text)?),
        Some(_) => return Err("timestamp is not unix seconds or RFC 3339".to_owned()),
    };
    let reading = read(status, error_code)?;
    Ok(receipt(
        normalize_id(&id, id_format),
        reading,
        received.time(seconds),
        item.to_string(),
    ))
}

fn from_params(received: &Received, id_format: IdFormat) -> Result<OperatorReceipt, ApiError> {
    let id = received.required("id")?;
    let status = received.required("status")?;
    let error_code = received.param("error_code").map(str::to_owned);
    let seconds = received
        .param("timestamp")
        .map(parse_timestamp)
        .transpose()
        .map_err(bad_request)?;
    let reading = read(status, error_code).map_err(bad_request)?;
    Ok(receipt(
        normalize_id(id, id_format),
        reading,
        received.time(seconds),
        received.raw_with(None),
    ))
}

fn read(status: &str, error_code: Option<String>) -> Result<DlrReading, String> {
    let status = dlr::named_status(status, error_code.as_deref()).map_err(|e| e.to_string())?;
    Ok(DlrReading { status, error_code })
}

/// A string or number field as text; anything else (or an empty string) is absent.
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Unix seconds (digits) or an RFC 3339 time, as unix seconds.
fn parse_timestamp(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|_| format!("timestamp {text:?} is not unix seconds or RFC 3339"))
}
