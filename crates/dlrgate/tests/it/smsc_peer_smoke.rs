//! Smoke tests of the npm SMSC peer (`tests/smpp/smsc-peer.mjs`) and its driver
//! ([`crate::helpers::smsc_peer`]), with a bare ESME written here on the workspace `smpp` crate's
//! codec, so each test sees exactly the PDUs the peer sends. Loopback only; every wait has a deadline.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use smpp::{DeliverSmResp, Pdu, SmppCodec};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use crate::helpers::raw_esme::{BindAs, DEADLINE, Esme, receipted_id};
use crate::helpers::smsc_peer::{Receipt, SmscPeer};

#[tokio::test]
async fn bind_checks_system_id_and_password() {
    let peer = SmscPeer::start_with(json!({"system_id": "dlrgate", "password": "secret"})).await;

    let mut wrong_password = Esme::connect(&peer).await;
    assert_eq!(
        wrong_password
            .bind(BindAs::Transceiver, "dlrgate", "nope")
            .await,
        0x0E
    );
    let mut wrong_system = Esme::connect(&peer).await;
    assert_eq!(
        wrong_system
            .bind(BindAs::Transmitter, "other", "secret")
            .await,
        0x0F
    );
    let mut right = Esme::connect(&peer).await;
    assert_eq!(right.bind(BindAs::Receiver, "dlrgate", "secret").await, 0);

    let binds = peer.wait_bound(1, DEADLINE).await;
    assert_eq!(binds.len(), 3);
    assert_eq!(binds[0].bind_status, Some(0x0E));
    assert!(!binds[0].bound);
    assert_eq!(binds[1].command.as_deref(), Some("bind_transmitter"));
    assert_eq!(binds[1].bind_status, Some(0x0F));
    assert_eq!(binds[2].command.as_deref(), Some("bind_receiver"));
    assert_eq!(binds[2].mode.as_deref(), Some("rx"));
    assert_eq!(binds[2].system_id.as_deref(), Some("dlrgate"));
    assert_eq!(binds[2].interface_version, Some(0x34));
    assert!(binds[2].bound);
}

#[tokio::test]
async fn submits_get_ids_in_the_configured_format_and_are_recorded() {
    let peer = SmscPeer::start().await;
    let mut esme = Esme::bound(&peer).await;

    let (status, hex_id) = esme.submit_and_wait("hello hex").await;
    assert_eq!(status, 0);
    assert!(
        !hex_id.is_empty() && hex_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{hex_id}"
    );

    peer.config(json!({"submit_id_format": "decimal"})).await;
    let (_, decimal_id) = esme.submit_and_wait("hello decimal").await;
    assert!(
        decimal_id.chars().all(|c| c.is_ascii_digit()),
        "{decimal_id}"
    );

    peer.config(json!({"submit_id_format": "uuid"})).await;
    let (_, uuid_id) = esme.submit_and_wait("hello uuid").await;
    assert_eq!(uuid_id.len(), 36, "{uuid_id}");
    assert_eq!(uuid_id.matches('-').count(), 4, "{uuid_id}");

    let submits = peer.wait_submits(3, DEADLINE).await;
    let ids: Vec<_> = submits.iter().map(|s| s.message_id.clone()).collect();
    assert_eq!(ids, [Some(hex_id), Some(decimal_id), Some(uuid_id)]);
    let first = &submits[0];
    assert_eq!(first.command, "submit_sm");
    assert_eq!(first.command_status, Some(0));
    assert_eq!(first.source_addr, "dlrgate");
    assert_eq!(first.source_addr_ton, 5);
    assert_eq!(first.destination_addr, "491701234567");
    assert_eq!((first.dest_addr_ton, first.dest_addr_npi), (1, 1));
    assert_eq!(first.registered_delivery, 0x01);
    assert_eq!(first.short_message(), b"hello hex");
    assert_eq!(first.text, "hello hex");
    assert_eq!(first.session, submits[2].session);
}

