//! Raw bytes against the simulator, for what no SMPP library sends: unknown commands, malformed
//! bodies and impossible lengths.

use std::time::Duration;

use dlrgate::smsc_sim::SimConfig;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{esme, events, sim};

/// A raw PDU: header plus body, built by hand so no SMPP library is involved.
fn raw_pdu(command_id: u32, sequence_number: u32, body: &[u8]) -> Vec<u8> {
    let mut pdu = Vec::new();
    pdu.extend_from_slice(&(16 + body.len() as u32).to_be_bytes());
    pdu.extend_from_slice(&command_id.to_be_bytes());
    pdu.extend_from_slice(&0u32.to_be_bytes());
    pdu.extend_from_slice(&sequence_number.to_be_bytes());
    pdu.extend_from_slice(body);
    pdu
}

async fn read_header(stream: &mut TcpStream) -> Option<(u32, u32, u32)> {
    let mut header = [0u8; 16];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut header))
        .await
        .expect("an answer within 5 s")
        .ok()?;
    let word =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let length = word(0) as usize;
    let mut body = vec![0u8; length.saturating_sub(16)];
    stream.read_exact(&mut body).await.ok()?;
    Some((word(4), word(8), word(12)))
}

#[tokio::test]
async fn unknown_and_malformed_pdus_get_generic_nack_and_garbage_closes_only_that_connection() {
    let sim = sim(SimConfig::default()).await;
    let mut stream = TcpStream::connect(sim.local_addr())
        .await
        .expect("connects");

    stream
        .write_all(&raw_pdu(0x0000_0003, 7, b""))
        .await
        .expect("writes"); // query_sm: not served
    let unknown = read_header(&mut stream).await;
    stream
        .write_all(&raw_pdu(0x0000_0002, 8, b"dlrgate"))
        .await
        .expect("writes"); // bind without NULs
    let malformed = read_header(&mut stream).await;
    stream
        .write_all(&raw_pdu(0x0000_0015, 9, b""))
        .await
        .expect("writes"); // enquire_link
    let enquire = read_header(&mut stream).await;
    stream
        .write_all(&[0, 0, 0, 3, 1, 2, 3, 4])
        .await
        .expect("writes"); // command_length 3
    let after_garbage = read_header(&mut stream).await;

    assert_eq!(unknown, Some((0x8000_0000, 0x03, 7)));
    assert_eq!(
        malformed.map(|(id, _, seq)| (id, seq)),
        Some((0x8000_0000, 8))
    );
    assert_eq!(enquire, Some((0x8000_0015, 0, 9)));
    assert_eq!(after_garbage, None, "the connection is closed");
    let lines = esme(&sim, json!({})).await;
    assert_eq!(
        events(&lines, "bind_resp")[0]["command_status"],
        0,
        "the simulator still serves"
    );
}
