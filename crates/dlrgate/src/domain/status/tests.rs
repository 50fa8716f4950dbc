//! Table-driven and property tests of the status engine.

use super::DeliveryStatus::{self, *};
use super::{Decision, PartState, aggregate, message_update, transition};
use proptest::prelude::*;

fn state(status: Option<DeliveryStatus>, provisional: bool) -> PartState {
    PartState {
        status,
        provisional,
    }
}

fn applied(status: DeliveryStatus) -> Decision {
    Decision::Apply(state(Some(status), false))
}

fn check(current: PartState, reported: DeliveryStatus, expect: Decision) {
    assert_eq!(
        transition(current, reported),
        expect,
        "{current:?} + {reported}"
    );
}

#[test]
fn transitions_follow_the_rules() {
    let fresh = PartState::default();
    let provisional_failed = state(Some(Failed), true);
    let cases = [
        (fresh, Accepted, applied(Accepted)),
        (fresh, Delivered, applied(Delivered)),
        (fresh, Unknown, Decision::Apply(provisional_failed)),
        (
            state(Some(Accepted), false),
            Transmitted,
            applied(Transmitted),
        ),
        (state(Some(Transmitted), false), Buffered, applied(Buffered)),
        (
            state(Some(Buffered), false),
            Transmitted,
            applied(Transmitted),
        ),
        (state(Some(Transmitted), false), Accepted, Decision::Stale),
        (state(Some(Accepted), false), Accepted, Decision::Duplicate),
        (state(Some(Buffered), false), Delivered, applied(Delivered)),
        (
            state(Some(Delivered), false),
            Delivered,
            Decision::Duplicate,
        ),
        (state(Some(Delivered), false), Buffered, Decision::Stale),
        (state(Some(Delivered), false), NotDelivered, Decision::Stale),
        (state(Some(Expired), false), Delivered, Decision::Stale),
        (state(Some(Rejected), false), Unknown, Decision::Stale),
        (provisional_failed, Delivered, applied(Delivered)),
        (provisional_failed, Expired, applied(Expired)),
        (provisional_failed, Rejected, applied(Rejected)),
        (provisional_failed, Unknown, Decision::Duplicate),
        (provisional_failed, Failed, Decision::Duplicate),
        (provisional_failed, Transmitted, Decision::Stale),
        (state(Some(Failed), false), Delivered, Decision::Stale),
    ];
    for (current, reported, expect) in cases {
        check(current, reported, expect);
    }
}

#[test]
fn message_status_comes_from_its_parts() {
    let p = |s| state(Some(s), false);
    let none = PartState::default();
    let cases: Vec<(Vec<PartState>, Option<DeliveryStatus>)> = vec![
        (vec![none], None),
        (vec![p(Delivered)], Some(Delivered)),
        (vec![p(Delivered), p(Delivered)], Some(Delivered)),
        // A reported final part beside a part without any report: nothing to say yet.
        (vec![p(Delivered), none], None),
        (vec![p(Delivered), p(Transmitted)], Some(Transmitted)),
        (vec![p(Accepted), p(Buffered)], Some(Buffered)),
        (vec![p(Delivered), p(Expired)], Some(Expired)),
        (
            vec![p(Rejected), p(NotDelivered), p(Delivered)],
            Some(Rejected),
        ),
        (vec![p(Failed), p(Transmitted)], Some(Transmitted)),
    ];
    for (parts, expect) in cases {
        assert_eq!(aggregate(&parts), expect, "{parts:?}");
    }
}

#[test]
fn multipart_message_does_not_fall_back_to_accepted() {
    let p = |s| state(Some(s), false);
    // Part 2 was BUFFERED (the message showed BUFFERED) and is now DELIVERED; part 3 is ACCEPTED.
    let parts = [p(Delivered), p(Delivered), p(Accepted)];
    assert_eq!(aggregate(&parts), Some(Accepted));
    assert_eq!(message_update(Some(Buffered), aggregate(&parts)), None);
    assert_eq!(message_update(None, Some(Accepted)), Some(Accepted));
    assert_eq!(
        message_update(Some(Accepted), Some(Transmitted)),
        Some(Transmitted)
    );
    assert_eq!(message_update(Some(Delivered), Some(Delivered)), None);
    assert_eq!(
        message_update(Some(Failed), Some(Delivered)),
        Some(Delivered)
    );
}

fn any_status() -> impl Strategy<Value = DeliveryStatus> {
    proptest::sample::select(DeliveryStatus::ALL.to_vec())
}

proptest! {
    /// No sequence of receipts, in any order, makes a final part status regress: once final it
    /// stays final, and once definitely final (not provisional) it never changes at all.
    #[test]
    fn final_part_status_never_regresses(reports in proptest::collection::vec(any_status(), 0..24)) {
        let mut current = PartState::default();
        for reported in reports {
            let before = current;
            if let Decision::Apply(next) = transition(current, reported) {
                current = next;
            }
            if before.is_final() {
                prop_assert!(current.is_final(), "{before:?} regressed to {current:?}");
            }
            if before.is_final() && !before.provisional {
                prop_assert_eq!(before, current);
            }
        }
    }

    /// The same holds for the aggregated status of a multipart message.
    #[test]
    fn final_message_status_never_regresses(
        reports in proptest::collection::vec((0usize..3, any_status()), 0..40)
    ) {
        let mut parts = [PartState::default(); 3];
        let mut was_final = false;
        for (index, reported) in reports {
            if let Decision::Apply(next) = transition(parts[index], reported) {
                parts[index] = next;
            }
            let now_final = parts.iter().all(|p| p.is_final());
            prop_assert!(!was_final || now_final);
            if now_final {
                prop_assert!(aggregate(&parts).is_some_and(DeliveryStatus::is_final));
            }
            was_final = now_final;
        }
    }

    /// The status a message shows never goes back: once final it stays final, and it never
    /// returns to ACCEPTED after it has come further.
    #[test]
    fn message_status_never_goes_back(reports in proptest::collection::vec((0usize..3, any_status()), 0..40)) {
        let mut parts = [PartState::default(); 3];
        let mut shown: Option<DeliveryStatus> = None;
        for (index, reported) in reports {
            if let Decision::Apply(next) = transition(parts[index], reported) {
                parts[index] = next;
            }
            let before = shown;
            if let Some(next) = message_update(shown, aggregate(&parts)) {
                shown = Some(next);
            }
            if before.is_some_and(DeliveryStatus::is_final) {
                prop_assert!(shown.is_some_and(DeliveryStatus::is_final));
            }
            if before.is_some_and(|b| b != Accepted) {
                prop_assert_ne!(shown, Some(Accepted));
            }
        }
    }

    /// Delivered only when every part is delivered.
    #[test]
    fn delivered_only_when_every_part_is(reports in proptest::collection::vec((0usize..3, any_status()), 0..40)) {
        let mut parts = [PartState::default(); 3];
        for (index, reported) in reports {
            if let Decision::Apply(next) = transition(parts[index], reported) {
                parts[index] = next;
            }
            if aggregate(&parts) == Some(Delivered) {
                prop_assert!(parts.iter().all(|p| p.status == Some(Delivered)));
            }
        }
    }
}
