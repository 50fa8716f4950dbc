//! A cluster of two real `dlrgate serve` processes for tests of several nodes: each with its own
//! data directory and HTTP port, both on one fresh PostgreSQL database and bound with the same
//! SMPP connector (`smsc1`, system_id `dlrgate`) to one npm SMSC peer.
//!
//! Two processes rather than two `Application`s in one test process: nothing (statics, the
//! metrics recorder, a cache) can be shared between the nodes except the database, and each
//! node's `/metrics` counts only its own receipts. Both nodes claim from the same queue, so
//! [`Cluster::send_through`] pauses the node that is not meant to submit (SIGSTOP) until the SMSC
//! has the submits; what the paused node is sent meanwhile waits in its socket.
//!
//! Before any traffic, each node submits one message of its own ([`Cluster::start`]): a node's
//! submitter settles every claimed message of its connector as in doubt when it starts (it
//! takes them for a dead process's), so traffic may only begin once both submitters are past
//! that step.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::binary::Server;
use super::hooks::{Api, Sent};
use super::postgres::{TestDatabase, fresh_database};
use super::smsc_peer::SmscPeer;

pub const WITHIN: Duration = Duration::from_secs(20);

/// One `dlrgate serve` process of the cluster.
pub struct Node {
    pub server: Server,
    pub api: Api,
    /// The SMSC peer's id of this node's bind.
    pub session: u64,
    _data: TempDir,
}

/// Two nodes on one database and one SMSC. Fields drop in order: nodes first, the database last.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub peer: SmscPeer,
    _config: TempDir,
    _db: TestDatabase,
}

/// The connector both nodes share; submit responses may come late (early-receipt test).
pub fn config_file(dir: &Path, peer: &SmscPeer) -> String {
    let path = dir.join("smpp.toml");
    let toml = format!(
        r#"
[[connectors]]
name = "smsc1"
type = "smpp"
host = "127.0.0.1"
port = {}
system_id = "dlrgate"
password = "secret"
response_timeout = "10s"
reconnect_min = "50ms"
reconnect_max = "200ms"

[routing]
default = "smsc1"
"#,
        peer.smpp_port()
    );
    std::fs::write(&path, toml).unwrap();
    path.to_str().unwrap().to_owned()
}

impl Cluster {
    /// Starts the SMSC (checking credentials), node 0 (which creates the account), then node 1,
    /// each once its bind is up; warms both up, then gives the SMSC a clean slate with receipts
    /// on the other bind and `behaviour`.
    pub async fn start(behaviour: Value) -> Cluster {
        let credentials = json!({"system_id": "dlrgate", "password": "secret"});
        let peer = SmscPeer::start_with(credentials.clone()).await;
        let db = fresh_database().await;
        let config_dir = tempfile::tempdir().unwrap();
        let config = config_file(config_dir.path(), &peer);
        let (first, key) = start_node(&db, &config, &peer, None).await;
        let (second, _) = start_node(&db, &config, &peer, Some(&key)).await;
        let binds = peer.binds().await;
        let bound: Vec<_> = binds.iter().filter(|b| b.bound && !b.closed).collect();
        assert_eq!(bound.len(), 2, "{binds:#?}");
        assert!(
            bound
                .iter()
                .all(|b| b.system_id.as_deref() == Some("dlrgate")
                    && b.mode.as_deref() == Some("trx")),
            "{binds:#?}"
        );
        let cluster = Cluster {
            nodes: vec![first, second],
            peer,
            _config: config_dir,
            _db: db,
        };
        cluster.warm_up().await;
        cluster.peer.reset().await;
        let mut wanted = credentials;
        wanted["receipt_session"] = json!("other");
        cluster.peer.config(wanted).await;
        cluster.peer.config(behaviour).await;
        cluster
    }

    /// Has each node submit one message (no receipt) while the other is paused, and waits until
    /// it is stored ACCEPTED before the other resumes: then both submitters are past their start
    /// and no message is in flight.
    async fn warm_up(&self) {
        for (sender, node) in self.nodes.iter().enumerate() {
            let other = &self.nodes[1 - sender];
            signal(&other.server, "STOP");
            let sent = node.api.send(&[format!("491779{sender}0000")]).await;
            let status = wait_for_status(&node.api, &sent[0].id, "ACCEPTED").await;
            signal(&other.server, "CONT");
            assert_eq!(status[0]["status"], "ACCEPTED", "warm-up: {status}");
            let submits = self.peer.submits().await;
            assert_eq!(submits.len(), sender + 1, "{submits:#?}");
            assert_eq!(submits[sender].session, node.session, "{submits:#?}");
        }
    }

