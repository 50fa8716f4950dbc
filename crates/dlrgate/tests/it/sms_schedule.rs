//! `/api/sms` with a `delay` (seconds, milliseconds or a date) and cancelling delayed messages
//! with `DELETE /api/sms` (seven-api.md §3, issue 2 item 4).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::app::spawn_app;
use crate::helpers::sms::{cancel, unix_now};

const WAIT: Duration = Duration::from_secs(10);

/// `YYYY-MM-DD hh:mm:ss` in UTC.
fn utc_string(unix_seconds: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap()
        .format(&format)
        .unwrap()
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
