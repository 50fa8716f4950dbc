//! The npm SMSC peer (`tests/smpp/smsc-peer.mjs`, on node-smpp), spawned and driven from tests.
//!
//! [`SmscPeer::start`] runs `node smsc-peer.mjs --exit-on-stdin-close` (killed on drop, and it exits on
//! its own when our end of its stdin closes), reads its `{"smpp_port","control_port"}` line and then
//! talks to its HTTP control API on 127.0.0.1. Everything the peer saw or sent comes back typed
//! ([`Submit`], [`BindInfo`], [`Delivered`]); behaviour is set with JSON ([`SmscPeer::config`]) as
//! documented at the top of the script. The peer's stderr log is kept and printed when a test panics.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::time::{Instant, sleep};

const START_DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

/// `tests/smpp`, checked for its `node_modules`.
pub fn peers_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/smpp");
    assert!(
        dir.join("node_modules/smpp/package.json").exists(),
        "tests/smpp/node_modules is missing: run `npm ci --prefix tests/smpp` (node 20 or later) before `cargo test`"
    );
    dir
}

mod types;

pub use types::*;

/// A running `smsc-peer.mjs`. Dropping it kills the process.
pub struct SmscPeer {
    child: Child,
    _stdin: Option<ChildStdin>,
    _stdout: BufReader<ChildStdout>,
    smpp_addr: SocketAddr,
    control: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<String>>>,
}

