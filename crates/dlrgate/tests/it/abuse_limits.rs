//! The abuse limits of `[limits]` over real HTTP: requests per API key and messages per account
//! answered HTTP 429 with `Retry-After` and seven.io code 403 (changing nothing, other tenants
//! unaffected), hooks per account, and the per-hook backlog limit that stops a dead receiver's
//! deliveries from filling the store and lifts once the backlog drained.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;

use crate::helpers::app::{TestApp, spawn_app_with};
use crate::helpers::hooks::{Api, recipients};
use crate::helpers::receiver::{Reply, WebhookReceiver};

const WAIT: Duration = Duration::from_secs(10);

/// One send of `recipients` numbers; the HTTP status, `Retry-After`, and the body.
async fn send(app: &TestApp, key: &str, count: usize) -> (u16, Option<u64>, String) {
    let to = recipients("4917012", count, &[1]).join(",");
    let response = app
        .send_sms_as(key, json!({"to": to, "text": "limits"}))
        .await;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry_after, response.text().await.unwrap())
}

async fn outbound_count(app: &TestApp, key: &str) -> usize {
    let journal = Api::new(&app.base, key)
        .get("/api/journal/outbound?limit=100")
        .await;
    journal.as_array().map_or(0, Vec::len)
}

fn second_key(app: &TestApp) -> String {
    app.create_account("other", &[])["api_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn is_limited((status, retry_after, body): &(u16, Option<u64>, String)) -> bool {
    *status == 429 && retry_after.is_some_and(|s| (1..=2).contains(&s)) && body == "403"
}

#[tokio::test]
async fn a_key_over_its_request_rate_gets_429_with_retry_after_and_code_403_and_stores_nothing() {
    // Arrange: 2 requests per second, burst 3, no message limit.
    let app = spawn_app_with(|s| {
        s.limits.requests_per_second = 2;
        s.limits.request_burst = 3;
        s.limits.messages_per_second = 0;
    })
    .await;
    let other = second_key(&app);

    // Act
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(send(&app, &app.api_key, 1).await);
    }
    let other_answer = send(&app, &other, 1).await;

    // Assert: the burst passes, the 4th is limited, another key is not.
    for answer in &answers[..3] {
        assert_eq!(answer.0, 200, "{answer:?}");
        assert!(answer.2.contains("\"success\":\"100\""), "{answer:?}");
    }
    assert!(is_limited(&answers[3]), "{:?}", answers[3]);
    assert_eq!(other_answer.0, 200, "{other_answer:?}");
    // The journal request itself counts too, so wait for the bucket first.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(outbound_count(&app, &app.api_key).await, 3);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        send(&app, &app.api_key, 1).await.0,
        200,
        "the bucket refills"
    );
}

#[tokio::test]
async fn an_account_over_its_message_rate_gets_429_and_none_of_the_request_is_stored() {
    // Arrange: 10 messages per second, burst 10 (and at most 10 recipients per request).
    let app = spawn_app_with(|s| {
        s.limits.messages_per_second = 10;
        s.limits.message_burst = 10;
        s.sms.max_recipients = 10;
    })
    .await;
    let other = second_key(&app);

    // Act
    let first = send(&app, &app.api_key, 8).await;
    let over = send(&app, &app.api_key, 5).await;
    let rest = send(&app, &app.api_key, 2).await;
    let other_full = send(&app, &other, 10).await;

    // Assert: 8 + 2 pass, the 5 in between are refused whole; the other account has its own.
    assert_eq!(first.0, 200, "{first:?}");
    assert!(is_limited(&over), "{over:?}");
    assert_eq!(rest.0, 200, "{rest:?}");
    assert_eq!(other_full.0, 200, "{other_full:?}");
    assert_eq!(outbound_count(&app, &app.api_key).await, 10);
    assert_eq!(outbound_count(&app, &other).await, 10);
}

