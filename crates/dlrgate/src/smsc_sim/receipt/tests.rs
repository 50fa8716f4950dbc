//! Receipt planning and the `deliver_sm` a receipt becomes, checked through the receipt parser of
//! `domain::receipt`, so the simulator writes what dlrgate reads.

use super::*;
use crate::domain::receipt::DeliveryReceipt;

fn message(destination: &str, text: &str) -> Arc<Message> {
    let submit = SubmitSm {
        source_addr: "dlrgate".into(),
        destination_addr: destination.into(),
        short_message: Bytes::from(text.to_owned()),
        ..SubmitSm::default()
    };
    Arc::new(Message::from_submit(
        "acct".into(),
        "1F04".into(),
        &submit,
        1_795_000_000,
    ))
}

const RULES: PlanRules = PlanRules {
    speed: 1.0,
    outcome: None,
    immediate: false,
};

/// The (stat, intermediate) sequence `registered_delivery` earns for a destination.
fn check(destination: &str, registered_delivery: u8, rules: PlanRules, expect: &[(&str, bool)]) {
    let planned = plan(registered_delivery, &message(destination, "hi"), rules);
    let got: Vec<(&str, bool)> = planned
        .iter()
        .map(|p| (p.receipt.state.stat(), p.receipt.intermediate))
        .collect();
    assert_eq!(got, expect, "{destination} rd={registered_delivery:#04x}");
}

#[test]
fn registered_delivery_and_last_digit_decide_the_receipts() {
    check("491701", 0x00, RULES, &[]);
    check("491701", 0x01, RULES, &[("DELIVRD", false)]);
    check("491707", 0x01, RULES, &[("UNDELIV", false)]);
    check("491708", 0x01, RULES, &[("EXPIRED", false)]);
    check("491709", 0x01, RULES, &[("REJECTD", false)]);
    check("491700", 0x01, RULES, &[("UNKNOWN", false)]);
    check("491701", 0x02, RULES, &[]);
    check("491707", 0x02, RULES, &[("UNDELIV", false)]);
    check("491707", 0x03, RULES, &[]);
    check(
        "491706",
        0x11,
        RULES,
        &[("ENROUTE", true), ("ENROUTE", true), ("DELIVRD", false)],
    );
    check(
        "491706",
        0x10,
        RULES,
        &[("ENROUTE", true), ("ENROUTE", true)],
    );
    let outcome = PlanRules {
        outcome: Some(MessageState::Rejected),
        ..RULES
    };
    check("491701", 0x01, outcome, &[("REJECTD", false)]);
}

#[test]
fn immediate_receipts_have_no_delay_and_speed_divides_delays() {
    let immediate = PlanRules {
        immediate: true,
        ..RULES
    };
    let planned = plan(0x11, &message("491701", "hi"), immediate);
    assert!(planned.iter().all(|p| p.after == Duration::ZERO));
    let fast = PlanRules {
        speed: 1000.0,
        ..RULES
    };
    let planned = plan(0x01, &message("491701", "hi"), fast);
    assert_eq!(planned[0].after, Duration::from_millis(3));
}

#[test]
fn deliver_sm_reads_back_as_the_planned_receipt() {
    let planned = plan(
        0x01,
        &message("491707", "Hello wörld, this is longer than twenty"),
        RULES,
    );
    let body = planned[0].receipt.deliver_sm();
    assert_eq!(body.esm_class, 0x04);
    assert_eq!(body.source_addr.as_bytes(), b"491707");
    assert_eq!(body.destination_addr.as_bytes(), b"dlrgate");
    assert_eq!(body.tlvs.receipted_message_id(), Some(&b"1F04"[..]));
    assert_eq!(body.tlvs.message_state(), Some(5));
    assert_eq!(
        body.tlvs.network_error_code().map(|c| c.error_code),
        Some(1)
    );
    let text = std::str::from_utf8(&body.short_message).expect("ascii");
    assert!(text.ends_with("text:Hello w?rld, this is"), "{text}");
    let read = DeliveryReceipt::parse_text(text).expect("parses");
    assert_eq!(read.message_id.as_deref(), Some("1F04"));
    assert_eq!(read.stat.as_deref(), Some("UNDELIV"));
    assert_eq!(read.error.as_deref(), Some("001"));
    assert_eq!(read.submitted, Some(1));
    assert_eq!(read.delivered, Some(0));
    assert!(read.submit_date.is_some() && read.done_date.is_some());
}
