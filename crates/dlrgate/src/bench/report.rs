//! The bench's figures, printed as one JSON object.

use serde_json::{Value, json};

use super::BenchArgs;
use super::load::Sends;
use super::observe::Webhooks;

/// Everything measured in one run.
pub struct Figures {
    pub start_ms: i64,
    pub send_seconds: f64,
    pub sends: Sends,
    pub finals: Vec<f64>,
    pub webhooks: Webhooks,
    pub status_queries: Option<(f64, Vec<f64>)>,
    pub peak_rss_mib: f64,
    pub store_bytes: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// p50, p99 and max of `values` (sorted in place).
fn spread(values: &mut [f64]) -> Value {
    values.sort_by(f64::total_cmp);
    json!({"p50": percentile(values, 50.0), "p99": percentile(values, 99.0), "max": percentile(values, 100.0)})
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

pub fn summary(args: &BenchArgs, figures: &mut Figures) -> Value {
    let count = figures.sends.sent.len();
    let hooks = &mut figures.webhooks;
    let webhooks_s = (hooks.last_final_ms - figures.start_ms) as f64 / 1000.0;
    let status_queries = figures.status_queries.as_mut().map(|(seconds, times)| {
        json!({
            "ids_per_request": 100,
            "concurrency": args.concurrency,
            "requests_per_second": (times.len() as f64 / *seconds).round(),
            "ms": spread(times),
        })
    });
    json!({
        "route": if args.smpp { "smpp" } else { "sandbox" },
        "store": if args.database_url.is_some() { "postgres" } else { "sqlite" },
        "nodes": args.nodes,
        "messages": count,
        "concurrency": args.concurrency,
        "per_request": args.per_request,
        "offered_per_second": args.rate,
        "synchronous_full": args.synchronous_full,
        "send_seconds": round(figures.send_seconds, 3),
        "accepted_per_second": (count as f64 / figures.send_seconds).round(),
        "ack_ms": spread(&mut figures.sends.acks),
        "max_start_lag_ms": args.rate.map(|_| round(figures.sends.max_lag_ms, 1)),
        "send_to_final_status_ms": spread(&mut figures.finals),
        "all_final_webhooks_seconds": round(webhooks_s, 3),
        "final_webhooks_per_second": (count.saturating_sub(hooks.lost) as f64 / webhooks_s).round(),
        "send_to_final_webhook_ms": spread(&mut hooks.send_to_final),
        "status_to_final_webhook_ms": spread(&mut hooks.status_to_final),
        "webhooks_received": hooks.received,
        "repeated_final_webhooks": hooks.repeated_finals,
        "lost": hooks.lost,
        "wrong": hooks.wrong,
        "status_queries": status_queries,
        "server": {
            "peak_rss_mib": round(figures.peak_rss_mib, 1),
            "store_mib": round(figures.store_bytes as f64 / 1048576.0, 1),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut values: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(
            spread(&mut values),
            json!({"p50": 51.0, "p99": 99.0, "max": 100.0})
        );
        assert_eq!(percentile(&[], 99.0), 0.0);
    }
}
