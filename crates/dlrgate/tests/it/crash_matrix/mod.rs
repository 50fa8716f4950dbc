//! The crash matrix: `dlrgate serve` (the real binary, SQLite, webhooks on) is killed with
//! SIGKILL at many moments in a row on one data directory (while it recovers, while requests are
//! accepted, while submits, receipts and webhook deliveries are in flight, while it purges) and
//! restarted each time. Afterwards every invariant is checked: every acknowledged message exists
//! with unique id, reaches its final status exactly once, in history order; every applied status
//! reached the hook at least once, copies only under the same `webhook-id`, never backwards.
//!
//! 18 kill points on the sandbox route (15 under load, 3 during the purge) and 8 on the SMPP
//! route run in CI. `DLRGATE_CRASH_SOAK=N` repeats the load rounds N times (a soak run).

#![allow(clippy::unwrap_used)]

mod checks;
mod harness;
mod purge;

use std::time::{Duration, Instant};

use crate::helpers::crash_checks::{
    assert_all_reach_promised_final, assert_every_history_is_sane, assert_ids_unique, history,
    promised_final, statuses,
};
use checks::assert_webhooks_complete;
use harness::{KillPoint, Rig};

use KillPoint::{Acks, Elapsed, Receipts, Webhooks};

const SANDBOX_POINTS: [KillPoint; 15] = [
    Acks(1),
    Elapsed(0),
    Webhooks(1),
    Acks(40),
    Elapsed(150),
    Webhooks(25),
    Acks(120),
    Elapsed(50),
    Webhooks(80),
    Elapsed(400),
    Acks(250),
    Webhooks(150),
    Elapsed(10),
    Acks(5),
    Webhooks(5),
];

const SMPP_POINTS: [KillPoint; 8] = [
    Receipts(1),
    Acks(30),
    Elapsed(0),
    Webhooks(10),
    Receipts(40),
    Elapsed(200),
    Acks(100),
    Webhooks(60),
];

const PURGE_KILLS: usize = 3;

/// How many times the load rounds run (`DLRGATE_CRASH_SOAK`, default 1).
fn soak() -> usize {
    std::env::var("DLRGATE_CRASH_SOAK")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

async fn run_rounds(rig: &mut Rig<'_>, points: &[KillPoint]) {
    let rounds = points.iter().cycle().take(points.len() * soak());
    for (round, point) in rounds.enumerate() {
        let seen = rig.round(round, *point).await;
        eprintln!("{seen}");
    }
    assert!(
        rig.kills_under_load * 2 >= points.len() * soak(),
        "only {} kills came while requests were answered",
        rig.kills_under_load
    );
    assert_ids_unique(&rig.acked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sandbox_route_survives_kill_9_at_every_point_of_the_matrix() {
    // Arrange
    let data = tempfile::tempdir().unwrap();
    let mut rig = Rig::start(data.path(), Vec::new(), None).await;

    // Act: the load rounds, then one server that finishes everything.
    run_rounds(&mut rig, &SANDBOX_POINTS).await;
    let server = rig.server(&[("DLRGATE_SANDBOX_SPEED", "1000")]);

    // Assert
    let (base, key) = (server.base.clone(), rig.api_key.clone());
    assert_all_reach_promised_final(&base, &key, &rig.acked, Duration::from_secs(90)).await;
    assert_every_history_is_sane(&base, &key, &rig.acked).await;
    let (acked, mut got) = (rig.acked.clone(), std::mem::take(&mut rig.got));
    let webhooks = assert_webhooks_complete(&mut rig.receiver, &mut got, &base, &key, &acked).await;
    eprintln!("{} messages acknowledged, {webhooks} webhooks", acked.len());

    // Act: the purge rounds, on half of the messages.
    drop(server);
    let (old, kept) = acked.split_at(acked.len() / 2);
    purge::make_old(data.path(), old).await;
    for seen in purge::kill_while_purging(&rig, old, PURGE_KILLS).await {
        eprintln!("{seen}");
    }

    // Assert: the old ones are gone with every row, the others untouched.
    purge::assert_purged_cleanly(&rig, old).await;
    let server = rig.server(&[]);
    assert_every_history_is_sane(&server.base, &key, kept).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_smpp_route_survives_kill_9_at_every_point_of_the_matrix() {
    // Arrange: receipts over about a second; unacknowledged ones are sent again quickly.
    let sim = crate::smpp_crash::resending_sim().await;
    let data = tempfile::tempdir().unwrap();
    let config = crate::smpp_crash::config_file(data.path(), sim.local_addr());
    let args = vec!["--config".to_owned(), config];
    let mut rig = Rig::start(data.path(), args, Some(&sim)).await;

    // Act
    run_rounds(&mut rig, &SMPP_POINTS).await;
    let server = rig.server(&[]);

    // Assert: each message reaches the simulator's promised status, or is in doubt because its
    // submit was on the wire at a kill; none reaches the SMSC twice.
    let (base, key) = (server.base.clone(), rig.api_key.clone());
    let in_doubt = assert_promised_or_in_doubt(&base, &key, &rig).await;
    let (acked, mut got) = (rig.acked.clone(), std::mem::take(&mut rig.got));
    let webhooks = assert_webhooks_complete(&mut rig.receiver, &mut got, &base, &key, &acked).await;
    let stats = sim.stats();
    eprintln!(
        "{} messages acknowledged, {in_doubt} in doubt, {webhooks} webhooks, {stats:?}",
        acked.len()
    );
    let stored = purge::stored_messages(data.path()).await;
    assert!(
        stats.submits_received <= stored && stats.submits_received + in_doubt >= acked.len() as u64,
        "{} submits for {stored} stored messages ({} acknowledged, {in_doubt} in doubt)",
        stats.submits_received,
        acked.len()
    );
}

/// Waits for every message's final status; returns how many are in doubt (FAILED with an
/// `in-doubt` event), which only a kill during a submit may cause.
async fn assert_promised_or_in_doubt(base: &str, key: &str, rig: &Rig<'_>) -> u64 {
    let ids: Vec<String> = rig.acked.iter().map(|m| m.id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let found = statuses(base, key, &ids).await;
        let pending: Vec<_> = rig
            .acked
            .iter()
            .filter(|m| {
                let status = found[&m.id]["status"].as_str().unwrap_or_default();
                status != promised_final(&m.recipient) && status != "FAILED"
            })
            .collect();
        if pending.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not final in 90 s: {:?}",
            &pending[..1]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let found = statuses(base, key, &ids).await;
    let mut in_doubt = 0;
    for message in &rig.acked {
        if found[&message.id]["status"] == promised_final(&message.recipient) {
            continue;
        }
        let events = history(base, key, &message.id).await.to_string();
        assert!(
            events.contains("in-doubt"),
            "{} is FAILED, not in doubt: {events}",
            message.id
        );
        in_doubt += 1;
    }
    in_doubt
}
