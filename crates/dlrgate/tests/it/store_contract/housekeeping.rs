//! Retention and metrics: `purge` and `queue_depths`.

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered};
use dlrgate::store::{NewMessage, QueueDepths, Store};

use super::fixtures::{T0, apply, hand_over, queued_event, receipt, sms, submit, tenant, view};

const DAY: i64 = 86_400_000;

pub async fn purge_deletes_old_finished_messages_with_their_history(store: &dyn Store) {
    // Arrange: old messages (delivered, still awaiting a scheduled report, cancelled, and queued
    // for later) and a new delivered one, sent ten days later.
    let tenant = tenant(store).await;
    let old = submit(
        store,
        tenant.id(),
        T0,
        vec![
            sms("491700000001"),
            sms("491700000002"),
            sms("491700000003"),
            NewMessage {
                send_at: T0 + 60 * DAY,
                ..sms("491700000004")
            },
        ],
    )
    .await;
    let (delivered, awaiting, cancelled, queued) = (old[0], old[1], old[2], old[3]);
    let recent = NewMessage {
        send_at: T0 + 10 * DAY,
        ..sms("491700000005")
    };
    let new = submit(store, tenant.id(), T0 + 10 * DAY, vec![recent]).await[0];
    for id in [delivered, new] {
        hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;
        apply(store, receipt(id, 1, Delivered, T0 + 10)).await;
    }
    let later = vec![receipt(awaiting, 1, Delivered, T0 + 20 * DAY)];
    hand_over(
        store,
        awaiting,
        T0,
        vec![receipt(awaiting, 1, Accepted, T0)],
        later,
    )
    .await;
    store
        .cancel_scheduled(tenant.id(), &[cancelled])
        .await
        .unwrap();

    // Act
    let purged = store.purge(T0 + DAY, 100).await.unwrap();

    // Assert
    assert_eq!(purged, 3);
    for id in [delivered, awaiting, cancelled] {
        assert!(view(store, tenant.id(), id).await.is_none(), "{id} kept");
        assert_eq!(store.events(tenant.id(), id).await.unwrap(), vec![], "{id}");
    }
    // The purged messages' parts and scheduled report went with them: a late receipt is ignored
    // like one for a message that never existed.
    assert_eq!(store.next_report_due().await.unwrap(), None);
    let late = apply(store, receipt(awaiting, 1, Delivered, T0 + DAY)).await;
    assert_eq!(late, vec![]);
    assert_eq!(store.events(tenant.id(), awaiting).await.unwrap(), vec![]);
    // The queued and the new message are untouched.
    let due = store.due_messages("sandbox", i64::MAX, 100).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), vec![queued]);
    assert_eq!(
        view(store, tenant.id(), new).await.unwrap().status,
        Some(Delivered)
    );
    assert_eq!(store.events(tenant.id(), new).await.unwrap().len(), 4);
    assert_eq!(store.purge(T0 + DAY, 100).await.unwrap(), 0);
}

pub async fn purge_works_in_bounded_batches_and_keeps_queued_messages(store: &dyn Store) {
    // Arrange: five sent messages created at the same time, and one queued.
    let tenant = tenant(store).await;
    let mut messages: Vec<NewMessage> = (1..=5).map(|n| sms(&format!("49170000000{n}"))).collect();
    messages.push(NewMessage {
        send_at: T0 + 60 * DAY,
        ..sms("491700000006")
    });
    let ids = submit(store, tenant.id(), T0, messages).await;
    let (sent, queued) = (&ids[..5], ids[5]);
    for &id in sent {
        hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;
    }

    // Act
    let mut rounds = Vec::new();
    for _ in 0..4 {
        rounds.push(store.purge(T0 + DAY, 2).await.unwrap());
        // Whatever is left after each round still has all of its history.
        for &id in sent {
            if view(store, tenant.id(), id).await.is_some() {
                assert_eq!(
                    store.events(tenant.id(), id).await.unwrap().len(),
                    3,
                    "{id}"
                );
            } else {
                assert_eq!(store.events(tenant.id(), id).await.unwrap(), vec![], "{id}");
            }
        }
    }

    // Assert
    assert_eq!(rounds, vec![2, 2, 1, 0]);
    for &id in sent {
        assert!(view(store, tenant.id(), id).await.is_none(), "{id} kept");
    }
    let kept = view(store, tenant.id(), queued).await.unwrap();
    assert_eq!(kept.recipient, "491700000006");
    assert_eq!(store.queue_depths().await.unwrap().queued_messages, 1);
}

