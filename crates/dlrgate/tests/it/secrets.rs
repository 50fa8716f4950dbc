//! Secrets never leak: the real binary runs with the most verbose logging while a client uses its
//! API key in every credential form, a wrong key, signed and badly signed requests, bad
//! parameters, and a hook with a secret custom header whose first delivery fails. Neither the key,
//! the wrong key, the signing secret nor the header secret (raw or base64) may then appear in the
//! process's output, in `/metrics`, or in any answer.

#![allow(clippy::unwrap_used)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::RequestBuilder;
use serde_json::{Value, json};

use crate::auth::sign;
use crate::helpers::binary::{Captured, Server, account_create};
use crate::helpers::hooks_api::{DELIVERED_TO, WAIT};
use crate::helpers::receiver::{Reply, WebhookReceiver};
use crate::helpers::sms::unix_now;

/// Everything the server wrote to stdout and stderr at `trace` level, for everything.
const ENV: &[(&str, &str)] = &[
    ("RUST_LOG", "trace"),
    ("DLRGATE_LOG_LEVEL", "trace"),
    ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8"),
    (
        "DLRGATE_WEBHOOK_RETRY_SCHEDULE",
        "0ms,50ms,100ms,200ms,400ms",
    ),
    ("DLRGATE_WEBHOOK_JITTER", "0"),
    ("DLRGATE_SANDBOX_SPEED", "1000"),
    ("DLRGATE_WORKERS_TICK", "5ms"),
];

const WRONG_KEY: &str = "wrong-key-5f1c9a0b7d3e4826";
const HEADER_SECRET: &str = "hook-header-secret-93c1e7a4";

/// Where a client can put its API key (seven-api.md §1).
#[derive(Debug, Clone, Copy)]
enum Credential {
    XApiKey,
    Basic,
    Bearer,
    QueryP,
    FormP,
}

const EVERY_CREDENTIAL: [Credential; 5] = [
    Credential::XApiKey,
    Credential::Basic,
    Credential::Bearer,
    Credential::QueryP,
    Credential::FormP,
];

