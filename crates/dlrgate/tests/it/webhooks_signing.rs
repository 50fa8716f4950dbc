//! Webhook signatures as a receiver checks them (issue 3 item 3): seven.io's `X-Signature`
//! (seven-api.md §6.5) recomputed here over the full URL requested and verified by the official
//! npm SDK's `WebhookVerifier` (`tests/sdk/webhook-verify.mjs`); the Standard Webhooks headers
//! verified with the `standardwebhooks` crate, `webhook-id` stable across retries; and both
//! secrets signing during the grace period after `dlrgate account rotate-secret`.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde_json::{Value, json};
use sha2::Sha256;
use standardwebhooks::Webhook;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::helpers::app::{TestApp, spawn_app};
use crate::helpers::binary;
use crate::helpers::hooks_api::{DELIVERED_TO, QUIET, WAIT, fields, send, subscribe};
use crate::helpers::receiver::{Received, Reply, WebhookReceiver};
use crate::sdk::{describe, ensure_sdk_installed, sdk_dir};

const NODE_DEADLINE: Duration = Duration::from_secs(60);

/// The full URL the receiver was asked for: scheme, host, port, path and query.
fn full_url(receiver: &WebhookReceiver, request: &Received) -> String {
    let origin = receiver.url.strip_suffix("/hook").unwrap();
    format!("{origin}{}", request.uri)
}

