//! `/api/sms` over HTTP: seven.io's JSON and legacy text answers, recipients, sender and text
//! validation, encodings and parts (seven-api.md §3, issue 2 item 4). Delays and cancelling are
//! in `sms_schedule.rs`; debug mode, prices and balances in `balance.rs`.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::app::spawn_app;
use crate::helpers::sms::close;

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
