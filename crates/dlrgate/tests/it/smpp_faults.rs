//! Operator faults on the SMPP route: an SMSC that floods duplicate receipts, one that answers a
//! submit with bytes that are not SMPP, and one that throttles every submit. dlrgate acknowledges every receipt once it is
//! stored, applies each status once, keeps answering the API, never sends a message twice, and
//! leaves each affected message in its documented state.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dlrgate::smsc_sim::{self, SimConfig};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use smpp::{BindResp, COctetString, Frame, Pdu, SmppCodec, Tlvs};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_util::codec::Framed;

use dlrgate::config::ConnectorSettings;
use dlrgate::operators::settings::RuleSettings;

use crate::helpers::app::{TestApp, spawn_app_with};
use crate::helpers::hooks::{Api, recipients, sequence};
use crate::helpers::receiver::WebhookReceiver;
use crate::helpers::smpp_route::{smpp_settings, spawn_with_smpp};

const WITHIN: Duration = Duration::from_secs(30);

async fn events(app: &TestApp, id: &str) -> Vec<Value> {
    let body = app.get_json(&format!("/api/messages/{id}/events")).await;
    body["events"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_duplicate_receipts_is_acknowledged_and_changes_each_status_once() {
    // Arrange: every receipt comes 1 + 20 times, up to 500 unanswered at once.
    let sim = smsc_sim::start(SimConfig {
        speed: 1000.0,
        duplicates: 20,
        receipt_window: 500,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let app = spawn_with_smpp(sim.local_addr(), |_| {}).await;
    let recipients: Vec<String> = (0..100)
        .map(|n| format!("4917120{n:04}{}", n % 10))
        .collect();

    // Act: send, and ask for statuses while the flood arrives.
    let mut ids = Vec::new();
    for to in &recipients {
        ids.push(app.send_one(to, "flood").await);
    }
    let during = app
        .get_json(&format!("/api/status?msg_id={}", ids[0]))
        .await;

    // Assert
    assert_eq!(during[0]["id"], ids[0].as_str(), "{during}");
    for (id, to) in ids.iter().zip(&recipients) {
        let expect = *sequence(to).last().unwrap();
        let body = app.wait_for_status(id, expect, WITHIN).await;
        assert_eq!(body[0]["status"], expect, "message {id}: {body}");
    }
    for (id, to) in ids.iter().zip(&recipients) {
        let history = events(&app, id).await;
        let applied: Vec<&str> = history
            .iter()
            .filter(|e| e["kind"] == "report" && e["effect"] == "applied")
            .map(|e| e["state"].as_str().unwrap())
            .collect();
        let mut once = applied.clone();
        once.dedup();
        assert_eq!(once, applied, "{id}: a status applied twice: {history:?}");
        // The simulator reports its FAILED outcome as stat:UNKNOWN, shown FAILED.
        let last = applied
            .last()
            .map(|s| if *s == "UNKNOWN" { "FAILED" } else { s });
        assert_eq!(last, sequence(to).last().copied(), "{id}: {history:?}");
        let duplicates = history
            .iter()
            .filter(|e| e["effect"] == "duplicate")
            .count();
        assert!(
            duplicates >= 20,
            "{id}: {duplicates} duplicates kept: {history:?}"
        );
    }
    let deadline = std::time::Instant::now() + WITHIN;
    while sim.stats().receipts_acknowledged < sim.stats().receipts_sent {
        assert!(std::time::Instant::now() < deadline, "{:?}", sim.stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stats = sim.stats();
    assert!(stats.receipts_sent >= 21 * 100, "{stats:?}");
    assert_eq!(stats.submits_received, 100, "{stats:?}");
}

/// An SMSC that binds anyone, answers `enquire_link`, and answers every `submit_sm` with a
/// frame whose length field is impossible. Counts connections and submits.
async fn garbage_smsc() -> (std::net::SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (connections, submits) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c, s) = (connections.clone(), submits.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let submits = s.clone();
            tokio::spawn(async move {
                let mut framed = Framed::new(stream, SmppCodec);
                while let Some(Ok(Frame::Pdu(pdu))) = framed.next().await {
                    let answer = match pdu {
                        Pdu::BindTransceiver {
                            sequence_number, ..
                        } => Pdu::BindTransceiverResp {
                            sequence_number,
                            command_status: 0,
                            body: BindResp {
                                system_id: COctetString::new("garbage"),
                                tlvs: Tlvs::default(),
                            },
                        },
                        Pdu::EnquireLink { sequence_number } => Pdu::EnquireLinkResp {
                            sequence_number,
                            command_status: 0,
                        },
                        Pdu::SubmitSm { .. } => {
                            submits.fetch_add(1, Ordering::SeqCst);
                            let garbage = [0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef];
                            let _ = framed.get_mut().write_all(&garbage).await;
                            continue;
                        }
                        _ => continue,
                    };
                    if framed.send(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, connections, submits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smsc_answering_garbage_loses_its_link_and_the_message_is_in_doubt_not_sent_twice() {
    // Arrange
    let (addr, connections, submits) = garbage_smsc().await;
    let app = spawn_with_smpp(addr, |_| {}).await;

    // Act
    let ids = [
        app.send_one("491713000001", "garbage 1").await,
        app.send_one("491713000002", "garbage 2").await,
    ];

    // Assert: each submit was answered with garbage, so it is in doubt (FAILED, provisionally)
    // and was written once; dlrgate dropped the link and bound again; the API kept answering.
    for id in &ids {
        let body = app.wait_for_status(id, "FAILED", WITHIN).await;
        assert_eq!(body[0]["status"], "FAILED", "message {id}: {body}");
        let history = events(&app, id).await;
        assert!(
            history.iter().any(|e| e["state"] == "UNKNOWN"),
            "{id}: {history:?}"
        );
    }
    assert_eq!(
        submits.load(Ordering::SeqCst),
        2,
        "no message is sent twice"
    );
    assert!(
        connections.load(Ordering::SeqCst) >= 2,
        "dlrgate bound again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smsc_that_throttles_everything_holds_its_messages_until_the_deadline_while_other_routes_flow()
 {
    // Arrange: the SMSC throttles every submit; 4915… goes to it, everything else to the
    // sandbox; a hook receives every status report.
    let sim = smsc_sim::start(SimConfig {
        throttle_every: Some(1),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut connector = smpp_settings("smsc1", sim.local_addr());
    connector.fail_after = Duration::from_secs(3);
    let app = spawn_app_with(|s| {
        s.connectors.push(ConnectorSettings::Smpp(connector));
        s.routing.rules.push(RuleSettings {
            connector: "smsc1".to_owned(),
            accounts: vec![],
            prefixes: vec!["4915".to_owned()],
        });
    })
    .await;
    let api = Api::of(&app);
    let mut receiver = WebhookReceiver::start().await;
    api.subscribe(&receiver.url).await;

    // Act
    let held = api.send(&recipients("15110", 3, &[1])).await;
    let flowing = api.send(&recipients("17110", 20, &[1])).await;
    api.wait_for_final_statuses(&flowing, WITHIN).await;
    let webhooks = receiver.collect(flowing.len() * 3, WITHIN).await;
    let while_throttled = app.status_json(&held[0].id).await;
    let mut finals = Vec::new();
    for message in &held {
        finals.push(app.wait_for_status(&message.id, "FAILED", WITHIN).await);
    }

    // Assert: the sandbox route and its webhooks were not held up; the throttled messages had no
    // status until their deadline, then FAILED with the documented reason, never accepted.
    let flowing_ids: Vec<&str> = flowing.iter().map(|m| m.id.as_str()).collect();
    assert!(
        webhooks
            .iter()
            .all(|w| flowing_ids.contains(&w.json()["data"]["msg_id"].as_str().unwrap()))
    );
    assert!(while_throttled[0]["status"].is_null(), "{while_throttled}");
    for (message, status) in held.iter().zip(&finals) {
        assert_eq!(status[0]["status"], "FAILED", "{status}");
        let history = events(&app, &message.id).await;
        assert!(
            history.iter().any(|e| e["error_code"] == "route-down"),
            "{history:?}"
        );
    }
    let stats = sim.stats();
    assert_eq!(stats.submits_accepted, 0);
    assert!(
        stats.submits_received > 3,
        "throttled submits were retried: {stats:?}"
    );
    sim.shutdown().await;
}
