//! Accounts and authentication over HTTP (seven-api.md §1 and §6.5, issue 2 item 3): every
//! credential form, `900` for missing, wrong and revoked keys, optional request signatures with
//! `901` when they are wrong, stale or replayed, and tenant isolation.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use rand::Rng;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::app::{TestApp, spawn_app};
use crate::helpers::binary;

const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
enum Credential {
    XApiKey,
    BasicLower,
    BasicUpper,
    Bearer,
    QueryP,
    FormP,
}

const EVERY_CREDENTIAL: [Credential; 6] = [
    Credential::XApiKey,
    Credential::BasicLower,
    Credential::BasicUpper,
    Credential::Bearer,
    Credential::QueryP,
    Credential::FormP,
];

/// Sends one SMS (form body, JSON answer) presenting `key` as `credential`; the body as text.
async fn send_with(app: &TestApp, credential: Credential, key: &str) -> String {
    let mut form = vec![("to", "491701234561"), ("text", "auth")];
    let mut url = app.url("/api/sms");
    let request = app.http.post(&url).header("Accept", "application/json");
    let request = match credential {
        Credential::XApiKey => request.header("X-Api-Key", key),
        Credential::BasicLower => request.header("Authorization", format!("basic {key}")),
        Credential::BasicUpper => request.header("Authorization", format!("Basic {key}")),
        Credential::Bearer => request.header("Authorization", format!("Bearer {key}")),
        Credential::QueryP => {
            url.push_str(&format!("?p={key}"));
            app.http.post(&url).header("Accept", "application/json")
        }
        Credential::FormP => {
            form.push(("p", key));
            request
        }
    };
    let response = request.form(&form).send().await.unwrap();
    assert_eq!(response.status(), 200, "{credential:?}");
    response.text().await.unwrap()
}

async fn journal_len(app: &TestApp, key: &str) -> usize {
    let response = app
        .http
        .get(app.url("/api/journal/outbound"))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body.as_array().unwrap().len()
}

