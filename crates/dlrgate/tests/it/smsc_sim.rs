//! `dlrgate smsc-sim` against an independent client: the npm `smpp` ESME in
//! `tests/smpp/esme-session.mjs` (node-smpp), plus raw bytes for what no client library sends.
//! The simulator runs in-process on 127.0.0.1:0; the ESME prints one JSON line per PDU it gets.
//! This file holds the helpers and the protocol basics; `smsc_sim/` the pathologies, raw bytes and load.

mod load;
mod pathologies;
mod raw;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use dlrgate::domain::receipt::MessageState;
use dlrgate::smsc_sim::{self, ReceiptIdFormat, SimConfig, SimHandle, SimStats};
use serde_json::{Value, json};

const ESME_DEADLINE: Duration = Duration::from_secs(20);

pub(crate) fn peers_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/smpp");
    assert!(
        dir.join("node_modules/smpp/package.json").exists(),
        "tests/smpp/node_modules is missing: run `npm ci --prefix tests/smpp` (node 20 or later) before `cargo test`"
    );
    dir
}

/// A simulator as fast as the tests need: every realistic second becomes a millisecond.
pub(crate) async fn sim(config: SimConfig) -> SimHandle {
    smsc_sim::start(SimConfig {
        speed: 1000.0,
        ..config
    })
    .await
    .expect("the simulator starts on 127.0.0.1:0")
}

/// Runs the node ESME with `options` (plus port and credentials unless given) and returns its lines.
pub(crate) async fn esme(sim: &SimHandle, options: Value) -> Vec<Value> {
    let mut full = json!({
        "port": sim.local_addr().port(),
        "system_id": "dlrgate",
        "password": "secret",
        "timeout_ms": 8000,
    });
    for (key, value) in options.as_object().expect("an object").clone() {
        full[key] = value;
    }
    let child = tokio::process::Command::new("node")
        .arg("esme-session.mjs")
        .arg(full.to_string())
        .current_dir(peers_dir())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(ESME_DEADLINE, child)
        .await
        .expect("the node ESME finishes within its deadline")
        .expect("node runs (is node 20 or later installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node ESME failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("the ESME prints JSON lines"))
        .collect()
}

pub(crate) fn events<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"] == event).collect()
}

pub(crate) fn done(lines: &[Value]) -> &str {
    lines
        .iter()
        .rev()
        .find(|l| l["event"] == "done")
        .and_then(|l| l["reason"].as_str())
        .unwrap_or("none")
}

/// The submit ids by submit index, for accepted submits.
pub(crate) fn submit_ids(lines: &[Value]) -> HashMap<u64, String> {
    events(lines, "submit_sm_resp")
        .into_iter()
        .filter(|r| r["command_status"] == 0)
        .map(|r| {
            let index = r["index"].as_u64().expect("index");
            (index, r["message_id"].as_str().expect("id").to_owned())
        })
        .collect()
}

