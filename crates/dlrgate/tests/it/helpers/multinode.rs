//! Helpers for running several `dlrgate serve` nodes on one PostgreSQL database: the environment
//! of a node, starting one off the async runtime's threads, and `VisitLog`, a webhook receiver
//! that records when each request arrived and when it was answered, so that `overlapping` can
//! find copies of one delivery that were on the wire at the same time. It never judges whether a
//! copy is allowed (at-least-once allows copies one after the other); the tests do.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use serde_json::Value;

use super::binary::{Server, binary};
use super::crash_load::Acked;
use super::hooks::{event, sequence};
use super::receiver::Received;

/// Environment of a node on `database_url` that delivers to loopback receivers, with leases of
/// `lease_timeout`. Every node of a test gets the same.
pub fn node_env(database_url: &str, lease_timeout: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DLRGATE_STORE_DATABASE_URL", database_url.to_owned()),
        ("DLRGATE_STORE_LEASE_TIMEOUT", lease_timeout.to_owned()),
        ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8".into()),
        // Ten attempts, all within a few seconds: a receiver that always answers 200 needs one,
        // the rest covers an attempt that timed out on a busy machine.
        (
            "DLRGATE_WEBHOOK_RETRY_SCHEDULE",
            "0ms,50ms,100ms,200ms,400ms,800ms,1s,1s,1s,1s".into(),
        ),
        ("DLRGATE_WEBHOOK_JITTER", "0".into()),
        ("DLRGATE_WEBHOOK_TIMEOUT", "2s".into()),
        ("DLRGATE_WORKERS_TICK", "20ms".into()),
    ]
}

