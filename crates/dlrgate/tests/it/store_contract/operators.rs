//! Contract: receipts that name an operator's message id (SMPP, upstream HTTP), parking of those
//! that arrive before their submit answer, and routing of queued messages by connector.

use dlrgate::domain::status::DeliveryStatus::{self, *};
use dlrgate::store::{
    MessageId, NewMessage, OperatorReceipt, Receipt, SettledClaims, StatusChange, Store, Submission,
};

use super::fixtures::*;

const SMSC: &str = "contract-smsc";

fn op_receipt(operator_id: &str, status: DeliveryStatus, at: i64) -> OperatorReceipt {
    OperatorReceipt {
        operator_id: operator_id.to_owned(),
        status,
        at,
        error_code: Some("000".to_owned()),
        raw: Some(format!("id:{operator_id} stat:{status}")),
    }
}

/// A status change of a message that `SMSC` has: the change names the connector that sent it.
fn on_smsc(change: StatusChange) -> StatusChange {
    StatusChange {
        connector: SMSC.to_owned(),
        ..change
    }
}

/// Hands `message_id` to `SMSC`, ACCEPTED, with one operator id per part.
async fn submit_to_smsc(
    store: &dyn Store,
    message_id: MessageId,
    ids: &[&str],
) -> Vec<DeliveryStatus> {
    let parts = (1..=ids.len() as u32).collect::<Vec<_>>();
    let submission = Submission {
        message_id,
        connector: SMSC.to_owned(),
        at: T0 + 1,
        immediate: parts
            .iter()
            .map(|p| Receipt {
                source: SMSC.to_owned(),
                ..receipt(message_id, *p, Accepted, T0 + 1)
            })
            .collect(),
        scheduled: vec![],
        operator_ids: parts
            .iter()
            .zip(ids)
            .map(|(p, id)| (*p, (*id).to_owned()))
            .collect(),
    };
    let changes = store.record_submissions(vec![submission]).await.unwrap();
    changes.into_iter().map(|c| c.status).collect()
}

fn on(connector: &str, recipient: &str) -> NewMessage {
    NewMessage {
        connector: connector.to_owned(),
        ..sms(recipient)
    }
}

pub async fn operator_receipt_matches_its_part_on_its_connector_only(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(
        store,
        tenant.id(),
        NewMessage {
            parts: 2,
            ..on(SMSC, "491700000001")
        },
    )
    .await;
    submit_to_smsc(store, id, &["A1", "A2"]).await;

    // Act
    let first = store
        .apply_operator_receipts(SMSC, vec![op_receipt("A1", Delivered, T0 + 5)])
        .await
        .unwrap();
    let elsewhere = store
        .apply_operator_receipts("other-smsc", vec![op_receipt("A2", Delivered, T0 + 6)])
        .await
        .unwrap();
    let status_after_first = status_of(store, tenant.id(), id).await;
    let second = store
        .apply_operator_receipts(SMSC, vec![op_receipt("A2", Delivered, T0 + 7)])
        .await
        .unwrap();

    // Assert
    assert_eq!((first.matched, first.parked), (1, 0));
    assert!(
        first.changes.is_empty(),
        "one part of two delivered: {first:?}"
    );
    assert_eq!(
        (elsewhere.matched, elsewhere.parked),
        (0, 1),
        "ids are per connector"
    );
    assert_eq!(status_after_first, Some(Accepted));
    assert_eq!(
        second.changes,
        vec![on_smsc(change(id, tenant.id(), Delivered, T0 + 7))]
    );
    assert_eq!(status_of(store, tenant.id(), id).await, Some(Delivered));
    let events = store.events(tenant.id(), id).await.unwrap();
    let delivered: Vec<_> = events.iter().filter(|e| e.state == "DELIVERED").collect();
    assert_eq!(delivered.len(), 2);
    assert!(
        delivered
            .iter()
            .all(|e| e.source == SMSC && e.raw.as_deref().unwrap().contains("stat:DELIVERED"))
    );
}

