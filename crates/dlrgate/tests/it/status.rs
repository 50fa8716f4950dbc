//! `/api/status` over HTTP (seven-api.md §4, issue 2 item 7), the sandbox operator's promised
//! outcomes as seen through the status API and `/api/messages/{id}/events` (items 5 and 6), and
//! the operational endpoints `/healthz`, `/readyz`, `/metrics` (item 11).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app, spawn_app_with};

const WAIT: Duration = Duration::from_secs(10);
const OPERATOR_STATUSES: [&str; 9] = [
    "DELIVERED",
    "NOTDELIVERED",
    "BUFFERED",
    "TRANSMITTED",
    "ACCEPTED",
    "EXPIRED",
    "REJECTED",
    "FAILED",
    "UNKNOWN",
];
const FINAL_STATUSES: [&str; 6] = [
    "DELIVERED",
    "NOTDELIVERED",
    "EXPIRED",
    "REJECTED",
    "FAILED",
    "UNKNOWN",
];

/// `YYYY-MM-DD hh:mm:ss.mmm`
fn is_seven_time(value: &str) -> bool {
    let shape = "dddd-dd-dd dd:dd:dd.ddd";
    value.len() == shape.len()
        && value.bytes().zip(shape.bytes()).all(|(c, s)| {
            if s == b'd' {
                c.is_ascii_digit()
            } else {
                c == s
            }
        })
}

/// A message due in an hour: it has no operator status for the whole test.
async fn send_delayed(app: &TestApp, to: &str) -> String {
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let body: Value = app
        .send_sms(json!({"to": to, "text": "later", "delay": at}))
        .await
        .json()
        .await
        .unwrap();
    body["messages"][0]["id"].as_str().unwrap().to_owned()
}

/// GET `path` with the API key and no Accept header, as text.
async fn get_text(app: &TestApp, path: &str) -> String {
    let response = app.get(path).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn events(app: &TestApp, id: &str) -> Vec<Value> {
    let body = app.get_json(&format!("/api/messages/{id}/events")).await;
    assert_eq!(body["id"], json!(id), "{body}");
    body["events"].as_array().unwrap().clone()
}

/// The states of applied operator reports of `part`, oldest first.
fn applied_reports(events: &[Value], part: u64) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["kind"] == "report" && e["effect"] == "applied" && e["part"] == part)
        .map(|e| e["state"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn delivered_message_reports_status_and_time_as_json() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "x").await;

    // Act
    let body = app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Assert
    let entries = body.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{body}");
    let entry = entries[0].as_object().unwrap();
    let mut keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "status", "status_time"]);
    assert_eq!(entry["id"], json!(id));
    assert_eq!(entry["status"], "DELIVERED");
    assert!(
        is_seven_time(entry["status_time"].as_str().unwrap()),
        "{body}"
    );
}

#[tokio::test]
async fn entries_follow_request_order_including_duplicates() {
    // Arrange
    let app = spawn_app().await;
    let a = app.send_one("491701234561", "a").await;
    let b = send_delayed(&app, "491701234562").await;
    app.wait_for_status(&a, "DELIVERED", WAIT).await;

    // Act
    let body = app.status_json(&format!("{b},{a},{b}")).await;

    // Assert
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b.as_str(), a.as_str(), b.as_str()]);
    assert_eq!(body[0]["status"], Value::Null);
    assert_eq!(body[1]["status"], "DELIVERED");
    assert_eq!(body[2], body[0]);
}

#[tokio::test]
async fn status_and_time_are_null_before_any_operator_status() {
    // Arrange
    let app = spawn_app().await;
    let id = send_delayed(&app, "491701234561").await;

    // Act
    let single = app.status_json(&id).await;
    let legacy = get_text(&app, &format!("/api/status?msg_id={id}")).await;

    // Assert
    assert_eq!(
        single,
        json!([{"id": id, "status": null, "status_time": null}])
    );
    assert_eq!(legacy, "\n");
}

#[tokio::test]
async fn single_id_without_json_gets_two_legacy_lines() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234567", "x").await;
    let json = app.wait_for_status(&id, "NOTDELIVERED", WAIT).await;

    // Act
    let text = get_text(&app, &format!("/api/status?msg_id={id}")).await;

    // Assert
    let lines: Vec<&str> = text.split('\n').collect();
    assert_eq!(lines.len(), 2, "{text:?}");
    assert_eq!(lines[0], "NOTDELIVERED");
    assert!(is_seven_time(lines[1]), "{text:?}");
    assert_eq!(json[0]["status_time"], json!(lines[1]));
}

