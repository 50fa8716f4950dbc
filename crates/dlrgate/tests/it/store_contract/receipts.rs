//! Operator receipts through the status engine, and the history they leave.

use dlrgate::domain::status::DeliveryStatus::{
    self, Accepted, Buffered, Delivered, Expired, Failed, NotDelivered, Rejected, Transmitted,
    Unknown,
};
use dlrgate::store::{NewMessage, Receipt, StatusEvent, Store};

use super::fixtures::{
    T0, apply, change, effects, hand_over, receipt, report_effects, sms, status_of, submit_one,
    tenant, view,
};

fn parts(count: u32) -> NewMessage {
    NewMessage {
        parts: count,
        ..sms("491700000001")
    }
}

pub async fn duplicate_receipt_changes_nothing_but_is_kept(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), sms("491700000001")).await;
    hand_over(store, id, T0, vec![], vec![]).await;
    let first = apply(store, receipt(id, 1, Buffered, T0 + 10)).await;

    // Act
    let second = apply(store, receipt(id, 1, Buffered, T0 + 20)).await;

    // Assert
    assert_eq!(first, vec![change(id, tenant.id(), Buffered, T0 + 10)]);
    assert_eq!(second, vec![]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(
        (message.status, message.status_at),
        (Some(Buffered), Some(T0 + 10))
    );
    let expected = effects(&[("BUFFERED", "applied"), ("BUFFERED", "duplicate")]);
    assert_eq!(report_effects(store, tenant.id(), id).await, expected);
}

pub async fn final_status_never_regresses(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), sms("491700000001")).await;
    hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;
    apply(store, receipt(id, 1, Delivered, T0 + 10)).await;

    // Act: everything after DELIVERED, including a different final status.
    let mut changes = Vec::new();
    for (status, at) in [
        (Buffered, 20),
        (Accepted, 30),
        (Transmitted, 40),
        (NotDelivered, 50),
        (Failed, 60),
        (Unknown, 70),
    ] {
        changes.extend(apply(store, receipt(id, 1, status, T0 + at)).await);
    }

    // Assert
    assert_eq!(changes, vec![]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(
        (message.status, message.status_at),
        (Some(Delivered), Some(T0 + 10))
    );
    let expected = effects(&[
        ("ACCEPTED", "applied"),
        ("DELIVERED", "applied"),
        ("BUFFERED", "stale"),
        ("ACCEPTED", "stale"),
        ("TRANSMITTED", "stale"),
        ("NOTDELIVERED", "stale"),
        ("FAILED", "stale"),
        ("UNKNOWN", "stale"),
    ]);
    assert_eq!(report_effects(store, tenant.id(), id).await, expected);
}

pub async fn failed_from_unknown_is_replaced_by_a_later_definite_final(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let provisional = submit_one(store, tenant.id(), sms("491700000001")).await;
    let definite = submit_one(store, tenant.id(), sms("491700000002")).await;
    for id in [provisional, definite] {
        hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;
    }

    // Act
    let unknown = apply(store, receipt(provisional, 1, Unknown, T0 + 10)).await;
    let buffered_after = apply(store, receipt(provisional, 1, Buffered, T0 + 15)).await;
    let delivered = apply(store, receipt(provisional, 1, Delivered, T0 + 20)).await;
    let unknown_again = apply(store, receipt(provisional, 1, Unknown, T0 + 30)).await;
    let failed = apply(store, receipt(definite, 1, Failed, T0 + 10)).await;
    let delivered_after_failed = apply(store, receipt(definite, 1, Delivered, T0 + 20)).await;

    // Assert
    assert_eq!(
        unknown,
        vec![change(provisional, tenant.id(), Failed, T0 + 10)]
    );
    assert_eq!(buffered_after, vec![]);
    assert_eq!(
        delivered,
        vec![change(provisional, tenant.id(), Delivered, T0 + 20)]
    );
    assert_eq!(unknown_again, vec![]);
    assert_eq!(
        status_of(store, tenant.id(), provisional).await,
        Some(Delivered)
    );
    assert_eq!(failed, vec![change(definite, tenant.id(), Failed, T0 + 10)]);
    assert_eq!(delivered_after_failed, vec![]);
    assert_eq!(status_of(store, tenant.id(), definite).await, Some(Failed));
    let expected = effects(&[
        ("ACCEPTED", "applied"),
        ("UNKNOWN", "applied"),
        ("BUFFERED", "stale"),
        ("DELIVERED", "applied"),
        ("UNKNOWN", "stale"),
    ]);
    assert_eq!(
        report_effects(store, tenant.id(), provisional).await,
        expected
    );
}

