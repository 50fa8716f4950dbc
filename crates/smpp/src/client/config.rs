//! [`ClientConfig`] and [`BindMode`]: everything a client needs to reach and bind to one SMSC.
//!
//! Owns the defaults and the clamping of nonsensical values (a window of 0, a back-off range upside down).
//! It must not read files or the environment; the service maps its own settings onto this struct.

use std::fmt;
use std::time::Duration;

/// Which bind request the client sends (SMPP 3.4 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BindMode {
    /// `bind_transceiver`: submit and receive on one connection (the usual choice).
    #[default]
    Transceiver,
    /// `bind_transmitter`: submit only; the SMSC sends no `deliver_sm` on this connection.
    Transmitter,
    /// `bind_receiver`: receive only; `submit` is refused by the SMSC.
    Receiver,
}

/// How to reach, bind to and pace one SMSC connection.
///
/// Build it with struct-update syntax over [`ClientConfig::default`] so new fields do not break callers.
#[derive(Clone)]
pub struct ClientConfig {
    /// `host:port` of the SMSC.
    pub addr: String,
    /// At most 15 characters; the SMSC rejects longer ones.
    pub system_id: String,
    /// At most 8 characters. Redacted in `Debug` output.
    pub password: String,
    /// At most 12 characters; usually empty.
    pub system_type: String,
    pub mode: BindMode,
    /// 0x34 for SMPP 3.4; some SMSCs only send TLVs to binds that announce 3.4.
    pub interface_version: u8,
    /// Most `submit_sm` awaiting a response on one connection. SMSCs throttle or drop binds that exceed
    /// the window they agreed to, so this is a contract with the peer, not only a tuning knob.
    pub window: usize,
    /// How long a request (`submit_sm`, `enquire_link`, `unbind`, the bind itself) may wait for its
    /// response. A `submit_sm` that runs out resolves as [`crate::SubmitError::InDoubt`]; an
    /// `enquire_link` that runs out declares the link dead.
    pub response_timeout: Duration,
    /// After this long without receiving anything, the client sends `enquire_link`. Receiving (rather
    /// than sending) is what counts, because only traffic from the peer proves that the peer is alive.
    pub enquire_link_interval: Duration,
    /// First delay before reconnecting; the delay doubles per failed attempt, with jitter, up to
    /// `reconnect_max`, and goes back to this after a successful bind.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Limit for the TCP connect itself.
    pub connect_timeout: Duration,
    /// Capacity of the channel of inbound `deliver_sm`/`data_sm`. When it is full, further ones are
    /// answered at once with `ESME_RX_T_APPN` (0x64), which makes the SMSC re-send them later, instead
    /// of being buffered without bound. Reading never pauses, because responses to our own requests
    /// arrive on the same socket. The SMSC's own window bounds how many it sends unanswered, so a
    /// capacity above that window never turns one away; the default (1,024) is above the windows
    /// SMSCs use, at a few hundred bytes a request.
    pub inbound_capacity: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:2775".to_owned(),
            system_id: String::new(),
            password: String::new(),
            system_type: String::new(),
            mode: BindMode::Transceiver,
            interface_version: 0x34,
            window: 10,
            response_timeout: Duration::from_secs(10),
            enquire_link_interval: Duration::from_secs(30),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            inbound_capacity: 1024,
        }
    }
}

impl ClientConfig {
    /// The same configuration with values the client cannot work with replaced by the nearest usable
    /// ones: a window and channel of at least 1, a back-off range with `min <= max`.
    pub(crate) fn normalised(mut self) -> Self {
        self.window = self.window.max(1);
        self.inbound_capacity = self.inbound_capacity.max(1);
        self.reconnect_max = self.reconnect_max.max(self.reconnect_min);
        self
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("addr", &self.addr)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field("mode", &self.mode)
            .field("interface_version", &self.interface_version)
            .field("window", &self.window)
            .field("response_timeout", &self.response_timeout)
            .field("enquire_link_interval", &self.enquire_link_interval)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("connect_timeout", &self.connect_timeout)
            .field("inbound_capacity", &self.inbound_capacity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_password() {
        let config = ClientConfig {
            password: "hunter2".to_owned(),
            ..ClientConfig::default()
        };
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn unusable_values_are_clamped() {
        let config = ClientConfig {
            window: 0,
            inbound_capacity: 0,
            reconnect_min: Duration::from_secs(5),
            reconnect_max: Duration::from_secs(1),
            ..ClientConfig::default()
        }
        .normalised();
        assert_eq!(config.window, 1);
        assert_eq!(config.inbound_capacity, 1);
        assert_eq!(config.reconnect_max, Duration::from_secs(5));
    }
}
