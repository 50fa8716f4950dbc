//! The Kannel route: messages go to an upstream Kannel's smsbox `sendsms` (HTTP GET), and its
//! delivery reports come back to `/ingest/{name}` through the `dlr-url` each part carries
//! (`api::ingest`, smpp.md §6.1).
//!
//! A long text is cut into its parts here, where `domain::encoding` counts them, and each part
//! goes to Kannel as its own `sendsms` with a concatenation `udh`, so Kannel never splits again.
//! Each part's `dlr-url` names it as `ref=<message id>.<part>`, which is also the operator id
//! stored for that part: every report then lands on exactly its part, and a multipart message is
//! DELIVERED only when every part is. (Were Kannel to split, it would call one `dlr-url` for all
//! parts, and a report could not tell which part it is about.)
//!
//! Answers: 2xx (`0: Accepted for delivery`) means the part is with Kannel and no status is
//! given yet, because the SMSC's acknowledgement (`%d` = 8) brings ACCEPTED; when the `dlr_mask`
//! lacks bit 8 the part is ACCEPTED at once instead. A 4xx answer makes the part and those
//! after it REJECTED, with Kannel's reason as error code. A connection error, 429 or 5xx on the
//! first part leaves the message queued (the submitter retries), until `fail_after` has passed
//! since its send time: then it is FAILED, or moved to `fallback` when one is set. On a later
//! part, where earlier parts are already out and sending the message again would duplicate them,
//! the remaining parts are FAILED at once.
//!
//! This module only sends; it reads no reports and runs no SQL.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;
use url::Url;
use url::form_urlencoded::byte_serialize;

use super::rate::RateLimiter;
use super::settings::KannelSettings;
use super::{Operator, Outcome};
use crate::domain::dlr::kannel_bits;
use crate::domain::encoding::{Encoding, analyze};
use crate::domain::segment::{concatenation_udh, part_texts};
use crate::domain::status::DeliveryStatus;
use crate::store::{DueMessage, MessageId, Receipt, Submission};

/// Messages sent to Kannel at the same time.
const CONCURRENCY: usize = 16;
/// Longest Kannel answer kept as an error code.
const MAX_REASON: usize = 200;

pub struct KannelOperator {
    settings: KannelSettings,
    http: reqwest::Client,
    limiter: Option<RateLimiter>,
    /// Fires at shutdown: parts not yet sent are not started (a request on the wire finishes).
    stop: CancellationToken,
}

/// The HTTP client for `sendsms`: bounded waits, so a hung Kannel only delays its own route.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .build()
}

/// What Kannel answered to one part.
enum Answer {
    Accepted,
    /// 4xx: Kannel refused the part; the reason is its answer text.
    Rejected {
        reason: String,
        raw: String,
    },
    /// Kannel could not be asked (connection refused), or asked us to come back (429, 5xx).
    Down(String),
    /// Not sent: dlrgate is stopping.
    Stopped,
    /// The request went out but no answer came (timeout, broken connection): Kannel may have
    /// the part, so it is not sent again.
    InDoubt(String),
}

#[async_trait]
impl Operator for KannelOperator {
    async fn submit(&self, message: &DueMessage, now: i64) -> Outcome {
        self.send_message(message, now).await
    }

    fn concurrency(&self) -> usize {
        CONCURRENCY
    }

    fn fallback(&self) -> Option<&str> {
        self.settings.fallback.as_deref()
    }
}

impl KannelOperator {
    /// A route to the Kannel of `settings`; `http` is usually [`http_client`]'s. Its `rate` is
    /// shared among `nodes`.
    pub fn new(
        settings: KannelSettings,
        http: reqwest::Client,
        nodes: &Arc<AtomicU32>,
    ) -> KannelOperator {
        KannelOperator {
            limiter: RateLimiter::per_second(settings.rate_limit, nodes.clone()),
            settings,
            http,
            stop: CancellationToken::new(),
        }
    }

    /// Stops starting new parts once `stop` fires.
    pub fn stopping_with(mut self, stop: CancellationToken) -> KannelOperator {
        self.stop = stop;
        self
    }

