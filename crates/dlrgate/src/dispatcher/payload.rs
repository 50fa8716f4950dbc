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
    let target = requested_url(&delivery.hook.target_url, None);
    match delivery.hook.request_method.as_str() {
        "JSON" => Rendered {
            method: "POST",
            url: target,
            content_type: Some("application/json"),
            body: event.to_string().into_bytes(),
        },
        "GET" => Rendered {
            method: "GET",
            url: requested_url(&delivery.hook.target_url, Some(&form_fields(&event))),
            content_type: None,
            body: Vec::new(),
        },
        _ => Rendered {
            method: "POST",
            url: target,
            content_type: Some("application/x-www-form-urlencoded"),
            body: form_fields(&event).into_bytes(),
        },
    }
}

/// The URL exactly as it goes on the wire, which is what the signature covers and what a
/// receiver can rebuild from its request: normalised (`http://host` is requested as
/// `http://host/`), without a fragment (never sent), with `query` appended to the target's own.
fn requested_url(target: &str, query: Option<&str>) -> String {
    let Ok(mut url) = url::Url::parse(target) else {
        // The client refuses an unparsable URL before sending; keep it for the attempt log.
        return target.to_owned();
    };
    url.set_fragment(None);
    if let Some(query) = query {
        let joined = match url.query() {
            Some(own) if !own.is_empty() => format!("{own}&{query}"),
            _ => query.to_owned(),
        };
        url.set_query(Some(&joined));
    }
    url.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_url_is_the_url_requested() {
        let check = |target: &str, query: Option<&str>, expect: &str| {
            assert_eq!(requested_url(target, query), expect, "{target} {query:?}");
        };
        check("http://127.0.0.1:9000", None, "http://127.0.0.1:9000/");
        check("https://h.example/dlr#top", None, "https://h.example/dlr");
        check(
            "https://h.example/dlr?t=a%20b",
            None,
            "https://h.example/dlr?t=a%20b",
        );
        check(
            "http://h.example",
            Some("a=1&b%5Bc%5D=2"),
            "http://h.example/?a=1&b%5Bc%5D=2",
        );
        check(
            "http://h.example/x?t=1#f",
            Some("a=1"),
            "http://h.example/x?t=1&a=1",
        );
        check("http://h.example/x?", Some("a=1"), "http://h.example/x?a=1");
        check("not a url", None, "not a url");
    }
}
