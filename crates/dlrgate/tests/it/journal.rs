//! The logbook over HTTP: `/api/journal/outbound` and the legacy `/api/journal?type=` (seven-api.md
//! §5, issue 2 item 8): row shape, order, every filter, placeholders, paging limits.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app};

const WAIT: Duration = Duration::from_secs(10);

async fn rows(app: &TestApp, query: &str) -> Vec<Value> {
    let body = app.get_json(&format!("/api/journal/outbound{query}")).await;
    body.as_array()
        .unwrap_or_else(|| panic!("{query}: {body}"))
        .clone()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect()
}

/// GET `path` with the key; the body as text (for error codes).
async fn text(app: &TestApp, path: &str) -> String {
    let response = app
        .get(path)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

fn is_decimal(value: &Value, places: usize) -> bool {
    value.as_str().is_some_and(|s| {
        s.split_once('.').is_some_and(|(whole, fraction)| {
            !whole.is_empty()
                && whole.bytes().all(|b| b.is_ascii_digit())
                && fraction.len() == places
                && fraction.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// `YYYY-MM-DD` of the day before or after `day`.
fn shift_day(day: &str, forward: bool) -> String {
    let parts: Vec<i32> = day.split('-').map(|p| p.parse().unwrap()).collect();
    let month = time::Month::try_from(u8::try_from(parts[1]).unwrap()).unwrap();
    let date =
        time::Date::from_calendar_date(parts[0], month, u8::try_from(parts[2]).unwrap()).unwrap();
    let shifted = if forward {
        date.next_day()
    } else {
        date.previous_day()
    };
    shifted.unwrap().to_string()
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_rows_carry_every_field_of_the_logbook() {
    // Arrange
    let app = spawn_app().await;
    let account = app.create_account(
        "journal-shape",
        &["--balance", "1", "--price-per-part", "0.075"],
    );
    let key = account["api_key"].as_str().unwrap();
    let sent: Value = app
        .send_sms_as(
            key,
            json!({"to": "491701234561", "text": "Hello World", "from": "sender", "label": "my.label", "foreign_id": "order-42"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = sent["messages"][0]["id"].as_str().unwrap().to_owned();

    // Act
    let deadline = std::time::Instant::now() + WAIT;
    let row = loop {
        let response = app
            .http
            .get(app.url("/api/journal/outbound"))
            .header("X-Api-Key", key)
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        if body[0]["dlr"] == "DELIVERED" || std::time::Instant::now() > deadline {
            break body[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    // Assert
    for field in [
        "id",
        "to",
        "from",
        "text",
        "timestamp",
        "price",
        "dlr",
        "dlr_timestamp",
        "mccmnc",
        "latency",
        "type",
        "channel",
        "connection",
        "label",
        "foreign_id",
    ] {
        assert!(row.get(field).is_some(), "{field} missing in {row}");
    }
    assert_eq!(row["id"], json!(id));
    assert_eq!(row["to"], "491701234561");
    assert_eq!(row["from"], "sender");
    assert_eq!(row["text"], "Hello World");
    assert_eq!(row["price"], "0.0750");
    assert_eq!(row["dlr"], "DELIVERED");
    assert!(is_decimal(&row["latency"], 4), "{row}");
    assert_eq!(row["type"], "direct");
    assert_eq!(row["connection"], "http");
    assert_eq!(row["label"], "my.label");
    assert_eq!(row["foreign_id"], "order-42");
    let timestamp = row["timestamp"].as_str().unwrap();
    let dlr_timestamp = row["dlr_timestamp"].as_str().unwrap();
    assert_eq!(timestamp.len(), "2024-02-13 05:50:58.802".len(), "{row}");
    assert!(dlr_timestamp >= timestamp, "{row}");
    let status = app
        .http
        .get(app.url(&format!("/api/status?msg_id={id}")))
        .header("X-Api-Key", key)
        .send()
        .await;
    let status = status.unwrap().text().await.unwrap();
    assert_eq!(status, format!("DELIVERED\n{dlr_timestamp}"));
}

#[tokio::test]
async fn unsent_message_has_null_dlr_fields_and_free_messages_cost_zero() {
    // Arrange
    let app = spawn_app().await;
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    app.send_sms(json!({"to": "491701234561", "text": "later", "delay": at}))
        .await;

    // Act
    let row = rows(&app, "").await[0].clone();

    // Assert
    assert_eq!(row["dlr"], Value::Null);
    assert_eq!(row["dlr_timestamp"], Value::Null);
    assert_eq!(row["latency"], Value::Null);
    assert_eq!(row["label"], Value::Null);
    assert_eq!(row["foreign_id"], Value::Null);
    assert_eq!(row["price"], "0.0000");
}

#[tokio::test]
async fn rows_come_newest_first() {
    // Arrange
    let app = spawn_app().await;
    let mut sent = Vec::new();
    for n in 1..=4 {
        sent.push(app.send_one(&format!("49170123456{n}"), "x").await);
    }

    // Act
    let got = ids(&rows(&app, "").await);

    // Assert
    sent.reverse();
    assert_eq!(got, sent);
}

#[tokio::test]
async fn filters_id_state_to_limit_and_offset_select_rows() {
    // Arrange
    let app = spawn_app().await;
    let delivered = app.send_one("491701234561", "a").await;
    let rejected = app.send_one("491701234569", "b").await;
    let failed = app.send_one("491701234560", "c").await;
    app.wait_for_status(&delivered, "DELIVERED", WAIT).await;
    app.wait_for_status(&rejected, "REJECTED", WAIT).await;
    app.wait_for_status(&failed, "FAILED", WAIT).await;

    // Act
    let by_id = ids(&rows(&app, &format!("?id={rejected}")).await);
    let by_state = ids(&rows(&app, "?state=REJECTED").await);
    let by_to = ids(&rows(&app, "?to=%2B49%20170%201234561").await);
    let by_to_intl = ids(&rows(&app, "?to=00491701234560").await);
    let first = ids(&rows(&app, "?limit=1").await);
    let second = ids(&rows(&app, "?limit=1&offset=1").await);
    let past_end = rows(&app, "?offset=3").await;
    let none = rows(&app, "?id=987654321").await;
    let combined = ids(&rows(&app, &format!("?state=DELIVERED&id={delivered}")).await);
    let mismatch = rows(&app, &format!("?state=DELIVERED&id={rejected}")).await;

    // Assert
    assert_eq!(by_id, [rejected.as_str()]);
    assert_eq!(by_state, [rejected.as_str()]);
    assert_eq!(by_to, [delivered.as_str()]);
    assert_eq!(by_to_intl, [failed.as_str()]);
    assert_eq!(first, [failed.as_str()]);
    assert_eq!(second, [rejected.as_str()]);
    assert!(past_end.is_empty());
    assert!(none.is_empty());
    assert_eq!(combined, [delivered]);
    assert!(mismatch.is_empty());
}

#[tokio::test]
async fn date_filters_are_inclusive_utc_days() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "x").await;
    let all = rows(&app, "").await;
    let day = all[0]["timestamp"].as_str().unwrap()[..10].to_owned();
    let (yesterday, tomorrow) = (shift_day(&day, false), shift_day(&day, true));

    // Act
    let same_day = ids(&rows(&app, &format!("?date_from={day}&date_to={day}")).await);
    let around = ids(&rows(&app, &format!("?date_from={yesterday}&date_to={tomorrow}")).await);
    let from_tomorrow = rows(&app, &format!("?date_from={tomorrow}")).await;
    let to_yesterday = rows(&app, &format!("?date_to={yesterday}")).await;

    // Assert
    assert_eq!(same_day, [id.as_str()]);
    assert_eq!(around, [id]);
    assert!(from_tomorrow.is_empty());
    assert!(to_yesterday.is_empty());
}

#[tokio::test]
async fn sdk_placeholders_and_empty_filters_count_as_absent() {
    // Arrange
    let app = spawn_app().await;
    let a = app.send_one("491701234561", "a").await;
    let b = app.send_one("491701234562", "b").await;

    // Act
    let js = ids(&rows(&app, "?limit=100&date_from=undefined&date_to=undefined").await);
    let php = ids(&rows(&app, "?state=&to=&id=").await);

    // Assert
    assert_eq!(js, [b.clone(), a.clone()]);
    assert_eq!(php, [b, a]);
}

#[tokio::test]
async fn limit_outside_one_to_hundred_and_junk_filters_are_rejected() {
    // Arrange
    let app = spawn_app().await;
    app.send_one("491701234561", "x").await;
    let cases = [
        "?limit=0",
        "?limit=101",
        "?limit=-1",
        "?limit=ten",
        "?offset=-1",
        "?offset=x",
        "?state=HAPPY",
        "?date_from=2024-13-01",
        "?date_to=yesterday",
        "?id=abc",
        "?to=call-me",
        "?colour=blue",
    ];

    for query in cases {
        // Act
        let answer = text(&app, &format!("/api/journal/outbound{query}")).await;

        // Assert
        assert_eq!(answer, "308", "{query}");
    }
    assert_eq!(rows(&app, "?limit=100").await.len(), 1);
    assert_eq!(rows(&app, "?limit=1").await.len(), 1);
}

#[tokio::test]
async fn legacy_journal_with_type_outbound_answers_like_the_modern_path() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "x").await;
    app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Act
    let legacy = app.get_json("/api/journal?type=outbound").await;
    let legacy_filtered = app
        .get_json(&format!("/api/journal?type=outbound&id={id}&limit=1"))
        .await;
    let modern = app.get_json("/api/journal/outbound").await;

    // Assert
    assert_eq!(legacy, modern);
    assert_eq!(legacy_filtered, modern);
    assert_eq!(ids(legacy.as_array().unwrap()), [id]);
}

#[tokio::test]
async fn inbound_replies_and_voice_are_empty() {
    // Arrange
    let app = spawn_app().await;
    app.send_one("491701234561", "x").await;

    for path in [
        "/api/journal/inbound",
        "/api/journal/replies",
        "/api/journal/voice",
        "/api/journal?type=inbound",
        "/api/journal?type=replies",
        "/api/journal?type=voice",
        "/api/journal/inbound?limit=10&date_from=undefined&date_to=undefined",
    ] {
        // Act
        let body = app.get_json(path).await;

        // Assert
        assert_eq!(body, json!([]), "{path}");
    }
}

#[tokio::test]
async fn journal_answers_post_as_well_as_get() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "x").await;

    // Act
    let body: Value = app
        .http
        .post(app.url("/api/journal/outbound"))
        .header("X-Api-Key", &app.api_key)
        .header("Accept", "application/json")
        .form(&[("id", id.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // Assert
    assert_eq!(ids(body.as_array().unwrap()), [id]);
}
