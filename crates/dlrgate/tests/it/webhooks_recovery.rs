//! Getting webhooks back on track: auto-disable after a run of failures and re-enabling, re-sending
//! one delivery, recovering everything failed or abandoned since a time, and the real binary
//! killed with SIGKILL (nothing lost) or stopped with SIGTERM (attempts on the wire finish).

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::helpers::app::{spawn_app, spawn_app_with};
use crate::helpers::binary::Server;
use crate::helpers::hooks::{
    Api, assert_every_status_in_order, collect_more, event, recipients, sequence,
};
use crate::helpers::receiver::{Received, Reply, WebhookReceiver};

const SECOND: Duration = Duration::from_secs(1);

fn unix_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// The value of a counter in Prometheus text, 0 when it is absent.
async fn counter(api: &Api, name: &str) -> f64 {
    let text = api
        .http
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn states(deliveries: &[Value]) -> Vec<&str> {
    deliveries
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect()
}

/// Everything that arrives until nothing has come for `quiet`; panics if that takes over 5 s.
async fn drain(receiver: &mut WebhookReceiver, quiet: Duration) -> Vec<Received> {
    let deadline = Instant::now() + 5 * SECOND;
    let mut got = Vec::new();
    while let Some(request) = receiver.maybe_next(quiet).await {
        assert!(Instant::now() < deadline, "webhooks kept coming");
        got.push(request);
    }
    got
}

#[tokio::test]
async fn a_hook_failing_too_long_is_disabled_keeps_its_deliveries_and_resumes_in_order_when_enabled()
 {
    let app = spawn_app_with(|s| s.webhook.disable_after = Duration::from_millis(300)).await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.set_default(Reply::status(500));
    let hook = api.subscribe(&receiver.url).await;
    let disabled_before = counter(&api, "dlrgate_webhook_hooks_disabled_total").await;

    let sent = api.send(&recipients("1780", 4, &[1, 6, 8, 9])).await;
    let listed = api.wait_for_enabled(&hook, false, 3 * SECOND).await;

    assert!(
        listed["disabled_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{listed}"
    );
    api.wait_for_final_statuses(&sent, 2 * SECOND).await;
    let expected: usize = sent.iter().map(|m| sequence(&m.recipient).len()).sum();
    let deliveries = api.deliveries(&hook).await;
    assert_eq!(deliveries.len(), expected, "{deliveries:#?}");
    assert!(
        deliveries.iter().all(|d| d["state"] == "pending"),
        "{deliveries:#?}"
    );
    let disabled_after = counter(&api, "dlrgate_webhook_hooks_disabled_total").await;
    assert!(disabled_after > disabled_before, "{disabled_after}");
    // Attempts that were on the wire when the hook was disabled land within a few ms; after them,
    // longer than the next scheduled retry (400 ms) passes without a request.
    let mut before_enable = drain(&mut receiver, Duration::from_millis(100)).await;
    let late = receiver.maybe_next(Duration::from_millis(500)).await;
    assert!(late.is_none(), "a disabled hook got {late:?}");

    receiver.set_default(Reply::status(200));
    let enabled = api.post(&format!("/api/hooks/{hook}/enable"), &[]).await;
    assert_eq!(enabled["enabled"], true, "{enabled}");
    let deliveries = api
        .wait_for_deliveries(&hook, 3 * SECOND, |ds| {
            ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;

    assert_eq!(deliveries.len(), expected);
    assert_eq!(api.hook(&hook).await["disabled_reason"], Value::Null);
    before_enable.extend(drain(&mut receiver, Duration::from_millis(100)).await);
    let events: Vec<_> = before_enable.iter().map(event).collect();
    assert_every_status_in_order(&events, &sent);
}

#[tokio::test]
async fn recover_since_resends_failed_and_abandoned_deliveries_created_since_then() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    let hook = api.subscribe(&receiver.url).await;
    let test_start_seconds = unix_millis() / 1000 - 1;
    // Message A: ACCEPTED fails with 404.
    receiver.push([Reply::status(404)]);
    let a = api.send(&recipients("1781", 1, &[1])).await;
    receiver.collect(3, 5 * SECOND).await;
    api.wait_for_deliveries(&hook, 2 * SECOND, |ds| {
        ds.len() == 3 && ds.iter().all(|d| d["state"] != "pending")
    })
    .await;
    // `since` counts in whole seconds: wait for the next one to begin (at most 1 s), so A's
    // deliveries are older than the boundary and B's are not.
    let boundary = unix_millis() / 1000 + 1;
    let wait = (boundary * 1000 + 5).saturating_sub(unix_millis());
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap())).await;
    // Message B, sent after the boundary: ACCEPTED is abandoned (five 500s), TRANSMITTED fails.
    receiver.push((0..5).map(|_| Reply::status(500)));
    receiver.push([Reply::status(404)]);
    let b = api.send(&recipients("1782", 1, &[2])).await;
    receiver.collect(7, 5 * SECOND).await;
    let settled = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.len() == 6 && ds.iter().all(|d| d["state"] != "pending")
        })
        .await;
    assert_eq!(
        states(&settled),
        [
            "failed",
            "delivered",
            "delivered",
            "abandoned",
            "failed",
            "delivered"
        ]
    );
    let webhook_ids = |requests: &[Received]| -> Vec<String> {
        requests
            .iter()
            .map(|r| r.header("webhook-id").to_owned())
            .collect()
    };

    // Only B's deliveries were created after the boundary.
    let since = boundary.to_string();
    let recovered = api
        .post(&format!("/api/hooks/{hook}/recover"), &[("since", &since)])
        .await;
    assert_eq!(recovered["recovered"], 2, "{recovered}");
    let again = receiver.collect(2, 5 * SECOND).await;
    let events: Vec<_> = again.iter().map(event).collect();
    assert_eq!(
        events,
        [
            (b[0].id.clone(), "ACCEPTED".to_owned()),
            (b[0].id.clone(), "TRANSMITTED".to_owned())
        ]
    );
    assert_eq!(
        webhook_ids(&again),
        [
            format!("msg_dlr{}", settled[3]["id"].as_str().unwrap()),
            format!("msg_dlr{}", settled[4]["id"].as_str().unwrap())
        ],
        "a re-sent delivery keeps its webhook-id"
    );
    let after = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.iter().filter(|d| d["state"] == "delivered").count() == 5
        })
        .await;
    assert_eq!(after[0]["state"], "failed", "A is older than the boundary");

    // Since the start of the test (unix seconds): A's failed delivery comes back too.
    let since = test_start_seconds.to_string();
    let recovered = api
        .post(&format!("/api/hooks/{hook}/recover"), &[("since", &since)])
        .await;
    assert_eq!(recovered["recovered"], 1, "{recovered}");
    let last = receiver.next(5 * SECOND).await;
    assert_eq!(event(&last), (a[0].id.clone(), "ACCEPTED".to_owned()));
    api.wait_for_deliveries(&hook, 2 * SECOND, |ds| {
        ds.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let nothing = receiver.maybe_next(Duration::from_millis(200)).await;
    assert!(nothing.is_none(), "only recovered deliveries go out");
}

#[tokio::test]
async fn resend_puts_one_finished_delivery_back_on_the_wire() {
    let app = spawn_app().await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push([Reply::status(404)]);
    let hook = api.subscribe(&receiver.url).await;
    let sent = api.send(&recipients("1783", 1, &[3])).await;
    let first = receiver.collect(3, 5 * SECOND).await;
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.len() == 3 && ds.iter().all(|d| d["state"] != "pending")
        })
        .await;
    assert_eq!(states(&deliveries), ["failed", "delivered", "delivered"]);
    let failed = deliveries[0]["id"].as_str().unwrap();

    let answer = api
        .post(
            &format!("/api/hooks/{hook}/deliveries/{failed}/resend"),
            &[],
        )
        .await;

    assert_eq!(answer["success"], true, "{answer}");
    let again = receiver.next(5 * SECOND).await;
    assert_eq!(event(&again), (sent[0].id.clone(), "ACCEPTED".to_owned()));
    assert_eq!(again.header("webhook-id"), first[0].header("webhook-id"));
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    assert_eq!(deliveries[0]["attempts"], 1, "a fresh schedule");
    let attempts = api.attempts(&hook).await;
    let of_failed: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["delivery_id"] == failed)
        .map(|a| &a["http_status"])
        .collect();
    assert_eq!(of_failed, [404, 200], "both attempts stay in the log");
    let unknown = api
        .post(&format!("/api/hooks/{hook}/deliveries/999999/resend"), &[])
        .await;
    assert_eq!(unknown["http_status"], 404, "{unknown}");
}

