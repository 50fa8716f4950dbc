//! submit_sm: the window, pipelining, matching by sequence number, timeouts and lost connections.

use std::time::Duration;

use smpp::{ClientConfig, LinkState, Pdu, SubmitError, SubmitResponse};
use tokio::task::JoinSet;

use crate::fake_smsc::{
    FakeSmsc, Peer, bound_client, config, submit_sm, submit_sm_resp, wait_for_state,
};

/// Receives one `submit_sm` and returns its sequence number and text.
async fn recv_submit(peer: &mut Peer) -> (u32, String) {
    match peer.recv().await {
        Pdu::SubmitSm {
            sequence_number,
            body,
        } => (
            sequence_number,
            String::from_utf8_lossy(&body.short_message).into_owned(),
        ),
        other => panic!("expected submit_sm, got {other:?}"),
    }
}

#[tokio::test]
async fn pipelined_submits_stay_within_the_window_and_match_responses_out_of_order() {
    const WINDOW: usize = 5;
    const TOTAL: usize = 40;
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(
        &smsc,
        ClientConfig {
            window: WINDOW,
            ..config(&smsc)
        },
    )
    .await;
    let mut submits = JoinSet::new();
    for i in 0..TOTAL {
        let client = client.clone();
        submits.spawn(async move { (i, client.submit(submit_sm(&format!("m{i}"))).await) });
    }

    // The fake SMSC answers only when the window is full, newest first, and counts what is outstanding.
    let mut outstanding = Vec::new();
    let mut answered = 0;
    while answered < TOTAL {
        outstanding.push(recv_submit(&mut peer).await);
        assert!(outstanding.len() <= WINDOW, "window exceeded");
        if outstanding.len() < WINDOW {
            continue;
        }
        if answered == 0 {
            let extra = peer.recv_within(Duration::from_millis(50)).await;
            assert!(extra.is_none(), "sent beyond the window: {extra:?}");
        }
        for (sequence_number, text) in outstanding.drain(..).rev() {
            peer.send(submit_sm_resp(sequence_number, 0, &format!("id-{text}")))
                .await;
            answered += 1;
        }
    }

    let results = submits.join_all().await;
    assert_eq!(results.len(), TOTAL);
    for (i, result) in results {
        assert_eq!(
            result,
            Ok(SubmitResponse {
                command_status: 0,
                message_id: format!("id-m{i}")
            })
        );
    }
}

#[tokio::test]
async fn thousands_of_submits_are_pipelined_over_one_connection() {
    const TOTAL: usize = 5000;
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(
        &smsc,
        ClientConfig {
            window: 100,
            ..config(&smsc)
        },
    )
    .await;
    let smsc_task = tokio::spawn(async move {
        for _ in 0..TOTAL {
            let (sequence_number, text) = recv_submit(&mut peer).await;
            peer.send(submit_sm_resp(sequence_number, 0, &text)).await;
        }
        peer
    });

    let mut submits = JoinSet::new();
    for i in 0..TOTAL {
        let client = client.clone();
        submits.spawn(async move { client.submit(submit_sm(&i.to_string())).await });
    }
    let results = tokio::time::timeout(Duration::from_secs(30), submits.join_all())
        .await
        .expect("submits did not finish in time");

    assert!(results.iter().all(|result| result.is_ok()));
    smsc_task.await.expect("smsc task");
}

#[tokio::test]
async fn submit_while_reconnecting_is_not_bound_and_works_once_bound_again() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, peer) = bound_client(&smsc, config(&smsc)).await;

    drop(peer);
    wait_for_state(&client, |state| *state != LinkState::Bound).await;
    let while_down = client.submit(submit_sm("early")).await;
    let mut peer = smsc.accept_bound().await;
    wait_for_state(&client, |state| *state == LinkState::Bound).await;
    let submit = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("later")).await }
    });
    let (sequence_number, _) = recv_submit(&mut peer).await;
    peer.send(submit_sm_resp(sequence_number, 0, "M-2")).await;

    assert_eq!(while_down, Err(SubmitError::NotBound));
    assert_eq!(
        submit.await.expect("submit task").map(|r| r.message_id),
        Ok("M-2".to_owned())
    );
}

#[tokio::test]
async fn unanswered_submit_is_in_doubt_after_the_timeout_and_frees_its_window_slot() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(
        &smsc,
        ClientConfig {
            window: 1,
            response_timeout: Duration::from_millis(100),
            ..config(&smsc)
        },
    )
    .await;

    let first = client.submit(submit_sm("ignored")).await;
    let (ignored_sequence, _) = recv_submit(&mut peer).await;
    let second = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("answered")).await }
    });
    let (sequence_number, _) = recv_submit(&mut peer).await;
    // A late answer to the timed-out submit is ignored; the current one is matched.
    peer.send(submit_sm_resp(ignored_sequence, 0, "LATE")).await;
    peer.send(submit_sm_resp(sequence_number, 0, "M-3")).await;

    assert_eq!(first, Err(SubmitError::InDoubt));
    assert_ne!(ignored_sequence, sequence_number);
    assert_eq!(
        second.await.expect("submit task").map(|r| r.message_id),
        Ok("M-3".to_owned())
    );
}

#[tokio::test]
async fn connection_lost_with_submits_in_flight_makes_them_in_doubt_then_a_new_bind_works() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;
    let mut in_flight = JoinSet::new();
    for i in 0..3 {
        let client = client.clone();
        in_flight.spawn(async move { client.submit(submit_sm(&format!("lost{i}"))).await });
    }
    for _ in 0..3 {
        recv_submit(&mut peer).await;
    }

    drop(peer);
    let lost = in_flight.join_all().await;
    let mut peer = smsc.accept_bound().await;
    wait_for_state(&client, |state| *state == LinkState::Bound).await;
    let again = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("again")).await }
    });
    let (sequence_number, text) = recv_submit(&mut peer).await;
    peer.send(submit_sm_resp(sequence_number, 0, "M-4")).await;

    assert_eq!(lost, vec![Err(SubmitError::InDoubt); 3]);
    assert_eq!(text, "again");
    assert_eq!(
        again.await.expect("submit task").map(|r| r.message_id),
        Ok("M-4".to_owned())
    );
}

#[tokio::test]
async fn generic_nack_answers_a_submit_with_its_status_and_no_message_id() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;
    let submit = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("nacked")).await }
    });
    let (sequence_number, _) = recv_submit(&mut peer).await;

    peer.send(Pdu::GenericNack {
        sequence_number,
        command_status: 0x58,
    })
    .await;

    assert_eq!(
        submit.await.expect("submit task"),
        Ok(SubmitResponse {
            command_status: 0x58,
            message_id: String::new()
        })
    );
}

#[tokio::test]
async fn error_status_in_submit_sm_resp_is_returned_as_received() {
    let smsc = FakeSmsc::start().await;
    let (client, _inbound, mut peer) = bound_client(&smsc, config(&smsc)).await;
    let submit = tokio::spawn({
        let client = client.clone();
        async move { client.submit(submit_sm("bad destination")).await }
    });
    let (sequence_number, _) = recv_submit(&mut peer).await;

    peer.send(submit_sm_resp(sequence_number, 0x0B, "")).await;

    assert_eq!(
        submit.await.expect("submit task"),
        Ok(SubmitResponse {
            command_status: 0x0B,
            message_id: String::new()
        })
    );
}
