//! `spawn_app()`: the real `Application` on 127.0.0.1:0 with a temporary SQLite directory and a
//! fast sandbox, plus one helper per endpoint. Set `TEST_LOG=1` to see the service's logs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dlrgate::app::Application;
use dlrgate::config::{Overrides, Settings};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub struct TestApp {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub api_key: String,
    pub signing_secret: String,
    pub data_dir: PathBuf,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _temp: Option<tempfile::TempDir>,
}

/// Settings for tests: port 0, sandbox 1000× faster, 5 ms worker tick, data in `data_dir`.
pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    let overrides = Overrides {
        config_file: None,
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_path_buf()),
        ..Overrides::default()
    };
    let mut settings = Settings::load(&overrides).unwrap();
    settings.sandbox.speed = 1000.0;
    settings.workers.tick = Duration::from_millis(5);
    // Webhook receivers in tests listen on loopback; only tests open that range.
    settings.webhook.allow_cidrs = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
    settings.webhook.retry_schedule = [0, 50, 100, 200, 400].map(Duration::from_millis).to_vec();
    settings.webhook.jitter = 0.0;
    settings.webhook.timeout = Duration::from_secs(2);
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, with a chance to change the settings first.
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let temp = tempfile::tempdir().unwrap();
    let mut app = spawn_in(temp.path().to_path_buf(), change).await;
    app._temp = Some(temp);
    app
}

/// Starts the application on an existing data directory (for restarts). The credentials are
/// those of the default account when this start created it, empty otherwise.
pub async fn spawn_in(data_dir: PathBuf, change: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        dlrgate::telemetry::init(&dlrgate::config::LogSettings {
            format: "text".into(),
            level: "info".into(),
        });
    }
    let mut settings = test_settings(&data_dir);
    change(&mut settings);
    let app = Application::build(settings).await.unwrap();
    let addr = app.local_addr();
    let (api_key, signing_secret) = app
        .bootstrap
        .as_ref()
        .map(|c| (c.api_key.clone(), c.signing_secret.clone()))
        .unwrap_or_default();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        api_key,
        signing_secret,
        data_dir,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
        shutdown,
        server: Some(server),
        _temp: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the application gracefully and waits for it; keeps the data directory.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    /// POST /api/sms with a JSON body and `Accept: application/json`, as the JS SDK sends it.
    pub async fn send_sms(&self, body: Value) -> reqwest::Response {
        self.send_sms_as(&self.api_key, body).await
    }

    pub async fn send_sms_as(&self, api_key: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/sms"))
            .header("X-Api-Key", api_key)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Sends one SMS and returns its message id (panics unless it was accepted).
    pub async fn send_one(&self, to: &str, text: &str) -> String {
        let body: Value = self
            .send_sms(serde_json::json!({"to": to, "text": text}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["success"], "100", "{body}");
        body["messages"][0]["id"].as_str().unwrap().to_owned()
    }

    /// GET /api/status?msg_id=… with `Accept: application/json`.
    pub async fn status_json(&self, ids: &str) -> Value {
        self.get_json(&format!("/api/status?msg_id={ids}")).await
    }

    /// GET `path` with the API key and `Accept: application/json`, parsed as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self
            .get(path)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("GET {path}: not JSON: {text}"))
    }

    /// A GET request builder with the API key set.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .header("X-Api-Key", &self.api_key)
    }

    /// Polls the status of `id` until it is `expect` or `within` has passed; returns the last.
    pub async fn wait_for_status(&self, id: &str, expect: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let body = self.status_json(id).await;
            if body[0]["status"] == expect || Instant::now() > deadline {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Creates another account with the real `dlrgate account create` command; returns its
    /// `{"account_id","api_key","signing_secret"}` object.
    pub fn create_account(&self, name: &str, extra: &[&str]) -> Value {
        super::binary::account_create(&self.data_dir, name, extra)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
