//! `/api/hooks` as seven-api.md §6.1 describes it (list, subscribe, unsubscribe, the legacy
//! `action=…` forms, refusals and tenant isolation), the SSRF refusal of literal non-public
//! addresses at subscribe time (issue 3 item 9), and what a subscribed receiver gets: the payload
//! in each encoding (§6.2, §6.3), one webhook per operator status, `event_filter` and custom
//! headers. Signatures are in `webhooks_signing.rs`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app, spawn_app_with};
use crate::helpers::receiver::{Received, WebhookReceiver};

/// How long a webhook or an answer may take before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// How long "nothing more arrives" is watched for.
pub(crate) const QUIET: Duration = Duration::from_millis(300);

/// The sandbox reports ACCEPTED, TRANSMITTED, DELIVERED for numbers ending in 1–5.
pub(crate) const DELIVERED_TO: &str = "491701234561";
pub(crate) const OPERATOR_STATUSES: [&str; 3] = ["ACCEPTED", "TRANSMITTED", "DELIVERED"];

async fn answer(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// `POST /api/hooks` with a form body, as the PHP SDK sends it.
pub(crate) async fn subscribe_form(app: &TestApp, key: &str, form: &[(&str, &str)]) -> Value {
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

/// `POST /api/hooks` with a JSON body, as the JS SDK sends it.
pub(crate) async fn subscribe_json(app: &TestApp, body: Value) -> Value {
    let request = app.http.post(app.url("/api/hooks"));
    answer(
        request
            .header("X-Api-Key", &app.api_key)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Subscribes `target_url` for `dlr` with `request_method` and extra form fields; the hook id.
pub(crate) async fn subscribe(
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

async fn list_as(app: &TestApp, key: &str, query: &str) -> Value {
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
async fn listed_ids(app: &TestApp) -> Vec<String> {
    let body = list_as(app, &app.api_key, "").await;
    body["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hook| hook["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Sends one SMS (JSON body as the JS SDK) and returns its message id.
pub(crate) async fn send(app: &TestApp, body: Value) -> String {
    let answer: Value = app.send_sms(body).await.json().await.unwrap();
    assert_eq!(answer["success"], "100", "{answer}");
    answer["messages"][0]["id"].as_str().unwrap().to_owned()
}

/// Whether `value` has the shape of `pattern`, where `d` stands for one digit.
pub(crate) fn has_shape(value: &str, pattern: &str) -> bool {
    value.len() == pattern.len()
        && value.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            _ => c == p,
        })
}

/// The fields of a webhook as flat `key → value`, whatever its encoding: JSON `data.msg_id`
/// becomes `data[msg_id]`, as the form and query encodings spell it.
pub(crate) fn fields(received: &Received) -> BTreeMap<String, String> {
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
fn path(received: &Received) -> &str {
    received.uri.split('?').next().unwrap()
}

#[tokio::test]
async fn subscribing_with_a_form_returns_an_integer_id_and_the_list_shows_the_hook_in_seven_shape()
{
    // Arrange
    let app = spawn_app().await;
    let empty = list_as(&app, &app.api_key, "").await;
    assert_eq!(empty, json!({"success": true, "code": null, "hooks": []}));

    // Act
    let created = subscribe_form(
        &app,
        &app.api_key,
        &[
            ("target_url", "http://127.0.0.1:9/dlr"),
            ("event_type", "dlr"),
            ("request_method", "GET"),
            ("event_filter", "491701234561"),
            ("headers", "Authorization: Basic dXNlcjpwYXNz"),
        ],
    )
    .await;
    let listed = list_as(&app, &app.api_key, "").await;

    // Assert
    assert_eq!(created["success"], true, "{created}");
    let id = created["id"]
        .as_i64()
        .expect("subscribe answers an integer id");
    let hooks = listed["hooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 1, "{listed}");
    let hook = &hooks[0];
    assert_eq!(hook["id"], json!(id.to_string()), "list ids are strings");
    assert_eq!(hook["target_url"], "http://127.0.0.1:9/dlr");
    assert_eq!(hook["event_type"], "dlr");
    assert_eq!(hook["request_method"], "GET");
    assert_eq!(hook["event_filter"], "491701234561");
    assert_eq!(hook["headers"], "Authorization: Basic dXNlcjpwYXNz");
    assert_eq!(hook["enabled"], true);
    let created_at = hook["created"].as_str().unwrap();
    assert!(
        has_shape(created_at, "dddd-dd-dd dd:dd:dd"),
        "created {created_at:?}"
    );
}

#[tokio::test]
async fn subscribing_with_json_as_the_js_sdk_sends_it_works_and_defaults_to_a_form_post() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let json_hook = subscribe_json(
        &app,
        json!({"request_method": "JSON", "event_type": "all", "target_url": "http://127.0.0.1:9/a"}),
    )
    .await;
    let default_hook = subscribe_json(
        &app,
        json!({"event_type": "dlr", "target_url": "https://hooks.example.com/dlr"}),
    )
    .await;
    let listed = list_as(&app, &app.api_key, "").await;

    // Assert
    assert_eq!(json_hook["success"], true, "{json_hook}");
    assert!(json_hook["id"].is_i64(), "{json_hook}");
    assert!(default_hook["id"].is_i64(), "{default_hook}");
    let methods: BTreeMap<String, String> = listed["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let id = h["id"].as_str().unwrap().to_owned();
            (id, h["request_method"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(methods[&json_hook["id"].to_string()], "JSON");
    assert_eq!(methods[&default_hook["id"].to_string()], "POST");
    let hooks = listed["hooks"].as_array().unwrap();
    assert!(
        hooks.iter().all(|h| h["event_filter"].is_null()),
        "{listed}"
    );
}

#[tokio::test]
async fn every_event_type_seven_names_is_accepted() {
    // Arrange
    let app = spawn_app().await;
    let types = [
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

    // Act
    for event_type in types {
        let body = subscribe_form(
            &app,
            &app.api_key,
            &[
                ("target_url", "http://127.0.0.1:9/x"),
                ("event_type", event_type),
            ],
        )
        .await;
        assert_eq!(body["success"], true, "{event_type}: {body}");
    }

    // Assert
    let listed = list_as(&app, &app.api_key, "").await;
    let mut got: Vec<&str> = listed["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event_type"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    let mut expect = types.to_vec();
    expect.sort_unstable();
    assert_eq!(got, expect);
}

#[tokio::test]
async fn invalid_subscriptions_answer_success_false_without_an_id_and_create_nothing() {
    // Arrange
    let app = spawn_app().await;
    let target = ("target_url", "http://127.0.0.1:9/x");
    let dlr = ("event_type", "dlr");
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "JS SDK's invalid URL",
            vec![("target_url", "abc://my.tld/123"), dlr],
        ),
        ("not a URL", vec![("target_url", "not a url"), dlr]),
        ("missing target_url", vec![dlr]),
        ("missing event_type", vec![target]),
        ("unknown event_type", vec![target, ("event_type", "sms")]),
        (
            "unknown request_method",
            vec![target, dlr, ("request_method", "PUT")],
        ),
        (
            "CRLF header injection",
            vec![target, dlr, ("headers", "X-A: 1\r\nX-Signature: forged")],
        ),
        (
            "bare CR in a header",
            vec![target, dlr, ("headers", "X-A: a\rX-B: b")],
        ),
        (
            "replacing X-Signature",
            vec![target, dlr, ("headers", "X-Signature: forged")],
        ),
        (
            "replacing webhook-signature",
            vec![target, dlr, ("headers", "webhook-signature: v1,Zm9yZ2Vk")],
        ),
        (
            "replacing X-Timestamp",
            vec![target, dlr, ("headers", "x-timestamp: 1")],
        ),
        (
            "header without a colon",
            vec![target, dlr, ("headers", "no colon here")],
        ),
    ];

    for (what, form) in cases {
        // Act
        let body = subscribe_form(&app, &app.api_key, &form).await;

        // Assert
        assert_eq!(body["success"], false, "{what}: {body}");
        assert!(body["id"].is_null(), "{what}: a refusal has no id: {body}");
        assert!(
            !body["error_message"].as_str().unwrap_or("").is_empty(),
            "{what}: {body}"
        );
    }
    assert_eq!(listed_ids(&app).await, Vec::<String>::new());
}

#[tokio::test]
async fn unsubscribing_works_with_the_id_in_the_query_a_form_body_and_a_json_body() {
    // Arrange
    let app = spawn_app().await;
    let url = "http://127.0.0.1:9/x";
    let (a, b, c, keep) = (
        subscribe(&app, url, "POST", &[]).await,
        subscribe(&app, url, "POST", &[]).await,
        subscribe(&app, url, "POST", &[]).await,
        subscribe(&app, url, "POST", &[]).await,
    );
    let delete = || {
        app.http
            .delete(app.url("/api/hooks"))
            .header("X-Api-Key", &app.api_key)
            .header("Accept", "application/json")
    };

    // Act
    let by_query = answer(
        app.http
            .delete(app.url(&format!("/api/hooks?id={a}")))
            .header("X-Api-Key", &app.api_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let by_form = answer(
        delete()
            .form(&[("id", b.to_string())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let by_json = answer(delete().json(&json!({"id": c})).send().await.unwrap()).await;
    let again = answer(delete().json(&json!({"id": c})).send().await.unwrap()).await;

    // Assert
    assert_eq!(by_query, json!({"success": true}));
    assert_eq!(by_form, json!({"success": true}));
    assert_eq!(by_json, json!({"success": true}));
    assert_eq!(again["success"], false, "a deleted hook is gone: {again}");
    assert_eq!(listed_ids(&app).await, vec![keep.to_string()]);
}

#[tokio::test]
async fn legacy_action_read_subscribe_and_unsubscribe_work() {
    // Arrange
    let app = spawn_app().await;
    let key = app.api_key.clone();

    // Act
    let subscribed = subscribe_form(
        &app,
        &key,
        &[
            ("action", "subscribe"),
            ("target_url", "http://127.0.0.1:9/legacy"),
            ("event_type", "dlr"),
        ],
    )
    .await;
    // The Rust SDK puts `action` in the query and the rest in a form body.
    let in_query = answer(
        app.http
            .post(app.url("/api/hooks?action=subscribe"))
            .header("X-Api-Key", &key)
            .form(&[
                ("target_url", "http://127.0.0.1:9/rs"),
                ("event_type", "all"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    let read = list_as(&app, &key, "?action=read").await;
    let id = subscribed["id"].as_i64().unwrap().to_string();
    let unsubscribed = subscribe_form(&app, &key, &[("action", "unsubscribe"), ("id", &id)]).await;
    let after = list_as(&app, &key, "?action=read").await;

    // Assert
    assert_eq!(subscribed["success"], true, "{subscribed}");
    assert_eq!(in_query["success"], true, "{in_query}");
    assert!(in_query["id"].is_i64(), "{in_query}");
    let urls: Vec<&str> = read["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["target_url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls.len(),
        2,
        "both legacy subscriptions are listed: {read}"
    );
    assert!(urls.contains(&"http://127.0.0.1:9/legacy") && urls.contains(&"http://127.0.0.1:9/rs"));
    assert_eq!(unsubscribed, json!({"success": true}));
    assert_eq!(after["hooks"].as_array().unwrap().len(), 1, "{after}");
    assert_eq!(after["hooks"][0]["target_url"], "http://127.0.0.1:9/rs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_can_neither_see_nor_delete_my_hooks_nor_get_my_status_reports() {
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    let mine = subscribe(&app, &format!("{}/mine", receiver.url), "JSON", &[]).await;
    let other = app.create_account("other", &[]);
    let other_key = other["api_key"].as_str().unwrap();
    let theirs = subscribe_form(
        &app,
        other_key,
        &[
            ("target_url", &format!("{}/theirs", receiver.url)),
            ("event_type", "all"),
        ],
    )
    .await;
    assert_eq!(theirs["success"], true, "{theirs}");

    // Act
    let their_list = list_as(&app, other_key, "").await;
    let their_delete = answer(
        app.http
            .delete(app.url(&format!("/api/hooks?id={mine}")))
            .header("X-Api-Key", other_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let their_legacy_delete = subscribe_form(
        &app,
        other_key,
        &[("action", "unsubscribe"), ("id", &mine.to_string())],
    )
    .await;
    send(&app, json!({"to": DELIVERED_TO, "text": "mine"})).await;
    let got = receiver.collect(3, WAIT).await;

    // Assert
    let their_hooks = their_list["hooks"].as_array().unwrap();
    assert_eq!(their_hooks.len(), 1, "{their_list}");
    assert_ne!(their_hooks[0]["id"], json!(mine.to_string()));
    assert_eq!(their_delete["success"], false, "{their_delete}");
    assert_eq!(
        their_legacy_delete["success"], false,
        "{their_legacy_delete}"
    );
    assert_eq!(listed_ids(&app).await, vec![mine.to_string()]);
    assert!(got.iter().all(|r| path(r) == "/hook/mine"), "{got:?}");
    let more = receiver.maybe_next(QUIET).await;
    assert!(
        more.is_none(),
        "another account's hook got my report: {more:?}"
    );
}

#[tokio::test]
async fn literal_non_public_addresses_are_refused_at_subscribe_time() {
    // Arrange: no allow-list, as in production. Nothing here connects anywhere: the check
    // refuses before any connection, and no message is sent.
    let app = spawn_app_with(|s| s.webhook.allow_cidrs.clear()).await;
    let refused = [
        "http://10.0.0.1/dlr",
        "http://172.16.5.4/dlr",
        "http://192.168.1.1/dlr",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/dlr",
        "http://0.0.0.0:8080/dlr",
        "http://127.0.0.1:9000/dlr",
        "http://127.1.2.3/dlr",
        "http://[::1]:9000/dlr",
        "http://[fd00::1]/dlr",
        "http://[fe80::1]/dlr",
        "http://[::ffff:10.0.0.1]/dlr",
        "http://[::ffff:127.0.0.1]/dlr",
        "http://224.0.0.1/dlr",
        "http://[ff02::1]/dlr",
        "http://[::]/dlr",
    ];

    for url in refused {
        // Act
        let body = subscribe_form(
            &app,
            &app.api_key,
            &[("target_url", url), ("event_type", "dlr")],
        )
        .await;

        // Assert
        assert_eq!(body["success"], false, "{url}: {body}");
        assert!(body["id"].is_null(), "{url}: {body}");
        let message = body["error_message"].as_str().unwrap_or("");
        assert!(message.contains("refused"), "{url}: unclear error {body}");
    }
    assert_eq!(listed_ids(&app).await, Vec::<String>::new());
    // The guard is not a blanket refusal: a public address and a name are accepted (names are
    // checked when they are resolved at delivery time).
    for url in ["http://93.184.216.34/dlr", "https://hooks.example.com/dlr"] {
        let body = subscribe_form(
            &app,
            &app.api_key,
            &[("target_url", url), ("event_type", "dlr")],
        )
        .await;
        assert_eq!(body["success"], true, "{url}: {body}");
    }
}

#[tokio::test]
async fn loopback_is_accepted_only_when_the_allow_list_opens_it() {
    // Arrange: the test settings allow 127.0.0.0/8 and ::1.
    let app = spawn_app().await;

    // Act
    let v4 = subscribe_form(
        &app,
        &app.api_key,
        &[
            ("target_url", "http://127.0.0.1:9/x"),
            ("event_type", "dlr"),
        ],
    )
    .await;
    let v6 = subscribe_form(
        &app,
        &app.api_key,
        &[("target_url", "http://[::1]:9/x"), ("event_type", "dlr")],
    )
    .await;
    let private = subscribe_form(
        &app,
        &app.api_key,
        &[("target_url", "http://10.0.0.1/x"), ("event_type", "dlr")],
    )
    .await;

    // Assert
    assert_eq!(v4["success"], true, "{v4}");
    assert_eq!(v6["success"], true, "{v6}");
    assert_eq!(
        private["success"], false,
        "the allow-list opens only its ranges: {private}"
    );
}

#[tokio::test]
async fn each_encoding_delivers_one_webhook_per_operator_status_with_exactly_the_documented_fields()
{
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    let base = receiver.url.clone();
    subscribe(&app, &format!("{base}/json"), "JSON", &[]).await;
    subscribe(&app, &format!("{base}/form"), "POST", &[]).await;
    subscribe(&app, &format!("{base}/get?token=abc"), "GET", &[]).await;

    // Act
    let id = send(
        &app,
        json!({"to": DELIVERED_TO, "text": "hi", "foreign_id": "order-42", "label": "otp"}),
    )
    .await;
    let got = receiver.collect(9, WAIT).await;
    let status = app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Assert
    for encoding in ["/hook/json", "/hook/form", "/hook/get"] {
        let requests: Vec<&Received> = got.iter().filter(|r| path(r) == encoding).collect();
        let statuses: Vec<String> = requests
            .iter()
            .map(|r| fields(r)["data[status]"].clone())
            .collect();
        assert_eq!(
            statuses, OPERATOR_STATUSES,
            "{encoding}: one per status, in order"
        );
        for request in &requests {
            let mut fields = fields(request);
            if encoding == "/hook/get" {
                assert_eq!(fields.remove("token").as_deref(), Some("abc"), "{fields:?}");
            }
            let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "data[foreign_id]",
                    "data[label]",
                    "data[msg_id]",
                    "data[status]",
                    "data[timestamp]",
                    "webhook_event",
                    "webhook_timestamp",
                ],
                "{encoding}"
            );
            assert_eq!(fields["webhook_event"], "dlr");
            assert_eq!(fields["data[msg_id]"], id);
            assert_eq!(fields["data[foreign_id]"], "order-42");
            assert_eq!(fields["data[label]"], "otp");
            assert!(
                has_shape(&fields["webhook_timestamp"], "dddd-dd-ddTdd:dd:dd+00:00"),
                "{fields:?}"
            );
            assert!(
                has_shape(&fields["data[timestamp]"], "dddd-dd-dd dd:dd:dd.ddd"),
                "{fields:?}"
            );
        }
        let delivered = fields(requests[2]);
        assert_eq!(
            json!(delivered["data[timestamp]"]),
            status[0]["status_time"],
            "the webhook's time is the status time /api/status reports"
        );
    }
    let json = got.iter().find(|r| path(r) == "/hook/json").unwrap();
    assert_eq!(json.method, "POST");
    assert_eq!(json.header("content-type"), "application/json");
    assert!(json.json()["data"]["msg_id"].is_string());
    let form = got.iter().find(|r| path(r) == "/hook/form").unwrap();
    assert_eq!(form.method, "POST");
    assert_eq!(
        form.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let get = got.iter().find(|r| path(r) == "/hook/get").unwrap();
    assert_eq!(get.method, "GET");
    assert!(get.body.is_empty(), "GET webhooks carry no body");
    assert!(
        get.uri.starts_with("/hook/get?token=abc&"),
        "the target URL's own query is kept: {}",
        get.uri
    );
    let more = receiver.maybe_next(QUIET).await;
    assert!(
        more.is_none(),
        "no duplicates, no internal states: {more:?}"
    );
}

#[tokio::test]
async fn foreign_id_and_label_are_left_out_when_the_message_had_none() {
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    let base = receiver.url.clone();
    subscribe(&app, &format!("{base}/json"), "JSON", &[]).await;
    subscribe(&app, &format!("{base}/form"), "POST", &[]).await;
    subscribe(&app, &format!("{base}/get"), "GET", &[]).await;

    // Act
    let id = send(&app, json!({"to": DELIVERED_TO, "text": "plain"})).await;
    let got = receiver.collect(9, WAIT).await;

    // Assert
    for request in &got {
        let fields = fields(request);
        let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "data[msg_id]",
                "data[status]",
                "data[timestamp]",
                "webhook_event",
                "webhook_timestamp",
            ],
            "{}",
            request.uri
        );
        assert_eq!(fields["data[msg_id]"], id);
    }
}

#[tokio::test]
async fn event_filter_and_event_type_decide_which_hooks_get_a_status_report() {
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    let base = receiver.url.clone();
    let hook = |name: &str| format!("{base}/{name}");
    subscribe(
        &app,
        &hook("recipient"),
        "JSON",
        &[("event_filter", DELIVERED_TO)],
    )
    .await;
    subscribe(
        &app,
        &hook("plus"),
        "JSON",
        &[("event_filter", "+491701234561")],
    )
    .await;
    subscribe(&app, &hook("sender"), "JSON", &[("event_filter", "MyShop")]).await;
    subscribe(
        &app,
        &hook("other-number"),
        "JSON",
        &[("event_filter", "491709999999")],
    )
    .await;
    subscribe(
        &app,
        &hook("other-sender"),
        "JSON",
        &[("event_filter", "OtherShop")],
    )
    .await;
    let all = subscribe_form(
        &app,
        &app.api_key,
        &[
            ("target_url", &hook("all")),
            ("event_type", "all"),
            ("request_method", "JSON"),
        ],
    )
    .await;
    let inbound = subscribe_form(
        &app,
        &app.api_key,
        &[
            ("target_url", &hook("sms-mo")),
            ("event_type", "sms_mo"),
            ("request_method", "JSON"),
        ],
    )
    .await;
    assert_eq!(
        (all["success"].clone(), inbound["success"].clone()),
        (json!(true), json!(true))
    );

    // Act
    send(
        &app,
        json!({"to": DELIVERED_TO, "from": "MyShop", "text": "filtered"}),
    )
    .await;
    let got = receiver.collect(12, WAIT).await;
    let more = receiver.maybe_next(QUIET).await;

    // Assert
    let mut per_hook: BTreeMap<&str, usize> = BTreeMap::new();
    for request in &got {
        *per_hook.entry(path(request)).or_default() += 1;
    }
    assert_eq!(
        per_hook,
        BTreeMap::from([
            ("/hook/all", 3),
            ("/hook/plus", 3),
            ("/hook/recipient", 3),
            ("/hook/sender", 3)
        ])
    );
    assert!(more.is_none(), "a non-matching hook got a report: {more:?}");
}

#[tokio::test]
async fn a_hooks_custom_headers_arrive_with_every_webhook() {
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    subscribe(
        &app,
        &receiver.url,
        "JSON",
        &[(
            "headers",
            "Authorization: Basic dXNlcjpwYXNz\nX-Tenant: acme-7",
        )],
    )
    .await;

    // Act
    send(&app, json!({"to": DELIVERED_TO, "text": "headers"})).await;
    let got = receiver.collect(3, WAIT).await;

    // Assert
    for request in &got {
        assert_eq!(request.header("authorization"), "Basic dXNlcjpwYXNz");
        assert_eq!(request.header("x-tenant"), "acme-7");
        assert_eq!(request.headers.get_all("x-signature").iter().count(), 1);
    }
}
