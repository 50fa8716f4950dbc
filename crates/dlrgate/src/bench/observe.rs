//! What the bench checks and times after sending: every message's final status through
//! `/api/status`, and the webhooks a loopback receiver gets. Any final status other than
//! DELIVERED, any webhook of an earlier status after the final one, and any message without its
//! final webhook by the deadline is an error of the run.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::load::{Sent, now_ms};
use crate::domain::status::DeliveryStatus;
use crate::domain::timefmt::parse_seven_millis;

/// One webhook as the receiver got it.
pub struct Hook {
    id: u64,
    status: DeliveryStatus,
    /// The status time the webhook carries (when dlrgate learned the status), unix ms.
    status_at_ms: i64,
    arrived_ms: i64,
}

/// A loopback receiver that reports every webhook it gets and answers 200.
pub async fn start_receiver() -> anyhow::Result<(String, mpsc::UnboundedReceiver<Hook>)> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let handler = move |axum::Json(event): axum::Json<Value>| {
        let sender = sender.clone();
        async move {
            let arrived_ms = now_ms();
            let data = &event["data"];
            let hook = (|| {
                Some(Hook {
                    id: data["msg_id"].as_str()?.parse().ok()?,
                    status: data["status"].as_str()?.parse().ok()?,
                    status_at_ms: parse_seven_millis(data["timestamp"].as_str()?)?,
                    arrived_ms,
                })
            })();
            match hook {
                Some(hook) => {
                    let _ = sender.send(hook);
                    axum::http::StatusCode::OK
                }
                None => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            }
        }
    };
    let app = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, receiver))
}

/// Final webhooks as received, with the errors found.
#[derive(Default)]
pub struct Webhooks {
    /// Send to the first final webhook of each message, ms.
    pub send_to_final: Vec<f64>,
    /// Status time to the first final webhook's arrival (receipt to webhook), ms.
    pub status_to_final: Vec<f64>,
    /// When the last first-final webhook arrived, unix ms.
    pub last_final_ms: i64,
    /// Webhooks received in all (every status, repeats included).
    pub received: usize,
    /// Final webhooks received again (at least once delivery; the receiver answered 200).
    pub repeated_finals: usize,
    /// Messages whose final webhook had not arrived by the deadline.
    pub lost: usize,
    /// Wrong final statuses and statuses after the final one, at most 10 described.
    pub wrong: Vec<String>,
}

/// Waits until every sent message got its final webhook, or until `deadline`.
pub async fn wait_for_webhooks(
    hooks: &mut mpsc::UnboundedReceiver<Hook>,
    sent: &[Sent],
    deadline: Instant,
    progress: &indicatif::ProgressBar,
) -> Webhooks {
    let sent_at: HashMap<u64, i64> = sent.iter().map(|s| (s.id, s.sent_at_ms)).collect();
    let mut finals: HashSet<u64> = HashSet::with_capacity(sent.len());
    let mut seen = Webhooks::default();
    while finals.len() < sent.len() {
        let Ok(Some(hook)) = tokio::time::timeout_at(deadline, hooks.recv()).await else {
            break;
        };
        seen.received += 1;
        let Some(sent_at) = sent_at.get(&hook.id) else {
            seen.wrong(format!("webhook for a message not sent: {}", hook.id));
            continue;
        };
        let final_seen = finals.contains(&hook.id);
        match (hook.status.is_final(), final_seen) {
            (false, true) => seen.wrong(format!(
                "{} after the final status of {}",
                hook.status, hook.id
            )),
            (false, false) => {}
            (true, true) => seen.repeated_finals += 1,
            (true, false) => {
                if hook.status != DeliveryStatus::Delivered {
                    seen.wrong(format!(
                        "{} ended {} instead of DELIVERED",
                        hook.id, hook.status
                    ));
                }
                finals.insert(hook.id);
                progress.inc(1);
                seen.last_final_ms = seen.last_final_ms.max(hook.arrived_ms);
                seen.send_to_final.push((hook.arrived_ms - sent_at) as f64);
                seen.status_to_final
                    .push((hook.arrived_ms - hook.status_at_ms) as f64);
            }
        }
    }
    seen.lost = sent.len() - finals.len();
    seen
}

impl Webhooks {
    fn wrong(&mut self, what: String) {
        if self.wrong.len() < 10 {
            self.wrong.push(what);
        }
    }
}

/// Polls `/api/status` in chunks until every message has a final status; returns each message's
/// send-to-final latency in ms. A final status other than DELIVERED, or a message not final by
/// `deadline`, is an error.
pub async fn wait_for_finals(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    sent: &[Sent],
    deadline: Instant,
) -> anyhow::Result<Vec<f64>> {
    let mut latencies = Vec::with_capacity(sent.len());
    for chunk in sent.chunks(500) {
        let ids: Vec<String> = chunk.iter().map(|s| s.id.to_string()).collect();
        let url = format!("{base}/api/status?msg_id={}", ids.join(","));
        loop {
            let body: Value = client
                .get(&url)
                .header("X-Api-Key", key)
                .header("Accept", "application/json")
                .send()
                .await?
                .json()
                .await?;
            let entries = body
                .as_array()
                .filter(|entries| entries.len() == chunk.len())
                .with_context(|| format!("unexpected status answer {body}"))?;
            let statuses: Vec<Option<DeliveryStatus>> = entries
                .iter()
                .map(|e| e["status"].as_str().and_then(|s| s.parse().ok()))
                .collect();
            if let Some((entry, _)) = entries.iter().zip(&statuses).find(|(_, status)| {
                status.is_some_and(|s| s.is_final() && s != DeliveryStatus::Delivered)
            }) {
                bail!("wrong final status: {entry}");
            }
            if statuses
                .iter()
                .all(|s| s.is_some_and(DeliveryStatus::is_final))
            {
                for (entry, sent) in entries.iter().zip(chunk) {
                    let at = entry["status_time"]
                        .as_str()
                        .and_then(parse_seven_millis)
                        .with_context(|| format!("status without time: {entry}"))?;
                    latencies.push((at - sent.sent_at_ms) as f64);
                }
                break;
            }
            if Instant::now() > deadline {
                bail!("messages were not final by the deadline: {body}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(latencies)
}
