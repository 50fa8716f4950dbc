//! `dlrgate bench`: an end-to-end load test of a real dlrgate on loopback. It starts this binary
//! as `dlrgate serve` with a fresh data directory (`server`), subscribes a loopback webhook
//! receiver, sends messages over HTTP from many concurrent clients at full speed or at an offered
//! rate (`load`), then checks and times every message's final status and final webhook
//! (`observe`) and queries `/api/status` for 100 ids at a time. It prints the figures as one JSON
//! object (`report`) and fails when any message is lost or ends with a wrong status.
//!
//! Times: send-to-final-status (from the request to the status time the server stored),
//! send-to-final-webhook (until the receiver got the DELIVERED webhook; every message also
//! produces ACCEPTED and TRANSMITTED webhooks) and status-to-webhook (from the status time to the
//! webhook's arrival: for SMPP the receipt's arrival). All on this machine's clock. The sandbox or
//! `smsc-sim` is sped up so its simulated network delay is negligible and the figures measure
//! dlrgate itself. The server's peak RSS and store size are its own (a separate process).

mod cluster;
mod load;
mod observe;
mod report;
mod server;

use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;
use serde_json::Value;

use crate::config::Settings;
use cluster::Cluster;
use load::{Load, now_ms};

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
    /// Offered load in messages per second (requests start on a schedule); default: as fast as
    /// the clients are answered.
    #[arg(long)]
    rate: Option<f64>,
    /// Sandbox (or smsc-sim) speed factor (1e6 makes its simulated delays microseconds).
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
    /// Seconds of `/api/status` queries (100 ids each) after the run; 0 skips them.
    #[arg(long, default_value_t = 3.0)]
    status_seconds: f64,
    /// Keep the state in a fresh PostgreSQL database, created on the server this URL names (e.g.
    /// postgres://postgres@127.0.0.1:5432/test) and dropped after the run; default: SQLite.
    #[arg(long)]
    database_url: Option<String>,
    /// dlrgate nodes sharing the PostgreSQL database (with `--database-url`); the clients are
    /// spread over them.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// Longest wait, after the last send, for final statuses and webhooks.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    timeout: Duration,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.messages == 0 || args.concurrency == 0 || args.per_request == 0 {
        bail!("--messages, --concurrency and --per-request must be at least 1");
    }
    if args
        .rate
        .is_some_and(|rate| !(rate.is_finite() && rate > 0.0))
    {
        bail!("--rate must be a positive number");
    }
    let data_dir = std::env::temp_dir().join(format!("dlrgate-bench-{}", std::process::id()));
    let mut settings = server::base_settings(&data_dir)?;
    settings.sandbox.speed = args.speed;
    settings.store.synchronous_full = args.synchronous_full;
    let simulator = match args.smpp {
        true => Some(route_through_simulator(&mut settings, &args).await?),
        false => None,
    };
    let cluster = Cluster::start(&settings, args.nodes, args.database_url.as_deref()).await?;
    let outcome = measure(&args, &cluster).await;
    cluster.stop().await;
    if let Some(simulator) = simulator {
        simulator.shutdown().await;
    }
    let summary = outcome?;
    println!("{summary}");
    if summary["lost"] != 0 || summary["wrong"].as_array().is_some_and(|w| !w.is_empty()) {
        bail!("messages were lost or ended wrong (see \"lost\" and \"wrong\" above)");
    }
    Ok(())
}

/// Runs the load against the `cluster` and collects the figures.
async fn measure(args: &BenchArgs, cluster: &Cluster) -> anyhow::Result<Value> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let first = &cluster.nodes[0];
    let (base, key) = (first.base.as_str(), first.key.as_str());
    let (hook_url, mut hooks) = observe::start_receiver().await?;
    subscribe(&client, base, key, &hook_url).await?;
    let load = Load {
        messages: args.messages,
        per_request: args.per_request,
        concurrency: args.concurrency,
        rate: args.rate,
    };
    let (started, start_ms) = (Instant::now(), now_ms());
    let sending = crate::cli::progress::bar(args.messages as u64, "sent");
    let sends = load::send_all(&client, &cluster.bases(), key, &load, &sending).await?;
    sending.finish_and_clear();
    let send_seconds = started.elapsed().as_secs_f64();
    let deadline = tokio::time::Instant::now() + args.timeout;
    let finals = observe::wait_for_finals(&client, base, key, &sends.sent, deadline).await?;
    let finishing = crate::cli::progress::bar(sends.sent.len() as u64, "final webhooks");
    let webhooks = observe::wait_for_webhooks(&mut hooks, &sends.sent, deadline, &finishing).await;
    finishing.finish_and_clear();
    let status_queries = match args.status_seconds > 0.0 {
        true => Some((
            args.status_seconds,
            load::status_queries(
                &client,
                base,
                key,
                &sends.sent,
                args.concurrency,
                args.status_seconds,
            )
            .await?,
        )),
        false => None,
    };
    let mut figures = report::Figures {
        start_ms,
        send_seconds,
        sends,
        finals,
        webhooks,
        status_queries,
        peak_rss_mib: cluster.peak_rss_mib()?,
        store_bytes: cluster.store_bytes().await?,
    };
    Ok(report::summary(args, &mut figures))
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
