//! The per-hook backlog limit: `check_backlogs` marks a hook with too many pending deliveries
//! full, status changes then create no deliveries for it (other hooks unaffected), and the mark
//! is cleared once the backlog fell below the resume mark; `outbox_by_hook` reports each hook's
//! pending deliveries for the metrics scrape.

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered};
use dlrgate::store::{
    AccountId, AttemptRecord, Backlogs, ClaimRequest, DeliveryFate, Hook, HookOutbox, NewHook,
    Store,
};

use super::fixtures::{T0, apply, hand_over, receipt, sms, submit, tenant};

pub(super) async fn hook(store: &dyn Store, account: AccountId) -> Hook {
    store
        .create_hook(NewHook {
            account_id: account,
            target_url: "http://127.0.0.1:9/hook".to_owned(),
            event_type: "dlr".to_owned(),
            request_method: "JSON".to_owned(),
            event_filter: None,
            headers: String::new(),
            created_at: T0,
        })
        .await
        .unwrap()
}

async fn listed(store: &dyn Store, account: AccountId) -> Hook {
    store.hooks(account).await.unwrap().remove(0)
}

pub(super) fn delivered(delivery_id: i64, hook_id: i64) -> AttemptRecord {
    AttemptRecord {
        delivery_id,
        hook_id,
        at: T0 + 100,
        http_status: Some(200),
        latency_ms: 1,
        error_class: None,
        detail: None,
        response_snippet: None,
        fate: DeliveryFate::Delivered,
        disable_after_ms: i64::MAX,
    }
}

pub async fn a_full_backlog_stops_new_deliveries_until_it_drained(store: &dyn Store) {
    // Arrange: three messages with one status each for a hook of A, one for a hook of B.
    let (a, b) = (tenant(store).await, tenant(store).await);
    let (full, other) = (hook(store, a.id()).await, hook(store, b.id()).await);
    let recipients = ["491700000001", "491700000002", "491700000003"];
    let ids = submit(store, a.id(), T0, recipients.map(sms).to_vec()).await;
    let b_id = submit(store, b.id(), T0, vec![sms("491700000009")]).await[0];
    for id in ids.iter().copied().chain([b_id]) {
        hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;
    }

    // Act 1: at least 3 pending is full, fewer than 2 resumes.
    let first = store.check_backlogs(3, 2).await.unwrap();
    let again = store.check_backlogs(3, 2).await.unwrap();
    apply(store, receipt(ids[0], 1, Delivered, T0 + 10)).await;
    apply(store, receipt(b_id, 1, Delivered, T0 + 10)).await;
    let while_full = store.deliveries(a.id(), full.id, 100).await.unwrap();
    let of_other = store.deliveries(b.id(), other.id, 100).await.unwrap();

    // Assert 1
    assert_eq!(first.filled, vec![full.id]);
    assert_eq!(first.resumed, Vec::<i64>::new());
    assert_eq!(again, Backlogs::default(), "a second check changes nothing");
    assert!(listed(store, a.id()).await.backlog_full);
    assert!(!listed(store, b.id()).await.backlog_full);
    assert_eq!(
        while_full.len(),
        3,
        "no delivery for DELIVERED: {while_full:?}"
    );
    assert_eq!(
        of_other.len(),
        2,
        "the other hook is not limited: {of_other:?}"
    );

    // Act 2: two deliveries go out, one stays pending (below the resume mark).
    let finished = while_full[..2]
        .iter()
        .map(|d| delivered(d.id, full.id))
        .collect();
    let claim = ClaimRequest {
        now: T0 + 100,
        limit: 0,
        per_hook: 1,
        per_hook_limits: Default::default(),
        lease_until: T0 + 1000,
    };
    store
        .settle_and_claim(finished, vec![], claim)
        .await
        .unwrap();
    let drained = store.check_backlogs(3, 2).await.unwrap();
    apply(store, receipt(ids[1], 1, Delivered, T0 + 200)).await;

    // Assert 2
    assert_eq!(drained.resumed, vec![full.id]);
    assert_eq!(drained.filled, Vec::<i64>::new());
    assert!(!listed(store, a.id()).await.backlog_full);
    let after = store.deliveries(a.id(), full.id, 100).await.unwrap();
    assert_eq!(
        after.len(),
        4,
        "new statuses reach the hook again: {after:?}"
    );
}

pub async fn outbox_by_hook_counts_pending_deliveries_and_dates_the_oldest(store: &dyn Store) {
    // Arrange: two statuses for a hook of A, none for a hook of B, and a deleted hook of B.
    let (a, b) = (tenant(store).await, tenant(store).await);
    let (busy, idle) = (hook(store, a.id()).await, hook(store, b.id()).await);
    let deleted = hook(store, b.id()).await;
    store.delete_hook(b.id(), deleted.id, T0).await.unwrap();
    let ids = submit(
        store,
        a.id(),
        T0,
        vec![sms("491700000001"), sms("491700000002")],
    )
    .await;
    for id in &ids {
        hand_over(store, *id, T0, vec![receipt(*id, 1, Accepted, T0)], vec![]).await;
    }
    let mut pending = store.deliveries(a.id(), busy.id, 100).await.unwrap();
    pending.sort_by_key(|d| d.id);

    // Act
    let before = store.outbox_by_hook().await.unwrap();
    let claim = ClaimRequest {
        now: T0 + 100,
        limit: 0,
        per_hook: 1,
        per_hook_limits: Default::default(),
        lease_until: T0 + 1000,
    };
    let first_out = vec![delivered(pending[0].id, busy.id)];
    store
        .settle_and_claim(first_out, vec![], claim.clone())
        .await
        .unwrap();
    let after_one = store.outbox_by_hook().await.unwrap();
    let second_out = vec![delivered(pending[1].id, busy.id)];
    store
        .settle_and_claim(second_out, vec![], claim)
        .await
        .unwrap();
    let drained = store.outbox_by_hook().await.unwrap();

    // Assert
    let outbox = |hook: &Hook, pending: i64, oldest: Option<i64>| HookOutbox {
        hook_id: hook.id,
        pending,
        oldest_created_at: oldest,
    };
    assert_eq!(pending.len(), 2, "{pending:?}");
    assert_eq!(
        before,
        vec![
            outbox(&busy, 2, Some(pending[0].created_at)),
            outbox(&idle, 0, None)
        ]
    );
    assert_eq!(
        after_one,
        vec![
            outbox(&busy, 1, Some(pending[1].created_at)),
            outbox(&idle, 0, None)
        ]
    );
    assert_eq!(
        drained,
        vec![outbox(&busy, 0, None), outbox(&idle, 0, None)]
    );
}
