//! Crash safety with the real binary: `dlrgate serve` is killed with SIGKILL (or stopped with
//! SIGTERM) while several clients send, and restarted on the same data directory. Every message
//! that got an id must still be there and go on to the final status the sandbox promises for its
//! recipient's last digit, with a sane status history.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::binary::Server;

/// Concurrent senders and requests per sender.
const TASKS: usize = 8;
const REQUESTS_PER_TASK: usize = 50;
/// Slow enough that statuses are still in flight when the server dies.
const SLOW_SPEED: &str = "20";
/// Acknowledged messages to wait for before stopping the server.
const ACKS_BEFORE_STOP: usize = 100;

/// A message the server answered with an id.
#[derive(Debug, Clone)]
struct Acked {
    id: String,
    recipient: String,
}

/// The final status the sandbox promises for a recipient (README).
fn promised_final(recipient: &str) -> &'static str {
    match recipient.bytes().last().map(|b| b - b'0') {
        Some(7) => "NOTDELIVERED",
        Some(8) => "EXPIRED",
        Some(9) => "REJECTED",
        Some(0) => "FAILED",
        _ => "DELIVERED",
    }
}

/// Every operator status the sandbox reports for a recipient, in order.
fn promised_sequence(recipient: &str) -> Vec<&'static str> {
    let buffered = matches!(recipient.bytes().last(), Some(b'6' | b'8'));
    let mut sequence = vec!["ACCEPTED", "TRANSMITTED"];
    if buffered {
        sequence.push("BUFFERED");
    }
    sequence.push(promised_final(recipient));
    sequence
}

