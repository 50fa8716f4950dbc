//! The command line: clap derive, one module per group of subcommands. Command output goes to
//! stdout (one JSON object per command, or a human summary with `--json` for scripts); logs,
//! progress bars and errors go to stderr. Every command's `--help` ends with examples, which a
//! test parses with this parser (`help_tests.rs`).
//!
//! - `accounts`: `account …` and `key …`.
//! - `serve`: `serve` and its signal handling.
//! - `status`, `hooks`, `replay`, `purge`: operator commands on the store, safe while `serve`
//!   runs (SQLite in WAL mode, or PostgreSQL); `progress` draws their bars.

mod accounts;
#[cfg(test)]
mod help_tests;
mod hooks;
pub(crate) mod progress;
mod purge;
mod replay;
mod serve;
mod status;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::app::{migrate_store, open_store};
use crate::config::{Overrides, Settings};
use crate::store::Store;
use accounts::{AccountCommand, KeyCommand};

#[derive(Debug, Parser)]
#[command(
    name = "dlrgate",
    version,
    about = "SMS gateway with reliable delivery status reports",
    after_help = "Examples:
  dlrgate serve --data /var/lib/dlrgate
  dlrgate account create acme --balance 100
  dlrgate check-config --config dlrgate.toml

Every command takes --data DIR (SQLite) or --database-url postgres://… (PostgreSQL) and
--config FILE; `dlrgate COMMAND --help` shows its own examples."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (HTTP API, sandbox operator, background workers).
    #[command(after_help = "Examples:
  dlrgate serve
  dlrgate serve --listen 0.0.0.0:8080 --data /var/lib/dlrgate
  dlrgate serve --config /etc/dlrgate.toml --database-url postgres://dlrgate@127.0.0.1/dlrgate")]
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[command(flatten)]
        common: Common,
    },
    /// Manage accounts (tenants).
    #[command(subcommand, after_help = accounts::ACCOUNT_EXAMPLES)]
    Account(AccountCommand),
    /// Manage API keys.
    #[command(subcommand, after_help = accounts::KEY_EXAMPLES)]
    Key(KeyCommand),
    /// Load-test a fresh in-process dlrgate over loopback HTTP and print the figures as JSON.
    #[command(after_help = "Examples:
  dlrgate bench
  dlrgate bench --messages 100000 --concurrency 128 --rate 2000
  dlrgate bench --smpp --smpp-binds 4
  dlrgate bench --database-url postgres://postgres@127.0.0.1:5432/test --nodes 2")]
    Bench(crate::bench::BenchArgs),
    /// Run an SMSC simulator (SMPP 3.4 server with delivery receipts) until Ctrl-C.
    #[command(after_help = "Examples:
  dlrgate smsc-sim
  dlrgate smsc-sim --listen 127.0.0.1:2775 --system-id dlrgate --password secret
  dlrgate smsc-sim --speed 1000 --outcome UNDELIV")]
    SmscSim(crate::smsc_sim::SimArgs),
    /// Apply the store's migrations (PostgreSQL with --database-url, else SQLite) and exit.
    #[command(after_help = "Examples:
  dlrgate migrate --data /var/lib/dlrgate
  dlrgate migrate --database-url postgres://dlrgate@127.0.0.1/dlrgate")]
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Summarise the store: accounts, messages by status, queues, hooks, nodes.
    #[command(after_help = "Examples:
  dlrgate status
  dlrgate status --since 7d --data /var/lib/dlrgate
  dlrgate status --all --json")]
    Status(status::StatusArgs),
    /// List webhooks with their state and deliveries pending and failed; enable or disable one.
    #[command(after_help = "Examples:
  dlrgate hooks
  dlrgate hooks --account acme --json
  dlrgate hooks disable 3")]
    Hooks(hooks::HooksArgs),
    /// Send webhook deliveries again: one by id, or a hook's failed ones in a time range.
    #[command(after_help = "Examples:
  dlrgate replay --hook 3 --delivery 1234
  dlrgate replay --hook 3 --since 24h
  dlrgate replay --hook 3 --since 2026-12-01T00:00:00 --until 2026-12-02T00:00:00")]
    Replay(replay::ReplayArgs),
    /// Delete finished messages (and their history) sent before a cutoff, in batches.
    #[command(after_help = "Examples:
  dlrgate purge --older-than 30d
  dlrgate purge --older-than 90d --batch 5000 --database-url postgres://dlrgate@127.0.0.1/dlrgate")]
    Purge(purge::PurgeArgs),
    /// Print the effective settings and exit.
    #[command(after_help = "Examples:
  dlrgate check-config
  dlrgate check-config --config /etc/dlrgate.toml")]
    CheckConfig {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Args)]
pub struct Common {
    /// Data directory holding dlrgate.db [default: ./data].
    #[arg(long = "data", global = true)]
    pub data: Option<PathBuf>,
    /// A TOML configuration file (see docs/configuration.md).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Keep the state in PostgreSQL (postgres://…) instead of the SQLite file under --data.
    #[arg(
        long,
        env = "DLRGATE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, common } => serve::serve(settings(&common, listen)?).await,
        Command::CheckConfig { common } => {
            println!("{}", settings(&common, None)?.to_pretty_json());
            Ok(())
        }
        Command::Migrate { common } => {
            let mut settings = settings(&common, None)?;
            settings.log.level = "warn".into();
            crate::telemetry::init(&settings.log);
            let backend = migrate_store(&settings).await?;
            println!("{}", json!({"backend": backend, "migrated": true}));
            Ok(())
        }
        Command::Account(command) => accounts::account(command).await,
        Command::Bench(args) => {
            crate::telemetry::init(&crate::config::LogSettings {
                format: "text".into(),
                level: "warn".into(),
            });
            crate::bench::run(args).await
        }
        Command::Key(command) => accounts::key(command).await,
        Command::SmscSim(args) => crate::smsc_sim::run(args).await,
        Command::Status(args) => status::status(args).await,
        Command::Hooks(args) => hooks::hooks(args).await,
        Command::Replay(args) => replay::replay(args).await,
        Command::Purge(args) => purge::purge(args).await,
    }
}

fn settings(common: &Common, listen: Option<SocketAddr>) -> anyhow::Result<Settings> {
    let overrides = Overrides {
        config_file: common.config.clone(),
        listen,
        data_dir: common.data.clone(),
        database_url: common.database_url.clone(),
    };
    Ok(Settings::load(&overrides)?)
}

/// A point in time given as a duration ago (`24h`, `7d`) or a time (unix seconds,
/// `YYYY-MM-DD hh:mm:ss` UTC, RFC 3339), in unix milliseconds.
fn parse_when(raw: &str) -> Result<i64, String> {
    let now = time::OffsetDateTime::now_utc();
    let to_millis = crate::domain::timefmt::to_millis;
    if let Ok(ago) = humantime::parse_duration(raw) {
        let ago = time::Duration::try_from(ago).map_err(|e| e.to_string())?;
        return Ok(to_millis(
            now.checked_sub(ago)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        ));
    }
    crate::domain::params::parse_delay(raw, now)
        .map(to_millis)
        .map_err(|_| format!("{raw:?} is neither a duration (24h, 7d) nor a time (unix seconds, YYYY-MM-DD hh:mm:ss)"))
}

/// Opens the configured store for an operator command (logging only warnings).
async fn command_store(common: &Common) -> anyhow::Result<Arc<dyn Store>> {
    let mut settings = settings(common, None)?;
    settings.log.level = "warn".into();
    crate::telemetry::init(&settings.log);
    open_store(&settings).await
}