#[tokio::test]
async fn auto_receipt_carries_tlvs_and_appendix_b_text() {
    let peer = SmscPeer::start_with(json!({
        "auto_receipt": {"stat": "UNDELIV", "message_state": 5, "err": "001"},
    }))
    .await;
    let mut esme = Esme::bound(&peer).await;

    let (status, id) = esme
        .submit_and_wait("a text longer than twenty characters")
        .await;
    assert_eq!(status, 0);
    let (esm_class, tlvs, text) = esme.receipt(0).await;
    assert_eq!(esm_class & 0x3C, 0x04);
    assert_eq!(receipted_id(&tlvs), id);
    assert_eq!(tlvs.message_state(), Some(5));
    assert!(
        text.starts_with(&format!("id:{id} sub:001 dlvrd:000 submit date:")),
        "{text}"
    );
    assert!(
        text.contains(" stat:UNDELIV err:001 text:a text longer than t"),
        "{text}"
    );
    let date = text
        .split("done date:")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("a done date");
    assert_eq!(date.len(), 10, "YYMMDDhhmm: {text}");

    let delivered = peer.wait_delivered_answered(1, DEADLINE).await;
    assert_eq!(delivered[0].kind, "auto");
    assert_eq!(delivered[0].id, id);
    assert_eq!(delivered[0].command_status, Some(0));
}

#[tokio::test]
async fn receipt_ids_can_be_in_the_other_format_with_intermediate_and_duplicates() {
    let peer = SmscPeer::start_with(json!({
        "submit_id_format": "hex",
        "auto_receipt": {"id_format": "decimal", "text": false},
        "intermediate": true,
        "duplicates": 1,
    }))
    .await;
    let mut esme = Esme::bound(&peer).await;

    let sequence_number = esme.submit("with intermediate", 0x11).await;
    let (_, hex_id) = esme.submit_resp(sequence_number).await;
    let decimal = u64::from_str_radix(&hex_id, 16)
        .expect("a hex id")
        .to_string();

    let (esm_class, tlvs, _) = esme.receipt(0).await;
    assert_eq!(esm_class, 0x20);
    assert_eq!(tlvs.message_state(), Some(1));
    for _ in 0..2 {
        let (esm_class, tlvs, text) = esme.receipt(0).await;
        assert_eq!(esm_class, 0x04);
        assert_eq!(receipted_id(&tlvs), decimal);
        assert_eq!(tlvs.message_state(), Some(2));
        assert!(text.is_empty(), "TLVs only: {text:?}");
    }
    let kinds: Vec<_> = peer
        .wait_delivered_answered(3, DEADLINE)
        .await
        .into_iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, ["intermediate", "auto", "duplicate"]);
}

#[tokio::test]
async fn receipt_can_come_before_the_submit_response() {
    let peer = SmscPeer::start_with(json!({
        "auto_receipt": {"stat": "DELIVRD", "message_state": 2},
        "receipt_before_response": true,
    }))
    .await;
    let mut esme = Esme::bound(&peer).await;

    let sequence_number = esme.submit("early", 0x01).await;
    let (_, tlvs, text) = esme.receipt(0).await;
    let early_id = receipted_id(&tlvs);
    assert!(text.contains("stat:DELIVRD"), "{text}");
    let (status, id) = esme.submit_resp(sequence_number).await;
    assert_eq!(status, 0);
    assert_eq!(early_id, id);
}

#[tokio::test]
async fn throttle_and_error_answers_count_down() {
    let peer = SmscPeer::start_with(json!({
        "throttle_next": 2,
        "error_next": {"count": 1, "status": 0x0B},
    }))
    .await;
    let mut esme = Esme::bound(&peer).await;

    let mut statuses = Vec::new();
    for n in 0..4 {
        let (status, id) = esme.submit_and_wait(&format!("try {n}")).await;
        assert_eq!(id.is_empty(), status != 0);
        statuses.push(status);
    }
    assert_eq!(statuses, [0x58, 0x58, 0x0B, 0]);

    let submits = peer.wait_submits(4, DEADLINE).await;
    let recorded: Vec<_> = submits.iter().map(|s| s.command_status).collect();
    assert_eq!(recorded, [Some(0x58), Some(0x58), Some(0x0B), Some(0)]);
    assert!(submits[..3].iter().all(|s| s.message_id.is_none()));
    assert!(submits[3].message_id.is_some());
}

