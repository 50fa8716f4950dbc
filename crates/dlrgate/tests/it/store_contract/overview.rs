//! `overview`: the operator's summary behind `dlrgate status` and `dlrgate hooks`.

#![allow(clippy::unwrap_used)]

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered};
use dlrgate::store::{ClaimRequest, DeliveryFate, HookCounts, NewMessage, Store};

use super::backlog::{delivered, hook};
use super::fixtures::{T0, apply, hand_over, receipt, sms, submit, tenant};

pub async fn overview_counts_messages_by_status_and_deliveries_per_hook(store: &dyn Store) {
    // Arrange: A has a delivered message, an accepted one and one queued for later, and a hook
    // with one delivery delivered, one failed and two pending; B has a hook and nothing else;
    // a deleted hook of B is not listed.
    let (a, b) = (tenant(store).await, tenant(store).await);
    let before = store.overview(T0).await.unwrap();
    let hook_a = hook(store, a.id()).await;
    let hook_b = hook(store, b.id()).await;
    let gone = hook(store, b.id()).await;
    store.delete_hook(b.id(), gone.id, T0).await.unwrap();
    let later = NewMessage {
        send_at: T0 + 60_000,
        ..sms("491700000003")
    };
    let ids = submit(
        store,
        a.id(),
        T0,
        vec![sms("491700000001"), sms("491700000002"), later],
    )
    .await;
    for &id in &ids[..2] {
        hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;
    }
    apply(store, receipt(ids[0], 1, Delivered, T0 + 10)).await;
    let deliveries = store.deliveries(a.id(), hook_a.id, 100).await.unwrap();
    assert_eq!(deliveries.len(), 3, "{deliveries:?}");
    let mut failed = delivered(deliveries[1].id, hook_a.id);
    failed.http_status = Some(400);
    failed.error_class = Some("http_4xx");
    failed.fate = DeliveryFate::Failed {
        disable_hook: false,
    };
    let finished = vec![delivered(deliveries[2].id, hook_a.id), failed];
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

    // Act
    let all = store.overview(T0).await.unwrap();
    let since_later = store.overview(T0 + 1).await.unwrap();

    // Assert
    assert_eq!(before.messages, Vec::<(String, i64)>::new());
    let by_status = |status: &str| {
        all.messages
            .iter()
            .find(|(s, _)| s == status)
            .map(|(_, n)| *n)
    };
    assert_eq!(by_status("DELIVERED"), Some(1), "{:?}", all.messages);
    assert_eq!(by_status("ACCEPTED"), Some(1), "{:?}", all.messages);
    assert_eq!(by_status("queued"), Some(1), "{:?}", all.messages);
    assert_eq!(all.messages.len(), 3, "{:?}", all.messages);
    assert_eq!(since_later.messages, vec![("queued".to_owned(), 1)]);
    let counts = |id| all.hooks.iter().find(|h| h.hook_id == id).copied();
    assert_eq!(
        counts(hook_a.id),
        Some(HookCounts {
            hook_id: hook_a.id,
            account_id: a.id(),
            pending: 1,
            failed: 1,
        })
    );
    assert_eq!(
        counts(hook_b.id),
        Some(HookCounts {
            hook_id: hook_b.id,
            account_id: b.id(),
            pending: 0,
            failed: 0,
        })
    );
    assert_eq!(counts(gone.id), None, "a deleted hook is not listed");
    assert!(all.nodes <= 1, "no dlrgate node runs: {}", all.nodes);
}
