use super::*;
use crate::domain::status::DeliveryStatus;
use crate::store::Hook;

fn delivery(id: DeliveryId, hook: HookId, message: MessageId) -> DueDelivery {
    DueDelivery {
        id,
        attempts: 0,
        created_at: 0,
        hook: Hook {
            id: hook,
            account_id: 1,
            target_url: "http://127.0.0.1:9/hook".into(),
            event_type: "dlr".into(),
            request_method: "JSON".into(),
            event_filter: None,
            headers: String::new(),
            enabled: true,
            created_at: 0,
            failing_since: None,
            disabled_reason: None,
            backlog_full: false,
        },
        message_id: message,
        status: DeliveryStatus::Delivered,
        status_at: 0,
        recipient: "491701234567".into(),
        sender: "dlrgate".into(),
        foreign_id: None,
        label: None,
        secrets: vec!["secret".into()],
    }
}

fn ids(deliveries: &[DueDelivery]) -> Vec<DeliveryId> {
    deliveries.iter().map(|d| d.id).collect()
}

#[test]
fn each_hook_gets_at_most_its_limit_and_hooks_take_turns() {
    let mut lanes = Lanes::default();
    for id in 1..=6 {
        lanes.add(delivery(id, 1, 100 + id));
    }
    lanes.add(delivery(7, 2, 200));
    lanes.add(delivery(8, 2, 201));
    let sent = lanes.take_sendable(|hook| if hook == 1 { 3 } else { 1 });
    assert_eq!(ids(&sent), vec![1, 7, 2, 3]);
    let limits = |hook| if hook == 1 { 3 } else { 1 };
    assert!(lanes.take_sendable(limits).is_empty());
    assert_eq!(lanes.held(), 8);
    // A finished attempt frees its hook's slot.
    lanes.finish(1, 101, After::Done);
    assert_eq!(ids(&lanes.take_sendable(limits)), vec![4]);
}

#[test]
fn a_message_goes_out_one_delivery_at_a_time_in_order() {
    let mut lanes = Lanes::default();
    assert_eq!(lanes.add(delivery(1, 1, 100)), Added::Queued);
    assert_eq!(lanes.add(delivery(2, 1, 100)), Added::Queued);
    assert_eq!(lanes.add(delivery(3, 1, 100)), Added::Queued);
    assert_eq!(ids(&lanes.take_sendable(|_| 10)), vec![1]);
    assert!(lanes.take_sendable(|_| 10).is_empty());
    assert!(lanes.finish(1, 100, After::Done).is_empty());
    assert_eq!(ids(&lanes.take_sendable(|_| 10)), vec![2]);
    lanes.finish(1, 100, After::Done);
    assert_eq!(ids(&lanes.take_sendable(|_| 10)), vec![3]);
    lanes.finish(1, 100, After::Done);
    // The message is idle again: a new delivery of it goes out at once.
    lanes.add(delivery(4, 1, 100));
    assert_eq!(ids(&lanes.take_sendable(|_| 10)), vec![4]);
}

#[test]
fn a_retry_sends_those_behind_back_until_the_store_shows_it() {
    let mut lanes = Lanes::default();
    lanes.add(delivery(1, 1, 100));
    lanes.add(delivery(2, 1, 100));
    lanes.add(delivery(3, 1, 100));
    lanes.add(delivery(4, 1, 101));
    assert_eq!(ids(&lanes.take_sendable(|_| 10)), vec![1, 4]);
    let mut released = lanes.finish(1, 100, After::Retry);
    released.sort_unstable();
    assert_eq!(released, vec![2, 3]);
    // Until the retry is recorded and visible, what comes for that message goes back too.
    assert_eq!(lanes.add(delivery(5, 1, 100)), Added::Release);
    assert_eq!(lanes.add(delivery(6, 1, 101)), Added::Queued);
    lanes.settled([1]);
    lanes.records_visible(&[(1, 100)], &[]);
    assert_eq!(lanes.add(delivery(1, 1, 100)), Added::Queued);
    lanes.finish(1, 101, After::Done);
    assert_eq!(ids(&lanes.take_sendable(|_| 10)), vec![1, 6]);
}

#[test]
fn a_delivery_is_held_once_until_the_store_recorded_it() {
    let mut lanes = Lanes::default();
    assert_eq!(lanes.add(delivery(1, 1, 100)), Added::Queued);
    assert_eq!(lanes.add(delivery(1, 1, 100)), Added::AlreadyHeld);
    assert_eq!(ids(&lanes.take_sendable(|_| 10)), vec![1]);
    lanes.finish(1, 100, After::Done);
    // Delivered but not yet recorded: a claim that returns it again must not send it twice.
    assert_eq!(lanes.add(delivery(1, 1, 100)), Added::AlreadyHeld);
    lanes.settled([1]);
    assert_eq!(lanes.held(), 0);
}

#[test]
fn a_disabled_hook_gives_back_what_it_did_not_send() {
    let mut lanes = Lanes::default();
    lanes.add(delivery(1, 1, 100));
    lanes.add(delivery(2, 1, 100));
    lanes.add(delivery(3, 1, 101));
    lanes.add(delivery(4, 1, 102));
    lanes.add(delivery(5, 2, 100));
    assert_eq!(ids(&lanes.take_sendable(|_| 1)), vec![1, 5]);
    let mut released = lanes.unqueue_hook(1);
    released.sort_unstable();
    assert_eq!(released, vec![2, 3, 4]);
    // The attempt in flight finishes as usual and leaves nothing behind.
    assert!(lanes.finish(1, 100, After::Done).is_empty());
    assert!(lanes.take_sendable(|_| 10).is_empty());
    lanes.settled([1, 5]);
    assert_eq!(lanes.held(), 0);
    let mut all = lanes.unqueue_all();
    all.sort_unstable();
    assert!(all.is_empty());
}

#[test]
fn a_410_takes_back_everything_of_its_hook_until_the_store_shows_it_disabled() {
    let mut lanes = Lanes::default();
    lanes.add(delivery(1, 1, 100));
    lanes.add(delivery(2, 1, 100));
    lanes.add(delivery(3, 1, 101));
    lanes.add(delivery(4, 2, 100));
    assert_eq!(ids(&lanes.take_sendable(|_| 1)), vec![1, 4]);
    let mut released = lanes.finish(1, 100, After::HookGone);
    released.sort_unstable();
    assert_eq!(released, vec![2, 3]);
    assert_eq!(lanes.add(delivery(5, 1, 102)), Added::Release);
    assert_eq!(lanes.add(delivery(6, 2, 101)), Added::Queued);
    lanes.records_visible(&[], &[1]);
    assert_eq!(lanes.add(delivery(7, 1, 103)), Added::Queued);
}
