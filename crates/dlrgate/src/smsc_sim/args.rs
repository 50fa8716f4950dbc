//! The `dlrgate smsc-sim` command line: flags into a [`SimConfig`], then run until Ctrl-C.
//!
//! Owns only the mapping from flags to configuration and the process lifetime; every flag is
//! documented in docs/smsc-sim.md. Logs go to stderr.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::config::{Credential, ReceiptIdFormat, SimConfig, SubmitIdFormat, parse_outcome};
use crate::domain::receipt::MessageState;

/// Flags of `dlrgate smsc-sim`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:2775")]
    pub listen: SocketAddr,
    /// The system_id ESMEs must bind with.
    #[arg(long, default_value = "dlrgate")]
    pub system_id: String,
    /// The password ESMEs must bind with.
    #[arg(long, default_value = "secret")]
    pub password: String,
    /// How submit_sm_resp writes message ids.
    #[arg(long, value_enum, default_value_t = SubmitIds::Hex)]
    pub submit_id_format: SubmitIds,
    /// How receipts write the id; `decimal` with hex submit ids reproduces the hex/decimal mismatch.
    #[arg(long, value_enum, default_value_t = ReceiptIds::Same)]
    pub receipt_id_format: ReceiptIds,
    /// Divides the sandbox's realistic delays (1000 turns seconds into milliseconds).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Final state of every message (DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN, …)
    /// instead of the recipient's last-digit rule.
    #[arg(long, value_parser = parse_outcome)]
    pub outcome: Option<MessageState>,
    /// How long a deliver_sm may stay unanswered before it is sent again.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub receipt_timeout: Duration,
    /// Delay before a receipt answered with an error (or not at all) is sent again.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub receipt_retry: Duration,
    /// Most unanswered deliver_sm per session.
    #[arg(long, default_value_t = 256)]
    pub receipt_window: usize,
    /// Send the receipt before the submit_sm_resp.
    #[arg(long)]
    pub receipt_before_response: bool,
    /// Send every receipt N extra times.
    #[arg(long, default_value_t = 0)]
    pub duplicates: u32,
    /// Answer every Nth submit_sm of a session with ESME_RTHROTTLED (0x58).
    #[arg(long)]
    pub throttle_every: Option<u64>,
    /// Answer submit_sm to destinations starting with PREFIX with ESME_RINVDSTADR (0x0B); repeatable.
    #[arg(long = "reject-prefix", value_name = "PREFIX")]
    pub reject_prefixes: Vec<String>,
    /// Close each connection, unanswered, when its Nth PDU arrives.
    #[arg(long)]
    pub drop_after: Option<u64>,
    /// Send our own enquire_link on bound sessions at this interval (e.g. 30s).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub enquire_link_interval: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SubmitIds {
    Hex,
    Decimal,
    Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReceiptIds {
    Same,
    Hex,
    Decimal,
}

impl SimArgs {
    pub fn to_config(&self) -> SimConfig {
        SimConfig {
            listen: self.listen,
            credentials: vec![Credential {
                system_id: self.system_id.clone(),
                password: self.password.clone(),
            }],
            submit_id_format: match self.submit_id_format {
                SubmitIds::Hex => SubmitIdFormat::Hex,
                SubmitIds::Decimal => SubmitIdFormat::Decimal,
                SubmitIds::Uuid => SubmitIdFormat::Uuid,
            },
            receipt_id_format: match self.receipt_id_format {
                ReceiptIds::Same => ReceiptIdFormat::Same,
                ReceiptIds::Hex => ReceiptIdFormat::Hex,
                ReceiptIds::Decimal => ReceiptIdFormat::Decimal,
            },
            speed: self.speed,
            outcome: self.outcome,
            receipt_ack_timeout: self.receipt_timeout,
            receipt_retry_delay: self.receipt_retry,
            receipt_window: self.receipt_window,
            receipt_before_response: self.receipt_before_response,
            duplicates: self.duplicates,
            throttle_every: self.throttle_every,
            reject_prefixes: self.reject_prefixes.clone(),
            drop_after: self.drop_after,
            enquire_link_interval: self.enquire_link_interval,
        }
    }
}

/// Runs the simulator until Ctrl-C (or SIGTERM), logging to stderr.
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    crate::telemetry::init(&crate::config::LogSettings {
        format: "text".into(),
        level: "info".into(),
    });
    let handle = super::start(args.to_config()).await?;
    eprintln!(
        "smsc-sim listening on smpp://{} (system_id {:?})",
        handle.local_addr(),
        args.system_id
    );
    wait_for_signal().await;
    let stats = handle.stats();
    handle.shutdown().await;
    tracing::info!(?stats, "smsc-sim: stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
