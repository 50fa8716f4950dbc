//! Upstream HTTP gateways for the ingest and Kannel-route tests: `FakeKannel`, an smsbox on
//! 127.0.0.1:0 that records every `sendsms` call, answers as scripted and then calls the part's
//! `dlr-url` the way Kannel 1.4.5 does (`%d` = 8 with `ACK/`, then the receipt, smpp.md §6.1);
//! settings for a dlrgate with a Kannel route and HTTP upstreams; and `post_report`/`get_report`
//! to replay callbacks.
//!
//! dlrgate's port is known only after it starts, so its Kannel connector is configured with the
//! base URL [`DLRGATE`] and the fake sends each `dlr-url` to the real address instead, like a
//! reverse proxy in front of dlrgate would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use dlrgate::config::{ConnectorSettings, Settings};
use dlrgate::domain::receipt::IdFormat;
use dlrgate::operators::settings::{HttpFormat, HttpUpstreamSettings, KannelSettings};
use tokio::sync::{mpsc, watch};

use super::app::{TestApp, spawn_app_with};

/// The base URL the Kannel connector believes dlrgate has.
pub const DLRGATE: &str = "http://dlrgate.test:8080";
pub const KANNEL_TOKEN: &str = "kannel-secret";
pub const JASMIN_TOKEN: &str = "jasmin-secret";
pub const JSON_TOKEN: &str = "json-secret";
const WAIT: Duration = Duration::from_secs(5);

/// One `sendsms` call as the fake Kannel received it: the decoded parameters, `udh` as octets.
#[derive(Debug, Clone)]
pub struct SendSms {
    pub params: HashMap<String, String>,
    pub udh: Vec<u8>,
}

impl SendSms {
    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Which callbacks the fake makes for a call: `(%d, %A)` in order.
type Reports = Arc<dyn Fn(&SendSms) -> Vec<(u32, String)> + Send + Sync>;

struct Shared {
    answer: Mutex<(u16, String)>,
    reports: Mutex<Reports>,
    /// Where dlr-urls really go (dlrgate's base URL).
    target: Mutex<Option<String>>,
    calls: mpsc::UnboundedSender<SendSms>,
    /// `sendsms` answers wait while this is false.
    open: watch::Receiver<bool>,
    http: reqwest::Client,
    counter: Mutex<u32>,
}

pub struct FakeKannel {
    /// The `sendsms` URL.
    pub url: String,
    shared: Arc<Shared>,
    calls: tokio::sync::Mutex<mpsc::UnboundedReceiver<SendSms>>,
    gate: watch::Sender<bool>,
}

/// Kannel's `%A` for an SMSC receipt.
pub fn receipt_text(stat: &str, err: &str) -> String {
    format!(
        "id:0A1B2C3D sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:{stat} err:{err} text:Hello"
    )
}

impl FakeKannel {
    /// A Kannel that accepts everything (202) and reports 8 then 1 (DELIVRD) for each part.
    pub async fn start() -> FakeKannel {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (calls_tx, calls_rx) = mpsc::unbounded_channel();
        let (gate, open) = watch::channel(true);
        let shared = Arc::new(Shared {
            answer: Mutex::new((202, "0: Accepted for delivery".to_owned())),
            reports: Mutex::new(Arc::new(|_: &SendSms| {
                vec![(8, "ACK/".to_owned()), (1, receipt_text("DELIVRD", "000"))]
            })),
            target: Mutex::new(None),
            calls: calls_tx,
            open,
            http: reqwest::Client::new(),
            counter: Mutex::new(0),
        });
        let app = Router::new()
            .route("/cgi-bin/sendsms", get(sendsms))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeKannel {
            url: format!("http://{addr}/cgi-bin/sendsms"),
            shared,
            calls: tokio::sync::Mutex::new(calls_rx),
            gate,
        }
    }

    /// Sends every dlr-url to `app` (call once dlrgate runs).
    pub fn report_to(&self, app: &TestApp) {
        *self.shared.target.lock().unwrap() = Some(app.base.clone());
    }

    pub fn answer(&self, status: u16, body: &str) {
        *self.shared.answer.lock().unwrap() = (status, body.to_owned());
    }

    pub fn reports(
        &self,
        reports: impl Fn(&SendSms) -> Vec<(u32, String)> + Send + Sync + 'static,
    ) {
        *self.shared.reports.lock().unwrap() = Arc::new(reports);
    }

    /// Makes `sendsms` answers wait until [`FakeKannel::release`].
    pub fn hold(&self) {
        self.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.gate.send_replace(true);
    }

