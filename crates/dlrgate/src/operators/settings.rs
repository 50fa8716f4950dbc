//! Settings of connectors (`[[connectors]]`) and routing (`[routing]`), as the config file writes
//! them. Owns their shape, defaults and validation; `config.rs` embeds them in `Settings`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::receipt::IdFormat;
use crate::domain::routing::{Router, Rule};

/// The name of the built-in sandbox connector, which always exists.
pub const SANDBOX: &str = "sandbox";

/// One `[[connectors]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ConnectorSettings {
    /// The built-in sandbox operator (realistic statuses, no real SMS).
    Sandbox {
        name: String,
    },
    Smpp(SmppSettings),
    /// An upstream Kannel: messages go in through its `sendsms`, reports come back to its `dlr-url`.
    Kannel(KannelSettings),
    /// An upstream that only reports by HTTP (Jasmin's callbacks, or the generic JSON form).
    Http(HttpUpstreamSettings),
}

impl ConnectorSettings {
    pub fn name(&self) -> &str {
        match self {
            Self::Sandbox { name } => name,
            Self::Smpp(s) => &s.name,
            Self::Kannel(s) => &s.name,
            Self::Http(s) => &s.name,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindKind {
    /// One transceiver session per bind.
    Transceiver,
    /// A transmitter and a receiver session per bind.
    Pair,
    /// Only a receiver session per bind (receipts of messages sent elsewhere).
    Receiver,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmppSettings {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub system_id: String,
    #[serde(skip_serializing)]
    pub password: String,
    #[serde(default)]
    pub system_type: String,
    #[serde(default = "defaults::bind")]
    pub bind: BindKind,
    /// Sessions (or transmitter/receiver pairs) opened to the SMSC.
    #[serde(default = "defaults::one")]
    pub binds: usize,
    #[serde(default = "defaults::id_format", with = "id_format")]
    pub submit_id_format: IdFormat,
    #[serde(default = "defaults::id_format", with = "id_format")]
    pub receipt_id_format: IdFormat,
    /// Outstanding `submit_sm` per session.
    #[serde(default = "defaults::window")]
    pub window: usize,
    /// Receipts a session holds while the previous ones are being stored; beyond it the SMSC is
    /// answered "temporary error" and sends them again later. Keep it above the SMSC's window.
    #[serde(default = "defaults::receipt_queue")]
    pub receipt_queue: usize,
    /// Messages per second over all binds; 0 is no limit.
    #[serde(default)]
    pub rate_limit: u32,
    /// Also ask for intermediate notifications (registered_delivery 0x11).
    #[serde(default)]
    pub intermediate_receipts: bool,
    #[serde(default = "defaults::response_timeout", with = "humantime_serde")]
    pub response_timeout: Duration,
    #[serde(default = "defaults::enquire_link", with = "humantime_serde")]
    pub enquire_link_interval: Duration,
    #[serde(default = "defaults::reconnect_min", with = "humantime_serde")]
    pub reconnect_min: Duration,
    #[serde(default = "defaults::reconnect_max", with = "humantime_serde")]
    pub reconnect_max: Duration,
    /// Pause after a throttling answer (0x58, 0x14) before the message is tried again.
    #[serde(default = "defaults::throttle_backoff", with = "humantime_serde")]
    pub throttle_backoff: Duration,
    /// A message that could not be submitted this long after its send time is FAILED, or moved
    /// to `fallback` when one is set.
    #[serde(default = "defaults::fail_after", with = "humantime_serde")]
    pub fail_after: Duration,
    pub fallback: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KannelSettings {
    pub name: String,
    /// Kannel's smsbox sendsms URL, e.g. `http://127.0.0.1:13013/cgi-bin/sendsms`.
    pub sendsms_url: String,
    pub username: String,
    #[serde(skip_serializing)]
    pub password: String,
    /// Where Kannel reaches dlrgate, e.g. `http://127.0.0.1:8080`; the `dlr-url` is built on it.
    pub dlr_base_url: String,
    /// The token Kannel's callbacks must carry.
    #[serde(skip_serializing)]
    pub token: String,
    #[serde(default = "defaults::dlr_mask")]
    pub dlr_mask: u8,
    #[serde(default)]
    pub rate_limit: u32,
    #[serde(default = "defaults::fail_after", with = "humantime_serde")]
    pub fail_after: Duration,
    pub fallback: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpFormat {
    Jasmin,
    Kannel,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpUpstreamSettings {
    pub name: String,
    pub format: HttpFormat,
    /// The token its callbacks must carry (`?token=` or `Authorization: Bearer`).
    #[serde(skip_serializing)]
    pub token: String,
    #[serde(default = "defaults::id_format", with = "id_format")]
    pub id_format: IdFormat,
    /// The connector whose messages its reports name, when that is another one: e.g. an SMPP
    /// transmitter whose upstream reports by HTTP. By default the reports name this connector's
    /// own messages.
    #[serde(default)]
    pub reports_for: Option<String>,
}

/// `[routing]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    #[serde(default = "defaults::sandbox")]
    pub default: String,
    #[serde(default)]
    pub rules: Vec<RuleSettings>,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        Self {
            default: SANDBOX.to_owned(),
            rules: Vec::new(),
        }
    }
}

/// `[[routing.rules]]`: the first rule whose conditions all match picks the connector.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    pub connector: String,
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub prefixes: Vec<String>,
}

impl RoutingSettings {
    pub fn router(&self) -> Router {
        let rules = self
            .rules
            .iter()
            .map(|r| Rule {
                connector: r.connector.clone(),
                accounts: r.accounts.clone(),
                prefixes: r.prefixes.clone(),
            })
            .collect();
        Router::new(rules, self.default.clone())
    }
}

/// Checks names are unique and every route and fallback names a connector; returns the reason.
pub fn validate(connectors: &[ConnectorSettings], routing: &RoutingSettings) -> Result<(), String> {
    let mut names: Vec<&str> = vec![SANDBOX];
    for connector in connectors {
        let name = connector.name();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        {
            return Err(format!(
                "connector name {name:?} must be letters, digits, - or _"
            ));
        }
        if names.contains(&name)
            && !matches!(connector, ConnectorSettings::Sandbox { name } if name == SANDBOX)
        {
            return Err(format!("connector {name:?} is declared twice"));
        }
        names.push(name);
        if let ConnectorSettings::Smpp(s) = connector {
            if s.binds == 0 || s.window == 0 || s.receipt_queue == 0 {
                return Err(format!(
                    "connector {name:?}: binds, window and receipt_queue must be at least 1"
                ));
            }
            if s.reconnect_min.is_zero() || s.reconnect_min > s.reconnect_max {
                return Err(format!(
                    "connector {name:?}: need 0 < reconnect_min <= reconnect_max"
                ));
            }
        }
    }
    let fallbacks = connectors.iter().filter_map(|c| match c {
        ConnectorSettings::Smpp(s) => s.fallback.as_deref(),
        ConnectorSettings::Kannel(s) => s.fallback.as_deref(),
        ConnectorSettings::Http(s) => s.reports_for.as_deref(),
        _ => None,
    });
    let routes = routing.router();
    for target in routes.targets().chain(fallbacks) {
        if !names.contains(&target) {
            return Err(format!(
                "a route, fallback or reports_for names connector {target:?}, which is not declared"
            ));
        }
    }
    let sends = |name: &str| {
        !connectors.iter().any(|c| {
            c.name() == name
                && matches!(
                    c,
                    ConnectorSettings::Http(_)
                        | ConnectorSettings::Smpp(SmppSettings {
                            bind: BindKind::Receiver,
                            ..
                        })
                )
        })
    };
    let fallback_of = |name: &str| {
        connectors.iter().find_map(|c| match c {
            ConnectorSettings::Smpp(s) if s.name == name => s.fallback.as_deref(),
            ConnectorSettings::Kannel(s) if s.name == name => s.fallback.as_deref(),
            _ => None,
        })
    };
    for connector in connectors {
        let mut seen = vec![connector.name()];
        let mut next = fallback_of(connector.name());
        while let Some(target) = next {
            if !sends(target) {
                return Err(format!("fallback {target:?} cannot send messages"));
            }
            if seen.contains(&target) {
                return Err(format!(
                    "fallbacks go round in a circle: {} → {target}",
                    seen.join(" → ")
                ));
            }
            seen.push(target);
            next = fallback_of(target);
        }
    }
    for target in routes.targets() {
        if !sends(target) {
            return Err(format!(
                "connector {target:?} only receives reports; it cannot be a route"
            ));
        }
    }
    Ok(())
}

mod defaults {
    use std::time::Duration;

    use super::{BindKind, IdFormat};

    pub fn bind() -> BindKind {
        BindKind::Transceiver
    }
    pub fn one() -> usize {
        1
    }
    pub fn id_format() -> IdFormat {
        IdFormat::AsIs
    }
    pub fn window() -> usize {
        10
    }
    pub fn receipt_queue() -> usize {
        4096
    }
    pub fn response_timeout() -> Duration {
        Duration::from_secs(10)
    }
    pub fn enquire_link() -> Duration {
        Duration::from_secs(30)
    }
    pub fn reconnect_min() -> Duration {
        Duration::from_secs(1)
    }
    pub fn reconnect_max() -> Duration {
        Duration::from_secs(60)
    }
    pub fn throttle_backoff() -> Duration {
        Duration::from_secs(1)
    }
    pub fn fail_after() -> Duration {
        Duration::from_secs(600)
    }
    pub fn dlr_mask() -> u8 {
        31
    }
    pub fn sandbox() -> String {
        super::SANDBOX.to_owned()
    }
}

/// `hex | decimal | as-is` in the file.
mod id_format {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::domain::receipt::IdFormat;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IdFormat, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|_| {
            serde::de::Error::custom(format!("{text:?}: expected hex, decimal or as-is"))
        })
    }

    pub fn serialize<S: Serializer>(value: &IdFormat, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.as_str())
    }
}

#[cfg(test)]
mod tests;