pub async fn multipart_message_is_delivered_only_when_every_part_is(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), parts(3)).await;
    let accepted: Vec<Receipt> = (1..=3).map(|p| receipt(id, p, Accepted, T0)).collect();
    let on_submit = hand_over(store, id, T0, accepted, vec![]).await;

    // Act and assert, part by part.
    assert_eq!(on_submit, vec![change(id, tenant.id(), Accepted, T0)]);
    assert_eq!(
        apply(store, receipt(id, 2, Delivered, T0 + 10)).await,
        vec![]
    );
    assert_eq!(
        apply(store, receipt(id, 1, Delivered, T0 + 20)).await,
        vec![]
    );
    assert_eq!(status_of(store, tenant.id(), id).await, Some(Accepted));
    let transmitted = apply(store, receipt(id, 3, Transmitted, T0 + 30)).await;
    assert_eq!(
        transmitted,
        vec![change(id, tenant.id(), Transmitted, T0 + 30)]
    );
    let last = apply(store, receipt(id, 3, Delivered, T0 + 40)).await;
    assert_eq!(last, vec![change(id, tenant.id(), Delivered, T0 + 40)]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(
        (message.status, message.status_at),
        (Some(Delivered), Some(T0 + 40))
    );
}

pub async fn multipart_message_takes_the_worst_final_status_of_its_parts(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let cases: [(&[DeliveryStatus], DeliveryStatus); 4] = [
        (&[Delivered, Expired], Expired),
        (&[Expired, NotDelivered, Delivered], NotDelivered),
        (&[Rejected, Failed], Rejected),
        (&[Delivered, Unknown], Failed),
    ];
    for (finals, expected) in cases {
        let count = u32::try_from(finals.len()).unwrap();
        let id = submit_one(store, tenant.id(), parts(count)).await;
        hand_over(store, id, T0, vec![], vec![]).await;

        // Act
        let receipts: Vec<Receipt> = (1..=count)
            .zip(finals)
            .map(|(part, status)| receipt(id, part, *status, T0 + i64::from(part)))
            .collect();
        let changes = store.apply_receipts(receipts).await.unwrap();

        // Assert
        let last = changes.last().map(|c| c.status);
        assert_eq!(last, Some(expected), "{finals:?} gave {changes:?}");
        assert_eq!(
            status_of(store, tenant.id(), id).await,
            Some(expected),
            "{finals:?}"
        );
    }
}

pub async fn every_receipt_is_kept_with_its_effect_error_code_and_raw_text(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), sms("491700000001")).await;
    hand_over(store, id, T0, vec![], vec![]).await;
    let with = |status, at, code: &str| Receipt {
        source: "smsc-a".to_owned(),
        error_code: Some(code.to_owned()),
        raw: Some(format!("id:abc stat:{status} err:{code}")),
        ..receipt(id, 1, status, at)
    };
    let receipts = vec![
        with(Transmitted, T0 + 1, "000"),
        with(NotDelivered, T0 + 2, "0B3"),
        with(NotDelivered, T0 + 3, "0B4"),
        with(Buffered, T0 + 4, "000"),
    ];

    // Act
    let changes = store.apply_receipts(receipts.clone()).await.unwrap();

    // Assert
    assert_eq!(
        changes,
        vec![
            change(id, tenant.id(), Transmitted, T0 + 1),
            change(id, tenant.id(), NotDelivered, T0 + 2),
        ]
    );
    let reports: Vec<StatusEvent> = store
        .events(tenant.id(), id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "report")
        .collect();
    let expected: Vec<StatusEvent> = receipts
        .iter()
        .zip(["applied", "applied", "duplicate", "stale"])
        .map(|(r, effect)| StatusEvent {
            part: Some(1),
            kind: "report".to_owned(),
            state: r.status.as_str().to_owned(),
            effect: effect.to_owned(),
            at: r.at,
            source: "smsc-a".to_owned(),
            error_code: r.error_code.clone(),
            raw: r.raw.clone(),
        })
        .collect();
    assert_eq!(reports, expected);
    // The message shows the error code of the report that decided its status.
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(message.error_code.as_deref(), Some("0B3"));
    assert_eq!(message.status_at, Some(T0 + 2));
}

pub async fn events_are_tenant_scoped(store: &dyn Store) {
    // Arrange
    let alice = tenant(store).await;
    let bob = tenant(store).await;
    let id = submit_one(store, alice.id(), sms("491700000001")).await;
    hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;

    // Act
    let for_alice = store.events(alice.id(), id).await.unwrap();
    let for_bob = store.events(bob.id(), id).await.unwrap();

    // Assert
    assert_eq!(for_alice.len(), 3);
    assert_eq!(for_bob, vec![]);
}

