//! What a simulator run is told to do: [`SimConfig`], the id formats and the outcome override.
//!
//! Owns the defaults and the validation of a configuration. It must not parse command lines (that is
//! `args.rs`) or act on the values; every other module reads a validated `SimConfig`.

use std::net::SocketAddr;
use std::time::Duration;

use crate::domain::receipt::MessageState;

/// One account the simulator accepts binds for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub system_id: String,
    pub password: String,
}

/// How `submit_sm_resp` writes message ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubmitIdFormat {
    /// Upper-case hexadecimal (`3A9F0C21`), as SMPP 3.3-era SMSCs do.
    #[default]
    Hex,
    Decimal,
    /// A random version-4 UUID; receipts can then only repeat it ([`ReceiptIdFormat::Same`]).
    Uuid,
}

/// How receipts write the id of the message they report on (TLV `receipted_message_id` and `id:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReceiptIdFormat {
    /// Exactly as in `submit_sm_resp`.
    #[default]
    Same,
    /// The same number in upper-case hexadecimal.
    Hex,
    /// The same number in decimal; with hex submit ids this is smpp.md §4's hex/decimal mismatch.
    Decimal,
}

/// Everything a simulator run does. `SimConfig::default()` is a well-behaved SMSC on `127.0.0.1:0`
/// accepting `dlrgate`/`secret`, so tests and benchmarks change only what they are about.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    /// Accounts allowed to bind; a `system_id` not listed gets ESME_RINVSYSID, a wrong password
    /// ESME_RINVPASWD. Receipts go only to receiver or transceiver binds of the submitting account.
    pub credentials: Vec<Credential>,
    pub submit_id_format: SubmitIdFormat,
    pub receipt_id_format: ReceiptIdFormat,
    /// Divides every delay of the sandbox's plan (`domain::sandbox::plan`); 1000 turns seconds into
    /// milliseconds. Values below 0.001 count as 0.001.
    pub speed: f64,
    /// Replaces the final state of every message; `None` follows the recipient's last digit.
    pub outcome: Option<MessageState>,
    /// How long a `deliver_sm` may stay unanswered before it is sent again.
    pub receipt_ack_timeout: Duration,
    /// How long after a negative or missing `deliver_sm_resp` a receipt is sent again.
    pub receipt_retry_delay: Duration,
    /// Most unanswered `deliver_sm` per session; more wait in the session's queue. Keeps one slow
    /// receiver from holding the whole backlog in its socket buffer.
    pub receipt_window: usize,
    /// Pathology: send the receipts before the `submit_sm_resp`, all at once. Guaranteed on a
    /// transceiver bind; on a transmitter bind the receipts go out immediately on the receiver bind
    /// and can only race the response.
    pub receipt_before_response: bool,
    /// Pathology: send every receipt this many extra times.
    pub duplicates: u32,
    /// Pathology: answer every Nth `submit_sm` of a session with ESME_RTHROTTLED (0x58) and no id.
    pub throttle_every: Option<u64>,
    /// Pathology: answer `submit_sm` to destinations with one of these prefixes with ESME_RINVDSTADR.
    pub reject_prefixes: Vec<String>,
    /// Pathology: close a connection, without answering, when its Nth PDU arrives.
    pub drop_after: Option<u64>,
    /// Send our own `enquire_link` on every bound session at this interval.
    pub enquire_link_interval: Option<Duration>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: vec![Credential {
                system_id: "dlrgate".into(),
                password: "secret".into(),
            }],
            submit_id_format: SubmitIdFormat::Hex,
            receipt_id_format: ReceiptIdFormat::Same,
            speed: 1.0,
            outcome: None,
            receipt_ack_timeout: Duration::from_secs(10),
            receipt_retry_delay: Duration::from_secs(5),
            receipt_window: 256,
            receipt_before_response: false,
            duplicates: 0,
            throttle_every: None,
            reject_prefixes: Vec::new(),
            drop_after: None,
            enquire_link_interval: None,
        }
    }
}

impl SimConfig {
    /// Rejects combinations that cannot work, naming the setting.
    pub fn validate(&self) -> Result<(), std::io::Error> {
        let invalid = |message: &str| {
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                message.to_owned(),
            ))
        };
        if self.credentials.is_empty() {
            return invalid("smsc-sim: at least one system_id/password is needed");
        }
        if self.submit_id_format == SubmitIdFormat::Uuid
            && self.receipt_id_format != ReceiptIdFormat::Same
        {
            return invalid(
                "smsc-sim: uuid submit ids can only be repeated (receipt id format same)",
            );
        }
        if !self.speed.is_finite() || self.speed <= 0.0 {
            return invalid("smsc-sim: speed must be a positive number");
        }
        if self.throttle_every == Some(0) || self.drop_after == Some(0) {
            return invalid("smsc-sim: throttle-every and drop-after count from 1");
        }
        if self.receipt_window == 0 {
            return invalid("smsc-sim: receipt window must be at least 1");
        }
        Ok(())
    }
}

/// Parses `DELIVRD`, `UNDELIV`, `EXPIRED`, `REJECTD`, … (or the spec's names) into a state.
pub fn parse_outcome(stat: &str) -> Result<MessageState, String> {
    MessageState::from_stat(stat).ok_or_else(|| {
        format!("unknown outcome {stat:?} (expected DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, UNKNOWN, ACCEPTD, ENROUTE, …)")
    })
}
