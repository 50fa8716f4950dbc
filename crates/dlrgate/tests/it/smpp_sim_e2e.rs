//! dlrgate sending through `dlrgate smsc-sim` end to end: HTTP send → SMPP `submit_sm` → receipt
//! `deliver_sm` → `/api/status`, the journal and the message's history.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use dlrgate::domain::receipt::IdFormat;
use dlrgate::smsc_sim::{self, SimConfig, SimHandle};
use serde_json::Value;

use crate::helpers::app::TestApp;
use crate::helpers::hooks::sequence;
use crate::helpers::smpp_route::spawn_with_smpp;

const WITHIN: Duration = Duration::from_secs(15);

async fn sim(change: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig {
        speed: 1000.0,
        ..SimConfig::default()
    };
    change(&mut config);
    smsc_sim::start(config).await.unwrap()
}

async fn events(app: &TestApp, id: &str) -> Vec<Value> {
    let body = app.get_json(&format!("/api/messages/{id}/events")).await;
    body["events"].as_array().unwrap().clone()
}

/// Polls until the message has a final status; returns it.
async fn final_status(app: &TestApp, id: &str) -> String {
    let deadline = std::time::Instant::now() + WITHIN;
    loop {
        let body = app.status_json(id).await;
        let status = body[0]["status"].as_str().unwrap_or_default().to_owned();
        let pending = ["", "ACCEPTED", "TRANSMITTED", "BUFFERED"].contains(&status.as_str());
        if !pending || std::time::Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_final(app: &TestApp, id: &str, expect: &str) {
    let body = app.wait_for_status(id, expect, WITHIN).await;
    assert_eq!(body[0]["status"], expect, "message {id}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_of_the_simulator_reaches_status_journal_and_history() {
    // Arrange: hex ids in responses, decimal in receipts, as smpp.md §4 warns.
    let sim = sim(|c| c.receipt_id_format = smsc_sim::ReceiptIdFormat::Decimal).await;
    let app = spawn_with_smpp(sim.local_addr(), |c| {
        c.submit_id_format = IdFormat::Hex;
        c.receipt_id_format = IdFormat::Decimal;
    })
    .await;
    let recipients: Vec<String> = (1..=9).map(|d| format!("4917100000{d}")).collect();

    // Act
    let mut ids = Vec::new();
    for to in &recipients {
        ids.push(app.send_one(to, "hello over SMPP").await);
    }

    // Assert
    for (id, to) in ids.iter().zip(&recipients) {
        let expect = *sequence(to).last().unwrap();
        wait_final(&app, id, expect).await;
        let history = events(&app, id).await;
        let reports: Vec<&Value> = history.iter().filter(|e| e["kind"] == "report").collect();
        assert_eq!(reports[0]["state"], "ACCEPTED", "{history:?}");
        assert!(
            reports.iter().all(|e| e["source"] == "smsc1"),
            "{history:?}"
        );
        let last = reports.last().unwrap();
        assert_eq!(last["state"], expect, "{history:?}");
        assert!(last["raw"].as_str().unwrap().contains("stat:"), "{last}");
    }
    let journal = app.get_json("/api/journal/outbound").await;
    assert_eq!(journal.as_array().unwrap().len(), 9, "{journal}");
    assert_eq!(sim.stats().submits_received, 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_text_goes_as_concatenated_parts_and_is_delivered_when_every_part_is() {
    // Arrange
    let sim = sim(|_| {}).await;
    let app = spawn_with_smpp(sim.local_addr(), |c| {
        c.submit_id_format = IdFormat::Hex;
        c.receipt_id_format = IdFormat::Hex;
    })
    .await;
    let text = "x".repeat(400); // 3 parts of at most 153 septets

    // Act
    let id = app.send_one("491710000001", &text).await;

    // Assert
    wait_final(&app, &id, "DELIVERED").await;
    let history = events(&app, &id).await;
    let delivered: Vec<_> = history
        .iter()
        .filter(|e| e["state"] == "DELIVERED")
        .collect();
    let parts: Vec<_> = delivered
        .iter()
        .map(|e| e["part"].as_u64().unwrap())
        .collect();
    assert_eq!(delivered.len(), 3, "{history:?}");
    assert!(
        parts.contains(&1) && parts.contains(&2) && parts.contains(&3),
        "{parts:?}"
    );
    assert_eq!(sim.stats().submits_received, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_before_their_response_and_duplicates_change_nothing_twice() {
    // Arrange
    let sim = sim(|c| {
        c.receipt_before_response = true;
        c.duplicates = 2;
    })
    .await;
    let app = spawn_with_smpp(sim.local_addr(), |c| {
        c.submit_id_format = IdFormat::Hex;
        c.receipt_id_format = IdFormat::Hex;
    })
    .await;

    // Act
    let delivered = app.send_one("491710000001", "early receipt").await;
    let undelivered = app.send_one("491710000007", "early receipt").await;

    // Assert
    wait_final(&app, &delivered, "DELIVERED").await;
    wait_final(&app, &undelivered, "NOTDELIVERED").await;
    let history = events(&app, &delivered).await;
    let effects: Vec<_> = history
        .iter()
        .filter(|e| e["state"] == "DELIVERED")
        .map(|e| e["effect"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        effects,
        ["applied", "duplicate", "duplicate"],
        "{history:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_without_a_status_and_permanent_errors_reject() {
    // Arrange
    let sim = sim(|c| {
        c.throttle_every = Some(2);
        c.reject_prefixes = vec!["4918".to_owned()];
    })
    .await;
    let app = spawn_with_smpp(sim.local_addr(), |_| {}).await;

    // Act
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(app.send_one(&format!("49171000010{n}1"), "throttled").await);
    }
    let rejected = app.send_one("491800000001", "nowhere").await;

    // Assert
    for id in &ids {
        wait_final(&app, id, "DELIVERED").await;
        let history = events(&app, id).await;
        let states: Vec<_> = history
            .iter()
            .filter(|e| e["kind"] == "report")
            .map(|e| e["state"].clone())
            .collect();
        assert_eq!(states.first().unwrap(), "ACCEPTED", "{history:?}");
        assert!(
            !states.iter().any(|s| s == "REJECTED" || s == "FAILED"),
            "{history:?}"
        );
    }
    assert!(
        sim.stats().submits_received > sim.stats().submits_accepted,
        "some were throttled"
    );
    wait_final(&app, &rejected, "REJECTED").await;
    let history = events(&app, &rejected).await;
    let rejection = history.iter().find(|e| e["state"] == "REJECTED").unwrap();
    assert_eq!(rejection["error_code"], "0x0000000B", "{history:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_reconnect_and_every_receipt_still_arrives() {
    // Arrange: the simulator drops every session at its 7th PDU.
    let sim = sim(|c| c.drop_after = Some(7)).await;
    let app = spawn_with_smpp(sim.local_addr(), |_| {}).await;

    // Act
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(
            app.send_one(&format!("4917100002{n:02}1"), "reconnect")
                .await,
        );
    }

    // Assert: a submit lost with the link is in doubt (UNKNOWN, shown FAILED), never sent twice;
    // every other message reaches DELIVERED.
    let mut delivered = 0;
    for id in &ids {
        let status = final_status(&app, id).await;
        match status.as_str() {
            "DELIVERED" => delivered += 1,
            _ => {
                let history = events(&app, id).await;
                assert!(
                    history.iter().any(|e| e["error_code"] == "in-doubt"),
                    "{id}: {status} {history:?}"
                );
            }
        }
    }
    assert!(delivered >= 6, "only {delivered} of 12 delivered");
    assert!(
        sim.stats().binds_accepted >= 2,
        "reconnected: {:?}",
        sim.stats()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_stays_down_fails_its_messages_after_the_deadline() {
    // Arrange: nothing listens there (a port taken and released at once).
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let app = spawn_with_smpp(addr, |c| c.fail_after = Duration::from_millis(300)).await;

    // Act
    let id = app.send_one("491710000001", "nobody home").await;

    // Assert
    wait_final(&app, &id, "FAILED").await;
    let history = events(&app, &id).await;
    assert!(
        history.iter().any(|e| e["error_code"] == "route-down"),
        "{history:?}"
    );
}
