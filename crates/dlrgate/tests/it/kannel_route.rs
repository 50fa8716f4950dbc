//! The Kannel route end to end against a fake smsbox: what `sendsms` receives (parameters,
//! `dlr-url`, one call per part with its UDH), Kannel 1.4.5's callbacks (`%d` = 8, then the
//! receipt) making the message DELIVERED with the raw reports in its events, a 4xx answer making
//! it REJECTED, and an unavailable Kannel keeping it queued until `fail_after` makes it FAILED
//! (or moves it to the fallback route).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::upstream::{
    DLRGATE, FakeKannel, KANNEL_TOKEN, receipt_text, reports, spawn_with_kannel,
};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_message_goes_out_by_sendsms_and_kannels_reports_make_it_delivered() {
    // Arrange
    let kannel = FakeKannel::start().await;
    let app = spawn_with_kannel(&kannel, |_| {}).await;

    // Act
    let body: Value = app
        .send_sms(json!({"to": "+491701234561", "text": "Hello & good day", "from": "dlrgate"}))
        .await
        .json()
        .await
        .unwrap();
    let id = body["messages"][0]["id"].as_str().unwrap().to_owned();
    let call = kannel.next_call().await;
    let shown = app.wait_for_status(&id, "DELIVERED", WAIT).await;

    // Assert
    assert_eq!(call.param("username"), "dlrgate");
    assert_eq!(call.param("password"), "p@ss word");
    assert_eq!(call.param("from"), "dlrgate");
    assert_eq!(call.param("to"), "491701234561");
    assert_eq!(call.param("text"), "Hello & good day");
    assert_eq!(call.param("charset"), "UTF-8");
    assert_eq!(call.param("coding"), "0");
    assert_eq!(call.param("dlr-mask"), "31");
    assert_eq!(
        call.param("dlr-url"),
        format!(
            "{DLRGATE}/ingest/kannel1?token={KANNEL_TOKEN}&ref={id}.1&type=%d&answer=%A&smsc=%F&ts=%T"
        )
    );
    assert!(call.udh.is_empty() && call.param("mclass").is_empty());
    assert_eq!(shown[0]["status"], "DELIVERED", "{shown}");
    let events = reports(&app, &id).await;
    let states: Vec<&Value> = events.iter().map(|e| &e["state"]).collect();
    assert_eq!(states, [&json!("ACCEPTED"), &json!("DELIVERED")]);
    let raw: Vec<&str> = events.iter().map(|e| e["raw"].as_str().unwrap()).collect();
    assert!(
        raw[0].contains("type=8") && raw[0].ends_with("\nACK/"),
        "{}",
        raw[0]
    );
    assert!(
        raw[1].contains("type=1") && raw[1].ends_with(&receipt_text("DELIVRD", "000")),
        "{}",
        raw[1]
    );
    assert!(
        raw.iter()
            .all(|r| r.contains("smsc=0A1B") && !r.contains(KANNEL_TOKEN))
    );
}

