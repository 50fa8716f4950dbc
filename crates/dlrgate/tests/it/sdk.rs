//! The official seven.io npm SDK (`@seven.io/client` 5.6.0, pinned in `tests/sdk/`) against a
//! running dlrgate: the node tests in `tests/sdk/sdk.test.mjs` send, poll statuses, read the
//! journal and check the `900` error, using the SDK only; `tests/sdk/limits.test.mjs` checks that
//! a rate-limited request is thrown as the `403` error. Node must be installed; the SDK is
//! installed here with `npm ci` when `tests/sdk/node_modules` is missing (`.ci/run` does it too).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

use crate::helpers::app::{spawn_app, spawn_app_with};

/// How long `npm ci` and the node test run may take before the test fails.
const NPM_DEADLINE: Duration = Duration::from_secs(300);
const NODE_DEADLINE: Duration = Duration::from_secs(120);

pub(crate) fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk")
}

/// Runs `command` to completion within `deadline`, panicking with `what` when it cannot start
/// or takes too long. The child is killed if the deadline passes.
async fn run(mut command: Command, what: &str, deadline: Duration) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: could not start it ({e}); is Node.js installed?"));
    tokio::time::timeout(deadline, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what}: did not finish within {deadline:?}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

pub(crate) fn describe(output: &Output) -> String {
    format!(
        "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Installs the pinned SDK from `package-lock.json` unless it is already there. Tests that run the
/// SDK call this first; a lock keeps two of them from running `npm ci` at the same time.
pub(crate) async fn ensure_sdk_installed() {
    static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _installing = INSTALLING.lock().await;
    let dir = sdk_dir();
    if dir
        .join("node_modules/@seven.io/client/package.json")
        .exists()
    {
        return;
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir);
    let output = run(npm, "npm ci in tests/sdk", NPM_DEADLINE).await;
    assert!(
        output.status.success(),
        "npm ci in {} failed, so the SDK tests cannot run:\n{}",
        dir.display(),
        describe(&output)
    );
}

#[tokio::test]
async fn official_npm_sdk_sends_polls_statuses_reads_the_journal_and_gets_900_for_a_wrong_key() {
    // Arrange
    ensure_sdk_installed().await;
    let app = spawn_app().await;
    let sdk = sdk_dir();

    // Act
    let mut node = Command::new("node");
    node.arg("--test")
        .arg(&sdk)
        .current_dir(&sdk)
        .env("DLRGATE_BASE_URL", format!("{}/api", app.base))
        .env("DLRGATE_API_KEY", &app.api_key);
    let output = run(node, "node --test tests/sdk/", NODE_DEADLINE).await;

    // Assert
    let report = describe(&output);
    assert!(output.status.success(), "the SDK tests failed:\n{report}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.lines().any(|line| line.trim() == "# fail 0")
            && !stdout.lines().any(|line| line.trim() == "# pass 0"),
        "node ran no SDK test or reported failures:\n{report}"
    );
}

#[tokio::test]
async fn official_npm_sdk_throws_the_403_error_for_a_request_over_the_rate_limit() {
    // Arrange: one request per second per key.
    ensure_sdk_installed().await;
    let app = spawn_app_with(|s| {
        s.limits.requests_per_second = 1;
        s.limits.request_burst = 1;
    })
    .await;
    let sdk = sdk_dir();

    // Act
    let mut node = Command::new("node");
    node.arg("--test")
        .arg(sdk.join("limits.test.mjs"))
        .current_dir(&sdk)
        .env("DLRGATE_BASE_URL", format!("{}/api", app.base))
        .env("DLRGATE_LIMITED_API_KEY", &app.api_key);
    let output = run(node, "node --test tests/sdk/limits.test.mjs", NODE_DEADLINE).await;

    // Assert
    let report = describe(&output);
    assert!(
        output.status.success(),
        "the SDK limit test failed:\n{report}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.lines().any(|line| line.trim() == "# pass 1"),
        "node did not run the limit test:\n{report}"
    );
}