/// A client that keeps every answer (status, headers, body) with the secrets it may contain.
struct Client {
    http: reqwest::Client,
    base: String,
    /// `(request, answer as text, secrets the answer may legitimately hold)`.
    answers: Vec<(String, String, &'static [&'static str])>,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request`, keeps its answer and returns the body.
    async fn keep(&mut self, name: String, request: RequestBuilder) -> String {
        self.keep_allowing(name, request, &[]).await
    }

    async fn keep_allowing(
        &mut self,
        name: String,
        request: RequestBuilder,
        allowed: &'static [&'static str],
    ) -> String {
        let response = request.header("Accept", "application/json").send().await;
        let response = response.unwrap();
        let mut text = format!("{}\n", response.status());
        for (header, value) in response.headers() {
            text.push_str(&format!("{header}: {}\n", value.to_str().unwrap_or("?")));
        }
        let body = response.text().await.unwrap();
        text.push_str(&body);
        self.answers.push((name, text, allowed));
        body
    }

    /// `POST /api/sms` presenting `key` as `credential`.
    async fn send_sms(&mut self, credential: Credential, key: &str) -> String {
        let mut form = vec![("to", DELIVERED_TO), ("text", "secrets")];
        let request = match credential {
            Credential::XApiKey => self
                .http
                .post(self.url("/api/sms"))
                .header("X-Api-Key", key),
            Credential::Basic => self
                .http
                .post(self.url("/api/sms"))
                .header("Authorization", format!("Basic {key}")),
            Credential::Bearer => self
                .http
                .post(self.url("/api/sms"))
                .header("Authorization", format!("Bearer {key}")),
            Credential::QueryP => self.http.post(self.url(&format!("/api/sms?p={key}"))),
            Credential::FormP => {
                form.push(("p", key));
                self.http.post(self.url("/api/sms"))
            }
        };
        self.keep(format!("send {credential:?}"), request.form(&form))
            .await
    }

    /// Subscribes `target_url` (JSON) with the custom `headers`; the hook id.
    async fn subscribe(&mut self, key: &str, target_url: &str, headers: &str) -> String {
        let request = self
            .http
            .post(self.url("/api/hooks"))
            .header("X-Api-Key", key);
        let form = [
            ("target_url", target_url),
            ("event_type", "dlr"),
            ("request_method", "JSON"),
            ("headers", headers),
        ];
        let answer = self.keep("subscribe".into(), request.form(&form)).await;
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["success"], true, "{answer}");
        answer["id"].to_string()
    }

    /// Sends with `key` and with a wrong key in every credential form; whether each `key` send
    /// was accepted.
    async fn every_credential(&mut self, key: &str) -> Vec<(Credential, bool)> {
        let mut accepted = Vec::new();
        for credential in EVERY_CREDENTIAL {
            let answer = self.send_sms(credential, key).await;
            accepted.push((credential, is_accepted(&answer)));
            let refused = self.send_sms(credential, WRONG_KEY).await;
            assert_eq!(refused, "900", "{credential:?}");
        }
        accepted
    }

    /// Requests with bad parameters, the key in the query (`p`) and once as a parameter's value.
    async fn bad_requests(&mut self, key: &str) {
        let paths = [
            format!("/api/sms?p={key}&to=&text=x"),
            format!("/api/sms?p={key}&to={DELIVERED_TO}&text=x&bogus={key}"),
            format!("/api/status?p={key}&msg_id=not-a-number"),
            format!("/api/hooks/not-a-hook/attempts?p={key}"),
            format!("/api/journal/outbound?p={key}&limit=1000"),
        ];
        for path in paths {
            let request = self.http.get(self.url(&path));
            let answer = self.keep(format!("GET {path}"), request).await;
            assert!(!is_accepted(&answer), "{path}: {answer}");
        }
    }

    /// `POST /api/sms` with a JSON body signed with `secret` (seven-api.md §6.5).
    async fn send_signed(&mut self, key: &str, secret: &str, nonce: &str) -> String {
        let body = serde_json::to_vec(&json!({"to": DELIVERED_TO, "text": "signed"})).unwrap();
        let (url, now) = (self.url("/api/sms"), unix_now());
        let signature = sign(secret, now, nonce, "POST", &url, &body);
        let request = self.http.post(url).header("X-Api-Key", key);
        let request = request
            .header("Content-Type", "application/json")
            .header("X-Timestamp", now.to_string())
            .header("X-Nonce", nonce)
            .header("X-Signature", signature)
            .body(body);
        self.keep(format!("signed, nonce {nonce}"), request).await
    }
}

/// The values that must not appear, raw and base64-encoded, by name.
fn needles(
    key: &str,
    signing_secret: &str,
    header_credentials: &str,
) -> Vec<(&'static str, String)> {
    let mut needles = Vec::new();
    for (name, value) in [
        ("api key", key),
        ("wrong key", WRONG_KEY),
        ("signing secret", signing_secret),
        ("header secret", HEADER_SECRET),
    ] {
        needles.push((name, value.to_owned()));
        needles.push((name, STANDARD.encode(value)));
    }
    needles.push(("header secret", header_credentials.to_owned()));
    needles
}

fn is_accepted(answer: &str) -> bool {
    serde_json::from_str::<Value>(answer).is_ok_and(|body| body["success"] == "100")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_logs_metrics_or_answers() {
    // Arrange: an account made by the CLI, a receiver that fails once, the binary at trace level.
    let dir = tempfile::tempdir().unwrap();
    let account = account_create(dir.path(), "secrets", &[]);
    let key = account["api_key"].as_str().unwrap().to_owned();
    let signing_secret = account["signing_secret"].as_str().unwrap().to_owned();
    let mut receiver = WebhookReceiver::start().await;
    receiver.push([Reply::status(500)]);
    let output = Captured::default();
    let (data, captured) = (dir.path().to_path_buf(), output.clone());
    let start = move || Server::start_capturing(&data, ENV, &captured);
    let mut server = tokio::task::spawn_blocking(start).await.unwrap();
    let mut client = Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        answers: Vec::new(),
    };
    let header_credentials = STANDARD.encode(format!("dlr-user:{HEADER_SECRET}"));
    let basic = format!("Basic {header_credentials}");
    let custom = format!("Authorization: {basic}");

    // Act
    let hook = client.subscribe(&key, &receiver.url, &custom).await;
    let accepted = client.every_credential(&key).await;
    let signed = client
        .send_signed(&key, &signing_secret, "nonce-secrets-1")
        .await;
    let replayed = client
        .send_signed(&key, &signing_secret, "nonce-secrets-1")
        .await;
    let badly_signed = client.send_signed(&key, WRONG_KEY, "nonce-secrets-2").await;
    client.bad_requests(&key).await;
    let got = receiver.collect(5, WAIT).await;
    let attempts = client
        .http
        .get(client.url(&format!("/api/hooks/{hook}/attempts")))
        .header("X-Api-Key", &key);
    client.keep("attempts".into(), attempts).await;
    let list = client
        .http
        .get(client.url("/api/hooks"))
        .header("X-Api-Key", &key);
    // The owner's own hook listing shows the headers it configured.
    client
        .keep_allowing("hooks".into(), list, &["header secret"])
        .await;
    let metrics = client
        .keep("metrics".into(), client.http.get(client.url("/metrics")))
        .await;
    assert!(server.terminate().success());
    let output = output.lock().unwrap().clone();

    // Assert: everything was exercised …
    assert!(accepted.iter().all(|(_, ok)| *ok), "{accepted:?}");
    assert!(is_accepted(&signed), "{signed}");
    assert_eq!((replayed.as_str(), badly_signed.as_str()), ("901", "901"));
    assert!(
        got.iter().all(|r| r.header("authorization") == basic),
        "{got:?}"
    );
    assert!(
        metrics.contains("dlrgate_http_request_duration_seconds"),
        "{metrics}"
    );
    assert!(
        output.contains("TRACE") && output.contains("/api/sms"),
        "not logging at trace level:\n{output}"
    );
    // … and no secret appears anywhere.
    assert_nowhere(
        &output,
        &client,
        &needles(&key, &signing_secret, &header_credentials),
    );
}

/// Asserts that no needle is in `output` or in an answer `client` kept (unless it is allowed there).
fn assert_nowhere(output: &str, client: &Client, needles: &[(&'static str, String)]) {
    for (name, needle) in needles {
        let leaks: Vec<&str> = output
            .lines()
            .filter(|line| line.contains(needle))
            .collect();
        assert!(
            leaks.is_empty(),
            "the {name} is in the server's output:\n{}",
            leaks.join("\n")
        );
        for (request, answer, allowed) in &client.answers {
            let leaked = answer.contains(needle) && !allowed.contains(name);
            assert!(
                !leaked,
                "the {name} is in the answer to {request}:\n{answer}"
            );
        }
    }
}
