//! `/api/sms` over HTTP: seven.io's JSON and legacy text answers, recipients, sender and text
//! validation, encodings and parts, delays and cancelling, debug mode, prices and balances
//! (seven-api.md §3, issue 2 item 4).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app};

const WAIT: Duration = Duration::from_secs(10);

/// The sorted keys of a JSON object.
fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn close(actual: &Value, expect: f64) -> bool {
    actual
        .as_f64()
        .is_some_and(|value| (value - expect).abs() < 1e-9)
}

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

/// `DELETE /api/sms` with a JSON body, as the JS SDK sends it.
async fn cancel(app: &TestApp, key: &str, ids: &str) -> Value {
    let response = app
        .http
        .delete(app.url("/api/sms"))
        .header("X-Api-Key", key)
        .header("Accept", "application/json")
        .json(&json!({ "ids": ids }))
        .send()
        .await
        .unwrap();
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `YYYY-MM-DD hh:mm:ss` in UTC.
fn utc_string(unix_seconds: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap()
        .format(&format)
        .unwrap()
}

#[tokio::test]
async fn json_send_answers_exactly_sevens_shape() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body: Value = app
        .send_sms(json!({"to": "491701234561", "text": "Hello", "from": "seven", "label": "otp"}))
        .await
        .json()
        .await
        .unwrap();

    // Assert
    assert_eq!(
        keys(&body),
        [
            "balance",
            "debug",
            "messages",
            "sms_type",
            "success",
            "total_price"
        ],
        "{body}"
    );
    assert_eq!(body["success"], json!("100"));
    assert_eq!(body["debug"], json!("false"));
    assert_eq!(body["sms_type"], json!("direct"));
    assert!(body["total_price"].is_number(), "{body}");
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(
        keys(message),
        [
            "encoding",
            "error",
            "error_text",
            "id",
            "is_binary",
            "label",
            "parts",
            "price",
            "recipient",
            "sender",
            "success",
            "text",
            "udh"
        ]
    );
    let id = message["id"].as_str().expect("id is a string");
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(message["sender"], "seven");
    assert_eq!(message["recipient"], "491701234561");
    assert_eq!(message["text"], "Hello");
    assert_eq!(message["encoding"], "gsm");
    assert_eq!(message["label"], "otp");
    assert_eq!(message["parts"], 1);
    assert_eq!(message["udh"], Value::Null);
    assert_eq!(message["is_binary"], false);
    assert!(message["price"].is_number());
    assert_eq!(message["success"], true);
    assert_eq!(message["error"], Value::Null);
    assert_eq!(message["error_text"], Value::Null);
}

