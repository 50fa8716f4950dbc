//! One SMPP connection of the simulator: the read/write loop, the bind state and the window of
//! `deliver_sm` receipts waiting for their `deliver_sm_resp`.
//!
//! Owns the socket. Frames that are already buffered are handled as one batch, their answers are
//! fed to the codec and flushed once, and the batch's new receipts go to the hub in one message.
//! What each request means is decided in `requests.rs`; this module must not plan receipts or
//! route them to other sessions (that is the hub's).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{FutureExt, SinkExt, StreamExt};
use smpp::{Frame, FrameError, Pdu, SmppCodec};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::Shared;
use super::hub::{HubCommand, SessionId};
use super::ids::IdAllocator;
use super::receipt::Receipt;
use super::stats::Counters;

/// Most frames handled before answers are flushed, so one busy client cannot starve receipts.
const MAX_BATCH: usize = 512;

/// Which bind the session holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BindKind {
    Transmitter,
    Receiver,
    Transceiver,
}

impl BindKind {
    pub(super) fn transmits(self) -> bool {
        self != Self::Receiver
    }

    pub(super) fn receives(self) -> bool {
        self != Self::Transmitter
    }
}

/// Whether the connection goes on after a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    /// Write what is pending, then close.
    Close,
}

pub(super) struct Session {
    pub(super) id: SessionId,
    pub(super) shared: Arc<Shared>,
    pub(super) bound: Option<(Arc<str>, BindKind)>,
    pub(super) ids: IdAllocator,
    /// PDUs read so far, for the drop-after pathology.
    pub(super) pdus_received: u64,
    /// `submit_sm` read so far while bound, for the throttle pathology.
    pub(super) submits_seen: u64,
    sequence: u32,
    /// Receipts handed to this session and not yet written.
    outbox: VecDeque<Receipt>,
    /// Written receipts by `sequence_number`, with the time they were written.
    in_flight: HashMap<u32, (Instant, Receipt)>,
    /// The same, in write order, so timeouts are found from the front.
    in_flight_order: VecDeque<(Instant, u32)>,
    /// Receipts from the hub; present while bound as receiver or transceiver.
    pub(super) receipts: Option<mpsc::UnboundedReceiver<Vec<Receipt>>>,
    /// PDUs to write at the end of the batch, in order.
    pub(super) out: Vec<Pdu>,
    /// New receipts of this batch for the hub.
    pub(super) schedule: Vec<(Instant, Receipt)>,
    /// Receipts to send again after the retry delay.
    retry: Vec<Receipt>,
    /// The batch's clock readings, taken once per batch.
    pub(super) now: Instant,
    pub(super) unix_now: i64,
    last_enquire_link: Instant,
    /// Counts of this batch, added to the shared counters at its end.
    pub(super) batch: BatchCounts,
}

#[derive(Debug, Default)]
pub(super) struct BatchCounts {
    pub(super) submits_received: u64,
    pub(super) submits_accepted: u64,
    pub(super) receipts_sent: u64,
    pub(super) receipts_acknowledged: u64,
}

impl Session {
    pub(super) fn new(id: SessionId, shared: Arc<Shared>) -> Self {
        let ids = IdAllocator::new(
            shared.ids.clone(),
            shared.config.submit_id_format,
            shared.config.receipt_id_format,
        );
        Self {
            id,
            shared,
            bound: None,
            ids,
            pdus_received: 0,
            submits_seen: 0,
            sequence: 0,
            outbox: VecDeque::new(),
            in_flight: HashMap::new(),
            in_flight_order: VecDeque::new(),
            receipts: None,
            out: Vec::new(),
            schedule: Vec::new(),
            retry: Vec::new(),
            now: Instant::now(),
            unix_now: 0,
            last_enquire_link: Instant::now(),
            batch: BatchCounts::default(),
        }
    }

