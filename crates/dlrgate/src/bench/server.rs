//! The dlrgate under test: this same binary run as `dlrgate serve` in a child process, with a
//! generated configuration file in a fresh data directory, so its memory (peak RSS) and store
//! size are its own and not the load generator's.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::config::{Overrides, Settings};

/// A running `dlrgate serve` child. Dropping it kills the process.
pub struct Server {
    child: Child,
    data_dir: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The bootstrap account's API key; empty when the store had an account already (a second
    /// node on a shared database).
    pub key: String,
}

/// The settings the server starts from: the defaults, `data_dir`, a port chosen by the kernel,
/// loopback webhooks allowed, quick worker ticks and no request or message rate limits.
pub fn base_settings(data_dir: &std::path::Path) -> anyhow::Result<Settings> {
    let overrides = Overrides {
        config_file: None,
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(data_dir.to_owned()),
        ..Overrides::default()
    };
    let mut settings = Settings::load(&overrides)?;
    settings.workers.tick = std::time::Duration::from_millis(5);
    settings.webhook.allow_cidrs = vec!["127.0.0.0/8".parse()?];
    settings.log.level = "warn".to_owned();
    // The bench measures the gateway, not the abuse limits: one key sends everything.
    settings.limits.requests_per_second = 0;
    settings.limits.messages_per_second = 0;
    Ok(settings)
}

impl Server {
    /// Writes `settings` to `<data_dir>/bench.toml` and starts `dlrgate serve` with it; returns
    /// once the server printed its address (and the bootstrap API key, if it made one).
    pub async fn start(settings: &Settings) -> anyhow::Result<Server> {
        let data_dir = settings.store.data_dir.clone();
        let _ = std::fs::remove_dir_all(&data_dir);
        std::fs::create_dir_all(&data_dir)?;
        let config = data_dir.join("bench.toml");
        std::fs::write(&config, config_text(settings)?)?;
        let mut child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting `dlrgate serve`")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (base, key) = read_banner(stdout).await?;
        Ok(Server {
            child,
            data_dir,
            base,
            key,
        })
    }

    /// The server's peak resident memory so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        Ok(kib / 1024.0)
    }

    /// Bytes of the SQLite store: dlrgate.db with its -wal and -shm files.
    pub fn store_bytes(&self) -> u64 {
        ["dlrgate.db", "dlrgate.db-wal", "dlrgate.db-shm"]
            .iter()
            .filter_map(|name| std::fs::metadata(self.data_dir.join(name)).ok())
            .map(|meta| meta.len())
            .sum()
    }

    /// Kills the server and removes its data directory.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// `settings` as the child's configuration file, connector secrets included: `Settings` never
/// serializes passwords and tokens (printed settings must not leak them), but the child needs them.
fn config_text(settings: &Settings) -> anyhow::Result<String> {
    use crate::operators::settings::ConnectorSettings;
    let mut table = toml::Table::try_from(settings)?;
    if let Some(toml::Value::Array(entries)) = table.get_mut("connectors") {
        for (entry, connector) in entries.iter_mut().zip(&settings.connectors) {
            let secrets: Vec<(&str, &str)> = match connector {
                ConnectorSettings::Sandbox { .. } => vec![],
                ConnectorSettings::Smpp(smpp) => vec![("password", &smpp.password)],
                ConnectorSettings::Kannel(kannel) => {
                    vec![("password", &kannel.password), ("token", &kannel.token)]
                }
                ConnectorSettings::Http(http) => vec![("token", &http.token)],
            };
            let entry = entry.as_table_mut().context("a connector is not a table")?;
            for (key, value) in secrets {
                entry.insert(key.to_owned(), toml::Value::String(value.to_owned()));
            }
        }
    }
    Ok(toml::to_string(&table)?)
}

/// Reads `serve`'s stdout up to `dlrgate listening on http://…`; keeps draining it afterwards.
async fn read_banner(stdout: tokio::process::ChildStdout) -> anyhow::Result<(String, String)> {
    let mut lines = BufReader::new(stdout).lines();
    let mut key = None;
    while let Some(line) = lines.next_line().await? {
        if let Some(found) = line.trim().strip_prefix("api_key:") {
            key = Some(found.trim().to_owned());
        }
        if let Some(base) = line.strip_prefix("dlrgate listening on ") {
            let key = key.unwrap_or_default();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok((base.trim().to_owned(), key));
        }
    }
    bail!("`dlrgate serve` exited before it listened (its errors are above)")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    // figment::Jail's closure returns figment's own (large) error type; nothing to box here.
    #[allow(clippy::result_large_err)]
    fn the_configuration_file_keeps_connector_secrets() {
        // Arrange: an SMPP connector with a password, which `Settings` does not serialize.
        let dir = tempfile::tempdir().unwrap();
        // Inside a Jail: other unit tests set DLRGATE_* variables in one, and Settings reads them.
        let mut settings = None;
        figment::Jail::expect_with(|_| {
            settings = Some(base_settings(dir.path()).unwrap());
            Ok(())
        });
        let mut settings = settings.unwrap();
        let connector = serde_json::from_value(serde_json::json!({
            "type": "smpp", "name": "sim", "host": "127.0.0.1", "port": 2775,
            "system_id": "dlrgate", "password": "s3cret",
        }))
        .unwrap();
        settings.connectors.push(connector);
        assert!(!toml::to_string(&settings).unwrap().contains("s3cret"));

        // Act
        let text = config_text(&settings).unwrap();

        // Assert: the file parses back with the password in place.
        let table: toml::Table = text.parse().unwrap();
        let sim = table["connectors"].as_array().unwrap().last().unwrap();
        assert_eq!(sim["password"].as_str(), Some("s3cret"));
    }
}
