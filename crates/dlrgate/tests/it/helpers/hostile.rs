//! `HostileReceiver`: a raw TCP "webhook receiver" on 127.0.0.1:0 that reads each request and
//! then misbehaves in one chosen way: resets the connection, trickles its answer a byte at a
//! time, answers with a huge body, or answers with bytes that are not HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Reads the request, then closes with a TCP reset.
    Reset,
    /// Writes a valid `200 OK` one byte every this many milliseconds.
    Trickle(u64),
    /// `200 OK` with a body of this many bytes, written as fast as the client takes it.
    HugeBody(u64),
    /// Answers bytes that are not HTTP, then closes.
    Garbage,
}

pub struct HostileReceiver {
    /// `http://127.0.0.1:PORT/hook`
    pub url: String,
    /// Requests read so far.
    pub requests: Arc<AtomicUsize>,
    /// Body bytes the client took (`HugeBody`).
    pub body_bytes_taken: Arc<AtomicU64>,
}

impl HostileReceiver {
    pub async fn start(behaviour: Behaviour) -> HostileReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let taken = Arc::new(AtomicU64::new(0));
        let (count, bytes) = (requests.clone(), taken.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (count, bytes) = (count.clone(), bytes.clone());
                tokio::spawn(serve(stream, behaviour, count, bytes));
            }
        });
        HostileReceiver {
            url,
            requests,
            body_bytes_taken: taken,
        }
    }
}

/// Reads one request (headers and a `Content-Length` body); `false` when the peer went away.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    while buffer.len() < header_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

async fn serve(
    mut stream: TcpStream,
    behaviour: Behaviour,
    requests: Arc<AtomicUsize>,
    taken: Arc<AtomicU64>,
) {
    if !read_request(&mut stream).await {
        return;
    }
    requests.fetch_add(1, Ordering::SeqCst);
    match behaviour {
        Behaviour::Reset => {
            stream.set_zero_linger().unwrap();
            drop(stream);
        }
        Behaviour::Trickle(every_ms) => {
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n" {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(every_ms)).await;
            }
        }
        Behaviour::HugeBody(size) => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n");
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b'x'; 64 * 1024];
            let mut left = size;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                if stream.write_all(&block[..n]).await.is_err() {
                    return;
                }
                taken.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
        }
        Behaviour::Garbage => {
            let _ = stream
                .write_all(b"SMTP READY\r\n\x00\x01\x02\r\n\r\n")
                .await;
        }
    }
}
