//! Bind, bind failure and retry, the peer's unbind, and shutdown.

use std::collections::VecDeque;
use std::time::Duration;

use smpp::{BindMode, Client, ClientConfig, LinkState, Pdu, SubmitError, SubmitResponse};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::fake_smsc::{
    DEADLINE, FakeSmsc, Peer, bound_client, config, submit_sm, submit_sm_resp, wait_for_state,
};

#[tokio::test]
async fn transceiver_bind_carries_the_configured_credentials() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound) = Client::spawn(ClientConfig {
        system_type: "dlr".to_owned(),
        ..config(&smsc)
    });

    let mut peer = smsc.accept().await;
    let bind = peer.recv().await;
    peer.answer_bind(&bind, 0).await;

    let Pdu::BindTransceiver {
        sequence_number,
        body,
    } = bind
    else {
        panic!("expected bind_transceiver, got {bind:?}");
    };
    assert_eq!(sequence_number, 1);
    assert_eq!(body.system_id.to_str(), Some("dlrgate"));
    assert_eq!(body.password.to_str(), Some("secret"));
    assert_eq!(body.system_type.to_str(), Some("dlr"));
    assert_eq!(body.interface_version, 0x34);
    wait_for_state(&client, |state| *state == LinkState::Bound).await;
}

#[tokio::test]
async fn each_bind_mode_sends_its_own_bind_request() {
    for (mode, expected) in [
        (BindMode::Transmitter, smpp::command_id::BIND_TRANSMITTER),
        (BindMode::Receiver, smpp::command_id::BIND_RECEIVER),
    ] {
        let smsc = FakeSmsc::start().await;
        let (client, _inbound) = Client::spawn(ClientConfig {
            mode,
            ..config(&smsc)
        });

        let mut peer = smsc.accept().await;
        let bind = peer.recv().await;
        peer.answer_bind(&bind, 0).await;

        assert_eq!(bind.command_id(), expected, "{mode:?}");
        wait_for_state(&client, |state| *state == LinkState::Bound).await;
    }
}

#[tokio::test]
async fn rejected_bind_is_reported_and_retried_after_back_off() {
    let smsc = FakeSmsc::start().await;
    // A back-off long enough that the Down state is still visible when the test looks.
    let (client, _inbound) = Client::spawn(ClientConfig {
        reconnect_min: Duration::from_millis(500),
        reconnect_max: Duration::from_millis(500),
        ..config(&smsc)
    });

    let mut first = smsc.accept().await;
    let bind = first.recv().await;
    first.answer_bind(&bind, 0x0000_000E).await;
    let state = wait_for_state(&client, |state| matches!(state, LinkState::Down { .. })).await;
    first.closed().await;
    let second = smsc.accept_bound().await;

    assert!(
        matches!(&state, LinkState::Down { reason } if reason.contains("0x0000000e")),
        "{state:?}"
    );
    wait_for_state(&client, |state| *state == LinkState::Bound).await;
    drop(second);
}

#[tokio::test]
async fn unbind_from_the_smsc_is_answered_and_the_client_reconnects() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;

    peer.send(Pdu::Unbind {
        sequence_number: 42,
    })
    .await;
    let answer = peer.recv().await;
    let after = peer.closed().await;
    let _second = smsc.accept_bound().await;

    assert_eq!(
        answer,
        Pdu::UnbindResp {
            sequence_number: 42,
            command_status: 0
        }
    );
    assert!(after.is_empty(), "{after:?}");
    wait_for_state(&client, |state| *state == LinkState::Bound).await;
}

#[tokio::test]
async fn shutdown_lets_in_flight_submits_finish_then_unbinds_and_refuses_submits() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("last")).await }
    });
    let submit = peer.recv().await;

    let shutdown = tokio::spawn({
        let client = client.clone();
        async move { client.shutdown().await }
    });
    peer.send(submit_sm_resp(submit.sequence_number(), 0, "M-1"))
        .await;
    let unbind = peer.recv().await;
    peer.send(Pdu::UnbindResp {
        sequence_number: unbind.sequence_number(),
        command_status: 0,
    })
    .await;
    shutdown.await.expect("shutdown task");

    assert!(matches!(unbind, Pdu::Unbind { .. }), "{unbind:?}");
    let response = in_flight.await.expect("submit task").expect("response");
    assert_eq!(response.message_id, "M-1");
    assert_eq!(*client.state().borrow(), LinkState::Closed);
    assert_eq!(
        client.submit(submit_sm("too late")).await,
        Err(SubmitError::Closed)
    );
    assert!(peer.closed().await.is_empty());
}

