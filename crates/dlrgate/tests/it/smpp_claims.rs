//! What happens to messages an SMPP connector is in the middle of sending, against the npm SMSC
//! peer: a message claimed by a process that died is in doubt (never sent twice), a stop while a
//! message is only throttled puts it back in the queue, and a rejected first part stops the
//! other parts of a long message.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use dlrgate::config::{ConnectorSettings, Settings};
use dlrgate::store::{NewMessage, SqliteStore, Store, SubmitBatch};
use serde_json::json;

use crate::helpers::app::{TestApp, spawn_in};
use crate::helpers::smpp_route::{smpp_settings, spawn_with_smpp};
use crate::helpers::smsc_peer::SmscPeer;
use crate::smpp_peer_receipts::{expect_status, history};

fn smpp_route(addr: SocketAddr) -> impl FnOnce(&mut Settings) {
    move |settings| {
        settings
            .connectors
            .push(ConnectorSettings::Smpp(smpp_settings("smsc1", addr)));
        settings.routing.default = "smsc1".to_owned();
    }
}

/// Restarts dlrgate on `dir` with an SMPP route to `addr`, using `api_key` of the first start.
async fn restart(dir: &Path, addr: SocketAddr, api_key: &str) -> TestApp {
    let mut app = spawn_in(dir.to_path_buf(), smpp_route(addr)).await;
    app.api_key = api_key.to_owned();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_claimed_when_the_process_died_is_in_doubt_and_not_sent_again() {
    // Arrange: a first start creates the account; then, as a process that died mid-send would
    // leave it, one message of smsc1 is claimed and never settled.
    let peer = SmscPeer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut first = spawn_in(dir.path().to_path_buf(), |_| {}).await;
    let api_key = first.api_key.clone();
    first.stop().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let store = SqliteStore::open(dir.path(), true).await.unwrap();
    let account = store.account_by_name("default").await.unwrap();
    let message = NewMessage {
        recipient: "491750000001".into(),
        sender: "dlrgate".into(),
        text: "half sent".into(),
        encoding: "gsm".into(),
        parts: 1,
        price_micros: 0,
        label: None,
        foreign_id: None,
        udh: None,
        flash: false,
        ttl_minutes: None,
        send_at: now,
        connector: "smsc1".into(),
    };
    let batch = SubmitBatch {
        account_id: account.id,
        created_at: now,
        messages: vec![message],
    };
    store.submit(vec![batch]).await.unwrap();
    let claimed = store.claim_due("smsc1", now, 10).await.unwrap();
    store.close().await;

    // Act
    let app = restart(dir.path(), peer.smpp_addr(), &api_key).await;

    // Assert: UNKNOWN, shown as a provisional FAILED, with the reason; the SMSC saw nothing.
    let id = claimed[0].id.to_string();
    expect_status(&app, &id, "FAILED").await;
    let events = history(&app, &id).await;
    assert!(
        events.iter().any(|e| e["error_code"] == "in-doubt"),
        "{events:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(peer.submits().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_a_message_is_only_throttled_puts_it_back_in_the_queue() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"throttle_next": 100000})).await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_in(dir.path().to_path_buf(), smpp_route(peer.smpp_addr())).await;
    let api_key = app.api_key.clone();
    let id = app.send_one("491750000011", "throttled").await;
    peer.wait_submits(2, Duration::from_secs(10)).await;

    // Act
    app.stop().await;
    peer.config(json!({"throttle_next": 0, "auto_receipt": {}}))
        .await;
    let app = restart(dir.path(), peer.smpp_addr(), &api_key).await;

    // Assert
    expect_status(&app, &id, "DELIVERED").await;
    let events = history(&app, &id).await;
    assert!(!events.iter().any(|e| e["state"] == "FAILED"), "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_first_part_stops_the_other_parts() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"error_next": {"count": 1, "status": 0x0B}}))
        .await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;

    // Act
    let id = app.send_one("491750000021", &"y".repeat(300)).await;

    // Assert
    expect_status(&app, &id, "REJECTED").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(peer.submits().await.len(), 1, "parts 2 and 3 were not sent");
    let events = history(&app, &id).await;
    assert!(
        events
            .iter()
            .any(|e| e["part"] == 2 && e["error_code"] == "previous-part-failed"),
        "{events:?}"
    );
}
