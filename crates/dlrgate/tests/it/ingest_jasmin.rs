//! Jasmin HTTP DLRs replayed into `/ingest/{connector}` (smpp.md §6.2), by GET and form POST:
//! every level and `message_status`, the exact `ACK/Jasmin` answer (also for duplicates),
//! reports before their submission, authentication and malformed input.
//!
//! The `jasmin` upstream reports on the messages of the Kannel route `kannel1` (`reports_for`),
//! whose parts carry the operator ids `<message id>.<part>`.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::upstream::{
    JASMIN_TOKEN, KANNEL_TOKEN, get_report, post_form, quiet_kannel, reports, wait_processed,
};

const WAIT: Duration = Duration::from_secs(5);

/// A Jasmin DLR for part 1 of `id`, with the level 2/3 fields when `level` is not 1.
fn dlr(id: &str, level: &str, message_status: &str, err: &str) -> String {
    let mut form =
        format!("id={id}.1&message_status={message_status}&level={level}&connector=smsc1");
    if level != "1" {
        form.push_str(&format!(
            "&id_smsc=0A1B2C3D&sub=001&dlvrd=001&subdate=2501011200&donedate=2501011201&err={err}&text=Hello+World"
        ));
    }
    form
}

#[tokio::test]
async fn every_jasmin_level_and_status_is_acknowledged_and_gives_its_status() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let cases = [
        ("1", "ESME_ROK", "", "ACCEPTED", None),
        (
            "1",
            "ESME_RINVDSTADR",
            "",
            "REJECTED",
            Some("ESME_RINVDSTADR"),
        ),
        ("1", "ESME_RSYSERR", "", "REJECTED", Some("ESME_RSYSERR")),
        ("2", "DELIVRD", "000", "DELIVERED", Some("000")),
        ("2", "UNDELIV", "001", "NOTDELIVERED", Some("001")),
        ("2", "DELETED", "000", "NOTDELIVERED", Some("000")),
        ("2", "REJECTD", "011", "REJECTED", Some("011")),
        ("2", "EXPIRED", "000", "EXPIRED", Some("000")),
        ("2", "ACCEPTD", "000", "ACCEPTED", Some("000")),
        ("2", "ENROUTE", "000", "TRANSMITTED", Some("000")),
        ("2", "ENROUTE", "027", "BUFFERED", Some("027")),
        ("2", "UNKNOWN", "000", "FAILED", Some("000")),
        ("3", "DELIVRD", "000", "DELIVERED", Some("000")),
        ("3", "UNDELIV", "001", "NOTDELIVERED", Some("001")),
        ("3", "EXPIRED", "000", "EXPIRED", Some("000")),
        ("3", "REJECTD", "000", "REJECTED", Some("000")),
    ];
    for (index, (level, message_status, err, expect, error_code)) in cases.iter().enumerate() {
        let id = app
            .send_one(&format!("4917012345{index:02}"), "Hello")
            .await;
        wait_processed(&app, &id).await;
        let form = dlr(&id, level, message_status, err);

        // Act: GET and form POST in turn, as Jasmin's dlr-method allows.
        let (status, body) = if index % 2 == 0 {
            get_report(&app, "jasmin", &format!("token={JASMIN_TOKEN}&{form}")).await
        } else {
            post_form(&app, "jasmin", &format!("token={JASMIN_TOKEN}"), &form).await
        };

        // Assert
        assert_eq!((status, body.as_str()), (200, "ACK/Jasmin"), "{form}");
        let shown = app.wait_for_status(&id, expect, WAIT).await;
        assert_eq!(shown[0]["status"], *expect, "{form}");
        let events = reports(&app, &id).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["error_code"].as_str(), *error_code, "{form}");
        assert_eq!(events[0]["source"], "kannel1");
        let raw = events[0]["raw"].as_str().unwrap();
        assert!(
            raw.contains(&format!("message_status={message_status}")),
            "{raw}"
        );
        if *level != "1" {
            assert!(
                raw.contains(&format!("stat:{message_status} err:{err} text:Hello World")),
                "{raw}"
            );
        }
        assert!(!raw.contains(JASMIN_TOKEN), "{raw}");
    }
}

