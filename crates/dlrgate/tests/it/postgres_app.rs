//! The real application on PostgreSQL (`store.database_url`, a fresh database of the local
//! server per test): messages sent over HTTP reach their final status in `/api/status` and every
//! status reaches a webhook receiver, in order, also when the receiver fails for a while (so the
//! retries go through the store's claims, not only the fast path).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;

use crate::helpers::app::spawn_app_with;
use crate::helpers::hooks::{Api, assert_every_status_in_order, collect_all, event, recipients};
use crate::helpers::postgres::fresh_database;
use crate::helpers::receiver::{Reply, WebhookReceiver};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn an_sms_sent_to_an_app_on_postgres_is_delivered_in_status_and_webhook() {
    // Arrange
    let db = fresh_database().await;
    let mut app = spawn_app_with(|settings| settings.store.database_url = db.url.clone()).await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    api.subscribe(&receiver.url).await;

    // Act
    let id = app.send_one("491791234561", "hello from PostgreSQL").await;

    // Assert
    let status = app.wait_for_status(&id, "DELIVERED", 5 * SECOND).await;
    assert_eq!(status[0]["status"], "DELIVERED", "{status}");
    let received = receiver.collect(3, 5 * SECOND).await;
    let events: Vec<(String, String)> = received.iter().map(event).collect();
    let expected: Vec<(String, String)> = ["ACCEPTED", "TRANSMITTED", "DELIVERED"]
        .iter()
        .map(|s| (id.clone(), (*s).to_owned()))
        .collect();
    assert_eq!(events, expected);
    app.stop().await;
}

#[tokio::test]
async fn webhooks_from_an_app_on_postgres_survive_a_failing_receiver_in_order() {
    // Arrange: the receiver answers 500 three times before it recovers.
    let db = fresh_database().await;
    let mut app = spawn_app_with(|settings| settings.store.database_url = db.url.clone()).await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    receiver.push((0..3).map(|_| Reply::status(500)));
    let hook = api.subscribe(&receiver.url).await;

    // Act
    let sent = api.send(&recipients("1791", 3, &[1, 6, 8])).await;
    let received = collect_all(&mut receiver, &sent, 5 * SECOND).await;

    // Assert: 3 + 4 + 4 statuses, every one delivered once it got a 2xx, in order per message.
    let events: Vec<_> = received.iter().map(event).collect();
    assert_every_status_in_order(&events, &sent);
    let deliveries = api
        .wait_for_deliveries(&hook, 2 * SECOND, |ds| {
            ds.len() == 11 && ds.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    assert_eq!(deliveries.len(), 11, "{deliveries:#?}");
    let attempts = api.attempts(&hook).await;
    let failed = attempts.iter().filter(|a| a["http_status"] == 500).count();
    let succeeded: Vec<&Value> = attempts
        .iter()
        .filter(|a| a["http_status"] == 200)
        .collect();
    assert_eq!((failed, succeeded.len()), (3, 11), "{attempts:#?}");
    api.wait_for_final_statuses(&sent, 2 * SECOND).await;
    app.stop().await;
}
