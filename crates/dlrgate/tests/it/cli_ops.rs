//! The operator commands (`status`, `hooks`, `replay`, `purge`) run as the real binary against
//! the store of a running `dlrgate serve`: a real SQLite data directory, and PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::binary::{Server, binary};
use crate::helpers::hooks::{Api, sequence};
use crate::helpers::receiver::{Reply, WebhookReceiver};

const ENV: &[(&str, &str)] = &[
    ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8"),
    ("DLRGATE_SANDBOX_SPEED", "1000"),
];
const WITHIN: Duration = Duration::from_secs(30);

/// `dlrgate ARGS… STORE…` (its exit status and output).
pub fn dlrgate(args: &[&str], store: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .args(store)
        .env("DLRGATE_LOG_LEVEL", "warn")
        .output()
        .unwrap()
}

/// The JSON a successful command printed.
fn json_of(args: &[&str], store: &[&str]) -> Value {
    let output = dlrgate(args, store);
    assert!(
        output.status.success(),
        "dlrgate {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A running server whose account has a hook to a receiver that refused every status of one
/// delivered message (400: failed for good). Returns the API, the hook id and the failed count.
async fn hook_with_failed_deliveries(
    server: &Server,
    receiver: &WebhookReceiver,
) -> (Api, String, usize) {
    receiver.set_default(Reply::status(400));
    let api = Api::new(&server.base, server.api_key.as_ref().unwrap());
    let hook = api.subscribe(&receiver.url).await;
    let sent = api.send(&["491701234561".to_owned()]).await;
    api.wait_for_final_statuses(&sent, WITHIN).await;
    let expected = sequence(&sent[0].recipient).len();
    api.wait_for_deliveries(&hook, WITHIN, |d| {
        d.len() == expected && d.iter().all(|d| d["state"] == "failed")
    })
    .await;
    (api, hook, expected)
}

/// The whole story on one store: status and hooks show the failures, replay sends them again
/// through the running server, and an --account filter shows only that account's hooks.
async fn replay_story(server: &Server, store: &[&str]) {
    // Arrange
    let mut receiver = WebhookReceiver::start().await;
    let (api, hook, failed) = hook_with_failed_deliveries(server, &receiver).await;
    let other = json_of(&["account", "create", "other"], store);
    let other_id = other["account_id"].to_string();

    // Act 1
    let status = json_of(&["status", "--json"], store);
    let hooks = json_of(&["hooks", "--json"], store);
    let of_other = json_of(&["hooks", "--json", "--account", &other_id], store);

    // Assert 1
    assert_eq!(status["accounts"], 2, "{status}");
    assert_eq!(status["hooks"]["enabled"], 1, "{status}");
    assert_eq!(status["hooks"]["failed_deliveries"], failed, "{status}");
    assert_eq!(status["hooks"]["pending_deliveries"], 0, "{status}");
    assert_eq!(status["messages"]["DELIVERED"], 1, "{status}");
    let listed = hooks.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{hooks}");
    assert_eq!(listed[0]["id"].to_string(), hook);
    assert_eq!(listed[0]["failed"], failed, "{hooks}");
    assert_eq!(listed[0]["target_url"], receiver.url.as_str());
    assert_eq!(
        of_other,
        Value::Array(vec![]),
        "another account's hooks are not listed"
    );

    // Act 2: the receiver accepts now; replay what failed.
    receiver.drain();
    receiver.set_default(Reply::status(200));
    let replayed = json_of(&["replay", "--hook", &hook, "--since", "1h"], store);
    let got = receiver.collect(failed, WITHIN).await;

    // Assert 2
    assert_eq!(replayed["replayed"], failed, "{replayed}");
    assert_eq!(got.len(), failed);
    let settled = api
        .wait_for_deliveries(&hook, WITHIN, |d| {
            d.iter().all(|d| d["state"] == "delivered")
        })
        .await;
    assert_eq!(settled.len(), failed);
    let after = json_of(&["hooks", "--json"], store);
    assert_eq!(after[0]["failed"], 0, "{after}");

    // Act 3: one delivery again, by id.
    let one = settled[0]["id"].as_str().unwrap().to_owned();
    let again = json_of(&["replay", "--hook", &hook, "--delivery", &one], store);
    let resent = receiver.next(WITHIN).await;

    // Assert 3
    assert_eq!(again["replayed"], 1, "{again}");
    assert!(!resent.json().is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_hooks_and_replay_work_on_the_sqlite_store_of_a_running_server() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), ENV);
    let dir = data.path().to_str().unwrap();
    replay_story(&server, &["--data", dir]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_hooks_and_replay_work_on_postgres_with_a_running_server() {
    let database = crate::helpers::postgres::fresh_database().await;
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with_args(data.path(), ENV, &["--database-url", &database.url]);
    replay_story(&server, &["--database-url", &database.url]).await;
    let status = json_of(&["status", "--json"], &["--database-url", &database.url]);
    assert_eq!(status["backend"], "postgres");
    assert_eq!(
        status["nodes"], 1,
        "the running server is the one node: {status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_disable_and_enable_change_the_hook_the_server_uses() {
    // Arrange
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), ENV);
    let store = ["--data", data.path().to_str().unwrap()];
    let receiver = WebhookReceiver::start().await;
    let api = Api::new(&server.base, server.api_key.as_ref().unwrap());
    let hook = api.subscribe(&receiver.url).await;

    // Act
    let disabled = json_of(&["hooks", "disable", &hook], &store);
    let seen_disabled = api.hook(&hook).await;
    let enabled = json_of(&["hooks", "enable", &hook], &store);
    let seen_enabled = api.hook(&hook).await;

    // Assert
    assert_eq!(disabled["enabled"], false, "{disabled}");
    assert_eq!(seen_disabled["enabled"], false, "{seen_disabled}");
    assert_eq!(enabled["enabled"], true, "{enabled}");
    assert_eq!(seen_enabled["enabled"], true, "{seen_enabled}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_deletes_finished_messages_older_than_the_cutoff() {
    // Arrange: one delivered message, then the server stops.
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), ENV);
    let store = ["--data", data.path().to_str().unwrap()];
    let api = Api::new(&server.base, server.api_key.as_ref().unwrap());
    let sent = api.send(&["491701234561".to_owned()]).await;
    api.wait_for_final_statuses(&sent, WITHIN).await;
    server.terminate();

    // Act
    let kept = json_of(&["purge", "--older-than", "30d"], &store);
    let purged = json_of(&["purge", "--older-than", "1ms", "--batch", "1"], &store);
    let status = json_of(&["status", "--all", "--json"], &store);

    // Assert
    assert_eq!(kept["purged"], 0, "{kept}");
    assert_eq!(purged["purged"], 1, "{purged}");
    assert_eq!(status["messages"], serde_json::json!({}), "{status}");
}

/// `dlrgate ARGS…` failed with `code`; returns its stderr.
pub fn failure(args: &[&str], store: &[&str], code: i32) -> String {
    let output = dlrgate(args, store);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "dlrgate {args:?}: {stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing on stdout: {output:?}");
    stderr
}
