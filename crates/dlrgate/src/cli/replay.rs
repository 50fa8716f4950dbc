//! `dlrgate replay`: puts webhook deliveries back in the queue, as `POST /api/hooks/{id}/…/resend`
//! and `/recover` do: one delivery by id, or a hook's failed and abandoned deliveries created in
//! a time range. A running `serve` sends them at its next dispatcher tick (they are pending,
//! due now and unleased, which is what its claim looks for).

use anyhow::bail;
use clap::Args;
use serde_json::json;

use super::hooks::find_hook;
use super::{Common, command_store, parse_when, progress};
use crate::store::{Account, DeliveryId, Hook, HookId, Store};
use crate::workers::now_millis;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The hook whose deliveries go out again (`dlrgate hooks` lists them).
    #[arg(long)]
    hook: HookId,
    /// Only this delivery (failed, abandoned or delivered: anything not pending).
    #[arg(long, conflicts_with_all = ["since", "until"])]
    delivery: Option<DeliveryId>,
    /// Failed and abandoned deliveries created since then: a duration ago (24h, 7d) or a time
    /// (unix seconds, YYYY-MM-DD hh:mm:ss UTC).
    #[arg(long, value_parser = parse_when, required_unless_present = "delivery")]
    since: Option<i64>,
    /// …and before then (same forms as --since); without it, up to now.
    #[arg(long, value_parser = parse_when, requires = "since")]
    until: Option<i64>,
    /// Most deliveries of the hook to look at with --until, newest first.
    #[arg(long, default_value_t = 1_000_000)]
    max: u32,
    #[command(flatten)]
    common: Common,
}

pub(super) async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let store = command_store(&args.common).await?;
    let (account, hook) = find_hook(store.as_ref(), args.hook).await?;
    let replayed = match (args.delivery, args.since, args.until) {
        (Some(delivery), _, _) => one(store.as_ref(), &account, &hook, delivery).await?,
        (None, Some(since), None) => since_then(store.as_ref(), &account, &hook, since).await?,
        (None, Some(since), Some(until)) => {
            in_range(store.as_ref(), &account, &hook, (since, until), args.max).await?
        }
        (None, None, _) => bail!("--delivery ID or --since TIME is required"),
    };
    println!(
        "{}",
        json!({"hook_id": hook.id, "account_id": account.id, "replayed": replayed})
    );
    if !hook.enabled && replayed > 0 {
        eprintln!(
            "note: hook {} is disabled; the deliveries wait until `dlrgate hooks enable {}`",
            hook.id, hook.id
        );
    }
    Ok(())
}

async fn one(
    store: &dyn Store,
    account: &Account,
    hook: &Hook,
    delivery: DeliveryId,
) -> anyhow::Result<u64> {
    if !store
        .resend_delivery(account.id, hook.id, delivery, now_millis())
        .await?
    {
        bail!(
            "hook {} has no finished delivery {delivery} (a pending one goes out anyway); \
             GET /api/hooks/{}/deliveries lists them",
            hook.id,
            hook.id
        );
    }
    Ok(1)
}

/// Everything failed since `since`: one statement, one transaction.
async fn since_then(
    store: &dyn Store,
    account: &Account,
    hook: &Hook,
    since: i64,
) -> anyhow::Result<u64> {
    let bar = progress::counter("re-queuing");
    let count = store
        .recover_deliveries(account.id, hook.id, since, now_millis())
        .await?;
    bar.set_position(count);
    bar.finish_and_clear();
    Ok(count)
}

/// Failed deliveries created in `[since, until)`, one at a time with a bar.
async fn in_range(
    store: &dyn Store,
    account: &Account,
    hook: &Hook,
    (since, until): (i64, i64),
    max: u32,
) -> anyhow::Result<u64> {
    let listed = store.deliveries(account.id, hook.id, max).await?;
    if listed.len() >= max as usize {
        eprintln!("note: looked at the newest {max} deliveries only; raise --max to see more");
    }
    let chosen: Vec<DeliveryId> = listed
        .iter()
        .filter(|d| matches!(d.state.as_str(), "failed" | "abandoned"))
        .filter(|d| d.created_at >= since && d.created_at < until)
        .map(|d| d.id)
        .collect();
    let bar = progress::bar(chosen.len() as u64, "re-queuing");
    let mut count = 0;
    for id in chosen {
        // One that changed meanwhile (re-sent through the API, say) is skipped.
        if store
            .resend_delivery(account.id, hook.id, id, now_millis())
            .await?
        {
            count += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(count)
}
