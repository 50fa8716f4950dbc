//! The dashboard's JSON and its administrator key, over HTTP against the real `Application`:
//! the administrator key acts for the account `X-Dlrgate-Account` names, an account key with
//! that header reaches nothing, and the summaries count only the caller's messages.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::Value;

use crate::helpers::app::{TestApp, spawn_app, spawn_app_with};

pub const ADMIN_KEY: &str = "admin-key-for-the-dashboard-tests";

pub async fn spawn_with_admin() -> TestApp {
    spawn_app_with(|settings| settings.dashboard.admin_key = ADMIN_KEY.to_owned()).await
}

/// GET `path` as JSON with `key` and, when given, `X-Dlrgate-Account`; the raw text when the
/// answer is not JSON.
async fn get(app: &TestApp, path: &str, key: &str, account: Option<&str>) -> Value {
    let mut request = app
        .http
        .get(app.url(path))
        .header("X-Api-Key", key)
        .header("Accept", "application/json");
    if let Some(account) = account {
        request = request.header("X-Dlrgate-Account", account);
    }
    let text = request.send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

#[tokio::test]
async fn an_account_key_with_the_account_header_reaches_no_other_account() {
    // Arrange
    let app = spawn_with_admin().await;
    let other = app.create_account("other", &[]);
    let other_id = other["account_id"].to_string().trim_matches('"').to_owned();
    let other_key = other["api_key"].as_str().unwrap();
    app.send_one("491701234561", "first account's secret").await;

    // Act
    let as_other_via_header = get(&app, "/api/journal/outbound", other_key, Some("1")).await;
    let own_key_other_account =
        get(&app, "/api/journal/outbound", &app.api_key, Some(&other_id)).await;
    let others_journal = get(&app, "/api/journal/outbound", other_key, None).await;
    let accounts_with_account_key = get(&app, "/api/dashboard/accounts", &app.api_key, None).await;

    // Assert
    assert_eq!(as_other_via_header, Value::from(900));
    assert_eq!(own_key_other_account, Value::from(900));
    assert_eq!(others_journal, serde_json::json!([]));
    assert_eq!(accounts_with_account_key, Value::from(900));
}

#[tokio::test]
async fn the_admin_key_acts_for_the_named_account_and_lists_every_account() {
    // Arrange
    let app = spawn_with_admin().await;
    let other = app.create_account("other", &[]);
    let other_id = other["account_id"].to_string().trim_matches('"').to_owned();
    let id = app.send_one("491701234561", "first").await;

    // Act
    let accounts = get(&app, "/api/dashboard/accounts", ADMIN_KEY, None).await;
    let first = get(&app, "/api/journal/outbound", ADMIN_KEY, Some("1")).await;
    let second = get(&app, "/api/journal/outbound", ADMIN_KEY, Some(&other_id)).await;
    let no_account = get(&app, "/api/journal/outbound", ADMIN_KEY, None).await;
    let unknown = get(&app, "/api/journal/outbound", ADMIN_KEY, Some("999999")).await;
    let connectors = get(&app, "/api/dashboard/connectors", ADMIN_KEY, None).await;

    // Assert
    let names: Vec<&str> = accounts["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{accounts}");
    assert!(names.contains(&"other"), "{accounts}");
    assert_eq!(first[0]["id"], id.as_str(), "{first}");
    assert_eq!(second, serde_json::json!([]));
    assert_eq!(no_account, Value::from(900));
    assert_eq!(unknown["code"], "not_found", "{unknown}");
    assert_eq!(
        connectors["connectors"][0]["name"], "sandbox",
        "{connectors}"
    );
}

#[tokio::test]
async fn without_an_admin_key_set_no_key_is_the_administrator() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let empty = get(&app, "/api/dashboard/accounts", "", None).await;
    let guessed = get(&app, "/api/dashboard/accounts", ADMIN_KEY, None).await;
    let own = get(&app, "/api/dashboard/counts", &app.api_key, Some("1")).await;

    // Assert
    assert_eq!(empty, Value::from(900));
    assert_eq!(guessed, Value::from(900));
    assert_eq!(own, Value::from(900));
}

#[tokio::test]
async fn counts_and_activity_show_the_callers_delivered_messages() {
    // Arrange
    let app = spawn_with_admin().await;
    let other = app.create_account("other", &[]);
    let other_key = other["api_key"].as_str().unwrap();
    let id = app.send_one("491701234561", "hello").await;
    let status = app
        .wait_for_status(&id, "DELIVERED", Duration::from_secs(10))
        .await;
    assert_eq!(status[0]["status"], "DELIVERED", "{status}");

    // Act
    let counts = get(&app, "/api/dashboard/counts", &app.api_key, None).await;
    let activity = get(
        &app,
        "/api/dashboard/activity?minutes=5",
        &app.api_key,
        None,
    )
    .await;
    let others = get(&app, "/api/dashboard/counts", other_key, None).await;
    let bad = get(
        &app,
        "/api/dashboard/activity?minutes=0",
        &app.api_key,
        None,
    )
    .await;

    // Assert
    assert_eq!(counts["counts"]["DELIVERED"], 1, "{counts}");
    let buckets = activity["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 5);
    let sent: u64 = buckets.iter().map(|b| b["sent"].as_u64().unwrap()).sum();
    let delivered: u64 = buckets
        .iter()
        .map(|b| b["delivered"].as_u64().unwrap())
        .sum();
    assert_eq!((sent, delivered), (1, 1), "{activity}");
    assert_eq!(others["counts"], serde_json::json!({}));
    assert_eq!(bad, Value::from(308));
}

#[tokio::test]
async fn the_page_is_served_without_a_key_under_a_strict_policy() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let page = app.http.get(app.url("/dashboard")).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let script = app
        .http
        .get(app.url("/dashboard/app.js"))
        .send()
        .await
        .unwrap();

    // Assert
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(html.contains("<script src=\"/dashboard/app.js\""), "{html}");
    assert!(!html.contains("<script>"), "inline script in the page");
    assert_eq!(script.status(), 200);
}
