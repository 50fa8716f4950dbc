//! Signature headers of a webhook: seven.io's (`X-Signature`, `X-Timestamp`, `X-Nonce`, §6.5, so
//! the official SDKs' `WebhookVerifier` accepts it) and Standard Webhooks' (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`). `webhook-id` is the same for every attempt of a
//! delivery, so receivers can deduplicate; timestamp, nonce and signatures are fresh per attempt.
//!
//! The Standard Webhooks secret of an account is `whsec_` + base64 of its signing secret. During a
//! secret rotation's grace period both secrets sign: `webhook-signature` carries both, and
//! `X-Signature-Previous` carries seven's signature with the old secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::Sha256;

use super::payload::Rendered;
use crate::domain::signature::{SignedRequest, sign};

/// The header names dlrgate sets itself; a hook's custom headers cannot replace them.
pub const RESERVED_HEADERS: [&str; 9] = [
    "x-signature",
    "x-signature-previous",
    "x-timestamp",
    "x-nonce",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
    "content-length",
];

/// The Standard Webhooks form of a signing secret.
pub fn standard_secret(secret: &str) -> String {
    format!("whsec_{}", STANDARD.encode(secret.as_bytes()))
}

/// `(name, value)` signature headers for one attempt. `secrets[0]` is the current secret.
pub fn headers(
    secrets: &[String],
    webhook_id: &str,
    timestamp: i64,
    rendered: &Rendered,
) -> Vec<(&'static str, String)> {
    let nonce: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let ts = timestamp.to_string();
    let seven = |secret: &str| {
        let request = SignedRequest {
            timestamp: &ts,
            nonce: &nonce,
            method: rendered.method,
            url: &rendered.url,
            body: &rendered.body,
        };
        sign(secret, &request)
    };
    let standard: Vec<String> = secrets
        .iter()
        .map(|secret| standard_signature(secret, webhook_id, &ts, &rendered.body))
        .collect();
    let mut headers = vec![
        ("x-timestamp", ts.clone()),
        ("x-nonce", nonce.clone()),
        ("webhook-id", webhook_id.to_owned()),
        ("webhook-timestamp", ts.clone()),
        ("webhook-signature", standard.join(" ")),
    ];
    if let Some(current) = secrets.first() {
        headers.push(("x-signature", seven(current)));
    }
    if let Some(previous) = secrets.get(1) {
        headers.push(("x-signature-previous", seven(previous)));
    }
    headers
}

/// `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`.
fn standard_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Parses a hook's `headers` ("Name: value" per line) into pairs, refusing CR/LF injection,
/// invalid names or values, and the reserved signature headers.
pub fn parse_custom_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut headers = Vec::new();
    for line in text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
    {
        if line.trim().is_empty() {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line {line:?} has no ':'"))?;
        let (name, value) = (name.trim(), value.trim());
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() || name.is_empty() {
            return Err(format!("invalid header name {name:?}"));
        }
        if value.contains(['\r', '\n']) || reqwest::header::HeaderValue::from_str(value).is_err() {
            return Err(format!("invalid value for header {name}"));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
            || name.eq_ignore_ascii_case("host")
        {
            return Err(format!(
                "header {name} is set by dlrgate and cannot be replaced"
            ));
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    Ok(headers)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn custom_headers_cannot_inject_or_replace_signatures() {
        assert_eq!(
            parse_custom_headers("Authorization: Basic abc\r\nX-Tenant: 7\n").unwrap(),
            vec![
                ("Authorization".to_owned(), "Basic abc".to_owned()),
                ("X-Tenant".to_owned(), "7".to_owned())
            ]
        );
        assert!(parse_custom_headers("X-Signature: forged").is_err());
        assert!(parse_custom_headers("webhook-id: 1").is_err());
        assert!(parse_custom_headers("no colon").is_err());
        assert!(parse_custom_headers("Bad Name: x").is_err());
        assert!(parse_custom_headers("X-A: \u{7f}").is_err());
        assert_eq!(parse_custom_headers("").unwrap(), vec![]);
    }

    #[test]
    fn standard_secret_is_whsec_base64() {
        assert_eq!(standard_secret("abc"), "whsec_YWJj");
    }
}