#[tokio::test]
async fn several_ids_without_json_get_a_json_array() {
    // Arrange
    let app = spawn_app().await;
    let a = app.send_one("491701234561", "a").await;
    let b = app.send_one("491701234562", "b").await;

    // Act
    let text = get_text(&app, &format!("/api/status?msg_id={a},{b}")).await;

    // Assert
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert_eq!(body[0]["id"], json!(a));
    assert_eq!(body[1]["id"], json!(b));
}

#[tokio::test]
async fn unknown_single_id_gets_901() {
    // Arrange
    let app = spawn_app().await;
    app.send_one("491701234561", "x").await;

    for msg_id in ["987654321", "0", "abc", "-1", "1.5"] {
        // Act
        let text = get_text(&app, &format!("/api/status?msg_id={msg_id}")).await;
        let json = app
            .get(&format!("/api/status?msg_id={msg_id}"))
            .header("Accept", "application/json")
            .send()
            .await;
        let json = json.unwrap().text().await.unwrap();

        // Assert
        assert_eq!(text, "901", "{msg_id}");
        assert_eq!(json, "901", "{msg_id}");
    }
}

#[tokio::test]
async fn unknown_id_among_several_gets_a_null_entry() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "x").await;
    app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Act
    let body = app.status_json(&format!("{id},987654321")).await;

    // Assert
    assert_eq!(body[0]["status"], "DELIVERED");
    assert_eq!(
        body[1],
        json!({"id": "987654321", "status": null, "status_time": null})
    );
}

