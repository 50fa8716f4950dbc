//! `Settings` and how they are loaded: the compiled-in `config/default.toml`, then an optional
//! file, then `DLRGATE_<SECTION>_<KEY>` environment variables, then command-line flags.
//! Everything is validated at load time; an error names the bad key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

pub use crate::operators::settings::{ConnectorSettings, RoutingSettings};
pub use limits::LimitSettings;

mod limits;

const DEFAULTS: &str = include_str!("../config/default.toml");
const SECTIONS: [&str; 11] = [
    "server",
    "store",
    "sandbox",
    "sms",
    "api",
    "retention",
    "workers",
    "log",
    "webhook",
    "limits",
    "dashboard",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub sandbox: SandboxSettings,
    pub sms: SmsSettings,
    pub api: ApiSettings,
    pub retention: RetentionSettings,
    pub workers: WorkerSettings,
    pub log: LogSettings,
    pub webhook: WebhookSettings,
    pub limits: LimitSettings,
    #[serde(default)]
    pub dashboard: DashboardSettings,
    /// `[[connectors]]`; the sandbox connector exists even when not declared.
    #[serde(default)]
    pub connectors: Vec<ConnectorSettings>,
    #[serde(default)]
    pub routing: RoutingSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long a client may take to send a request's headers.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Most headers one request may have.
    pub max_headers: usize,
    /// Most bytes of a request's head (request line and headers).
    pub max_header_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    pub data_dir: PathBuf,
    pub synchronous_full: bool,
    /// `postgres://…` to keep the state in PostgreSQL; empty for the SQLite file in `data_dir`.
    /// `check-config` shows it with its password redacted.
    pub database_url: String,
    /// Most connections to PostgreSQL at once (unused with SQLite).
    pub max_connections: u32,
    /// How long a store call waits for a free PostgreSQL connection before failing.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    /// How long a webhook lease or message claim outlives its holder's last renewal: after a node
    /// dies, other nodes take over its work this long later. Holders renew every third of it.
    #[serde(with = "humantime_serde")]
    pub lease_timeout: Duration,
}

impl StoreSettings {
    /// Whether the state lives in PostgreSQL rather than in the SQLite file.
    pub fn is_postgres(&self) -> bool {
        !self.database_url.is_empty()
    }
}

/// A database URL with its password replaced, for `check-config`.
fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("redacted"));
            }
            let has_secret = parsed.query_pairs().any(|(key, _)| key == "password");
            if has_secret {
                let pairs: Vec<(String, String)> = parsed
                    .query_pairs()
                    .map(|(key, value)| match key == "password" {
                        true => (key.into_owned(), "redacted".to_owned()),
                        false => (key.into_owned(), value.into_owned()),
                    })
                    .collect();
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.into()
        }
        Err(_) if url.is_empty() => String::new(),
        Err(_) => "(unparseable, redacted)".to_owned(),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    pub speed: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSettings {
    #[serde(deserialize_with = "string_or_number")]
    pub default_sender: String,
    #[serde(deserialize_with = "string_or_number")]
    pub default_country_code: String,
    pub max_recipients: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    #[serde(with = "humantime_serde")]
    pub signature_tolerance: Duration,
}

/// `[dashboard]`: the web dashboard at `/dashboard`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardSettings {
    /// The key that logs in as administrator (every account, `X-Dlrgate-Account`); empty: no
    /// administrator login. `check-config` never shows it.
    #[serde(default)]
    pub admin_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    #[serde(with = "humantime_serde")]
    pub period: Duration,
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    pub batch_size: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    #[serde(with = "humantime_serde")]
    pub tick: Duration,
    pub batch_size: u32,
    pub intake_batch: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: String,
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    #[serde(with = "duration_list")]
    pub retry_schedule: Vec<Duration>,
    pub jitter: f64,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub max_retry_after: Duration,
    pub max_in_flight_per_hook: usize,
    pub min_in_flight_per_hook: usize,
    #[serde(with = "humantime_serde")]
    pub slow_answer: Duration,
    pub max_held: usize,
    #[serde(with = "humantime_serde")]
    pub disable_after: Duration,
    #[serde(deserialize_with = "string_list")]
    pub allow_cidrs: Vec<ipnet::IpNet>,
    #[serde(with = "humantime_serde")]
    pub secret_grace: Duration,
    pub response_snippet_bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid configuration: {key}: {reason}")]
    Value { key: &'static str, reason: String },
}

/// Overrides given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    /// `--database-url` or `DLRGATE_DATABASE_URL`.
    pub database_url: Option<String>,
}

