//! Property tests: the decoder never panics on arbitrary bytes, and valid `submit_sm`s round-trip.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smpp::{COctetString, Pdu, SubmitSm, Tlvs, codec, command_id};

/// Decodes until the buffer is exhausted, needs more bytes, or the stream is declared broken.
fn drain(bytes: &[u8]) {
    let mut buf = BytesMut::from(bytes);
    loop {
        match codec::decode(&mut buf) {
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(smpp::SmppError::Body { .. }) => continue,
            Err(_) => break,
        }
    }
}

const KNOWN_IDS: [u32; 17] = [
    command_id::GENERIC_NACK,
    command_id::BIND_RECEIVER,
    command_id::BIND_RECEIVER_RESP,
    command_id::BIND_TRANSMITTER,
    command_id::BIND_TRANSMITTER_RESP,
    command_id::SUBMIT_SM,
    command_id::SUBMIT_SM_RESP,
    command_id::DELIVER_SM,
    command_id::DELIVER_SM_RESP,
    command_id::UNBIND,
    command_id::UNBIND_RESP,
    command_id::BIND_TRANSCEIVER,
    command_id::BIND_TRANSCEIVER_RESP,
    command_id::ENQUIRE_LINK,
    command_id::ENQUIRE_LINK_RESP,
    command_id::DATA_SM,
    command_id::DATA_SM_RESP,
];

fn c_octet(max: usize) -> impl Strategy<Value = COctetString> {
    prop::collection::vec(1u8..=255, 0..max).prop_map(COctetString::new)
}

proptest! {
    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        drain(&bytes);
    }

    /// Random bytes rarely form a plausible header, so also feed well-framed PDUs with random bodies.
    #[test]
    fn decode_never_panics_on_framed_random_bodies(
        id in prop::sample::select(KNOWN_IDS.to_vec()),
        status in any::<u32>(),
        sequence_number in any::<u32>(),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = Vec::with_capacity(16 + body.len());
        bytes.extend_from_slice(&u32::try_from(16 + body.len()).expect("small").to_be_bytes());
        bytes.extend_from_slice(&id.to_be_bytes());
        bytes.extend_from_slice(&status.to_be_bytes());
        bytes.extend_from_slice(&sequence_number.to_be_bytes());
        bytes.extend_from_slice(&body);
        drain(&bytes);
    }

    #[test]
    fn submit_sm_within_limits_round_trips(
        sequence_number in any::<u32>(),
        source_addr in c_octet(21),
        destination_addr in c_octet(21),
        validity_period in c_octet(17),
        esm_class in any::<u8>(),
        short_message in prop::collection::vec(any::<u8>(), 0..=254),
        tlvs in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u8>(), 0..40)), 0..4),
    ) {
        let body = SubmitSm {
            source_addr,
            destination_addr,
            validity_period,
            esm_class,
            short_message: Bytes::from(short_message),
            tlvs: tlvs.into_iter().fold(Tlvs::default(), |t, (tag, v)| t.with(tag, v)),
            ..SubmitSm::default()
        };
        let pdu = Pdu::SubmitSm { sequence_number, body };
        let mut buf = BytesMut::new();
        codec::encode(&pdu, &mut buf);
        prop_assert_eq!(codec::decode(&mut buf), Ok(Some(pdu)));
        prop_assert!(buf.is_empty());
    }
}