/// GET `path` as `key`, JSON asked for; status and body text.
async fn get_as(app: &TestApp, key: &str, path: &str) -> (u16, String) {
    let response = app
        .http
        .get(app.url(path))
        .header("X-Api-Key", key)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn nonce() -> String {
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// seven-api.md §6.5: lowercase hex HMAC-SHA256 over "ts\nnonce\nMETHOD\nURL\nmd5hex(body)".
pub(crate) fn sign(
    secret: &str,
    timestamp: i64,
    nonce: &str,
    method: &str,
    url: &str,
    body: &[u8],
) -> String {
    let body_md5 = hex::encode(Md5::digest(body));
    let to_sign = format!("{timestamp}\n{nonce}\n{method}\n{url}\n{body_md5}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What a signed request sends; tests change one field to break it.
struct Signed {
    method: reqwest::Method,
    path: String,
    body: Vec<u8>,
    timestamp: i64,
    nonce: String,
    signature: String,
}

impl Signed {
    /// A correctly signed request over the full URL.
    fn new(app: &TestApp, method: reqwest::Method, path: &str, body: &[u8]) -> Signed {
        let (timestamp, nonce) = (now(), nonce());
        let signature = sign(
            &app.signing_secret,
            timestamp,
            &nonce,
            method.as_str(),
            &app.url(path),
            body,
        );
        Signed {
            method,
            path: path.to_owned(),
            body: body.to_vec(),
            timestamp,
            nonce,
            signature,
        }
    }

    async fn send(&self, app: &TestApp, headers: &[&str]) -> String {
        let mut request = app
            .http
            .request(self.method.clone(), app.url(&self.path))
            .header("X-Api-Key", &app.api_key)
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body(self.body.clone());
        for header in headers {
            request = match *header {
                "X-Signature" => request.header("X-Signature", &self.signature),
                "X-Timestamp" => request.header("X-Timestamp", self.timestamp.to_string()),
                "X-Nonce" => request.header("X-Nonce", &self.nonce),
                other => panic!("unknown header {other}"),
            };
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}

const ALL_HEADERS: [&str; 3] = ["X-Signature", "X-Timestamp", "X-Nonce"];

fn sms_body(text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"to": "491701234561", "text": text})).unwrap()
}

fn is_accepted(answer: &str) -> bool {
    serde_json::from_str::<Value>(answer).is_ok_and(|body| body["success"] == "100")
}

#[tokio::test]
async fn every_credential_form_is_accepted() {
    // Arrange
    let app = spawn_app().await;

    for credential in EVERY_CREDENTIAL {
        // Act
        let answer = send_with(&app, credential, &app.api_key).await;

        // Assert
        assert!(is_accepted(&answer), "{credential:?}: {answer}");
    }
    assert_eq!(
        journal_len(&app, &app.api_key).await,
        EVERY_CREDENTIAL.len()
    );
}

#[tokio::test]
async fn wrong_key_in_every_credential_form_gets_900_and_stores_nothing() {
    // Arrange
    let app = spawn_app().await;

    for credential in EVERY_CREDENTIAL {
        // Act
        let answer = send_with(&app, credential, "wrong-key-0123456789").await;

        // Assert
        assert_eq!(answer, "900", "{credential:?}");
    }
    assert_eq!(journal_len(&app, &app.api_key).await, 0);
}

#[tokio::test]
async fn missing_credentials_get_900_with_http_200_on_every_endpoint() {
    // Arrange
    let app = spawn_app().await;
    let id = app.send_one("491701234561", "x").await;
    let requests = [
        app.http
            .post(app.url("/api/sms"))
            .form(&[("to", "491701234561"), ("text", "x")]),
        app.http.get(app.url("/api/sms?to=491701234561&text=x")),
        app.http
            .delete(app.url("/api/sms"))
            .json(&json!({"ids": id})),
        app.http.get(app.url(&format!("/api/status?msg_id={id}"))),
        app.http
            .post(app.url("/api/status"))
            .form(&[("msg_id", id.as_str())]),
        app.http.get(app.url("/api/journal/outbound")),
        app.http.get(app.url("/api/journal?type=outbound")),
        app.http.get(app.url("/api/balance")),
        app.http.get(app.url(&format!("/api/messages/{id}/events"))),
        app.http.get(app.url("/api/sms?to=491701234561&text=x&p=")),
        app.http.get(app.url("/api/status")).header("X-Api-Key", ""),
        app.http
            .get(app.url("/api/status"))
            .header("Authorization", "Basic"),
        app.http
            .get(app.url("/api/status"))
            .header("Authorization", "Digest abc"),
    ];

    for request in requests {
        // Act
        let response = request
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();

        // Assert
        assert_eq!(response.status(), 200, "{}", response.url());
        let url = response.url().clone();
        assert_eq!(response.text().await.unwrap(), "900", "{url}");
    }
    assert_eq!(journal_len(&app, &app.api_key).await, 1);
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_key_gets_900_and_the_accounts_other_keys_keep_working() {
    // Arrange
    let app = spawn_app().await;
    let data = app.data_dir.to_str().unwrap().to_owned();
    let account = app.create_account("revoker", &[]);
    let first_key = account["api_key"].as_str().unwrap();
    let created: Value =
        serde_json::from_str(binary::run(&["key", "create", "revoker", "--data", &data]).trim())
            .unwrap();
    let second_key = created["api_key"].as_str().unwrap();
    let before = send_with(&app, Credential::XApiKey, second_key).await;

    // Act
    let key_id = created["key_id"].to_string();
    binary::run(&["key", "revoke", &key_id, "--data", &data]);

    // Assert
    assert!(is_accepted(&before), "{before}");
    assert_eq!(created["account_id"], account["account_id"]);
    assert_eq!(
        send_with(&app, Credential::XApiKey, second_key).await,
        "900"
    );
    assert_eq!(send_with(&app, Credential::Bearer, second_key).await, "900");
    assert!(is_accepted(
        &send_with(&app, Credential::XApiKey, first_key).await
    ));
    assert_eq!(journal_len(&app, first_key).await, 2);
}

#[tokio::test]
async fn correctly_signed_requests_are_accepted() {
    // Arrange
    let app = spawn_app().await;
    let post = Signed::new(&app, reqwest::Method::POST, "/api/sms", &sms_body("signed"));

    // Act
    let sent = post.send(&app, &ALL_HEADERS).await;
    let id = serde_json::from_str::<Value>(&sent).unwrap()["messages"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let get = Signed::new(
        &app,
        reqwest::Method::GET,
        &format!("/api/status?msg_id={id}"),
        b"",
    );
    let status = get.send(&app, &ALL_HEADERS).await;
    let mut path_only = Signed::new(
        &app,
        reqwest::Method::GET,
        "/api/journal/outbound?limit=5",
        b"",
    );
    path_only.signature = sign(
        &app.signing_secret,
        path_only.timestamp,
        &path_only.nonce,
        "GET",
        "/api/journal/outbound?limit=5",
        b"",
    );
    let journal = path_only.send(&app, &ALL_HEADERS).await;

    // Assert
    assert!(is_accepted(&sent), "{sent}");
    let status: Value = serde_json::from_str(&status).unwrap_or_else(|_| panic!("{status}"));
    assert_eq!(status[0]["id"], json!(id));
    let journal: Value = serde_json::from_str(&journal).unwrap_or_else(|_| panic!("{journal}"));
    assert_eq!(journal[0]["id"], json!(id));
}

#[tokio::test]
async fn wrong_stale_or_replayed_signatures_get_901_and_store_nothing() {
    // Arrange
    let app = spawn_app().await;
    let body = sms_body("signed");
    let fresh = || Signed::new(&app, reqwest::Method::POST, "/api/sms", &body);
    let resign = |s: &mut Signed, secret: &str, method: &str, url: &str, body: &[u8]| {
        s.signature = sign(secret, s.timestamp, &s.nonce, method, url, body);
    };
    let full = app.url("/api/sms");
    let mut cases: Vec<(&str, Signed, &[&str])> = Vec::new();
    let mut tampered = fresh();
    tampered.body = sms_body("tampered");
    cases.push(("body changed after signing", tampered, &ALL_HEADERS));
    let mut wrong_secret = fresh();
    resign(&mut wrong_secret, "not-the-secret", "POST", &full, &body);
    cases.push(("wrong secret", wrong_secret, &ALL_HEADERS));
    let mut wrong_method = fresh();
    resign(&mut wrong_method, &app.signing_secret, "GET", &full, &body);
    cases.push(("wrong method", wrong_method, &ALL_HEADERS));
    let mut wrong_url = fresh();
    resign(
        &mut wrong_url,
        &app.signing_secret,
        "POST",
        &app.url("/api/sms?x=1"),
        &body,
    );
    cases.push(("wrong url", wrong_url, &ALL_HEADERS));
    let mut stale = fresh();
    stale.timestamp = now() - 120;
    resign(&mut stale, &app.signing_secret, "POST", &full, &body);
    cases.push(("stale timestamp", stale, &ALL_HEADERS));
    let mut future = fresh();
    future.timestamp = now() + 120;
    resign(&mut future, &app.signing_secret, "POST", &full, &body);
    cases.push(("timestamp in the future", future, &ALL_HEADERS));
    let mut garbage = fresh();
    garbage.signature = "zz".repeat(32);
    cases.push(("signature not hex", garbage, &ALL_HEADERS));
    cases.push(("X-Nonce missing", fresh(), &["X-Signature", "X-Timestamp"]));
    cases.push(("X-Timestamp missing", fresh(), &["X-Signature", "X-Nonce"]));

    for (what, signed, headers) in &cases {
        // Act
        let answer = signed.send(&app, headers).await;

        // Assert
        assert_eq!(answer, "901", "{what}");
    }
    assert_eq!(journal_len(&app, &app.api_key).await, 0);
}

#[tokio::test]
async fn a_replayed_nonce_gets_901() {
    // Arrange
    let app = spawn_app().await;
    let signed = Signed::new(&app, reqwest::Method::POST, "/api/sms", &sms_body("once"));
    let first = signed.send(&app, &ALL_HEADERS).await;

    // Act
    let replay = signed.send(&app, &ALL_HEADERS).await;

    // Assert
    assert!(is_accepted(&first), "{first}");
    assert_eq!(replay, "901");
    assert_eq!(journal_len(&app, &app.api_key).await, 1);
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_accounts_signing_secret_gets_901() {
    // Arrange
    let app = spawn_app().await;
    let other = app.create_account("other-signer", &[]);
    let mut signed = Signed::new(&app, reqwest::Method::POST, "/api/sms", &sms_body("x"));
    signed.signature = sign(
        other["signing_secret"].as_str().unwrap(),
        signed.timestamp,
        &signed.nonce,
        "POST",
        &app.url("/api/sms"),
        &signed.body,
    );

    // Act
    let answer = signed.send(&app, &ALL_HEADERS).await;

    // Assert
    assert_eq!(answer, "901");
}

// Multi-threaded: the CLI call blocks this thread, and the app must keep running meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_never_sees_or_cancels_another_accounts_messages() {
    // Arrange
    let app = spawn_app().await;
    let a_key = app.api_key.clone();
    let b = app.create_account("tenant-b", &[]);
    let b_key = b["api_key"].as_str().unwrap().to_owned();
    let a_sent = app.send_one("491701234561", "secret of A").await;
    app.wait_for_status(&a_sent, "DELIVERED", WAIT).await;
    let at = now() + 3600;
    let a_delayed: Value = app
        .send_sms(json!({"to": "491701234562", "text": "later", "delay": at}))
        .await
        .json()
        .await
        .unwrap();
    let a_delayed = a_delayed["messages"][0]["id"].as_str().unwrap().to_owned();
    let b_sent: Value = app
        .send_sms_as(&b_key, json!({"to": "491701234563", "text": "B"}))
        .await
        .json()
        .await
        .unwrap();
    let b_sent = b_sent["messages"][0]["id"].as_str().unwrap().to_owned();

    // Act
    let status_single = get_as(&app, &b_key, &format!("/api/status?msg_id={a_sent}")).await;
    let status_legacy = app
        .http
        .get(app.url(&format!("/api/status?msg_id={a_sent}")))
        .header("X-Api-Key", &b_key)
        .send()
        .await;
    let status_legacy = status_legacy.unwrap().text().await.unwrap();
    let status_many = get_as(
        &app,
        &b_key,
        &format!("/api/status?msg_id={a_sent},{b_sent}"),
    )
    .await;
    let b_journal = get_as(&app, &b_key, "/api/journal/outbound").await;
    let b_journal_by_id = get_as(&app, &b_key, &format!("/api/journal/outbound?id={a_sent}")).await;
    let b_events = get_as(&app, &b_key, &format!("/api/messages/{a_sent}/events")).await;
    let b_cancel: Value = app
        .http
        .delete(app.url("/api/sms"))
        .header("X-Api-Key", &b_key)
        .header("Accept", "application/json")
        .json(&json!({"ids": a_delayed}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a_journal = get_as(&app, &a_key, "/api/journal/outbound").await;

    // Assert
    assert_eq!(status_single, (200, "901".to_owned()));
    assert_eq!(status_legacy, "901");
    let many: Value = serde_json::from_str(&status_many.1).unwrap();
    assert_eq!(
        many[0],
        json!({"id": a_sent, "status": null, "status_time": null})
    );
    assert_eq!(many[1]["id"], json!(b_sent));
    let b_rows: Value = serde_json::from_str(&b_journal.1).unwrap();
    let b_ids: Vec<&str> = b_rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(b_ids, [b_sent.as_str()]);
    assert!(!b_journal.1.contains("secret of A"));
    assert_eq!(b_journal_by_id.1, "[]");
    assert_eq!(b_events.0, 404, "{}", b_events.1);
    assert!(!b_events.1.contains("secret of A"));
    assert_eq!(b_cancel, json!({"success": false, "deleted": []}));
    let a_rows: Value = serde_json::from_str(&a_journal.1).unwrap();
    let mut a_ids: Vec<&str> = a_rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    a_ids.sort_unstable();
    let mut expect = [a_sent.as_str(), a_delayed.as_str()];
    expect.sort_unstable();
    assert_eq!(a_ids, expect);
    let a_cancel: Value = app
        .http
        .delete(app.url("/api/sms"))
        .header("X-Api-Key", &a_key)
        .header("Accept", "application/json")
        .json(&json!({"ids": a_delayed}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a_cancel, json!({"success": true, "deleted": [a_delayed]}));
}
