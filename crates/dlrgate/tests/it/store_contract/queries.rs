//! Reading messages back: `statuses` for the status API and `journal` for the logbook.

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered, NotDelivered};
use dlrgate::store::{JournalFilter, MessageId, NewMessage, Store};

use super::fixtures::{T0, apply, hand_over, receipt, sms, submit, submit_one, tenant};

const HOUR: i64 = 3_600_000;

fn ids_of(views: &[dlrgate::store::MessageView]) -> Vec<MessageId> {
    views.iter().map(|view| view.id).collect()
}

fn status_ids(views: &[dlrgate::store::StatusView]) -> Vec<MessageId> {
    views.iter().map(|view| view.id).collect()
}

async fn journal_ids(
    store: &dyn Store,
    account: dlrgate::store::AccountId,
    filter: JournalFilter,
) -> Vec<MessageId> {
    ids_of(&store.journal(account, &filter).await.unwrap())
}

fn filter(limit: u32) -> JournalFilter {
    JournalFilter {
        limit,
        ..JournalFilter::default()
    }
}

pub async fn statuses_respect_account_and_since_and_exclude_cancelled(store: &dyn Store) {
    // Arrange
    let alice = tenant(store).await;
    let bob = tenant(store).await;
    let later = |recipient: &str| NewMessage {
        send_at: T0 + HOUR,
        ..sms(recipient)
    };
    let old = submit(store, alice.id(), T0, vec![sms("491700000001")]).await[0];
    let new = submit(store, alice.id(), T0 + HOUR, vec![later("491700000002")]).await[0];
    let cancelled = submit(store, alice.id(), T0 + HOUR, vec![later("491700000003")]).await[0];
    store
        .cancel_scheduled(alice.id(), &[cancelled])
        .await
        .unwrap();
    let bobs = submit(store, bob.id(), T0 + HOUR, vec![later("491700000004")]).await[0];
    hand_over(
        store,
        new,
        T0 + HOUR,
        vec![receipt(new, 1, Accepted, T0 + HOUR + 5)],
        vec![],
    )
    .await;
    let asked = [old, new, cancelled, bobs, bobs + 1_000_000];

    // Act
    let mut all = store.statuses(alice.id(), &asked, T0).await.unwrap();
    let recent = store.statuses(alice.id(), &asked, T0 + 1).await.unwrap();
    let none = store.statuses(alice.id(), &[], T0).await.unwrap();
    let repeated = store.statuses(alice.id(), &[new, new], T0).await.unwrap();

    // Assert
    all.sort_by_key(|view| view.id);
    assert_eq!(status_ids(&all), vec![old, new]);
    assert_eq!(status_ids(&recent), vec![new]);
    assert_eq!(none, vec![]);
    assert_eq!(repeated, recent, "an id asked twice is answered once");
    let view = &recent[0];
    assert_eq!(
        (view.id, view.status, view.status_at),
        (new, Some(Accepted), Some(T0 + HOUR + 5))
    );
    assert_eq!((all[0].status, all[0].status_at), (None, None));
}

pub async fn journal_is_newest_first_and_pages_with_limit_and_offset(store: &dyn Store) {
    // Arrange
    let alice = tenant(store).await;
    let bob = tenant(store).await;
    let messages = (1..=5).map(|n| sms(&format!("49170000000{n}"))).collect();
    let ids = submit(store, alice.id(), T0, messages).await;
    store.cancel_scheduled(alice.id(), &[ids[2]]).await.unwrap();
    submit_one(store, bob.id(), sms("491700000009")).await;

    // Act
    let everything = store.journal(alice.id(), &filter(100)).await.unwrap();
    let first_page = store.journal(alice.id(), &filter(2)).await.unwrap();
    let second_page = store
        .journal(
            alice.id(),
            &JournalFilter {
                offset: 2,
                ..filter(2)
            },
        )
        .await
        .unwrap();
    let past_the_end = store
        .journal(
            alice.id(),
            &JournalFilter {
                offset: 4,
                ..filter(2)
            },
        )
        .await
        .unwrap();

    // Assert: newest first, without the cancelled message and without bob's.
    assert_eq!(ids_of(&everything), vec![ids[4], ids[3], ids[1], ids[0]]);
    assert_eq!(ids_of(&first_page), vec![ids[4], ids[3]]);
    assert_eq!(ids_of(&second_page), vec![ids[1], ids[0]]);
    assert_eq!(past_the_end, vec![]);
}

