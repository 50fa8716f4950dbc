//! Operator faults on the SMPP route: an SMSC that floods duplicate receipts, and one that
//! answers a submit with bytes that are not SMPP. dlrgate acknowledges every receipt once it is
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

use crate::helpers::app::TestApp;
use crate::helpers::hooks::sequence;
use crate::helpers::smpp_route::spawn_with_smpp;

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