/// An SMSC that answers `unbind` the moment it arrives but each `submit_sm` only `delay` after it, and
/// returns what crossed the wire, in order, once the client has closed the connection. `submitted` are
/// the submits already received when it takes over.
async fn serve_submits_slowly_and_unbind_at_once(
    mut peer: Peer,
    submitted: Vec<u32>,
    delay: Duration,
) -> Vec<String> {
    let mut due: VecDeque<(Instant, u32)> = submitted
        .iter()
        .map(|&sequence_number| (Instant::now() + delay, sequence_number))
        .collect();
    let mut wire = Vec::new();
    loop {
        let wait = due.front().map_or(DEADLINE, |&(at, _)| {
            at.saturating_duration_since(Instant::now())
        });
        let pdu = match peer.recv_or_closed_within(wait).await {
            Err(()) => return wire,
            Ok(Some(pdu)) => pdu,
            Ok(None) => {
                let (_, sequence_number) = due.pop_front().expect("client fell silent");
                wire.push(format!("submit_sm_resp {sequence_number}"));
                let id = format!("M-{sequence_number}");
                let _ = peer.try_send(submit_sm_resp(sequence_number, 0, &id)).await;
                continue;
            }
        };
        let sequence_number = pdu.sequence_number();
        match pdu {
            Pdu::SubmitSm { .. } => {
                wire.push(format!("submit_sm {sequence_number}"));
                due.push_back((Instant::now() + delay, sequence_number));
            }
            Pdu::Unbind { .. } => {
                wire.push(format!("unbind {sequence_number}"));
                let unbind_resp = Pdu::UnbindResp {
                    sequence_number,
                    command_status: 0,
                };
                let _ = peer.try_send(unbind_resp).await;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn shutdown_waits_for_in_flight_submits_before_unbind_so_an_eager_unbind_resp_strands_none() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(
        &smsc,
        ClientConfig {
            window: 3,
            ..config(&smsc)
        },
    )
    .await;
    let mut submits = JoinSet::new();
    for i in 0..4 {
        let client = client.clone();
        submits.spawn(async move { (i, client.submit(submit_sm(&format!("m{i}"))).await) });
    }
    // The window holds three; the fourth waits for a slot that only frees up after shutdown began.
    let mut submitted = Vec::new();
    for _ in 0..3 {
        submitted.push(peer.recv().await.sequence_number());
    }
    let smsc_side = tokio::spawn(serve_submits_slowly_and_unbind_at_once(
        peer,
        submitted.clone(),
        Duration::from_millis(200),
    ));

    tokio::time::timeout(DEADLINE, client.shutdown())
        .await
        .expect("shutdown did not finish");
    let mut results = submits.join_all().await;
    results.sort_by_key(|(i, _)| *i);
    let wire = smsc_side.await.expect("smsc task");

    let answered: Vec<_> = results[..3]
        .iter()
        .map(|(_, result)| result.clone())
        .collect();
    let expected: Vec<_> = submitted
        .iter()
        .map(|sequence_number| {
            Ok(SubmitResponse {
                command_status: 0,
                message_id: format!("M-{sequence_number}"),
            })
        })
        .collect();
    assert_eq!(answered, expected);
    assert_eq!(results[3].1, Err(SubmitError::Closed));
    let unbind_sequence = submitted.iter().max().map_or(0, |last| last + 1);
    let mut expected_wire: Vec<String> = submitted
        .iter()
        .map(|sequence_number| format!("submit_sm_resp {sequence_number}"))
        .collect();
    expected_wire.push(format!("unbind {unbind_sequence}"));
    assert_eq!(wire, expected_wire);
    assert_eq!(*client.state().borrow(), LinkState::Closed);
}

#[tokio::test]
async fn shutdown_finishes_when_the_smsc_never_answers_unbind() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(
        &smsc,
        ClientConfig {
            response_timeout: Duration::from_millis(100),
            ..config(&smsc)
        },
    )
    .await;
    let in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("unanswered")).await }
    });
    let _submit = peer.recv().await;

    client.shutdown().await;

    assert!(matches!(peer.recv().await, Pdu::Unbind { .. }));
    assert_eq!(
        in_flight.await.expect("submit task"),
        Err(SubmitError::InDoubt)
    );
    assert_eq!(*client.state().borrow(), LinkState::Closed);
}

#[tokio::test]
async fn shutdown_while_the_bind_is_unanswered_closes_without_waiting_for_it() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound) = Client::spawn(config(&smsc));
    let mut peer = smsc.accept().await;
    let _bind = peer.recv().await;

    tokio::time::timeout(crate::fake_smsc::DEADLINE, client.shutdown())
        .await
        .expect("shutdown did not finish");

    assert_eq!(*client.state().borrow(), LinkState::Closed);
    assert!(peer.closed().await.is_empty());
}

#[tokio::test]
async fn dropping_every_handle_unbinds_and_stops_the_client() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;
    let mut state = client.state();

    drop(client);
    let unbind = peer.recv().await;
    peer.send(Pdu::UnbindResp {
        sequence_number: unbind.sequence_number(),
        command_status: 0,
    })
    .await;

    assert!(matches!(unbind, Pdu::Unbind { .. }), "{unbind:?}");
    assert!(peer.closed().await.is_empty());
    // An error from `wait_for` means the supervisor is gone; its last word is still readable.
    let _ = tokio::time::timeout(
        crate::fake_smsc::DEADLINE,
        state.wait_for(|state| *state == LinkState::Closed),
    )
    .await
    .expect("not closed in time");
    assert_eq!(*state.borrow(), LinkState::Closed);
}
