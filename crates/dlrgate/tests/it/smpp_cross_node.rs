//! SMPP receipts across dlrgate nodes (`helpers::cluster`: two `dlrgate serve` processes on one
//! PostgreSQL database, bound to one independent SMSC, npm `smpp`, tests/smpp/smsc-peer.mjs).
//! The SMSC answers a `submit_sm` on one node's bind and sends its receipt on the other node's
//! bind (`receipt_session: "other"`). The receipt must still match its message, because the
//! correlation (SMSC message id → message part) and the receipts parked before their submit
//! response live in the database, not in the memory of the node that submitted.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::cluster::{Cluster, WITHIN, receipts_per_node, wait_for_status};
use crate::helpers::hooks::{Sent, event};
use crate::helpers::receiver::WebhookReceiver;
use crate::helpers::smsc_peer::{Delivered, Submit};

/// Asserts that the SMSC sent one receipt per submit, each with the id it answered, all on
/// `session`, and each acknowledged with status 0.
fn assert_receipts_on(delivered: &[Delivered], submits: &[Submit], session: u64) {
    let sent_ids: BTreeSet<&str> = delivered.iter().map(|d| d.id.as_str()).collect();
    let answered_ids: BTreeSet<&str> = submits
        .iter()
        .map(|s| s.message_id.as_deref().unwrap())
        .collect();
    assert_eq!(sent_ids, answered_ids, "{delivered:#?}");
    assert_eq!(delivered.len(), submits.len(), "{delivered:#?}");
    assert!(
        delivered
            .iter()
            .all(|d| d.session == session && d.command_status == Some(0) && d.stat == "DELIVRD"),
        "{delivered:#?}"
    );
}

/// Asserts that exactly the webhooks ACCEPTED and DELIVERED of every message arrived, once each.
async fn assert_webhooks(receiver: &mut WebhookReceiver, sent: &[Sent]) {
    let received = receiver.collect(2 * sent.len(), WITHIN).await;
    let got: BTreeSet<(String, String)> = received.iter().map(event).collect();
    let expected: BTreeSet<(String, String)> = sent
        .iter()
        .flat_map(|m| ["ACCEPTED", "DELIVERED"].map(|s| (m.id.clone(), s.to_owned())))
        .collect();
    assert_eq!(
        got,
        expected,
        "{:?}",
        received.iter().map(event).collect::<Vec<_>>()
    );
}

