//! The SMPP connector: binds to an SMSC with `crates/smpp`'s supervised client (several binds,
//! transceiver or transmitter/receiver pairs), submits due messages segment by segment and stores
//! the SMSC's id of each part; `receipts` turns `deliver_sm`/`data_sm` into statuses.
//!
//! What each `submit_sm` answer does to a part (smpp.md §3):
//! - `ESME_ROK`: ACCEPTED, and the id (normalised per `submit_id_format`) is kept for matching.
//! - throttling or a temporary SMSC error (0x58, 0x14, 0x08, 0x64): no status change; the part is
//!   tried again after `throttle_backoff`.
//! - any other error: REJECTED with the status as error code (`0x0000000B`); later parts of the
//!   message are not sent (FAILED `previous-part-failed`), a broken concatenated SMS being worse
//!   than none.
//! - no bound link, or a stop, before the first part went out: the message goes back to the
//!   queue. Past `send_at + fail_after` without its first part out (link down or throttled), it
//!   moves to `fallback`, or becomes FAILED (`route-down`). Later parts wait for the link.
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
use super::{Context, Operator, Outcome};
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
    /// Fires at shutdown: waits for the link, the rate limit or a back-off end at once.
    stop: CancellationToken,
    /// `dlrgate_smpp_submits_in_flight`: held, so a submit costs two atomic adds, no lookup.
    in_flight: metrics::Gauge,
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
    let in_flight = register_metrics(&settings.name, settings.window * links.len());
    Arc::new(SmppOperator {
        limiter: RateLimiter::per_second(settings.rate_limit, context.nodes.clone()),
        settings,
        links,
        next_link: AtomicUsize::new(0),
        reference: AtomicU8::new(rand::random()),
        stop: context.stop.clone(),
        in_flight,
    })
}

/// Registers the connector's metrics at 0 (scrapes show them before the first bind or throttle)
/// and sets its window; returns its in-flight gauge.
fn register_metrics(connector: &str, window: usize) -> metrics::Gauge {
    let name = connector.to_owned();
    metrics::gauge!("dlrgate_smpp_binds_up", "connector" => name.clone()).increment(0.0);
    metrics::counter!("dlrgate_smpp_throttled_total", "connector" => name.clone()).increment(0);
    metrics::gauge!("dlrgate_smpp_window", "connector" => name.clone()).set(window as f64);
    let in_flight = metrics::gauge!("dlrgate_smpp_submits_in_flight", "connector" => name);
    in_flight.set(0.0);
    in_flight
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
        inbound_capacity: settings.receipt_queue,
        response_timeout: settings.response_timeout,
        enquire_link_interval: settings.enquire_link_interval,
        reconnect_min: settings.reconnect_min,
        reconnect_max: settings.reconnect_max,
        ..ClientConfig::default()
    }
}

/// One submit counted in `dlrgate_smpp_submits_in_flight` until dropped (answered, or its
/// future dropped at a stop).
struct InFlight<'g>(&'g metrics::Gauge);

