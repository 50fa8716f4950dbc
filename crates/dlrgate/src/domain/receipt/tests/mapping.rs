//! TLV precedence and the mapping of stat codes and message states to public statuses.

use super::*;

#[test]
fn tlvs_win_over_the_text() {
    let text = "id:12345 stat:DELIVRD err:000";
    let from_text = DeliveryReceipt {
        error: s("000"),
        ..id_stat("12345", "DELIVRD")
    };
    let with_id = |id| Tlvs {
        id: Some(id),
        ..NO_TLVS
    };
    let with_error = |octets| Tlvs {
        network_error: Some(octets),
        ..NO_TLVS
    };
    let coded = |code: &str| DeliveryReceipt {
        network_error_code: s(code),
        ..from_text.clone()
    };
    run([
        (text, Merged(NO_TLVS, from_text.clone())),
        (
            text,
            Merged(
                with_id(" 1234567890abcdef\0"),
                DeliveryReceipt {
                    message_id: s("1234567890abcdef"),
                    ..from_text.clone()
                },
            ),
        ),
        (text, Merged(with_id("\0"), from_text.clone())),
        (
            text,
            Merged(
                tlv_state(5),
                DeliveryReceipt {
                    state: Some(Undeliverable),
                    ..from_text.clone()
                },
            ),
        ),
        (text, Merged(tlv_state(10), from_text.clone())),
        (text, Merged(with_error(&[3, 0x00, 0x1B]), coded("3:001B"))),
        (text, Merged(with_error(&[3, 0, 0]), coded("3:0000"))),
        (text, Merged(with_error(&[1, 0xFF, 0xFF]), coded("1:FFFF"))),
        (text, Merged(with_error(b"042"), coded("042"))),
        (text, Merged(with_error(b"042\0"), coded("042"))),
        (text, Merged(with_error(&[1, 2]), coded("0x0102"))),
        (text, Merged(with_error(&[3, 0, 1, 0]), coded("0x03000100"))),
        (text, Merged(with_error(&[]), from_text.clone())),
        (
            "",
            Merged(
                Tlvs {
                    id: Some("abc"),
                    state: Some(2),
                    network_error: Some(&[3, 0, 0]),
                },
                DeliveryReceipt {
                    message_id: s("abc"),
                    state: Some(Delivered),
                    network_error_code: s("3:0000"),
                    ..DeliveryReceipt::default()
                },
            ),
        ),
    ]);
}

#[test]
fn every_stat_code_maps_to_its_public_status() {
    let stat = |code: &'static str, public| (code, Status(NO_TLVS, public));
    run([
        stat("id:1 stat:SCHEDLD", Public::Transmitted),
        stat("id:1 stat:ENROUTE", Public::Transmitted),
        stat("id:1 stat:DELIVRD", Public::Delivered),
        stat("id:1 stat:EXPIRED", Public::Expired),
        stat("id:1 stat:DELETED", Public::NotDelivered),
        stat("id:1 stat:UNDELIV", Public::NotDelivered),
        stat("id:1 stat:ACCEPTD", Public::Accepted),
        stat("id:1 stat:UNKNOWN", Public::Unknown),
        stat("id:1 stat:REJECTD", Public::Rejected),
        stat("id:1 stat:SKIPPED", Public::NotDelivered),
        stat("id:1 stat:BUFFRED", Public::Buffered),
        stat("id:1 stat:BUFFERD", Public::Buffered),
        stat("id:1 stat:acked", Public::Buffered),
        stat("id:1 stat:ENROUTE err:042", Public::Buffered),
        stat("id:1 stat:ENROUTE err: 001", Public::Buffered),
        stat("id:1 stat:ENROUTE err:000", Public::Transmitted),
        stat("id:1 stat:ENROUTE err:AOK", Public::Transmitted),
        stat("id:1 stat:SCHEDLD err:042", Public::Transmitted),
        stat("id:1 stat:UNDELIV err:000", Public::NotDelivered),
        stat("id:1 stat:delivrd", Public::Delivered),
        stat("id:1 stat:DELIVERED", Public::Delivered),
        stat("id:1 stat:FOO", Public::Unknown),
        stat("id:1 err:000", Public::Unknown),
        stat("garbage", Public::Unknown),
    ]);
}

#[test]
fn every_message_state_maps_to_its_public_status() {
    let state = |value, public| ("", Status(tlv_state(value), public));
    run([
        state(0, Public::Transmitted),
        state(1, Public::Transmitted),
        state(2, Public::Delivered),
        state(3, Public::Expired),
        state(4, Public::NotDelivered),
        state(5, Public::NotDelivered),
        state(6, Public::Accepted),
        state(7, Public::Unknown),
        state(8, Public::Rejected),
        state(9, Public::NotDelivered),
        state(10, Public::Unknown),
        state(255, Public::Unknown),
        (
            "id:1 stat:DELIVRD",
            Status(tlv_state(1), Public::Transmitted),
        ),
        ("id:1 stat:BUFFRED", Status(tlv_state(1), Public::Buffered)),
        ("id:1 stat:BUFFRED", Status(tlv_state(2), Public::Delivered)),
        ("id:1 stat:UNKNOWN", Status(tlv_state(8), Public::Rejected)),
        (
            "id:1 stat:DELIVRD",
            Status(tlv_state(42), Public::Delivered),
        ),
        ("", Status(tlv_error(1, &[3, 0, 27]), Public::Buffered)),
        ("", Status(tlv_error(1, &[3, 0, 0]), Public::Transmitted)),
        ("", Status(tlv_error(1, b"042"), Public::Buffered)),
        ("", Status(tlv_error(1, b"000"), Public::Transmitted)),
        ("", Status(tlv_error(1, &[1, 2]), Public::Buffered)),
        ("", Status(tlv_error(2, &[3, 0, 27]), Public::Delivered)),
    ]);
}

#[test]
fn stat_codes_name_message_states() {
    run([
        ("DELIVRD", State(Some(Delivered))),
        (" undeliv ", State(Some(Undeliverable))),
        ("UNDELIVERABLE", State(Some(Undeliverable))),
        ("Rejected", State(Some(Rejected))),
        ("BUFFRED", State(Some(Enroute))),
        ("BUFFERD", State(Some(Enroute))),
        ("ACKED", State(Some(Enroute))),
        ("", State(None)),
        ("DELIVR", State(None)),
        ("DELIVRDX", State(None)),
    ]);
    for state in MessageState::ALL {
        assert_eq!(MessageState::from_tlv(state.value()), Some(state));
        assert_eq!(MessageState::from_stat(state.stat()), Some(state));
        check(&state.stat().to_lowercase(), State(Some(state)));
    }
}
