//! `GET /openapi.json` of a running dlrgate: served without credentials, valid OpenAPI 3.1 for
//! an independent validator (npm `@seriousme/openapi-schema-validator`, pinned in
//! `tests/openapi/`, run by `tests/openapi/validate.mjs`), true about the routes the app serves,
//! and saying what clients need: `/api/sms` parameters, answers and every credential form.
//! Node.js and `npm ci --prefix tests/openapi` are required; without them these tests fail.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::helpers::app::{TestApp, spawn_app};

const NODE_DEADLINE: Duration = Duration::from_secs(60);

fn validator_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/openapi")
}

async fn fetch_document(app: &TestApp) -> Value {
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.unwrap()
}

/// Runs `tests/openapi/validate.mjs` on `document`: whether it passed, and what it printed.
async fn validate(dir: &std::path::Path, document: &Value) -> (bool, String) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(document).unwrap()).unwrap();
    let mut node = Command::new("node");
    node.arg(dir.join("validate.mjs"))
        .arg(file.path())
        .arg("3.1")
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(NODE_DEADLINE, node.output())
        .await
        .expect("the validator did not finish in time")
        .unwrap_or_else(|e| panic!("node could not start ({e}); is Node.js installed?"));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

#[tokio::test]
async fn openapi_json_is_served_without_credentials_and_is_valid_openapi_3_1() {
    // Arrange
    let dir = validator_dir();
    let installed = dir.join("node_modules/@seriousme/openapi-schema-validator/package.json");
    assert!(
        installed.exists(),
        "the validator is not installed: run `npm ci --prefix tests/openapi --no-audit --no-fund`"
    );
    let app = spawn_app().await;
    let document = fetch_document(&app).await;

    // Act
    let verdict = validate(&dir, &document).await;
    let mut broken = document.clone();
    broken["info"].as_object_mut().unwrap().remove("version");
    let verdict_on_broken = validate(&dir, &broken).await;

    // Assert
    let (valid, report) = verdict;
    assert!(valid, "the validator refused the document:\n{report}");
    assert_eq!(report.trim(), "valid OpenAPI 3.1");
    let (valid, report) = verdict_on_broken;
    assert!(
        !valid && report.contains("version"),
        "a broken copy passed:\n{report}"
    );
    assert_eq!(document["openapi"], "3.1.0");
}

#[tokio::test]
async fn openapi_json_describes_sms_parameters_answers_and_every_credential_form() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let doc = fetch_document(&app).await;

    // Assert: POST takes `to` and `text` as a form or JSON, GET in the query.
    let post = &doc["paths"]["/api/sms"]["post"];
    for content_type in ["application/x-www-form-urlencoded", "application/json"] {
        let schema = &post["requestBody"]["content"][content_type]["schema"];
        assert_eq!(schema["$ref"], "#/components/schemas/SmsParameters");
    }
    let body = &doc["components"]["schemas"]["SmsParameters"];
    assert!(body["properties"]["to"].is_object() && body["properties"]["text"].is_object());
    assert_eq!(body["required"], json!(["to", "text"]));
    let query = doc["paths"]["/api/sms"]["get"]["parameters"]
        .as_array()
        .unwrap();
    for name in ["to", "text"] {
        let param = query.iter().find(|p| p["name"] == name).unwrap();
        assert_eq!(
            (&param["in"], &param["required"]),
            (&json!("query"), &json!(true))
        );
    }
    // Answers: 200 (the result or a bare return code), 429, 500, 503.
    let answers = &post["responses"];
    let ok = &answers["200"]["content"]["application/json"]["schema"]["oneOf"];
    assert_eq!(ok[0]["$ref"], "#/components/schemas/SmsResponse");
    assert_eq!(ok[1]["$ref"], "#/components/schemas/ReturnCode");
    let codes = &doc["components"]["schemas"]["ReturnCode"]["enum"];
    assert!(codes.as_array().unwrap().contains(&json!(900)), "{codes}");
    for status in ["429", "500", "503"] {
        assert!(answers[status].is_object(), "no {status} answer");
    }
    // Credentials: X-Api-Key, Authorization (raw key) or `p`, any one of them.
    let schemes = &doc["components"]["securitySchemes"];
    let scheme = |name: &str| {
        (
            schemes[name]["type"].clone(),
            schemes[name]["in"].clone(),
            schemes[name]["name"].clone(),
        )
    };
    assert_eq!(
        scheme("ApiKeyHeader"),
        (json!("apiKey"), json!("header"), json!("X-Api-Key"))
    );
    assert_eq!(
        scheme("AuthorizationKey"),
        (json!("apiKey"), json!("header"), json!("Authorization"))
    );
    assert_eq!(
        scheme("ApiKeyParameter"),
        (json!("apiKey"), json!("query"), json!("p"))
    );
    let security = json!([{"ApiKeyHeader": []}, {"AuthorizationKey": []}, {"ApiKeyParameter": []}]);
    assert_eq!(post["security"], security);
    assert_eq!(doc["paths"]["/openapi.json"]["get"]["security"], json!([]));
    let ingest = &doc["paths"]["/ingest/{connector}"]["post"]["security"];
    assert_eq!(ingest, &json!([{"IngestToken": []}, {"IngestBearer": []}]));
}

