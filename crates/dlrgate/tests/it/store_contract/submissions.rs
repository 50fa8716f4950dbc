//! Handing messages to an operator and the reports it schedules: `record_submissions`,
//! `apply_due_reports` and `next_report_due`.

use dlrgate::domain::status::DeliveryStatus::{
    Accepted, Buffered, Delivered, NotDelivered, Transmitted,
};
use dlrgate::domain::status::InternalState;
use dlrgate::store::{MessageId, NewMessage, QueueDepths, StatusChange, Store};

use super::fixtures::{
    T0, change, effects, hand_over, queued_event, receipt, report_effects, sms, status_of,
    submit_one, tenant, view,
};

pub async fn recorded_submission_is_processed_with_immediate_and_scheduled_reports(
    store: &dyn Store,
) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), sms("491700000001")).await;
    let scheduled = vec![
        receipt(id, 1, Transmitted, T0 + 100),
        receipt(id, 1, Delivered, T0 + 200),
    ];

    // Act
    let changes = hand_over(
        store,
        id,
        T0 + 5,
        vec![receipt(id, 1, Accepted, T0 + 5)],
        scheduled,
    )
    .await;

    // Assert
    assert_eq!(changes, vec![change(id, tenant.id(), Accepted, T0 + 5)]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(message.state, InternalState::Processed);
    assert_eq!(
        (message.status, message.status_at),
        (Some(Accepted), Some(T0 + 5))
    );
    assert_eq!(
        store.due_messages("sandbox", i64::MAX, 100).await.unwrap(),
        vec![]
    );
    assert_eq!(store.next_report_due().await.unwrap(), Some(T0 + 100));
    let depths = store.queue_depths().await.unwrap();
    assert_eq!(
        depths,
        QueueDepths {
            queued_messages: 0,
            scheduled_reports: 2,
            parked_receipts: 0
        }
    );
    let events = store.events(tenant.id(), id).await.unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0], queued_event(T0));
    assert_eq!(
        (
            events[1].kind.as_str(),
            events[1].state.as_str(),
            events[1].at
        ),
        ("internal", "processed", T0 + 5)
    );
    assert_eq!(events[1].source, "contract-operator");
    assert_eq!(
        (
            events[2].kind.as_str(),
            events[2].state.as_str(),
            events[2].effect.as_str()
        ),
        ("report", "ACCEPTED", "applied")
    );
}

pub async fn recorded_submission_skips_cancelled_and_already_processed_messages(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let cancelled = submit_one(store, tenant.id(), sms("491700000001")).await;
    let sent = submit_one(store, tenant.id(), sms("491700000002")).await;
    store
        .cancel_scheduled(tenant.id(), &[cancelled])
        .await
        .unwrap();
    hand_over(
        store,
        sent,
        T0,
        vec![receipt(sent, 1, Accepted, T0)],
        vec![],
    )
    .await;

    // Act
    let late = vec![receipt(cancelled, 1, Delivered, T0 + 100)];
    let for_cancelled = hand_over(
        store,
        cancelled,
        T0 + 1,
        vec![receipt(cancelled, 1, Accepted, T0 + 1)],
        late,
    )
    .await;
    let twice = vec![receipt(sent, 1, Delivered, T0 + 100)];
    let for_sent = hand_over(
        store,
        sent,
        T0 + 2,
        vec![receipt(sent, 1, Buffered, T0 + 2)],
        twice,
    )
    .await;

    // Assert
    assert_eq!(for_cancelled, vec![]);
    assert_eq!(for_sent, vec![]);
    // The cancelled message keeps only the event of its submission: no processing, no reports.
    assert_eq!(
        store.events(tenant.id(), cancelled).await.unwrap(),
        vec![queued_event(T0)]
    );
    assert!(view(store, tenant.id(), cancelled).await.is_none());
    assert_eq!(store.next_report_due().await.unwrap(), None);
    assert_eq!(store.queue_depths().await.unwrap().scheduled_reports, 0);
    assert_eq!(status_of(store, tenant.id(), sent).await, Some(Accepted));
    assert_eq!(store.events(tenant.id(), sent).await.unwrap().len(), 3);
}