impl<'g> InFlight<'g> {
    fn count(gauge: &'g metrics::Gauge) -> InFlight<'g> {
        gauge.increment(1.0);
        InFlight(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// What became of one part.
enum PartOutcome {
    Accepted(String),
    /// Answered for good, or in doubt: no later part is sent.
    Final(DeliveryStatus, String),
    /// First part only: nothing was sent, try the message later.
    NotSent,
    /// First part only: nothing was sent and the deadline has passed.
    GaveUp,
}

#[async_trait]
impl Operator for SmppOperator {
    async fn submit(&self, message: &DueMessage, now: i64) -> Outcome {
        let deadline = self.deadline(message);
        let reference = self.reference.fetch_add(1, Ordering::Relaxed);
        let parts = segments(&message.text, reference, message.flash);
        let mut results = Vec::with_capacity(parts.len());
        for (index, segment) in parts.iter().enumerate() {
            let body = pdu::submit_sm(message, segment, self.settings.intermediate_receipts);
            // Once a part is out, the others must follow: they wait for the link instead of
            // leaving the message queued (which would send the first part again).
            match self.submit_part(body, deadline, index == 0).await {
                PartOutcome::NotSent => return Outcome::NotSent(self.retry_after()),
                PartOutcome::GaveUp => return Outcome::GaveUp("route-down".to_owned()),
                PartOutcome::Accepted(id) => results.push(Ok(id)),
                PartOutcome::Final(status, code) => {
                    // A broken concatenated SMS is worse than none: the rest is not sent.
                    results.push(Err((status, code)));
                    break;
                }
            }
        }
        Outcome::Submitted(self.submission(message, now, results))
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

    fn retry_after(&self) -> Duration {
        self.settings.reconnect_min.min(Duration::from_secs(1))
    }

    /// Sends one part until it has an answer that is not "try later", or its deadline passes.
    /// For the `first` part, a link that is down (or a stop) means nothing was sent at all.
    async fn submit_part(&self, body: smpp::SubmitSm, deadline: i64, first: bool) -> PartOutcome {
        let stopped = || {
            if first {
                PartOutcome::NotSent
            } else {
                PartOutcome::Final(DeliveryStatus::Failed, "connector-stopped".to_owned())
            }
        };
        loop {
            if crate::workers::now_millis() >= deadline {
                return if first {
                    PartOutcome::GaveUp
                } else {
                    PartOutcome::Final(DeliveryStatus::Failed, "route-down".to_owned())
                };
            }
            if let Some(limiter) = &self.limiter {
                tokio::select! {
                    _ = self.stop.cancelled() => return stopped(),
                    _ = limiter.acquire() => {}
                }
            }
            let result = match self.link() {
                Some(link) => {
                    let _counted = InFlight::count(&self.in_flight);
                    link.submit(body.clone()).await
                }
                None => Err(SubmitError::NotBound),
            };
            let retry = match result {
                Ok(answer) if answer.command_status == 0 => {
                    let id = normalize_id(&answer.message_id, self.settings.submit_id_format);
                    return PartOutcome::Accepted(id);
                }
                Ok(answer) if TEMPORARY.contains(&answer.command_status) => {
                    metrics::counter!("dlrgate_smpp_throttled_total", "connector" => self.settings.name.clone())
                        .increment(1);
                    self.settings.throttle_backoff
                }
                Ok(answer) => {
                    let code = format!("0x{:08X}", answer.command_status);
                    return PartOutcome::Final(DeliveryStatus::Rejected, code);
                }
                Err(SubmitError::InDoubt) => {
                    return PartOutcome::Final(DeliveryStatus::Unknown, "in-doubt".to_owned());
                }
                Err(SubmitError::NotBound) if first => return PartOutcome::NotSent,
                Err(SubmitError::Closed) => return stopped(),
                Err(SubmitError::NotBound) => self.settings.reconnect_min,
            };
            tokio::select! {
                _ = self.stop.cancelled() => return stopped(),
                _ = tokio::time::sleep(retry) => {}
            }
        }
    }

    /// The next bound link, round robin.
    fn link(&self) -> Option<&ClientHandle> {
        let count = self.links.len();
        let start = self.next_link.fetch_add(1, Ordering::Relaxed);
        (0..count)
            .filter_map(|offset| self.links.get((start + offset) % count))
            .find(|link| matches!(*link.state().borrow(), LinkState::Bound))
    }

    /// The submission of a message whose parts were answered as `results` (in order); parts
    /// after a failed one were not sent.
    fn submission(
        &self,
        message: &DueMessage,
        now: i64,
        results: Vec<Result<String, (DeliveryStatus, String)>>,
    ) -> Submission {
        let mut submission = Submission {
            message_id: message.id,
            connector: self.settings.name.clone(),
            at: now,
            immediate: Vec::new(),
            scheduled: Vec::new(),
            operator_ids: Vec::new(),
        };
        let sent = results.len() as u32;
        for (part, result) in (1u32..).zip(results) {
            let (status, error_code) = match result {
                Ok(id) => {
                    submission.operator_ids.push((part, id));
                    (DeliveryStatus::Accepted, None)
                }
                Err((status, code)) => (status, Some(code)),
            };
            submission
                .immediate
                .push(self.receipt(message, part, status, error_code, now));
        }
        for part in sent + 1..=message.parts.max(1) {
            let code = Some("previous-part-failed".to_owned());
            submission.immediate.push(self.receipt(
                message,
                part,
                DeliveryStatus::Failed,
                code,
                now,
            ));
        }
        submission
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
