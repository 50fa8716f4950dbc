//! The load: `/api/sms` requests from concurrent clients, at full speed or at an offered rate,
//! and a phase of `/api/status` queries for 100 ids each.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::domain::timefmt::to_millis;

/// One acknowledged message: its id and when its request was sent (unix ms).
pub struct Sent {
    pub id: u64,
    pub sent_at_ms: i64,
}

/// How to send: `messages` in requests of `per_request` recipients, `concurrency` at once, and
/// with `rate` (messages/s) requests start on a fixed schedule instead of as fast as answered.
pub struct Load {
    pub messages: usize,
    pub per_request: usize,
    pub concurrency: usize,
    pub rate: Option<f64>,
}

/// What the senders saw: every message sent and every request's answer time (ms).
pub struct Sends {
    pub sent: Vec<Sent>,
    pub acks: Vec<f64>,
    /// With a rate: the latest any request started after its scheduled time (ms).
    pub max_lag_ms: f64,
}

pub fn now_ms() -> i64 {
    to_millis(OffsetDateTime::now_utc())
}

/// Sends the whole load, client `i` to `bases[i % bases.len()]` (several nodes share it). With a
/// rate, a message's send time is its scheduled time, so a request that had to wait for a free
/// client counts that wait (no coordinated omission).
pub async fn send_all(
    client: &reqwest::Client,
    bases: &[String],
    key: &str,
    load: &Load,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<Sends> {
    let requests = load.messages.div_ceil(load.per_request);
    let interval_ms = load
        .rate
        .map(|rate| load.per_request as f64 * 1000.0 / rate);
    let next = Arc::new(AtomicUsize::new(0));
    let (start, start_ms) = (Instant::now(), now_ms());
    let mut tasks = Vec::new();
    for i in 0..load.concurrency {
        let (client, next) = (client.clone(), next.clone());
        let base = &bases[i % bases.len()];
        let (url, key) = (format!("{base}/api/sms"), key.to_owned());
        let per_request = load.per_request;
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut sends = Sends {
                sent: Vec::new(),
                acks: Vec::new(),
                max_lag_ms: 0.0,
            };
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    return Ok::<_, anyhow::Error>(sends);
                }
                let sent_at_ms = match interval_ms {
                    Some(interval) => {
                        let due = Duration::from_secs_f64(n as f64 * interval / 1000.0);
                        tokio::time::sleep_until((start + due).into()).await;
                        let lag = start.elapsed().saturating_sub(due).as_secs_f64() * 1000.0;
                        sends.max_lag_ms = sends.max_lag_ms.max(lag);
                        start_ms + (n as f64 * interval) as i64
                    }
                    None => now_ms(),
                };
                let begin = Instant::now();
                let ids = send_one(&client, &url, &key, n, per_request).await?;
                sends.acks.push(begin.elapsed().as_secs_f64() * 1000.0);
                progress.inc(ids.len() as u64);
                sends
                    .sent
                    .extend(ids.into_iter().map(|id| Sent { id, sent_at_ms }));
            }
        }));
    }
    let mut all = Sends {
        sent: Vec::with_capacity(load.messages),
        acks: Vec::with_capacity(requests),
        max_lag_ms: 0.0,
    };
    for task in tasks {
        let sends = task.await??;
        all.sent.extend(sends.sent);
        all.acks.extend(sends.acks);
        all.max_lag_ms = all.max_lag_ms.max(sends.max_lag_ms);
    }
    Ok(all)
}

/// Request `n`: `per_request` recipients whose last digits 1–5 make every message end
/// DELIVERED after ACCEPTED and TRANSMITTED (sandbox and smsc-sim alike).
async fn send_one(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    n: usize,
    per_request: usize,
) -> anyhow::Result<Vec<u64>> {
    let to: Vec<String> = (0..per_request)
        .map(|i| format!("4917{:08}{}", n * per_request + i, 1 + (n + i) % 5))
        .collect();
    let body: Value = client
        .post(url)
        .header("X-Api-Key", key)
        .header("Accept", "application/json")
        .json(&json!({"to": to.join(","), "text": "dlrgate bench message"}))
        .send()
        .await?
        .json()
        .await?;
    let messages = body["messages"]
        .as_array()
        .with_context(|| format!("unexpected answer {body}"))?;
    messages
        .iter()
        .map(|message| {
            message["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .with_context(|| format!("message without a numeric id: {body}"))
        })
        .collect()
}

/// Queries `/api/status` with 100 ids per request from `concurrency` clients for `seconds`;
/// every answer must show DELIVERED for all its ids. Returns each request's time (ms).
pub async fn status_queries(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    sent: &[Sent],
    concurrency: usize,
    seconds: f64,
) -> anyhow::Result<Vec<f64>> {
    let queries: Arc<Vec<(String, usize)>> = Arc::new(
        sent.chunks(100)
            .map(|chunk| {
                let ids: Vec<String> = chunk.iter().map(|s| s.id.to_string()).collect();
                let url = format!("{base}/api/status?msg_id={}", ids.join(","));
                (url, ids.len())
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, queries, key) = (
            client.clone(),
            next.clone(),
            queries.clone(),
            key.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < until {
                let (url, count) = &queries[next.fetch_add(1, Ordering::Relaxed) % queries.len()];
                let begin = Instant::now();
                let body: Value = client
                    .get(url)
                    .header("X-Api-Key", &key)
                    .header("Accept", "application/json")
                    .send()
                    .await?
                    .json()
                    .await?;
                times.push(begin.elapsed().as_secs_f64() * 1000.0);
                let entries = body.as_array().context("status answer is not a list")?;
                if entries.len() != *count || entries.iter().any(|e| e["status"] != "DELIVERED") {
                    bail!("wrong status answer: {body}");
                }
            }
            Ok::<_, anyhow::Error>(times)
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await??);
    }
    Ok(times)
}
