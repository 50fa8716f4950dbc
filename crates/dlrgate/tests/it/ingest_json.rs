//! The generic JSON report form (docs/upstreams.md) replayed into `/ingest/{connector}`: one
//! report or an array, dlrgate statuses or stat codes, unix or RFC 3339 times, Bearer
//! authentication, and batches with a bad report stored not at all.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::app::TestApp;
use crate::helpers::upstream::{JSON_TOKEN, get_report, quiet_kannel, reports, sent};

const WAIT: Duration = Duration::from_secs(5);

async fn post_json(app: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let response = app
        .http
        .post(app.url("/ingest/vendor"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn json_reports_one_or_many_give_their_statuses() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let ids = [
        sent(&app, "491701234561").await,
        sent(&app, "491701234562").await,
        sent(&app, "491701234563").await,
        sent(&app, "491701234564").await,
    ];
    let hour_ago = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    let rfc3339 = time::OffsetDateTime::from_unix_timestamp(hour_ago)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();

    // Act
    let single = post_json(
        &app,
        JSON_TOKEN,
        &json!({"id": format!("{}.1", ids[0]), "status": "DELIVERED"}),
    )
    .await;
    let batch = post_json(
        &app,
        JSON_TOKEN,
        &json!([
            {"id": format!("{}.1", ids[1]), "status": "UNDELIV", "error_code": "001", "timestamp": hour_ago},
            {"id": format!("{}.1", ids[2]), "status": "enroute", "error_code": 27, "timestamp": rfc3339},
            {"id": "nobody-has-this", "status": "DELIVRD"},
        ]),
    )
    .await;
    let by_get = get_report(
        &app,
        "vendor",
        &format!(
            "token={JSON_TOKEN}&id={}.1&status=REJECTED&error_code=E42",
            ids[3]
        ),
    )
    .await;

    // Assert
    assert_eq!(single, (200, json!({"matched": 1, "parked": 0})));
    assert_eq!(batch, (200, json!({"matched": 2, "parked": 1})));
    assert_eq!(by_get.0, 200, "{}", by_get.1);
    for (id, expect, error_code) in [
        (&ids[0], "DELIVERED", None),
        (&ids[1], "NOTDELIVERED", Some("001")),
        (&ids[2], "BUFFERED", Some("27")),
        (&ids[3], "REJECTED", Some("E42")),
    ] {
        let shown = app.wait_for_status(id, expect, WAIT).await;
        assert_eq!(shown[0]["status"], expect, "{id}");
        let events = reports(&app, id).await;
        assert_eq!(events[0]["error_code"].as_str(), error_code, "{id}");
        assert!(
            events[0]["raw"]
                .as_str()
                .unwrap()
                .contains(&format!("{id}.1"))
        );
    }
    // The report's own time is the status time, not the time it arrived.
    let status_time = app.status_json(&ids[1]).await[0]["status_time"].clone();
    let expected = time::OffsetDateTime::from_unix_timestamp(hour_ago).unwrap();
    let shown = format!(
        "{} {:02}:{:02}:{:02}.000",
        expected.date(),
        expected.hour(),
        expected.minute(),
        expected.second()
    );
    assert_eq!(status_time, shown.as_str());
}

#[tokio::test]
async fn a_batch_with_one_bad_report_is_refused_whole() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let id = sent(&app, "491701234561").await;
    let good = json!({"id": format!("{id}.1"), "status": "DELIVERED"});
    let cases = [
        json!([good, {"id": format!("{id}.1"), "status": "SPLENDID"}]),
        json!([good, {"status": "DELIVERED"}]),
        json!([good, {"id": "", "status": "DELIVERED"}]),
        json!([good, {"id": format!("{id}.1")}]),
        json!([good, {"id": format!("{id}.1"), "status": "DELIVERED", "timestamp": "yesterday"}]),
        json!([good, {"id": format!("{id}.1"), "status": "DELIVERED", "timestamp": [1]}]),
        json!([good, "DELIVERED"]),
        json!([]),
        json!("DELIVERED"),
        json!(42),
    ];

    // Act & Assert
    for body in &cases {
        let (status, answer) = post_json(&app, JSON_TOKEN, body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], "bad_report", "{answer}");
    }
    let (status, _) = post_json(&app, "wrong", &good).await;
    assert_eq!(status, 401);
    let too_many: Vec<Value> = (0..1001).map(|_| good.clone()).collect();
    assert_eq!(post_json(&app, JSON_TOKEN, &json!(too_many)).await.0, 400);
    assert_eq!(app.status_json(&id).await[0]["status"], Value::Null);
    assert!(reports(&app, &id).await.is_empty());
}