pub async fn due_reports_are_applied_in_due_order_and_deleted(store: &dyn Store) {
    // Arrange: scheduled out of order.
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), sms("491700000001")).await;
    let scheduled = vec![
        receipt(id, 1, Delivered, T0 + 300),
        receipt(id, 1, Transmitted, T0 + 100),
        receipt(id, 1, Buffered, T0 + 200),
    ];
    hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], scheduled).await;

    // Act and assert, step by step.
    assert_eq!(store.apply_due_reports(T0 + 99, 100).await.unwrap(), vec![]);
    assert_eq!(store.next_report_due().await.unwrap(), Some(T0 + 100));
    let first = store.apply_due_reports(T0 + 250, 100).await.unwrap();
    assert_eq!(
        first,
        vec![
            change(id, tenant.id(), Transmitted, T0 + 100),
            change(id, tenant.id(), Buffered, T0 + 200),
        ]
    );
    assert_eq!(store.next_report_due().await.unwrap(), Some(T0 + 300));
    assert_eq!(store.queue_depths().await.unwrap().scheduled_reports, 1);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(
        (message.status, message.status_at),
        (Some(Buffered), Some(T0 + 200))
    );
    let last = store.apply_due_reports(T0 + 10_000, 100).await.unwrap();
    assert_eq!(last, vec![change(id, tenant.id(), Delivered, T0 + 300)]);
    assert_eq!(store.next_report_due().await.unwrap(), None);
    assert_eq!(
        store.apply_due_reports(T0 + 10_000, 100).await.unwrap(),
        vec![]
    );
    let expected = effects(&[
        ("ACCEPTED", "applied"),
        ("TRANSMITTED", "applied"),
        ("BUFFERED", "applied"),
        ("DELIVERED", "applied"),
    ]);
    assert_eq!(report_effects(store, tenant.id(), id).await, expected);
}

pub async fn due_reports_respect_the_limit(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = submit_one(store, tenant.id(), sms("491700000001")).await;
        hand_over(
            store,
            id,
            T0,
            vec![],
            vec![receipt(id, 1, Delivered, T0 + 10 - n)],
        )
        .await;
        ids.push(id);
    }

    // Act
    let first = store.apply_due_reports(T0 + 100, 2).await.unwrap();
    let depth = store.queue_depths().await.unwrap().scheduled_reports;
    let rest = store.apply_due_reports(T0 + 100, 2).await.unwrap();

    // Assert: the earliest due first, whatever the insertion order.
    let first_ids: Vec<_> = first.iter().map(|c| c.message_id).collect();
    assert_eq!(first_ids, vec![ids[2], ids[1]]);
    assert_eq!(depth, 1);
    assert_eq!(
        rest.iter().map(|c| c.message_id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    assert_eq!(store.next_report_due().await.unwrap(), None);
}

/// One batch of receipts (with duplicates, stale and multipart reports for several messages)
/// leaves exactly what the same receipts one call at a time leave.
pub async fn a_batch_of_receipts_behaves_like_one_receipt_at_a_time(store: &dyn Store) {
    // Arrange: two identical pairs of messages.
    let tenant = tenant(store).await;
    let mut pairs = Vec::new();
    for _ in 0..2 {
        let single = submit_one(store, tenant.id(), sms("491700000001")).await;
        let multi = NewMessage {
            parts: 2,
            ..sms("491700000002")
        };
        let multi = submit_one(store, tenant.id(), multi).await;
        hand_over(
            store,
            single,
            T0 + 1,
            vec![receipt(single, 1, Accepted, T0 + 1)],
            vec![],
        )
        .await;
        let accepted = vec![
            receipt(multi, 1, Accepted, T0 + 1),
            receipt(multi, 2, Accepted, T0 + 1),
        ];
        hand_over(store, multi, T0 + 1, accepted, vec![]).await;
        pairs.push((single, multi));
    }
    let script = |(a, b): (MessageId, MessageId)| {
        vec![
            receipt(a, 1, Transmitted, T0 + 2),
            receipt(b, 1, Transmitted, T0 + 2),
            receipt(b, 2, Transmitted, T0 + 2),
            receipt(b, 1, Delivered, T0 + 3),
            receipt(a, 1, Delivered, T0 + 4),
            receipt(a, 1, Delivered, T0 + 5),
            receipt(a, 1, Transmitted, T0 + 6),
            receipt(b, 2, NotDelivered, T0 + 7),
            receipt(b, 2, Delivered, T0 + 8),
            receipt(b, 3, Delivered, T0 + 9),
        ]
    };

    // Act
    let batched = store.apply_receipts(script(pairs[0])).await.unwrap();
    let mut one_by_one = Vec::new();
    for r in script(pairs[1]) {
        one_by_one.extend(store.apply_receipts(vec![r]).await.unwrap());
    }

    // Assert
    let shape = |changes: &[StatusChange], (a, _): (MessageId, MessageId)| {
        changes
            .iter()
            .map(|c| (c.message_id == a, c.status, c.at))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&batched, pairs[0]), shape(&one_by_one, pairs[1]));
    assert!(!batched.is_empty());
    for i in 0..2 {
        let ((a0, b0), (a1, b1)) = (pairs[0], pairs[1]);
        let (x, y) = if i == 0 { (a0, a1) } else { (b0, b1) };
        assert_eq!(
            report_effects(store, tenant.id(), x).await,
            report_effects(store, tenant.id(), y).await
        );
        assert_eq!(
            view(store, tenant.id(), x).await.unwrap().status,
            view(store, tenant.id(), y).await.unwrap().status
        );
    }
    assert_eq!(
        status_of(store, tenant.id(), pairs[0].1).await,
        Some(NotDelivered)
    );
}
