//! `dlrgate bench`: an end-to-end load test of a real dlrgate on loopback. It starts the
//! `Application` on 127.0.0.1:0 with a fresh data directory, sends messages over HTTP from many
//! concurrent clients, then reads back when each message reached its final status.
//!
//! Figures: acknowledged sends per second, acknowledgement latency, send-to-final-status latency
//! (from the moment the client sent the request to the status time the server stored), and
//! send-to-final-webhook latency (until a loopback receiver got the signed DELIVERED webhook; every
//! message also produces ACCEPTED and TRANSMITTED webhooks). All on this machine's clock. The
//! sandbox is sped up so its simulated network delay is negligible and the figures measure
//! dlrgate itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::Application;
use crate::config::{Overrides, Settings};
use crate::domain::timefmt::to_millis;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Messages to send in total.
    #[arg(long, default_value_t = 20_000)]
    messages: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Recipients per request.
    #[arg(long, default_value_t = 1)]
    per_request: usize,
    /// Sandbox speed factor (1e6 makes its simulated delays microseconds).
    #[arg(long, default_value_t = 1_000_000.0)]
    speed: f64,
    /// fsync every commit (the default of `serve`); `false` measures synchronous=NORMAL.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    synchronous_full: bool,
    /// Send through SMPP to an in-process `smsc-sim` (at `--speed`) instead of the sandbox.
    #[arg(long)]
    smpp: bool,
    /// SMPP transceiver binds (with `--smpp`).
    #[arg(long, default_value_t = 2)]
    smpp_binds: usize,
    /// Outstanding submit_sm per bind (with `--smpp`).
    #[arg(long, default_value_t = 64)]
    smpp_window: usize,
}

/// One acknowledged message: its id and when its request was sent (unix ms).
struct Sent {
    id: String,
    sent_at_ms: i64,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.messages == 0 || args.concurrency == 0 || args.per_request == 0 {
        bail!("--messages, --concurrency and --per-request must be at least 1");
    }
    let data_dir = std::env::temp_dir().join(format!("dlrgate-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let overrides = Overrides {
        config_file: None,
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(data_dir.clone()),
    };
    let mut settings = Settings::load(&overrides)?;
    settings.sandbox.speed = args.speed;
    settings.store.synchronous_full = args.synchronous_full;
    settings.workers.tick = Duration::from_millis(5);
    settings.webhook.allow_cidrs = vec!["127.0.0.0/8".parse()?];
    let simulator = match args.smpp {
        true => Some(route_through_simulator(&mut settings, &args).await?),
        false => None,
    };
    let app = Application::build(settings).await?;
    let base = format!("http://{}", app.local_addr());
    let key = app
        .bootstrap
        .as_ref()
        .map(|c| c.api_key.clone())
        .context("bench needs a fresh store")?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let (hook_url, mut delivered) = start_receiver().await?;
    subscribe(&client, &base, &key, &hook_url).await?;
    let started = Instant::now();
    let (sent, mut acks) = send_all(&client, &base, &key, &args).await?;
    let send_s = started.elapsed().as_secs_f64();
    let mut finals = wait_for_finals(&client, &base, &key, &sent).await?;
    let final_s = started.elapsed().as_secs_f64();
    let mut webhooks = wait_for_webhooks(&mut delivered, &sent).await?;
    let webhooks_s = started.elapsed().as_secs_f64();

    shutdown.cancel();
    server.await??;
    if let Some(simulator) = simulator {
        simulator.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    let timing = Timing {
        send_s,
        final_s,
        webhooks_s,
    };
    report(
        &args,
        sent.len(),
        timing,
        &mut acks,
        &mut finals,
        &mut webhooks,
    );
    Ok(())
}

/// Starts `smsc-sim` on loopback and routes every message to it through an SMPP connector.
async fn route_through_simulator(
    settings: &mut Settings,
    args: &BenchArgs,
) -> anyhow::Result<crate::smsc_sim::SimHandle> {
    use crate::operators::settings::{BindKind, ConnectorSettings, SmppSettings};
    let simulator = crate::smsc_sim::start(crate::smsc_sim::SimConfig {
        speed: args.speed,
        ..crate::smsc_sim::SimConfig::default()
    })
    .await?;
    let addr = simulator.local_addr();
    let connector: SmppSettings = serde_json::from_value(serde_json::json!({
        "name": "smsc-sim", "host": addr.ip().to_string(), "port": addr.port(),
        "system_id": "dlrgate", "password": "secret", "binds": args.smpp_binds,
        "window": args.smpp_window, "submit_id_format": "hex", "receipt_id_format": "hex",
    }))?;
    debug_assert_eq!(connector.bind, BindKind::Transceiver);
    settings.connectors.push(ConnectorSettings::Smpp(connector));
    settings.routing.default = "smsc-sim".to_owned();
    Ok(simulator)
}

/// A loopback webhook receiver that reports (msg_id, arrival unix ms) of every DELIVERED webhook.
async fn start_receiver() -> anyhow::Result<(String, mpsc::UnboundedReceiver<(String, i64)>)> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let handler = move |axum::Json(event): axum::Json<Value>| {
        let sender = sender.clone();
        async move {
            if event["data"]["status"] == "DELIVERED" {
                let id = event["data"]["msg_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let _ = sender.send((id, to_millis(OffsetDateTime::now_utc())));
            }
            "ok"
        }
    };
    let app = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, receiver))
}