fn as_pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Starts `dlrgate serve` off the async runtime's threads (it blocks until it listens).
pub async fn start_node(dir: &Path, env: &[(&'static str, String)]) -> Server {
    let dir = dir.to_path_buf();
    let env = env.to_vec();
    tokio::task::spawn_blocking(move || Server::start(&dir, &as_pairs(&env)))
        .await
        .unwrap()
}

/// `dlrgate check-config` with `env`: the effective settings, or panics naming what it said.
pub fn effective_settings(env: &[(&'static str, String)]) -> Value {
    let output = Command::new(binary())
        .arg("check-config")
        .envs(as_pairs(env))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "dlrgate check-config refused the settings of a node: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// One request the receiver got, and when its answer was ready.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The request; `request.at` is when it arrived.
    pub request: Received,
    /// When the handler finished: after the answer delay, or when the sender hung up first.
    /// The sender saw no answer before this, so `[request.at, answered]` lies within the time the
    /// sender had the delivery on the wire, and an overlap found here is a real one.
    pub answered: Instant,
}

impl Visit {
    pub fn webhook_id(&self) -> &str {
        self.request.header("webhook-id")
    }
}

/// A receiver on 127.0.0.1:0 that answers every request 200 after a delay of `min_delay` to
/// `min_delay` + 20 ms (varying from one request to the next, so answers do not come in lock-step)
/// and keeps a `Visit` per request.
pub struct VisitLog {
    /// `http://127.0.0.1:PORT/hook`
    pub url: String,
    visits: Arc<Mutex<Vec<Visit>>>,
}

#[derive(Clone)]
struct Shared {
    visits: Arc<Mutex<Vec<Visit>>>,
    count: Arc<AtomicU64>,
    min_delay: Duration,
}

/// Records the visit when dropped, so a request whose sender hung up (the handler is then
/// dropped mid-delay) is recorded too.
struct Recorder {
    visits: Arc<Mutex<Vec<Visit>>>,
    request: Option<Received>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(request) = self.request.take() {
            let answered = Instant::now();
            let mut visits = self.visits.lock().unwrap_or_else(|e| e.into_inner());
            visits.push(Visit { request, answered });
        }
    }
}

async fn visit(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    let request = Received {
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body,
        at: Instant::now(),
    };
    let _recorder = Recorder {
        visits: shared.visits.clone(),
        request: Some(request),
    };
    let n = shared.count.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(shared.min_delay + Duration::from_millis(n % 21)).await;
    "ok"
}

impl VisitLog {
    pub async fn start(min_delay: Duration) -> VisitLog {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let visits: Arc<Mutex<Vec<Visit>>> = Arc::default();
        let shared = Shared {
            visits: visits.clone(),
            count: Arc::default(),
            min_delay,
        };
        let app = Router::new().fallback(visit).with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        VisitLog { url, visits }
    }

    /// Every visit whose handler has finished, in the order they finished.
    pub fn visits(&self) -> Vec<Visit> {
        self.visits.lock().unwrap().clone()
    }

    /// Polls until every status of every message in `acked` has arrived at least once; returns
    /// the visits, or panics after `within` with what is missing.
    pub async fn wait_for_every_event(&self, acked: &[Acked], within: Duration) -> Vec<Visit> {
        let deadline = Instant::now() + within;
        loop {
            let visits = self.visits();
            let missing = missing_events(&visits, acked);
            if missing.is_empty() {
                return visits;
            }
            assert!(
                Instant::now() < deadline,
                "{} statuses of acknowledged messages never reached the receiver within \
                 {within:?} ({} requests arrived), e.g. {:#?}",
                missing.len(),
                visits.len(),
                &missing[..missing.len().min(10)]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The `(msg_id, status)` of every status the sandbox promises for `acked` that no visit carried.
pub fn missing_events(visits: &[Visit], acked: &[Acked]) -> Vec<(String, String)> {
    let seen: BTreeSet<(String, String)> = visits.iter().map(|v| event(&v.request)).collect();
    acked
        .iter()
        .flat_map(|m| {
            sequence(&m.recipient)
                .into_iter()
                .map(|s| (m.id.clone(), s))
        })
        .map(|(id, status)| (id, status.to_owned()))
        .filter(|e| !seen.contains(e))
        .collect()
}

/// Pairs of visits with the same `webhook-id` that were on the wire at the same time: the later
/// one arrived before the earlier one was answered. Each visit is paired with the one, among the
/// earlier visits of its webhook-id, answered last.
pub fn overlapping(visits: &[Visit]) -> Vec<(&Visit, &Visit)> {
    let mut by_id: HashMap<&str, Vec<&Visit>> = HashMap::new();
    for visit in visits {
        by_id.entry(visit.webhook_id()).or_default().push(visit);
    }
    let mut pairs = Vec::new();
    for copies in by_id.values_mut() {
        copies.sort_by_key(|v| v.request.at);
        let mut open: Option<&Visit> = None;
        for &visit in copies.iter() {
            if let Some(earlier) = open {
                if visit.request.at < earlier.answered {
                    pairs.push((earlier, visit));
                }
                if visit.answered <= earlier.answered {
                    continue;
                }
            }
            open = Some(visit);
        }
    }
    pairs
}

/// Requests beyond the first of each webhook-id (copies sent again after a crash or a timeout).
pub fn copies(visits: &[Visit]) -> usize {
    let distinct: BTreeSet<&str> = visits.iter().map(|v| v.webhook_id()).collect();
    visits.len() - distinct.len()
}

/// Asserts that a webhook-id always stands for one status of one message and that no status of
/// a message went out under two webhook-ids (each status change writes one delivery per hook,
/// however many nodes there are).
pub fn assert_one_webhook_id_per_event(visits: &[Visit]) {
    let mut by_id: HashMap<&str, (String, String)> = HashMap::new();
    for visit in visits {
        let seen = by_id
            .entry(visit.webhook_id())
            .or_insert_with(|| event(&visit.request));
        assert_eq!(
            *seen,
            event(&visit.request),
            "webhook-id {} stands for two events",
            visit.webhook_id()
        );
    }
    let mut ids_of: HashMap<&(String, String), Vec<&str>> = HashMap::new();
    for (id, status_event) in &by_id {
        ids_of.entry(status_event).or_default().push(id);
    }
    let twice: Vec<_> = ids_of.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        twice.is_empty(),
        "{} events went out under two webhook-ids, e.g. {:?}",
        twice.len(),
        &twice[..twice.len().min(10)]
    );
}