pub async fn receipt_before_its_submission_is_parked_then_applied_in_order(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), on(SMSC, "491700000002")).await;

    // Act: the receipts come before the submit answer was stored.
    let parked = store
        .apply_operator_receipts(
            SMSC,
            vec![
                op_receipt("B7", Buffered, T0 + 2),
                op_receipt("B7", Delivered, T0 + 3),
            ],
        )
        .await
        .unwrap();
    let depth_while_parked = store.queue_depths().await.unwrap().parked_receipts;
    let changes = submit_to_smsc(store, id, &["B7"]).await;

    // Assert
    assert_eq!((parked.matched, parked.parked), (0, 2));
    assert!(parked.changes.is_empty());
    assert_eq!(depth_while_parked, 2);
    assert_eq!(changes, vec![Accepted, Buffered, Delivered]);
    assert_eq!(status_of(store, tenant.id(), id).await, Some(Delivered));
    assert_eq!(store.queue_depths().await.unwrap().parked_receipts, 0);
    assert_eq!(
        report_effects(store, tenant.id(), id).await,
        effects(&[
            ("ACCEPTED", "applied"),
            ("BUFFERED", "applied"),
            ("DELIVERED", "applied")
        ])
    );
}

pub async fn duplicate_operator_receipt_is_kept_and_changes_nothing(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), on(SMSC, "491700000003")).await;
    submit_to_smsc(store, id, &["C1"]).await;

    // Act
    let first = store
        .apply_operator_receipts(SMSC, vec![op_receipt("C1", NotDelivered, T0 + 5)])
        .await
        .unwrap();
    let again = store
        .apply_operator_receipts(
            SMSC,
            vec![
                op_receipt("C1", NotDelivered, T0 + 6),
                op_receipt("C1", Delivered, T0 + 7),
            ],
        )
        .await
        .unwrap();

    // Assert
    assert_eq!(first.changes.len(), 1);
    assert_eq!(again.matched, 2);
    assert!(
        again.changes.is_empty(),
        "a final status never moves: {again:?}"
    );
    assert_eq!(status_of(store, tenant.id(), id).await, Some(NotDelivered));
    assert_eq!(
        report_effects(store, tenant.id(), id).await,
        effects(&[
            ("ACCEPTED", "applied"),
            ("NOTDELIVERED", "applied"),
            ("NOTDELIVERED", "duplicate"),
            ("DELIVERED", "stale")
        ])
    );
}

pub async fn due_messages_and_reroutes_go_by_connector(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let ids = submit(
        store,
        tenant.id(),
        T0,
        vec![
            on("route-a", "491700000011"),
            on("route-b", "491700000012"),
            on("gone", "491700000013"),
        ],
    )
    .await;
    let due = |connector: &'static str| async move {
        let due = store.due_messages(connector, T0, 100).await.unwrap();
        due.into_iter().map(|m| m.id).collect::<Vec<_>>()
    };

    // Act & assert
    assert_eq!(due("route-a").await, vec![ids[0]]);
    assert_eq!(due("route-b").await, vec![ids[1]]);
    let moved = |ids: Vec<MessageId>, to: &str| SettledClaims {
        reroute: ids,
        fallback: Some(to.to_owned()),
        ..SettledClaims::default()
    };
    let claimed = store.claim_due("route-b", T0, 100).await.unwrap();
    assert_eq!(
        claimed.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
    store
        .settle_claims(&moved(vec![ids[1]], "route-a"))
        .await
        .unwrap();
    assert_eq!(due("route-a").await, vec![ids[0], ids[1]]);
    assert_eq!(due("route-b").await, Vec::<MessageId>::new());
    let known = ["route-a".to_owned(), "route-b".to_owned()];
    assert_eq!(store.reroute_orphans(&known, "route-b").await.unwrap(), 1);
    assert_eq!(due("route-b").await, vec![ids[2]]);
    // Messages already handed over are not moved.
    submit_to_smsc(store, ids[0], &["X"]).await;
    store
        .settle_claims(&moved(vec![ids[0]], "route-b"))
        .await
        .unwrap();
    assert_eq!(due("route-b").await, vec![ids[2]]);
}

pub async fn purge_deletes_receipts_parked_before_the_cutoff(store: &dyn Store) {
    // Arrange
    store
        .apply_operator_receipts(SMSC, vec![op_receipt("never-submitted", Delivered, T0)])
        .await
        .unwrap();
    assert_eq!(store.queue_depths().await.unwrap().parked_receipts, 1);

    // Act: parked receipts count from when they were received (now), not from their own time.
    store.purge(T0, 100).await.unwrap();
    let kept = store.queue_depths().await.unwrap().parked_receipts;
    store.purge(i64::MAX, 100).await.unwrap();

    // Assert
    assert_eq!(kept, 1);
    assert_eq!(store.queue_depths().await.unwrap().parked_receipts, 0);
}