    /// Sends `count` messages through `sender`'s API while the other node is paused, and returns
    /// them once the SMSC has every submit (all on `sender`'s bind, checked).
    pub async fn send_through(&self, sender: usize, count: usize, prefix: &str) -> Vec<Sent> {
        let other = &self.nodes[1 - sender];
        let before = self.peer.submits().await.len();
        signal(&other.server, "STOP");
        let recipients: Vec<String> = (0..count).map(|n| format!("49{prefix}{n:04}")).collect();
        let sent = self.nodes[sender].api.send(&recipients).await;
        let submits = self.peer.wait_submits(before + count, WITHIN).await;
        signal(&other.server, "CONT");
        let sessions: Vec<u64> = submits[before..].iter().map(|s| s.session).collect();
        assert_eq!(
            sessions,
            vec![self.nodes[sender].session; count],
            "{submits:#?}"
        );
        sent
    }

    /// Asserts that every message is DELIVERED in both nodes' `/api/status`, with the reports
    /// ACCEPTED then DELIVERED of connector `smsc1` in its history.
    pub async fn assert_delivered_on_both_nodes(&self, sent: &[Sent]) {
        for message in sent {
            for node in &self.nodes {
                let status = wait_for_status(&node.api, &message.id, "DELIVERED").await;
                assert_eq!(status[0]["status"], "DELIVERED", "{}: {status}", message.id);
            }
            let events = self.nodes[0]
                .api
                .get(&format!("/api/messages/{}/events", message.id))
                .await;
            let reports: Vec<(&str, &str)> = events["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "report")
                .map(|e| (e["state"].as_str().unwrap(), e["source"].as_str().unwrap()))
                .collect();
            assert_eq!(
                reports,
                [("ACCEPTED", "smsc1"), ("DELIVERED", "smsc1")],
                "{events}"
            );
        }
    }
}

/// Starts one node on `db` and waits for its bind; returns it with the API key (printed by the
/// node that created the account, `key` for the others).
pub async fn start_node(
    db: &TestDatabase,
    config: &str,
    peer: &SmscPeer,
    key: Option<&str>,
) -> (Node, String) {
    let known: BTreeSet<u64> = peer.binds().await.iter().map(|b| b.session).collect();
    let data = tempfile::tempdir().unwrap();
    let (dir, url, config) = (data.path().to_path_buf(), db.url.clone(), config.to_owned());
    let server = tokio::task::spawn_blocking(move || {
        let env = [
            ("DLRGATE_STORE_DATABASE_URL", url.as_str()),
            ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8"),
            (
                "DLRGATE_WEBHOOK_RETRY_SCHEDULE",
                "0ms,50ms,100ms,200ms,400ms",
            ),
            ("DLRGATE_WEBHOOK_JITTER", "0"),
            ("DLRGATE_WORKERS_TICK", "10ms"),
        ];
        Server::start_with_args(&dir, &env, &["--config", &config])
    })
    .await
    .unwrap();
    let key = match key {
        Some(key) => key.to_owned(),
        None => server
            .api_key
            .clone()
            .expect("the first node prints the API key"),
    };
    let binds = peer
        .wait_binds("the new node's bind", WITHIN, |binds| {
            binds.iter().any(|b| b.bound && !known.contains(&b.session))
        })
        .await;
    let session = binds
        .iter()
        .find(|b| b.bound && !known.contains(&b.session))
        .unwrap()
        .session;
    let api = Api::new(&server.base, &key);
    let node = Node {
        server,
        api,
        session,
        _data: data,
    };
    (node, key)
}

/// Sends SIGSTOP or SIGCONT to a node.
pub fn signal(server: &Server, name: &str) {
    let pid = server.child.id().to_string();
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

pub async fn wait_for_status(api: &Api, id: &str, expect: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let body = api.get(&format!("/api/status?msg_id={id}")).await;
        if body[0]["status"] == expect || tokio::time::Instant::now() > deadline {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `dlrgate_receipts_total{connector="smsc1",result=…}` in a node's `/metrics`, 0 when absent.
pub async fn receipts_counted(node: &Node, result: &str) -> u64 {
    let text = node
        .api
        .http
        .get(format!("{}/metrics", node.api.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = format!("result=\"{result}\"");
    text.lines()
        .filter(|line| line.starts_with("dlrgate_receipts_total{") && line.contains(&label))
        .filter(|line| line.contains("connector=\"smsc1\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// `(matched, parked)` receipts counted by each node, in node order.
pub async fn receipts_per_node(cluster: &Cluster) -> Vec<(u64, u64)> {
    let mut counts = Vec::new();
    for node in &cluster.nodes {
        counts.push((
            receipts_counted(node, "matched").await,
            receipts_counted(node, "parked").await,
        ));
    }
    counts
}