#[tokio::test]
async fn a_duplicate_jasmin_report_is_acknowledged_and_changes_nothing() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let id = app.send_one("491701234561", "Hello").await;
    wait_processed(&app, &id).await;
    let query = format!("token={JASMIN_TOKEN}");

    // Act
    let mut answers = Vec::new();
    for form in [
        dlr(&id, "1", "ESME_ROK", ""),
        dlr(&id, "2", "DELIVRD", "000"),
        dlr(&id, "2", "DELIVRD", "000"),
        dlr(&id, "1", "ESME_ROK", ""),
    ] {
        answers.push(post_form(&app, "jasmin", &query, &form).await);
    }

    // Assert
    for answer in &answers {
        assert_eq!((answer.0, answer.1.as_str()), (200, "ACK/Jasmin"));
    }
    assert_eq!(app.status_json(&id).await[0]["status"], "DELIVERED");
    let effects: Vec<Value> = reports(&app, &id)
        .await
        .into_iter()
        .map(|e| e["effect"].clone())
        .collect();
    assert_eq!(
        effects,
        [
            json!("applied"),
            json!("applied"),
            json!("duplicate"),
            json!("stale")
        ]
    );
}

#[tokio::test]
async fn a_jasmin_report_before_the_submission_is_parked_and_applied_later() {
    // Arrange
    let (kannel, app) = quiet_kannel().await;
    kannel.hold();
    let id = app.send_one("491701234561", "Hello").await;
    kannel.next_call().await;

    // Act
    let answer = post_form(
        &app,
        "jasmin",
        &format!("token={JASMIN_TOKEN}"),
        &dlr(&id, "2", "DELIVRD", "000"),
    )
    .await;
    let before = app.status_json(&id).await;
    kannel.release();

    // Assert
    assert_eq!((answer.0, answer.1.as_str()), (200, "ACK/Jasmin"));
    assert_eq!(before[0]["status"], Value::Null);
    let after = app.wait_for_status(&id, "DELIVERED", WAIT).await;
    assert_eq!(after[0]["status"], "DELIVERED");
}

#[tokio::test]
async fn bad_jasmin_reports_are_refused_and_store_nothing() {
    // Arrange
    let (_kannel, app) = quiet_kannel().await;
    let id = app.send_one("491701234561", "Hello").await;
    wait_processed(&app, &id).await;
    let good = dlr(&id, "2", "DELIVRD", "000");
    let cases = [
        (format!("token={KANNEL_TOKEN}"), good.clone(), 401),
        (String::new(), good.clone(), 401),
        (
            format!("token={JASMIN_TOKEN}"),
            good.replace(&format!("id={id}.1&"), ""),
            400,
        ),
        (
            format!("token={JASMIN_TOKEN}"),
            good.replace("level=2", "level=9"),
            400,
        ),
        (
            format!("token={JASMIN_TOKEN}"),
            good.replace("&level=2", ""),
            400,
        ),
        (
            format!("token={JASMIN_TOKEN}"),
            good.replace("DELIVRD", "GREAT"),
            400,
        ),
        (
            format!("token={JASMIN_TOKEN}"),
            good.replace("message_status=DELIVRD", "message_status="),
            400,
        ),
        (
            format!("token={JASMIN_TOKEN}"),
            dlr(&id, "1", "DELIVRD", ""),
            400,
        ),
        (
            format!("token={JASMIN_TOKEN}"),
            "\u{0}\u{ff}%%%=&=".to_owned(),
            400,
        ),
    ];

    // Act & Assert
    for (query, form, expect) in &cases {
        let (status, body) = post_form(&app, "jasmin", query, form).await;
        assert_eq!(status, *expect, "{query} {form}: {body}");
        assert_ne!(body, "ACK/Jasmin");
    }
    assert_eq!(app.status_json(&id).await[0]["status"], Value::Null);
    assert!(reports(&app, &id).await.is_empty());
}
