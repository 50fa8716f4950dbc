//! dlrgate's SMPP connector against an independent SMSC (npm `smpp`, tests/smpp/smsc-peer.mjs):
//! every stat code and message_state, TLV-only and text-only receipts, `data_sm` receipts, hex
//! and decimal ids, receipts before their response, intermediate notifications, duplicates and
//! multipart aggregation.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use dlrgate::domain::receipt::IdFormat;
use serde_json::{Value, json};

use crate::helpers::app::TestApp;
use crate::helpers::smpp_route::spawn_with_smpp;
use crate::helpers::smsc_peer::{Receipt, SmscPeer, Submit};

pub const WITHIN: Duration = Duration::from_secs(15);

pub async fn history(app: &TestApp, id: &str) -> Vec<Value> {
    let body = app.get_json(&format!("/api/messages/{id}/events")).await;
    body["events"].as_array().unwrap().clone()
}

pub async fn expect_status(app: &TestApp, id: &str, expect: &str) {
    let body = app.wait_for_status(id, expect, WITHIN).await;
    assert_eq!(body[0]["status"], expect, "message {id}: {body}");
}

/// Sends one message per recipient and waits until the peer has them all; returns both.
pub async fn send_all(
    app: &TestApp,
    peer: &SmscPeer,
    recipients: &[&str],
    text: &str,
) -> (Vec<String>, Vec<Submit>) {
    let mut ids = Vec::new();
    for to in recipients {
        ids.push(app.send_one(to, text).await);
    }
    let submits = peer.wait_submits(recipients.len(), WITHIN).await;
    assert_eq!(submits.len(), recipients.len(), "{submits:?}");
    (ids, submits)
}

/// The peer's submit to `recipient`.
pub fn submit_to<'a>(submits: &'a [Submit], recipient: &str) -> &'a Submit {
    submits
        .iter()
        .find(|s| s.destination_addr == recipient)
        .unwrap()
}

