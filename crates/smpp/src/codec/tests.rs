//! Codec tests: round trips for every PDU, byte-exact vectors from the SMPP 3.4 layout, and bad input.

use bytes::{Bytes, BytesMut};

use super::{MAX_PDU_LEN, check as check_frame, decode, encode};
use crate::{
    Bind, BindResp, BodyError, DataSm, Pdu, SmppError, SubmitSm, SubmitSmResp, Tlvs, command_id,
    tag,
};

/// Encodes `pdu`, checks the bytes against `expect` when given, and decodes them back to `pdu`.
fn check(pdu: Pdu, expect: Option<&str>) {
    let mut buf = BytesMut::new();
    encode(&pdu, &mut buf);
    if let Some(expect) = expect {
        assert_eq!(buf.to_vec(), hex(expect), "encoding of {pdu:?}");
    }
    assert_eq!(check_frame(&buf), Ok(Some(buf.len())));
    let decoded = decode(&mut buf).expect("decodes").expect("complete");
    assert_eq!(decoded, pdu);
    assert!(buf.is_empty(), "frame fully consumed");
}

/// Decodes `input` and compares the first result with `expect`.
fn check_decode(input: &str, expect: Result<Option<Pdu>, SmppError>) {
    let mut buf = BytesMut::from(&hex(input)[..]);
    assert_eq!(decode(&mut buf), expect, "input {input}");
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).expect("ascii");
            u8::from_str_radix(s, 16).expect("hex digit pair")
        })
        .collect()
}

fn bind() -> Bind {
    Bind {
        system_id: "SMPP3TEST".into(),
        password: "secret08".into(),
        system_type: "SUBMIT1".into(),
        interface_version: 0x34,
        addr_ton: 1,
        addr_npi: 1,
        address_range: "".into(),
    }
}

fn submit_sm() -> SubmitSm {
    SubmitSm {
        source_addr_ton: 5,
        source_addr: "dlrgate".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "491701234567".into(),
        registered_delivery: 1,
        short_message: Bytes::from_static(b"Hello"),
        ..SubmitSm::default()
    }
}

fn receipt() -> SubmitSm {
    SubmitSm {
        esm_class: 0x04,
        short_message: Bytes::from_static(
            b"id:1F04 sub:001 dlvrd:001 submit date:2611270630 done date:2611270631 stat:DELIVRD err:000 text:Hello",
        ),
        tlvs: Tlvs::default()
            .with(tag::RECEIPTED_MESSAGE_ID, &b"1F04\0"[..])
            .with(tag::MESSAGE_STATE, vec![2])
            .with(tag::NETWORK_ERROR_CODE, vec![3, 0, 0]),
        ..submit_sm()
    }
}

fn resp(message_id: &str) -> SubmitSmResp {
    SubmitSmResp {
        message_id: message_id.into(),
        tlvs: Tlvs::default(),
    }
}

