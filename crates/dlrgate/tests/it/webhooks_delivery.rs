//! Webhook delivery against real loopback receivers: retries until the receiver recovers, the
//! order of statuses per message, how each kind of answer is classified in the attempt log,
//! `Retry-After` and schedule exhaustion. Fairness between hooks and the per-hook concurrency
//! limit are in `webhooks_fairness.rs`.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::app::{spawn_app, spawn_app_with};
use crate::helpers::hooks::{Api, assert_every_status_in_order, collect_all, event, recipients};
use crate::helpers::receiver::{Reply, WebhookReceiver};

const SECOND: Duration = Duration::from_secs(1);

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        body: body.to_owned(),
        ..Reply::status(status)
    }
}

/// The attempts of one delivery, oldest first.
fn attempts_of<'a>(attempts: &'a [Value], delivery: &Value) -> Vec<&'a Value> {
    attempts
        .iter()
        .filter(|a| a["delivery_id"] == delivery["id"])
        .collect()
}

fn http_statuses(attempts: &[&Value]) -> Vec<Value> {
    attempts.iter().map(|a| a["http_status"].clone()).collect()
}

#[tokio::test]
async fn receiver_failing_three_times_then_recovering_gets_every_status_in_order() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push((0..3).map(|_| reply(500, "down for maintenance")));
    let hook = api.subscribe(&receiver.url).await;

    let sent = api.send(&recipients("1760", 3, &[1, 6, 8])).await;
    let received = collect_all(&mut receiver, &sent, 5 * SECOND).await;

    let events: Vec<_> = received.iter().map(event).collect();
    assert_every_status_in_order(&events, &sent);
    // 3 + 4 + 4 statuses for recipients ending in 1, 6 and 8.
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.len() == 11 && ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    assert_eq!(
        deliveries.len(),
        11,
        "one delivery per status: {deliveries:#?}"
    );
    let attempts = api.attempts(&hook).await;
    let failed: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["http_status"] == 500)
        .collect();
    assert_eq!(failed.len(), 3, "{attempts:#?}");
    for attempt in &failed {
        assert_eq!(attempt["error_class"], "http_status", "{attempt}");
        assert_eq!(attempt["response"], "down for maintenance", "{attempt}");
        assert!(attempt["latency_ms"].as_i64().unwrap() >= 0, "{attempt}");
        assert!(attempt["time"].is_string(), "{attempt}");
    }
    let succeeded = attempts.iter().filter(|a| a["http_status"] == 200);
    assert_eq!(succeeded.clone().count(), 11, "{attempts:#?}");
    assert!(succeeded.clone().all(|a| a["error_class"].is_null()));
    assert_eq!(
        attempts.len(),
        14,
        "nothing but 3 failures and 11 successes"
    );
}

#[tokio::test]
async fn answers_429_and_503_are_retried_with_the_same_webhook_id() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push([reply(429, "slow down"), reply(503, "unavailable")]);
    let hook = api.subscribe(&receiver.url).await;

    let sent = api.send(&recipients("1761", 1, &[2])).await;
    let received = collect_all(&mut receiver, &sent, 5 * SECOND).await;

    let events: Vec<_> = received.iter().map(event).collect();
    let statuses: Vec<&str> = events.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        statuses,
        [
            "ACCEPTED",
            "ACCEPTED",
            "ACCEPTED",
            "TRANSMITTED",
            "DELIVERED"
        ]
    );
    let first_id = received[0].header("webhook-id");
    assert!(!first_id.is_empty());
    assert!(
        received[..3]
            .iter()
            .all(|r| r.header("webhook-id") == first_id)
    );
    assert_ne!(received[3].header("webhook-id"), first_id);
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.len() == 3 && ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    assert_eq!(deliveries[0]["attempts"], 3, "{deliveries:#?}");
    let attempts = api.attempts(&hook).await;
    let accepted = attempts_of(&attempts, &deliveries[0]);
    assert_eq!(
        http_statuses(&accepted),
        [json!(429), json!(503), json!(200)]
    );
    assert_eq!(accepted[0]["response"], "slow down");
    assert_eq!(accepted[1]["error_class"], "http_status");
}

#[tokio::test]
async fn other_4xx_and_3xx_answers_end_the_delivery_and_later_statuses_still_go_out() {
    for status in [404, 400, 302] {
        let app = spawn_app().await;
        let api = Api::of(&app);
        let mut receiver = WebhookReceiver::start().await;
        receiver.push([reply(status, "no such endpoint")]);
        let hook = api.subscribe(&receiver.url).await;

        let sent = api.send(&recipients("1762", 1, &[3])).await;
        let received = receiver.collect(3, 5 * SECOND).await;

        let statuses: Vec<String> = received.iter().map(|r| event(r).1).collect();
        assert_eq!(
            statuses,
            ["ACCEPTED", "TRANSMITTED", "DELIVERED"],
            "{status}"
        );
        let deliveries = api
            .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
                ds.len() == 3 && ds.iter().all(|d| d["state"] != "pending")
            })
            .await;
        let states: Vec<&Value> = deliveries.iter().map(|d| &d["state"]).collect();
        assert_eq!(states, ["failed", "delivered", "delivered"], "{status}");
        assert_eq!(deliveries[0]["attempts"], 1, "{status}");
        // Longer than the whole retry schedule: a retried delivery would have come back.
        let again = receiver.maybe_next(Duration::from_millis(800)).await;
        assert!(
            again.is_none(),
            "{status}: a failed delivery was sent again"
        );
        let attempts = api.attempts(&hook).await;
        let failed = attempts_of(&attempts, &deliveries[0]);
        assert_eq!(http_statuses(&failed), [json!(status)]);
        assert_eq!(failed[0]["error_class"], "http_status");
        assert_eq!(failed[0]["msg_id"], sent[0].id.as_str());
        assert_eq!(api.hook(&hook).await["enabled"], true, "{status}");
    }
}

