//! Hostile webhook receivers: one that resets the connection, one that trickles its answer a
//! byte at a time, one that answers with bytes that are not HTTP, and one that answers with a
//! huge body. Each affected delivery ends in its documented state (retried, then abandoned; or
//! delivered with a bounded response snippet), and a healthy hook of the same account still gets
//! every status in order.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::app::{TestApp, spawn_app_with};
use crate::helpers::hooks::{
    Api, Sent, assert_every_status_in_order, collect_all, event, recipients, sequence,
};
use crate::helpers::hostile::{Behaviour, HostileReceiver};
use crate::helpers::receiver::WebhookReceiver;

/// Attempts per delivery: the first at once, then two 50 ms apart.
const ATTEMPTS: usize = 3;
const SNIPPET_BYTES: usize = 1024;

async fn app() -> TestApp {
    spawn_app_with(|s| {
        s.webhook.timeout = Duration::from_millis(300);
        s.webhook.retry_schedule = vec![
            Duration::ZERO,
            Duration::from_millis(50),
            Duration::from_millis(50),
        ];
        s.webhook.jitter = 0.0;
        s.webhook.response_snippet_bytes = SNIPPET_BYTES;
    })
    .await
}

/// Subscribes a hostile and a healthy hook, sends three messages and checks that the healthy
/// hook got every status in order; returns the hostile hook's id and the messages.
async fn send_past(app: &TestApp, hostile: &HostileReceiver) -> (String, Vec<Sent>) {
    let api = Api::of(app);
    let hostile_hook = api.subscribe(&hostile.url).await;
    let mut healthy = WebhookReceiver::start().await;
    api.subscribe(&healthy.url).await;
    let sent = api.send(&recipients("1790", 3, &[1, 6, 7])).await;
    let got = collect_all(&mut healthy, &sent, Duration::from_secs(10)).await;
    let events: Vec<(String, String)> = got.iter().map(event).collect();
    assert_every_status_in_order(&events, &sent);
    (hostile_hook, sent)
}

fn statuses(sent: &[Sent]) -> usize {
    sent.iter().map(|m| sequence(&m.recipient).len()).sum()
}

/// Every delivery to the hostile hook is tried `ATTEMPTS` times, each attempt failing with
/// `class` and no HTTP status, and then abandoned.
async fn assert_abandoned_after_failures(behaviour: Behaviour, class: &str) {
    let app = app().await;
    let hostile = HostileReceiver::start(behaviour).await;
    let (hook, sent) = send_past(&app, &hostile).await;
    let api = Api::of(&app);

    let expected = statuses(&sent);
    let deliveries = api
        .wait_for_deliveries(&hook, Duration::from_secs(30), |ds| {
            ds.len() == expected && ds.iter().all(|d| d["state"] == "abandoned")
        })
        .await;
    assert!(
        deliveries.iter().all(|d| d["attempts"] == ATTEMPTS),
        "{deliveries:#?}"
    );
    let attempts = api.attempts(&hook).await;
    assert_eq!(attempts.len(), expected * (ATTEMPTS), "{attempts:#?}");
    for attempt in &attempts {
        assert!(attempt["http_status"].is_null(), "{attempt}");
        assert_eq!(attempt["error_class"], class, "{attempt}");
    }
    assert_eq!(hostile.requests.load(Ordering::SeqCst), attempts.len());
}

#[tokio::test]
async fn a_receiver_that_resets_the_connection_gets_retries_then_abandoned_deliveries() {
    assert_abandoned_after_failures(Behaviour::Reset, "connect").await;
}

#[tokio::test]
async fn a_receiver_that_trickles_its_answer_times_out_and_is_retried_then_abandoned() {
    assert_abandoned_after_failures(Behaviour::Trickle(50), "timeout").await;
}

#[tokio::test]
async fn a_receiver_that_answers_garbage_gets_retries_then_abandoned_deliveries() {
    assert_abandoned_after_failures(Behaviour::Garbage, "connect").await;
}

#[tokio::test]
async fn a_huge_answer_body_is_cut_to_the_snippet_and_never_read_whole() {
    // Arrange: 256 MiB of body behind each 200.
    let app = app().await;
    let size = 256 * 1024 * 1024;
    let hostile = HostileReceiver::start(Behaviour::HugeBody(size)).await;

    // Act
    let (hook, sent) = send_past(&app, &hostile).await;

    // Assert: delivered, the log keeps the first SNIPPET_BYTES, and dlrgate stopped reading.
    let api = Api::of(&app);
    let expected = statuses(&sent);
    api.wait_for_deliveries(&hook, Duration::from_secs(30), |ds| {
        ds.len() == expected && ds.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let attempts: Vec<Value> = api.attempts(&hook).await;
    assert_eq!(attempts.len(), expected, "{attempts:#?}");
    for attempt in &attempts {
        assert_eq!(attempt["http_status"], 200, "{attempt}");
        assert_eq!(attempt["response"].as_str().unwrap().len(), SNIPPET_BYTES);
    }
    let taken = hostile.body_bytes_taken.load(Ordering::SeqCst);
    assert!(
        taken < expected as u64 * size / 4,
        "{taken} bytes of {} were taken",
        expected as u64 * size
    );
}
