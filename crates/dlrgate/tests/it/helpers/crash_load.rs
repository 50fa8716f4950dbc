//! Load for crash tests against the real binary: `Load` runs senders that post SMS until the
//! server goes away, and records every message the server acknowledged with an id.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Concurrent senders.
pub const TASKS: usize = 8;
/// Requests per sender and round.
pub const REQUESTS_PER_TASK: usize = 50;

/// A message the server answered with an id.
#[derive(Debug, Clone)]
pub struct Acked {
    pub id: String,
    pub recipient: String,
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Senders that post SMS to a server until it goes away or they have sent their share.
pub struct Load {
    acked: Arc<Mutex<Vec<Acked>>>,
    ack_count: Arc<AtomicUsize>,
    unexpected: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(base: &str, api_key: &str) -> Load {
        Load::start_round(base, api_key, 0)
    }

    /// Like `start`; `round` (below 100) makes the recipients differ from other rounds'.
    pub fn start_round(base: &str, api_key: &str, round: usize) -> Load {
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
                    round,
                };
                tokio::spawn(sender.run(task))
            })
            .collect();
        Load { tasks, ..load }
    }

    /// Whether a sender is still sending (it stops at its first broken connection).
    pub fn running(&self) -> bool {
        self.tasks.iter().any(|task| !task.is_finished())
    }

    /// Messages acknowledged so far.
    pub fn acks(&self) -> usize {
        self.ack_count.load(Ordering::SeqCst)
    }

    /// Waits until `count` messages are acknowledged; panics after `within`.
    pub async fn wait_for_acks(&self, count: usize, within: Duration) {
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

    pub fn acked_so_far(&self) -> Vec<Acked> {
        self.acked.lock().unwrap().clone()
    }

    /// Waits for every sender to stop; returns the acknowledged messages.
    pub async fn finish(self) -> Vec<Acked> {
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
    round: usize,
}

impl Sender {
    /// Sends up to `REQUESTS_PER_TASK` requests; stops at the first broken connection. Every
    /// fifth request has two recipients, so one answer acknowledges two messages.
    async fn run(self, task: usize) {
        for i in 0..REQUESTS_PER_TASK {
            let digit = (task + i) % 10;
            let round = self.round;
            let mut to = format!("4917{round:02}{task:02}{i:04}{digit}");
            if i % 5 == 0 {
                to.push_str(&format!(
                    ",4918{round:02}{task:02}{i:04}{}",
                    (digit + 3) % 10
                ));
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