/// The routes docs/api.md, docs/dashboard.md and docs/upstreams.md promise, with their methods.
const PUBLIC_ROUTES: &[(&str, &[&str])] = &[
    ("/api/sms", &["get", "post", "delete"]),
    ("/api/status", &["get", "post"]),
    ("/api/journal", &["get", "post"]),
    ("/api/journal/{kind}", &["get", "post"]),
    ("/api/balance", &["get", "post"]),
    ("/api/messages/{id}/events", &["get"]),
    ("/api/hooks", &["get", "post", "delete"]),
    ("/api/hooks/{id}/attempts", &["get"]),
    ("/api/hooks/{id}/deliveries", &["get"]),
    ("/api/hooks/{id}/deliveries/{delivery}/resend", &["post"]),
    ("/api/hooks/{id}/enable", &["post"]),
    ("/api/hooks/{id}/disable", &["post"]),
    ("/api/hooks/{id}/recover", &["post"]),
    ("/api/dashboard/accounts", &["get"]),
    ("/api/dashboard/counts", &["get"]),
    ("/api/dashboard/activity", &["get"]),
    ("/api/dashboard/connectors", &["get"]),
    ("/dashboard", &["get"]),
    ("/dashboard/app.js", &["get"]),
    ("/dashboard/app.css", &["get"]),
    ("/ingest/{connector}", &["get", "post"]),
    ("/healthz", &["get"]),
    ("/readyz", &["get"]),
    ("/metrics", &["get"]),
    ("/openapi.json", &["get"]),
];

/// Sends `method path` (path parameters filled in) without credentials; whether the app has a
/// route for it: not 405, and not the fallback's 404 `no such endpoint`.
async fn is_served(app: &TestApp, method: &str, path: &str) -> bool {
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| match segment {
            "{kind}" => "outbound",
            "{connector}" => "no-such-connector",
            parameter if parameter.starts_with('{') => "1",
            literal => literal,
        })
        .collect();
    let path = path.join("/");
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let response = app
        .http
        .request(method, app.url(&path))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    status != 405 && !(status == 404 && body.contains("no such endpoint"))
}

#[tokio::test]
async fn every_documented_operation_is_served_and_every_public_route_is_documented() {
    // Arrange
    let app = spawn_app().await;
    assert!(
        !is_served(&app, "put", "/api/sms").await,
        "the probe sees no 405"
    );
    assert!(
        !is_served(&app, "get", "/api/nothing").await,
        "the probe sees no 404"
    );

    // Act
    let doc = fetch_document(&app).await;

    // Assert
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                is_served(&app, method, path).await,
                "{method} {path} is not served"
            );
        }
    }
    for (path, methods) in PUBLIC_ROUTES {
        let mut documented: Vec<&str> = paths[*path]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        documented.sort_unstable();
        let mut expected = methods.to_vec();
        expected.sort_unstable();
        assert_eq!(documented, expected, "{path}");
    }
    assert_eq!(paths.len(), PUBLIC_ROUTES.len(), "{:?}", paths.keys());
}
