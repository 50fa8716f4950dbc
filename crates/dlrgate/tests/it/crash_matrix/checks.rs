//! The crash matrix's webhook invariants: every applied status of every acknowledged message
//! reached the hook at least once, copies of one status share one `webhook-id` (and no id names
//! two statuses), and per message the statuses never arrive backwards.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::helpers::crash_checks::history;
use crate::helpers::crash_load::Acked;
use crate::helpers::hooks::event;
use crate::helpers::receiver::{Received, WebhookReceiver};

/// The operator statuses applied to `message`, in history order.
pub async fn applied_statuses(base: &str, api_key: &str, message: &Acked) -> Vec<String> {
    let body = history(base, api_key, &message.id).await;
    body["events"]
        .as_array()
        .unwrap_or_else(|| panic!("events of {}: {body}", message.id))
        .iter()
        .filter(|e| e["kind"] == "report" && e["effect"] == "applied")
        .map(|e| match e["state"].as_str().unwrap() {
            // An UNKNOWN report (a submit in doubt) makes the message FAILED, provisionally,
            // and webhooks carry the message's status.
            "UNKNOWN" => "FAILED".to_owned(),
            state => state.to_owned(),
        })
        .collect()
}

/// Waits until every applied status of every message in `acked` has arrived, then checks ids and
/// order over everything received. Returns the number of webhooks received.
pub async fn assert_webhooks_complete(
    receiver: &mut WebhookReceiver,
    got: &mut Vec<Received>,
    base: &str,
    api_key: &str,
    acked: &[Acked],
) -> usize {
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for message in acked {
        let statuses = applied_statuses(base, api_key, message).await;
        expected.insert(message.id.clone(), statuses);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        got.extend(receiver.drain());
        let missing = missing(&expected, got);
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} statuses never reached the hook, e.g. {:?}",
            missing.len(),
            missing.iter().take(10).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_one_id_per_status(got);
    assert_never_backwards(&expected, got);
    got.len()
}

fn missing(expected: &HashMap<String, Vec<String>>, got: &[Received]) -> Vec<(String, String)> {
    let seen: BTreeSet<(String, String)> = got.iter().map(event).collect();
    expected
        .iter()
        .flat_map(|(id, statuses)| statuses.iter().map(|s| (id.clone(), s.clone())))
        .filter(|pair| !seen.contains(pair))
        .collect()
}

fn assert_one_id_per_status(got: &[Received]) {
    let mut by_id: HashMap<&str, (String, String)> = HashMap::new();
    let mut by_status: HashMap<(String, String), &str> = HashMap::new();
    for request in got {
        let id = request.header("webhook-id");
        assert!(!id.is_empty(), "a webhook without webhook-id");
        let status = event(request);
        if let Some(earlier) = by_id.insert(id, status.clone()) {
            assert_eq!(earlier, status, "webhook-id {id} named two statuses");
        }
        if let Some(earlier) = by_status.insert(status.clone(), id) {
            assert_eq!(earlier, id, "{status:?} was sent under two webhook-ids");
        }
    }
}

/// Per message, each status first arrives after the earlier ones. A copy sent again after a
/// kill (the process died before it stored that the first one was taken) may come after a later
/// status; it carries the `webhook-id` the receiver already has.
fn assert_never_backwards(expected: &HashMap<String, Vec<String>>, got: &[Received]) {
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut first_seen = BTreeSet::new();
    let mut copies = 0;
    for request in got {
        if !first_seen.insert(request.header("webhook-id")) {
            copies += 1;
            continue;
        }
        let (id, status) = event(request);
        let Some(statuses) = expected.get(&id) else {
            continue; // stored, but its answer was lost in a kill
        };
        let index = statuses
            .iter()
            .position(|s| *s == status)
            .unwrap_or_else(|| panic!("{id} got {status}, which its history lacks: {statuses:?}"));
        let last = position.entry(id.clone()).or_insert(0);
        assert!(
            index >= *last,
            "{id}: {status} arrived after {}",
            statuses[*last]
        );
        *last = index;
    }
    eprintln!("{copies} webhooks were copies sent again after a kill");
}
