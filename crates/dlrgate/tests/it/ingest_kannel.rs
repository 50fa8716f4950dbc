//! Kannel `dlr-url` callbacks replayed into `/ingest/{connector}` (smpp.md §6.1): every `%d`
//! value and bit combination, duplicates and late reports, callbacks before their submission,
//! authentication and malformed input (400, nothing stored).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::upstream::{
    JSON_TOKEN, KANNEL_TOKEN, get_report, quiet_kannel, receipt_text, reports, sent,
};

const WAIT: Duration = Duration::from_secs(5);

fn callback(id: &str, dlr_type: &str, answer: &str) -> String {
    let answer: String = url::form_urlencoded::byte_serialize(answer.as_bytes()).collect();
    format!("token={KANNEL_TOKEN}&ref={id}.1&type={dlr_type}&answer={answer}&smsc=0A1B2C3D&ts=%T")
}

#[tokio::test]
async fn every_kannel_dlr_type_and_bit_combination_gives_its_status() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let nack = "NACK/0x0000000b/Invalid Destination Address";
    let cases: Vec<(&str, String, &str, Option<&str>)> = vec![
        ("8", "ACK/".into(), "ACCEPTED", None),
        (
            "1",
            receipt_text("DELIVRD", "000"),
            "DELIVERED",
            Some("000"),
        ),
        (
            "2",
            receipt_text("UNDELIV", "001"),
            "NOTDELIVERED",
            Some("001"),
        ),
        (
            "2",
            receipt_text("DELETED", "000"),
            "NOTDELIVERED",
            Some("000"),
        ),
        ("2", receipt_text("REJECTD", "011"), "REJECTED", Some("011")),
        ("2", receipt_text("EXPIRED", "000"), "EXPIRED", Some("000")),
        ("2", receipt_text("UNKNOWN", "000"), "FAILED", Some("000")),
        ("34", receipt_text("EXPIRED", "000"), "EXPIRED", Some("000")),
        ("4", receipt_text("ACCEPTD", "000"), "ACCEPTED", Some("000")),
        (
            "4",
            receipt_text("ENROUTE", "000"),
            "TRANSMITTED",
            Some("000"),
        ),
        ("4", receipt_text("ENROUTE", "027"), "BUFFERED", Some("027")),
        ("4", receipt_text("BUFFRED", "000"), "BUFFERED", Some("000")),
        ("16", nack.into(), "REJECTED", Some("0x0000000b")),
        (
            "32",
            receipt_text("ENROUTE", "000"),
            "TRANSMITTED",
            Some("000"),
        ),
        (
            "9",
            receipt_text("DELIVRD", "000"),
            "DELIVERED",
            Some("000"),
        ),
        (
            "12",
            receipt_text("ENROUTE", "000"),
            "TRANSMITTED",
            Some("000"),
        ),
        ("24", nack.into(), "REJECTED", Some("0x0000000b")),
    ];
    for (index, (dlr_type, answer, expect, error_code)) in cases.iter().enumerate() {
        let id = sent(&app, &format!("4917012345{index:02}")).await;

        // Act
        let (status, body) = get_report(&app, "kannel1", &callback(&id, dlr_type, answer)).await;

        // Assert
        assert_eq!(status, 200, "%d={dlr_type}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body, json!({"matched": 1, "parked": 0}), "%d={dlr_type}");
        let shown = app.wait_for_status(&id, expect, WAIT).await;
        assert_eq!(shown[0]["status"], *expect, "%d={dlr_type} {answer}");
        let events = reports(&app, &id).await;
        assert_eq!(events.len(), 1, "%d={dlr_type}: {events:?}");
        assert_eq!(
            events[0]["error_code"].as_str(),
            *error_code,
            "%d={dlr_type}"
        );
        let raw = events[0]["raw"].as_str().unwrap();
        assert!(raw.contains(&format!("type={dlr_type}")), "{raw}");
        assert!(
            raw.ends_with(answer.as_str()),
            "the receipt text is kept: {raw}"
        );
        assert!(!raw.contains(KANNEL_TOKEN), "the token is not kept: {raw}");
    }
}

#[tokio::test]
async fn duplicates_change_nothing_and_late_reports_never_move_a_status_back() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let id = sent(&app, "491701234561").await;
    let delivered = receipt_text("DELIVRD", "000");

    // Act
    for (dlr_type, answer) in [
        ("8", "ACK/".to_owned()),
        ("1", delivered.clone()),
        ("1", delivered.clone()),
        ("8", "ACK/".to_owned()),
        ("4", receipt_text("ENROUTE", "000")),
    ] {
        let (status, body) = get_report(&app, "kannel1", &callback(&id, dlr_type, &answer)).await;
        assert_eq!(status, 200, "{body}");
    }

    // Assert
    assert_eq!(app.status_json(&id).await[0]["status"], "DELIVERED");
    let effects: Vec<(Value, Value)> = reports(&app, &id)
        .await
        .into_iter()
        .map(|e| (e["state"].clone(), e["effect"].clone()))
        .collect();
    assert_eq!(
        effects,
        [
            ("ACCEPTED", "applied"),
            ("DELIVERED", "applied"),
            ("DELIVERED", "duplicate"),
            ("ACCEPTED", "stale"),
            ("TRANSMITTED", "stale"),
        ]
        .map(|(state, effect)| (json!(state), json!(effect)))
    );
}

