//! The dashboard's summaries: `status_counts` and `activity`, tenant-scoped.

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered, NotDelivered};
use dlrgate::store::{ActivityBucket, ActivityWindow, NewMessage, StatusCount, Store};

use super::fixtures::{T0, hand_over, receipt, sms, submit, tenant};

const MINUTE: i64 = 60_000;

fn count(status: Option<dlrgate::domain::status::DeliveryStatus>, messages: u64) -> StatusCount {
    StatusCount { status, messages }
}

pub async fn status_counts_count_each_status_of_the_account_since_a_time(store: &dyn Store) {
    // Arrange
    let alice = tenant(store).await;
    let bob = tenant(store).await;
    let recipients = [
        "491700000001",
        "491700000002",
        "491700000003",
        "491700000004",
    ];
    let ids = submit(store, alice.id(), T0, recipients.map(sms).to_vec()).await;
    let old = NewMessage {
        send_at: T0 - 10 * MINUTE,
        ..sms("491700000005")
    };
    submit(store, alice.id(), T0, vec![old]).await;
    let cancelled = NewMessage {
        send_at: T0 + 10 * MINUTE,
        ..sms("491700000006")
    };
    let cancelled = submit(store, alice.id(), T0, vec![cancelled]).await[0];
    store
        .cancel_scheduled(alice.id(), &[cancelled])
        .await
        .unwrap();
    submit(store, bob.id(), T0, vec![sms("491700000007")]).await;
    let reports = [
        (ids[0], Delivered),
        (ids[1], Delivered),
        (ids[2], NotDelivered),
    ];
    for (id, status) in reports {
        hand_over(
            store,
            id,
            T0 + 1,
            vec![receipt(id, 1, status, T0 + 2)],
            vec![],
        )
        .await;
    }

    // Act
    let alices = store.status_counts(alice.id(), T0).await.unwrap();
    let bobs = store.status_counts(bob.id(), T0).await.unwrap();
    let all_of_alices = store
        .status_counts(alice.id(), T0 - MINUTE * 60)
        .await
        .unwrap();

    // Assert
    assert_eq!(
        alices,
        [
            count(None, 1),
            count(Some(Delivered), 2),
            count(Some(NotDelivered), 1)
        ]
    );
    assert_eq!(bobs, [count(None, 1)]);
    assert_eq!(all_of_alices[0], count(None, 2));
}

pub async fn activity_counts_sends_by_send_time_and_finals_by_status_time(store: &dyn Store) {
    // Arrange
    let alice = tenant(store).await;
    let bob = tenant(store).await;
    let at = |minute: i64, recipient: &str| NewMessage {
        send_at: T0 + minute * MINUTE,
        ..sms(recipient)
    };
    let first = submit(store, alice.id(), T0, vec![at(0, "491700000001")]).await[0];
    let second = submit(store, alice.id(), T0, vec![at(0, "491700000002")]).await[0];
    let third = submit(store, alice.id(), T0, vec![at(2, "491700000003")]).await[0];
    submit(store, alice.id(), T0, vec![at(9, "491700000004")]).await;
    submit(store, bob.id(), T0, vec![at(0, "491700000005")]).await;
    let accepted = receipt(second, 1, Accepted, T0 + 5);
    hand_over(store, second, T0 + 1, vec![accepted], vec![]).await;
    let delivered = receipt(first, 1, Delivered, T0 + 2 * MINUTE + 5);
    hand_over(store, first, T0 + 1, vec![delivered], vec![]).await;
    let failed = receipt(third, 1, NotDelivered, T0 + 2 * MINUTE + 9);
    hand_over(store, third, T0 + 2 * MINUTE, vec![failed], vec![]).await;
    let window = ActivityWindow {
        from: T0,
        until: T0 + 5 * MINUTE,
        bucket_ms: MINUTE,
    };

    // Act
    let alices = store.activity(alice.id(), window).await.unwrap();
    let bobs = store.activity(bob.id(), window).await.unwrap();

    // Assert
    let bucket = |minute: i64, sent, delivered, failed| ActivityBucket {
        start: T0 + minute * MINUTE,
        sent,
        delivered,
        failed,
    };
    assert_eq!(alices, [bucket(0, 2, 0, 0), bucket(2, 1, 1, 1)]);
    assert_eq!(bobs, [bucket(0, 1, 0, 0)]);
}