#[tokio::test]
async fn post_form_post_json_and_encoded_commas_all_work() {
    // Arrange
    let app = spawn_app().await;
    let a = app.send_one("491701234561", "a").await;
    let b = app.send_one("491701234562", "b").await;
    let delivered = app.wait_for_status(&a, "DELIVERED", WAIT).await;
    let post = || {
        app.http
            .post(app.url("/api/status"))
            .header("X-Api-Key", &app.api_key)
    };

    // Act
    let form: Value = post()
        .header("Accept", "application/json")
        .form(&[("msg_id", format!("{a},{b}"))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let json: Value = post()
        .header("Accept", "application/json")
        .json(&json!({"msg_id": [a, b]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let encoded = app.status_json(&format!("{a}%2C{b}")).await;
    let form_single = post()
        .form(&[("msg_id", a.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Assert
    for body in [&form, &json, &encoded] {
        let ids: Vec<&str> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [a.as_str(), b.as_str()], "{body}");
    }
    let time = delivered[0]["status_time"].as_str().unwrap();
    assert_eq!(form_single, format!("DELIVERED\n{time}"));
}

#[tokio::test]
async fn every_sandbox_last_digit_reaches_its_promised_final_status_with_its_history() {
    // Arrange
    let app = spawn_app().await;
    let promised: [(char, &[&str]); 10] = [
        ('1', &["ACCEPTED", "TRANSMITTED", "DELIVERED"]),
        ('2', &["ACCEPTED", "TRANSMITTED", "DELIVERED"]),
        ('3', &["ACCEPTED", "TRANSMITTED", "DELIVERED"]),
        ('4', &["ACCEPTED", "TRANSMITTED", "DELIVERED"]),
        ('5', &["ACCEPTED", "TRANSMITTED", "DELIVERED"]),
        ('6', &["ACCEPTED", "TRANSMITTED", "BUFFERED", "DELIVERED"]),
        ('7', &["ACCEPTED", "TRANSMITTED", "NOTDELIVERED"]),
        ('8', &["ACCEPTED", "TRANSMITTED", "BUFFERED", "EXPIRED"]),
        ('9', &["ACCEPTED", "TRANSMITTED", "REJECTED"]),
        ('0', &["ACCEPTED", "TRANSMITTED", "FAILED"]),
    ];
    let to: Vec<String> = promised
        .iter()
        .map(|(digit, _)| format!("49170123456{digit}"))
        .collect();

    // Act
    let body: Value = app
        .send_sms(json!({"to": to.join(","), "text": "sandbox"}))
        .await
        .json()
        .await
        .unwrap();

    // Assert
    let messages = body["messages"].as_array().unwrap();
    for ((digit, sequence), message) in promised.iter().zip(messages) {
        let id = message["id"].as_str().unwrap();
        let last = sequence.last().unwrap();
        let status = app.wait_for_status(id, last, WAIT).await;
        assert_eq!(
            status[0]["status"],
            json!(last),
            "last digit {digit}: {status}"
        );
        assert_eq!(
            applied_reports(&events(&app, id).await, 1),
            *sequence,
            "last digit {digit}"
        );
        let row = &app
            .get_json(&format!("/api/journal/outbound?id={id}"))
            .await[0];
        assert_eq!(row["dlr"], json!(last), "last digit {digit}: {row}");
    }
}

#[tokio::test]
async fn only_operator_statuses_are_reported_and_they_never_move_back() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234566", "x").await;
    let promised = ["ACCEPTED", "TRANSMITTED", "BUFFERED", "DELIVERED"];
    let deadline = Instant::now() + WAIT;
    let mut seen: Vec<String> = Vec::new();

    // Act
    while seen.last().is_none_or(|s| s != "DELIVERED") && Instant::now() < deadline {
        let body = app.status_json(&id).await;
        if let Some(status) = body[0]["status"].as_str()
            && seen.last().is_none_or(|last| last != status)
        {
            seen.push(status.to_owned());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    // Assert
    assert_eq!(
        seen.last().map(String::as_str),
        Some("DELIVERED"),
        "{seen:?}"
    );
    let positions: Vec<usize> = seen
        .iter()
        .map(|s| {
            promised
                .iter()
                .position(|p| p == s)
                .unwrap_or_else(|| panic!("unexpected status {s} in {seen:?}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    let internal: Vec<Value> = events(&app, &id)
        .await
        .into_iter()
        .filter(|e| !OPERATOR_STATUSES.contains(&e["state"].as_str().unwrap()))
        .collect();
    assert!(
        internal.iter().all(|e| e["kind"] == "internal"),
        "{internal:?}"
    );
}

#[tokio::test]
async fn multipart_message_is_delivered_when_every_part_is() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", &"a".repeat(320)).await;

    // Act
    let status = app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Assert
    assert_eq!(status[0]["status"], "DELIVERED");
    let events = events(&app, &id).await;
    for part in 1..=3 {
        assert_eq!(
            applied_reports(&events, part).last().map(String::as_str),
            Some("DELIVERED"),
            "part {part}"
        );
    }
    let last_part_delivered = events
        .iter()
        .filter(|e| e["kind"] == "report" && e["state"] == "DELIVERED")
        .map(|e| e["time"].as_str().unwrap())
        .max()
        .unwrap();
    assert_eq!(status[0]["status_time"], json!(last_part_delivered));
}

#[tokio::test]
async fn final_statuses_are_final_in_the_status_api() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234569", "x").await;
    app.wait_for_status(&id, "REJECTED", WAIT).await;
    let control = app.send_one("491701234561", "y").await;

    // Act
    app.wait_for_status(&control, "DELIVERED", WAIT).await;
    let later = app.status_json(&id).await;

    // Assert
    assert!(FINAL_STATUSES.contains(&later[0]["status"].as_str().unwrap()));
    assert_eq!(later[0]["status"], "REJECTED");
}

#[tokio::test]
async fn messages_older_than_the_retention_period_are_not_reported() {
    // Arrange
    let app = spawn_app_with(|settings| settings.retention.period = Duration::from_secs(1)).await;
    let id = app.send_one("491701234561", "x").await;
    let fresh = app.wait_for_status(&id, "DELIVERED", WAIT).await;
    let deadline = Instant::now() + WAIT;

    // Act
    let mut answer = String::new();
    while Instant::now() < deadline {
        answer = get_text(&app, &format!("/api/status?msg_id={id}")).await;
        if answer == "901" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Assert
    assert_eq!(fresh[0]["status"], "DELIVERED");
    assert_eq!(answer, "901");
}

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();

    // Assert
    assert_eq!(health.status(), 200);
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn metrics_show_request_latency_and_statuses_after_traffic() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "x").await;
    app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Act
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();

    // Assert
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("dlrgate_http_request_duration_seconds"),
        "{text}"
    );
    assert!(text.contains("path=\"/api/sms\""), "{text}");
    assert!(text.contains("dlrgate_message_status_total"), "{text}");
    assert!(text.contains("status=\"DELIVERED\""), "{text}");
    assert!(text.contains("dlrgate_queue_depth"), "{text}");
}
