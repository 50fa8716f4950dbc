//! `/metrics` after real traffic (issue 11): the latency histograms count every final status and
//! every delivered webhook, attempts are counted by outcome, and the per-hook outbox gauges show
//! a failing receiver's backlog and go back to 0 once it drained.
//!
//! Each test runs the real binary (`dlrgate serve`) rather than an `Application` in this process:
//! the metrics recorder is process-wide, so only a process of its own gives counts that other
//! tests running meanwhile cannot change, and exact counts are what these tests check.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::binary::Server;
use crate::helpers::hooks::{Api, recipients, sequence};
use crate::helpers::receiver::{Reply, WebhookReceiver};

const WITHIN: Duration = Duration::from_secs(20);

/// A `dlrgate serve` process with a fast sandbox, delivering webhooks to loopback.
pub struct Node {
    /// Killed when dropped.
    _server: Server,
    pub api: Api,
    _data: TempDir,
}

/// Starts the binary with `retry_schedule` and `args` (such as `--config FILE`).
pub async fn start(retry_schedule: &str, args: &[String]) -> Node {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_path_buf();
    let env: Vec<(&'static str, String)> = vec![
        ("DLRGATE_SANDBOX_SPEED", "1000".into()),
        ("DLRGATE_WORKERS_TICK", "5ms".into()),
        ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8".into()),
        ("DLRGATE_WEBHOOK_RETRY_SCHEDULE", retry_schedule.into()),
        ("DLRGATE_WEBHOOK_JITTER", "0".into()),
        ("DLRGATE_WEBHOOK_TIMEOUT", "2s".into()),
        ("DLRGATE_LOG_LEVEL", "error".into()),
    ];
    let args = args.to_vec();
    let server = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::start_with_args(&dir, &env, &args)
    })
    .await
    .unwrap();
    let api = Api::new(&server.base, server.api_key.as_deref().unwrap());
    Node {
        _server: server,
        api,
        _data: data,
    }
}