impl Settings {
    /// Loads the settings from every source, validated.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(file) = &overrides.config_file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(env_provider());
        let mut settings: Settings = figment.extract().map_err(Box::new)?;
        if let Some(listen) = overrides.listen {
            settings.server.listen = listen;
        }
        if let Some(dir) = &overrides.data_dir {
            settings.store.data_dir = dir.clone();
        }
        if let Some(url) = &overrides.database_url {
            settings.store.database_url = url.trim().to_owned();
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Settings for a store-only command (account, key) in `data_dir`.
    pub fn data_dir(&self) -> &Path {
        &self.store.data_dir
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let fail = |key, reason: &str| {
            Err(ConfigError::Value {
                key,
                reason: reason.to_owned(),
            })
        };
        if !(self.sandbox.speed.is_finite() && self.sandbox.speed > 0.0) {
            return fail("sandbox.speed", "must be a positive number");
        }
        if !self
            .sms
            .default_country_code
            .chars()
            .all(|c| c.is_ascii_digit())
            || self.sms.default_country_code.len() > 3
        {
            return fail("sms.default_country_code", "must be 1 to 3 digits or empty");
        }
        if self.sms.max_recipients == 0 {
            return fail("sms.max_recipients", "must be at least 1");
        }
        if self.retention.period < Duration::from_secs(60) {
            return fail("retention.period", "must be at least 1m");
        }
        if self.retention.batch_size == 0
            || self.workers.batch_size == 0
            || self.workers.intake_batch == 0
        {
            return fail("workers.batch_size", "batch sizes must be at least 1");
        }
        if self.workers.tick.is_zero() || self.retention.interval.is_zero() {
            return fail("workers.tick", "intervals must be longer than zero");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return fail("log.format", "must be \"text\" or \"json\"");
        }
        if self.webhook.retry_schedule.is_empty() || self.webhook.retry_schedule.len() > 100 {
            return fail("webhook.retry_schedule", "needs 1 to 100 delays");
        }
        if !(0.0..=1.0).contains(&self.webhook.jitter) {
            return fail("webhook.jitter", "must be between 0 and 1");
        }
        if self.webhook.timeout.is_zero()
            || self.webhook.max_in_flight_per_hook == 0
            || self.webhook.min_in_flight_per_hook == 0
        {
            return fail(
                "webhook.timeout",
                "timeout, min_in_flight_per_hook and max_in_flight_per_hook must be above zero",
            );
        }
        let url = &self.store.database_url;
        if !(url.is_empty() || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return fail(
                "store.database_url",
                "must be empty (SQLite) or a postgres:// URL",
            );
        }
        if self.store.max_connections == 0 || self.store.acquire_timeout.is_zero() {
            return fail(
                "store.max_connections",
                "max_connections and acquire_timeout must be above zero",
            );
        }
        if self.store.lease_timeout < Duration::from_secs(1) {
            return fail("store.lease_timeout", "must be at least 1s");
        }
        let admin_key = &self.dashboard.admin_key;
        if !admin_key.is_empty() && admin_key.trim().len() < 16 {
            return fail(
                "dashboard.admin_key",
                "must be empty or at least 16 characters",
            );
        }
        if self.server.max_body_bytes < 1024 {
            return fail("server.max_body_bytes", "must be at least 1024");
        }
        if self.server.max_header_bytes < 8192 {
            return fail("server.max_header_bytes", "must be at least 8192");
        }
        if self.server.max_headers == 0 || self.server.header_read_timeout.is_zero() {
            return fail(
                "server.max_headers",
                "max_headers and header_read_timeout must be above 0",
            );
        }
        if let Some((key, reason)) = self.limits.problem(self.sms.max_recipients) {
            return fail(key, reason);
        }
        if let Err(reason) = crate::operators::settings::validate(&self.connectors, &self.routing) {
            return fail("connectors", &reason);
        }
        Ok(())
    }

    /// The effective settings, for `check-config`. Passwords and tokens are left out.
    pub fn to_pretty_json(&self) -> String {
        let mut shown = self.clone();
        shown.store.database_url = redacted_url(&self.store.database_url);
        if !shown.dashboard.admin_key.is_empty() {
            shown.dashboard.admin_key = "[redacted]".to_owned();
        }
        serde_json::to_string_pretty(&shown).unwrap_or_default()
    }
}

/// Environment variables `DLRGATE_<SECTION>_<KEY>` as the nested key `section.key`; variables
/// that name no section (such as `DLRGATE_API_KEY` in scripts) are ignored.
fn env_provider() -> Env {
    Env::prefixed("DLRGATE_").filter_map(|key| {
        let key = key.as_str().to_ascii_lowercase();
        let section = SECTIONS
            .iter()
            .find(|s| key.starts_with(&format!("{s}_")))?;
        Some(format!("{section}.{}", &key[section.len() + 1..]).into())
    })
}

/// A list given as a TOML array or as one comma-separated string (from the environment).
fn string_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    let items = match Raw::deserialize(deserializer)? {
        Raw::One(text) => text
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        Raw::Many(items) => items,
    };
    items
        .iter()
        .map(|item| {
            item.parse()
                .map_err(|e| serde::de::Error::custom(format!("{item:?}: {e}")))
        })
        .collect()
}

