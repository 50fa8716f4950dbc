//! Helpers for the `/api/hooks` tests over a `TestApp` (`webhooks_api.rs`,
//! `webhooks_isolation.rs`, `webhooks_payload.rs`, `webhooks_signing.rs`): subscribing as the
//! PHP SDK does, listing, sending one message, and reading a webhook's fields whatever its
//! encoding.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::app::TestApp;
use super::receiver::Received;

/// How long a webhook or an answer may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long "nothing more arrives" is watched for.
pub const QUIET: Duration = Duration::from_millis(300);

/// The sandbox reports ACCEPTED, TRANSMITTED, DELIVERED for numbers ending in 1–5.
pub const DELIVERED_TO: &str = "491701234561";
pub const OPERATOR_STATUSES: [&str; 3] = ["ACCEPTED", "TRANSMITTED", "DELIVERED"];

pub async fn answer(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// `POST /api/hooks` with a form body, as the PHP SDK sends it.
pub async fn subscribe_form(app: &TestApp, key: &str, form: &[(&str, &str)]) -> Value {
    let request = app.http.post(app.url("/api/hooks"));
    answer(
        request
            .header("X-Api-Key", key)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Subscribes `target_url` for `dlr` with `request_method` and extra form fields; the hook id.
pub async fn subscribe(
    app: &TestApp,
    target_url: &str,
    request_method: &str,
    extra: &[(&str, &str)],
) -> i64 {
    let mut form = vec![
        ("target_url", target_url),
        ("event_type", "dlr"),
        ("request_method", request_method),
    ];
    form.extend_from_slice(extra);
    let body = subscribe_form(app, &app.api_key, &form).await;
    assert_eq!(body["success"], true, "{body}");
    body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id: {body}"))
}

pub async fn list_as(app: &TestApp, key: &str, query: &str) -> Value {
    let request = app.http.get(app.url(&format!("/api/hooks{query}")));
    let body = answer(
        request
            .header("X-Api-Key", key)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["success"], true, "{body}");
    assert!(body["hooks"].is_array(), "{body}");
    body
}

/// The ids (strings, as listed) of the default account's hooks.
pub async fn listed_ids(app: &TestApp) -> Vec<String> {
    let body = list_as(app, &app.api_key, "").await;
    body["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hook| hook["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends one SMS (JSON body as the JS SDK) and returns its message id.
pub async fn send(app: &TestApp, body: Value) -> String {
    let answer: Value = app.send_sms(body).await.json().await.unwrap();
    assert_eq!(answer["success"], "100", "{answer}");
    answer["messages"][0]["id"].as_str().unwrap().to_owned()
}

/// Whether `value` has the shape of `pattern`, where `d` stands for one digit.
pub fn has_shape(value: &str, pattern: &str) -> bool {
    value.len() == pattern.len()
        && value.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            _ => c == p,
        })
}

/// The fields of a webhook as flat `key → value`, whatever its encoding: JSON `data.msg_id`
/// becomes `data[msg_id]`, as the form and query encodings spell it.
pub fn fields(received: &Received) -> BTreeMap<String, String> {
    if received.method == "GET" {
        let query = received.uri.split_once('?').map(|(_, q)| q).unwrap_or("");
        return serde_urlencoded::from_str::<Vec<(String, String)>>(query)
            .unwrap()
            .into_iter()
            .collect();
    }
    if received.header("content-type") == "application/json" {
        let mut flat = BTreeMap::new();
        for (key, value) in received.json().as_object().unwrap() {
            match value {
                Value::Object(data) => {
                    for (inner, value) in data {
                        let text = value.as_str().unwrap_or_else(|| panic!("{inner}: {value}"));
                        flat.insert(format!("{key}[{inner}]"), text.to_owned());
                    }
                }
                other => {
                    flat.insert(key.clone(), other.as_str().unwrap().to_owned());
                }
            }
        }
        return flat;
    }
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&received.body)
        .unwrap()
        .into_iter()
        .collect()
}

/// The path of a request, without its query.
pub fn path(received: &Received) -> &str {
    received.uri.split('?').next().unwrap()
}