#[tokio::test]
async fn unicode_flash_messages_with_a_ttl_carry_coding_mclass_and_validity() {
    // Arrange
    let kannel = FakeKannel::start().await;
    let app = spawn_with_kannel(&kannel, |_| {}).await;

    // Act
    let body: Value = app
        .send_sms(json!({"to": "491701234561", "text": "Привет 👋", "flash": 1, "ttl": 90}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["success"], "100", "{body}");
    let call = kannel.next_call().await;

    // Assert
    assert_eq!(call.param("text"), "Привет 👋");
    assert_eq!(call.param("coding"), "2");
    assert_eq!(call.param("mclass"), "0");
    assert_eq!(call.param("validity"), "90");
}

#[tokio::test]
async fn each_part_goes_out_with_its_udh_and_reports_on_its_own() {
    // Arrange: part 1 is delivered, part 2 is not.
    let kannel = FakeKannel::start().await;
    kannel.reports(|call| {
        let stat = if call.udh.last() == Some(&2) {
            ("2", "UNDELIV", "001")
        } else {
            ("1", "DELIVRD", "000")
        };
        vec![
            (8, "ACK/".to_owned()),
            (stat.0.parse().unwrap(), receipt_text(stat.1, stat.2)),
        ]
    });
    let app = spawn_with_kannel(&kannel, |_| {}).await;
    let text = "a".repeat(200);

    // Act
    let id = app.send_one("491701234561", &text).await;
    let first = kannel.next_call().await;
    let second = kannel.next_call().await;
    let shown = app.wait_for_status(&id, "NOTDELIVERED", WAIT).await;

    // Assert
    let reference = (id.parse::<i64>().unwrap() & 0xFF) as u8;
    assert_eq!(first.udh, [5, 0, 3, reference, 2, 1]);
    assert_eq!(second.udh, [5, 0, 3, reference, 2, 2]);
    assert_eq!(
        (first.param("text").len(), second.param("text").len()),
        (153, 47)
    );
    assert!(first.param("dlr-url").contains(&format!("ref={id}.1&")));
    assert!(second.param("dlr-url").contains(&format!("ref={id}.2&")));
    assert_eq!(shown[0]["status"], "NOTDELIVERED", "{shown}");
    let mut per_part: Vec<(Value, Value)> = reports(&app, &id)
        .await
        .into_iter()
        .filter(|e| e["state"] != "ACCEPTED")
        .map(|e| (e["part"].clone(), e["state"].clone()))
        .collect();
    per_part.sort_by_key(|(part, _)| part.as_u64());
    assert_eq!(
        per_part,
        [
            (json!(1), json!("DELIVERED")),
            (json!(2), json!("NOTDELIVERED"))
        ]
    );
}

#[tokio::test]
async fn a_4xx_from_sendsms_makes_the_message_rejected_with_kannels_reason() {
    // Arrange
    let kannel = FakeKannel::start().await;
    kannel.answer(403, "Authorization failed for sendsms");
    let app = spawn_with_kannel(&kannel, |_| {}).await;

    // Act
    let id = app.send_one("491701234561", "Hello").await;
    let shown = app.wait_for_status(&id, "REJECTED", WAIT).await;

    // Assert
    assert_eq!(shown[0]["status"], "REJECTED", "{shown}");
    let events = reports(&app, &id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["error_code"], "Authorization failed for sendsms");
    assert_eq!(
        events[0]["raw"],
        "sendsms 403: Authorization failed for sendsms"
    );
}

#[tokio::test]
async fn an_unavailable_kannel_keeps_the_message_queued_then_fails_it_after_fail_after() {
    // Arrange: Kannel answers 503 to every try.
    let kannel = FakeKannel::start().await;
    kannel.answer(503, "Temporal failure, try again later.");
    let app = spawn_with_kannel(&kannel, |k| k.fail_after = Duration::from_millis(800)).await;

    // Act
    let started = Instant::now();
    let id = app.send_one("491701234561", "Hello").await;
    kannel.next_call().await;
    kannel.next_call().await;
    let while_down = app.status_json(&id).await;
    let shown = app.wait_for_status(&id, "FAILED", WAIT).await;

    // Assert
    assert_eq!(
        while_down[0]["status"],
        Value::Null,
        "still queued after two tries"
    );
    assert_eq!(shown[0]["status"], "FAILED", "{shown}");
    assert!(started.elapsed() >= Duration::from_millis(800));
    let events = reports(&app, &id).await;
    assert_eq!(
        events[0]["error_code"],
        "sendsms 503: Temporal failure, try again later."
    );
}

#[tokio::test]
async fn a_kannel_that_cannot_be_reached_fails_the_message_or_hands_it_to_the_fallback() {
    // Arrange: nothing listens on the sendsms port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/cgi-bin/sendsms", listener.local_addr().unwrap());
    drop(listener);
    let kannel = FakeKannel::start().await;
    let short = Duration::from_millis(200);
    let failing = spawn_with_kannel(&kannel, |k| {
        k.sendsms_url = dead.clone();
        k.fail_after = short;
    })
    .await;
    let falling_back = spawn_with_kannel(&kannel, |k| {
        k.sendsms_url = dead.clone();
        k.fail_after = short;
        k.fallback = Some("sandbox".to_owned());
    })
    .await;

    // Act
    let failed = failing.send_one("491701234561", "Hello").await;
    let moved = falling_back.send_one("491701234561", "Hello").await;

    // Assert
    let shown = failing.wait_for_status(&failed, "FAILED", WAIT).await;
    assert_eq!(shown[0]["status"], "FAILED", "{shown}");
    let error = reports(&failing, &failed).await[0]["error_code"].clone();
    assert!(error.as_str().unwrap().starts_with("sendsms: "), "{error}");
    let shown = falling_back
        .wait_for_status(&moved, "DELIVERED", WAIT)
        .await;
    assert_eq!(
        shown[0]["status"], "DELIVERED",
        "the sandbox delivered it: {shown}"
    );
    assert!(
        reports(&falling_back, &moved)
            .await
            .iter()
            .all(|e| e["source"] == "sandbox")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_sends_no_new_parts_and_puts_unsent_messages_back_in_the_queue() {
    // Arrange: one sendsms per second, so most messages wait for the rate limit.
    let kannel = FakeKannel::start().await;
    let mut app = spawn_with_kannel(&kannel, |k| k.rate_limit = 1).await;
    for n in 1..=4 {
        app.send_one(&format!("49170123456{n}"), "Hello").await;
    }
    kannel.next_call().await;

    // Act
    app.stop().await;

    // Assert: the three messages waiting for the rate limit are queued again, none is claimed
    // or FAILED.
    let store = dlrgate::store::SqliteStore::open(&app.data_dir, true)
        .await
        .unwrap();
    use dlrgate::store::Store;
    let queued = store.due_messages("kannel1", i64::MAX, 10).await.unwrap();
    let claimed = store.claimed("kannel1").await.unwrap();
    store.close().await;
    assert!(claimed.is_empty(), "{claimed:?}");
    assert!(queued.len() >= 2, "{queued:?}");
}
