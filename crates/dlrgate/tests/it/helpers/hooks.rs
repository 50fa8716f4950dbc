//! Helpers for webhook tests: an HTTP client for one account (`Api`: send, subscribe, the hook
//! endpoints, polling with deadlines), the sandbox's status sequences, ordering checks over what a
//! receiver got, and `OverlapProbe`, a receiver that measures how many requests overlap.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::app::TestApp;
use super::receiver::{Received, WebhookReceiver};

/// A client for one account of a running dlrgate (in-process or the real binary).
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub api_key: String,
}

/// A message the API accepted, with the recipient that decides its sandbox statuses.
#[derive(Debug, Clone)]
pub struct Sent {
    pub id: String,
    pub recipient: String,
}

impl Api {
    pub fn new(base: &str, api_key: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            base: base.to_owned(),
            api_key: api_key.to_owned(),
        }
    }

    pub fn of(app: &TestApp) -> Api {
        Api::new(&app.base, &app.api_key)
    }

    async fn call(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
        let response = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .header("X-Api-Key", &self.api_key)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let mut body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON ({status}): {text}"));
        if let Value::Object(fields) = &mut body {
            fields.insert("http_status".into(), json!(status));
        }
        body
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, &[]).await
    }

    /// POST with a form body; the answer carries the HTTP status as `http_status`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        self.call(reqwest::Method::POST, path, form).await
    }

    /// Subscribes `target_url` to status reports as JSON; returns the hook id.
    pub async fn subscribe(&self, target_url: &str) -> String {
        let form = [
            ("target_url", target_url),
            ("event_type", "dlr"),
            ("request_method", "JSON"),
        ];
        let body = self.post("/api/hooks", &form).await;
        assert_eq!(body["success"], true, "subscribe: {body}");
        body["id"].to_string().trim_matches('"').to_owned()
    }

    /// Sends one SMS to every recipient (one request); returns the messages in order.
    pub async fn send(&self, recipients: &[String]) -> Vec<Sent> {
        let response = self
            .http
            .post(format!("{}/api/sms", self.base))
            .header("X-Api-Key", &self.api_key)
            .header("Accept", "application/json")
            .json(&json!({"to": recipients.join(","), "text": "webhook test"}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], "100", "{body}");
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages.len(), recipients.len(), "{body}");
        messages
            .iter()
            .map(|m| Sent {
                id: m["id"].as_str().unwrap().to_owned(),
                recipient: m["recipient"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches('+')
                    .to_owned(),
            })
            .collect()
    }

    /// The hook as `GET /api/hooks` lists it.
    pub async fn hook(&self, id: &str) -> Value {
        let body = self.get("/api/hooks").await;
        body["hooks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|hook| hook["id"] == id)
            .unwrap_or_else(|| panic!("hook {id} is not listed: {body}"))
            .clone()
    }

    /// The attempt log, oldest first.
    pub async fn attempts(&self, hook: &str) -> Vec<Value> {
        let body = self
            .get(&format!("/api/hooks/{hook}/attempts?limit=1000"))
            .await;
        let mut attempts = body["attempts"]
            .as_array()
            .unwrap_or_else(|| panic!("attempts: {body}"))
            .clone();
        attempts.reverse();
        attempts
    }

    /// The deliveries of a hook, oldest first.
    pub async fn deliveries(&self, hook: &str) -> Vec<Value> {
        let body = self
            .get(&format!("/api/hooks/{hook}/deliveries?limit=1000"))
            .await;
        let mut deliveries = body["deliveries"]
            .as_array()
            .unwrap_or_else(|| panic!("deliveries: {body}"))
            .clone();
        deliveries.reverse();
        deliveries
    }

    /// Polls the deliveries of `hook` until `done` holds for them; panics after `within`.
    pub async fn wait_for_deliveries(
        &self,
        hook: &str,
        within: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let deliveries = self.deliveries(hook).await;
            if done(&deliveries) {
                return deliveries;
            }
            assert!(
                Instant::now() < deadline,
                "deliveries did not settle within {within:?}: {deliveries:#?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls `GET /api/hooks` until the hook's `enabled` is `enabled`; panics after `within`.
    pub async fn wait_for_enabled(&self, hook: &str, enabled: bool, within: Duration) -> Value {
        self.wait_for_hook_field(hook, "enabled", enabled, within)
            .await
    }

    /// Polls `GET /api/hooks` until the hook's `field` is `value`; panics after `within`.
    pub async fn wait_for_hook_field(
        &self,
        hook: &str,
        field: &str,
        value: bool,
        within: Duration,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let listed = self.hook(hook).await;
            if listed[field] == value {
                return listed;
            }
            assert!(
                Instant::now() < deadline,
                "hook never became {field}:{value}: {listed}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls `/api/status` until every message has its final sandbox status.
    pub async fn wait_for_final_statuses(&self, sent: &[Sent], within: Duration) {
        let deadline = Instant::now() + within;
        let ids: Vec<&str> = sent.iter().map(|s| s.id.as_str()).collect();
        loop {
            let body = self
                .get(&format!("/api/status?msg_id={}", ids.join(",")))
                .await;
            let entries = body.as_array().cloned().unwrap_or_default();
            let done = entries.len() == sent.len()
                && sent.iter().zip(&entries).all(|(message, entry)| {
                    entry["status"] == *sequence(&message.recipient).last().unwrap()
                });
            if done {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "messages did not reach their final status: {body}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Every operator status the sandbox reports for a recipient, in order (README).
pub fn sequence(recipient: &str) -> Vec<&'static str> {
    let last = recipient.bytes().last().unwrap();
    let mut statuses = vec!["ACCEPTED", "TRANSMITTED"];
    if matches!(last, b'6' | b'8') {
        statuses.push("BUFFERED");
    }
    statuses.push(match last {
        b'7' => "NOTDELIVERED",
        b'8' => "EXPIRED",
        b'9' => "REJECTED",
        b'0' => "FAILED",
        _ => "DELIVERED",
    });
    statuses
}

/// `count` distinct recipients whose last digits cycle through `digits`.
pub fn recipients(prefix: &str, count: usize, digits: &[u8]) -> Vec<String> {
    (0..count)
        .map(|i| format!("49{prefix}{i:05}{}", digits[i % digits.len()]))
        .collect()
}

/// `(msg_id, status)` of a JSON webhook.
pub fn event(request: &Received) -> (String, String) {
    let body = request.json();
    (
        body["data"]["msg_id"].as_str().unwrap().to_owned(),
        body["data"]["status"].as_str().unwrap().to_owned(),
    )
}

/// Asserts that, per message, no request carried a later status while an earlier one was still
/// outstanding (the statuses of all requests, failed attempts included, never go backwards), and
/// that every status of every message arrived at least once and nothing else did.
pub fn assert_every_status_in_order(events: &[(String, String)], sent: &[Sent]) {
    let expected: HashMap<&str, Vec<&str>> = sent
        .iter()
        .map(|m| (m.id.as_str(), sequence(&m.recipient)))
        .collect();
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut seen = BTreeSet::new();
    for (msg_id, status) in events {
        let statuses = expected
            .get(msg_id.as_str())
            .unwrap_or_else(|| panic!("a webhook for an unknown message {msg_id}"));
        let index = statuses
            .iter()
            .position(|s| s == status)
            .unwrap_or_else(|| panic!("{msg_id} got {status}, expected only {statuses:?}"));
        let last = position.entry(msg_id.as_str()).or_insert(0);
        assert!(
            index >= *last,
            "{msg_id}: {status} arrived after {} (order of arrival: {events:?})",
            statuses[*last]
        );
        *last = index;
        seen.insert((msg_id.clone(), status.clone()));
    }
    let all: BTreeSet<(String, String)> = expected
        .iter()
        .flat_map(|(id, statuses)| statuses.iter().map(|s| (id.to_string(), s.to_string())))
        .collect();
    assert_eq!(seen, all, "every status of every message arrives");
}

/// Collects webhooks until every status of every message has arrived at least once.
pub async fn collect_all(
    receiver: &mut WebhookReceiver,
    sent: &[Sent],
    within: Duration,
) -> Vec<Received> {
    collect_more(receiver, sent, Vec::new(), within).await
}

/// Adds webhooks to `got` until, counting those already in it, every status of every message has
/// arrived at least once.
pub async fn collect_more(
    receiver: &mut WebhookReceiver,
    sent: &[Sent],
    mut got: Vec<Received>,
    within: Duration,
) -> Vec<Received> {
    let wanted: usize = sent.iter().map(|m| sequence(&m.recipient).len()).sum();
    let deadline = Instant::now() + within;
    let mut distinct: BTreeSet<(String, String)> = got.iter().map(event).collect();
    while distinct.len() < wanted {
        let left = deadline.saturating_duration_since(Instant::now());
        let Some(request) = receiver.maybe_next(left).await else {
            panic!(
                "only {} of {wanted} statuses arrived within {within:?}: {distinct:?}",
                distinct.len()
            );
        };
        distinct.insert(event(&request));
        got.push(request);
    }
    got
}

/// A receiver that answers 200 after `delay` and measures how many requests overlap.
pub struct OverlapProbe {
    pub url: String,
    pub most_at_once: Arc<AtomicUsize>,
    pub bodies: mpsc::UnboundedReceiver<Bytes>,
}

#[derive(Clone)]
struct Probe {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    delay: Duration,
    sender: mpsc::UnboundedSender<Bytes>,
}

async fn probe(State(probe): State<Probe>, body: Bytes) -> &'static str {
    let now = probe.now.fetch_add(1, Ordering::SeqCst) + 1;
    probe.most.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(probe.delay).await;
    probe.now.fetch_sub(1, Ordering::SeqCst);
    let _ = probe.sender.send(body);
    "ok"
}

impl OverlapProbe {
    pub async fn start(delay: Duration) -> OverlapProbe {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (sender, bodies) = mpsc::unbounded_channel();
        let most = Arc::new(AtomicUsize::new(0));
        let state = Probe {
            now: Arc::default(),
            most: most.clone(),
            delay,
            sender,
        };
        let app = Router::new().fallback(probe).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        OverlapProbe {
            url,
            most_at_once: most,
            bodies,
        }
    }
}