/// The Prometheus text of `/metrics`, fetched without credentials.
pub async fn scrape(api: &Api) -> String {
    let response = api
        .http
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The sum of the samples of `name` whose labels include `labels`; `None` when there is none.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    let values: Vec<f64> = text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (labels, value) = match rest.strip_prefix('{') {
                Some(rest) => rest.split_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            let have: Vec<&str> = labels.split(',').collect();
            wanted
                .iter()
                .all(|w| have.contains(&w.as_str()))
                .then(|| value.trim().parse::<f64>().ok())?
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// Scrapes until `done` holds for the text; panics after `within` with the last scrape.
async fn scrape_until(api: &Api, within: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let text = scrape(api).await;
        if done(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "never reached: {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn all_delivered(count: usize) -> impl Fn(&[Value]) -> bool {
    move |deliveries| {
        deliveries.len() == count && deliveries.iter().all(|d| d["state"] == "delivered")
    }
}

#[tokio::test]
async fn histograms_count_every_final_status_and_every_delivered_webhook() {
    // Arrange: six messages, two of each final status, and a hook that answers 200.
    let node = start("0ms,50ms,100ms,200ms,400ms", &[]).await;
    let mut receiver = WebhookReceiver::start().await;
    let hook = node.api.subscribe(&receiver.url).await;
    let to = recipients("1701", 6, b"179");
    let deliveries: usize = to.iter().map(|r| sequence(r).len()).sum();

    // Act
    let sent = node.api.send(&to).await;
    node.api.wait_for_final_statuses(&sent, WITHIN).await;
    node.api
        .wait_for_deliveries(&hook, WITHIN, all_delivered(deliveries))
        .await;
    let text = scrape(&node.api).await;
    let received = receiver.drain().len();

    // Assert
    let finals = "dlrgate_message_final_seconds_count";
    for status in ["DELIVERED", "NOTDELIVERED", "REJECTED"] {
        let labels = [("connector", "sandbox"), ("status", status)];
        assert_eq!(
            sample(&text, finals, &labels),
            Some(2.0),
            "{status}: {text}"
        );
    }
    assert_eq!(sample(&text, finals, &[]), Some(6.0), "{text}");
    let bucket = [("le", "+Inf")];
    let finals_inf = sample(&text, "dlrgate_message_final_seconds_bucket", &bucket);
    assert_eq!(finals_inf, Some(6.0), "{text}");
    assert_eq!(received, deliveries, "one request per status");
    let webhooks = sample(&text, "dlrgate_webhook_delivery_seconds_count", &[]);
    assert_eq!(webhooks, Some(deliveries as f64), "{text}");
    let delivered = [("outcome", "delivered")];
    let attempts = sample(&text, "dlrgate_webhook_attempts_total", &delivered);
    assert_eq!(attempts, Some(deliveries as f64), "{text}");
    let hook_label = [("hook", hook.as_str())];
    let depth = sample(&text, "dlrgate_webhook_outbox_depth", &hook_label);
    let age = sample(
        &text,
        "dlrgate_webhook_outbox_oldest_age_seconds",
        &hook_label,
    );
    assert_eq!((depth, age), (Some(0.0), Some(0.0)), "{text}");
    let submits = [("op", "submit")];
    let stored = sample(&text, "dlrgate_store_write_seconds_count", &submits);
    assert!(stored.is_some_and(|n| n >= 1.0), "{text}");
}

#[tokio::test]
async fn a_failing_receiver_shows_in_the_outbox_gauges_until_it_drained() {
    // Arrange: a receiver that fails every attempt, retried every 100 ms for a while.
    let schedule = ["0ms"]
        .into_iter()
        .chain(["100ms"; 99])
        .collect::<Vec<_>>()
        .join(",");
    let node = start(&schedule, &[]).await;
    let mut receiver = WebhookReceiver::start().await;
    receiver.set_default(Reply::status(500));
    let hook = node.api.subscribe(&receiver.url).await;
    let hook_label = [("hook", hook.as_str())];
    let to = recipients("1702", 2, b"1");

    // Act 1: statuses pile up while every attempt fails.
    let sent = node.api.send(&to).await;
    receiver.next(WITHIN).await;
    let failing = scrape_until(&node.api, WITHIN, |text| {
        let depth = sample(text, "dlrgate_webhook_outbox_depth", &hook_label);
        let age = sample(
            text,
            "dlrgate_webhook_outbox_oldest_age_seconds",
            &hook_label,
        );
        depth.unwrap_or(0.0) > 0.0 && age.unwrap_or(0.0) > 0.0
    })
    .await;

    // Assert 1
    let failed = [("outcome", "http_status")];
    let failures = sample(&failing, "dlrgate_webhook_attempts_total", &failed);
    assert!(failures.unwrap_or(0.0) >= 1.0, "{failing}");
    let delivered = [("outcome", "delivered")];
    let none = sample(&failing, "dlrgate_webhook_attempts_total", &delivered);
    assert_eq!(none.unwrap_or(0.0), 0.0, "{failing}");

    // Act 2: the receiver recovers and the backlog drains.
    receiver.set_default(Reply::status(200));
    node.api.wait_for_final_statuses(&sent, WITHIN).await;
    let deliveries: usize = to.iter().map(|r| sequence(r).len()).sum();
    node.api
        .wait_for_deliveries(&hook, WITHIN, all_delivered(deliveries))
        .await;
    let drained = scrape(&node.api).await;

    // Assert 2
    let depth = sample(&drained, "dlrgate_webhook_outbox_depth", &hook_label);
    let age = sample(
        &drained,
        "dlrgate_webhook_outbox_oldest_age_seconds",
        &hook_label,
    );
    assert_eq!((depth, age), (Some(0.0), Some(0.0)), "{drained}");
    let webhooks = sample(&drained, "dlrgate_webhook_delivery_seconds_count", &[]);
    assert_eq!(webhooks, Some(deliveries as f64), "{drained}");
    let attempts = sample(&drained, "dlrgate_webhook_attempts_total", &delivered);
    assert_eq!(attempts, Some(deliveries as f64), "{drained}");
}

/// Every `dlrgate_…` name in `text`.
fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("dlrgate_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// The alert rules of docs/operations.md: the YAML block under "## Alerts".
fn alert_rules(doc: &str) -> &str {
    let alerts = &doc[doc.find("## Alerts").expect("an Alerts section")..];
    let block = &alerts[alerts.find("```yaml").expect("a YAML block")..];
    &block[..block[3..].find("```").expect("the block's end") + 3]
}

#[tokio::test]
async fn every_metric_of_the_dashboard_and_the_alert_rules_is_in_a_real_scrape() {
    // Arrange: an SMPP connector (to a port nobody listens on: its metrics exist unbound), a
    // hook, and one message through to its final status and webhooks.
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let dashboard = std::fs::read_to_string(docs.join("grafana/dlrgate.json")).unwrap();
    let operations = std::fs::read_to_string(docs.join("operations.md")).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("smpp.toml");
    let toml = format!(
        "[[connectors]]\nname = \"smsc1\"\ntype = \"smpp\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         system_id = \"dlrgate\"\npassword = \"secret\"\n"
    );
    std::fs::write(&file, toml).unwrap();
    let args = ["--config".to_owned(), file.to_str().unwrap().to_owned()];
    let node = start("0ms,50ms,100ms", &args).await;
    let receiver = WebhookReceiver::start().await;
    let hook = node.api.subscribe(&receiver.url).await;
    let to = recipients("1703", 1, b"1");
    let sent = node.api.send(&to).await;
    node.api.wait_for_final_statuses(&sent, WITHIN).await;
    let deliveries = sequence(&to[0]).len();
    node.api
        .wait_for_deliveries(&hook, WITHIN, all_delivered(deliveries))
        .await;

    // Act
    let text = scrape(&node.api).await;

    // Assert
    let serde_check: Value = serde_json::from_str(&dashboard).unwrap();
    assert_eq!(serde_check["templating"]["list"][0]["type"], "datasource");
    let scraped: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .collect();
    let used: Vec<String> = metric_names(&dashboard)
        .into_iter()
        .chain(metric_names(alert_rules(&operations)))
        .collect();
    assert!(used.len() > 10, "{used:?}");
    let missing: Vec<&String> = used
        .iter()
        .filter(|name| !scraped.contains(name.as_str()))
        .collect();
    assert!(missing.is_empty(), "not in /metrics: {missing:?}\n{text}");
}
