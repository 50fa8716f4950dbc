//! `dlrgate status`: what the store holds right now, for an operator: accounts, messages by
//! status (in a recent window or in total), queue depths, hooks and their deliveries, and the
//! live nodes on PostgreSQL. A human summary, or one JSON object with `--json`.

use clap::Args;
use serde_json::{Value, json};

use super::hooks::{HookRow, hook_rows};
use super::{Common, command_store, parse_when, settings};
use crate::domain::timefmt::seven_seconds;
use crate::store::Store;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Count messages sent since then: a duration ago (24h, 7d) or a time (unix seconds,
    /// YYYY-MM-DD hh:mm:ss UTC).
    #[arg(long, default_value = "24h", value_parser = parse_when, conflicts_with = "all")]
    since: i64,
    /// Count every message the store holds.
    #[arg(long)]
    all: bool,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: Common,
}

pub(super) async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let backend = match settings(&args.common, None)?.store.is_postgres() {
        true => "postgres",
        false => "sqlite",
    };
    let store = command_store(&args.common).await?;
    let since = (!args.all).then_some(args.since);
    let report = gather(store.as_ref(), backend, since).await?;
    match args.json {
        true => println!("{report}"),
        false => print!("{}", human(&report)),
    }
    Ok(())
}

async fn gather(store: &dyn Store, backend: &str, since: Option<i64>) -> anyhow::Result<Value> {
    let accounts = store.count_accounts().await?;
    let overview = store.overview(since.unwrap_or(i64::MIN)).await?;
    let queues = store.queue_depths().await?;
    let hooks = hook_rows(store, None, &overview).await?;
    let messages: serde_json::Map<String, Value> = overview
        .messages
        .iter()
        .map(|(status, n)| (status.clone(), json!(n)))
        .collect();
    let count = |f: fn(&HookRow) -> bool| hooks.iter().filter(|row| f(row)).count();
    Ok(json!({
        "backend": backend,
        "nodes": (backend == "postgres").then_some(overview.nodes),
        "accounts": accounts,
        "since": since.map(seven_seconds),
        "messages": messages,
        "queues": {
            "queued_messages": queues.queued_messages,
            "scheduled_reports": queues.scheduled_reports,
            "parked_receipts": queues.parked_receipts,
        },
        "hooks": {
            "enabled": count(|row| row.hook.enabled),
            "disabled": count(|row| !row.hook.enabled),
            "failing": count(|row| row.hook.enabled && row.hook.failing_since.is_some()),
            "pending_deliveries": hooks.iter().map(|row| row.counts.pending).sum::<i64>(),
            "failed_deliveries": hooks.iter().map(|row| row.counts.failed).sum::<i64>(),
        },
    }))
}

/// The summary for a terminal, from the JSON report.
fn human(report: &Value) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let nodes = match &report["nodes"] {
        Value::Null => String::new(),
        n => format!(", {n} live node(s)"),
    };
    line(format!("Store:     {}{nodes}", as_text(&report["backend"])));
    line(format!("Accounts:  {}", report["accounts"]));
    let window = match &report["since"] {
        Value::Null => "in total".to_owned(),
        since => format!("since {} UTC", as_text(since)),
    };
    let messages = report["messages"].as_object().cloned().unwrap_or_default();
    let total: i64 = messages.values().filter_map(Value::as_i64).sum();
    line(format!("Messages:  {total} {window}"));
    for (status, n) in &messages {
        line(format!("  {status:<12} {:>10}", n.as_i64().unwrap_or(0)));
    }
    let queues = &report["queues"];
    line(format!(
        "Queues:    {} messages queued or sending, {} scheduled reports, {} parked receipts",
        queues["queued_messages"], queues["scheduled_reports"], queues["parked_receipts"]
    ));
    let hooks = &report["hooks"];
    line(format!(
        "Hooks:     {} enabled ({} failing), {} disabled; {} deliveries pending, {} failed",
        hooks["enabled"],
        hooks["failing"],
        hooks["disabled"],
        hooks["pending_deliveries"],
        hooks["failed_deliveries"]
    ));
    if hooks["failed_deliveries"].as_i64().unwrap_or(0) > 0 || hooks["disabled"] != 0 {
        line(
            "           `dlrgate hooks` shows which; `dlrgate replay` sends failed ones again"
                .into(),
        );
    }
    out
}

fn as_text(value: &Value) -> String {
    value.as_str().map(str::to_owned).unwrap_or_default()
}
