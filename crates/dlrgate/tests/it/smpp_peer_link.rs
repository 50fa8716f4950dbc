//! dlrgate's SMPP connector against an independent SMSC (npm `smpp`): throttling and error
//! answers, the SMSC dropping the connection with receipts arriving after the reconnect, an
//! unanswered submit (in doubt), and transmitter/receiver pairs where one bind only receives.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use dlrgate::operators::settings::BindKind;
use serde_json::json;

use crate::helpers::smpp_route::spawn_with_smpp;
use crate::helpers::smsc_peer::{Receipt, SmscPeer};
use crate::smpp_peer_receipts::{WITHIN, expect_status, history, send_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_submits_are_sent_again_without_a_status_change() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"throttle_next": 3, "auto_receipt": {}}))
        .await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;

    // Act
    let id = app.send_one("491730000001", "slow down").await;

    // Assert
    expect_status(&app, &id, "DELIVERED").await;
    let submits = peer.submits().await;
    let statuses: Vec<_> = submits.iter().map(|s| s.command_status).collect();
    assert_eq!(
        statuses,
        [Some(0x58), Some(0x58), Some(0x58), Some(0)],
        "{submits:?}"
    );
    let events = history(&app, &id).await;
    let states: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "report")
        .map(|e| e["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["ACCEPTED", "DELIVERED"], "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_submit_error_rejects_the_message_with_its_code() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"error_next": {"count": 1, "status": 0x0B}}))
        .await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;

    // Act
    let id = app.send_one("491730000002", "no such number").await;

    // Assert
    expect_status(&app, &id, "REJECTED").await;
    let events = history(&app, &id).await;
    let rejected = events.iter().find(|e| e["state"] == "REJECTED").unwrap();
    assert_eq!(rejected["error_code"], "0x0000000B", "{events:?}");
    assert_eq!(
        peer.submits().await.len(),
        1,
        "a rejected message is not sent again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_sent_after_the_smsc_dropped_the_link_still_match() {
    // Arrange
    let peer = SmscPeer::start().await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;
    let (ids, submits) = send_all(
        &app,
        &peer,
        &["491730000011", "491730000012"],
        "before the drop",
    )
    .await;
    for id in &ids {
        expect_status(&app, id, "ACCEPTED").await;
    }

    // Act: the SMSC drops every connection; its receipts wait for the next bind.
    peer.drop_connections().await;
    for submit in &submits {
        peer.deliver(&Receipt::new(submit.message_id.clone().unwrap()))
            .await;
    }

    // Assert
    for id in &ids {
        expect_status(&app, id, "DELIVERED").await;
    }
    let binds = peer.binds().await;
    assert!(binds.len() >= 2, "dlrgate bound again: {binds:?}");
    let later = app.send_one("491730000013", "after the drop").await;
    let submits = peer.wait_submits(3, WITHIN).await;
    peer.deliver(&Receipt::new(submits[2].message_id.clone().unwrap()))
        .await;
    expect_status(&app, &later, "DELIVERED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_submit_is_in_doubt_and_never_sent_twice() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"no_response_next": 1})).await;
    let app = spawn_with_smpp(peer.smpp_addr(), |c| {
        c.response_timeout = Duration::from_millis(300)
    })
    .await;

    // Act
    let id = app.send_one("491730000021", "lost answer").await;

    // Assert: UNKNOWN is shown as a provisional FAILED; the logbook says why.
    expect_status(&app, &id, "FAILED").await;
    let events = history(&app, &id).await;
    assert!(
        events.iter().any(|e| e["error_code"] == "in-doubt"),
        "{events:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(peer.submits().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_transmitter_and_receiver_pair_receipts_come_on_the_bind_that_only_receives() {
    // Arrange
    let peer = SmscPeer::start().await;
    let app = spawn_with_smpp(peer.smpp_addr(), |c| c.bind = BindKind::Pair).await;

    // Act
    let (ids, submits) = send_all(&app, &peer, &["491730000031"], "pair").await;
    let outcome = peer
        .deliver(&Receipt::new(submits[0].message_id.clone().unwrap()))
        .await;

    // Assert
    expect_status(&app, &ids[0], "DELIVERED").await;
    let binds = peer.binds().await;
    let transmitter = binds
        .iter()
        .find(|b| b.session == submits[0].session)
        .unwrap();
    assert_eq!(
        transmitter.command.as_deref(),
        Some("bind_transmitter"),
        "{binds:?}"
    );
    let receiver = binds
        .iter()
        .find(|b| Some(b.session) == outcome.session)
        .unwrap();
    assert_eq!(
        receiver.command.as_deref(),
        Some("bind_receiver"),
        "{binds:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_binds_share_the_traffic_under_the_connector_rate_limit() {
    // Arrange: two transceiver binds, at most 40 submit_sm per second over both.
    let peer = SmscPeer::start().await;
    peer.config(json!({"auto_receipt": {}})).await;
    let app = spawn_with_smpp(peer.smpp_addr(), |c| {
        c.binds = 2;
        c.rate_limit = 40;
    })
    .await;
    peer.wait_bound(2, WITHIN).await;

    // Act
    let recipients: Vec<String> = (0..12).map(|n| format!("4917300001{n:02}")).collect();
    let refs: Vec<&str> = recipients.iter().map(String::as_str).collect();
    let (ids, submits) = send_all(&app, &peer, &refs, "shared").await;

    // Assert: both binds carried traffic, and 12 submits took at least 11 intervals of 25 ms.
    for id in &ids {
        expect_status(&app, id, "DELIVERED").await;
    }
    let sessions: std::collections::HashSet<u64> = submits.iter().map(|s| s.session).collect();
    assert_eq!(sessions.len(), 2, "{submits:?}");
    let times: Vec<i128> = submits
        .iter()
        .map(|s| {
            let at = time::OffsetDateTime::parse(
                &s.received_at,
                &time::format_description::well_known::Rfc3339,
            );
            at.unwrap().unix_timestamp_nanos() / 1_000_000
        })
        .collect();
    let spread = times.iter().max().unwrap() - times.iter().min().unwrap();
    assert!(
        spread >= 11 * 25 * 8 / 10,
        "12 submits within {spread} ms at 40/s"
    );
}
