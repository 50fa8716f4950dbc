//! The SMPP connector: binds to an SMSC with `crates/smpp`'s supervised client (several binds,
//! transceiver or transmitter/receiver pairs), submits due messages segment by segment and stores
//! the SMSC's id of each part; `receipts` turns `deliver_sm`/`data_sm` into statuses.
//!
//! What each `submit_sm` answer does to a part (smpp.md §3):
//! - `ESME_ROK`: ACCEPTED, and the id (normalised per `submit_id_format`) is kept for matching.
//! - throttling or a temporary SMSC error (0x58, 0x14, 0x08, 0x64): no status change; the part is
//!   tried again after `throttle_backoff`, up to the message's deadline.
//! - any other error: REJECTED with the status as error code (`0x0000000B`).
//! - no bound link: the message stays queued; past `send_at + fail_after` it is FAILED, or moved
//!   to `fallback`.
//! - sent but never answered ("in doubt", `SubmitError::InDoubt`): UNKNOWN with error code
//!   `in-doubt`, never re-sent, because the SMSC may have it and a second copy would reach the
//!   handset and be billed twice (docs/adr/0005-smpp-connector.md).

mod pdu;
pub mod receipts;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use smpp::client::{BindMode, Client, ClientConfig, ClientHandle, LinkState, SubmitError};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::rate::RateLimiter;
use super::settings::{BindKind, SmppSettings};
use super::{Context, Operator, Submitted};
use crate::domain::receipt::normalize_id;
use crate::domain::segment::segments;
use crate::domain::status::DeliveryStatus;
use crate::store::{DueMessage, Receipt, Submission};
use receipts::ReceiptSink;

/// Answers that mean "not now": throttled, queue full, system error, temporary app error.
const TEMPORARY: [u32; 4] = [0x58, 0x14, 0x08, 0x64];

pub struct SmppOperator {
    settings: SmppSettings,
    /// Sessions that can submit (transceivers or transmitters).
    links: Vec<ClientHandle>,
    next_link: AtomicUsize,
    reference: AtomicU8,
    limiter: Option<RateLimiter>,
}

/// Starts the connector's clients and receipt tasks; they stop (with `unbind`) on `context.stop`.
pub fn start(settings: SmppSettings, context: &Context) -> Arc<SmppOperator> {
    let mut links = Vec::new();
    let mut all = Vec::new();
    let modes: &[BindMode] = match settings.bind {
        BindKind::Transceiver => &[BindMode::Transceiver],
        BindKind::Pair => &[BindMode::Transmitter, BindMode::Receiver],
        BindKind::Receiver => &[BindMode::Receiver],
    };
    for _ in 0..settings.binds {
        for mode in modes {
            let (handle, inbound) = Client::spawn(client_config(&settings, *mode));
            let sink = ReceiptSink {
                connector: settings.name.clone(),
                store: context.store.clone(),
                deliveries: context.deliveries.clone(),
                id_format: settings.receipt_id_format,
            };
            context
                .tracker
                .spawn(sink.run(inbound, context.stop.clone()));
            if *mode != BindMode::Receiver {
                links.push(handle.clone());
            }
            context.tracker.spawn(watch_link(
                settings.name.clone(),
                handle.state(),
                context.stop.clone(),
            ));
            all.push(handle);
        }
    }
    let stop = context.stop.clone();
    context.tracker.spawn(async move {
        stop.cancelled().await;
        futures_util::future::join_all(all.iter().map(ClientHandle::shutdown)).await;
    });
    Arc::new(SmppOperator {
        limiter: RateLimiter::per_second(settings.rate_limit),
        settings,
        links,
        next_link: AtomicUsize::new(0),
        reference: AtomicU8::new(rand::random()),
    })
}

