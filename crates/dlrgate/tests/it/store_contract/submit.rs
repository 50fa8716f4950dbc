//! Submitting messages: ids, parts, balance, group commit, due messages and cancelling.

use dlrgate::domain::status::DeliveryStatus::{Accepted, Delivered};
use dlrgate::domain::status::InternalState;
use dlrgate::store::{Billing, DueMessage, JournalFilter, Store, SubmitOutcome};

use super::fixtures::{
    T0, apply, batch, change, hand_over, queued_event, receipt, report_effects, sms, submit,
    submit_one, tenant, tenant_with, view,
};

fn limited(price: i64, balance: i64) -> Billing {
    Billing {
        price_per_part_micros: Some(price),
        balance_micros: Some(Some(balance)),
    }
}

fn priced(recipient: &str, price_micros: i64) -> dlrgate::store::NewMessage {
    dlrgate::store::NewMessage {
        price_micros,
        ..sms(recipient)
    }
}

fn everything() -> JournalFilter {
    JournalFilter {
        limit: 100,
        ..JournalFilter::default()
    }
}

pub async fn ids_are_unique_and_ascending_across_batches_and_calls(store: &dyn Store) {
    // Arrange
    let alice = tenant(store).await;
    let bob = tenant(store).await;
    let three = vec![
        sms("491700000001"),
        sms("491700000002"),
        sms("491700000003"),
    ];

    // Act
    let outcomes = store
        .submit(vec![
            batch(alice.id(), T0, three),
            batch(bob.id(), T0, vec![sms("491700000004")]),
        ])
        .await
        .unwrap();
    let later = submit(store, alice.id(), T0, vec![sms("491700000005")]).await;

    // Assert
    let mut ids = Vec::new();
    for outcome in outcomes {
        match outcome {
            SubmitOutcome::Stored { ids: stored, .. } => ids.extend(stored),
            other => panic!("not stored: {other:?}"),
        }
    }
    ids.extend(later);
    assert_eq!(ids.len(), 5);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not ascending: {ids:?}"
    );
    // Ids are in batch order: the second message of the first batch went to …02.
    let second = view(store, alice.id(), ids[1]).await.unwrap();
    assert_eq!(second.recipient, "491700000002");
    assert_eq!(second.state, InternalState::Queued);
    assert_eq!(second.status, None);
}

