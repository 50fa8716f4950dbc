//! The body and URL of a webhook, per the hook's `request_method` (seven-api.md §6.2, §6.3):
//! `JSON` posts `{"webhook_event","webhook_timestamp","data":{…}}`, `POST` posts the same fields
//! as a form with `data[...]` keys, `GET` puts them in the query string. The bytes are the same
//! for every attempt of a delivery.

use serde_json::{Value, json};
use time::macros::format_description;

use crate::domain::timefmt::{from_millis, seven_millis};
use crate::store::DueDelivery;

/// What goes on the wire for one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// `POST` or `GET`.
    pub method: &'static str,
    pub url: String,
    pub content_type: Option<&'static str>,
    pub body: Vec<u8>,
}

/// The `dlr` event of a delivery as JSON.
pub fn event(delivery: &DueDelivery) -> Value {
    let mut data = json!({
        "msg_id": delivery.message_id.to_string(),
        "status": delivery.status.as_str(),
        "timestamp": seven_millis(delivery.status_at),
    });
    if let Some(foreign_id) = &delivery.foreign_id {
        data["foreign_id"] = json!(foreign_id);
    }
    if let Some(label) = &delivery.label {
        data["label"] = json!(label);
    }
    // ISO 8601 with offset as in seven's example (`2021-08-24T08:08:00+02:00`); dlrgate uses UTC.
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");
    let timestamp = from_millis(delivery.created_at)
        .format(&format)
        .unwrap_or_default();
    json!({ "webhook_event": "dlr", "webhook_timestamp": timestamp, "data": data })
}

pub fn render(delivery: &DueDelivery) -> Rendered {
    let event = event(delivery);
    let url = delivery.hook.target_url.clone();
    match delivery.hook.request_method.as_str() {
        "JSON" => Rendered {
            method: "POST",
            url,
            content_type: Some("application/json"),
            body: event.to_string().into_bytes(),
        },
        "GET" => {
            let query = form_fields(&event);
            let separator = if url.contains('?') { '&' } else { '?' };
            Rendered {
                method: "GET",
                url: format!("{url}{separator}{query}"),
                content_type: None,
                body: Vec::new(),
            }
        }
        _ => Rendered {
            method: "POST",
            url,
            content_type: Some("application/x-www-form-urlencoded"),
            body: form_fields(&event).into_bytes(),
        },
    }
}

/// `webhook_event=dlr&webhook_timestamp=…&data[msg_id]=…`, PHP-style nested keys.
fn form_fields(event: &Value) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Value::Object(top) = event {
        for (key, value) in top {
            match value {
                Value::Object(inner) => {
                    for (inner_key, inner_value) in inner {
                        pairs.push((format!("{key}[{inner_key}]"), text(inner_value)));
                    }
                }
                other => pairs.push((key.clone(), text(other))),
            }
        }
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