    /// Serves the connection until the peer leaves, unbinds, breaks the framing, or shutdown.
    pub(super) async fn run(mut self, stream: TcpStream) {
        let peer = stream.peer_addr().ok();
        let mut framed = Framed::new(stream, SmppCodec);
        let shutdown = self.shared.shutdown.clone();
        let mut tick = tokio::time::interval(self.tick_period());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut flow = Flow::Continue;
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                frame = framed.next() => {
                    self.start_batch();
                    flow = self.on_next(frame);
                    let mut handled = 1;
                    while flow == Flow::Continue && handled < MAX_BATCH {
                        let Some(frame) = framed.next().now_or_never() else { break };
                        flow = self.on_next(frame);
                        handled += 1;
                    }
                }
                batch = next_batch(&mut self.receipts) => {
                    self.start_batch();
                    match batch {
                        Some(batch) => self.take_receipts(batch),
                        None => self.receipts = None,
                    }
                }
                _ = tick.tick() => {
                    self.start_batch();
                    self.on_tick();
                }
            }
            self.fill_window();
            if self.write_out(&mut framed).await.is_err() {
                break;
            }
            self.end_batch();
            if flow == Flow::Close {
                break;
            }
        }
        tracing::debug!(?peer, session = self.id, "smsc-sim: connection closed");
        self.detach();
    }

    fn tick_period(&self) -> Duration {
        let config = &self.shared.config;
        let mut period = config.receipt_ack_timeout / 4;
        if let Some(interval) = config.enquire_link_interval {
            period = period.min(interval);
        }
        period.clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    fn start_batch(&mut self) {
        self.now = Instant::now();
        self.unix_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    }

    /// One item from the stream: a PDU, a malformed frame, the end, or a framing error.
    fn on_next(&mut self, frame: Option<Result<Frame, FrameError>>) -> Flow {
        match frame {
            Some(Ok(frame)) => self.on_frame(frame),
            Some(Err(error)) => {
                tracing::info!(session = self.id, %error, "smsc-sim: closing an unreadable stream");
                Flow::Close
            }
            None => Flow::Close,
        }
    }

    fn take_receipts(&mut self, batch: Vec<Receipt>) {
        self.outbox.extend(batch);
        if let Some(receipts) = &mut self.receipts {
            while let Ok(more) = receipts.try_recv() {
                self.outbox.extend(more);
            }
        }
    }

    /// Finds receipts whose `deliver_sm_resp` is overdue, and sends our own `enquire_link`.
    fn on_tick(&mut self) {
        let timeout = self.shared.config.receipt_ack_timeout;
        // Acknowledged entries are skipped too, so the list stays as short as the window.
        while let Some(&(sent_at, sequence)) = self.in_flight_order.front() {
            let answered = !self.in_flight.contains_key(&sequence);
            if !answered
                && sent_at
                    .checked_add(timeout)
                    .is_none_or(|due| due > self.now)
            {
                break;
            }
            self.in_flight_order.pop_front();
            if let Some((_, receipt)) = self.in_flight.remove(&sequence) {
                self.retry.push(receipt);
            }
        }
        if let (Some(interval), Some(_)) = (self.shared.config.enquire_link_interval, &self.bound)
            && self.now.duration_since(self.last_enquire_link) >= interval
        {
            self.last_enquire_link = self.now;
            let sequence_number = self.next_sequence();
            self.out.push(Pdu::EnquireLink { sequence_number });
        }
    }

    /// Handles a `deliver_sm_resp`: acknowledged, or back to the hub for a later retry.
    pub(super) fn on_deliver_sm_resp(&mut self, sequence_number: u32, command_status: u32) {
        let Some((_, receipt)) = self.in_flight.remove(&sequence_number) else {
            return;
        };
        if command_status == 0 {
            self.batch.receipts_acknowledged += 1;
        } else {
            self.retry.push(receipt);
        }
    }

    /// Queues a receipt's `deliver_sm` for this batch and remembers it until it is answered.
    pub(super) fn send_receipt(&mut self, receipt: Receipt) {
        let sequence_number = self.next_sequence();
        self.out.push(Pdu::DeliverSm {
            sequence_number,
            body: receipt.deliver_sm(),
        });
        self.in_flight.insert(sequence_number, (self.now, receipt));
        self.in_flight_order.push_back((self.now, sequence_number));
        self.batch.receipts_sent += 1;
    }

    fn fill_window(&mut self) {
        while self.in_flight.len() < self.shared.config.receipt_window {
            let Some(receipt) = self.outbox.pop_front() else {
                break;
            };
            self.send_receipt(receipt);
        }
    }

    pub(super) fn next_sequence(&mut self) -> u32 {
        self.sequence = if self.sequence >= 0x7FFF_FFFF {
            1
        } else {
            self.sequence + 1
        };
        self.sequence
    }

    async fn write_out(
        &mut self,
        framed: &mut Framed<TcpStream, SmppCodec>,
    ) -> Result<(), FrameError> {
        if self.out.is_empty() {
            return Ok(());
        }
        for pdu in self.out.drain(..) {
            framed.feed(pdu).await?;
        }
        SinkExt::<Pdu>::flush(framed).await
    }

    fn end_batch(&mut self) {
        let counters = &self.shared.counters;
        let batch = std::mem::take(&mut self.batch);
        Counters::add(&counters.submits_received, batch.submits_received);
        Counters::add(&counters.submits_accepted, batch.submits_accepted);
        Counters::add(&counters.receipts_sent, batch.receipts_sent);
        Counters::add(&counters.receipts_acknowledged, batch.receipts_acknowledged);
        if !self.schedule.is_empty() {
            let schedule = std::mem::take(&mut self.schedule);
            let _ = self.shared.hub.send(HubCommand::Schedule(schedule));
        }
        if !self.retry.is_empty() {
            let retry = std::mem::take(&mut self.retry);
            let _ = self.shared.hub.send(HubCommand::Retry(retry));
        }
    }

    /// Gives every receipt this session still holds back to the hub.
    fn detach(mut self) {
        self.end_batch();
        let mut unsent: Vec<Receipt> = self.outbox.drain(..).collect();
        if let Some(mut receipts) = self.receipts.take() {
            receipts.close();
            while let Ok(batch) = receipts.try_recv() {
                unsent.extend(batch);
            }
        }
        let mut in_flight: Vec<(u32, Receipt)> = self
            .in_flight
            .drain()
            .map(|(sequence, (_, receipt))| (sequence, receipt))
            .collect();
        in_flight.sort_by_key(|(sequence, _)| *sequence);
        let _ = self.shared.hub.send(HubCommand::Detach {
            session: self.id,
            in_flight: in_flight.into_iter().map(|(_, receipt)| receipt).collect(),
            unsent,
        });
    }
}

async fn next_batch(
    receipts: &mut Option<mpsc::UnboundedReceiver<Vec<Receipt>>>,
) -> Option<Vec<Receipt>> {
    match receipts {
        Some(receipts) => receipts.recv().await,
        None => std::future::pending().await,
    }
}
