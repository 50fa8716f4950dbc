//! Who may reach which hook: another account can neither see, delete nor receive my hooks
//! (seven-api.md §6.1), and literal non-public addresses are refused at subscribe time unless the
//! allow-list opens them (issue 3 item 9).

#![allow(clippy::unwrap_used)]

use serde_json::json;

use crate::helpers::app::{spawn_app, spawn_app_with};
use crate::helpers::hooks_api::{
    DELIVERED_TO, QUIET, WAIT, answer, list_as, listed_ids, path, send, subscribe, subscribe_form,
};
use crate::helpers::receiver::WebhookReceiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_can_neither_see_nor_delete_my_hooks_nor_get_my_status_reports() {
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    let mine = subscribe(&app, &format!("{}/mine", receiver.url), "JSON", &[]).await;
    let other = app.create_account("other", &[]);
    let other_key = other["api_key"].as_str().unwrap();
    let theirs = subscribe_form(
        &app,
        other_key,
        &[
            ("target_url", &format!("{}/theirs", receiver.url)),
            ("event_type", "all"),
        ],
    )
    .await;
    assert_eq!(theirs["success"], true, "{theirs}");

    // Act
    let their_list = list_as(&app, other_key, "").await;
    let their_delete = answer(
        app.http
            .delete(app.url(&format!("/api/hooks?id={mine}")))
            .header("X-Api-Key", other_key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let their_legacy_delete = subscribe_form(
        &app,
        other_key,
        &[("action", "unsubscribe"), ("id", &mine.to_string())],
    )
    .await;
    send(&app, json!({"to": DELIVERED_TO, "text": "mine"})).await;
    let got = receiver.collect(3, WAIT).await;

    // Assert
    let their_hooks = their_list["hooks"].as_array().unwrap();
    assert_eq!(their_hooks.len(), 1, "{their_list}");
    assert_ne!(their_hooks[0]["id"], json!(mine.to_string()));
    assert_eq!(their_delete["success"], false, "{their_delete}");
    assert_eq!(
        their_legacy_delete["success"], false,
        "{their_legacy_delete}"
    );
    assert_eq!(listed_ids(&app).await, vec![mine.to_string()]);
    assert!(got.iter().all(|r| path(r) == "/hook/mine"), "{got:?}");
    let more = receiver.maybe_next(QUIET).await;
    assert!(
        more.is_none(),
        "another account's hook got my report: {more:?}"
    );
}

#[tokio::test]
async fn literal_non_public_addresses_are_refused_at_subscribe_time() {
    // Arrange: no allow-list, as in production. Nothing here connects anywhere: the check
    // refuses before any connection, and no message is sent.
    let app = spawn_app_with(|s| s.webhook.allow_cidrs.clear()).await;
    let refused = [
        "http://10.0.0.1/dlr",
        "http://172.16.5.4/dlr",
        "http://192.168.1.1/dlr",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/dlr",
        "http://0.0.0.0:8080/dlr",
        "http://127.0.0.1:9000/dlr",
        "http://127.1.2.3/dlr",
        "http://[::1]:9000/dlr",
        "http://[fd00::1]/dlr",
        "http://[fe80::1]/dlr",
        "http://[::ffff:10.0.0.1]/dlr",
        "http://[::ffff:127.0.0.1]/dlr",
        "http://224.0.0.1/dlr",
        "http://[ff02::1]/dlr",
        "http://[::]/dlr",
    ];

    for url in refused {
        // Act
        let body = subscribe_form(
            &app,
            &app.api_key,
            &[("target_url", url), ("event_type", "dlr")],
        )
        .await;

        // Assert
        assert_eq!(body["success"], false, "{url}: {body}");
        assert!(body["id"].is_null(), "{url}: {body}");
        let message = body["error_message"].as_str().unwrap_or("");
        assert!(message.contains("refused"), "{url}: unclear error {body}");
    }
    assert_eq!(listed_ids(&app).await, Vec::<String>::new());
    // The guard is not a blanket refusal: a public address and a name are accepted (names are
    // checked when they are resolved at delivery time).
    for url in ["http://93.184.216.34/dlr", "https://hooks.example.com/dlr"] {
        let body = subscribe_form(
            &app,
            &app.api_key,
            &[("target_url", url), ("event_type", "dlr")],
        )
        .await;
        assert_eq!(body["success"], true, "{url}: {body}");
    }
}

#[tokio::test]
async fn loopback_is_accepted_only_when_the_allow_list_opens_it() {
    // Arrange: the test settings allow 127.0.0.0/8 and ::1.
    let app = spawn_app().await;

    // Act
    let v4 = subscribe_form(
        &app,
        &app.api_key,
        &[
            ("target_url", "http://127.0.0.1:9/x"),
            ("event_type", "dlr"),
        ],
    )
    .await;
    let v6 = subscribe_form(
        &app,
        &app.api_key,
        &[("target_url", "http://[::1]:9/x"), ("event_type", "dlr")],
    )
    .await;
    let private = subscribe_form(
        &app,
        &app.api_key,
        &[("target_url", "http://10.0.0.1/x"), ("event_type", "dlr")],
    )
    .await;

    // Assert
    assert_eq!(v4["success"], true, "{v4}");
    assert_eq!(v6["success"], true, "{v6}");
    assert_eq!(
        private["success"], false,
        "the allow-list opens only its ranges: {private}"
    );
}