fn is_final(status: &str) -> bool {
    matches!(
        status,
        "DELIVERED" | "NOTDELIVERED" | "EXPIRED" | "REJECTED" | "FAILED"
    )
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Senders that post SMS to a server until it goes away or they have sent their share.
struct Load {
    acked: Arc<Mutex<Vec<Acked>>>,
    ack_count: Arc<AtomicUsize>,
    unexpected: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(base: &str, api_key: &str) -> Load {
        let load = Load {
            acked: Arc::default(),
            ack_count: Arc::default(),
            unexpected: Arc::default(),
            tasks: Vec::new(),
        };
        let tasks = (0..TASKS)
            .map(|task| {
                let sender = Sender {
                    http: http(),
                    url: format!("{base}/api/sms"),
                    api_key: api_key.to_owned(),
                    acked: load.acked.clone(),
                    ack_count: load.ack_count.clone(),
                    unexpected: load.unexpected.clone(),
                };
                tokio::spawn(sender.run(task))
            })
            .collect();
        Load { tasks, ..load }
    }

    /// Waits until `count` messages are acknowledged; panics after `within`.
    async fn wait_for_acks(&self, count: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.ack_count.load(Ordering::SeqCst) < count {
            assert!(
                Instant::now() < deadline,
                "only {} messages acknowledged within {within:?}",
                self.ack_count.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn acked_so_far(&self) -> Vec<Acked> {
        self.acked.lock().unwrap().clone()
    }

    /// Waits for every sender to stop; returns the acknowledged messages.
    async fn finish(self) -> Vec<Acked> {
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(60), task)
                .await
                .expect("a sender did not stop within 60 s after the server went away")
                .unwrap();
        }
        let unexpected = self.unexpected.lock().unwrap().clone();
        assert!(
            unexpected.is_empty(),
            "answers that were neither 100 nor a broken connection: {unexpected:#?}"
        );
        self.acked.lock().unwrap().clone()
    }
}

struct Sender {
    http: reqwest::Client,
    url: String,
    api_key: String,
    acked: Arc<Mutex<Vec<Acked>>>,
    ack_count: Arc<AtomicUsize>,
    unexpected: Arc<Mutex<Vec<String>>>,
}

impl Sender {
    /// Sends up to `REQUESTS_PER_TASK` requests; stops at the first broken connection. Every
    /// fifth request has two recipients, so one answer acknowledges two messages.
    async fn run(self, task: usize) {
        for i in 0..REQUESTS_PER_TASK {
            let digit = (task + i) % 10;
            let mut to = format!("49176{task:02}{i:04}{digit}");
            if i % 5 == 0 {
                to.push_str(&format!(",49177{task:02}{i:04}{}", (digit + 3) % 10));
            }
            let body = json!({"to": to, "text": format!("load {task}/{i}")});
            let Some(answer) = self.post(&body).await else {
                return;
            };
            self.record(&body, answer);
        }
    }

    /// The parsed answer, or `None` when the connection broke or was refused.
    async fn post(&self, body: &Value) -> Option<Value> {
        let response = self
            .http
            .post(&self.url)
            .header("X-Api-Key", &self.api_key)
            .header("Accept", "application/json")
            .json(body)
            .send()
            .await
            .ok()?;
        let status = response.status();
        let text = response.text().await.ok()?;
        Some(
            serde_json::from_str(&text)
                .unwrap_or_else(|_| json!({"http_status": status.as_u16(), "body": text})),
        )
    }

    fn record(&self, request: &Value, answer: Value) {
        let messages = answer["messages"].as_array().cloned().unwrap_or_default();
        let ok = answer["success"] == "100"
            && !messages.is_empty()
            && messages.iter().all(|m| m["id"].is_string());
        if !ok {
            self.unexpected
                .lock()
                .unwrap()
                .push(format!("{request} -> {answer}"));
            return;
        }
        let mut acked = self.acked.lock().unwrap();
        for message in &messages {
            acked.push(Acked {
                id: message["id"].as_str().unwrap().to_owned(),
                recipient: message["recipient"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches('+')
                    .to_owned(),
            });
        }
        self.ack_count.fetch_add(messages.len(), Ordering::SeqCst);
    }
}

/// Statuses of `ids` from `GET /api/status`, by id.
async fn statuses(base: &str, api_key: &str, ids: &[String]) -> HashMap<String, Value> {
    let client = http();
    let mut found = HashMap::new();
    for chunk in ids.chunks(200) {
        let response = client
            .get(format!("{base}/api/status?msg_id={}", chunk.join(",")))
            .header("X-Api-Key", api_key)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("/api/status answered with non-JSON: {text}"));
        let entries = body
            .as_array()
            .unwrap_or_else(|| panic!("/api/status answered {body}"));
        assert_eq!(entries.len(), chunk.len(), "one entry per id: {body}");
        for (id, entry) in chunk.iter().zip(entries) {
            assert_eq!(entry["id"], id.as_str(), "entries in request order");
            found.insert(id.clone(), entry.clone());
        }
    }
    found
}

/// Polls `/api/status` until every message has its promised final status; panics with the
/// ones that did not after `within`.
async fn assert_all_reach_promised_final(
    base: &str,
    api_key: &str,
    acked: &[Acked],
    within: Duration,
) {
    let ids: Vec<String> = acked.iter().map(|a| a.id.clone()).collect();
    let deadline = Instant::now() + within;
    loop {
        let found = statuses(base, api_key, &ids).await;
        let wrong: Vec<String> = acked
            .iter()
            .filter(|a| found[&a.id]["status"] != promised_final(&a.recipient))
            .map(|a| format!("{} to {}: {}", a.id, a.recipient, found[&a.id]))
            .collect();
        if wrong.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged messages did not reach their promised final status within \
             {within:?}, e.g. {:#?}",
            wrong.len(),
            acked.len(),
            &wrong[..wrong.len().min(10)]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Checks one message's history from `/api/messages/{id}/events`: the internal `queued` event
/// first and the internal `processed` event second, then the operator reports the sandbox
/// promises, in order, each applied once, with times that never go back; nothing applied after
/// the final status.
async fn assert_sane_history(base: &str, api_key: &str, message: &Acked) {
    let response = http()
        .get(format!("{base}/api/messages/{}/events", message.id))
        .header("X-Api-Key", api_key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "events of {}: {body}", message.id);
    let events = body["events"].as_array().unwrap();
    let context = || format!("message {} to {}: {body:#}", message.id, message.recipient);

    assert!(events.len() >= 2, "{}", context());
    assert_eq!(events[0]["kind"], "internal", "{}", context());
    assert_eq!(events[0]["state"], "queued", "{}", context());
    assert_eq!(events[0]["effect"], "applied", "{}", context());
    assert_eq!(events[1]["kind"], "internal", "{}", context());
    assert_eq!(events[1]["state"], "processed", "{}", context());
    let applied: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "report" && e["effect"] == "applied")
        .collect();
    let states: Vec<&str> = applied
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        promised_sequence(&message.recipient),
        "{}",
        context()
    );
    let first_final = states.iter().position(|s| is_final(s)).unwrap();
    assert_eq!(
        first_final,
        states.len() - 1,
        "a change after the final status: {}",
        context()
    );
    let times: Vec<&str> = applied
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "status times go back: {}",
        context()
    );
}

async fn assert_every_history_is_sane(base: &str, api_key: &str, acked: &[Acked]) {
    for message in acked {
        assert_sane_history(base, api_key, message).await;
    }
}

/// Sends SIGTERM and waits for the exit; panics (after SIGKILL) if it takes longer than `within`.
async fn terminate_within(server: &mut Server, within: Duration) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success(), "could not send SIGTERM to {pid}");
    let deadline = Instant::now() + within;
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            return exit;
        }
        if Instant::now() > deadline {
            server.kill9();
            panic!("dlrgate did not exit within {within:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn assert_ids_unique(acked: &[Acked]) {
    let mut ids: Vec<&str> = acked.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), acked.len(), "an id was given to two messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_message_survives_kill_9_and_reaches_its_promised_final_status() {
    // Arrange
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", SLOW_SPEED)]);
    let api_key = server
        .api_key
        .clone()
        .expect("first start prints an API key");
    let load = Load::start(&server.base, &api_key);
    load.wait_for_acks(ACKS_BEFORE_STOP, Duration::from_secs(60))
        .await;
    let before_kill = load.acked_so_far();
    let ids: Vec<String> = before_kill.iter().map(|a| a.id.clone()).collect();
    let not_final = statuses(&server.base, &api_key, &ids)
        .await
        .values()
        .filter(|entry| !entry["status"].as_str().is_some_and(is_final))
        .count();

    // Act
    server.kill9();
    let acked = load.finish().await;
    let server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", "1000")]);

    // Assert
    eprintln!(
        "kill -9: {} messages acknowledged, {not_final} of the first {} not final at the kill",
        acked.len(),
        ids.len()
    );
    assert!(
        not_final > 0,
        "every status was already final before the kill, so it tested nothing"
    );
    let requests = TASKS * REQUESTS_PER_TASK;
    assert!(
        acked.len() < requests,
        "all {requests} requests were answered, so the kill hit no traffic"
    );
    assert!(acked.len() >= ACKS_BEFORE_STOP);
    assert_ids_unique(&acked);
    assert_all_reach_promised_final(&server.base, &api_key, &acked, Duration::from_secs(60)).await;
    assert_every_history_is_sane(&server.base, &api_key, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_while_sending_exits_cleanly_and_loses_no_acknowledged_message() {
    // Arrange
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", SLOW_SPEED)]);
    let api_key = server
        .api_key
        .clone()
        .expect("first start prints an API key");
    let load = Load::start(&server.base, &api_key);
    load.wait_for_acks(ACKS_BEFORE_STOP, Duration::from_secs(60))
        .await;

    // Act
    let exit = terminate_within(&mut server, Duration::from_secs(30)).await;
    let acked = load.finish().await;
    let server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", "1000")]);

    // Assert
    eprintln!("SIGTERM: {} messages acknowledged", acked.len());
    assert!(exit.success(), "dlrgate exited with {exit} after SIGTERM");
    assert!(
        acked.len() < TASKS * REQUESTS_PER_TASK,
        "every request was answered, so SIGTERM hit no traffic"
    );
    assert_ids_unique(&acked);
    assert_all_reach_promised_final(&server.base, &api_key, &acked, Duration::from_secs(60)).await;
    assert_every_history_is_sane(&server.base, &api_key, &acked).await;
}