pub async fn queue_depths_count_queued_messages_and_scheduled_reports(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let before = store.queue_depths().await.unwrap();
    let ids = submit(
        store,
        tenant.id(),
        T0,
        vec![
            sms("491700000001"),
            sms("491700000002"),
            sms("491700000003"),
            NewMessage {
                send_at: T0 + DAY,
                ..sms("491700000004")
            },
        ],
    )
    .await;
    let scheduled = vec![
        receipt(ids[0], 1, Accepted, T0 + 10),
        receipt(ids[0], 1, Delivered, T0 + 20),
    ];
    hand_over(store, ids[0], T0, vec![], scheduled).await;
    store
        .cancel_scheduled(tenant.id(), &[ids[1]])
        .await
        .unwrap();

    // Act
    let during = store.queue_depths().await.unwrap();
    store.apply_due_reports(T0 + 10, 100).await.unwrap();
    let after_one_report = store.queue_depths().await.unwrap();

    // Assert
    assert_eq!(before, QueueDepths::default());
    assert_eq!(
        during,
        QueueDepths {
            queued_messages: 2,
            scheduled_reports: 2,
            parked_receipts: 0
        }
    );
    assert_eq!(
        after_one_report,
        QueueDepths {
            queued_messages: 2,
            scheduled_reports: 1,
            parked_receipts: 0
        }
    );
}

pub async fn purge_keeps_a_message_for_the_retention_period_from_its_send_time(store: &dyn Store) {
    // Arrange: one batch created at T0 with a message sent at once and one delayed by 30 days;
    // both get DELIVERED when sent. The retention cutoff is T0 + 30 days.
    let tenant = tenant(store).await;
    let delayed = NewMessage {
        send_at: T0 + 30 * DAY,
        ..sms("491700000002")
    };
    let ids = submit(store, tenant.id(), T0, vec![sms("491700000001"), delayed]).await;
    let (prompt, late) = (ids[0], ids[1]);
    hand_over(
        store,
        prompt,
        T0,
        vec![receipt(prompt, 1, Accepted, T0)],
        vec![],
    )
    .await;
    apply(store, receipt(prompt, 1, Delivered, T0 + 10)).await;
    let cutoff = T0 + 30 * DAY;

    // Act and assert: while the delayed message is queued, only the prompt one goes.
    assert_eq!(store.purge(cutoff, 100).await.unwrap(), 1);
    assert!(view(store, tenant.id(), prompt).await.is_none());
    assert_eq!(store.events(tenant.id(), prompt).await.unwrap(), vec![]);
    assert_eq!(
        store.events(tenant.id(), late).await.unwrap(),
        vec![queued_event(T0)]
    );

    // Act and assert: sent and DELIVERED at its send time, it is kept while its send time is not
    // before the cutoff, although it was created long before.
    hand_over(
        store,
        late,
        cutoff,
        vec![receipt(late, 1, Accepted, cutoff)],
        vec![],
    )
    .await;
    apply(store, receipt(late, 1, Delivered, cutoff + 10)).await;
    assert_eq!(store.purge(cutoff, 100).await.unwrap(), 0);
    let kept = view(store, tenant.id(), late).await.unwrap();
    assert_eq!(
        (kept.created_at, kept.send_at, kept.status),
        (T0, cutoff, Some(Delivered))
    );
    assert_eq!(store.events(tenant.id(), late).await.unwrap().len(), 4);
    let visible = store.statuses(tenant.id(), &[late], cutoff).await.unwrap();
    assert_eq!(visible.iter().map(|v| v.id).collect::<Vec<_>>(), vec![late]);

    // Act and assert: once its send time is before the cutoff, it goes with its history.
    assert_eq!(store.purge(cutoff + 1, 100).await.unwrap(), 1);
    assert!(view(store, tenant.id(), late).await.is_none());
    assert_eq!(store.events(tenant.id(), late).await.unwrap(), vec![]);
}