/// Environment of a `dlrgate serve` child that delivers quickly to loopback receivers.
fn server_env(timeout: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8".into()),
        (
            "DLRGATE_WEBHOOK_RETRY_SCHEDULE",
            "0ms,50ms,100ms,200ms,400ms".into(),
        ),
        ("DLRGATE_WEBHOOK_JITTER", "0".into()),
        ("DLRGATE_WEBHOOK_TIMEOUT", timeout.into()),
        ("DLRGATE_SANDBOX_SPEED", "1000".into()),
        ("DLRGATE_WORKERS_TICK", "5ms".into()),
    ]
}

/// Starts the binary off the async runtime's threads (it blocks until it listens).
async fn start_server(dir: &std::path::Path, env: &[(&'static str, String)]) -> Server {
    let dir = dir.to_path_buf();
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Server::start(&dir, &env)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_kill_9_and_restart_every_status_is_delivered_at_least_once() {
    let mut receiver = WebhookReceiver::start().await;
    let slow = Reply {
        delay: Duration::from_millis(20),
        ..Reply::status(200)
    };
    receiver.set_default(slow.clone());
    let dir = tempfile::tempdir().unwrap();
    // The lease of an attempt is 2 × timeout + 5 s; a short timeout keeps the wait after the
    // restart (for the leases of attempts that died with the process) short.
    let env = server_env("250ms");
    let mut server = start_server(dir.path(), &env).await;
    let api_key = server.api_key.clone().unwrap();
    let api = Api::new(&server.base, &api_key);
    let hook = api.subscribe(&receiver.url).await;
    let sent = api
        .send(&recipients("1784", 40, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 0]))
        .await;
    let mut before = receiver.collect(25, 5 * SECOND).await;
    // From now on the receiver hangs, so the next attempts are surely on the wire at the kill.
    receiver.set_default(Reply {
        delay: 10 * SECOND,
        ..Reply::status(200)
    });
    let hanging = receiver.collect(3, 5 * SECOND).await;
    let hanging_ids: BTreeSet<String> = hanging
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    before.extend(hanging);

    server.kill9();
    receiver.set_default(slow);
    let server = start_server(dir.path(), &env).await;
    let api = Api::new(&server.base, &api_key);
    let received = collect_more(&mut receiver, &sent, before, 9 * SECOND).await;

    // What was on the wire when the process died is sent again.
    let after_restart: BTreeSet<String> = received[28..]
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert!(
        hanging_ids.is_subset(&after_restart),
        "{hanging_ids:?} not sent again"
    );
    // Every status of every message arrived (at least once), and never out of order per message
    // across the crash too, as a receiver that deduplicates by webhook-id sees them: a copy sent
    // again because its 2xx was not stored before the kill may come after a later status
    // (ADR 0003), with the webhook-id the receiver already has.
    let mut first_seen = BTreeSet::new();
    let events: Vec<_> = received
        .iter()
        .filter(|r| first_seen.insert(r.header("webhook-id").to_owned()))
        .map(event)
        .collect();
    assert_every_status_in_order(&events, &sent);
    // A webhook-id always stands for the same status of the same message.
    let mut by_id: HashMap<String, (String, String)> = HashMap::new();
    for request in &received {
        let id = request.header("webhook-id").to_owned();
        let seen = by_id.entry(id.clone()).or_insert_with(|| event(request));
        assert_eq!(*seen, event(request), "webhook-id {id} reused");
    }
    let distinct: BTreeSet<&(String, String)> = by_id.values().collect();
    assert_eq!(distinct.len(), by_id.len(), "one webhook-id per status");
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    assert_eq!(deliveries.len(), by_id.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_attempts_on_the_wire_finish_and_records_them() {
    let mut receiver = WebhookReceiver::start().await;
    receiver.set_default(Reply {
        delay: Duration::from_millis(600),
        body: "took my time".into(),
        ..Reply::status(200)
    });
    let dir = tempfile::tempdir().unwrap();
    let env = server_env("2s");
    let mut server = start_server(dir.path(), &env).await;
    let api_key = server.api_key.clone().unwrap();
    let api = Api::new(&server.base, &api_key);
    let hook = api.subscribe(&receiver.url).await;
    let sent = api.send(&recipients("1785", 3, &[1])).await;
    let on_the_wire = receiver.collect(3, 5 * SECOND).await;

    let stopped = Instant::now();
    let (exit, _server) = tokio::task::spawn_blocking(move || {
        let exit = server.terminate();
        (exit, server)
    })
    .await
    .unwrap();
    let took = stopped.elapsed();

    assert!(exit.success(), "{exit:?}");
    assert!(took >= Duration::from_millis(400), "stopped after {took:?}");
    let server = start_server(dir.path(), &env).await;
    let api = Api::new(&server.base, &api_key);
    let attempts = api.attempts(&hook).await;
    let ids: BTreeSet<String> = on_the_wire
        .iter()
        .map(|r| {
            r.header("webhook-id")
                .trim_start_matches("msg_dlr")
                .to_owned()
        })
        .collect();
    let finished: Vec<&Value> = attempts
        .iter()
        .filter(|a| ids.contains(a["delivery_id"].as_str().unwrap()))
        .collect();
    assert_eq!(finished.len(), 3, "one attempt each: {attempts:#?}");
    for attempt in finished {
        assert_eq!(attempt["http_status"], json!(200), "{attempt}");
        assert_eq!(attempt["response"], "took my time", "{attempt}");
        assert!(attempt["latency_ms"].as_i64().unwrap() >= 600, "{attempt}");
    }
    // The rest goes out after the restart; the finished ones are not sent again.
    let rest = collect_more(&mut receiver, &sent, on_the_wire, 5 * SECOND).await;
    let resent: Vec<&Received> = rest[3..]
        .iter()
        .filter(|r| ids.contains(r.header("webhook-id").trim_start_matches("msg_dlr")))
        .collect();
    assert!(resent.is_empty(), "sent twice: {resent:?}");
    assert_eq!(
        rest.len(),
        9,
        "TRANSMITTED and DELIVERED of three messages follow"
    );
}
