//! Adaptive concurrency per hook: a receiver that answers fast is given more attempts at once (up
//! to `max_in_flight_per_hook`), one that answers slowly stays at `min_in_flight_per_hook`.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::helpers::app::spawn_app_with;
use crate::helpers::hooks::{Api, OverlapProbe, recipients, sequence};

/// Sends `count` messages to a probe answering after `delay`; returns the most requests that
/// overlapped once every webhook has arrived.
async fn most_at_once(count: usize, delay: Duration, slow_answer: Duration) -> usize {
    let app = spawn_app_with(|s| {
        s.webhook.min_in_flight_per_hook = 2;
        s.webhook.max_in_flight_per_hook = 24;
        s.webhook.slow_answer = slow_answer;
    })
    .await;
    let api = Api::of(&app);
    let mut probe = OverlapProbe::start(delay).await;
    api.subscribe(&probe.url).await;
    let sent = api.send(&recipients("1780", count, &[1, 2, 3])).await;
    let wanted: usize = sent.iter().map(|m| sequence(&m.recipient).len()).sum();
    for received in 0..wanted {
        tokio::time::timeout(Duration::from_secs(20), probe.bodies.recv())
            .await
            .unwrap_or_else(|_| panic!("only {received} of {wanted} webhooks arrived"))
            .unwrap();
    }
    probe.most_at_once.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_answers_fast_is_given_more_attempts_at_once() {
    let most = most_at_once(40, Duration::from_millis(25), Duration::from_secs(1)).await;
    assert!(most > 2, "never more than the minimum at once: {most}");
    assert!(most <= 24, "more than the maximum at once: {most}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_answers_slowly_stays_at_the_minimum() {
    let most = most_at_once(12, Duration::from_millis(60), Duration::from_millis(10)).await;
    assert!(most <= 2, "a slow receiver got {most} at once");
}
