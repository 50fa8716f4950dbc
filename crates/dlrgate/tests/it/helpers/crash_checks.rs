//! Checks for crash tests against the real binary: the sandbox's promised statuses, statuses and
//! histories read back through the API, ids, and stopping a server within a deadline.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::binary::Server;
use super::crash_load::{Acked, http};
use super::hooks::sequence;

/// The final status the sandbox promises for a recipient (README).
pub fn promised_final(recipient: &str) -> &'static str {
    sequence(recipient).last().copied().unwrap_or_default()
}

pub fn is_final(status: &str) -> bool {
    matches!(
        status,
        "DELIVERED" | "NOTDELIVERED" | "EXPIRED" | "REJECTED" | "FAILED"
    )
}

/// Statuses of `ids` from `GET /api/status`, by id.
pub async fn statuses(base: &str, api_key: &str, ids: &[String]) -> HashMap<String, Value> {
    let client = http();
    let mut found = HashMap::new();
    for chunk in ids.chunks(200) {
        let response = client
            .get(format!("{base}/api/status?msg_id={}", chunk.join(",")))
            .header("X-Api-Key", api_key)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("/api/status answered with non-JSON: {text}"));
        let entries = body
            .as_array()
            .unwrap_or_else(|| panic!("/api/status answered {body}"));
        assert_eq!(entries.len(), chunk.len(), "one entry per id: {body}");
        for (id, entry) in chunk.iter().zip(entries) {
            assert_eq!(entry["id"], id.as_str(), "entries in request order");
            found.insert(id.clone(), entry.clone());
        }
    }
    found
}

/// Polls `/api/status` until every message has its promised final status; panics with the
/// ones that did not after `within`.
pub async fn assert_all_reach_promised_final(
    base: &str,
    api_key: &str,
    acked: &[Acked],
    within: Duration,
) {
    let ids: Vec<String> = acked.iter().map(|a| a.id.clone()).collect();
    let deadline = Instant::now() + within;
    loop {
        let found = statuses(base, api_key, &ids).await;
        let wrong: Vec<String> = acked
            .iter()
            .filter(|a| found[&a.id]["status"] != promised_final(&a.recipient))
            .map(|a| format!("{} to {}: {}", a.id, a.recipient, found[&a.id]))
            .collect();
        if wrong.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged messages did not reach their promised final status within \
             {within:?}, e.g. {:#?}",
            wrong.len(),
            acked.len(),
            &wrong[..wrong.len().min(10)]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /api/messages/{id}/events`; panics unless it answers 200 with JSON.
pub async fn history(base: &str, api_key: &str, id: &str) -> Value {
    let response = http()
        .get(format!("{base}/api/messages/{id}/events"))
        .header("X-Api-Key", api_key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "events of {id}: {body}");
    body
}

/// Checks one message's history from `/api/messages/{id}/events`: the internal `queued` event
/// first and the internal `processed` event second, then the operator reports the sandbox
/// promises, in order, each applied once, with times that never go back; nothing applied after
/// the final status.
pub async fn assert_sane_history(base: &str, api_key: &str, message: &Acked) {
    let body = history(base, api_key, &message.id).await;
    let events = body["events"].as_array().unwrap();
    let context = || format!("message {} to {}: {body:#}", message.id, message.recipient);

    assert!(events.len() >= 2, "{}", context());
    assert_eq!(events[0]["kind"], "internal", "{}", context());
    assert_eq!(events[0]["state"], "queued", "{}", context());
    assert_eq!(events[0]["effect"], "applied", "{}", context());
    assert_eq!(events[1]["kind"], "internal", "{}", context());
    assert_eq!(events[1]["state"], "processed", "{}", context());
    let applied: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "report" && e["effect"] == "applied")
        .collect();
    let states: Vec<&str> = applied
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, sequence(&message.recipient), "{}", context());
    let first_final = states.iter().position(|s| is_final(s)).unwrap();
    assert_eq!(
        first_final,
        states.len() - 1,
        "a change after the final status: {}",
        context()
    );
    let times: Vec<&str> = applied
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "status times go back: {}",
        context()
    );
}

pub async fn assert_every_history_is_sane(base: &str, api_key: &str, acked: &[Acked]) {
    for message in acked {
        assert_sane_history(base, api_key, message).await;
    }
}

/// Sends SIGTERM and waits for the exit; panics (after SIGKILL) if it takes longer than `within`.
pub async fn terminate_within(server: &mut Server, within: Duration) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success(), "could not send SIGTERM to {pid}");
    let deadline = Instant::now() + within;
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            return exit;
        }
        if Instant::now() > deadline {
            server.kill9();
            panic!("dlrgate did not exit within {within:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn assert_ids_unique(acked: &[Acked]) {
    let mut ids: Vec<&str> = acked.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), acked.len(), "an id was given to two messages");
}