#[test]
fn every_pdu_round_trips() {
    let bind_resp = BindResp {
        system_id: "SMSC".into(),
        tlvs: Tlvs::default().with(tag::SC_INTERFACE_VERSION, vec![0x34]),
    };
    let data_sm = DataSm {
        source_addr: "4917000000000000000000000000000000000000".into(),
        destination_addr: "dlrgate".into(),
        esm_class: 0x04,
        tlvs: receipt()
            .tlvs
            .with(tag::MESSAGE_PAYLOAD, &b"id:1 stat:DELIVRD"[..]),
        ..DataSm::default()
    };
    let (s, st) = (7, 0x58);
    for pdu in [
        Pdu::BindTransmitter {
            sequence_number: s,
            body: bind(),
        },
        Pdu::BindReceiver {
            sequence_number: s,
            body: bind(),
        },
        Pdu::BindTransceiver {
            sequence_number: s,
            body: bind(),
        },
        Pdu::BindTransmitterResp {
            sequence_number: s,
            command_status: 0,
            body: bind_resp.clone(),
        },
        Pdu::BindReceiverResp {
            sequence_number: s,
            command_status: 0,
            body: bind_resp.clone(),
        },
        Pdu::BindTransceiverResp {
            sequence_number: s,
            command_status: 0,
            body: bind_resp,
        },
        Pdu::Unbind { sequence_number: s },
        Pdu::UnbindResp {
            sequence_number: s,
            command_status: 0,
        },
        Pdu::EnquireLink {
            sequence_number: u32::MAX,
        },
        Pdu::EnquireLinkResp {
            sequence_number: s,
            command_status: 0,
        },
        Pdu::GenericNack {
            sequence_number: s,
            command_status: 0x03,
        },
        Pdu::SubmitSm {
            sequence_number: s,
            body: submit_sm(),
        },
        Pdu::SubmitSmResp {
            sequence_number: s,
            command_status: 0,
            body: resp("1F04"),
        },
        Pdu::SubmitSmResp {
            sequence_number: s,
            command_status: st,
            body: resp(""),
        },
        Pdu::DeliverSm {
            sequence_number: s,
            body: receipt(),
        },
        Pdu::DeliverSmResp {
            sequence_number: s,
            command_status: 0,
            body: resp(""),
        },
        Pdu::DataSm {
            sequence_number: s,
            body: data_sm,
        },
        Pdu::DataSmResp {
            sequence_number: s,
            command_status: 0,
            body: resp("7940"),
        },
        Pdu::Unknown {
            command_id: 0x0000_0003,
            sequence_number: s,
            body: Bytes::from_static(b"\x01\x02"),
        },
    ] {
        check(pdu, None);
    }
}

#[test]
fn encodings_match_the_spec_layout() {
    check(
        Pdu::BindTransceiver {
            sequence_number: 1,
            body: bind(),
        },
        Some(
            "0000002f 00000009 00000000 00000001
             534d5050335445535400  7365637265743038 00  5355424d49543100
             34 01 01 00",
        ),
    );
    check(
        Pdu::SubmitSm {
            sequence_number: 2,
            body: submit_sm(),
        },
        Some(
            "00000039 00000004 00000000 00000002
             00  05 00 646c726761746500  01 01 34393137303132333435363700
             00 00 00  00  00  01 00 00 00  05 48656c6c6f",
        ),
    );
    check(
        Pdu::SubmitSmResp {
            sequence_number: 2,
            command_status: 0,
            body: resp("1F04"),
        },
        Some("00000015 80000004 00000000 00000002 3146303400"),
    );
    check(
        Pdu::EnquireLink { sequence_number: 3 },
        Some("00000010 00000015 00000000 00000003"),
    );
    check(
        Pdu::GenericNack {
            sequence_number: 4,
            command_status: 3,
        },
        Some("00000010 80000000 00000003 00000004"),
    );
}