pub async fn every_part_of_a_message_takes_receipts(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let three_parts = dlrgate::store::NewMessage {
        parts: 3,
        ..sms("491700000001")
    };
    let id = submit_one(store, tenant.id(), three_parts).await;
    hand_over(store, id, T0, vec![], vec![]).await;

    // Act
    let mut changes = Vec::new();
    for part in 1..=3 {
        changes.extend(apply(store, receipt(id, part, Delivered, T0 + i64::from(part))).await);
    }
    let beyond = apply(store, receipt(id, 4, Accepted, T0 + 10)).await;

    // Assert
    assert_eq!(changes, vec![change(id, tenant.id(), Delivered, T0 + 3)]);
    assert_eq!(beyond, vec![]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(message.parts, 3);
    assert_eq!(message.status, Some(Delivered));
    let parts: Vec<_> = store
        .events(tenant.id(), id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "report" && e.effect == "applied")
        .map(|e| e.part)
        .collect();
    assert_eq!(parts, vec![Some(1), Some(2), Some(3)]);
}

pub async fn stored_batch_debits_its_price_from_the_balance(store: &dyn Store) {
    // Arrange
    let tenant = tenant_with(store, limited(300, 1_000)).await;
    let unlimited = tenant_with(store, Billing::default()).await;
    let two = vec![priced("491700000001", 300), priced("491700000002", 300)];

    // Act
    let outcomes = store
        .submit(vec![
            batch(tenant.id(), T0, two),
            batch(unlimited.id(), T0, vec![priced("491700000003", 300)]),
        ])
        .await
        .unwrap();

    // Assert
    assert!(
        matches!(&outcomes[0], SubmitOutcome::Stored { ids, balance_micros: Some(400) } if ids.len() == 2),
        "{outcomes:?}"
    );
    assert!(
        matches!(
            &outcomes[1],
            SubmitOutcome::Stored {
                balance_micros: None,
                ..
            }
        ),
        "{outcomes:?}"
    );
    let account = store.account(tenant.id()).await.unwrap();
    assert_eq!(account.balance_micros, Some(400));
    assert_eq!(
        store.account(unlimited.id()).await.unwrap().balance_micros,
        None
    );
    let journal = store.journal(tenant.id(), &everything()).await.unwrap();
    assert!(journal.iter().all(|view| view.price_micros == 300));
}

pub async fn insufficient_balance_stores_nothing_and_keeps_the_balance(store: &dyn Store) {
    // Arrange
    let tenant = tenant_with(store, limited(300, 500)).await;
    let two = vec![priced("491700000001", 300), priced("491700000002", 300)];

    // Act
    let outcomes = store
        .submit(vec![batch(tenant.id(), T0, two)])
        .await
        .unwrap();

    // Assert
    assert_eq!(outcomes, vec![SubmitOutcome::InsufficientBalance]);
    let account = store.account(tenant.id()).await.unwrap();
    assert_eq!(account.balance_micros, Some(500));
    assert_eq!(
        store.journal(tenant.id(), &everything()).await.unwrap(),
        vec![]
    );
    let due = store
        .due_messages("sandbox", i64::MAX, 1_000)
        .await
        .unwrap();
    assert!(due.iter().all(|m| m.account_id != tenant.id()), "{due:?}");
    // Exactly the balance is enough.
    let exact = submit(store, tenant.id(), T0, vec![priced("491700000003", 500)]).await;
    assert_eq!(exact.len(), 1);
    assert_eq!(
        store.account(tenant.id()).await.unwrap().balance_micros,
        Some(0)
    );
}

pub async fn rejected_batch_does_not_affect_other_batches_of_the_same_submit(store: &dyn Store) {
    // Arrange: `payer` can afford its first batch but not a second one of the same price;
    // `broke` can afford nothing; `other` is unlimited.
    let payer = tenant_with(store, limited(600, 1_000)).await;
    let broke = tenant_with(store, limited(600, 100)).await;
    let other = tenant(store).await;

    // Act
    let outcomes = store
        .submit(vec![
            batch(payer.id(), T0, vec![priced("491700000001", 600)]),
            batch(broke.id(), T0, vec![priced("491700000002", 600)]),
            batch(other.id(), T0, vec![sms("491700000003")]),
            batch(payer.id(), T0, vec![priced("491700000004", 600)]),
        ])
        .await
        .unwrap();

    // Assert
    assert_eq!(outcomes.len(), 4);
    assert!(
        matches!(
            &outcomes[0],
            SubmitOutcome::Stored {
                balance_micros: Some(400),
                ..
            }
        ),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[1], SubmitOutcome::InsufficientBalance);
    assert!(
        matches!(&outcomes[2], SubmitOutcome::Stored { .. }),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[3], SubmitOutcome::InsufficientBalance);
    let payers = store.journal(payer.id(), &everything()).await.unwrap();
    let recipients: Vec<_> = payers.iter().map(|v| v.recipient.as_str()).collect();
    assert_eq!(recipients, vec!["491700000001"]);
    assert_eq!(
        store.account(payer.id()).await.unwrap().balance_micros,
        Some(400)
    );
    assert_eq!(
        store.account(broke.id()).await.unwrap().balance_micros,
        Some(100)
    );
    assert_eq!(
        store.journal(broke.id(), &everything()).await.unwrap(),
        vec![]
    );
    assert_eq!(
        store
            .journal(other.id(), &everything())
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn due_messages_respects_send_time_state_and_limit(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let at = |send_at: i64, recipient: &str| dlrgate::store::NewMessage {
        send_at,
        flash: true,
        ttl_minutes: Some(90),
        ..sms(recipient)
    };
    let ids = submit(
        store,
        tenant.id(),
        T0,
        vec![
            at(T0 + 20, "491700000001"),
            at(T0 + 10, "491700000002"),
            at(T0 + 30, "491700000003"),
            at(T0 + 40, "491700000004"),
            at(T0 + 1_000, "491700000005"),
        ],
    )
    .await;
    hand_over(store, ids[2], T0 + 30, vec![], vec![]).await;
    store
        .cancel_scheduled(tenant.id(), &[ids[3]])
        .await
        .unwrap();

    // Act
    let due = store.due_messages("sandbox", T0 + 40, 100).await.unwrap();
    let first = store.due_messages("sandbox", T0 + 40, 1).await.unwrap();
    let before = store.due_messages("sandbox", T0 + 9, 100).await.unwrap();

    // Assert: by send time, without the processed, cancelled and future ones.
    let due_ids: Vec<_> = due.iter().map(|m| m.id).collect();
    assert_eq!(due_ids, vec![ids[1], ids[0]]);
    assert_eq!(
        due[0],
        DueMessage {
            id: ids[1],
            account_id: tenant.id(),
            recipient: "491700000002".to_owned(),
            sender: "dlrgate".to_owned(),
            text: "hello 491700000002".to_owned(),
            parts: 1,
            flash: true,
            ttl_minutes: Some(90),
            send_at: T0 + 10,
        }
    );
    assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), vec![ids[1]]);
    assert_eq!(before, vec![]);
    // Due messages stay queued until an operator has them.
    assert_eq!(
        store.due_messages("sandbox", T0 + 40, 100).await.unwrap(),
        due
    );
}

pub async fn cancel_scheduled_cancels_only_own_queued_messages_and_refunds_once(store: &dyn Store) {
    // Arrange
    let alice = tenant_with(store, limited(250, 1_000)).await;
    let bob = tenant(store).await;
    let later = |recipient: &str| dlrgate::store::NewMessage {
        send_at: T0 + 86_400_000,
        ..priced(recipient, 250)
    };
    let ids = submit(
        store,
        alice.id(),
        T0,
        vec![
            later("491700000001"),
            later("491700000002"),
            later("491700000003"),
        ],
    )
    .await;
    let sent = ids[1];
    hand_over(
        store,
        sent,
        T0,
        vec![receipt(sent, 1, Accepted, T0)],
        vec![],
    )
    .await;
    let bobs = submit_one(store, bob.id(), later("491700000004")).await;
    assert_eq!(
        store.account(alice.id()).await.unwrap().balance_micros,
        Some(250)
    );

    // Act
    let cancelled = store
        .cancel_scheduled(alice.id(), &[bobs, ids[2], sent, ids[0], bobs + 1_000_000])
        .await
        .unwrap();
    let again = store
        .cancel_scheduled(alice.id(), &[ids[0], ids[2]])
        .await
        .unwrap();

    // Assert
    assert_eq!(cancelled, vec![ids[0], ids[2]]);
    assert_eq!(again, Vec::<i64>::new());
    assert_eq!(
        store.account(alice.id()).await.unwrap().balance_micros,
        Some(750)
    );
    assert!(view(store, alice.id(), ids[0]).await.is_none());
    let journal = store.journal(alice.id(), &everything()).await.unwrap();
    assert_eq!(journal.iter().map(|v| v.id).collect::<Vec<_>>(), vec![sent]);
    assert_eq!(report_effects(store, alice.id(), sent).await.len(), 1);
    let due: Vec<_> = store
        .due_messages("sandbox", i64::MAX, 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(due, vec![bobs]);
    assert_eq!(
        view(store, bob.id(), bobs).await.unwrap().state,
        InternalState::Queued
    );
}

pub async fn every_submitted_message_gets_a_queued_event_first(store: &dyn Store) {
    // Arrange: a batch created at T0 + 7 with a one-part message due now and a three-part one
    // due a day later.
    let tenant = tenant(store).await;
    let created_at = T0 + 7;
    let delayed = dlrgate::store::NewMessage {
        parts: 3,
        send_at: T0 + 86_400_000,
        ..sms("491700000002")
    };

    // Act
    let ids = submit(
        store,
        tenant.id(),
        created_at,
        vec![sms("491700000001"), delayed],
    )
    .await;

    // Assert: one event per message (not per part), at the batch's creation time.
    for &id in &ids {
        assert_eq!(
            store.events(tenant.id(), id).await.unwrap(),
            vec![queued_event(created_at)],
            "{id}"
        );
    }
    // It stays first: processing and reports come after it.
    let id = ids[0];
    hand_over(
        store,
        id,
        T0 + 20,
        vec![receipt(id, 1, Accepted, T0 + 20)],
        vec![],
    )
    .await;
    let events = store.events(tenant.id(), id).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.state.as_str(), e.at))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("internal", "queued", created_at),
            ("internal", "processed", T0 + 20),
            ("report", "ACCEPTED", T0 + 20),
        ]
    );
    assert_eq!(events[0], queued_event(created_at));
}
