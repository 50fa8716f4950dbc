//! Crash safety with the real binary: `dlrgate serve` is killed with SIGKILL (or stopped with
//! SIGTERM) while several clients send, and restarted on the same data directory. Every message
//! that got an id must still be there and go on to the final status the sandbox promises for its
//! recipient's last digit, with a sane status history.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use crate::helpers::binary::Server;
use crate::helpers::crash_checks::{
    assert_all_reach_promised_final, assert_every_history_is_sane, assert_ids_unique, is_final,
    statuses, terminate_within,
};
use crate::helpers::crash_load::{Load, REQUESTS_PER_TASK, TASKS};

/// Slow enough that statuses are still in flight when the server dies.
const SLOW_SPEED: &str = "20";
/// Acknowledged messages to wait for before stopping the server.
const ACKS_BEFORE_STOP: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_message_survives_kill_9_and_reaches_its_promised_final_status() {
    // Arrange
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", SLOW_SPEED)]);
    let api_key = server
        .api_key
        .clone()
        .expect("first start prints an API key");
    let load = Load::start(&server.base, &api_key);
    load.wait_for_acks(ACKS_BEFORE_STOP, Duration::from_secs(60))
        .await;
    let before_kill = load.acked_so_far();
    let ids: Vec<String> = before_kill.iter().map(|a| a.id.clone()).collect();
    let not_final = statuses(&server.base, &api_key, &ids)
        .await
        .values()
        .filter(|entry| !entry["status"].as_str().is_some_and(is_final))
        .count();

    // Act
    server.kill9();
    let acked = load.finish().await;
    let server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", "1000")]);

    // Assert
    eprintln!(
        "kill -9: {} messages acknowledged, {not_final} of the first {} not final at the kill",
        acked.len(),
        ids.len()
    );
    assert!(
        not_final > 0,
        "every status was already final before the kill, so it tested nothing"
    );
    let requests = TASKS * REQUESTS_PER_TASK;
    assert!(
        acked.len() < requests,
        "all {requests} requests were answered, so the kill hit no traffic"
    );
    assert!(acked.len() >= ACKS_BEFORE_STOP);
    assert_ids_unique(&acked);
    assert_all_reach_promised_final(&server.base, &api_key, &acked, Duration::from_secs(60)).await;
    assert_every_history_is_sane(&server.base, &api_key, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_while_sending_exits_cleanly_and_loses_no_acknowledged_message() {
    // Arrange
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", SLOW_SPEED)]);
    let api_key = server
        .api_key
        .clone()
        .expect("first start prints an API key");
    let load = Load::start(&server.base, &api_key);
    load.wait_for_acks(ACKS_BEFORE_STOP, Duration::from_secs(60))
        .await;

    // Act
    let exit = terminate_within(&mut server, Duration::from_secs(30)).await;
    let acked = load.finish().await;
    let server = Server::start(data.path(), &[("DLRGATE_SANDBOX_SPEED", "1000")]);

    // Assert
    eprintln!("SIGTERM: {} messages acknowledged", acked.len());
    assert!(exit.success(), "dlrgate exited with {exit} after SIGTERM");
    assert!(
        acked.len() < TASKS * REQUESTS_PER_TASK,
        "every request was answered, so SIGTERM hit no traffic"
    );
    assert_ids_unique(&acked);
    assert_all_reach_promised_final(&server.base, &api_key, &acked, Duration::from_secs(60)).await;
    assert_every_history_is_sane(&server.base, &api_key, &acked).await;
}