#[test]
fn decoding_handles_partial_bad_and_odd_input() {
    let body = |reason| {
        Err(SmppError::Body {
            command_id: command_id::SUBMIT_SM,
            sequence_number: 1,
            reason,
        })
    };
    let cases: Vec<(&str, Result<Option<Pdu>, SmppError>)> = vec![
        ("", Ok(None)),
        ("000000", Ok(None)),
        ("00000010 00000015 000000", Ok(None)),
        (
            "0000000f 00000015 00000000 00000001",
            Err(SmppError::LengthTooSmall(15)),
        ),
        ("00000000", Err(SmppError::LengthTooSmall(0))),
        (
            "00010001 00000015",
            Err(SmppError::LengthTooLarge(0x1_0001)),
        ),
        ("ffffffff", Err(SmppError::LengthTooLarge(u32::MAX))),
        (
            "00000011 00000015 00000000 00000001 00",
            Err(SmppError::Body {
                command_id: command_id::ENQUIRE_LINK,
                sequence_number: 1,
                reason: BodyError::TrailingOctets(1),
            }),
        ),
        (
            "00000014 00000004 00000000 00000001 61626364",
            body(BodyError::Truncated {
                field: "service_type",
            }),
        ),
        (
            "00000016 00000004 00000000 00000001 616263646566",
            body(BodyError::StringTooLong {
                field: "service_type",
                max: 6,
            }),
        ),
        (
            "00000023 00000004 00000000 00000001 00 0000 00 0000 00 000000 00 00 01000000 05 4865",
            body(BodyError::Truncated {
                field: "short_message",
            }),
        ),
        (
            "00000024 00000004 00000000 00000001 00 0000 00 0000 00 000000 00 00 01000000 00 0427 00",
            body(BodyError::TlvTruncated { tag: 0x0427 }),
        ),
        (
            "00000010 80000004 00000058 00000009",
            Ok(Some(Pdu::SubmitSmResp {
                sequence_number: 9,
                command_status: 0x58,
                body: SubmitSmResp::default(),
            })),
        ),
        (
            "00000012 00000099 00000000 00000005 abcd",
            Ok(Some(Pdu::Unknown {
                command_id: 0x99,
                sequence_number: 5,
                body: Bytes::from_static(&[0xab, 0xcd]),
            })),
        ),
    ];
    for (input, expect) in cases {
        check_decode(input, expect);
    }
}

#[test]
fn incomplete_input_is_left_in_the_buffer() {
    let mut buf = BytesMut::from(&hex("00000010 00000015 00000000")[..]);
    assert_eq!(decode(&mut buf), Ok(None));
    assert_eq!(buf.len(), 12);
}

#[test]
fn a_malformed_frame_is_consumed_so_the_next_one_decodes() {
    let mut buf = BytesMut::from(
        &hex("00000011 00000015 00000000 00000001 00  00000010 00000006 00000000 00000002")[..],
    );
    assert!(matches!(
        decode(&mut buf),
        Err(SmppError::Body {
            sequence_number: 1,
            ..
        })
    ));
    assert_eq!(
        decode(&mut buf),
        Ok(Some(Pdu::Unbind { sequence_number: 2 }))
    );
    assert_eq!(decode(&mut buf), Ok(None));
}

#[test]
fn a_frame_of_the_maximum_length_is_accepted() {
    let len = u32::try_from(MAX_PDU_LEN).expect("fits").to_be_bytes();
    assert_eq!(check_frame(&len), Ok(None));
}

#[test]
fn typed_tlv_accessors_read_receipt_fields() {
    let tlvs = receipt()
        .tlvs
        .with(tag::SAR_MSG_REF_NUM, vec![0x01, 0x02])
        .with(tag::SAR_TOTAL_SEGMENTS, vec![3])
        .with(tag::SAR_SEGMENT_SEQNUM, vec![2])
        .with(tag::MESSAGE_PAYLOAD, &b"payload"[..]);
    assert_eq!(tlvs.receipted_message_id(), Some(&b"1F04"[..]));
    assert_eq!(tlvs.message_state(), Some(2));
    let network_error_code = tlvs.network_error_code().expect("present");
    assert_eq!(
        (
            network_error_code.network_type,
            network_error_code.error_code
        ),
        (3, 0)
    );
    assert_eq!(tlvs.sar_msg_ref_num(), Some(0x0102));
    assert_eq!(tlvs.sar_total_segments(), Some(3));
    assert_eq!(tlvs.sar_segment_seqnum(), Some(2));
    assert_eq!(tlvs.message_payload(), Some(&b"payload"[..]));
    // Kannel has seen SMSCs send network_error_code as ASCII digits; the typed accessor declines them.
    let ascii = Tlvs::default().with(tag::NETWORK_ERROR_CODE, &b"042\0"[..]);
    assert_eq!(ascii.network_error_code(), None);
    assert_eq!(ascii.get(tag::NETWORK_ERROR_CODE), Some(&b"042\0"[..]));
}
