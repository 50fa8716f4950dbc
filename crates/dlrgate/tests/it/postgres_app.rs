//! The real application on PostgreSQL (`store.database_url`, a fresh database of the local
//! server per test): messages sent over HTTP reach their final status in `/api/status` and every
//! status reaches a webhook receiver, in order, also when the receiver fails for a while (so the
//! retries go through the store's claims, not only the fast path).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;

use dlrgate::app::{Application, bootstrap_default};
use dlrgate::store::Store;

use crate::helpers::app::{spawn_app_with, test_settings};
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

#[tokio::test]
async fn nodes_starting_at_once_on_an_empty_database_create_one_default_account() {
    // Arrange: four nodes of one fresh, migrated database (so that none waits for another's
    // migrations), built at the same moment: they all find no account and race to create it.
    let db = fresh_database().await;
    let store = dlrgate::store::PgStore::open(&db.url, Default::default())
        .await
        .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let builds = (0..4).map(|_| {
        let mut settings = test_settings(temp.path());
        settings.store.database_url = db.url.clone();
        Application::build(settings)
    });

    // Act
    let apps = futures_util::future::join_all(builds).await;

    // Assert: every node starts; one of them created the account and shows its key.
    let apps: Vec<Application> = apps.into_iter().map(Result::unwrap).collect();
    let created: Vec<_> = apps
        .iter()
        .filter_map(|app| app.bootstrap.as_ref())
        .collect();
    assert_eq!(
        created.len(),
        1,
        "exactly one node creates the default account"
    );
    assert_eq!(store.count_accounts().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_bootstraps_of_one_empty_database_create_the_default_account_once() {
    // Arrange: eight starts of one migrated, empty database, counting accounts at once.
    let db = fresh_database().await;
    let settings = dlrgate::store::PgPoolSettings {
        max_connections: 8,
        ..Default::default()
    };
    let store = dlrgate::store::PgStore::open(&db.url, settings)
        .await
        .unwrap();
    // Eight open connections, so that no start waits for one while the others go ahead.
    let pings = futures_util::future::join_all((0..8).map(|_| store.ping())).await;
    assert!(pings.iter().all(Result::is_ok));

    // Act
    let starts = (0..8).map(|_| bootstrap_default(&store));
    let results = futures_util::future::join_all(starts).await;

    // Assert: none fails; one created the account.
    let created = results.into_iter().filter_map(Result::unwrap).count();
    assert_eq!(created, 1);
    assert_eq!(store.count_accounts().await.unwrap(), 1);
}