pub async fn a_reused_operator_id_names_the_newest_part(store: &dyn Store) {
    // Arrange: the SMSC's counter wrapped and gave a later message the same id.
    let tenant = tenant(store).await;
    let old = submit_one(store, tenant.id(), on(SMSC, "491700000021")).await;
    let new = submit_one(store, tenant.id(), on(SMSC, "491700000022")).await;
    submit_to_smsc(store, old, &["W1"]).await;
    submit_to_smsc(store, new, &["W1"]).await;

    // Act
    let outcome = store
        .apply_operator_receipts(SMSC, vec![op_receipt("W1", Delivered, T0 + 9)])
        .await
        .unwrap();

    // Assert
    assert_eq!(
        outcome.changes,
        vec![on_smsc(change(new, tenant.id(), Delivered, T0 + 9))]
    );
    assert_eq!(status_of(store, tenant.id(), old).await, Some(Accepted));
}

pub async fn claimed_messages_leave_the_queue_until_settled(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let ids = submit(
        store,
        tenant.id(),
        T0,
        vec![
            on(SMSC, "491700000031"),
            on(SMSC, "491700000032"),
            on(SMSC, "491700000033"),
            on(SMSC, "491700000034"),
        ],
    )
    .await;

    // Act
    let claimed = store.claim_due(SMSC, T0, 100).await.unwrap();
    let claimed_again = store.claim_due(SMSC, T0, 100).await.unwrap();
    let cancelled = store.cancel_scheduled(tenant.id(), &ids).await.unwrap();
    let after_crash = store.claimed(SMSC).await.unwrap();
    let submission = Submission {
        message_id: ids[0],
        connector: SMSC.to_owned(),
        at: T0 + 1,
        immediate: vec![Receipt {
            source: SMSC.to_owned(),
            ..receipt(ids[0], 1, Accepted, T0 + 1)
        }],
        scheduled: vec![],
        operator_ids: vec![(1, "S1".to_owned())],
    };
    let changes = store
        .settle_claims(&SettledClaims {
            submissions: vec![submission],
            release: vec![ids[1]],
            reroute: vec![ids[2]],
            fallback: Some("route-b".to_owned()),
        })
        .await
        .unwrap();

    // Assert
    let claimed_ids: Vec<_> = claimed.iter().map(|m| m.id).collect();
    assert_eq!(claimed_ids, ids);
    assert!(claimed_again.is_empty(), "claimed twice: {claimed_again:?}");
    assert!(
        cancelled.is_empty(),
        "a message being sent cannot be cancelled"
    );
    assert_eq!(after_crash.len(), 4);
    assert_eq!(
        changes,
        vec![on_smsc(change(ids[0], tenant.id(), Accepted, T0 + 1))]
    );
    let due_a: Vec<_> = store.due_messages(SMSC, T0, 100).await.unwrap();
    let due_b: Vec<_> = store.due_messages("route-b", T0, 100).await.unwrap();
    assert_eq!(due_a.iter().map(|m| m.id).collect::<Vec<_>>(), vec![ids[1]]);
    assert_eq!(due_b.iter().map(|m| m.id).collect::<Vec<_>>(), vec![ids[2]]);
    assert_eq!(
        store
            .claimed(SMSC)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![ids[3]]
    );
    let views = store.statuses(tenant.id(), &ids, i64::MIN).await.unwrap();
    assert_eq!(views.len(), 4, "claimed messages stay visible: {views:?}");
}

pub async fn a_receipt_parked_before_the_submission_began_is_not_its_own(store: &dyn Store) {
    // Arrange: a receipt for "R1" parked long ago (an earlier use of the id, or an in-doubt submit).
    store
        .apply_operator_receipts(SMSC, vec![op_receipt("R1", NotDelivered, T0)])
        .await
        .unwrap();
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), on(SMSC, "491700000041")).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let later = now + 600_000;

    // Act: a submission that began after that receipt was parked gets the id "R1".
    let submission = Submission {
        message_id: id,
        connector: SMSC.to_owned(),
        at: later,
        immediate: vec![Receipt {
            source: SMSC.to_owned(),
            ..receipt(id, 1, Accepted, later)
        }],
        scheduled: vec![],
        operator_ids: vec![(1, "R1".to_owned())],
    };
    store.record_submissions(vec![submission]).await.unwrap();

    // Assert
    assert_eq!(status_of(store, tenant.id(), id).await, Some(Accepted));
    assert_eq!(store.queue_depths().await.unwrap().parked_receipts, 1);
}
