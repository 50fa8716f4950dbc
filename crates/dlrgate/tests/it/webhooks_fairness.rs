//! Webhook delivery under load: a dead hook of one account does not delay a healthy hook of
//! another, and no more requests than the per-hook limit overlap.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::app::{TestApp, spawn_app_with};
use crate::helpers::hooks::{
    Api, OverlapProbe, assert_every_status_in_order, collect_all, event, recipients, sequence,
};
use crate::helpers::receiver::{Reply, WebhookReceiver};

const SECOND: Duration = Duration::from_secs(1);

/// Account A's hook answers every request with `dead_reply` and is kept busy failing (its first
/// eight attempts are on the wire) when account B sends five messages. Returns how long B's hook
/// took to receive all their statuses, with the app and A's receiver and API client.
async fn healthy_hook_beside_a_dead_one(
    dead_reply: Reply,
) -> (Duration, TestApp, WebhookReceiver, Api, String) {
    // A long timeout, so hanging attempts are still hanging when the test ends, and a per-hook
    // limit of eight, which the dead hook fills.
    let app = spawn_app_with(|s| {
        s.webhook.timeout = 4 * SECOND;
        s.webhook.max_in_flight_per_hook = 8;
    })
    .await;
    let dead_api = Api::of(&app);
    let mut dead = WebhookReceiver::start().await;
    dead.set_default(dead_reply);
    let dead_hook = dead_api.subscribe(&dead.url).await;
    let other = app.create_account("healthy", &[]);
    let healthy_api = Api::new(&app.base, other["api_key"].as_str().unwrap());
    let mut healthy = WebhookReceiver::start().await;
    let healthy_hook = healthy_api.subscribe(&healthy.url).await;
    dead_api.send(&recipients("1768", 20, &[1, 6])).await;
    dead.collect(8, 2 * SECOND).await;

    let started = Instant::now();
    let sent = healthy_api.send(&recipients("1769", 5, &[2, 6, 8])).await;
    let received = collect_all(&mut healthy, &sent, 5 * SECOND).await;
    let took = started.elapsed();

    let events: Vec<_> = received.iter().map(event).collect();
    assert_every_status_in_order(&events, &sent);
    let deliveries = healthy_api
        .wait_for_deliveries(&healthy_hook, SECOND, |ds| {
            ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    let statuses: usize = sent.iter().map(|m| sequence(&m.recipient).len()).sum();
    assert_eq!(deliveries.len(), statuses);
    (took, app, dead, dead_api, dead_hook)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_that_never_answers_does_not_delay_a_healthy_hook_of_another_account() {
    let hang = Reply {
        delay: 10 * SECOND,
        ..Reply::status(200)
    };

    let (took, _app, mut dead, _, _) = healthy_hook_beside_a_dead_one(hang).await;

    // Far below the dead hook's 4 s timeout: nothing waited for a dead attempt.
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert!(
        dead.maybe_next(Duration::ZERO).await.is_none(),
        "the dead hook went over its in-flight limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_that_always_fails_does_not_delay_a_healthy_hook_of_another_account() {
    let (took, _app, mut dead, dead_api, dead_hook) =
        healthy_hook_beside_a_dead_one(Reply::status(500)).await;

    assert!(took < Duration::from_millis(1500), "took {took:?}");
    // The dead hook was retried all along and never succeeded.
    assert!(dead.maybe_next(SECOND).await.is_some(), "no more retries");
    let deliveries = dead_api.deliveries(&dead_hook).await;
    assert!(!deliveries.is_empty());
    assert!(
        deliveries.iter().all(|d| d["state"] != "delivered"),
        "{deliveries:#?}"
    );
}

#[tokio::test]
async fn no_more_than_the_per_hook_limit_of_requests_overlap_yet_all_are_delivered() {
    let app = spawn_app_with(|s| s.webhook.max_in_flight_per_hook = 2).await;
    let api = Api::of(&app);
    let mut probe = OverlapProbe::start(Duration::from_millis(40)).await;
    let hook = api.subscribe(&probe.url).await;

    let sent = api.send(&recipients("1770", 10, &[1, 2, 6])).await;
    let wanted: usize = sent.iter().map(|m| sequence(&m.recipient).len()).sum();
    let mut events = Vec::new();
    for _ in 0..wanted {
        let body = tokio::time::timeout(5 * SECOND, probe.bodies.recv())
            .await
            .unwrap_or_else(|_| panic!("only {} of {wanted} arrived", events.len()))
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        let data = &body["data"];
        events.push((
            data["msg_id"].as_str().unwrap().to_owned(),
            data["status"].as_str().unwrap().to_owned(),
        ));
    }

    assert_eq!(probe.most_at_once.load(Ordering::SeqCst), 2);
    assert_every_status_in_order(&events, &sent);
    // The last answers may still be on their way back to dlrgate: wait for them to be recorded.
    let deliveries = api
        .wait_for_deliveries(&hook, SECOND, |ds| {
            ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    assert_eq!(deliveries.len(), wanted);
    let attempts = api.attempts(&hook).await;
    assert_eq!(
        attempts.len(),
        wanted,
        "each delivered at the first attempt"
    );
}
