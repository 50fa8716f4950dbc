//! `dlrgate purge`: the retention purge (`Store::purge`) on demand, in bounded batches with a
//! progress counter: finished messages sent before the cutoff, with their parts, events and
//! deliveries, and receipts parked before it. Queued messages stay.

use clap::Args;
use serde_json::json;

use super::{Common, command_store, progress};
use crate::domain::timefmt::{seven_seconds, to_millis};

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Delete what was sent longer ago than this (30d, 12h, 1w).
    #[arg(long, value_parser = humantime::parse_duration)]
    older_than: std::time::Duration,
    /// Messages deleted per transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
    #[command(flatten)]
    common: Common,
}

pub(super) async fn purge(args: PurgeArgs) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    let age = time::Duration::try_from(args.older_than)?;
    let cutoff = to_millis(
        now.checked_sub(age)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    );
    let store = command_store(&args.common).await?;
    let bar = progress::counter("messages purged");
    let mut purged = 0;
    loop {
        let batch = store.purge(cutoff, args.batch).await?;
        purged += batch;
        bar.set_position(purged);
        if batch < u64::from(args.batch) {
            break;
        }
    }
    bar.finish_and_clear();
    println!(
        "{}",
        json!({"purged": purged, "cutoff": seven_seconds(cutoff)})
    );
    Ok(())
}