/// A free-form error code, except for ENROUTE, where a non-zero `err` means BUFFERED (smpp.md §3).
fn err_for(stat: &str) -> &'static str {
    if stat == "ENROUTE" { "000" } else { "042" }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stat_code_and_message_state_becomes_its_public_status() {
    // Arrange: (stat, message_state, how it is sent, expected status).
    let cases: [(&str, u8, &str, &str); 13] = [
        ("DELIVRD", 2, "both", "DELIVERED"),
        ("UNDELIV", 5, "both", "NOTDELIVERED"),
        ("EXPIRED", 3, "both", "EXPIRED"),
        ("REJECTD", 8, "both", "REJECTED"),
        ("DELETED", 4, "both", "NOTDELIVERED"),
        ("UNKNOWN", 7, "both", "FAILED"),
        ("ACCEPTD", 6, "both", "ACCEPTED"),
        ("ENROUTE", 1, "both", "TRANSMITTED"),
        ("ENROUTE", 1, "text", "TRANSMITTED"),
        ("BUFFRED", 1, "text", "BUFFERED"),
        ("DELIVRD", 2, "tlvs", "DELIVERED"),
        ("undeliv", 5, "text", "NOTDELIVERED"),
        ("DELIVRD", 2, "data_sm", "DELIVERED"),
    ];
    let peer = SmscPeer::start().await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;
    let recipients: Vec<String> = (0..cases.len())
        .map(|n| format!("4917200000{n:02}"))
        .collect();
    let refs: Vec<&str> = recipients.iter().map(String::as_str).collect();
    let (ids, submits) = send_all(&app, &peer, &refs, "status please").await;

    // Act
    for ((stat, state, how, _), to) in cases.iter().zip(&recipients) {
        let id = submit_to(&submits, to).message_id.clone().unwrap();
        let mut receipt = Receipt::new(id).state(stat, *state).err(err_for(stat));
        receipt = match *how {
            "text" => receipt.text_only(),
            "tlvs" => receipt.tlvs_only(),
            "data_sm" => receipt.via_data_sm().tlvs_only(),
            _ => receipt,
        };
        peer.deliver(&receipt).await;
    }

    // Assert
    for ((stat, _, how, expect), id) in cases.iter().zip(&ids) {
        expect_status(&app, id, expect).await;
        let events = history(&app, id).await;
        let last = events.iter().rev().find(|e| e["kind"] == "report").unwrap();
        assert_eq!(last["source"], "smsc1", "{events:?}");
        if *how != "tlvs" && *how != "data_sm" {
            assert_eq!(last["error_code"], err_for(stat), "{stat}: {last}");
            assert!(
                last["raw"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("stat:{stat}")),
                "{last}"
            );
        }
    }
    let answered = peer.wait_delivered_answered(cases.len(), WITHIN).await;
    assert!(
        answered.iter().all(|d| d.command_status == Some(0)),
        "{answered:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_error_codes_are_kept_in_the_history() {
    // Arrange
    let peer = SmscPeer::start().await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;
    let (ids, submits) = send_all(&app, &peer, &["491720000001"], "nerr").await;

    // Act
    let id = submits[0].message_id.clone().unwrap();
    peer.deliver(
        &Receipt::new(id)
            .state("UNDELIV", 5)
            .err("001")
            .network_error(3, 0x1B),
    )
    .await;

    // Assert
    expect_status(&app, &ids[0], "NOTDELIVERED").await;
    let events = history(&app, &ids[0]).await;
    let last = events.iter().rev().find(|e| e["kind"] == "report").unwrap();
    assert_eq!(last["error_code"], "001");
    assert!(
        last["raw"]
            .as_str()
            .unwrap()
            .contains("network_error_code:3:001B"),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hex_ids_in_responses_match_decimal_ids_in_receipts() {
    // Arrange: the peer answers hex ids; its receipts write them in decimal.
    let peer = SmscPeer::start().await;
    peer.config(json!({"submit_id_format": "hex", "auto_receipt": {"id_format": "decimal"}}))
        .await;
    let app = spawn_with_smpp(peer.smpp_addr(), |c| {
        c.submit_id_format = IdFormat::Hex;
        c.receipt_id_format = IdFormat::Decimal;
    })
    .await;

    // Act
    let (ids, submits) = send_all(&app, &peer, &["491720000011", "491720000012"], "ids").await;

    // Assert
    for id in &ids {
        expect_status(&app, id, "DELIVERED").await;
    }
    let sent = peer.wait_delivered(2, WITHIN).await;
    let hex = submits[0].message_id.clone().unwrap();
    let decimal = u128::from_str_radix(&hex, 16).unwrap().to_string();
    assert!(sent.iter().any(|d| d.id == decimal), "{sent:?} vs {hex}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_before_their_response_are_parked_and_matched() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"receipt_before_response": true, "auto_receipt": {"stat": "UNDELIV", "message_state": 5, "err": "011"}})).await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;

    // Act
    let (ids, _) = send_all(
        &app,
        &peer,
        &["491720000021", "491720000022", "491720000023"],
        "early",
    )
    .await;

    // Assert
    for id in &ids {
        expect_status(&app, id, "NOTDELIVERED").await;
        let events = history(&app, id).await;
        let states: Vec<_> = events
            .iter()
            .filter(|e| e["kind"] == "report")
            .map(|e| e["state"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(states, ["ACCEPTED", "NOTDELIVERED"], "{events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intermediate_notifications_show_as_transmitted_before_the_final_status() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"intermediate": true, "auto_receipt": {"delay_ms": 50}}))
        .await;
    let app = spawn_with_smpp(peer.smpp_addr(), |c| c.intermediate_receipts = true).await;

    // Act
    let (ids, submits) = send_all(&app, &peer, &["491720000031"], "step by step").await;

    // Assert
    assert_eq!(submits[0].registered_delivery, 0x11);
    expect_status(&app, &ids[0], "DELIVERED").await;
    let events = history(&app, &ids[0]).await;
    let states: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "report")
        .map(|e| e["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        states,
        ["ACCEPTED", "TRANSMITTED", "DELIVERED"],
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_receipts_are_acknowledged_and_change_nothing() {
    // Arrange
    let peer = SmscPeer::start().await;
    peer.config(json!({"duplicates": 2, "auto_receipt": {}}))
        .await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;

    // Act
    let (ids, _) = send_all(&app, &peer, &["491720000041"], "twice").await;

    // Assert
    expect_status(&app, &ids[0], "DELIVERED").await;
    let answered = peer.wait_delivered_answered(3, WITHIN).await;
    assert_eq!(answered.len(), 3);
    assert!(
        answered.iter().all(|d| d.command_status == Some(0)),
        "{answered:?}"
    );
    let events = history(&app, &ids[0]).await;
    let effects: Vec<_> = events
        .iter()
        .filter(|e| e["state"] == "DELIVERED")
        .map(|e| e["effect"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(effects, ["applied", "duplicate", "duplicate"], "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multipart_message_is_delivered_when_its_last_part_is() {
    // Arrange
    let peer = SmscPeer::start().await;
    let app = spawn_with_smpp(peer.smpp_addr(), |_| {}).await;
    let text = "Ünïcødé ✓ ".repeat(14); // UCS-2, 140 characters: 3 parts of at most 67

    // Act
    let id = app.send_one("491720000051", &text).await;
    let submits = peer.wait_submits(3, WITHIN).await;
    for part in &submits[..2] {
        peer.deliver(&Receipt::new(part.message_id.clone().unwrap()))
            .await;
    }
    peer.wait_delivered_answered(2, WITHIN).await;
    let after_two = app.status_json(&id).await;
    peer.deliver(&Receipt::new(submits[2].message_id.clone().unwrap()))
        .await;

    // Assert
    assert_eq!(submits.len(), 3);
    assert!(
        submits
            .iter()
            .all(|s| s.data_coding == 8 && s.esm_class & 0x40 != 0),
        "{submits:?}"
    );
    let joined: String = submits.iter().map(|s| s.text.clone()).collect();
    assert_eq!(joined, text);
    assert_eq!(after_two[0]["status"], "ACCEPTED", "{after_two}");
    expect_status(&app, &id, "DELIVERED").await;
}