#[tokio::test]
async fn message_ids_are_unique_numeric_strings_and_recipients_are_normalised() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body: Value = app
        .send_sms(json!({"to": "+49 170 1234561, 00491701234562;491701234563", "text": "x"}))
        .await
        .json()
        .await
        .unwrap();
    let second = app.send_one("491701234564", "y").await;

    // Assert
    assert_eq!(body["success"], "100", "{body}");
    let messages = body["messages"].as_array().unwrap();
    let recipients: Vec<&str> = messages
        .iter()
        .map(|m| m["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, ["491701234561", "491701234562", "491701234563"]);
    let mut ids: Vec<String> = messages
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    ids.push(second);
    for id in &ids {
        assert!(id.parse::<u64>().is_ok(), "{id}");
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{ids:?}");
}

#[tokio::test]
async fn encoding_and_parts_are_counted_like_concatenated_sms() {
    // Arrange
    let app = spawn_app().await;
    let cases: [(String, &str, u64); 10] = [
        ("a".repeat(160), "gsm", 1),
        ("a".repeat(161), "gsm", 2),
        ("a".repeat(306), "gsm", 2),
        ("a".repeat(307), "gsm", 3),
        ("€".repeat(80), "gsm", 1),
        ("€".repeat(81), "gsm", 2),
        ("Ж".repeat(70), "ucs2", 1),
        ("Ж".repeat(71), "ucs2", 2),
        ("Ж".repeat(134), "ucs2", 2),
        ("Ж".repeat(135), "ucs2", 3),
    ];

    for (text, encoding, parts) in cases {
        // Act
        let body: Value = app
            .send_sms(json!({"to": "491701234561", "text": text}))
            .await
            .json()
            .await
            .unwrap();

        // Assert
        let message = &body["messages"][0];
        assert_eq!(
            (message["encoding"].as_str(), message["parts"].as_u64()),
            (Some(encoding), Some(parts)),
            "{} x {:?}",
            text.chars().count(),
            text.chars().next()
        );
    }
}

#[tokio::test]
async fn mixed_valid_and_invalid_recipients_answer_101_and_store_only_the_valid_ones() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body: Value = app
        .send_sms(json!({"to": "491701234561,12,abc,491701234562", "text": "x"}))
        .await
        .json()
        .await
        .unwrap();

    // Assert
    assert_eq!(body["success"], json!("101"), "{body}");
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    let success: Vec<bool> = messages
        .iter()
        .map(|m| m["success"].as_bool().unwrap())
        .collect();
    assert_eq!(success, [true, false, false, true]);
    for invalid in &messages[1..3] {
        assert_eq!(invalid["id"], Value::Null);
        assert_eq!(invalid["error"], json!("202"));
        assert!(
            invalid["error_text"]
                .as_str()
                .is_some_and(|t| !t.is_empty()),
            "{invalid}"
        );
        assert!(close(&invalid["price"], 0.0));
    }
    let mut stored: Vec<String> = app
        .get_json("/api/journal/outbound")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["to"].to_string())
        .collect();
    stored.sort();
    assert_eq!(stored, ["\"491701234561\"", "\"491701234562\""]);
}

/// Each case: the JSON body of a send and the bare code it must get. None may store anything.
#[tokio::test]
async fn invalid_sends_get_sevens_return_codes_and_store_nothing() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (json!({"to": "12,abc", "text": "x"}), "202"),
        (json!({"to": "0", "text": "x"}), "202"),
        (json!({"text": "x"}), "301"),
        (json!({"to": "", "text": "x"}), "301"),
        (json!({"to": "491701234561"}), "305"),
        (json!({"to": "491701234561", "text": ""}), "305"),
        (
            json!({"to": "491701234561", "text": "a".repeat(1521)}),
            "401",
        ),
        (
            json!({"to": "491701234561", "text": "Ж".repeat(1521)}),
            "401",
        ),
        (
            json!({"to": "491701234561", "text": "x", "from": "TwelveLetter"}),
            "201",
        ),
        (
            json!({"to": "491701234561", "text": "x", "from": "12345678901234567"}),
            "201",
        ),
        (
            json!({"to": "491701234561", "text": "x", "from": "bad!sender"}),
            "201",
        ),
    ];

    for (body, code) in cases {
        // Act
        let response = app.send_sms(body.clone()).await;

        // Assert
        assert_eq!(response.status(), 200, "{body}");
        assert_eq!(response.text().await.unwrap(), code, "{body}");
    }
    assert_eq!(app.get_json("/api/journal/outbound").await, json!([]));
}

#[tokio::test]
async fn limits_themselves_are_accepted() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        json!({"to": "491701234561", "text": "a".repeat(1520)}),
        json!({"to": "491701234561", "text": "x", "from": "ElevenChars"}),
        json!({"to": "491701234561", "text": "x", "from": "1234567890123456"}),
        json!({"to": "491701234561", "text": "x", "from": "+491701234567"}),
    ];

    for body in cases {
        // Act
        let answer: Value = app.send_sms(body.clone()).await.json().await.unwrap();

        // Assert
        assert_eq!(answer["success"], "100", "{body} -> {answer}");
    }
}

