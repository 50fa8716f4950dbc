//! A pipelined load through a `crates/smpp` client: every message gets its response and its
//! receipt, every receipt is acknowledged, and the rate is printed (never asserted).

use std::time::Duration;

use dlrgate::smsc_sim::SimConfig;
use tokio::net::TcpStream;

use super::{sim, wait_for_stats};

/// How many messages the load check sends; `SMSC_SIM_LOAD=200000` makes it a throughput measurement
/// (run it with `--release -- --nocapture`). It asserts completeness, never speed.
fn load_count() -> u32 {
    std::env::var("SMSC_SIM_LOAD")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_of_a_pipelined_load_gets_its_response_and_receipt() {
    use futures_util::{FutureExt, SinkExt, StreamExt};
    use smpp::{Bind, Frame, Pdu, SmppCodec, SubmitSm, SubmitSmResp};

    let sim = sim(SimConfig::default()).await;
    let count = load_count();
    let stream = TcpStream::connect(sim.local_addr())
        .await
        .expect("connects");
    let mut framed = tokio_util::codec::Framed::new(stream, SmppCodec);
    let bind = Bind {
        system_id: "dlrgate".into(),
        password: "secret".into(),
        interface_version: 0x34,
        ..Bind::default()
    };
    framed
        .send(Pdu::BindTransceiver {
            sequence_number: 1,
            body: bind,
        })
        .await
        .expect("bind sent");
    let started = std::time::Instant::now();
    let (mut sent, mut responses, mut receipts) = (0u32, 0u32, 0u32);
    let mut answers = Vec::new();
    let run = async {
        while responses < count || receipts < count {
            while sent < count && sent - responses < 2_000 {
                sent += 1;
                let body = SubmitSm {
                    source_addr: "load".into(),
                    destination_addr: format!("49170{sent:07}1").as_str().into(),
                    registered_delivery: 1,
                    short_message: bytes::Bytes::from_static(b"load test"),
                    ..SubmitSm::default()
                };
                framed
                    .feed(Pdu::SubmitSm {
                        sequence_number: sent + 1,
                        body,
                    })
                    .await
                    .expect("feeds");
            }
            for answer in answers.drain(..) {
                framed.feed(answer).await.expect("feeds");
            }
            SinkExt::<Pdu>::flush(&mut framed).await.expect("flushes");
            let mut next = framed.next().await;
            loop {
                match next {
                    Some(Ok(Frame::Pdu(Pdu::SubmitSmResp {
                        command_status: 0, ..
                    }))) => responses += 1,
                    Some(Ok(Frame::Pdu(Pdu::DeliverSm {
                        sequence_number, ..
                    }))) => {
                        receipts += 1;
                        answers.push(Pdu::DeliverSmResp {
                            sequence_number,
                            command_status: 0,
                            body: SubmitSmResp::default(),
                        });
                    }
                    Some(Ok(Frame::Pdu(Pdu::BindTransceiverResp {
                        command_status: 0, ..
                    }))) => {}
                    other => panic!("unexpected {other:?}"),
                }
                match framed.next().now_or_never() {
                    Some(frame) => next = frame,
                    None => break,
                }
            }
        }
        for answer in answers.drain(..) {
            framed.feed(answer).await.expect("feeds");
        }
        SinkExt::<Pdu>::flush(&mut framed).await.expect("flushes");
    };
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("every response and receipt arrives");

    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "smsc-sim load: {count} submit_sm with receipts in {seconds:.2} s = {:.0} messages/s",
        f64::from(count) / seconds
    );
    wait_for_stats(&sim, "every receipt acknowledged", |s| {
        s.receipts_acknowledged == u64::from(count) && s.receipts_resent == 0
    })
    .await;
}
