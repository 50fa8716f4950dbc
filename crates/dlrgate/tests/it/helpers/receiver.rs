//! `WebhookReceiver`: a real HTTP server on 127.0.0.1:0 that records every request it gets
//! (method, URI, headers, body) and answers from a script of replies that tests can change.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub retry_after: Option<u64>,
    pub body: String,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            retry_after: None,
            body: String::new(),
        }
    }
}

struct Script {
    /// Used first, one per request.
    queue: VecDeque<Reply>,
    /// Used when the queue is empty.
    default: Reply,
}

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<Script>>,
    sender: mpsc::UnboundedSender<Received>,
}

pub struct WebhookReceiver {
    /// `http://127.0.0.1:PORT/hook`
    pub url: String,
    script: Arc<Mutex<Script>>,
    receiver: mpsc::UnboundedReceiver<Received>,
}

impl WebhookReceiver {
    /// Starts a receiver that answers 200 to everything.
    pub async fn start() -> WebhookReceiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (sender, receiver) = mpsc::unbounded_channel();
        let script = Arc::new(Mutex::new(Script {
            queue: VecDeque::new(),
            default: Reply::status(200),
        }));
        let shared = Shared {
            script: script.clone(),
            sender,
        };
        let app = Router::new().fallback(record).with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        WebhookReceiver {
            url,
            script,
            receiver,
        }
    }

    /// Answers the next requests with `replies`, in order, then with the default.
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().queue.extend(replies);
    }

    pub fn set_default(&self, reply: Reply) {
        self.script.lock().unwrap().default = reply;
    }

    /// The next request; panics after `within`.
    pub async fn next(&mut self, within: Duration) -> Received {
        tokio::time::timeout(within, self.receiver.recv())
            .await
            .unwrap_or_else(|_| panic!("no webhook arrived within {within:?}"))
            .unwrap()
    }

    /// Collects requests until `count` have arrived; panics after `within`.
    pub async fn collect(&mut self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while got.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.receiver.recv()).await {
                Ok(Some(request)) => got.push(request),
                _ => panic!(
                    "only {} of {count} webhooks arrived within {within:?}",
                    got.len()
                ),
            }
        }
        got
    }

    /// Every request that has arrived and not been taken yet, without waiting.
    pub fn drain(&mut self) -> Vec<Received> {
        std::iter::from_fn(|| self.receiver.try_recv().ok()).collect()
    }

    /// The next request if one arrives within `within` (for "nothing more comes" checks).
    pub async fn maybe_next(&mut self, within: Duration) -> Option<Received> {
        tokio::time::timeout(within, self.receiver.recv())
            .await
            .ok()
            .flatten()
    }
}

async fn record(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut script = shared.script.lock().unwrap();
        script
            .queue
            .pop_front()
            .unwrap_or_else(|| script.default.clone())
    };
    let received = Received {
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body,
        at: Instant::now(),
    };
    let _ = shared.sender.send(received);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    if let Some(seconds) = reply.retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.to_string().parse().unwrap());
    }
    response
}
