//! `dlrgate account …` and `dlrgate key …`: accounts (tenants), their billing, signing secrets
//! and API keys, written straight to the store (also while `serve` runs).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::json;

use super::{Common, command_store, settings};
use crate::app::create_account;
use crate::domain::credentials::{hash_api_key, new_api_key};
use crate::store::{Account, Billing, Store};

pub(super) const ACCOUNT_EXAMPLES: &str = "Examples:
  dlrgate account create acme --balance 100
  dlrgate account list
  dlrgate account update acme --price-per-part 0.08";

pub(super) const KEY_EXAMPLES: &str = "Examples:
  dlrgate key create acme
  dlrgate key revoke 7";

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
    #[command(after_help = "Examples:
  dlrgate account create acme
  dlrgate account create acme --price-per-part 0.075 --balance 100")]
    Create {
        name: String,
        #[command(flatten)]
        billing: BillingArgs,
        #[command(flatten)]
        common: Common,
    },
    /// List accounts as JSON.
    #[command(after_help = "Examples:
  dlrgate account list
  dlrgate account list --database-url postgres://dlrgate@127.0.0.1/dlrgate")]
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Replace an account's signing secret; the old one keeps signing webhooks for
    /// `webhook.secret_grace`. Prints {"account_id","signing_secret","previous_valid_until"}.
    #[command(after_help = "Examples:
  dlrgate account rotate-secret acme
  dlrgate account rotate-secret 1 --data /var/lib/dlrgate")]
    RotateSecret {
        /// Account id or name.
        account: String,
        #[command(flatten)]
        common: Common,
    },
    /// Change an account's price per part or balance.
    #[command(after_help = "Examples:
  dlrgate account update acme --balance 50
  dlrgate account update 1 --price-per-part 0.08 --unlimited")]
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
    #[command(after_help = "Examples:
  dlrgate key create acme
  dlrgate key create 1 --data /var/lib/dlrgate")]
    Create {
        account: String,
        #[command(flatten)]
        common: Common,
    },
    /// Revoke an API key by its id.
    #[command(after_help = "Examples:
  dlrgate key revoke 7")]
    Revoke {
        key_id: i64,
        #[command(flatten)]
        common: Common,
    },
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

pub(super) async fn find_account(store: &dyn Store, reference: &str) -> anyhow::Result<Account> {
    let found = match reference.parse::<i64>() {
        Ok(id) => store.account(id).await,
        Err(_) => store.account_by_name(reference).await,
    };
    found.with_context(|| {
        format!("no account {reference:?}; `dlrgate account list` lists the accounts")
    })
}

fn account_json(account: &Account) -> serde_json::Value {
    json!({
        "account_id": account.id,
        "name": account.name,
        "price_per_part": account.price_per_part_micros as f64 / 1e6,
        "balance": account.balance_micros.map(|b| b as f64 / 1e6),
    })
}

pub(super) async fn account(command: AccountCommand) -> anyhow::Result<()> {
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

pub(super) async fn key(command: KeyCommand) -> anyhow::Result<()> {
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
                .with_context(|| format!("no key {key_id} (or it was revoked already)"))?;
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