#[tokio::test]
async fn legacy_clients_get_text_answers() {
    // Arrange
    let app = spawn_app().await;
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![("to", "491701234561"), ("text", "hi")];
        pairs.extend_from_slice(extra);
        app.http
            .post(app.url("/api/sms"))
            .header("X-Api-Key", &app.api_key)
            .form(&pairs)
    };

    // Act
    let plain = form(&[]).send().await.unwrap().text().await.unwrap();
    let with_id = form(&[("return_msg_id", "1")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let json_flag = form(&[("json", "1")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let error = app
        .http
        .post(app.url("/api/sms"))
        .header("X-Api-Key", &app.api_key)
        .form(&[("to", "491701234561")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Assert
    assert_eq!(plain, "100");
    let (code, id) = with_id
        .split_once('\n')
        .unwrap_or_else(|| panic!("{with_id:?}"));
    assert_eq!(code, "100");
    assert!(id.parse::<u64>().is_ok(), "{with_id:?}");
    let journal = app
        .get_json(&format!("/api/journal/outbound?id={id}"))
        .await;
    assert_eq!(journal[0]["id"], json!(id));
    let json_flag: Value = serde_json::from_str(&json_flag).unwrap();
    assert_eq!(json_flag["success"], "100");
    assert_eq!(error, "305");
}

#[tokio::test]
async fn form_bodies_and_get_queries_send_like_json() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let form: Value = app
        .http
        .post(app.url("/api/sms"))
        .header("X-Api-Key", &app.api_key)
        .header("Accept", "application/json")
        .form(&[
            ("to", "491701234561"),
            ("text", "from form"),
            ("label", "f"),
            ("flash", "1"),
            ("ttl", "60"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let get: Value = app
        .get("/api/sms?to=491701234562&text=from%20query&foreign_id=q-1&json=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Assert
    assert_eq!(form["success"], "100", "{form}");
    assert_eq!(get["success"], "100", "{get}");
    let journal = app.get_json("/api/journal/outbound").await;
    let texts: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["from query", "from form"]);
    assert_eq!(journal[0]["foreign_id"], "q-1");
    assert_eq!(journal[1]["label"], "f");
}

#[tokio::test]
async fn binary_udh_messages_are_flagged_and_echoed() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body: Value = app
        .send_sms(json!({"to": "491701234561", "text": "48656c6c6f", "udh": "050003cc0201"}))
        .await
        .json()
        .await
        .unwrap();

    // Assert
    assert_eq!(body["success"], "100", "{body}");
    assert_eq!(body["messages"][0]["is_binary"], true);
    assert_eq!(body["messages"][0]["udh"], "050003CC0201");
}

#[tokio::test]
async fn delay_in_seconds_milliseconds_and_as_a_date_sends_the_message_then() {
    // Arrange: three delays naming the same whole second, a little in the future.
    let app = spawn_app().await;
    let at = unix_now() + 3;
    let delays = [json!(at), json!(at * 1000), json!(utc_string(at))];
    let mut ids = Vec::new();

    // Act
    for delay in &delays {
        let body: Value = app
            .send_sms(json!({"to": "491701234561", "text": "later", "delay": delay}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["success"], "100", "{delay}: {body}");
        ids.push(body["messages"][0]["id"].as_str().unwrap().to_owned());
    }
    let before = app.status_json(&ids.join(",")).await;

    // Assert
    let expect_time = format!("{}.000", utc_string(at));
    for (entry, id) in before.as_array().unwrap().iter().zip(&ids) {
        assert_eq!(
            entry,
            &json!({"id": id, "status": null, "status_time": null})
        );
        let row = &app
            .get_json(&format!("/api/journal/outbound?id={id}"))
            .await[0];
        assert_eq!(row["timestamp"], json!(expect_time), "{row}");
    }
    for id in &ids {
        let after = app.wait_for_status(id, "DELIVERED", WAIT).await;
        assert_eq!(after[0]["status"], "DELIVERED", "{after}");
        assert!(
            after[0]["status_time"].as_str().unwrap() >= expect_time.as_str(),
            "{after}"
        );
    }
}

#[tokio::test]
async fn delay_in_the_past_sends_at_once() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let body: Value = app
        .send_sms(json!({"to": "491701234561", "text": "x", "delay": "2001-01-01 00:00:00"}))
        .await
        .json()
        .await
        .unwrap();

    // Assert
    let id = body["messages"][0]["id"].as_str().unwrap();
    assert_eq!(
        app.wait_for_status(id, "DELIVERED", WAIT).await[0]["status"],
        "DELIVERED"
    );
}

#[tokio::test]
async fn cancelled_delayed_message_never_gets_a_status() {
    // Arrange: a message to cancel and a control message, both due in a few seconds.
    let app = spawn_app().await;
    let at = unix_now() + 3;
    let cancelled = app
        .send_sms(json!({"to": "491701234561", "text": "x", "delay": at}))
        .await;
    let cancelled: Value = cancelled.json().await.unwrap();
    let cancelled = cancelled["messages"][0]["id"].as_str().unwrap().to_owned();
    let control: Value = app
        .send_sms(json!({"to": "491701234562", "text": "y", "delay": at}))
        .await
        .json()
        .await
        .unwrap();
    let control = control["messages"][0]["id"].as_str().unwrap().to_owned();

    // Act
    let deleted = cancel(&app, &app.api_key, &cancelled).await;
    let again = cancel(&app, &app.api_key, &cancelled).await;

    // Assert
    assert_eq!(deleted, json!({"success": true, "deleted": [cancelled]}));
    assert_eq!(again["success"], false, "{again}");
    assert_eq!(again["deleted"], json!([]));
    assert_eq!(
        app.wait_for_status(&control, "DELIVERED", WAIT).await[0]["status"],
        "DELIVERED"
    );
    // A cancelled message is gone: unknown as a single id, a null entry among several, and
    // no longer in the logbook (docs/api.md).
    let together = app.status_json(&format!("{cancelled},{control}")).await;
    assert_eq!(
        together[0],
        json!({"id": cancelled, "status": null, "status_time": null})
    );
    assert_eq!(together[1]["status"], "DELIVERED");
    assert_eq!(app.status_json(&cancelled).await, json!(901));
    let journal = app.get_json("/api/journal/outbound").await;
    let ids: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [control.as_str()]);
}

#[tokio::test]
async fn delete_accepts_php_style_form_ids_and_cancels_several() {
    // Arrange
    let app = spawn_app().await;
    let at = unix_now() + 3600;
    let body: Value = app
        .send_sms(json!({"to": "491701234561,491701234562", "text": "x", "delay": at}))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().into())
        .collect();

    // Act
    let answer: Value = app
        .http
        .delete(app.url("/api/sms"))
        .header("X-Api-Key", &app.api_key)
        .header("Accept", "application/json")
        .form(&[("ids[0]", ids[0].as_str()), ("ids[1]", ids[1].as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Assert
    let mut deleted: Vec<String> = answer["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().into())
        .collect();
    deleted.sort();
    let mut expect = ids.clone();
    expect.sort();
    assert_eq!(answer["success"], true);
    assert_eq!(deleted, expect);
}

#[tokio::test]
async fn delete_cannot_cancel_a_message_already_sent() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "now").await;
    app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Act
    let answer = cancel(&app, &app.api_key, &id).await;

    // Assert
    assert_eq!(answer["success"], false, "{answer}");
    assert_eq!(answer["deleted"], json!([]));
    assert_eq!(app.status_json(&id).await[0]["status"], "DELIVERED");
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

#[tokio::test]
async fn empty_optional_fields_as_the_rust_sdk_sends_them_count_as_absent() {
    // Arrange
    let app = spawn_app().await;
    let form = [
        ("to", "491701234561"),
        ("text", "rs"),
        ("from", ""),
        ("delay", ""),
        ("ttl", "0"),
        ("udh", ""),
        ("label", ""),
        ("foreign_id", ""),
        ("flash", "0"),
        ("json", "1"),
    ];

    // Act
    let body: Value = app
        .http
        .post(app.url("/api/sms"))
        .header("X-Api-Key", &app.api_key)
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Assert
    assert_eq!(body["success"], "100", "{body}");
    let message = &body["messages"][0];
    assert_eq!(message["sender"], "dlrgate");
    assert_eq!(message["label"], Value::Null);
    assert_eq!(message["udh"], Value::Null);
    let id = message["id"].as_str().unwrap();
    assert_eq!(
        app.wait_for_status(id, "DELIVERED", WAIT).await[0]["status"],
        "DELIVERED"
    );
}
