//! Several nodes on one PostgreSQL database (issue 9): two real `dlrgate serve` processes share
//! the load; one is killed with SIGKILL mid-run. The other must finish the dead node's work once
//! its leases (`store.lease_timeout`) run out: every acknowledged message reaches its promised
//! final status, every status reaches the webhook receiver at least once, and no delivery is on
//! the wire from two nodes at the same time (a copy after the kill is at-least-once; two at once
//! is two owners). Then the killed node comes back on the same database while the other is busy,
//! takes none of its live work, and serves the old messages and new ones.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use serde_json::json;

use crate::helpers::binary::Server;
use crate::helpers::crash_checks::{
    assert_all_reach_promised_final, assert_every_history_is_sane, assert_ids_unique, is_final,
    statuses,
};
use crate::helpers::crash_load::{Acked, Load, REQUESTS_PER_TASK, TASKS};
use crate::helpers::hooks::Api;
use crate::helpers::multinode::{
    Visit, VisitLog, assert_one_webhook_id_per_event, copies, effective_settings, node_env,
    overlapping, start_node,
};
use crate::helpers::postgres::fresh_database;
use crate::helpers::receiver::Received;

/// Short, so that the dead node's work is taken over within seconds.
const LEASE_TIMEOUT: &str = "3s";
/// Slow enough that statuses are still in flight when the node dies.
const SANDBOX_SPEED: &str = "20";
/// Messages node A acknowledges before it is killed.
const ACKS_BEFORE_KILL: usize = 200;
/// How long the surviving node has to finish everything.
const SETTLE: Duration = Duration::from_secs(60);

/// What the two loads got back.
struct Acks {
    a: Vec<Acked>,
    b: Vec<Acked>,
    b_after_kill: Vec<Acked>,
    /// Of A's messages acknowledged before the kill, how many were not final at the kill.
    a_not_final_at_kill: usize,
}