async fn subscribe(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    url: &str,
) -> anyhow::Result<()> {
    let form = [
        ("target_url", url),
        ("event_type", "dlr"),
        ("request_method", "JSON"),
    ];
    let answer: Value = client
        .post(format!("{base}/api/hooks"))
        .header("X-Api-Key", key)
        .form(&form)
        .send()
        .await?
        .json()
        .await?;
    if answer["success"] != true {
        bail!("subscribing the bench receiver failed: {answer}");
    }
    Ok(())
}

/// Waits for the DELIVERED webhook of every message; returns send-to-webhook latencies in ms.
async fn wait_for_webhooks(
    delivered: &mut mpsc::UnboundedReceiver<(String, i64)>,
    sent: &[Sent],
) -> anyhow::Result<Vec<f64>> {
    let sent_at: HashMap<&str, i64> = sent.iter().map(|s| (s.id.as_str(), s.sent_at_ms)).collect();
    let mut latencies = HashMap::with_capacity(sent.len());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while latencies.len() < sent.len() {
        let Ok(Some((id, at))) = tokio::time::timeout_at(deadline, delivered.recv()).await else {
            bail!(
                "only {} of {} DELIVERED webhooks arrived within 10 minutes",
                latencies.len(),
                sent.len()
            );
        };
        if let Some(sent_at) = sent_at.get(id.as_str()) {
            // At least once: a repeated webhook keeps its first arrival.
            latencies.entry(id).or_insert((at - sent_at) as f64);
        }
    }
    Ok(latencies.into_values().collect())
}