impl SmscPeer {
    /// Starts the peer on free ports with the default behaviour (any credentials, hex ids, no receipts).
    pub async fn start() -> Self {
        let dir = peers_dir();
        let mut child = Command::new("node")
            .arg(dir.join("smsc-peer.mjs"))
            .arg("--exit-on-stdin-close")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (is node 20 or later installed?)");

        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&log);
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().expect("log lock").push(line);
            }
        });

        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut first = String::new();
        let read = tokio::time::timeout(START_DEADLINE, stdout.read_line(&mut first)).await;
        let ready: Value = match read {
            Ok(Ok(n)) if n > 0 => serde_json::from_str(first.trim()).unwrap_or_else(|e| {
                panic!("smsc-peer printed {first:?} instead of its ports: {e}")
            }),
            other => panic!(
                "smsc-peer did not print its ports ({other:?}); its log:\n{}",
                log.lock().expect("log lock").join("\n")
            ),
        };
        let port = |key: &str| {
            ready[key]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or_else(|| panic!("smsc-peer's ready line lacks {key}: {ready}"))
        };
        let smpp_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port("smpp_port")));
        let control = format!("http://127.0.0.1:{}", port("control_port"));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        Self {
            _stdin: child.stdin.take(),
            child,
            _stdout: stdout,
            smpp_addr,
            control,
            http,
            log,
        }
    }

    /// Starts the peer and applies `config` (as [`SmscPeer::config`]).
    pub async fn start_with(config: Value) -> Self {
        let peer = Self::start().await;
        peer.config(config).await;
        peer
    }

    /// Where the peer accepts SMPP: 127.0.0.1 and a free port.
    pub fn smpp_addr(&self) -> SocketAddr {
        self.smpp_addr
    }

    pub fn smpp_port(&self) -> u16 {
        self.smpp_addr.port()
    }

    /// `http://127.0.0.1:<control_port>`.
    pub fn control_url(&self) -> &str {
        &self.control
    }

    /// The peer's stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// Merges `patch` into the behaviour and returns the whole behaviour. Unknown keys make the peer
    /// answer 400, which panics here.
    pub async fn config(&self, patch: Value) -> Value {
        self.post("/config", patch).await
    }

    pub async fn current_config(&self) -> Value {
        self.get("/config").await
    }

    /// Default behaviour; forgets submits, delivered, held and queued receipts (sessions stay open).
    pub async fn reset(&self) {
        self.post("/reset", Value::Null).await;
    }

    pub async fn submits(&self) -> Vec<Submit> {
        self.get_typed("/submits").await
    }

    /// Waits until at least `n` submits arrived; panics with what arrived at `deadline`.
    pub async fn wait_submits(&self, n: usize, deadline: Duration) -> Vec<Submit> {
        self.wait(
            deadline,
            &format!("{n} submits"),
            || self.submits(),
            |s| s.len() >= n,
        )
        .await
    }

    pub async fn binds(&self) -> Vec<BindInfo> {
        self.get_typed("/binds").await
    }

    /// Waits until `check` holds for the sessions list.
    pub async fn wait_binds(
        &self,
        what: &str,
        deadline: Duration,
        check: impl Fn(&[BindInfo]) -> bool,
    ) -> Vec<BindInfo> {
        self.wait(deadline, what, || self.binds(), |b| check(b))
            .await
    }

    /// Waits until `n` sessions are bound (and open) at the same time.
    pub async fn wait_bound(&self, n: usize, deadline: Duration) -> Vec<BindInfo> {
        self.wait_binds(&format!("{n} bound sessions"), deadline, |b| {
            b.iter().filter(|s| s.bound && !s.closed).count() >= n
        })
        .await
    }

    /// Sends one receipt now (queued when no RX/TRX session is bound).
    pub async fn deliver(&self, receipt: &Receipt) -> DeliverOutcome {
        let body = serde_json::to_value(receipt).expect("a receipt serialises");
        serde_json::from_value(self.post("/deliver", body).await).expect("a deliver outcome")
    }

    /// `POST /deliver` with a hand-written body.
    pub async fn deliver_json(&self, body: Value) -> Value {
        self.post("/deliver", body).await
    }

    pub async fn delivered(&self) -> Vec<Delivered> {
        self.get_typed("/delivered").await
    }

    /// Waits until at least `n` receipts were sent.
    pub async fn wait_delivered(&self, n: usize, deadline: Duration) -> Vec<Delivered> {
        self.wait(
            deadline,
            &format!("{n} receipts sent"),
            || self.delivered(),
            |d| d.len() >= n,
        )
        .await
    }

    /// Waits until at least `n` receipts were sent and every sent receipt was answered.
    pub async fn wait_delivered_answered(&self, n: usize, deadline: Duration) -> Vec<Delivered> {
        self.wait(
            deadline,
            &format!("{n} receipts sent and answered"),
            || self.delivered(),
            |d| d.len() >= n && d.iter().all(|r| r.command_status.is_some()),
        )
        .await
    }

    /// Waits until `check` holds for the receipts sent so far.
    pub async fn wait_delivered_where(
        &self,
        what: &str,
        deadline: Duration,
        check: impl Fn(&[Delivered]) -> bool,
    ) -> Vec<Delivered> {
        self.wait(deadline, what, || self.delivered(), |d| check(d))
            .await
    }

    pub async fn pending(&self) -> Pending {
        self.get_typed("/pending").await
    }

    /// Sends every held receipt; returns what happened to each.
    pub async fn release(&self) -> Vec<DeliverOutcome> {
        let answer = self.post("/release", Value::Null).await;
        serde_json::from_value(answer["results"].clone()).expect("release results")
    }

    /// Closes every SMPP connection now; returns the sessions that were open.
    pub async fn drop_connections(&self) -> Vec<u64> {
        let answer = self.post("/drop", Value::Null).await;
        serde_json::from_value(answer["closed"].clone()).expect("closed sessions")
    }

    /// Sends one enquire_link on every bound session; returns the sessions it went to. Whether each
    /// was answered shows in [`BindInfo::enquire_link_answered`].
    pub async fn enquire_link(&self) -> Vec<u64> {
        let answer = self.post("/enquire_link", Value::Null).await;
        serde_json::from_value(answer["sent"].clone()).expect("sessions")
    }

    async fn wait<T, F, Fut>(
        &self,
        deadline: Duration,
        what: &str,
        fetch: F,
        done: impl Fn(&T) -> bool,
    ) -> T
    where
        T: std::fmt::Debug,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let end = Instant::now() + deadline;
        loop {
            let value = fetch().await;
            if done(&value) {
                return value;
            }
            if Instant::now() >= end {
                panic!("smsc-peer: no {what} within {deadline:?}; last seen: {value:#?}");
            }
            sleep(POLL).await;
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.control))
            .send()
            .await
            .unwrap_or_else(|e| panic!("smsc-peer GET {path}: {e}"));
        Self::json(path, response).await
    }

    async fn get_typed<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let value = self.get(path).await;
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("smsc-peer GET {path}: unexpected shape ({e}): {value}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let mut request = self.http.post(format!("{}{path}", self.control));
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("smsc-peer POST {path}: {e}"));
        Self::json(path, response).await
    }

    async fn json(path: &str, response: reqwest::Response) -> Value {
        let status = response.status();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("smsc-peer {path}: reading the answer: {e}"));
        assert!(
            status.is_success(),
            "smsc-peer {path} answered {status}: {text}"
        );
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("smsc-peer {path} answered non-JSON ({e}): {text}"))
    }
}

impl Drop for SmscPeer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- smsc-peer log ---\n{}\n---------------------",
                self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
            );
        }
        let _ = self.child.start_kill();
    }
}