/// Keeps the `dlrgate_smpp_binds_up` gauge and the log in step with one session's link state.
async fn watch_link(
    connector: String,
    mut state: watch::Receiver<LinkState>,
    stop: CancellationToken,
) {
    let mut up = false;
    loop {
        let now_up = matches!(*state.borrow_and_update(), LinkState::Bound);
        if now_up != up {
            up = now_up;
            // Looked up at each change: the metrics recorder may be installed after this starts.
            let gauge = metrics::gauge!("dlrgate_smpp_binds_up", "connector" => connector.clone());
            if up {
                gauge.increment(1.0);
                tracing::info!(%connector, "SMPP bind up");
            } else {
                gauge.decrement(1.0);
                tracing::warn!(%connector, state = ?*state.borrow(), "SMPP bind down");
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = state.changed() => if changed.is_err() { return },
        }
    }
}

fn client_config(settings: &SmppSettings, mode: BindMode) -> ClientConfig {
    ClientConfig {
        addr: format!("{}:{}", settings.host, settings.port),
        system_id: settings.system_id.clone(),
        password: settings.password.clone(),
        system_type: settings.system_type.clone(),
        mode,
        window: settings.window,
        response_timeout: settings.response_timeout,
        enquire_link_interval: settings.enquire_link_interval,
        reconnect_min: settings.reconnect_min,
        reconnect_max: settings.reconnect_max,
        ..ClientConfig::default()
    }
}

/// What became of one message.
enum Outcome {
    Done(Submission),
    /// Nothing was sent: the message stays queued.
    NotSent,
    /// Nothing was sent and its deadline has passed.
    Expired,
}

/// What became of one part.
enum PartOutcome {
    Accepted(String),
    Final(DeliveryStatus, String),
    NotSent,
}

#[async_trait]
impl Operator for SmppOperator {
    async fn submit(&self, messages: Vec<DueMessage>, now: i64) -> Submitted {
        let outcomes = futures_util::future::join_all(
            messages
                .iter()
                .map(|message| self.submit_message(message, now)),
        )
        .await;
        let mut submitted = Submitted::default();
        for (message, outcome) in messages.iter().zip(outcomes) {
            match outcome {
                Outcome::Done(submission) => submitted.submissions.push(submission),
                Outcome::NotSent => {
                    submitted.retry_after =
                        Some(self.settings.reconnect_min.min(Duration::from_secs(1)));
                }
                Outcome::Expired if self.settings.fallback.is_some() => {
                    submitted.reroute.push(message.id)
                }
                Outcome::Expired => submitted.submissions.push(self.failed(message, now)),
            }
        }
        submitted
    }

    fn fallback(&self) -> Option<&str> {
        self.settings.fallback.as_deref()
    }
}

impl SmppOperator {
    fn deadline(&self, message: &DueMessage) -> i64 {
        let fail_after = i64::try_from(self.settings.fail_after.as_millis()).unwrap_or(i64::MAX);
        message.send_at.saturating_add(fail_after)
    }

    async fn submit_message(&self, message: &DueMessage, now: i64) -> Outcome {
        let reference = self.reference.fetch_add(1, Ordering::Relaxed);
        let parts = segments(&message.text, reference, message.flash);
        let mut results = Vec::with_capacity(parts.len());
        for (index, segment) in parts.iter().enumerate() {
            let body = pdu::submit_sm(message, segment, self.settings.intermediate_receipts);
            // Once a part is out, the others must follow: they wait for the link instead of
            // leaving the message queued (which would send the first part again).
            let may_defer = index == 0;
            let outcome = self
                .submit_part(body, self.deadline(message), may_defer)
                .await;
            if matches!(outcome, PartOutcome::NotSent) && index == 0 {
                return if crate::workers::now_millis() >= self.deadline(message) {
                    Outcome::Expired
                } else {
                    Outcome::NotSent
                };
            }
            results.push(outcome);
        }
        Outcome::Done(self.submission(message, now, results))
    }

    /// Sends one part until it has an answer that is not "try later", or its deadline passes.
    /// With `may_defer`, a link that is down before anything was sent gives `NotSent` at once.
    async fn submit_part(
        &self,
        body: smpp::SubmitSm,
        deadline: i64,
        may_defer: bool,
    ) -> PartOutcome {
        let mut tried = !may_defer;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.acquire().await;
            }
            let result = match self.link() {
                Some(link) => link.submit(body.clone()).await,
                None => Err(SubmitError::NotBound),
            };
            let retry = match result {
                Ok(answer) if answer.command_status == 0 => {
                    let id = normalize_id(&answer.message_id, self.settings.submit_id_format);
                    return PartOutcome::Accepted(id);
                }
                Ok(answer) if TEMPORARY.contains(&answer.command_status) => {
                    tried = true;
                    metrics::counter!("dlrgate_smpp_throttled_total", "connector" => self.settings.name.clone()).increment(1);
                    self.settings.throttle_backoff
                }
                Ok(answer) => {
                    return PartOutcome::Final(
                        DeliveryStatus::Rejected,
                        format!("{:#010X}", answer.command_status).replace("0X", "0x"),
                    );
                }
                Err(SubmitError::InDoubt) => {
                    return PartOutcome::Final(DeliveryStatus::Unknown, "in-doubt".to_owned());
                }
                Err(SubmitError::NotBound | SubmitError::Closed) if !tried => {
                    return PartOutcome::NotSent;
                }
                // Shutting down with a message half sent: its other parts cannot follow.
                Err(SubmitError::Closed) => {
                    return PartOutcome::Final(
                        DeliveryStatus::Failed,
                        "connector-stopped".to_owned(),
                    );
                }
                Err(SubmitError::NotBound) => self.settings.reconnect_min,
            };
            if crate::workers::now_millis() >= deadline {
                return PartOutcome::Final(DeliveryStatus::Failed, "route-down".to_owned());
            }
            tokio::time::sleep(retry).await;
        }
    }

    /// The next link, round robin.
    fn link(&self) -> Option<&ClientHandle> {
        if self.links.is_empty() {
            return None;
        }
        let index = self.next_link.fetch_add(1, Ordering::Relaxed) % self.links.len();
        self.links.get(index)
    }

    fn submission(&self, message: &DueMessage, now: i64, parts: Vec<PartOutcome>) -> Submission {
        let mut submission = self.empty_submission(message, now);
        for (part, outcome) in (1u32..).zip(parts) {
            let (status, error_code) = match outcome {
                PartOutcome::Accepted(id) => {
                    submission.operator_ids.push((part, id));
                    (DeliveryStatus::Accepted, None)
                }
                PartOutcome::Final(status, code) => (status, Some(code)),
                PartOutcome::NotSent => (DeliveryStatus::Failed, Some("route-down".to_owned())),
            };
            submission
                .immediate
                .push(self.receipt(message, part, status, error_code, now));
        }
        submission
    }

    fn failed(&self, message: &DueMessage, now: i64) -> Submission {
        let mut submission = self.empty_submission(message, now);
        submission.immediate = (1..=message.parts.max(1))
            .map(|part| {
                self.receipt(
                    message,
                    part,
                    DeliveryStatus::Failed,
                    Some("route-down".to_owned()),
                    now,
                )
            })
            .collect();
        submission
    }

    fn empty_submission(&self, message: &DueMessage, now: i64) -> Submission {
        Submission {
            message_id: message.id,
            connector: self.settings.name.clone(),
            at: now,
            immediate: Vec::new(),
            scheduled: Vec::new(),
            operator_ids: Vec::new(),
        }
    }

    fn receipt(
        &self,
        message: &DueMessage,
        part: u32,
        status: DeliveryStatus,
        error_code: Option<String>,
        now: i64,
    ) -> Receipt {
        Receipt {
            message_id: message.id,
            part,
            status,
            at: now,
            source: self.settings.name.clone(),
            raw: error_code.as_ref().map(|code| format!("submit_sm: {code}")),
            error_code,
        }
    }
}
