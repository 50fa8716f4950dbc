//! The command line: `serve`, `migrate`, `account …`, `key …`, `check-config`. Command output goes to stdout
//! (one JSON object per command, so scripts can read it); logs go to stderr.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::app::{Application, create_account, migrate_store, open_store};
use crate::config::{Overrides, Settings};
use crate::domain::credentials::{hash_api_key, new_api_key};
use crate::store::{Account, Billing, Store};

#[derive(Debug, Parser)]
#[command(
    name = "dlrgate",
    version,
    about = "SMS gateway with reliable delivery status reports"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (HTTP API, sandbox operator, background workers).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[command(flatten)]
        common: Common,
    },
    /// Manage accounts (tenants).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Load-test a fresh in-process dlrgate over loopback HTTP and print the figures as JSON.
    Bench(crate::bench::BenchArgs),
    /// Run an SMSC simulator (SMPP 3.4 server with delivery receipts) until Ctrl-C.
    SmscSim(crate::smsc_sim::SimArgs),
    /// Apply the store's migrations (PostgreSQL with --database-url, else SQLite) and exit.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// Print the effective settings and exit.
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

#[derive(Debug, Args)]
pub struct BillingArgs {
    /// Price per SMS part, e.g. 0.075.
    #[arg(long)]
    price_per_part: Option<f64>,
    /// Prepaid balance; without it the account is unlimited.
    #[arg(long, conflicts_with = "unlimited")]
    balance: Option<f64>,
    /// Make the balance unlimited.
    #[arg(long)]
    unlimited: bool,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account; prints {"account_id","api_key","signing_secret"}.
    Create {
        name: String,
        #[command(flatten)]
        billing: BillingArgs,
        #[command(flatten)]
        common: Common,
    },
    /// List accounts as JSON.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Replace an account's signing secret; the old one keeps signing webhooks for
    /// `webhook.secret_grace`. Prints {"account_id","signing_secret","previous_valid_until"}.
    RotateSecret {
        /// Account id or name.
        account: String,
        #[command(flatten)]
        common: Common,
    },
    /// Change an account's price per part or balance.
    Update {
        /// Account id or name.
        account: String,
        #[command(flatten)]
        billing: BillingArgs,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create another API key for an account (id or name); prints {"key_id","account_id","api_key"}.
    Create {
        account: String,
        #[command(flatten)]
        common: Common,
    },
    /// Revoke an API key by its id.
    Revoke {
        key_id: i64,
        #[command(flatten)]
        common: Common,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, common } => serve(settings(&common, listen)?).await,
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
        Command::Account(command) => account(command).await,
        Command::Bench(args) => {
            crate::telemetry::init(&crate::config::LogSettings {
                format: "text".into(),
                level: "warn".into(),
            });
            crate::bench::run(args).await
        }
        Command::Key(command) => key(command).await,
        Command::SmscSim(args) => crate::smsc_sim::run(args).await,
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

async fn serve(settings: Settings) -> anyhow::Result<()> {
    crate::telemetry::init(&settings.log);
    let app = Application::build(settings).await?;
    if let Some(credentials) = &app.bootstrap {
        println!(
            "Created the default account (id {}). Keep these; they are shown only once:",
            credentials.account_id
        );
        println!("  api_key:        {}", credentials.api_key);
        println!("  signing_secret: {}", credentials.signing_secret);
    }
    println!("dlrgate listening on http://{}", app.local_addr());
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight work");
    shutdown.cancel();
}

async fn command_store(common: &Common) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let mut settings = settings(common, None)?;
    settings.log.level = "warn".into();
    crate::telemetry::init(&settings.log);
    open_store(&settings).await
}

fn billing(args: &BillingArgs) -> anyhow::Result<Billing> {
    let micros = |value: f64, name: &str| -> anyhow::Result<i64> {
        if !(value.is_finite() && value >= 0.0) {
            bail!("--{name} must be a non-negative number");
        }
        Ok((value * 1_000_000.0).round() as i64)
    };
    Ok(Billing {
        price_per_part_micros: args
            .price_per_part
            .map(|p| micros(p, "price-per-part"))
            .transpose()?,
        balance_micros: match (args.balance, args.unlimited) {
            (Some(balance), _) => Some(Some(micros(balance, "balance")?)),
            (None, true) => Some(None),
            (None, false) => None,
        },
    })
}

async fn find_account(store: &dyn Store, reference: &str) -> anyhow::Result<Account> {
    let found = match reference.parse::<i64>() {
        Ok(id) => store.account(id).await,
        Err(_) => store.account_by_name(reference).await,
    };
    found.with_context(|| format!("no account {reference:?}"))
}

fn account_json(account: &Account) -> serde_json::Value {
    json!({
        "account_id": account.id,
        "name": account.name,
        "price_per_part": account.price_per_part_micros as f64 / 1e6,
        "balance": account.balance_micros.map(|b| b as f64 / 1e6),
    })
}

async fn account(command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create {
            name,
            billing: args,
            common,
        } => {
            let store = command_store(&common).await?;
            let name = name.trim();
            if name.is_empty() || name.len() > 100 {
                bail!("an account name has 1 to 100 characters");
            }
            let credentials = create_account(store.as_ref(), name, billing(&args)?).await?;
            println!(
                "{}",
                json!({"account_id": credentials.account_id, "api_key": credentials.api_key, "signing_secret": credentials.signing_secret})
            );
        }
        AccountCommand::List { common } => {
            let store = command_store(&common).await?;
            let accounts: Vec<_> = store
                .list_accounts()
                .await?
                .iter()
                .map(account_json)
                .collect();
            println!("{}", serde_json::Value::Array(accounts));
        }
        AccountCommand::RotateSecret { account, common } => {
            rotate_secret(&account, &common).await?
        }
        AccountCommand::Update {
            account,
            billing: args,
            common,
        } => {
            let store = command_store(&common).await?;
            let found = find_account(store.as_ref(), &account).await?;
            let updated = store.update_billing(found.id, billing(&args)?).await?;
            println!("{}", account_json(&updated));
        }
    }
    Ok(())
}

async fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { account, common } => {
            let store = command_store(&common).await?;
            let found = find_account(store.as_ref(), &account).await?;
            let api_key = new_api_key();
            let key_id = store
                .create_api_key(found.id, &hash_api_key(&api_key))
                .await?;
            println!(
                "{}",
                json!({"key_id": key_id, "account_id": found.id, "api_key": api_key})
            );
        }
        KeyCommand::Revoke { key_id, common } => {
            let store = command_store(&common).await?;
            store
                .revoke_api_key(key_id)
                .await
                .with_context(|| format!("no key {key_id}"))?;
            println!("{}", json!({"key_id": key_id, "revoked": true}));
        }
    }
    Ok(())
}

async fn rotate_secret(account: &str, common: &Common) -> anyhow::Result<()> {
    let grace = settings(common, None)?.webhook.secret_grace;
    let store = command_store(common).await?;
    let found = find_account(store.as_ref(), account).await?;
    let secret = crate::domain::credentials::new_signing_secret();
    let until = crate::domain::timefmt::to_millis(time::OffsetDateTime::now_utc() + grace);
    store
        .rotate_signing_secret(found.id, &secret, until)
        .await?;
    let until = crate::domain::timefmt::seven_seconds(until);
    println!(
        "{}",
        json!({"account_id": found.id, "signing_secret": secret, "previous_valid_until": until})
    );
    Ok(())
}