/// Durations written like "100ms", as a list or a comma-separated string.
mod duration_list {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    struct Humantime(Duration);

    impl std::str::FromStr for Humantime {
        type Err = humantime::DurationError;
        fn from_str(text: &str) -> Result<Self, Self::Err> {
            humantime::parse_duration(text).map(Humantime)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Duration>, D::Error> {
        Ok(super::string_list::<D, Humantime>(deserializer)?
            .into_iter()
            .map(|h| h.0)
            .collect())
    }

    pub fn serialize<S: Serializer>(value: &[Duration], serializer: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = value
            .iter()
            .map(|d| humantime::format_duration(*d).to_string())
            .collect();
        serializer.serialize_str(&text.join(","))
    }
}

/// Reads a string that an environment variable may have turned into a number (`49`).
fn string_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Int(i64),
        Float(f64),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::Text(text) => text,
        Raw::Int(number) => number.to_string(),
        Raw::Float(number) => number.to_string(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::result_large_err)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)]) -> Result<Settings, String> {
        let mut result = Err(String::new());
        figment::Jail::expect_with(|jail| {
            for (key, value) in env {
                jail.set_env(key, value);
            }
            result = Settings::load(&Overrides::default()).map_err(|e| e.to_string());
            Ok(())
        });
        result
    }

    #[test]
    fn defaults_load() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.store.data_dir, PathBuf::from("./data"));
        assert_eq!(settings.retention.period, Duration::from_secs(30 * 86400));
    }

    #[test]
    fn environment_overrides_defaults() {
        let settings = load(&[
            ("DLRGATE_SANDBOX_SPEED", "1000"),
            ("DLRGATE_WORKERS_TICK", "5ms"),
            ("DLRGATE_SMS_DEFAULT_COUNTRY_CODE", "49"),
            ("DLRGATE_SERVER_LISTEN", "127.0.0.1:0"),
            ("DLRGATE_UNRELATED", "x"),
        ])
        .unwrap();
        assert_eq!(settings.sandbox.speed, 1000.0);
        assert_eq!(settings.workers.tick, Duration::from_millis(5));
        assert_eq!(settings.sms.default_country_code, "49");
        assert_eq!(settings.server.listen.port(), 0);
    }

    #[test]
    fn webhook_lists_come_from_strings_or_arrays() {
        let defaults = load(&[]).unwrap();
        assert_eq!(defaults.webhook.retry_schedule.len(), 14);
        assert_eq!(defaults.webhook.retry_schedule[1], Duration::from_secs(60));
        assert!(defaults.webhook.allow_cidrs.is_empty());
        let settings = load(&[
            ("DLRGATE_WEBHOOK_RETRY_SCHEDULE", "100ms,200ms,1s"),
            ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8, ::1/128"),
            ("DLRGATE_WEBHOOK_TIMEOUT", "250ms"),
        ])
        .unwrap();
        let ms = Duration::from_millis;
        assert_eq!(
            settings.webhook.retry_schedule,
            vec![ms(100), ms(200), ms(1000)]
        );
        assert_eq!(settings.webhook.allow_cidrs.len(), 2);
        assert_eq!(settings.webhook.timeout, ms(250));
        let error = load(&[("DLRGATE_WEBHOOK_ALLOW_CIDRS", "localhost")]).unwrap_err();
        assert!(error.to_lowercase().contains("allow_cidrs"), "{error}");
    }

    #[test]
    fn database_url_selects_postgres_and_check_config_hides_its_password() {
        let settings = load(&[(
            "DLRGATE_STORE_DATABASE_URL",
            "postgres://dlrgate:s3cret@db.example:5432/dlrgate",
        )])
        .unwrap();
        assert!(settings.store.is_postgres());
        let shown = settings.to_pretty_json();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://dlrgate:redacted@db.example:5432/dlrgate"));
        assert!(!load(&[]).unwrap().store.is_postgres());
        let in_query = "postgres://dlrgate@db.example/dlrgate?sslmode=require&password=s3cret";
        let settings = load(&[("DLRGATE_STORE_DATABASE_URL", in_query)]).unwrap();
        let shown = settings.to_pretty_json();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("sslmode=require&password=redacted"),
            "{shown}"
        );
        let error = load(&[("DLRGATE_STORE_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(error.contains("store.database_url"), "{error}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let error = load(&[("DLRGATE_SANDBOX_SPEED", "-1")]).unwrap_err();
        assert!(error.contains("sandbox.speed"), "{error}");
        let error = load(&[("DLRGATE_WORKERS_TICK", "soon")]).unwrap_err();
        assert!(error.to_lowercase().contains("workers.tick"), "{error}");
        let error = load(&[("DLRGATE_SMS_NO_SUCH_KEY", "1")]).unwrap_err();
        assert!(error.to_lowercase().contains("no_such_key"), "{error}");
    }
}
