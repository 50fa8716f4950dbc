//! `dlrgate hooks`: every hook (or one account's) with its target, state and deliveries pending
//! and failed; `hooks enable ID` and `hooks disable ID`. A running `serve` sees the change at its
//! next dispatcher tick (it claims whatever became due from the store).

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::accounts::find_account;
use super::{Common, command_store};
use crate::domain::timefmt::seven_seconds;
use crate::store::{Account, Hook, HookCounts, HookId, Overview, Store};
use crate::workers::now_millis;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HooksArgs {
    #[command(subcommand)]
    command: Option<HooksCommand>,
    /// Only this account's hooks (id or name).
    #[arg(long)]
    account: Option<String>,
    /// Print a JSON array instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Subcommand)]
enum HooksCommand {
    /// Enable a hook again: its pending deliveries go out, and new statuses reach it.
    #[command(after_help = "Examples:
  dlrgate hooks enable 3
  dlrgate hooks enable 3 --database-url postgres://dlrgate@127.0.0.1/dlrgate")]
    Enable {
        /// The hook's id (`dlrgate hooks` lists them).
        id: HookId,
    },
    /// Disable a hook: nothing is sent to it until it is enabled again.
    #[command(after_help = "Examples:
  dlrgate hooks disable 3
  dlrgate hooks disable 3 --data /var/lib/dlrgate")]
    Disable {
        /// The hook's id (`dlrgate hooks` lists them).
        id: HookId,
    },
}

/// A hook with its account and its deliveries' counts.
pub(super) struct HookRow {
    pub account: Account,
    pub hook: Hook,
    pub counts: HookCounts,
}

pub(super) async fn hooks(args: HooksArgs) -> anyhow::Result<()> {
    let store = command_store(&args.common).await?;
    match args.command {
        Some(HooksCommand::Enable { id }) => set_enabled(store.as_ref(), id, true).await,
        Some(HooksCommand::Disable { id }) => set_enabled(store.as_ref(), id, false).await,
        None => list(store.as_ref(), args.account.as_deref(), args.json).await,
    }
}

async fn list(store: &dyn Store, account: Option<&str>, as_json: bool) -> anyhow::Result<()> {
    let account = match account {
        Some(reference) => Some(find_account(store, reference).await?),
        None => None,
    };
    let overview = store.overview(i64::MAX).await?;
    let rows = hook_rows(store, account.as_ref(), &overview).await?;
    if as_json {
        let rows: Vec<Value> = rows.iter().map(row_json).collect();
        println!("{}", Value::Array(rows));
        return Ok(());
    }
    println!(
        "{:>5}  {:<20} {:<28} {:>8} {:>8}  TARGET",
        "ID", "ACCOUNT", "STATE", "PENDING", "FAILED"
    );
    for row in &rows {
        let account = format!("{} {}", row.account.id, row.account.name);
        println!(
            "{:>5}  {:<20} {:<28} {:>8} {:>8}  {}",
            row.hook.id,
            account,
            state(&row.hook),
            row.counts.pending,
            row.counts.failed,
            row.hook.target_url
        );
    }
    if rows.is_empty() {
        eprintln!("no hooks; accounts create them with POST /api/hooks (docs/api.md)");
    }
    Ok(())
}

/// The hooks of `account` (all accounts when `None`), by id, with their counts.
pub(super) async fn hook_rows(
    store: &dyn Store,
    account: Option<&Account>,
    overview: &Overview,
) -> anyhow::Result<Vec<HookRow>> {
    let accounts = match account {
        Some(account) => vec![account.clone()],
        None => store.list_accounts().await?,
    };
    let mut rows = Vec::new();
    for account in accounts {
        for hook in store.hooks(account.id).await? {
            let counts = overview
                .hooks
                .iter()
                .find(|counts| counts.hook_id == hook.id)
                .copied()
                .unwrap_or_default();
            rows.push(HookRow {
                account: account.clone(),
                hook,
                counts,
            });
        }
    }
    rows.sort_by_key(|row| row.hook.id);
    Ok(rows)
}

/// `enabled`, `enabled, failing since …`, `disabled: why`, with `backlog full` when it is.
fn state(hook: &Hook) -> String {
    let mut state = match (hook.enabled, &hook.disabled_reason, hook.failing_since) {
        (false, Some(why), _) => format!("disabled: {why}"),
        (false, None, _) => "disabled".to_owned(),
        (true, _, Some(since)) => format!("failing since {}", seven_seconds(since)),
        (true, _, None) => "enabled".to_owned(),
    };
    if hook.backlog_full {
        state.push_str(", backlog full");
    }
    state
}

fn row_json(row: &HookRow) -> Value {
    json!({
        "id": row.hook.id,
        "account_id": row.account.id,
        "account": row.account.name,
        "target_url": row.hook.target_url,
        "event_type": row.hook.event_type,
        "enabled": row.hook.enabled,
        "disabled_reason": row.hook.disabled_reason,
        "failing_since": row.hook.failing_since.map(seven_seconds),
        "backlog_full": row.hook.backlog_full,
        "pending": row.counts.pending,
        "failed": row.counts.failed,
    })
}

/// Finds hook `id` in whichever account holds it.
pub(super) async fn find_hook(store: &dyn Store, id: HookId) -> anyhow::Result<(Account, Hook)> {
    for account in store.list_accounts().await? {
        if let Some(hook) = store
            .hooks(account.id)
            .await?
            .into_iter()
            .find(|h| h.id == id)
        {
            return Ok((account, hook));
        }
    }
    anyhow::bail!("no hook {id}; `dlrgate hooks` lists the hooks and their ids")
}

async fn set_enabled(store: &dyn Store, id: HookId, enabled: bool) -> anyhow::Result<()> {
    let (account, hook) = find_hook(store, id).await?;
    let hook = store
        .set_hook_enabled(account.id, hook.id, enabled, now_millis())
        .await
        .with_context(|| format!("changing hook {id} failed"))?;
    let row = HookRow {
        account,
        hook,
        counts: HookCounts::default(),
    };
    let mut shown = row_json(&row);
    if let Some(object) = shown.as_object_mut() {
        object.remove("pending");
        object.remove("failed");
    }
    println!("{shown}");
    Ok(())
}
