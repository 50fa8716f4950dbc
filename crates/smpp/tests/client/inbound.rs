//! deliver_sm and data_sm from the SMSC: delivery on the channel and answers through the Responder.

use smpp::{
    ClientConfig, DataSm, DataSmResp, DeliverSm, DeliverSmResp, Inbound, InboundRequest, Pdu,
    command_status,
};
use tokio::sync::mpsc;

use crate::fake_smsc::{DEADLINE, FakeSmsc, bound_client, config, submit_sm, submit_sm_resp};

async fn next_inbound(inbound: &mut mpsc::Receiver<Inbound>) -> Inbound {
    tokio::time::timeout(DEADLINE, inbound.recv())
        .await
        .expect("no inbound request in time")
        .expect("inbound channel closed")
}

fn receipt(id: &str) -> DeliverSm {
    DeliverSm {
        esm_class: 0x04,
        short_message: format!("id:{id} stat:DELIVRD err:000").into_bytes().into(),
        ..DeliverSm::default()
    }
}

fn deliver_sm_resp(sequence_number: u32, command_status: u32) -> Pdu {
    Pdu::DeliverSmResp {
        sequence_number,
        command_status,
        body: DeliverSmResp::default(),
    }
}

#[tokio::test]
async fn deliver_sm_arrives_and_acks_answer_with_the_same_sequence_numbers_in_any_order() {
    let smsc = FakeSmsc::start().await;
    let (_client, mut inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;

    for (sequence_number, id) in [(10, "A"), (11, "B")] {
        peer.send(Pdu::DeliverSm {
            sequence_number,
            body: receipt(id),
        })
        .await;
    }
    let first = next_inbound(&mut inbound).await;
    let second = next_inbound(&mut inbound).await;
    assert_eq!(first.request, InboundRequest::DeliverSm(receipt("A")));
    assert_eq!(second.request, InboundRequest::DeliverSm(receipt("B")));
    second.responder.ack();
    first.responder.reject(command_status::ESME_RX_T_APPN);

    assert_eq!(peer.recv().await, deliver_sm_resp(11, 0));
    assert_eq!(peer.recv().await, deliver_sm_resp(10, 0x64));
}

#[tokio::test]
async fn data_sm_is_delivered_and_acked_with_an_empty_message_id() {
    let smsc = FakeSmsc::start().await;
    let (_client, mut inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;
    let data_sm = DataSm {
        esm_class: 0x04,
        ..DataSm::default()
    };

    peer.send(Pdu::DataSm {
        sequence_number: 20,
        body: data_sm.clone(),
    })
    .await;
    let request = next_inbound(&mut inbound).await;
    assert_eq!(request.request, InboundRequest::DataSm(data_sm));
    request.responder.ack();

    assert_eq!(
        peer.recv().await,
        Pdu::DataSmResp {
            sequence_number: 20,
            command_status: 0,
            body: DataSmResp::default()
        }
    );
}

#[tokio::test]
async fn dropped_responder_answers_esme_rx_t_appn_so_the_smsc_retries() {
    let smsc = FakeSmsc::start().await;
    let (_client, mut inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;

    peer.send(Pdu::DeliverSm {
        sequence_number: 30,
        body: receipt("C"),
    })
    .await;
    drop(next_inbound(&mut inbound).await);

    assert_eq!(peer.recv().await, deliver_sm_resp(30, 0x64));
}

#[tokio::test]
async fn full_inbound_channel_answers_extra_requests_with_esme_rx_t_appn_and_keeps_reading_responses()
 {
    let smsc = FakeSmsc::start().await;
    let (client, mut inbound, mut peer) = bound_client(
        &smsc,
        ClientConfig {
            inbound_capacity: 1,
            ..config(&smsc)
        },
    )
    .await;
    let submit = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("behind the receipts")).await }
    });
    let submit_sequence = peer.recv().await.sequence_number();

    // Nobody reads the channel yet: the first receipt fills it, the other four do not fit.
    for sequence_number in 40..45 {
        peer.send(Pdu::DeliverSm {
            sequence_number,
            body: receipt(&sequence_number.to_string()),
        })
        .await;
    }
    peer.send(submit_sm_resp(submit_sequence, 0, "M-5")).await;
    let mut answers = Vec::new();
    for _ in 41..45 {
        answers.push(peer.recv().await);
    }
    let response = tokio::time::timeout(DEADLINE, submit)
        .await
        .expect("submit not answered in time")
        .expect("submit task");
    let consumed = next_inbound(&mut inbound).await;
    let sequence_number = consumed.responder.sequence_number();
    consumed.responder.ack();
    let ack = peer.recv().await;

    assert_eq!(response.map(|r| r.message_id), Ok("M-5".to_owned()));
    let rejected: Vec<Pdu> = (41..45)
        .map(|sequence_number| deliver_sm_resp(sequence_number, command_status::ESME_RX_T_APPN))
        .collect();
    assert_eq!(answers, rejected);
    assert_eq!(sequence_number, 40);
    assert_eq!(ack, deliver_sm_resp(40, 0));
    assert!(
        inbound.try_recv().is_err(),
        "a rejected request was delivered too"
    );
}
