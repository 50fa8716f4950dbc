//! Prices and balances: debug mode, what `/api/sms` debits per part, refusals once the balance
//! is used up, refunds on cancelling, and `/api/balance` (seven-api.md §3, issue 2 item 4).

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app};
use crate::helpers::sms::{cancel, close, unix_now};

/// POST /api/sms with a JSON body as `key`; the body as text.
async fn send_text(app: &TestApp, key: &str, body: Value) -> String {
    let response = app.send_sms_as(key, body).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// GET `path` as `key` with `Accept: application/json`, parsed.
async fn get_json_as(app: &TestApp, key: &str, path: &str) -> Value {
    let response = app
        .http
        .get(app.url(path))
        .header("X-Api-Key", key)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

async fn journal_as(app: &TestApp, key: &str) -> Vec<Value> {
    get_json_as(app, key, "/api/journal/outbound")
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn balance_as(app: &TestApp, key: &str) -> Value {
    get_json_as(app, key, "/api/balance").await["amount"].clone()
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prices_but_stores_and_bills_nothing() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account("debugger", &["--balance", "1", "--price-per-part", "0.075"]);
    let key = account["api_key"].as_str().unwrap();

    // Act
    let body: Value = app
        .send_sms_as(
            key,
            json!({"to": "491701234561,491701234562", "text": "x", "debug": 1}),
        )
        .await
        .json()
        .await
        .unwrap();

    // Assert
    assert_eq!(body["success"], "100", "{body}");
    assert_eq!(body["debug"], json!("true"));
    for message in body["messages"].as_array().unwrap() {
        assert_eq!(message["id"], Value::Null, "{message}");
        assert!(close(&message["price"], 0.075), "{message}");
    }
    assert_eq!(journal_as(&app, key).await, Vec::<Value>::new());
    assert!(close(&balance_as(&app, key).await, 1.0));
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priced_sends_reduce_the_balance_by_price_per_part() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account("priced", &["--balance", "1", "--price-per-part", "0.075"]);
    let key = account["api_key"].as_str().unwrap();

    // Act
    let one: Value = app
        .send_sms_as(key, json!({"to": "491701234561", "text": "x"}))
        .await
        .json()
        .await
        .unwrap();
    let two: Value = app
        .send_sms_as(key, json!({"to": "491701234561", "text": "a".repeat(161)}))
        .await
        .json()
        .await
        .unwrap();

    // Assert
    assert!(close(&one["messages"][0]["price"], 0.075), "{one}");
    assert!(close(&one["total_price"], 0.075), "{one}");
    assert!(close(&one["balance"], 0.925), "{one}");
    assert!(close(&two["messages"][0]["price"], 0.15), "{two}");
    assert!(close(&two["balance"], 0.775), "{two}");
    assert!(close(&balance_as(&app, key).await, 0.775));
    let prices: Vec<Value> = journal_as(&app, key)
        .await
        .iter()
        .map(|r| r["price"].clone())
        .collect();
    assert_eq!(prices, [json!("0.1500"), json!("0.0750")]);
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_balance_gets_500_and_stores_nothing() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account("poor", &["--balance", "0.1", "--price-per-part", "0.075"]);
    let key = account["api_key"].as_str().unwrap();
    let first = send_text(&app, key, json!({"to": "491701234561", "text": "x"})).await;

    // Act
    let second = send_text(&app, key, json!({"to": "491701234562", "text": "x"})).await;
    let both = send_text(
        &app,
        key,
        json!({"to": "491701234563,491701234564", "text": "x"}),
    )
    .await;

    // Assert
    assert!(first.contains("\"100\""), "{first}");
    assert_eq!(second, "500");
    assert_eq!(both, "500");
    let rows = journal_as(&app, key).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["to"], "491701234561");
    assert!(close(&balance_as(&app, key).await, 0.025));
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_delayed_message_refunds_it() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account("refund", &["--balance", "1", "--price-per-part", "0.075"]);
    let key = account["api_key"].as_str().unwrap();
    let body: Value = app
        .send_sms_as(
            key,
            json!({"to": "491701234561", "text": "x", "delay": unix_now() + 3600}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = body["messages"][0]["id"].as_str().unwrap().to_owned();
    let charged = balance_as(&app, key).await;

    // Act
    let answer = cancel(&app, key, &id).await;

    // Assert
    assert!(close(&charged, 0.925), "{charged}");
    assert_eq!(answer, json!({"success": true, "deleted": [id]}));
    assert!(close(&balance_as(&app, key).await, 1.0));
}

#[tokio::test]
async fn default_account_is_unlimited() {
    // Arrange
    let app = spawn_app().await;

    // Act
    for _ in 0..20 {
        app.send_one("491701234561", "x").await;
    }
    let json = app.get_json("/api/balance").await;
    let text = app
        .get("/api/balance")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Assert
    assert_eq!(json["amount"], Value::Null, "{json}");
    assert_eq!(json["unlimited"], true, "{json}");
    assert_eq!(text, "unlimited");
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limited_balance_answers_as_text_for_legacy_clients() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account("legacy-balance", &["--balance", "12.5"]);
    let key = account["api_key"].as_str().unwrap();

    // Act
    let text = app
        .http
        .get(app.url("/api/balance"))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json = get_json_as(&app, key, "/api/balance").await;

    // Assert
    assert_eq!(text.parse::<f64>().ok(), Some(12.5), "{text}");
    assert!(close(&json["amount"], 12.5), "{json}");
    assert_eq!(json["currency"], "EUR");
}
