//! Micro-benchmarks of the hot domain functions every message and report goes through:
//! `cargo bench -p dlrgate --bench domain`. End-to-end figures come from `dlrgate bench`.

use dlrgate::domain::encoding::analyze;
use dlrgate::domain::msisdn::Msisdn;
use dlrgate::domain::receipt::{DeliveryReceipt, IdFormat, normalize_id, public_status};
use dlrgate::domain::segment::segments;
use dlrgate::domain::signature::{SignedRequest, sign};
use dlrgate::domain::status::{Decision, DeliveryStatus, PartState, aggregate, transition};

fn main() {
    divan::main();
}

/// A full sandbox sequence for one part, with a duplicate and a stale report.
#[divan::bench]
fn status_transitions_of_one_message() -> PartState {
    let reports = [
        DeliveryStatus::Accepted,
        DeliveryStatus::Transmitted,
        DeliveryStatus::Buffered,
        DeliveryStatus::Buffered,
        DeliveryStatus::Delivered,
        DeliveryStatus::Transmitted,
    ];
    let mut state = PartState::default();
    for status in divan::black_box(reports) {
        if let Decision::Apply(next) = transition(state, status) {
            state = next;
        }
    }
    state
}

#[divan::bench]
fn aggregate_of_ten_parts() -> Option<DeliveryStatus> {
    let parts = [PartState {
        status: Some(DeliveryStatus::Delivered),
        provisional: false,
    }; 10];
    aggregate(divan::black_box(&parts))
}

#[divan::bench(args = [1, 10, 1520])]
fn analyze_text(length: usize) -> u32 {
    let text = "Hello dlrgate {1} ".repeat(length.div_ceil(18));
    analyze(divan::black_box(&text[..length])).parts
}

#[divan::bench]
fn analyze_unicode_text() -> u32 {
    analyze(divan::black_box(
        "Grüße aus Köln 👋 – Ihre Bestellung ist unterwegs",
    ))
    .parts
}

#[divan::bench]
fn parse_recipient() -> bool {
    Msisdn::parse(divan::black_box("+49 (0)176 1234-5678"), None).is_ok()
}

#[divan::bench]
fn sign_a_webhook() -> String {
    let body = br#"{"webhook_event":"dlr","webhook_timestamp":"2026-11-27T05:00:00+00:00","data":{"msg_id":"77149843739","status":"DELIVERED","timestamp":"2026-11-27 05:00:00.000"}}"#;
    let request = SignedRequest {
        timestamp: "1795000000",
        nonce: "abcdefghijklmnopqrstuvwxyz012345",
        method: "POST",
        url: "https://example.com/hook",
        body,
    };
    sign(divan::black_box("secret"), &request)
}

/// An SMPP receipt as most SMSCs send it: Appendix B text, read and mapped to a status.
#[divan::bench]
fn read_a_receipt_text() -> DeliveryStatus {
    let text = "id:1F04A9 sub:001 dlvrd:001 submit date:2611270308 done date:2611270309 stat:DELIVRD err:000 text:hello there";
    let receipt = DeliveryReceipt::parse_text(divan::black_box(text)).unwrap_or_default();
    let _key = normalize_id(
        receipt.message_id.as_deref().unwrap_or_default(),
        IdFormat::Hex,
    );
    public_status(&receipt)
}

/// A 3-part GSM text cut into `submit_sm` segments with concatenation headers.
#[divan::bench]
fn segments_of_a_long_text() -> usize {
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(10);
    segments(divan::black_box(&text), 7, false).len()
}
