//! Validation of a `/api/sms` request into an `SmsRequest`: every parameter of seven-api.md §3
//! that a gateway can honour, with seven's return codes for what is wrong. Parameters dlrgate
//! accepts but cannot honour (`performance_tracking`, `files`, `no_reload`, `details`, `type`)
//! are ignored, so SDKs that always send them keep working.

use time::OffsetDateTime;

use super::error::{ApiError, SevenCode};
use super::params::Params;
use crate::config::SmsSettings;
use crate::domain::encoding::{self, Encoding};
use crate::domain::msisdn::{Msisdn, Sender, split_recipients};
use crate::domain::params as values;
use crate::domain::timefmt::to_millis;

pub const SMS_PARAMS: &[&str] = &[
    "to",
    "text",
    "from",
    "delay",
    "flash",
    "udh",
    "ttl",
    "label",
    "foreign_id",
    "debug",
    "return_msg_id",
    "unicode",
    "utf8",
    "performance_tracking",
    "files",
    "details",
    "no_reload",
    "type",
    "is_binary",
];

/// Longest text seven.io accepts, in characters.
pub const MAX_TEXT_CHARS: usize = 1520;

#[derive(Debug)]
pub enum Recipient {
    Valid(Msisdn),
    Invalid { raw: String, reason: String },
}

#[derive(Debug)]
pub struct SmsRequest {
    pub recipients: Vec<Recipient>,
    pub sender: String,
    pub text: String,
    pub encoding: Encoding,
    pub parts: u32,
    pub is_binary: bool,
    pub udh: Option<String>,
    pub flash: bool,
    pub ttl_minutes: Option<u32>,
    pub label: Option<String>,
    pub foreign_id: Option<String>,
    /// Unix milliseconds; never before the time of the request.
    pub send_at: i64,
    pub debug: bool,
    pub return_msg_id: bool,
}

fn invalid(name: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::seven(SevenCode::UnknownParameter, format!("{name}: {error}"))
}

impl SmsRequest {
    pub fn parse(
        params: &Params,
        settings: &SmsSettings,
        now: OffsetDateTime,
    ) -> Result<SmsRequest, ApiError> {
        params.check_known(SMS_PARAMS)?;
        let to = params
            .get("to")
            .ok_or_else(|| ApiError::seven(SevenCode::MissingRecipient, "to is missing"))?;
        let text = params.raw("text").filter(|text| !text.trim().is_empty());
        let text =
            text.ok_or_else(|| ApiError::seven(SevenCode::MissingText, "text is missing"))?;
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(ApiError::seven(
                SevenCode::TextTooLong,
                format!("text is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
        let sender = match params.get("from") {
            Some(raw) => Sender::parse(raw).map_err(|error| {
                ApiError::seven(SevenCode::InvalidSender, format!("from: {error}"))
            })?,
            None => Sender::parse(&settings.default_sender).map_err(|error| {
                ApiError::seven(SevenCode::InvalidSender, format!("default sender: {error}"))
            })?,
        };
        let recipients = parse_recipients(to, settings)?;
        let udh = params
            .get("udh")
            .map(values::parse_udh)
            .transpose()
            .map_err(|e| invalid("udh", e))?;
        let (encoding, parts) = measure(text, udh.as_deref())?;
        let send_at = match params.get("delay") {
            Some(raw) => values::parse_delay(raw, now)
                .map_err(|e| invalid("delay", e))?
                .max(now),
            None => now,
        };
        Ok(SmsRequest {
            recipients,
            sender: sender.as_str().to_owned(),
            text: text.to_owned(),
            encoding,
            parts,
            is_binary: udh.is_some(),
            udh: udh.map(hex::encode_upper),
            flash: params.flag("flash")?,
            ttl_minutes: params
                .get("ttl")
                .map(values::parse_ttl_minutes)
                .transpose()
                .map_err(|e| invalid("ttl", e))?
                .flatten(),
            label: params
                .get("label")
                .map(values::parse_label)
                .transpose()
                .map_err(|e| invalid("label", e))?,
            foreign_id: params
                .get("foreign_id")
                .map(values::parse_foreign_id)
                .transpose()
                .map_err(|e| invalid("foreign_id", e))?,
            send_at: to_millis(send_at),
            debug: params.flag("debug")?,
            return_msg_id: params.flag("return_msg_id")?,
        })
    }

    pub fn valid_count(&self) -> usize {
        self.recipients
            .iter()
            .filter(|r| matches!(r, Recipient::Valid(_)))
            .count()
    }
}

fn parse_recipients(to: &str, settings: &SmsSettings) -> Result<Vec<Recipient>, ApiError> {
    let country = Some(settings.default_country_code.as_str()).filter(|code| !code.is_empty());
    let raw = split_recipients(to);
    if raw.len() > settings.max_recipients {
        return Err(ApiError::seven(
            SevenCode::InvalidRecipient,
            format!("more than {} recipients", settings.max_recipients),
        ));
    }
    let recipients: Vec<Recipient> = raw
        .into_iter()
        .map(|raw| match Msisdn::parse(raw, country) {
            Ok(number) => Recipient::Valid(number),
            Err(error) => Recipient::Invalid {
                raw: raw.to_owned(),
                reason: error.to_string(),
            },
        })
        .collect();
    match recipients.iter().find_map(|r| match r {
        Recipient::Invalid { raw, reason } => Some(format!("to {raw:?}: {reason}")),
        Recipient::Valid(_) => None,
    }) {
        Some(reason) if !recipients.iter().any(|r| matches!(r, Recipient::Valid(_))) => {
            Err(ApiError::seven(SevenCode::InvalidRecipient, reason))
        }
        _ if recipients.is_empty() => Err(ApiError::seven(
            SevenCode::MissingRecipient,
            "to names no recipient",
        )),
        _ => Ok(recipients),
    }
}

/// Encoding and number of parts, as the SMS will really be sent. The encoding is detected from
/// the text, so the legacy `unicode`/`utf8` flags change nothing.
fn measure(text: &str, udh: Option<&[u8]>) -> Result<(Encoding, u32), ApiError> {
    if let Some(udh) = udh {
        let payload = hex::decode(text.trim()).unwrap_or_else(|_| text.as_bytes().to_vec());
        let parts = encoding::analyze_binary(udh, &payload).ok_or_else(|| {
            ApiError::seven(SevenCode::TextTooLong, "udh and text exceed 140 bytes")
        })?;
        return Ok((Encoding::Gsm7, parts));
    }
    let info = encoding::analyze(text);
    Ok((info.encoding, info.parts))
}
