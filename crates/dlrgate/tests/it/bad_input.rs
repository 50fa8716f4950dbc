//! Bad input over HTTP (issue 2 item 10): malformed and oversized bodies, wrong JSON types,
//! unknown parameters, junk values and binary garbage. Every answer is one of seven's return codes
//! with HTTP 200, never a 5xx or a panic, and nothing is stored.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use crate::helpers::app::{TestApp, spawn_app};

/// Return codes a bad request to a seven.io endpoint may get (seven-api.md §3.1).
const SEVEN_CODES: [&str; 9] = [
    "201", "202", "301", "305", "308", "401", "700", "900", "901",
];

/// POST /api/sms with `body` as `content_type`; HTTP status and body text.
async fn post_raw(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> (u16, String) {
    let mut request = app
        .http
        .post(app.url("/api/sms"))
        .header("X-Api-Key", &app.api_key)
        .header("Accept", "application/json");
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    let response = request.body(body).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn post_json(app: &TestApp, body: &Value) -> (u16, String) {
    post_raw(
        app,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

async fn journal_is_empty(app: &TestApp) -> bool {
    app.get_json("/api/journal/outbound").await == json!([])
}

/// The same fields as a valid send, with `name` set to `value`.
fn with(name: &str, value: Value) -> Value {
    let mut body = json!({"to": "491701234561", "text": "hello"});
    body[name] = value;
    body
}

/// A small deterministic generator (xorshift) so garbage is the same on every run.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| (self.next() & 0xff) as u8).collect()
    }
}

#[tokio::test]
async fn malformed_json_bodies_get_700_and_store_nothing() {
    // Arrange
    let app = spawn_app().await;
    let nested = "[".repeat(100_000);
    let cases: [(&str, Vec<u8>); 8] = [
        ("truncated", br#"{"to":"491701234561","text":"#.to_vec()),
        ("array", br#"[{"to":"491701234561","text":"x"}]"#.to_vec()),
        ("string", br#""to=491701234561&text=x""#.to_vec()),
        ("number", b"42".to_vec()),
        ("null", b"null".to_vec()),
        (
            "invalid UTF-8",
            b"{\"to\":\"491701234561\",\"text\":\"\xff\xfe\"}".to_vec(),
        ),
        ("deep nesting", nested.into_bytes()),
        ("form sent as JSON", b"to=491701234561&text=x".to_vec()),
    ];

    for (what, body) in cases {
        // Act
        let (status, answer) = post_raw(&app, Some("application/json"), body).await;

        // Assert
        assert_eq!((status, answer.as_str()), (200, "700"), "{what}");
    }
    assert!(journal_is_empty(&app).await);
}

#[tokio::test]
async fn wrong_json_types_get_a_seven_code_and_store_nothing() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        with("text", json!({"nested": "object"})),
        with("text", json!([{"a": 1}])),
        with("to", json!({"number": "491701234561"})),
        with("to", json!([["491701234561"]])),
        with("delay", json!({"at": 1})),
        with("flash", json!([true, false])),
        with("ttl", json!(1.5)),
        with("label", json!({"a": "b"})),
    ];

    for body in cases {
        // Act
        let (status, answer) = post_json(&app, &body).await;

        // Assert
        assert_eq!(status, 200, "{body}");
        assert!(SEVEN_CODES.contains(&answer.as_str()), "{body} -> {answer}");
    }
    assert!(journal_is_empty(&app).await);
}

#[tokio::test]
async fn unknown_parameters_get_308() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let json = post_json(&app, &with("colour", json!("blue"))).await;
    let form = post_raw(
        &app,
        Some("application/x-www-form-urlencoded"),
        b"to=491701234561&text=hello&txet=typo".to_vec(),
    )
    .await;
    let query = app
        .get("/api/sms?to=491701234561&text=hello&recipient=x")
        .send()
        .await
        .unwrap();
    let query = query.text().await.unwrap();
    let balance = app
        .get("/api/balance?verbose=1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let status = app
        .get("/api/status?msg_id=1&ids=2")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cancel = app
        .http
        .delete(app.url("/api/sms"))
        .header("X-Api-Key", &app.api_key)
        .json(&json!({"ids": "1", "all": true}));
    let cancel = cancel.send().await.unwrap().text().await.unwrap();

    // Assert
    assert_eq!(json, (200, "308".to_owned()));
    assert_eq!(form, (200, "308".to_owned()));
    assert_eq!(query, "308");
    assert_eq!(balance, "308");
    assert_eq!(status, "308");
    assert_eq!(cancel, "308");
    assert!(journal_is_empty(&app).await);
}

#[tokio::test]
async fn oversized_bodies_get_700_and_store_nothing() {
    // Arrange
    let app = spawn_app().await;
    let big_text = "a".repeat(70 * 1024);
    let json = serde_json::to_vec(&json!({"to": "491701234561", "text": big_text})).unwrap();
    let form = format!("to=491701234561&text={big_text}").into_bytes();

    // Act
    let json = post_raw(&app, Some("application/json"), json).await;
    let form = post_raw(&app, Some("application/x-www-form-urlencoded"), form).await;
    let just_over = post_raw(
        &app,
        Some("application/x-www-form-urlencoded"),
        vec![b'a'; 64 * 1024 + 1],
    )
    .await;

    // Assert
    assert_eq!(json, (200, "700".to_owned()));
    assert_eq!(form, (200, "700".to_owned()));
    assert_eq!(just_over, (200, "700".to_owned()));
    assert!(journal_is_empty(&app).await);
}

#[tokio::test]
async fn junk_optional_values_get_308_and_store_nothing() {
    // Arrange
    let app = spawn_app().await;
    let in_two_years = time::OffsetDateTime::now_utc().unix_timestamp() + 2 * 366 * 86_400;
    let cases = [
        with("delay", json!("tomorrow")),
        with("delay", json!("2024-13-45 25:61:61")),
        with("delay", json!("-5")),
        with("delay", json!("1e9")),
        with("delay", json!(in_two_years)),
        with("ttl", json!("abc")),
        with("ttl", json!("-1")),
        with("ttl", json!(99_999_999)),
        with("ttl", json!("1.5")),
        with("flash", json!("maybe")),
        with("flash", json!(2)),
        with("label", json!("bad label!")),
        with("label", json!("l".repeat(101))),
        with("label", json!("ünïcode")),
        with("foreign_id", json!("f".repeat(65))),
        with("foreign_id", json!("a/b")),
        with("udh", json!("zz")),
        with("udh", json!("0500")),
        with("udh", json!("8c".repeat(141))),
        with("debug", json!("perhaps")),
        with("return_msg_id", json!("x")),
    ];

    for body in cases {
        // Act
        let (status, answer) = post_json(&app, &body).await;

        // Assert
        assert_eq!((status, answer.as_str()), (200, "308"), "{body}");
    }
    assert!(journal_is_empty(&app).await);
}

#[tokio::test]
async fn binary_garbage_bodies_get_a_seven_code_and_store_nothing() {
    // Arrange
    let app = spawn_app().await;
    let mut garbage = Garbage(0x5eed_1234_abcd_9876);
    let content_types = [
        Some("application/x-www-form-urlencoded"),
        Some("application/json"),
        None,
    ];

    for round in 0..150 {
        let len = usize::try_from(garbage.next() % 2048).unwrap();
        let body = garbage.bytes(len);
        let content_type = content_types[round % content_types.len()];

        // Act
        let (status, answer) = post_raw(&app, content_type, body.clone()).await;

        // Assert
        assert_eq!(status, 200, "round {round} {content_type:?}: {answer}");
        assert!(
            SEVEN_CODES.contains(&answer.as_str()),
            "round {round} {content_type:?}: {answer} for {body:?}"
        );
    }
    assert!(journal_is_empty(&app).await);
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn garbage_in_form_encoding_and_queries_gets_a_seven_code() {
    // Arrange
    let app = spawn_app().await;
    let form = Some("application/x-www-form-urlencoded");
    let bodies: [&[u8]; 6] = [
        b"to=%FF%FE&text=%C0%AF",
        b"to=491701234561&text=%",
        b"\x00\x01\x02=\x03&to=491701234561&text=x",
        b"&&&===&&&",
        b"to[][][]=1&text[a]=b",
        b"to=491701234561&text=hi&to=%00",
    ];

    for body in bodies {
        // Act
        let (status, answer) = post_raw(&app, form, body.to_vec()).await;

        // Assert
        assert_eq!(status, 200, "{body:?}");
        assert!(
            SEVEN_CODES.contains(&answer.as_str()) || answer.contains("\"success\""),
            "{body:?} -> {answer}"
        );
    }
    for path in [
        "/api/sms?to=%FF&text=%FE%FF",
        "/api/status?msg_id=%00%FF",
        "/api/journal/outbound?limit=%FF",
    ] {
        let response = app.get(path).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let answer = response.text().await.unwrap();
        assert!(SEVEN_CODES.contains(&answer.as_str()), "{path} -> {answer}");
    }
}

#[tokio::test]
async fn status_and_cancel_reject_junk_ids_without_changing_anything() {
    // Arrange
    let app = spawn_app().await;
    let at = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
    let sent: Value = app
        .send_sms(json!({"to": "491701234561", "text": "later", "delay": at}))
        .await
        .json()
        .await
        .unwrap();
    let id = sent["messages"][0]["id"].as_str().unwrap().to_owned();
    let too_many = vec!["1"; 1001].join(",");

    // Act
    let status_many = app
        .get(&format!("/api/status?msg_id={too_many}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let status_none = app
        .get("/api/status")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cancel_junk: Value = app
        .http
        .delete(app.url("/api/sms"))
        .header("X-Api-Key", &app.api_key)
        .header("Accept", "application/json")
        .json(&json!({"ids": "abc,-1,99999999999999999999999"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = app
        .get("/api/messages/not-a-number/events")
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(status_many, "901");
    assert_eq!(status_none, "901");
    assert_eq!(cancel_junk, json!({"success": false, "deleted": []}));
    assert_eq!(events.status(), 404);
    assert_eq!(
        app.status_json(&id).await,
        json!([{"id": id, "status": null, "status_time": null}])
    );
    assert_eq!(
        app.get_json("/api/journal/outbound")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_paths_get_a_404_problem() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get("/api/nope").send().await.unwrap();

    // Assert
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}
