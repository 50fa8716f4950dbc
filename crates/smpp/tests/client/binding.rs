//! Bind, bind failure and retry, the peer's unbind, and shutdown.

use std::time::Duration;

use smpp::{BindMode, Client, ClientConfig, LinkState, Pdu, SubmitError};

use crate::fake_smsc::{FakeSmsc, bound_client, config, submit_sm, submit_sm_resp, wait_for_state};

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
async fn shutdown_unbinds_lets_in_flight_submits_finish_and_then_refuses_submits() {
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
    let unbind = peer.recv().await;
    peer.send(submit_sm_resp(submit.sequence_number(), 0, "M-1"))
        .await;
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