pub(crate) async fn wait_for_stats(
    sim: &SimHandle,
    what: &str,
    condition: impl Fn(&SimStats) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition(&sim.stats()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            sim.stats()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) fn submit(destination: &str, registered_delivery: u8) -> Value {
    json!({"destination_addr": destination, "registered_delivery": registered_delivery, "short_message": "hello from the test"})
}

#[tokio::test]
async fn bind_with_a_wrong_password_or_system_id_is_refused_and_the_right_one_accepted() {
    let sim = sim(SimConfig::default()).await;

    let wrong_password = esme(&sim, json!({"password": "nope"})).await;
    let wrong_system_id = esme(&sim, json!({"system_id": "other"})).await;
    let right = esme(&sim, json!({"bind": "transmitter"})).await;
    let receiver = esme(&sim, json!({"bind": "receiver"})).await;

    assert_eq!(
        events(&wrong_password, "bind_resp")[0]["command_status"],
        0x0E
    );
    assert_eq!(
        events(&wrong_system_id, "bind_resp")[0]["command_status"],
        0x0F
    );
    assert_eq!(events(&right, "bind_resp")[0]["command_status"], 0);
    assert_eq!(
        events(&right, "bind_resp")[0]["command"],
        "bind_transmitter_resp"
    );
    assert_eq!(events(&receiver, "bind_resp")[0]["command_status"], 0);
    assert_eq!(sim.stats().binds_accepted, 2);
}

#[tokio::test]
async fn receipts_follow_the_last_digit_rule_and_name_the_submit_ids() {
    let sim = sim(SimConfig::default()).await;
    let cases = [
        ("4915100000001", MessageState::Delivered),
        ("4915100000007", MessageState::Undeliverable),
        ("4915100000008", MessageState::Expired),
        ("4915100000009", MessageState::Rejected),
        ("4915100000000", MessageState::Unknown),
    ];
    let submits: Vec<Value> = cases.iter().map(|(d, _)| submit(d, 0x01)).collect();

    let lines = esme(
        &sim,
        json!({"submits": submits, "expect_receipts": cases.len()}),
    )
    .await;

    assert_eq!(done(&lines), "complete", "{lines:#?}");
    let ids = submit_ids(&lines);
    let receipts = events(&lines, "deliver_sm");
    assert_eq!(receipts.len(), cases.len());
    for (index, (destination, state)) in cases.iter().enumerate() {
        let receipt = receipts
            .iter()
            .find(|r| r["source_addr"] == *destination)
            .unwrap_or_else(|| panic!("no receipt for {destination}: {lines:#?}"));
        let id = &ids[&(index as u64)];
        assert_eq!(receipt["esm_class"], 0x04);
        assert_eq!(receipt["destination_addr"], "dlrgate");
        assert_eq!(receipt["receipted_message_id"], id.as_str());
        assert_eq!(receipt["message_state"], state.value());
        let text = receipt["text"].as_str().expect("text");
        assert!(text.starts_with(&format!("id:{id} sub:001 ")), "{text}");
        assert!(
            text.contains(&format!(" stat:{} err:", state.stat())),
            "{text}"
        );
        assert!(text.ends_with("text:hello from the test"), "{text}");
        let failed = *state != MessageState::Delivered;
        assert_eq!(
            receipt["network_error_code"].is_array(),
            failed,
            "{receipt}"
        );
    }
    assert_eq!(sim.stats().receipts_acknowledged, cases.len() as u64);
}

#[tokio::test]
async fn intermediate_notifications_come_before_the_final_receipt_when_asked() {
    let sim = sim(SimConfig::default()).await;

    let lines = esme(
        &sim,
        json!({"submits": [submit("4917000006", 0x11)], "expect_receipts": 3}),
    )
    .await;

    assert_eq!(done(&lines), "complete", "{lines:#?}");
    let classes: Vec<(&Value, &Value)> = events(&lines, "deliver_sm")
        .iter()
        .map(|r| (&r["esm_class"], &r["message_state"]))
        .collect();
    assert_eq!(
        classes,
        [
            (&json!(0x20), &json!(1)),
            (&json!(0x20), &json!(1)),
            (&json!(0x04), &json!(2))
        ]
    );
}

#[tokio::test]
async fn receipts_wait_while_only_a_transmitter_is_bound_and_arrive_when_a_receiver_binds() {
    let sim = sim(SimConfig::default()).await;
    let submits: Vec<Value> = ["4917001", "4917002", "4917007"]
        .iter()
        .map(|d| submit(d, 1))
        .collect();

    let transmitter = esme(&sim, json!({"bind": "transmitter", "submits": submits})).await;
    wait_for_stats(&sim, "three held receipts", |s| s.receipts_waiting == 3).await;
    let receiver = esme(&sim, json!({"bind": "receiver", "expect_receipts": 3})).await;

    assert_eq!(events(&transmitter, "deliver_sm").len(), 0);
    assert_eq!(done(&receiver), "complete", "{receiver:#?}");
    let mut sent: Vec<String> = submit_ids(&transmitter).into_values().collect();
    let mut received: Vec<String> = events(&receiver, "deliver_sm")
        .iter()
        .map(|r| r["receipted_message_id"].as_str().expect("id").to_owned())
        .collect();
    sent.sort();
    received.sort();
    assert_eq!(sent, received);
    wait_for_stats(&sim, "no held receipts", |s| s.receipts_waiting == 0).await;
}

#[tokio::test]
async fn receipts_can_write_decimal_ids_for_hex_submit_ids() {
    let sim = sim(SimConfig {
        receipt_id_format: ReceiptIdFormat::Decimal,
        ..SimConfig::default()
    })
    .await;

    let lines = esme(
        &sim,
        json!({"submits": [submit("4917001", 1)], "expect_receipts": 1}),
    )
    .await;

    let submit_id = submit_ids(&lines)[&0].clone();
    let receipt = events(&lines, "deliver_sm")[0];
    let receipt_id = receipt["receipted_message_id"].as_str().expect("id");
    assert_ne!(submit_id, receipt_id);
    assert_eq!(
        u64::from_str_radix(&submit_id, 16).expect("hex submit id"),
        receipt_id.parse::<u64>().expect("decimal receipt id")
    );
    assert!(
        receipt["text"]
            .as_str()
            .expect("text")
            .starts_with(&format!("id:{receipt_id} "))
    );
}

#[tokio::test]
async fn receipts_can_arrive_before_the_submit_response() {
    let sim = sim(SimConfig {
        receipt_before_response: true,
        ..SimConfig::default()
    })
    .await;
    let submits: Vec<Value> = ["4917001", "4917007"]
        .iter()
        .map(|d| submit(d, 1))
        .collect();

    let lines = esme(&sim, json!({"submits": submits, "expect_receipts": 2})).await;

    assert_eq!(done(&lines), "complete", "{lines:#?}");
    for id in submit_ids(&lines).values() {
        let position = |event: &str, field: &str| {
            lines
                .iter()
                .position(|l| l["event"] == event && l[field] == id.as_str())
                .unwrap_or_else(|| panic!("no {event} for {id}"))
        };
        assert!(
            position("deliver_sm", "receipted_message_id")
                < position("submit_sm_resp", "message_id")
        );
    }
}

#[tokio::test]
async fn enquire_link_is_answered_and_the_simulator_sends_its_own() {
    let sim = sim(SimConfig {
        enquire_link_interval: Some(Duration::from_millis(50)),
        ..SimConfig::default()
    })
    .await;

    let lines = esme(
        &sim,
        json!({"enquire_link": true, "expect_server_enquire_links": 1}),
    )
    .await;

    assert_eq!(done(&lines), "complete", "{lines:#?}");
    assert_eq!(events(&lines, "enquire_link_resp")[0]["command_status"], 0);
    assert!(!events(&lines, "enquire_link").is_empty());
}

#[tokio::test]
async fn every_part_of_a_multipart_message_gets_its_own_id_and_receipt() {
    let sim = sim(SimConfig::default()).await;
    let parts: Vec<Value> = (1..=3)
        .map(|n| json!({"destination_addr": "4917000001", "registered_delivery": 1, "short_message": format!("part {n} of 3")}))
        .collect();

    let lines = esme(&sim, json!({"submits": parts, "expect_receipts": 3})).await;

    assert_eq!(done(&lines), "complete", "{lines:#?}");
    let ids = submit_ids(&lines);
    assert_eq!(ids.len(), 3);
    for (index, id) in &ids {
        let receipt = events(&lines, "deliver_sm")
            .into_iter()
            .find(|r| r["receipted_message_id"] == id.as_str())
            .unwrap_or_else(|| panic!("no receipt for part {index}"));
        let text = receipt["text"].as_str().expect("text");
        assert!(
            text.ends_with(&format!("text:part {} of 3", index + 1)),
            "{text}"
        );
    }
}