#[test]
fn a_message_burst_below_max_recipients_is_refused_at_load() {
    let settings = crate::helpers::app::test_settings(std::path::Path::new("/tmp"));
    let mut limits = settings.limits.clone();
    limits.message_burst = 10;
    limits.messages_per_second = 10;
    let problem = limits.problem(settings.sms.max_recipients);
    assert_eq!(problem.map(|(key, _)| key), Some("limits.message_burst"));
    assert_eq!(limits.problem(10), None);
}

#[tokio::test]
async fn an_account_gets_no_more_hooks_than_its_limit_and_others_are_not_affected() {
    // Arrange
    let app = spawn_app_with(|s| s.limits.hooks_per_account = 2).await;
    let api = Api::of(&app);
    let other = Api::new(&app.base, &second_key(&app));
    let receiver = WebhookReceiver::start().await;
    let form = [("target_url", receiver.url.as_str()), ("event_type", "dlr")];

    // Act
    let first = api.post("/api/hooks", &form).await;
    api.post("/api/hooks", &form).await;
    let third = api.post("/api/hooks", &form).await;
    let others = other.post("/api/hooks", &form).await;
    let id = first["id"].to_string();
    let deleted = api
        .post("/api/hooks", &[("action", "unsubscribe"), ("id", &id)])
        .await;
    let after_delete = api.post("/api/hooks", &form).await;

    // Assert
    assert_eq!(third["success"], false, "{third}");
    assert_eq!(third["code"], "limit", "{third}");
    assert_eq!(others["success"], true, "{others}");
    assert_eq!(deleted["success"], true, "{deleted}");
    assert_eq!(after_delete["success"], true, "{after_delete}");
    let listed = api.get("/api/hooks").await;
    assert_eq!(listed["hooks"].as_array().unwrap().len(), 2, "{listed}");
}

#[tokio::test]
async fn a_hook_with_a_full_backlog_gets_no_new_deliveries_until_it_drained() {
    // Arrange: at most 4 pending per hook, checked every 50 ms; a failed attempt waits an hour.
    let app = spawn_app_with(|s| {
        s.limits.pending_deliveries_per_hook = 4;
        s.limits.backlog_check_interval = Duration::from_millis(50);
        s.webhook.retry_schedule = vec![Duration::ZERO, Duration::from_secs(3600)];
    })
    .await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.set_default(Reply::status(500));
    let hook = api.subscribe(&receiver.url).await;

    // Act 1: two messages, three statuses each, reach a receiver that fails.
    let sent = api.send(&recipients("4917013", 2, &[1])).await;
    api.wait_for_final_statuses(&sent, WAIT).await;
    let full = api
        .wait_for_hook_field(&hook, "backlog_full", true, WAIT)
        .await;
    let before = api.deliveries(&hook).await.len();
    let later = api.send(&recipients("4917014", 2, &[1])).await;
    api.wait_for_final_statuses(&later, WAIT).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let while_full = api.deliveries(&hook).await.len();

    // Act 2: the receiver recovers; re-enabling makes the pending deliveries due now.
    receiver.set_default(Reply::status(200));
    api.post(&format!("/api/hooks/{hook}/disable"), &[]).await;
    api.post(&format!("/api/hooks/{hook}/enable"), &[]).await;
    api.wait_for_hook_field(&hook, "backlog_full", false, WAIT)
        .await;
    api.wait_for_deliveries(&hook, WAIT, |all| {
        all.iter().all(|d| d["state"] == "delivered")
    })
    .await;
    let _ = receiver.drain();
    let resumed = api.send(&recipients("4917015", 1, &[1])).await;
    api.wait_for_final_statuses(&resumed, WAIT).await;
    let got = receiver.collect(3, WAIT).await;

    // Assert
    assert_eq!(full["enabled"], true, "{full}");
    assert!((4..=6).contains(&before), "the limit was reached: {before}");
    assert_eq!(
        while_full, before,
        "no delivery was created while the backlog was full"
    );
    assert!(
        got.iter()
            .all(|r| r.json()["data"]["msg_id"] == resumed[0].id.as_str()),
        "the resumed hook got the new message's statuses"
    );
}
