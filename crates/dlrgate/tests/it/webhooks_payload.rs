//! What a subscribed receiver gets: the payload in each encoding (seven-api.md §6.2, §6.3), one
//! webhook per operator status, `event_filter` and `event_type`, and custom headers.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::json;

use crate::helpers::app::spawn_app;
use crate::helpers::hooks_api::{
    DELIVERED_TO, OPERATOR_STATUSES, QUIET, WAIT, fields, has_shape, path, send, subscribe,
    subscribe_form,
};
use crate::helpers::receiver::{Received, WebhookReceiver};

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