/// A message sent through node `sender` and submitted on its bind gets its receipt on the other
/// node's bind, and is DELIVERED on both nodes with its webhooks.
async fn receipts_on_the_other_nodes_bind_match(sender: usize, prefix: &str) {
    // Arrange: receipts are held until the submitting node has stored the SMSC's ids, so the
    // other node matches them at once (none is parked).
    let cluster = Cluster::start(json!({"auto_receipt": {}, "hold_receipts": true})).await;
    let mut receiver = WebhookReceiver::start().await;
    cluster.nodes[0].api.subscribe(&receiver.url).await;
    let other = 1 - sender;
    let sent = cluster.send_through(sender, 3, prefix).await;
    for message in &sent {
        let status = wait_for_status(&cluster.nodes[sender].api, &message.id, "ACCEPTED").await;
        assert_eq!(status[0]["status"], "ACCEPTED", "{status}");
    }

    // Act
    let released = cluster.peer.release().await;

    // Assert
    cluster.assert_delivered_on_both_nodes(&sent).await;
    let submits = cluster.peer.submits().await;
    let delivered = cluster.peer.wait_delivered_answered(3, WITHIN).await;
    assert_receipts_on(&delivered, &submits, cluster.nodes[other].session);
    let sessions: Vec<Option<u64>> = released.iter().map(|r| r.session).collect();
    assert_eq!(sessions, vec![Some(cluster.nodes[other].session); 3]);
    assert_webhooks(&mut receiver, &sent).await;
    let mut expected = vec![(0, 0); 2];
    expected[other] = (3, 0);
    assert_eq!(
        receipts_per_node(&cluster).await,
        expected,
        "(matched, parked)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_on_node_b_matches_a_message_submitted_by_node_a() {
    receipts_on_the_other_nodes_bind_match(0, "17710").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_on_node_a_matches_a_message_submitted_by_node_b() {
    receipts_on_the_other_nodes_bind_match(1, "17720").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_parked_by_node_b_before_node_a_stored_the_id_is_matched() {
    // Arrange: the SMSC sends each receipt on B's bind first and answers the submit_sm on A's
    // bind only once B has acknowledged the receipt (so it is stored: parked), 300 ms later.
    let cluster = Cluster::start(json!({
        "auto_receipt": {},
        "receipt_before_response": true,
        "response_after_receipts": true,
        "response_delay_ms": 300,
    }))
    .await;
    let mut receiver = WebhookReceiver::start().await;
    cluster.nodes[0].api.subscribe(&receiver.url).await;

    // Act
    let sent = cluster.send_through(0, 3, "17730").await;

    // Assert
    cluster.assert_delivered_on_both_nodes(&sent).await;
    let submits = cluster.peer.submits().await;
    let delivered = cluster.peer.wait_delivered_answered(3, WITHIN).await;
    assert_receipts_on(&delivered, &submits, cluster.nodes[1].session);
    for receipt in &delivered {
        let submit = submits
            .iter()
            .find(|s| s.message_id.as_deref() == Some(receipt.id.as_str()))
            .unwrap();
        let responded = submit.response_sent_at.as_deref().unwrap();
        assert!(
            receipt.answered_at.as_deref().unwrap() <= responded,
            "the receipt was answered before the response: {receipt:#?} {submit:#?}"
        );
    }
    assert_webhooks(&mut receiver, &sent).await;
    assert_eq!(
        receipts_per_node(&cluster).await,
        [(0, 0), (0, 3)],
        "(matched, parked)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_match_while_both_nodes_submit_and_receive_at_once() {
    // Arrange: nobody is paused, so either node may claim any message, and a receipt may reach
    // the other node before or after the submitting node stored its id.
    let cluster = Cluster::start(json!({"auto_receipt": {}})).await;
    let mut receiver = WebhookReceiver::start().await;
    cluster.nodes[0].api.subscribe(&receiver.url).await;

    // Act: 4 requests of 5 messages, through node A and node B in turn.
    let mut sent = Vec::new();
    for round in 0..4 {
        let recipients: Vec<String> = (0..5).map(|n| format!("4917740{round}{n:04}")).collect();
        sent.extend(cluster.nodes[round % 2].api.send(&recipients).await);
    }

    // Assert: every receipt went to the bind that did not submit, and each node counted exactly
    // the receipts that reached its bind (matched at once, or parked and matched later).
    cluster.assert_delivered_on_both_nodes(&sent).await;
    let submits = cluster.peer.submits().await;
    let delivered = cluster
        .peer
        .wait_delivered_answered(sent.len(), WITHIN)
        .await;
    assert_eq!((submits.len(), delivered.len()), (20, 20));
    for receipt in &delivered {
        let submit = submits
            .iter()
            .find(|s| s.message_id.as_deref() == Some(receipt.id.as_str()))
            .unwrap();
        assert_ne!(receipt.session, submit.session, "{receipt:#?} {submit:#?}");
        assert_eq!(receipt.command_status, Some(0), "{receipt:#?}");
    }
    assert_webhooks(&mut receiver, &sent).await;
    let counted: Vec<u64> = receipts_per_node(&cluster)
        .await
        .iter()
        .map(|(matched, parked)| matched + parked)
        .collect();
    let reached: Vec<u64> = cluster
        .nodes
        .iter()
        .map(|node| {
            delivered
                .iter()
                .filter(|d| d.session == node.session)
                .count() as u64
        })
        .collect();
    assert_eq!(counted, reached, "receipts counted per node");
}
