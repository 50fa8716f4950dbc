//! Several nodes on one PostgreSQL database (two `PgStore`s, each its own node id): a delivery
//! pushed to a node is read by that node only, a live lease or claim stays with its node, one
//! that ran out is taken over, renewing and handing back touch only a node's own, and a status
//! committed on one node waits for the earlier delivery another node holds.

use std::time::Duration;

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered};
use dlrgate::store::{ClaimRequest, Hook, MessageId, PgPoolSettings, PgStore, Store};

use super::backlog::{delivered, hook};
use super::fixtures::{T0, apply, hand_over, receipt, sms, submit_one, tenant};
use crate::helpers::postgres::{TestDatabase, fresh_database};

const LEASE: Duration = Duration::from_secs(60);

struct Nodes {
    // Dropped first: the pools close before their database goes.
    a: PgStore,
    b: PgStore,
    _db: TestDatabase,
}

async fn node(db: &TestDatabase, lease: Duration) -> PgStore {
    let settings = PgPoolSettings {
        max_connections: 2,
        lease_timeout: lease,
        ..PgPoolSettings::default()
    };
    PgStore::open(&db.url, settings).await.unwrap()
}

async fn two_nodes(lease_a: Duration) -> Nodes {
    let db = fresh_database().await;
    let a = node(&db, lease_a).await;
    let b = node(&db, LEASE).await;
    assert_ne!(a.node_id(), b.node_id());
    Nodes { a, b, _db: db }
}

fn now_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since_epoch.as_millis()).unwrap()
}

/// A claim at `now` for up to 10 deliveries, leased for a minute.
fn claim_at(now: i64) -> ClaimRequest {
    ClaimRequest {
        now,
        limit: 10,
        per_hook: 10,
        per_hook_limits: Default::default(),
        lease_until: now + 60_000,
    }
}

async fn claim(store: &dyn Store, now: i64) -> Vec<i64> {
    let settled = store
        .settle_and_claim(vec![], vec![], claim_at(now))
        .await
        .unwrap();
    settled.claimed.iter().map(|d| d.id).collect()
}

async fn pushed(store: &dyn Store) -> Vec<i64> {
    let read = store.pushed_deliveries(0, now_millis(), 100).await.unwrap();
    assert!(read.stale.is_empty(), "{read:?}");
    read.deliveries.iter().map(|d| d.id).collect()
}

