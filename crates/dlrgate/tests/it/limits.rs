//! Request limits over real TCP: slow headers are cut off, slow bodies answered 503, oversized
//! or too many headers answered 431, and the server keeps serving everyone else meanwhile.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::app::{TestApp, spawn_app_with};

/// Upper bound so a broken server fails the test instead of hanging it; not a speed claim.
const HANG: Duration = Duration::from_secs(60);

async fn healthy(app: &TestApp) -> bool {
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    response.status().is_success()
}

async fn journal_is_empty(app: &TestApp) -> bool {
    app.get_json("/api/journal/outbound")
        .await
        .as_array()
        .is_none_or(|rows| rows.is_empty())
}

/// Writes `head` then `rest` one byte at a time, 50 ms apart, until the server closes the
/// connection; returns everything the server answered.
async fn dribble(app: &TestApp, head: String, rest: Vec<u8>) -> String {
    let stream = TcpStream::connect(app.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.unwrap();
    let writing = tokio::spawn(async move {
        for byte in rest {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
        }
        // Keep the half open: only the server may end this.
        tokio::time::sleep(HANG).await;
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(HANG, reader.read_to_end(&mut answer)).await;
    writing.abort();
    assert!(read.is_ok(), "the server never closed the slow connection");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends `request` at once and returns the answer's status line.
async fn status_line(app: &TestApp, request: Vec<u8>) -> String {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(HANG, stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_headers_byte_by_byte_is_cut_off_and_others_are_served() {
    // Arrange
    let app = spawn_app_with(|s| s.server.header_read_timeout = Duration::from_secs(1)).await;
    let endless = b"X-Slow: "
        .iter()
        .chain([b'a'; 2000].iter())
        .copied()
        .collect();

    // Act
    let slow = dribble(&app, "GET /healthz HTTP/1.1\r\nHost: x\r\n".into(), endless);

    // Assert
    let (answer, others) = tokio::join!(slow, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        healthy(&app).await
    });
    assert!(!answer.contains("200 OK"), "{answer}");
    assert!(others);
    assert!(healthy(&app).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_byte_by_byte_gets_503_and_stores_nothing() {
    // Arrange
    let app = spawn_app_with(|s| s.server.request_timeout = Duration::from_secs(1)).await;
    let body = format!("to=491701234561&text={}", "a".repeat(500)).into_bytes();
    let head = format!(
        "POST /api/sms HTTP/1.1\r\nHost: x\r\nX-Api-Key: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        app.api_key,
        body.len()
    );

    // Act
    let answer = dribble(&app, head, body).await;

    // Assert
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(healthy(&app).await);
    assert!(journal_is_empty(&app).await);
}

#[tokio::test]
async fn oversized_or_too_many_headers_get_431_and_others_are_served() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(32 * 1024)
    );
    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n");

    // Act
    let big = status_line(&app, big.into_bytes()).await;
    let many = status_line(&app, many.into_bytes()).await;

    // Assert
    assert!(big.starts_with("HTTP/1.1 431"), "{big}");
    assert!(many.starts_with("HTTP/1.1 431"), "{many}");
    assert!(healthy(&app).await);
}

#[tokio::test]
async fn a_thousand_recipients_fit_in_the_default_body_limit() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let to: Vec<String> = (0..1000).map(|i| format!("+4917012{i:05}")).collect();
    let body = serde_json::json!({"to": to.join(","), "text": "a".repeat(1520), "debug": 1});

    // Act
    let answer: serde_json::Value = app.send_sms(body).await.json().await.unwrap();

    // Assert
    assert_eq!(answer["success"], "100", "{answer}");
}
