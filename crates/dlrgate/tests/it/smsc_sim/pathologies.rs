//! The simulator's pathologies against the npm `smpp` ESME: throttling, rejected prefixes,
//! re-sends after a negative `deliver_sm_resp`, duplicates and dropped connections.

use std::time::Duration;

use dlrgate::smsc_sim::SimConfig;
use serde_json::{Value, json};

use super::{done, esme, events, sim, submit, submit_ids, wait_for_stats};

#[tokio::test]
async fn every_nth_submit_is_throttled_without_an_id_or_receipt() {
    let sim = sim(SimConfig {
        throttle_every: Some(2),
        ..SimConfig::default()
    })
    .await;
    let submits: Vec<Value> = (1..=4).map(|n| submit(&format!("491700{n}"), 1)).collect();

    let lines = esme(&sim, json!({"submits": submits, "expect_receipts": 2})).await;

    let statuses: Vec<(u64, u64)> = events(&lines, "submit_sm_resp")
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().expect("index"),
                r["command_status"].as_u64().expect("status"),
            )
        })
        .collect();
    let mut statuses = statuses;
    statuses.sort();
    assert_eq!(statuses, [(0, 0), (1, 0x58), (2, 0), (3, 0x58)]);
    assert_eq!(sim.stats().submits_received, 4);
    assert_eq!(sim.stats().submits_accepted, 2);
    assert_eq!(events(&lines, "deliver_sm").len(), 2);
}

#[tokio::test]
async fn destinations_with_a_rejected_prefix_get_an_invalid_destination_answer() {
    let sim = sim(SimConfig {
        reject_prefixes: vec!["999".into()],
        ..SimConfig::default()
    })
    .await;

    let lines = esme(
        &sim,
        json!({"submits": [submit("999123", 1), submit("4917001", 1)], "expect_receipts": 1}),
    )
    .await;

    let resps = events(&lines, "submit_sm_resp");
    let rejected = resps
        .iter()
        .find(|r| r["index"] == 0)
        .expect("answer to submit 0");
    assert_eq!(rejected["command_status"], 0x0B);
    assert_eq!(events(&lines, "deliver_sm").len(), 1);
}

#[tokio::test]
async fn a_receipt_answered_with_an_error_is_sent_again_and_duplicates_on_request() {
    let sim = sim(SimConfig {
        receipt_retry_delay: Duration::from_millis(20),
        duplicates: 1,
        ..SimConfig::default()
    })
    .await;

    let lines = esme(
        &sim,
        json!({"submits": [submit("4917001", 1)], "nack_first": 1, "expect_receipts": 2}),
    )
    .await;

    assert_eq!(done(&lines), "complete", "{lines:#?}");
    let id = submit_ids(&lines)[&0].clone();
    let copies = events(&lines, "deliver_sm")
        .iter()
        .filter(|r| r["receipted_message_id"] == id.as_str())
        .count();
    assert_eq!(copies, 3, "one duplicate plus one re-send: {lines:#?}");
    wait_for_stats(&sim, "the re-send counted", |s| {
        s.receipts_resent == 1 && s.receipts_acknowledged == 2
    })
    .await;
}

#[tokio::test]
async fn the_connection_is_dropped_unanswered_at_the_configured_pdu() {
    let sim = sim(SimConfig {
        drop_after: Some(3),
        ..SimConfig::default()
    })
    .await;

    let lines = esme(
        &sim,
        json!({"submits": [submit("4917001", 0), submit("4917002", 0)]}),
    )
    .await;

    assert_eq!(done(&lines), "closed", "{lines:#?}");
    assert_eq!(events(&lines, "submit_sm_resp").len(), 1);
}