    /// How long queued messages wait before the next try: a second, or less when `fail_after`
    /// is shorter, so a message fails close to its deadline.
    fn retry_after(&self) -> Duration {
        (self.settings.fail_after / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    async fn send_message(&self, message: &DueMessage, now: i64) -> Outcome {
        let encoding = analyze(&message.text).encoding;
        let parts = part_texts(&message.text);
        let total = u32::try_from(parts.len()).unwrap_or(u32::MAX);
        let mut submission = Submission {
            message_id: message.id,
            connector: self.settings.name.clone(),
            at: now,
            immediate: Vec::new(),
            scheduled: Vec::new(),
            operator_ids: Vec::new(),
        };
        // An 8-bit concatenation reference from the message id.
        let reference = (message.id & 0xFF) as u8;
        for (part, text) in (1..=total).zip(&parts) {
            let udh = (total > 1).then(|| concatenation_udh(reference, total, part));
            match self.send_part(message, part, text, udh, encoding).await {
                Answer::Accepted => {
                    submission
                        .operator_ids
                        .push((part, part_reference(message.id, part)));
                    if self.settings.dlr_mask & kannel_bits::SMSC_SUCCESS as u8 == 0 {
                        submission.immediate.push(self.receipt(
                            message,
                            part,
                            DeliveryStatus::Accepted,
                            None,
                            now,
                        ));
                    }
                }
                Answer::Rejected { reason, raw } => {
                    tracing::info!(connector = %self.settings.name, message = message.id, part, %reason, "kannel rejected the message");
                    for rest in part..=total {
                        let mut receipt = self.receipt(
                            message,
                            rest,
                            DeliveryStatus::Rejected,
                            Some(&reason),
                            now,
                        );
                        receipt.raw = Some(raw.clone());
                        submission.immediate.push(receipt);
                    }
                    break;
                }
                Answer::Down(reason) if part == 1 => return self.not_sent(message, now, reason),
                Answer::Stopped if part == 1 => return Outcome::NotSent(self.retry_after()),
                Answer::Stopped => {
                    for rest in part..=total {
                        let code = Some("connector-stopped");
                        let receipt =
                            self.receipt(message, rest, DeliveryStatus::Failed, code, now);
                        submission.immediate.push(receipt);
                    }
                    break;
                }
                Answer::InDoubt(reason) => {
                    tracing::warn!(connector = %self.settings.name, message = message.id, part, %reason, "no answer from kannel; the part is in doubt and not sent again");
                    submission.immediate.push(self.receipt(
                        message,
                        part,
                        DeliveryStatus::Unknown,
                        Some("in-doubt"),
                        now,
                    ));
                    for rest in part + 1..=total {
                        submission.immediate.push(self.receipt(
                            message,
                            rest,
                            DeliveryStatus::Failed,
                            Some("previous-part-failed"),
                            now,
                        ));
                    }
                    break;
                }
                Answer::Down(reason) => {
                    tracing::warn!(connector = %self.settings.name, message = message.id, part, %reason, "kannel failed mid-message; the remaining parts are FAILED");
                    for rest in part..=total {
                        submission.immediate.push(self.receipt(
                            message,
                            rest,
                            DeliveryStatus::Failed,
                            Some(&reason),
                            now,
                        ));
                    }
                    break;
                }
            }
        }
        Outcome::Submitted(submission)
    }

    /// Nothing of `message` went out: it waits, or, past `fail_after`, is given up on (the
    /// submitter moves it to the fallback or makes it FAILED).
    fn not_sent(&self, message: &DueMessage, now: i64, reason: String) -> Outcome {
        let fail_after = i64::try_from(self.settings.fail_after.as_millis()).unwrap_or(i64::MAX);
        if now.saturating_sub(message.send_at) < fail_after {
            tracing::warn!(connector = %self.settings.name, message = message.id, %reason, "kannel unavailable; the message stays queued");
            return Outcome::NotSent(self.retry_after());
        }
        tracing::warn!(connector = %self.settings.name, message = message.id, %reason, "kannel unavailable past fail_after");
        Outcome::GaveUp(reason)
    }

    fn receipt(
        &self,
        message: &DueMessage,
        part: u32,
        status: DeliveryStatus,
        error_code: Option<&str>,
        now: i64,
    ) -> Receipt {
        Receipt {
            message_id: message.id,
            part,
            status,
            at: now,
            source: self.settings.name.clone(),
            error_code: error_code.map(str::to_owned),
            raw: error_code.map(|reason| format!("sendsms: {reason}")),
        }
    }

    async fn send_part(
        &self,
        message: &DueMessage,
        part: u32,
        text: &str,
        udh: Option<[u8; 6]>,
        encoding: Encoding,
    ) -> Answer {
        if let Some(limiter) = &self.limiter {
            tokio::select! {
                _ = self.stop.cancelled() => return Answer::Stopped,
                _ = limiter.acquire() => {}
            }
        }
        if self.stop.is_cancelled() {
            return Answer::Stopped;
        }
        let url = match self.sendsms_url(message, part, text, udh, encoding) {
            Ok(url) => url,
            Err(reason) => return Answer::Down(reason),
        };
        let response = match self.http.get(url).send().await {
            Ok(response) => response,
            // Without the URL: it carries the password. Only a refused connection proves that
            // Kannel never saw the request.
            Err(error) if error.is_connect() => {
                return Answer::Down(format!("sendsms: {}", error.without_url()));
            }
            Err(error) => return Answer::InDoubt(format!("sendsms: {}", error.without_url())),
        };
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let reason: String = body.trim().chars().take(MAX_REASON).collect();
        if status.is_success() {
            Answer::Accepted
        } else if status.is_client_error() && status.as_u16() != 429 {
            Answer::Rejected {
                raw: format!("sendsms {}: {reason}", status.as_u16()),
                reason: if reason.is_empty() {
                    format!("HTTP {}", status.as_u16())
                } else {
                    reason
                },
            }
        } else {
            Answer::Down(format!("sendsms {}: {reason}", status.as_u16()))
        }
    }

    /// `sendsms_url` with the part's parameters, each URL-encoded as Kannel expects (the `udh`
    /// as raw octets).
    fn sendsms_url(
        &self,
        message: &DueMessage,
        part: u32,
        text: &str,
        udh: Option<[u8; 6]>,
        encoding: Encoding,
    ) -> Result<Url, String> {
        let mut url = Url::parse(&self.settings.sendsms_url)
            .map_err(|error| format!("sendsms_url is not a URL: {error}"))?;
        let mut query = url.query().unwrap_or_default().to_owned();
        let mut add = |key: &str, value: &[u8]| {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(key);
            query.push('=');
            query.extend(byte_serialize(value));
        };
        let settings = &self.settings;
        add("username", settings.username.as_bytes());
        add("password", settings.password.as_bytes());
        if !message.sender.is_empty() {
            add("from", message.sender.as_bytes());
        }
        add("to", message.recipient.as_bytes());
        add("text", text.as_bytes());
        add("charset", b"UTF-8");
        add("coding", coding(encoding));
        if let Some(udh) = udh {
            add("udh", &udh);
        }
        if message.flash {
            add("mclass", b"0");
        }
        if let Some(minutes) = message.ttl_minutes {
            add("validity", minutes.to_string().as_bytes());
        }
        add("dlr-mask", settings.dlr_mask.to_string().as_bytes());
        add("dlr-url", self.dlr_url(message.id, part).as_bytes());
        url.set_query(Some(&query));
        Ok(url)
    }

    /// Where Kannel reports on one part; Kannel fills in `%d`, `%A`, `%F` and `%T`.
    fn dlr_url(&self, message_id: MessageId, part: u32) -> String {
        let token: String = byte_serialize(self.settings.token.as_bytes()).collect();
        format!(
            "{}/ingest/{}?token={token}&ref={}&type=%d&answer=%A&smsc=%F&ts=%T",
            self.settings.dlr_base_url.trim_end_matches('/'),
            self.settings.name,
            part_reference(message_id, part),
        )
    }
}

/// The operator id of one part, and the `ref` its reports carry.
fn part_reference(message_id: MessageId, part: u32) -> String {
    format!("{message_id}.{part}")
}

/// Kannel's `coding`: 0 for the GSM alphabet, 2 for UCS-2.
fn coding(encoding: Encoding) -> &'static [u8] {
    match encoding {
        Encoding::Gsm7 => b"0",
        Encoding::Ucs2 => b"2",
    }
}