async fn send_all(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    args: &BenchArgs,
) -> anyhow::Result<(Vec<Sent>, Vec<f64>)> {
    let requests = args.messages.div_ceil(args.per_request);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, next, url, key) = (
            client.clone(),
            next.clone(),
            format!("{base}/api/sms"),
            key.to_owned(),
        );
        let per_request = args.per_request;
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            let mut acks = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    return Ok::<_, anyhow::Error>((sent, acks));
                }
                // Last digits 1–5: every message ends DELIVERED after ACCEPTED and TRANSMITTED.
                let to: Vec<String> = (0..per_request)
                    .map(|i| format!("4917{:08}{}", n * per_request + i, 1 + (n + i) % 5))
                    .collect();
                let sent_at_ms = to_millis(OffsetDateTime::now_utc());
                let begin = Instant::now();
                let body: Value = client
                    .post(&url)
                    .header("X-Api-Key", &key)
                    .header("Accept", "application/json")
                    .json(&json!({"to": to.join(","), "text": "dlrgate bench message"}))
                    .send()
                    .await?
                    .json()
                    .await?;
                acks.push(begin.elapsed().as_secs_f64() * 1000.0);
                let messages = body["messages"]
                    .as_array()
                    .with_context(|| format!("unexpected answer {body}"))?;
                for message in messages {
                    let id = message["id"]
                        .as_str()
                        .with_context(|| format!("message without id: {body}"))?;
                    sent.push(Sent {
                        id: id.to_owned(),
                        sent_at_ms,
                    });
                }
            }
        }));
    }
    let mut sent = Vec::with_capacity(args.messages);
    let mut acks = Vec::with_capacity(requests);
    for task in tasks {
        let (task_sent, task_acks) = task.await??;
        sent.extend(task_sent);
        acks.extend(task_acks);
    }
    Ok((sent, acks))
}

/// Polls `/api/status` in chunks until every message has a final status; returns each message's
/// send-to-final latency in milliseconds.
async fn wait_for_finals(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    sent: &[Sent],
) -> anyhow::Result<Vec<f64>> {
    let format =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut latencies = Vec::with_capacity(sent.len());
    for chunk in sent.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|s| s.id.as_str()).collect();
        loop {
            let body: Value = client
                .get(format!("{base}/api/status?msg_id={}", ids.join(",")))
                .header("X-Api-Key", key)
                .header("Accept", "application/json")
                .send()
                .await?
                .json()
                .await?;
            let entries = body
                .as_array()
                .with_context(|| format!("unexpected status answer {body}"))?;
            if entries.iter().all(|e| e["status"] == "DELIVERED") {
                for (entry, sent) in entries.iter().zip(chunk) {
                    let time = entry["status_time"]
                        .as_str()
                        .context("status without time")?;
                    let at = time::PrimitiveDateTime::parse(time, &format)?.assume_utc();
                    latencies.push((to_millis(at) - sent.sent_at_ms) as f64);
                }
                break;
            }
            if Instant::now() > deadline {
                bail!("messages did not reach DELIVERED within 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(latencies)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

struct Timing {
    send_s: f64,
    final_s: f64,
    webhooks_s: f64,
}

fn report(
    args: &BenchArgs,
    count: usize,
    timing: Timing,
    acks: &mut [f64],
    finals: &mut [f64],
    webhooks: &mut [f64],
) {
    let Timing {
        send_s,
        final_s,
        webhooks_s,
    } = timing;
    webhooks.sort_by(f64::total_cmp);
    acks.sort_by(f64::total_cmp);
    finals.sort_by(f64::total_cmp);
    let summary = json!({
        "messages": count,
        "concurrency": args.concurrency,
        "per_request": args.per_request,
        "synchronous_full": args.synchronous_full,
        "send_seconds": (send_s * 1000.0).round() / 1000.0,
        "accepted_per_second": (count as f64 / send_s).round(),
        "all_final_seconds": (final_s * 1000.0).round() / 1000.0,
        "ack_ms": {"p50": percentile(acks, 50.0), "p99": percentile(acks, 99.0), "max": percentile(acks, 100.0)},
        "send_to_final_ms": {"p50": percentile(finals, 50.0), "p99": percentile(finals, 99.0), "max": percentile(finals, 100.0)},
        "all_webhooks_seconds": (webhooks_s * 1000.0).round() / 1000.0,
        "final_webhooks_per_second": (count as f64 / webhooks_s).round(),
        "send_to_final_webhook_ms": {"p50": percentile(webhooks, 50.0), "p99": percentile(webhooks, 99.0), "max": percentile(webhooks, 100.0)},
    });
    println!("{summary}");
}
