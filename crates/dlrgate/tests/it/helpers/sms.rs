//! Helpers shared by the `/api/sms` tests (`sms.rs`, `sms_schedule.rs`, `balance.rs`).

use serde_json::{Value, json};

use super::app::TestApp;

pub fn close(actual: &Value, expect: f64) -> bool {
    actual
        .as_f64()
        .is_some_and(|value| (value - expect).abs() < 1e-9)
}

/// `DELETE /api/sms` with a JSON body, as the JS SDK sends it.
pub async fn cancel(app: &TestApp, key: &str, ids: &str) -> Value {
    let response = app
        .http
        .delete(app.url("/api/sms"))
        .header("X-Api-Key", key)
        .header("Accept", "application/json")
        .json(&json!({ "ids": ids }))
        .send()
        .await
        .unwrap();
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
