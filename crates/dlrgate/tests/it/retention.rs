//! Retention, black-box: with a tiny retention period the background purge removes sent
//! messages and their history, and keeps messages that are still waiting for their send time.
//!
//! `retention.period` must be at least a minute in configuration files; tests set the field on
//! `Settings` after loading, which is the test seam for a period short enough to wait for.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app_with};

/// The ids the outbound logbook lists, newest first.
async fn journal_ids(app: &TestApp) -> Vec<String> {
    let rows = app.get_json("/api/journal/outbound").await;
    let rows = rows
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {rows}"));
    rows.iter()
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls the logbook until it lists exactly `expect` or `within` has passed; returns the last.
async fn wait_for_journal(app: &TestApp, expect: &[String], within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    loop {
        let ids = journal_ids(app).await;
        if ids == expect || Instant::now() > deadline {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn messages_past_the_retention_period_are_purged_while_queued_ones_are_kept() {
    // Arrange: a 50 ms retention period, purged every 20 ms in batches of two.
    let app = spawn_app_with(|settings| {
        settings.retention.period = Duration::from_millis(50);
        settings.retention.interval = Duration::from_millis(20);
        settings.retention.batch_size = 2;
    })
    .await;
    let tomorrow = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    let body: Value = app
        .send_sms(json!({"to": "491701234561", "text": "later", "delay": tomorrow}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["success"], "100", "{body}");
    let delayed = body["messages"][0]["id"].as_str().unwrap().to_owned();
    let mut sent = Vec::new();
    for digit in 1..=5 {
        sent.push(app.send_one(&format!("49170123456{digit}"), "now").await);
    }

    // Act: the purge runs in the background.
    let left = wait_for_journal(
        &app,
        std::slice::from_ref(&delayed),
        Duration::from_secs(10),
    )
    .await;

    // Assert
    assert_eq!(left, vec![delayed.clone()], "sent: {sent:?}");
    for id in &sent {
        assert_eq!(app.status_json(id).await, json!(901), "status of {id}");
        let events = app
            .get(&format!("/api/messages/{id}/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            events.status(),
            reqwest::StatusCode::NOT_FOUND,
            "events of {id}"
        );
    }
    // The purge deleted them, rather than merely hiding them.
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let purged: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("dlrgate_retention_purged_messages_total "))
        .unwrap_or_else(|| panic!("no purge counter in {metrics}"))
        .trim()
        .parse()
        .unwrap();
    assert!(purged >= 5.0, "purged {purged}");
    let filtered = app
        .get_json(&format!("/api/journal/outbound?id={delayed}"))
        .await;
    assert_eq!(filtered[0]["id"], delayed.as_str(), "{filtered}");
    assert_eq!(filtered[0]["dlr"], Value::Null, "{filtered}");
}