pub async fn journal_filters_by_id_status_and_recipient(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let to = |recipient: &str| NewMessage {
        label: Some("campaign".to_owned()),
        foreign_id: Some(format!("f-{recipient}")),
        ..sms(recipient)
    };
    let ids = submit(
        store,
        tenant.id(),
        T0,
        vec![
            to("491700000001"),
            to("491700000002"),
            to("491700000001"),
            to("491700000003"),
        ],
    )
    .await;
    for (id, status) in [
        (ids[0], Delivered),
        (ids[1], NotDelivered),
        (ids[2], Delivered),
    ] {
        hand_over(store, id, T0, vec![], vec![]).await;
        apply(store, receipt(id, 1, status, T0 + 10)).await;
    }
    let account = tenant.id();

    // Act and assert
    let by_id = JournalFilter {
        id: Some(ids[1]),
        ..filter(100)
    };
    assert_eq!(journal_ids(store, account, by_id).await, vec![ids[1]]);
    let by_status = JournalFilter {
        status: Some(Delivered),
        ..filter(100)
    };
    assert_eq!(
        journal_ids(store, account, by_status).await,
        vec![ids[2], ids[0]]
    );
    let by_recipient = JournalFilter {
        recipient: Some("491700000001".to_owned()),
        ..filter(100)
    };
    assert_eq!(
        journal_ids(store, account, by_recipient).await,
        vec![ids[2], ids[0]]
    );
    let combined = JournalFilter {
        recipient: Some("491700000001".to_owned()),
        status: Some(NotDelivered),
        ..filter(100)
    };
    assert_eq!(
        journal_ids(store, account, combined).await,
        Vec::<MessageId>::new()
    );
    let unknown_id = JournalFilter {
        id: Some(ids[3] + 1_000_000),
        ..filter(100)
    };
    assert_eq!(
        journal_ids(store, account, unknown_id).await,
        Vec::<MessageId>::new()
    );
    let rows = store
        .journal(
            tenant.id(),
            &JournalFilter {
                id: Some(ids[3]),
                ..filter(100)
            },
        )
        .await
        .unwrap();
    assert_eq!(rows[0].label.as_deref(), Some("campaign"));
    assert_eq!(rows[0].foreign_id.as_deref(), Some("f-491700000003"));
    assert_eq!(rows[0].status, None);
}

pub async fn journal_filters_by_send_time_range(store: &dyn Store) {
    // Arrange: one message an hour, sent at T0, T0+1h, T0+2h, T0+3h.
    let tenant = tenant(store).await;
    let messages = (0..4)
        .map(|n| NewMessage {
            send_at: T0 + n * HOUR,
            ..sms("491700000001")
        })
        .collect();
    let ids = submit(store, tenant.id(), T0, messages).await;
    let range = |from, to_before| JournalFilter {
        from,
        to_before,
        ..filter(100)
    };

    // Act
    let from = store
        .journal(tenant.id(), &range(Some(T0 + HOUR), None))
        .await
        .unwrap();
    let before = store
        .journal(tenant.id(), &range(None, Some(T0 + 2 * HOUR)))
        .await
        .unwrap();
    let between = store
        .journal(tenant.id(), &range(Some(T0 + HOUR), Some(T0 + 3 * HOUR)))
        .await
        .unwrap();
    let empty = store
        .journal(tenant.id(), &range(Some(T0 + HOUR), Some(T0 + HOUR)))
        .await
        .unwrap();

    // Assert: `from` is inclusive, `to_before` exclusive.
    assert_eq!(ids_of(&from), vec![ids[3], ids[2], ids[1]]);
    assert_eq!(ids_of(&before), vec![ids[1], ids[0]]);
    assert_eq!(ids_of(&between), vec![ids[2], ids[1]]);
    assert_eq!(empty, vec![]);
}

pub async fn statuses_window_goes_by_send_time_not_creation_time(store: &dyn Store) {
    // Arrange: one batch created at T0 with a message sent at once and one delayed by a day.
    let alice = tenant(store).await;
    let delayed = NewMessage {
        send_at: T0 + 24 * HOUR,
        ..sms("491700000002")
    };
    let ids = submit(store, alice.id(), T0, vec![sms("491700000001"), delayed]).await;
    let (now, later) = (ids[0], ids[1]);
    hand_over(store, now, T0, vec![receipt(now, 1, Accepted, T0)], vec![]).await;

    // Act
    let mut from_creation = store.statuses(alice.id(), &ids, T0).await.unwrap();
    let after_creation = store.statuses(alice.id(), &ids, T0 + 1).await.unwrap();
    let from_send = store
        .statuses(alice.id(), &ids, T0 + 24 * HOUR)
        .await
        .unwrap();
    let after_send = store
        .statuses(alice.id(), &ids, T0 + 24 * HOUR + 1)
        .await
        .unwrap();

    // Assert: the delayed message is in every window up to its send time, the other one only in
    // windows that start at or before T0.
    from_creation.sort_by_key(|view| view.id);
    assert_eq!(status_ids(&from_creation), vec![now, later]);
    assert_eq!(status_ids(&after_creation), vec![later]);
    assert_eq!(status_ids(&from_send), vec![later]);
    assert_eq!(after_send, vec![]);
    let view = &after_creation[0];
    assert_eq!((view.status, view.status_at), (None, None));
}
