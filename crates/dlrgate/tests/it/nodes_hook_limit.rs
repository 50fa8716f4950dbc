//! A hook's concurrency limit holds for the cluster: two nodes on one PostgreSQL database, both
//! sending webhooks to one slow receiver, never have more than `max_in_flight_per_hook` requests
//! open at once together (each takes its share, counted by the nodes' heartbeats).

#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::helpers::app::spawn_app_with;
use crate::helpers::hooks::{Api, OverlapProbe, recipients, sequence};
use crate::helpers::postgres::fresh_database;

const LIMIT: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_together_stay_within_a_hooks_limit() {
    // Arrange: two nodes with a fixed limit of 4 per hook; both have seen each other's heartbeat
    // (every third of the 3 s lease) before the load starts.
    let db = fresh_database().await;
    let node = |url: String| {
        move |s: &mut dlrgate::config::Settings| {
            s.store.database_url = url;
            s.store.lease_timeout = Duration::from_secs(3);
            s.webhook.min_in_flight_per_hook = LIMIT;
            s.webhook.max_in_flight_per_hook = LIMIT;
        }
    };
    let a = spawn_app_with(node(db.url.clone())).await;
    let b = spawn_app_with(node(db.url.clone())).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (api_a, api_b) = (Api::of(&a), Api::new(&b.base, &a.api_key));
    let mut probe = OverlapProbe::start(Duration::from_millis(40)).await;
    api_a.subscribe(&probe.url).await;

    // Act: 30 messages through each node at once, three webhooks each.
    let (to_a, to_b) = (recipients("1781", 30, &[1]), recipients("1782", 30, &[1]));
    let (sent_a, sent_b) = tokio::join!(api_a.send(&to_a), api_b.send(&to_b));
    let wanted: usize = sent_a
        .iter()
        .chain(&sent_b)
        .map(|m| sequence(&m.recipient).len())
        .sum();
    for received in 0..wanted {
        tokio::time::timeout(Duration::from_secs(30), probe.bodies.recv())
            .await
            .unwrap_or_else(|_| panic!("only {received} of {wanted} webhooks arrived"))
            .unwrap();
    }

    // Assert: never above the limit, and both nodes were sending at once (one alone has 2).
    let most = probe.most_at_once.load(Ordering::SeqCst);
    assert!(most <= LIMIT, "{most} requests at once, limit {LIMIT}");
    assert!(
        most > LIMIT / 2,
        "the nodes never sent at the same time: {most}"
    );
}