#[tokio::test]
async fn answer_410_ends_the_delivery_and_disables_the_hook_keeping_later_deliveries() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push([reply(410, "gone for good")]);
    let hook = api.subscribe(&receiver.url).await;

    let sent = api.send(&recipients("1763", 1, &[4])).await;
    let first = receiver.next(5 * SECOND).await;

    assert_eq!(event(&first).1, "ACCEPTED");
    let listed = api.wait_for_enabled(&hook, false, 2 * SECOND).await;
    assert!(
        listed["disabled_reason"].as_str().unwrap().contains("410"),
        "{listed}"
    );
    api.wait_for_final_statuses(&sent, 2 * SECOND).await;
    let deliveries = api.deliveries(&hook).await;
    let states: Vec<&Value> = deliveries.iter().map(|d| &d["state"]).collect();
    assert_eq!(states, ["failed", "pending", "pending"], "{deliveries:#?}");
    let more = receiver.maybe_next(Duration::from_millis(500)).await;
    assert!(more.is_none(), "a disabled hook got {more:?}");
    let attempts = api.attempts(&hook).await;
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!(attempts[0]["http_status"], 410);
}

#[tokio::test]
async fn slow_answers_are_classified_as_timeouts_and_retried() {
    let app = spawn_app_with(|s| s.webhook.timeout = Duration::from_millis(200)).await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push([Reply {
        delay: SECOND,
        ..Reply::status(200)
    }]);
    let hook = api.subscribe(&receiver.url).await;

    let sent = api.send(&recipients("1764", 1, &[5])).await;
    let received = collect_all(&mut receiver, &sent, 5 * SECOND).await;

    let statuses: Vec<String> = received.iter().map(|r| event(r).1).collect();
    assert_eq!(
        statuses,
        ["ACCEPTED", "ACCEPTED", "TRANSMITTED", "DELIVERED"]
    );
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.len() == 3 && ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    let attempts = api.attempts(&hook).await;
    let accepted = attempts_of(&attempts, &deliveries[0]);
    assert_eq!(accepted.len(), 2, "{attempts:#?}");
    assert_eq!(accepted[0]["error_class"], "timeout", "{attempts:#?}");
    assert!(accepted[0]["http_status"].is_null());
    let latency = accepted[0]["latency_ms"].as_i64().unwrap();
    assert!(
        (200..1000).contains(&latency),
        "timed out after {latency} ms"
    );
    assert_eq!(accepted[1]["http_status"], 200);
}

#[tokio::test]
async fn connection_refusals_are_retried_until_the_schedule_is_used_up() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    // A port that was just free: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let hook = api.subscribe(&url).await;

    let sent = api.send(&recipients("1765", 1, &[1])).await;

    let deliveries = api
        .wait_for_deliveries(&hook, 5 * SECOND, |ds| {
            ds.len() == 3 && ds.iter().all(|d| d["state"] == "abandoned")
        })
        .await;
    assert!(
        deliveries.iter().all(|d| d["attempts"] == 5),
        "{deliveries:#?}"
    );
    let attempts = api.attempts(&hook).await;
    assert_eq!(attempts.len(), 15, "{attempts:#?}");
    assert!(
        attempts
            .iter()
            .all(|a| a["error_class"] == "connect" && a["http_status"].is_null()),
        "{attempts:#?}"
    );
    let status = api.get(&format!("/api/status?msg_id={}", sent[0].id)).await;
    assert_eq!(status[0]["status"], "DELIVERED", "{status}");
}

#[tokio::test]
async fn retry_after_stretches_the_next_attempt_beyond_the_schedule() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push([Reply {
        retry_after: Some(1),
        ..Reply::status(503)
    }]);
    api.subscribe(&receiver.url).await;

    api.send(&recipients("1766", 1, &[1])).await;
    let first = receiver.next(5 * SECOND).await;
    let second = receiver.next(5 * SECOND).await;

    assert_eq!(event(&first), event(&second), "the same delivery again");
    let gap = second.at - first.at;
    // The schedule alone would retry after 50 ms.
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    assert!(gap < Duration::from_millis(1500), "retried after {gap:?}");
}

#[tokio::test]
async fn an_exhausted_schedule_abandons_the_delivery_visibly_and_status_polling_still_works() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push((0..5).map(|_| reply(500, "broken")));
    let hook = api.subscribe(&receiver.url).await;

    let sent = api.send(&recipients("1767", 1, &[1])).await;
    let received = collect_all(&mut receiver, &sent, 5 * SECOND).await;

    let statuses: Vec<String> = received.iter().map(|r| event(r).1).collect();
    assert_eq!(statuses[..5], ["ACCEPTED"; 5]);
    assert_eq!(statuses[5..], ["TRANSMITTED", "DELIVERED"]);
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.len() == 3 && ds.iter().all(|d| d["state"] != "pending")
        })
        .await;
    let states: Vec<&Value> = deliveries.iter().map(|d| &d["state"]).collect();
    assert_eq!(states, ["abandoned", "delivered", "delivered"]);
    assert_eq!(deliveries[0]["attempts"], 5);
    assert!(
        deliveries[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("500")
    );
    let attempts = api.attempts(&hook).await;
    let abandoned = attempts_of(&attempts, &deliveries[0]);
    assert_eq!(http_statuses(&abandoned), vec![json!(500); 5]);
    let numbers: Vec<&Value> = abandoned.iter().map(|a| &a["attempt"]).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
    let status = api.get(&format!("/api/status?msg_id={}", sent[0].id)).await;
    assert_eq!(status[0]["status"], "DELIVERED", "{status}");
}