#[tokio::test]
async fn deliver_via_data_sm_with_network_error_code() {
    let peer = SmscPeer::start().await;
    let mut esme = Esme::bound(&peer).await;
    let session = peer.wait_bound(1, DEADLINE).await[0].session;

    let outcome = peer
        .deliver(
            &Receipt::new("168F")
                .state("UNDELIV", 5)
                .err("001")
                .network_error(3, 1)
                .via_data_sm(),
        )
        .await;
    assert!(!outcome.queued);
    assert_eq!(outcome.session, Some(session));

    match esme.recv_some().await {
        Pdu::DataSm {
            sequence_number,
            body,
        } => {
            assert_eq!(Some(sequence_number), outcome.sequence_number);
            assert_eq!(body.esm_class, 0x04);
            assert_eq!(receipted_id(&body.tlvs), "168F");
            assert_eq!(body.tlvs.message_state(), Some(5));
            let nec = body.tlvs.network_error_code().expect("network_error_code");
            assert_eq!((nec.network_type, nec.error_code), (3, 1));
            let text =
                String::from_utf8_lossy(body.tlvs.message_payload().expect("payload")).into_owned();
            assert!(text.starts_with("id:168F sub:001 dlvrd:000"), "{text}");
            assert!(text.contains("stat:UNDELIV err:001"), "{text}");
            esme.send(Pdu::DataSmResp {
                sequence_number,
                command_status: 0x64,
                body: DeliverSmResp::default(),
            })
            .await;
        }
        other => panic!("expected data_sm, got {other:?}"),
    }
    let delivered = peer.wait_delivered_answered(1, DEADLINE).await;
    assert_eq!(delivered[0].via, "data_sm");
    assert_eq!(delivered[0].command_status, Some(0x64));
}

#[tokio::test]
async fn held_receipts_go_out_on_release_and_queued_ones_on_bind() {
    let peer = SmscPeer::start_with(json!({
        "auto_receipt": {"stat": "DELIVRD", "message_state": 2},
        "hold_receipts": true,
    }))
    .await;
    let mut esme = Esme::connect(&peer).await;
    assert_eq!(esme.bind(BindAs::Transmitter, "dlrgate", "secret").await, 0);
    let (_, id) = esme.submit_and_wait("held").await;

    let pending = peer.pending().await;
    assert_eq!((pending.held.len(), pending.queued.len()), (1, 0));
    assert!(peer.delivered().await.is_empty());

    // Released while only a transmitter is bound: the receipt waits for an RX/TRX bind.
    let outcomes = peer.release().await;
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes[0].queued);
    assert_eq!(peer.pending().await.queued.len(), 1);

    let mut receiver = Esme::connect(&peer).await;
    assert_eq!(
        receiver.bind(BindAs::Receiver, "dlrgate", "secret").await,
        0
    );
    let (_, tlvs, _) = receiver.receipt(0).await;
    assert_eq!(receipted_id(&tlvs), id);
    let delivered = peer.wait_delivered_answered(1, DEADLINE).await;
    let receiver_session = peer.binds().await[1].session;
    assert_eq!(delivered[0].session, receiver_session);
}

#[tokio::test]
async fn drop_closes_connections_and_drop_after_submits_too() {
    let peer = SmscPeer::start().await;
    let mut esme = Esme::bound(&peer).await;
    peer.wait_bound(1, DEADLINE).await;

    assert_eq!(peer.drop_connections().await.len(), 1);
    assert!(esme.recv().await.is_none(), "the peer closed the link");
    peer.wait_binds("the session closed", DEADLINE, |b| b[0].closed)
        .await;

    peer.config(json!({"drop_after_submits": 2})).await;
    let mut esme = Esme::bound(&peer).await;
    assert_eq!(esme.submit_and_wait("one").await.0, 0);
    assert_eq!(esme.submit_and_wait("two").await.0, 0);
    assert!(
        esme.recv().await.is_none(),
        "closed after the second submit"
    );
    assert!(peer.current_config().await["drop_after_submits"].is_null());
}

