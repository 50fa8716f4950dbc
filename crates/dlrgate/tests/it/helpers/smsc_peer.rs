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

use serde::{Deserialize, Serialize};
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

/// One `submit_sm` (or `data_sm`) as the peer received it (`GET /submits`).
#[derive(Debug, Clone, Deserialize)]
pub struct Submit {
    /// "submit_sm" or "data_sm".
    pub command: String,
    pub sequence_number: u32,
    /// The id the peer answered with; `None` when it answered an error or nothing.
    pub message_id: Option<String>,
    /// The status answered; `None` when the peer swallowed it (`no_response_next`).
    pub command_status: Option<u32>,
    pub answered: bool,
    pub service_type: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: String,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: String,
    pub esm_class: u8,
    pub protocol_id: Option<u8>,
    pub priority_flag: Option<u8>,
    pub schedule_delivery_time: Option<String>,
    pub validity_period: Option<String>,
    pub registered_delivery: u8,
    pub data_coding: u8,
    pub short_message_hex: String,
    pub message_payload_hex: Option<String>,
    /// Best-effort text: UCS-2 for data_coding 8, Latin-1 otherwise, without the UDH.
    pub text: String,
    pub udh: Option<Udh>,
    pub sar: Option<Sar>,
    pub tlvs: Vec<TlvHex>,
    /// The peer's id of the session it came on (see [`BindInfo::session`]).
    pub session: u64,
    pub received_at: String,
}

impl Submit {
    /// The raw `short_message` octets (UDH included).
    pub fn short_message(&self) -> Vec<u8> {
        hex::decode(&self.short_message_hex).expect("the peer writes hex")
    }
}

/// A user data header at the start of `short_message` (esm_class 0x40).
#[derive(Debug, Clone, Deserialize)]
pub struct Udh {
    pub hex: String,
    pub concat: Option<Concat>,
}

/// The concatenation element (IEI 0x00, 8-bit reference, or 0x08, 16-bit reference).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Concat {
    #[serde(rename = "ref")]
    pub reference: u16,
    pub total: u8,
    pub seq: u8,
    pub ref_bits: u8,
}

/// The sar_* TLVs, when all three were present.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Sar {
    pub msg_ref_num: u16,
    pub total_segments: u8,
    pub segment_seqnum: u8,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TlvHex {
    pub tag: u16,
    pub hex: String,
}

/// One SMPP connection to the peer, open or closed (`GET /binds`).
#[derive(Debug, Clone, Deserialize)]
pub struct BindInfo {
    pub session: u64,
    /// "bind_transceiver", "bind_transmitter", "bind_receiver", or `None` before any bind.
    pub command: Option<String>,
    pub system_id: Option<String>,
    pub interface_version: Option<u8>,
    /// "tx", "rx" or "trx" once bound.
    pub mode: Option<String>,
    pub bound: bool,
    pub closed: bool,
    /// The status of the last bind_resp (0 = bound).
    pub bind_status: Option<u32>,
    #[serde(default)]
    pub bind_attempts: u32,
    pub enquire_link_sent: u32,
    pub enquire_link_answered: u32,
    pub enquire_link_received: u32,
}

/// A receipt the peer sent (`GET /delivered`).
#[derive(Debug, Clone, Deserialize)]
pub struct Delivered {
    /// "auto", "duplicate", "intermediate" (automatic receipts) or "manual" (`POST /deliver`).
    pub kind: String,
    /// The id as written in the TLV and the text.
    pub id: String,
    pub stat: String,
    pub message_state: Option<u8>,
    pub err: String,
    /// Whether the receipted_message_id/message_state TLVs were sent.
    pub tlvs: bool,
    /// Whether Appendix B text was sent.
    pub text: bool,
    pub esm_class: u8,
    pub network_error_code: Option<Value>,
    /// "deliver_sm" or "data_sm".
    pub via: String,
    pub session: u64,
    pub sequence_number: u32,
    /// The text sent (`short_message`, or `message_payload` for data_sm).
    pub short_message: String,
    /// The deliver_sm_resp / data_sm_resp status; `None` while unanswered.
    pub command_status: Option<u32>,
    /// 1 for the first sending, then 2, 3… for re-sendings (`redeliver_unacked`).
    pub attempt: u32,
    /// True once a re-sending of this receipt was scheduled.
    pub requeued: bool,
}

/// What `POST /deliver` and `POST /release` did with one receipt.
#[derive(Debug, Clone, Deserialize)]
pub struct DeliverOutcome {
    pub sequence_number: Option<u32>,
    pub session: Option<u64>,
    /// True when no RX/TRX session was bound: the receipt goes out on the next bind.
    #[serde(default)]
    pub queued: bool,
}

/// Receipts not yet sent (`GET /pending`): held by `hold_receipts`, or waiting for an RX/TRX bind.
#[derive(Debug, Clone, Deserialize)]
pub struct Pending {
    pub held: Vec<Value>,
    pub queued: Vec<Value>,
}

/// A receipt for [`SmscPeer::deliver`]; the defaults are a DELIVRD receipt with TLVs and text.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub id: String,
    pub stat: String,
    pub message_state: Option<u8>,
    pub err: String,
    pub tlvs: bool,
    pub text: bool,
    pub esm_class: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_error_code: Option<NetworkError>,
    /// "deliver_sm" or "data_sm".
    pub via: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_override: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_addr: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct NetworkError {
    #[serde(rename = "type")]
    pub network_type: u8,
    pub code: u16,
}

impl Receipt {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            stat: "DELIVRD".into(),
            message_state: Some(2),
            err: "000".into(),
            tlvs: true,
            text: true,
            esm_class: 0x04,
            network_error_code: None,
            via: "deliver_sm".into(),
            session: None,
            text_override: None,
            source_addr: None,
            destination_addr: None,
        }
    }

    /// `stat` and `message_state` together, e.g. `("UNDELIV", 5)`.
    pub fn state(mut self, stat: &str, message_state: u8) -> Self {
        self.stat = stat.into();
        self.message_state = Some(message_state);
        self
    }

    pub fn err(mut self, err: &str) -> Self {
        self.err = err.into();
        self
    }

    pub fn tlvs_only(mut self) -> Self {
        self.tlvs = true;
        self.text = false;
        self
    }

    pub fn text_only(mut self) -> Self {
        self.tlvs = false;
        self.text = true;
        self
    }

    pub fn esm_class(mut self, esm_class: u8) -> Self {
        self.esm_class = esm_class;
        self
    }

    pub fn network_error(mut self, network_type: u8, code: u16) -> Self {
        self.network_error_code = Some(NetworkError { network_type, code });
        self
    }

    pub fn via_data_sm(mut self) -> Self {
        self.via = "data_sm".into();
        self
    }

    pub fn on_session(mut self, session: u64) -> Self {
        self.session = Some(session);
        self
    }

    /// Replaces the whole Appendix B text with `text`.
    pub fn raw_text(mut self, text: impl Into<String>) -> Self {
        self.text_override = Some(text.into());
        self
    }
}

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