/// A hook, and a message whose ACCEPTED status was stored by node A (pushed to A).
async fn accepted_on_a(nodes: &Nodes) -> (Hook, MessageId) {
    let tenant = tenant(&nodes.a).await;
    let hook = hook(&nodes.a, tenant.id()).await;
    let id = submit_one(&nodes.a, tenant.id(), sms("491701234561")).await;
    hand_over(&nodes.a, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;
    (hook, id)
}

#[tokio::test]
async fn a_delivery_pushed_to_one_node_is_read_by_that_node_only() {
    let nodes = two_nodes(LEASE).await;
    accepted_on_a(&nodes).await;

    let on_b = pushed(&nodes.b).await;
    let on_a = pushed(&nodes.a).await;

    assert_eq!(on_b, Vec::<i64>::new());
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(pushed(&nodes.a).await, Vec::<i64>::new(), "read once");
}

#[tokio::test]
async fn a_live_lease_stays_with_its_node_and_one_that_ran_out_is_taken_over() {
    // Arrange: A holds the delivery (read from its pushes).
    let nodes = two_nodes(LEASE).await;
    accepted_on_a(&nodes).await;
    let held = pushed(&nodes.a).await;
    let lease_ms = i64::try_from(LEASE.as_millis()).unwrap();

    // Act
    let while_live = claim(&nodes.b, now_millis()).await;
    let after_lease = claim(&nodes.b, now_millis() + lease_ms + 1_000).await;
    let renewed_by_a = nodes
        .a
        .renew_leases(&held, now_millis() + lease_ms)
        .await
        .unwrap();
    let renewed_by_b = nodes
        .b
        .renew_leases(&held, now_millis() + lease_ms)
        .await
        .unwrap();

    // Assert
    assert_eq!(while_live, Vec::<i64>::new(), "A's lease is live");
    assert_eq!(after_lease, held, "B takes over once A's lease ran out");
    assert_eq!(renewed_by_a, 0, "A lost the lease to B");
    assert_eq!(renewed_by_b, 1);
}

#[tokio::test]
async fn renewing_keeps_a_lease_and_handing_back_touches_only_the_own() {
    // Arrange
    let nodes = two_nodes(LEASE).await;
    accepted_on_a(&nodes).await;
    let held = pushed(&nodes.a).await;
    let later = now_millis() + 10 * 60_000;

    // Act: A renews far into the future; B hands back its (no) leases and tries to claim just
    // after A's original lease would have ended.
    let renewed = nodes.a.renew_leases(&held, later).await.unwrap();
    let released_by_b = nodes.b.release_leases().await.unwrap();
    let claimed_by_b = claim(&nodes.b, now_millis() + 2 * 60_000).await;
    let released_by_a = nodes.a.release_leases().await.unwrap();
    let claimed_after = claim(&nodes.b, now_millis()).await;

    // Assert
    assert_eq!(renewed, 1);
    assert_eq!(released_by_b, 0, "B holds nothing");
    assert_eq!(claimed_by_b, Vec::<i64>::new(), "the renewed lease holds");
    assert_eq!(released_by_a, 1);
    assert_eq!(claimed_after, held, "handed back: due at once for any node");
}

#[tokio::test]
async fn a_status_stored_on_another_node_waits_for_the_earlier_delivery() {
    // Arrange: A holds the ACCEPTED delivery; B stores DELIVERED of the same message.
    let nodes = two_nodes(LEASE).await;
    let (hook, id) = accepted_on_a(&nodes).await;
    let first = pushed(&nodes.a).await;
    apply(&nodes.b, receipt(id, 1, Delivered, T0 + 10)).await;

    // Act
    let pushed_to_b = pushed(&nodes.b).await;
    let claimed_before = claim(&nodes.b, now_millis()).await;
    let record_only = ClaimRequest {
        limit: 0,
        ..claim_at(now_millis())
    };
    nodes
        .a
        .settle_and_claim(vec![delivered(first[0], hook.id)], vec![], record_only)
        .await
        .unwrap();
    let claimed_after = claim(&nodes.b, now_millis()).await;

    // Assert: DELIVERED goes out only after ACCEPTED was delivered, through a claim.
    assert_eq!(
        pushed_to_b,
        Vec::<i64>::new(),
        "not pushed past A's delivery"
    );
    assert_eq!(
        claimed_before,
        Vec::<i64>::new(),
        "ACCEPTED is still in flight on A"
    );
    assert_eq!(claimed_after.len(), 1, "{claimed_after:?}");
    assert!(claimed_after[0] > first[0]);
}

#[tokio::test]
async fn a_claimed_message_is_its_nodes_until_the_claim_runs_out() {
    // Arrange: A's claims last 300 ms unless renewed; B's a minute.
    let nodes = two_nodes(Duration::from_millis(300)).await;
    let tenant = tenant(&nodes.a).await;
    let id = submit_one(&nodes.a, tenant.id(), sms("491701234561")).await;
    let claimed = nodes.a.claim_due("sandbox", T0, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);

    // Act
    let own_on_a = nodes.a.claimed("sandbox").await.unwrap().len();
    let own_on_b = nodes.b.claimed("sandbox").await.unwrap().len();
    let renewed_by_a = nodes.a.renew_claims().await.unwrap();
    let renewed_by_b = nodes.b.renew_claims().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let taken = nodes.b.take_over_claims("sandbox").await.unwrap();
    let taken_again = nodes.a.take_over_claims("sandbox").await.unwrap();

    // Assert
    assert_eq!((own_on_a, own_on_b), (1, 0));
    assert_eq!((renewed_by_a, renewed_by_b), (1, 0));
    assert_eq!(taken.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);
    assert!(taken_again.is_empty(), "B's claim is live: {taken_again:?}");
    assert_eq!(nodes.b.claimed("sandbox").await.unwrap().len(), 1);
    assert_eq!(nodes.a.claimed("sandbox").await.unwrap().len(), 0);
}

#[tokio::test]
async fn a_live_claim_is_not_taken_over() {
    let nodes = two_nodes(LEASE).await;
    let tenant = tenant(&nodes.a).await;
    submit_one(&nodes.a, tenant.id(), sms("491701234561")).await;
    nodes.a.claim_due("sandbox", T0, 10).await.unwrap();

    let taken = nodes.b.take_over_claims("sandbox").await.unwrap();

    assert!(taken.is_empty(), "{taken:?}");
}

#[tokio::test]
async fn the_heartbeat_counts_the_nodes_seen_within_a_lease() {
    // B counts the nodes seen within its lease of one second.
    let db = fresh_database().await;
    let (a, b) = (
        node(&db, LEASE).await,
        node(&db, Duration::from_secs(1)).await,
    );

    let alone = a.heartbeat().await.unwrap();
    let together = b.heartbeat().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let after_a_went_quiet = b.heartbeat().await.unwrap();

    assert_eq!((alone, together, after_a_went_quiet), (1, 2, 1));
}

#[tokio::test]
async fn a_report_waits_while_an_earlier_one_of_its_message_is_held_elsewhere() {
    // Arrange: TRANSMITTED then DELIVERED scheduled for one message; another node's applier
    // holds TRANSMITTED (an open transaction locked it).
    use dlrgate::domain::status::DeliveryStatus::Transmitted;
    use sqlx::{Connection, PgConnection};
    let nodes = two_nodes(LEASE).await;
    let tenant = tenant(&nodes.a).await;
    let id = submit_one(&nodes.a, tenant.id(), sms("491701234561")).await;
    let scheduled = vec![
        receipt(id, 1, Transmitted, T0 + 1),
        receipt(id, 1, Delivered, T0 + 2),
    ];
    hand_over(
        &nodes.a,
        id,
        T0,
        vec![receipt(id, 1, Accepted, T0)],
        scheduled,
    )
    .await;
    let mut other = PgConnection::connect(&nodes._db.url).await.unwrap();
    let mut holding = other.begin().await.unwrap();
    sqlx::query("SELECT id FROM scheduled_reports WHERE status = 'TRANSMITTED' FOR UPDATE")
        .execute(&mut *holding)
        .await
        .unwrap();

    // Act
    let while_held = nodes.b.apply_due_reports(T0 + 10, 100).await.unwrap();
    holding.rollback().await.unwrap();
    let after = nodes.b.apply_due_reports(T0 + 10, 100).await.unwrap();

    // Assert: nothing applied past the held report; then both, in order.
    assert!(while_held.is_empty(), "{while_held:?}");
    let statuses: Vec<_> = after.iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![Transmitted, Delivered]);
}
