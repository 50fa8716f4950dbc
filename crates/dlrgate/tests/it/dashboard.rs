//! `/dashboard` in a real headless Chromium (`/usr/bin/chromium`, driven by npm `playwright-core`
//! pinned in `tests/dashboard/`): log in with an account key, send from the form, watch the
//! message reach DELIVERED with its history, see a webhook delivery fail, resend it and see it
//! delivered; a second account's key sees none of it; the administrator key sees both accounts.
//! Needs Node.js, Chromium and `npm ci --prefix tests/dashboard` (`.ci/run` does both); without
//! them this fails. Screenshots are kept in `target/dashboard-screenshots/`.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::dashboard_api::{ADMIN_KEY, spawn_with_admin};
use crate::helpers::app::TestApp;
use crate::helpers::hooks_api::subscribe;
use crate::helpers::receiver::{Reply, WebhookReceiver};

const NODE_DEADLINE: Duration = Duration::from_secs(120);

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/dashboard")
}

fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard-screenshots")
}

/// Runs one phase of `tests/dashboard/dashboard.mjs`; panics with its output unless it passed.
async fn run_phase(app: &TestApp, phase: &str, other_key: &str, message: &str) -> String {
    let dir = script_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "run `npm ci --prefix tests/dashboard` first"
    );
    let mut node = Command::new("node");
    node.arg(dir.join("dashboard.mjs"))
        .arg(phase)
        .arg(&app.base)
        .env("DASH_KEY", &app.api_key)
        .env("DASH_OTHER_KEY", other_key)
        .env("DASH_ADMIN_KEY", ADMIN_KEY)
        .env("DASH_MESSAGE", message)
        .env("DASH_SHOTS", screenshot_dir())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(NODE_DEADLINE, node.output())
        .await
        .unwrap_or_else(|_| panic!("the {phase} phase did not finish in {NODE_DEADLINE:?}"))
        .unwrap_or_else(|e| panic!("node could not start ({e}); is Node.js installed?"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{phase} failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn the_dashboard_sends_shows_statuses_replays_webhooks_and_keeps_accounts_apart() {
    // Arrange: a hook whose receiver refuses (400 ends a delivery as failed).
    let app = spawn_with_admin().await;
    let other = app.create_account("other", &[]);
    let other_key = other["api_key"].as_str().unwrap().to_owned();
    let receiver = WebhookReceiver::start().await;
    receiver.set_default(Reply::status(400));
    subscribe(&app, &receiver.url, "JSON", &[]).await;

    // Act: send from the dashboard and see the failure; then the receiver recovers and the
    // dashboard resends.
    let sent = run_phase(&app, "send", &other_key, "").await;
    let sent: Value = serde_json::from_str(sent.lines().last().unwrap_or_default()).unwrap();
    let message = sent["message"].as_str().unwrap().to_owned();
    receiver.set_default(Reply::status(200));
    run_phase(&app, "replay", &other_key, &message).await;

    // Assert: what the browser saw, checked by the script, agrees with the API.
    let status = app.status_json(&message).await;
    assert_eq!(status[0]["status"], "DELIVERED", "{status}");
    assert!(screenshot_dir().join("admin.png").is_file());
}