#[tokio::test]
async fn peer_enquire_link_is_recorded_when_answered() {
    let peer = SmscPeer::start().await;
    let mut esme = Esme::bound(&peer).await;
    let session = peer.wait_bound(1, DEADLINE).await[0].session;

    assert_eq!(peer.enquire_link().await, [session]);
    match esme.recv_some().await {
        Pdu::EnquireLink { sequence_number } => {
            esme.send(Pdu::EnquireLinkResp {
                sequence_number,
                command_status: 0,
            })
            .await;
        }
        other => panic!("expected enquire_link, got {other:?}"),
    }
    peer.wait_binds("an answered enquire_link", DEADLINE, |b| {
        b[0].enquire_link_answered == 1
    })
    .await;
}

#[tokio::test]
async fn no_response_next_swallows_submits() {
    let peer = SmscPeer::start_with(json!({"no_response_next": 1})).await;
    let mut esme = Esme::bound(&peer).await;

    let swallowed = esme.submit("lost", 0x01).await;
    let (status, _) = esme.submit_and_wait("answered").await;
    assert_eq!(status, 0);
    let submits = peer.wait_submits(2, DEADLINE).await;
    assert_eq!(submits[0].sequence_number, swallowed);
    assert!(!submits[0].answered);
    assert_eq!(submits[0].command_status, None);
    assert!(submits[1].answered);
}

#[tokio::test]
async fn unacked_receipts_are_redelivered_when_asked() {
    let peer = SmscPeer::start_with(json!({"redeliver_unacked": true})).await;
    let mut esme = Esme::bound(&peer).await;
    peer.wait_bound(1, DEADLINE).await;

    // Answered with ESME_RX_T_APPN: sent again.
    peer.deliver(&Receipt::new("A1")).await;
    let (_, tlvs, _) = esme.receipt(0x64).await;
    assert_eq!(receipted_id(&tlvs), "A1");
    let (_, tlvs, _) = esme.receipt(0).await;
    assert_eq!(receipted_id(&tlvs), "A1");

    // Left unanswered when the link dropped: sent again on the next bind.
    peer.deliver(&Receipt::new("B2")).await;
    match esme.recv_some().await {
        Pdu::DeliverSm { .. } => {}
        other => panic!("expected deliver_sm, got {other:?}"),
    }
    peer.drop_connections().await;
    assert!(esme.recv().await.is_none());
    let mut again = Esme::bound(&peer).await;
    let (_, tlvs, _) = again.receipt(0).await;
    assert_eq!(receipted_id(&tlvs), "B2");

    let delivered = peer
        .wait_delivered_where("B2 answered on the new link", DEADLINE, |d| {
            d.len() == 4 && d[3].command_status.is_some()
        })
        .await;
    let attempts: Vec<_> = delivered
        .iter()
        .map(|d| (d.id.as_str(), d.attempt, d.command_status))
        .collect();
    assert_eq!(
        attempts,
        [
            ("A1", 1, Some(0x64)),
            ("A1", 2, Some(0)),
            ("B2", 1, None),
            ("B2", 2, Some(0)),
        ]
    );
}

#[tokio::test]
async fn garbage_on_the_wire_does_not_take_the_peer_down() {
    use tokio::io::AsyncWriteExt;

    let peer = SmscPeer::start().await;
    let garbage: [&[u8]; 3] = [
        // command_length far beyond any PDU
        &[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0],
        // a submit_sm whose body is one unterminated string
        &[
            0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 7, b'a', b'b', b'c', b'd',
        ],
        // an unknown command_id, which gets generic_nack
        &[0, 0, 0, 16, 0, 0, 0x99, 0x99, 0, 0, 0, 0, 0, 0, 0, 8],
    ];
    for bytes in garbage {
        let mut stream = TcpStream::connect(peer.smpp_addr())
            .await
            .expect("the peer accepts TCP");
        stream.write_all(bytes).await.expect("written");
        let mut framed = Framed::new(stream, SmppCodec);
        // Whatever comes back (an answer or a close) is fine, as long as it comes.
        let _ = tokio::time::timeout(Duration::from_millis(300), framed.next()).await;
    }

    let mut esme = Esme::bound(&peer).await;
    assert_eq!(esme.submit_and_wait("still alive").await.0, 0);
    assert!(peer.binds().await.len() >= 4);
}
