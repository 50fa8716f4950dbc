//! dlrgate with an SMPP route: settings for a connector to a test SMSC on loopback, with timings
//! short enough for tests (reconnects, throttling back-off, response timeout).

use std::net::SocketAddr;
use std::time::Duration;

use dlrgate::config::{ConnectorSettings, Settings};
use dlrgate::domain::receipt::IdFormat;
use dlrgate::operators::settings::{BindKind, SmppSettings};

use super::app::{TestApp, spawn_app_with};

/// A connector `name` to `addr` with test timings; ids as-is on both sides.
pub fn smpp_settings(name: &str, addr: SocketAddr) -> SmppSettings {
    SmppSettings {
        name: name.to_owned(),
        host: addr.ip().to_string(),
        port: addr.port(),
        system_id: "dlrgate".to_owned(),
        password: "secret".to_owned(),
        system_type: String::new(),
        bind: BindKind::Transceiver,
        binds: 1,
        submit_id_format: IdFormat::AsIs,
        receipt_id_format: IdFormat::AsIs,
        window: 10,
        receipt_queue: 4096,
        rate_limit: 0,
        intermediate_receipts: false,
        response_timeout: Duration::from_millis(1500),
        enquire_link_interval: Duration::from_secs(30),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(200),
        throttle_backoff: Duration::from_millis(30),
        fail_after: Duration::from_secs(60),
        fallback: None,
    }
}

/// dlrgate routing every message to one SMPP connector `smsc1`, changed by `change` first.
pub async fn spawn_with_smpp(addr: SocketAddr, change: impl FnOnce(&mut SmppSettings)) -> TestApp {
    let mut connector = smpp_settings("smsc1", addr);
    change(&mut connector);
    spawn_app_with(|settings: &mut Settings| {
        settings.connectors.push(ConnectorSettings::Smpp(connector));
        settings.routing.default = "smsc1".to_owned();
    })
    .await
}