    /// The next `sendsms` call (panics after 5 s without one).
    pub async fn next_call(&self) -> SendSms {
        let mut calls = self.calls.lock().await;
        tokio::time::timeout(WAIT, calls.recv())
            .await
            .expect("no sendsms call within 5 s")
            .unwrap()
    }
}

async fn sendsms(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> (StatusCode, String) {
    let query = query.unwrap_or_default();
    let mut params = HashMap::new();
    let mut udh = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        params.insert(key.to_string(), value.to_string());
    }
    for pair in query.split('&') {
        if let Some(raw) = pair.strip_prefix("udh=") {
            udh = percent_decode(raw);
        }
    }
    let call = SendSms { params, udh };
    let _ = shared.calls.send(call.clone());
    let mut open = shared.open.clone();
    let _ = open.wait_for(|open| *open).await;
    let (status, body) = shared.answer.lock().unwrap().clone();
    if (200..300).contains(&status) {
        let reports = (shared.reports.lock().unwrap())(&call);
        let smsc_id = {
            let mut counter = shared.counter.lock().unwrap();
            *counter += 1;
            format!("{:08X}", 0x0A1B_0000 + *counter)
        };
        tokio::spawn(call_back(shared.clone(), call, reports, smsc_id));
    }
    (StatusCode::from_u16(status).unwrap(), body)
}

/// Calls the part's dlr-url once per report, in order, as Kannel fills in its escape codes.
async fn call_back(
    shared: Arc<Shared>,
    call: SendSms,
    reports: Vec<(u32, String)>,
    smsc_id: String,
) {
    let template = call.param("dlr-url").to_owned();
    let target = shared.target.lock().unwrap().clone();
    for (dlr_type, answer) in reports {
        let encode =
            |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
        let mut url = template
            .replace("%d", &dlr_type.to_string())
            .replace("%A", &encode(&answer))
            .replace("%F", &smsc_id)
            .replace(
                "%T",
                &(time::OffsetDateTime::now_utc().unix_timestamp()).to_string(),
            );
        if let Some(target) = &target {
            url = url.replacen(DLRGATE, target, 1);
        }
        let response = shared.http.get(&url).send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "dlr-url {url}: {}",
            response.text().await.unwrap()
        );
    }
}

fn percent_decode(raw: &str) -> Vec<u8> {
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 3 <= bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                index += 3;
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            other => {
                out.push(other);
                index += 1;
            }
        }
    }
    out
}

/// A Kannel connector `kannel1` to `sendsms_url`, with a short `fail_after`.
pub fn kannel_settings(sendsms_url: &str) -> KannelSettings {
    KannelSettings {
        name: "kannel1".to_owned(),
        sendsms_url: sendsms_url.to_owned(),
        username: "dlrgate".to_owned(),
        password: "p@ss word".to_owned(),
        dlr_base_url: DLRGATE.to_owned(),
        token: KANNEL_TOKEN.to_owned(),
        dlr_mask: 31,
        rate_limit: 0,
        fail_after: Duration::from_secs(60),
        fallback: None,
    }
}

/// An `http` upstream `name` in `format` that reports on `kannel1`'s messages.
pub fn http_upstream(name: &str, format: HttpFormat, token: &str) -> HttpUpstreamSettings {
    HttpUpstreamSettings {
        name: name.to_owned(),
        format,
        token: token.to_owned(),
        id_format: IdFormat::AsIs,
        reports_for: Some("kannel1".to_owned()),
    }
}

/// dlrgate routing every message to `kannel1` (changed by `change`), plus the HTTP upstreams
/// `jasmin`, `vendor` (generic JSON) and `kannel-ext` (Kannel format, token [`JSON_TOKEN`])
/// reporting on `kannel1`'s messages. The fake reports to it.
pub async fn spawn_with_kannel(
    kannel: &FakeKannel,
    change: impl FnOnce(&mut KannelSettings),
) -> TestApp {
    let mut connector = kannel_settings(&kannel.url);
    change(&mut connector);
    let app = spawn_app_with(|settings: &mut Settings| {
        settings
            .connectors
            .push(ConnectorSettings::Kannel(connector));
        for (name, format, token) in [
            ("jasmin", HttpFormat::Jasmin, JASMIN_TOKEN),
            ("vendor", HttpFormat::Json, JSON_TOKEN),
            ("kannel-ext", HttpFormat::Kannel, JSON_TOKEN),
        ] {
            settings
                .connectors
                .push(ConnectorSettings::Http(http_upstream(name, format, token)));
        }
        settings.routing.default = "kannel1".to_owned();
    })
    .await;
    kannel.report_to(&app);
    app
}

/// GET `/ingest/{connector}?{query}`; the status and body.
pub async fn get_report(app: &TestApp, connector: &str, query: &str) -> (u16, String) {
    let response = app
        .http
        .get(app.url(&format!("/ingest/{connector}?{query}")))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// POST `/ingest/{connector}?{query}` with a form body.
pub async fn post_form(app: &TestApp, connector: &str, query: &str, form: &str) -> (u16, String) {
    let response = app
        .http
        .post(app.url(&format!("/ingest/{connector}?{query}")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The events of message `id` (`/api/messages/{id}/events`).
pub async fn events(app: &TestApp, id: &str) -> Vec<serde_json::Value> {
    let body = app.get_json(&format!("/api/messages/{id}/events")).await;
    body["events"].as_array().cloned().unwrap_or_default()
}

/// The report events of message `id` (operator receipts, not internal states).
pub async fn reports(app: &TestApp, id: &str) -> Vec<serde_json::Value> {
    events(app, id)
        .await
        .into_iter()
        .filter(|event| event["kind"] == "report")
        .collect()
}

/// Waits until `kannel` has been asked to send message `id` and has answered, so its
/// operator ids are stored once the status shows it (or it is parked until then).
pub async fn wait_processed(app: &TestApp, id: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if events(app, id)
            .await
            .iter()
            .any(|e| e["state"] == "processed")
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "message {id} not processed within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A Kannel that accepts and reports nothing by itself, and dlrgate routed to it.
pub async fn quiet_kannel() -> (FakeKannel, TestApp) {
    let kannel = FakeKannel::start().await;
    kannel.reports(|_| Vec::new());
    let app = spawn_with_kannel(&kannel, |_| {}).await;
    (kannel, app)
}

/// Sends one message and waits until Kannel has taken it.
pub async fn sent(app: &TestApp, to: &str) -> String {
    let id = app.send_one(to, "Hello").await;
    wait_processed(app, &id).await;
    id
}
