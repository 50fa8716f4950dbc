//! Link upkeep: enquire_link both ways, dead peers, and generic_nack for requests an ESME does not handle.

use std::time::Duration;

use bytes::Bytes;
use smpp::{ClientConfig, LinkState, Pdu, command_id, command_status};

use crate::fake_smsc::{FakeSmsc, bound_client, config, wait_for_state};

#[tokio::test]
async fn enquire_link_from_the_smsc_is_answered_with_its_sequence_number() {
    let smsc = FakeSmsc::start().await;
    let (_client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;

    peer.send(Pdu::EnquireLink {
        sequence_number: 77,
    })
    .await;

    assert_eq!(
        peer.recv().await,
        Pdu::EnquireLinkResp {
            sequence_number: 77,
            command_status: 0
        }
    );
}

#[tokio::test]
async fn idle_link_sends_enquire_link_and_a_silent_peer_makes_the_client_reconnect() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(
        &smsc,
        ClientConfig {
            enquire_link_interval: Duration::from_millis(30),
            response_timeout: Duration::from_millis(400),
            // Long enough that the Down state is still visible when the test looks.
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_millis(500),
            ..config(&smsc)
        },
    )
    .await;

    let first = peer.recv().await;
    peer.send(Pdu::EnquireLinkResp {
        sequence_number: first.sequence_number(),
        command_status: 0,
    })
    .await;
    let second = peer.recv().await;
    let state = wait_for_state(&client, |state| matches!(state, LinkState::Down { .. })).await;
    peer.closed().await;
    let _reconnected = smsc.accept_bound().await;

    assert!(matches!(first, Pdu::EnquireLink { .. }), "{first:?}");
    assert!(matches!(second, Pdu::EnquireLink { .. }), "{second:?}");
    assert!(
        matches!(&state, LinkState::Down { reason } if reason.contains("enquire_link")),
        "{state:?}"
    );
    wait_for_state(&client, |state| *state == LinkState::Bound).await;
}

#[tokio::test]
async fn requests_an_esme_does_not_handle_get_generic_nack_and_the_link_stays_up() {
    let smsc = FakeSmsc::start().await;
    let (_client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;
    let unknown = |command_id, sequence_number, body: &'static [u8]| Pdu::Unknown {
        command_id,
        sequence_number,
        body: Bytes::from_static(body),
    };

    // query_sm (not modelled), an unassigned id, a bind sent to an ESME, a truncated deliver_sm,
    // and an unknown response, which must not be answered at all.
    peer.send(unknown(0x0000_0003, 11, b"1\0\0\0\0")).await;
    peer.send(unknown(0x0000_0999, 12, b"")).await;
    peer.send(Pdu::BindTransmitter {
        sequence_number: 13,
        body: smpp::Bind::default(),
    })
    .await;
    peer.send(unknown(command_id::DELIVER_SM, 14, b"\0")).await;
    peer.send(unknown(0x8000_0999, 15, b"")).await;
    peer.send(Pdu::EnquireLink {
        sequence_number: 16,
    })
    .await;
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(peer.recv().await);
    }

    let nack = |sequence_number, command_status| Pdu::GenericNack {
        sequence_number,
        command_status,
    };
    assert_eq!(
        answers,
        vec![
            nack(11, command_status::ESME_RINVCMDID),
            nack(12, command_status::ESME_RINVCMDID),
            nack(13, command_status::ESME_RINVCMDID),
            nack(14, command_status::ESME_RINVCMDLEN),
            Pdu::EnquireLinkResp {
                sequence_number: 16,
                command_status: 0
            },
        ]
    );
}

#[tokio::test]
async fn peer_that_floods_enquire_link_without_reading_is_disconnected_instead_of_queued_for() {
    // Far more answers than the kernel's socket buffers and the client's write queue can hold together.
    const FLOOD: u32 = 4_000_000;
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, peer) = bound_client(
        &smsc,
        ClientConfig {
            // Long enough that the Down state is still visible when the test looks.
            reconnect_min: Duration::from_secs(5),
            reconnect_max: Duration::from_secs(5),
            ..config(&smsc)
        },
    )
    .await;

    let sent = tokio::time::timeout(Duration::from_secs(30), peer.flood_enquire_link(FLOOD))
        .await
        .expect("flood neither finished nor was cut off in time");
    let state = wait_for_state(&client, |state| matches!(state, LinkState::Down { .. })).await;

    assert!(sent < FLOOD, "the client read all {FLOOD} enquire_link");
    assert!(
        matches!(&state, LinkState::Down { reason } if reason.contains("not reading")),
        "{state:?}"
    );
}