#[tokio::test]
async fn a_callback_before_its_submission_is_recorded_is_parked_then_applied() {
    // Arrange: Kannel has the message but has not answered sendsms yet.
    let (kannel, app) = quiet_kannel().await;
    kannel.hold();
    let id = app.send_one("491701234561", "Hello").await;
    let call = kannel.next_call().await;
    assert!(call.param("dlr-url").contains(&format!("ref={id}.1&")));

    // Act
    let delivered = receipt_text("DELIVRD", "000");
    let (_, accepted) = get_report(&app, "kannel1", &callback(&id, "8", "ACK/")).await;
    let (_, final_report) = get_report(&app, "kannel1", &callback(&id, "1", &delivered)).await;
    let before = app.status_json(&id).await;
    kannel.release();

    // Assert
    let parked = json!({"matched": 0, "parked": 1});
    assert_eq!(serde_json::from_str::<Value>(&accepted).unwrap(), parked);
    assert_eq!(
        serde_json::from_str::<Value>(&final_report).unwrap(),
        parked
    );
    assert_eq!(before[0]["status"], Value::Null);
    let after = app.wait_for_status(&id, "DELIVERED", WAIT).await;
    assert_eq!(after[0]["status"], "DELIVERED", "{after}");
    let states: Vec<Value> = reports(&app, &id)
        .await
        .into_iter()
        .map(|e| e["state"].clone())
        .collect();
    assert_eq!(states, [json!("ACCEPTED"), json!("DELIVERED")]);
}

#[tokio::test]
async fn an_http_upstream_in_kannel_format_names_parts_by_the_smsc_id() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let id = sent(&app, "491701234561").await;
    let answer: String =
        url::form_urlencoded::byte_serialize(receipt_text("DELIVRD", "000").as_bytes()).collect();

    // Act
    let (status, body) = app
        .http
        .get(app.url(&format!(
            "/ingest/kannel-ext?id=%20{id}.1&type=1&answer={answer}"
        )))
        .bearer_auth(JSON_TOKEN)
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();

    // Assert
    assert_eq!(status, 200, "{}", body.text().await.unwrap());
    let shown = app.wait_for_status(&id, "DELIVERED", WAIT).await;
    assert_eq!(shown[0]["status"], "DELIVERED");
}

#[tokio::test]
async fn bad_tokens_unknown_connectors_and_malformed_callbacks_store_nothing() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let id = sent(&app, "491701234561").await;
    let good = callback(&id, "1", &receipt_text("DELIVRD", "000"));
    let cases: Vec<(String, String, u16)> = vec![
        ("kannel1".into(), good.replace(KANNEL_TOKEN, "wrong"), 401),
        (
            "kannel1".into(),
            good.replace(&format!("token={KANNEL_TOKEN}&"), ""),
            401,
        ),
        ("kannel1".into(), good.replace(KANNEL_TOKEN, ""), 401),
        (
            "kannel1".into(),
            good.replace(KANNEL_TOKEN, JSON_TOKEN),
            401,
        ),
        ("nope".into(), good.clone(), 404),
        ("sandbox".into(), good.clone(), 404),
        (
            "kannel1".into(),
            good.replace(&format!("ref={id}.1&"), ""),
            400,
        ),
        ("kannel1".into(), good.replace("type=1&", ""), 400),
        ("kannel1".into(), good.replace("type=1&", "type=0&"), 400),
        ("kannel1".into(), good.replace("type=1&", "type=64&"), 400),
        ("kannel1".into(), good.replace("type=1&", "type=abc&"), 400),
        (
            "kannel1".into(),
            good.replace("type=1&", "type=%FF%FE&"),
            400,
        ),
        (
            "kannel1".into(),
            good.replace("type=1&", "type=99999999999999999999999&"),
            400,
        ),
        (
            "kannel1".into(),
            format!("token={KANNEL_TOKEN}&%%%&&=="),
            400,
        ),
    ];

    // Act & Assert
    for (connector, query, expect) in &cases {
        let (status, body) = get_report(&app, connector, query).await;
        assert_eq!(status, *expect, "/ingest/{connector}?{query}: {body}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert!(
            problem["code"].is_string() && problem["detail"].is_string(),
            "{problem}"
        );
    }
    let response = app
        .http
        .post(app.url(&format!("/ingest/kannel1?token={KANNEL_TOKEN}")))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(app.status_json(&id).await[0]["status"], Value::Null);
    assert!(reports(&app, &id).await.is_empty(), "nothing was stored");
}
