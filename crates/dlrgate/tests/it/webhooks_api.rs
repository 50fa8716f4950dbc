//! `/api/hooks` as seven-api.md §6.1 describes it: list, subscribe, unsubscribe, the legacy
//! `action=…` forms and refusals. Tenant isolation and the SSRF refusal are in
//! `webhooks_isolation.rs`, what a subscribed receiver gets in `webhooks_payload.rs`, signatures
//! in `webhooks_signing.rs`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app};
use crate::helpers::hooks_api::{
    answer, has_shape, list_as, listed_ids, subscribe, subscribe_form,
};

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