/// seven.io's signature (§6.5), computed independently of dlrgate's code.
fn seven_signature(secret: &str, request: &Received, url: &str) -> String {
    let to_sign = format!(
        "{}\n{}\n{}\n{}\n{}",
        request.header("x-timestamp"),
        request.header("x-nonce"),
        request.method,
        url,
        hex::encode(Md5::digest(&request.body))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The Standard Webhooks verifier for a signing secret (`whsec_` + base64 of its bytes).
fn standard_verifier(secret: &str) -> Webhook {
    Webhook::new(&format!("whsec_{}", STANDARD.encode(secret.as_bytes()))).unwrap()
}

fn status_of(request: &Received) -> String {
    fields(request)["data[status]"].clone()
}

/// Runs `tests/sdk/webhook-verify.mjs` on one webhook as the receiver saw it (with `body`
/// instead of the received body, to tamper with it); `Ok` when the official verifier accepts
/// it, `Err` with its answer when it refuses it.
async fn sdk_verify(
    secret: &str,
    request: &Received,
    url: &str,
    body: &[u8],
) -> Result<String, String> {
    let headers: BTreeMap<&str, &str> = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.to_str().unwrap()))
        .collect();
    let input = json!({
        "secret": secret,
        "url": url,
        "method": request.method,
        "headers": headers,
        "body": std::str::from_utf8(body).unwrap(),
    });
    let mut node = Command::new("node");
    node.arg(sdk_dir().join("webhook-verify.mjs"))
        .current_dir(sdk_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = node
        .spawn()
        .unwrap_or_else(|e| panic!("could not start node ({e}); is Node.js installed?"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(NODE_DEADLINE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("webhook-verify.mjs took longer than {NODE_DEADLINE:?}"))
        .unwrap();
    let answer = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match output.status.code() {
        Some(0) => Ok(answer),
        Some(1) => Err(answer),
        _ => panic!("webhook-verify.mjs failed:\n{}", describe(&output)),
    }
}

/// One app with a JSON, a form and a GET hook (the GET target has its own query); sends one
/// message and returns the 9 webhooks.
async fn three_encodings() -> (TestApp, WebhookReceiver, Vec<Received>) {
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    let base = receiver.url.clone();
    subscribe(&app, &format!("{base}/json"), "JSON", &[]).await;
    subscribe(&app, &format!("{base}/form"), "POST", &[]).await;
    subscribe(&app, &format!("{base}/get?token=a%20b"), "GET", &[]).await;
    send(
        &app,
        json!({"to": DELIVERED_TO, "text": "signed", "foreign_id": "order.42@shop", "label": "otp"}),
    )
    .await;
    let got = receiver.collect(9, WAIT).await;
    (app, receiver, got)
}

#[tokio::test]
async fn seven_signature_covers_the_full_url_and_the_body_in_every_encoding() {
    // Arrange
    let (app, receiver, got) = three_encodings().await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();

    for request in &got {
        // Act
        let url = full_url(&receiver, request);
        let expect = seven_signature(&app.signing_secret, request, &url);

        // Assert
        assert_eq!(request.header("x-signature"), expect, "{url}");
        let nonce = request.header("x-nonce");
        assert!(
            nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()),
            "X-Nonce {nonce:?}"
        );
        let timestamp: i64 = request.header("x-timestamp").parse().unwrap();
        assert!((now - timestamp).abs() <= 60, "X-Timestamp {timestamp}");
        assert!(request.headers.get("x-signature-previous").is_none());
        // Without the query a GET webhook's signature does not verify: the query is covered.
        if request.method == "GET" {
            let without_query = url.split('?').next().unwrap();
            assert_ne!(
                request.header("x-signature"),
                seven_signature(&app.signing_secret, request, without_query)
            );
        }
    }
    let nonces: BTreeSet<&str> = got.iter().map(|r| r.header("x-nonce")).collect();
    assert_eq!(nonces.len(), got.len(), "every request has its own nonce");
}

#[tokio::test]
async fn a_target_url_without_a_path_is_signed_as_the_receiver_sees_it() {
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    let origin = receiver.url.strip_suffix("/hook").unwrap().to_owned();
    subscribe(&app, &origin, "JSON", &[]).await;

    // Act
    send(&app, json!({"to": DELIVERED_TO, "text": "root"})).await;
    let request = receiver.next(WAIT).await;

    // Assert
    assert_eq!(request.uri, "/");
    let url = format!("{origin}/");
    assert_eq!(
        request.header("x-signature"),
        seven_signature(&app.signing_secret, &request, &url)
    );
}

#[tokio::test]
async fn the_official_sdk_webhook_verifier_accepts_json_form_and_get_webhooks() {
    // Arrange
    ensure_sdk_installed().await;
    let (app, receiver, got) = three_encodings().await;

    for path in ["/hook/json", "/hook/form", "/hook/get"] {
        let request = got.iter().find(|r| r.uri.starts_with(path)).unwrap();
        let url = full_url(&receiver, request);

        // Act
        let verdict = sdk_verify(&app.signing_secret, request, &url, &request.body).await;

        // Assert
        assert!(verdict.is_ok(), "{path}: the SDK refused it: {verdict:?}");
    }
}

#[tokio::test]
async fn the_official_sdk_webhook_verifier_refuses_a_tampered_body_a_wrong_url_and_a_wrong_secret()
{
    // Arrange
    ensure_sdk_installed().await;
    let (app, receiver, got) = three_encodings().await;
    let json = got.iter().find(|r| r.uri == "/hook/json").unwrap();
    let get = got.iter().find(|r| r.uri.starts_with("/hook/get")).unwrap();
    let url = full_url(&receiver, json);
    let tampered = String::from_utf8(json.body.to_vec())
        .unwrap()
        .replace("\"status\":\"", "\"status\":\"NOT");
    assert_ne!(tampered.as_bytes(), &json.body[..]);

    // Act
    let genuine = sdk_verify(&app.signing_secret, json, &url, &json.body).await;
    let body = sdk_verify(&app.signing_secret, json, &url, tampered.as_bytes()).await;
    let wrong_secret = sdk_verify("not-the-secret", json, &url, &json.body).await;
    let get_url = full_url(&receiver, get);
    let tampered_query = get_url.replace("data%5Bstatus%5D=", "data%5Bstatus%5D=X");
    let query = sdk_verify(&app.signing_secret, get, &tampered_query, &get.body).await;

    // Assert
    assert!(genuine.is_ok(), "{genuine:?}");
    for (what, verdict) in [
        ("tampered body", body),
        ("wrong secret", wrong_secret),
        ("tampered GET query", query),
    ] {
        let refusal = verdict.expect_err(what);
        assert!(refusal.contains("Signature mismatch"), "{what}: {refusal}");
    }
}

#[tokio::test]
async fn standard_webhooks_signatures_verify_with_the_account_secret_and_fail_otherwise() {
    // Arrange
    let (app, _receiver, got) = three_encodings().await;
    let verifier = standard_verifier(&app.signing_secret);
    let wrong = standard_verifier("another-secret");

    for request in &got {
        // Act
        let genuine = verifier.verify(&request.body, &request.headers);
        let wrong_secret = wrong.verify(&request.body, &request.headers);
        let tampered = verifier.verify(b"{\"tampered\":true}", &request.headers);

        // Assert
        assert!(genuine.is_ok(), "{}: {genuine:?}", request.uri);
        assert!(wrong_secret.is_err(), "{}", request.uri);
        assert!(tampered.is_err(), "{}", request.uri);
        let signatures = request.header("webhook-signature");
        assert_eq!(
            signatures.split(' ').count(),
            1,
            "one secret, one signature"
        );
        assert!(signatures.starts_with("v1,"), "{signatures}");
        assert_eq!(
            request.header("webhook-timestamp"),
            request.header("x-timestamp")
        );
    }
    let ids: BTreeSet<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(
        ids.len(),
        9,
        "each delivery has its own webhook-id: {ids:?}"
    );
    assert!(!ids.contains(""), "every webhook has a webhook-id");
}

#[tokio::test]
async fn webhook_id_is_the_same_for_every_attempt_of_a_delivery_and_differs_between_deliveries() {
    // Arrange
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    receiver.push([Reply::status(500)]);
    subscribe(&app, &receiver.url, "JSON", &[]).await;
    let verifier = standard_verifier(&app.signing_secret);

    // Act
    send(&app, json!({"to": DELIVERED_TO, "text": "retry"})).await;
    let got = receiver.collect(4, WAIT).await;
    let more = receiver.maybe_next(QUIET).await;

    // Assert
    assert!(
        more.is_none(),
        "only the failed attempt is repeated: {more:?}"
    );
    let mut per_status: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for request in &got {
        per_status
            .entry(status_of(request))
            .or_default()
            .push(request);
        assert!(verifier.verify(&request.body, &request.headers).is_ok());
    }
    let mut counts: Vec<usize> = per_status.values().map(Vec::len).collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 1, 2], "{per_status:?}");
    let retried = per_status
        .values()
        .find(|attempts| attempts.len() == 2)
        .unwrap();
    assert_eq!(
        retried[0].header("webhook-id"),
        retried[1].header("webhook-id"),
        "a retry keeps the webhook-id"
    );
    assert_eq!(
        retried[0].body, retried[1].body,
        "a retry sends the same bytes"
    );
    assert_ne!(
        retried[0].header("x-nonce"),
        retried[1].header("x-nonce"),
        "each attempt has a fresh nonce"
    );
    let ids: BTreeSet<&str> = per_status
        .values()
        .map(|attempts| attempts[0].header("webhook-id"))
        .collect();
    assert_eq!(
        ids.len(),
        3,
        "each status report is its own delivery: {ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_rotating_the_secret_both_the_old_and_the_new_secret_verify_during_the_grace_period()
{
    // Arrange
    ensure_sdk_installed().await;
    let app = spawn_app().await;
    let mut receiver = WebhookReceiver::start().await;
    subscribe(&app, &receiver.url, "JSON", &[]).await;
    let old = app.signing_secret.clone();
    let data = app.data_dir.to_str().unwrap().to_owned();

    // Act
    let rotated: Value = serde_json::from_str(
        binary::run(&["account", "rotate-secret", "default", "--data", &data]).trim(),
    )
    .unwrap();
    let new = rotated["signing_secret"].as_str().unwrap().to_owned();
    send(&app, json!({"to": DELIVERED_TO, "text": "rotated"})).await;
    let request = receiver.next(WAIT).await;

    // Assert
    assert_ne!(new, old);
    let signatures = request.header("webhook-signature");
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    assert!(
        standard_verifier(&old)
            .verify(&request.body, &request.headers)
            .is_ok()
    );
    assert!(
        standard_verifier(&new)
            .verify(&request.body, &request.headers)
            .is_ok()
    );
    assert!(
        standard_verifier("never-the-secret")
            .verify(&request.body, &request.headers)
            .is_err()
    );
    let url = full_url(&receiver, &request);
    assert_eq!(
        request.header("x-signature"),
        seven_signature(&new, &request, &url)
    );
    assert_eq!(
        request.header("x-signature-previous"),
        seven_signature(&old, &request, &url)
    );
    let sdk = sdk_verify(&new, &request, &url, &request.body).await;
    assert!(sdk.is_ok(), "the SDK with the new secret: {sdk:?}");
}