impl Acks {
    fn all(&self) -> Vec<Acked> {
        [&self.a, &self.b, &self.b_after_kill]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

/// Loads both nodes, kills A with SIGKILL after it acknowledged `ACKS_BEFORE_KILL` messages,
/// then loads B once more.
async fn load_both_and_kill_a(a: &mut Server, b: &Server, api_key: &str) -> Acks {
    let load_a = Load::start_round(&a.base, api_key, 1);
    let load_b = Load::start_round(&b.base, api_key, 2);
    load_a
        .wait_for_acks(ACKS_BEFORE_KILL, Duration::from_secs(60))
        .await;
    let before_kill: Vec<String> = load_a.acked_so_far().into_iter().map(|m| m.id).collect();
    let a_not_final_at_kill = statuses(&b.base, api_key, &before_kill)
        .await
        .values()
        .filter(|entry| !entry["status"].as_str().is_some_and(is_final))
        .count();

    a.kill9();
    let after_kill = Load::start_round(&b.base, api_key, 3);
    Acks {
        a: load_a.finish().await,
        b: load_b.finish().await,
        b_after_kill: after_kill.finish().await,
        a_not_final_at_kill,
    }
}

/// The environment of both nodes; panics unless a node accepts it with the short lease.
fn env_of_every_node(database_url: &str) -> Vec<(&'static str, String)> {
    let mut env = node_env(database_url, LEASE_TIMEOUT);
    env.push(("DLRGATE_SANDBOX_SPEED", SANDBOX_SPEED.into()));
    let settings = effective_settings(&env);
    assert_eq!(
        settings["store"]["lease_timeout"], LEASE_TIMEOUT,
        "every node must run with the short lease: {settings}"
    );
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_database_finish_the_work_of_one_killed_with_kill_9_and_share_again_when_it_returns()
 {
    // Arrange
    let db = fresh_database().await;
    let receiver = VisitLog::start(Duration::from_millis(10)).await;
    let env = env_of_every_node(&db.url);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = start_node(dir_a.path(), &env).await;
    let api_key = a
        .api_key
        .clone()
        .expect("the first node on a fresh database creates the default account");
    let b = start_node(dir_b.path(), &env).await;
    assert_eq!(
        b.api_key, None,
        "the second node uses the first node's account"
    );
    Api::new(&a.base, &api_key).subscribe(&receiver.url).await;

    // Act
    let acks = load_both_and_kill_a(&mut a, &b, &api_key).await;
    let all = acks.all();
    eprintln!(
        "multinode: acknowledged by A {} (killed after {ACKS_BEFORE_KILL}; {} of those not final \
         at the kill), by B {} before and {} after the kill",
        acks.a.len(),
        acks.a_not_final_at_kill,
        acks.b.len(),
        acks.b_after_kill.len()
    );
    let settling = Instant::now();
    assert_all_reach_promised_final(&b.base, &api_key, &all, SETTLE).await;
    let visits = receiver.wait_for_every_event(&all, SETTLE).await;
    eprintln!(
        "multinode: everything final and every status received {:?} after the loads stopped",
        settling.elapsed()
    );

    // Assert
    let requests = TASKS * REQUESTS_PER_TASK;
    assert!(
        acks.a.len() >= ACKS_BEFORE_KILL && acks.a.len() < requests,
        "A acknowledged {}, so the kill hit no traffic",
        acks.a.len()
    );
    assert!(
        acks.a_not_final_at_kill > 0,
        "every status of A's messages was final before the kill, so it tested nothing"
    );
    assert!(
        !acks.b_after_kill.is_empty(),
        "B took no load after the kill"
    );
    assert_ids_unique(&all);
    assert_no_delivery_on_two_nodes_at_once(&visits);
    assert_one_webhook_id_per_event(&visits);
    assert_every_history_is_sane(&b.base, &api_key, &all).await;

    // The killed node comes back on the same database while B is busy, takes none of B's live
    // work, shares the new load and serves the old messages too.
    let (a, rejoined) = restart_a_while_b_is_loaded(dir_a.path(), &env, &b, &api_key).await;
    let everything: Vec<Acked> = all.iter().chain(&rejoined).cloned().collect();
    assert_all_reach_promised_final(&a.base, &api_key, &everything, SETTLE).await;
    let visits = receiver.wait_for_every_event(&everything, SETTLE).await;
    assert_ids_unique(&everything);
    assert_no_delivery_on_two_nodes_at_once(&visits);
    assert_one_webhook_id_per_event(&visits);
    assert_every_history_is_sane(&a.base, &api_key, &rejoined).await;
}

/// Restarts A on its data directory once B, under load, has acknowledged some messages, then
/// loads A too; returns A and what both acknowledged.
async fn restart_a_while_b_is_loaded(
    dir: &Path,
    env: &[(&'static str, String)],
    b: &Server,
    api_key: &str,
) -> (Server, Vec<Acked>) {
    let load_b = Load::start_round(&b.base, api_key, 4);
    load_b.wait_for_acks(100, Duration::from_secs(60)).await;
    let a = start_node(dir, env).await;
    assert_eq!(a.api_key, None, "a restarted node creates no account");
    let load_a = Load::start_round(&a.base, api_key, 5);
    let mut acked = load_b.finish().await;
    let of_b = acked.len();
    acked.extend(load_a.finish().await);
    eprintln!(
        "multinode: after A's restart acknowledged by B {of_b}, by A {}",
        acked.len() - of_b
    );
    (a, acked)
}

/// Prints the receiver's figures and asserts that no webhook-id was on the wire twice at once.
fn assert_no_delivery_on_two_nodes_at_once(visits: &[Visit]) {
    let pairs = overlapping(visits);
    eprintln!(
        "multinode: {} webhook requests, {} of them copies of an earlier one, {} copies while \
         the earlier one was still on the wire",
        visits.len(),
        copies(visits),
        pairs.len()
    );
    let examples: Vec<String> = pairs
        .iter()
        .take(10)
        .map(|(earlier, later)| {
            format!(
                "{}: arrived {:?} after the earlier copy, which was answered {:?} after it arrived",
                later.webhook_id(),
                later.request.at - earlier.request.at,
                earlier.answered - earlier.request.at
            )
        })
        .collect();
    assert!(
        pairs.is_empty(),
        "{} deliveries were on the wire twice at once, e.g. {examples:#?}",
        pairs.len()
    );
}

/// A visit of `webhook_id` from `from` to `to` ms after `start`.
fn visit(start: Instant, webhook_id: &str, from: u64, to: u64) -> Visit {
    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", webhook_id.parse().unwrap());
    let body = json!({"data": {"msg_id": webhook_id, "status": "DELIVERED"}});
    Visit {
        request: Received {
            method: "POST".into(),
            uri: "/hook".into(),
            headers,
            body: body.to_string().into(),
            at: start + Duration::from_millis(from),
        },
        answered: start + Duration::from_millis(to),
    }
}

/// Runs `overlapping` over visits given as `(webhook-id, from ms, to ms)` and compares the pairs
/// it finds, as indices into `visits`, with `expect`.
fn check(visits: &[(&str, u64, u64)], expect: &[(usize, usize)]) {
    let start = Instant::now();
    let built: Vec<Visit> = visits
        .iter()
        .map(|(id, from, to)| visit(start, id, *from, *to))
        .collect();
    let index = |v: &Visit| {
        built
            .iter()
            .position(|b| b.request.at == v.request.at && b.webhook_id() == v.webhook_id())
            .unwrap()
    };
    let mut found: Vec<(usize, usize)> = overlapping(&built)
        .into_iter()
        .map(|(earlier, later)| (index(earlier), index(later)))
        .collect();
    found.sort_unstable();
    assert_eq!(found, expect, "visits {visits:?}");
}

#[test]
fn the_overlap_check_flags_copies_of_one_webhook_on_the_wire_at_once_and_nothing_else() {
    // Two copies at once.
    check(&[("msg_dlr1", 0, 30), ("msg_dlr1", 10, 40)], &[(0, 1)]);
    // A copy after the first was answered (at-least-once after a crash), also when it arrives
    // in the same millisecond, and other deliveries at the same time are fine.
    check(&[("msg_dlr1", 0, 30), ("msg_dlr1", 3030, 3050)], &[]);
    check(&[("msg_dlr1", 0, 30), ("msg_dlr1", 30, 50)], &[]);
    check(&[("msg_dlr1", 0, 30), ("msg_dlr2", 10, 40)], &[]);
    // A third copy inside a long first one is caught, although it follows a short second one.
    check(
        &[
            ("msg_dlr1", 0, 100),
            ("msg_dlr1", 10, 20),
            ("msg_dlr1", 50, 60),
        ],
        &[(0, 1), (0, 2)],
    );
}

#[tokio::test]
async fn the_visit_log_sees_two_copies_of_one_webhook_sent_at_once() {
    // Arrange: answers take over half a second, so the two copies surely meet.
    let receiver = VisitLog::start(Duration::from_millis(500)).await;
    let http = reqwest::Client::new();
    let send = |id: &'static str| {
        http.post(&receiver.url)
            .header("webhook-id", id)
            .json(&json!({"data": {"msg_id": "1", "status": "DELIVERED"}}))
            .send()
    };

    // Act: two copies of msg_dlr1 at once, then msg_dlr2 twice one after the other.
    let (first, second) = tokio::join!(send("msg_dlr1"), send("msg_dlr1"));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    send("msg_dlr2").await.unwrap();
    send("msg_dlr2").await.unwrap();

    // Assert
    let visits = receiver.visits();
    assert_eq!(visits.len(), 4);
    assert_eq!(copies(&visits), 2);
    let pairs = overlapping(&visits);
    assert_eq!(pairs.len(), 1, "{pairs:#?}");
    assert_eq!(pairs[0].0.webhook_id(), "msg_dlr1");
}