pub async fn receipt_for_an_unknown_message_changes_nothing(store: &dyn Store) {
    // Arrange
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), sms("491700000001")).await;
    hand_over(store, id, T0, vec![receipt(id, 1, Accepted, T0)], vec![]).await;

    // Act: one receipt for a message that does not exist, in the same call as a real one.
    let changes = store
        .apply_receipts(vec![
            receipt(id + 1_000_000, 1, Delivered, T0 + 5),
            receipt(id, 1, Delivered, T0 + 10),
        ])
        .await
        .unwrap();

    // Assert
    assert_eq!(changes, vec![change(id, tenant.id(), Delivered, T0 + 10)]);
    assert_eq!(
        store.events(tenant.id(), id + 1_000_000).await.unwrap(),
        vec![]
    );
}

pub async fn receipt_for_a_part_the_message_does_not_have_is_kept_as_unmatched(store: &dyn Store) {
    // Arrange: a two-part message, both parts ACCEPTED.
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), parts(2)).await;
    let accepted: Vec<Receipt> = (1..=2).map(|p| receipt(id, p, Accepted, T0)).collect();
    hand_over(store, id, T0, accepted, vec![]).await;
    let beyond = Receipt {
        source: "smsc-a".to_owned(),
        error_code: Some("000".to_owned()),
        raw: Some("id:abc stat:DELIVRD err:000".to_owned()),
        ..receipt(id, 3, Delivered, T0 + 5)
    };

    // Act: a receipt for part 3, and one for a message that does not exist, in one call.
    let changes = store
        .apply_receipts(vec![
            beyond.clone(),
            receipt(id + 1_000_000, 3, Delivered, T0 + 6),
        ])
        .await
        .unwrap();

    // Assert: nothing changed, but the receipt is in the message's history.
    assert_eq!(changes, vec![]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(
        (message.status, message.status_at, message.error_code),
        (Some(Accepted), Some(T0), None)
    );
    let events = store.events(tenant.id(), id).await.unwrap();
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(
        events[4],
        StatusEvent {
            part: Some(3),
            kind: "report".to_owned(),
            state: "DELIVERED".to_owned(),
            effect: "unmatched".to_owned(),
            at: T0 + 5,
            source: "smsc-a".to_owned(),
            error_code: Some("000".to_owned()),
            raw: Some("id:abc stat:DELIVRD err:000".to_owned()),
        }
    );
    let expected = effects(&[
        ("ACCEPTED", "applied"),
        ("ACCEPTED", "applied"),
        ("DELIVERED", "unmatched"),
    ]);
    assert_eq!(report_effects(store, tenant.id(), id).await, expected);
    assert_eq!(
        store.events(tenant.id(), id + 1_000_000).await.unwrap(),
        vec![]
    );
    // The real parts still take receipts as before.
    for part in 1..=2 {
        apply(store, receipt(id, part, Delivered, T0 + 10)).await;
    }
    assert_eq!(status_of(store, tenant.id(), id).await, Some(Delivered));
}

pub async fn multipart_message_does_not_fall_back_to_accepted(store: &dyn Store) {
    // Arrange: three parts ACCEPTED, then part 2 BUFFERED, so the message shows BUFFERED.
    let tenant = tenant(store).await;
    let id = submit_one(store, tenant.id(), parts(3)).await;
    let accepted: Vec<Receipt> = (1..=3).map(|p| receipt(id, p, Accepted, T0)).collect();
    let on_submit = hand_over(store, id, T0, accepted, vec![]).await;
    let buffered = apply(store, receipt(id, 2, Buffered, T0 + 10)).await;

    // Act: the BUFFERED part is DELIVERED, then part 1; parts 1 and 2 are final and part 3 is
    // still only ACCEPTED.
    let second_delivered = apply(store, receipt(id, 2, Delivered, T0 + 20)).await;
    let first_delivered = apply(store, receipt(id, 1, Delivered, T0 + 30)).await;

    // Assert: the message stays BUFFERED, with the time it became so, and nobody is told.
    assert_eq!(on_submit, vec![change(id, tenant.id(), Accepted, T0)]);
    assert_eq!(buffered, vec![change(id, tenant.id(), Buffered, T0 + 10)]);
    assert_eq!(second_delivered, vec![]);
    assert_eq!(first_delivered, vec![]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(
        (message.status, message.status_at),
        (Some(Buffered), Some(T0 + 10))
    );

    // Act and assert: when the last part is DELIVERED, so is the message.
    let last = apply(store, receipt(id, 3, Delivered, T0 + 40)).await;
    assert_eq!(last, vec![change(id, tenant.id(), Delivered, T0 + 40)]);
    let message = view(store, tenant.id(), id).await.unwrap();
    assert_eq!(
        (message.status, message.status_at),
        (Some(Delivered), Some(T0 + 40))
    );
    let expected = effects(&[
        ("ACCEPTED", "applied"),
        ("ACCEPTED", "applied"),
        ("ACCEPTED", "applied"),
        ("BUFFERED", "applied"),
        ("DELIVERED", "applied"),
        ("DELIVERED", "applied"),
        ("DELIVERED", "applied"),
    ]);
    assert_eq!(report_effects(store, tenant.id(), id).await, expected);
}
