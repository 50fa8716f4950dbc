//! One bound connection: the event loop that multiplexes submits, inbound PDUs, answers and timers.
//!
//! Owns the per-connection state: the window, outstanding requests by `sequence_number`, their deadlines,
//! `enquire_link` on idleness, `unbind` on shutdown, and the teardown that resolves every waiter. It must
//! not reconnect (the supervisor does) or interpret messages. What each received PDU means is in
//! `incoming.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use tokio_util::codec::FramedRead;
use tokio_util::sync::CancellationToken;

use super::handle::{Command, SessionLink, SubmitResult};
use super::inbound::Inbound;
use super::sequence::Sequence;
use super::writer::Writer;
use super::{ClientConfig, SubmitError};
use crate::{Pdu, SmppCodec};

/// Commands taken off the queue per loop turn before other events get a look in.
const MAX_COMMANDS_PER_TURN: usize = 64;

/// A request of ours that awaits its response.
#[derive(Debug)]
pub(super) enum Pending {
    Submit {
        reply: oneshot::Sender<SubmitResult>,
        /// Released with the entry, which frees the window slot.
        _permit: OwnedSemaphorePermit,
    },
    EnquireLink,
    Unbind,
}

/// What the loop does after one received frame.
pub(super) enum Flow {
    Continue,
    /// A request for the caller, to be offered on the inbound channel.
    Deliver(Inbound),
    /// The session is over, for this reason.
    End(String),
}

/// A bound connection, ready to serve.
pub(crate) struct Session {
    pub(super) config: Arc<ClientConfig>,
    pub(super) reader: FramedRead<OwnedReadHalf, SmppCodec>,
    pub(super) writer: Writer,
    pub(super) sequence: Sequence,
    pub(super) pending: HashMap<u32, Pending>,
    /// Deadlines in the order the requests were sent. All use the same timeout, so the front is always
    /// the earliest; entries whose request was answered are skipped when they come up.
    deadlines: VecDeque<(Instant, u32)>,
    /// When a PDU was last received; `enquire_link` is sent after `enquire_link_interval` of silence.
    last_received: Instant,
    enquire_link_outstanding: bool,
    pub(super) unbinding: bool,
}

impl Session {
    pub(crate) fn new(
        config: Arc<ClientConfig>,
        reader: FramedRead<OwnedReadHalf, SmppCodec>,
        writer: Writer,
        sequence: Sequence,
    ) -> Self {
        Self {
            config,
            reader,
            writer,
            sequence,
            pending: HashMap::new(),
            deadlines: VecDeque::new(),
            last_received: Instant::now(),
            enquire_link_outstanding: false,
            unbinding: false,
        }
    }

    /// Serves the connection until it ends, then resolves every waiter. `on_bound` publishes the link
    /// to handles; `withdraw` is called before teardown so no new submit reaches a dying session.
    pub(crate) async fn run(
        mut self,
        inbound: &mpsc::Sender<Inbound>,
        shutdown: &CancellationToken,
        publish: impl FnOnce(SessionLink),
        withdraw: impl FnOnce(),
    ) -> String {
        let window = Arc::new(Semaphore::new(self.config.window));
        let (commands_tx, mut commands) = mpsc::unbounded_channel();
        publish(SessionLink {
            window: window.clone(),
            commands: commands_tx,
        });
        let reason = self.serve(&mut commands, inbound, shutdown).await;
        withdraw();
        window.close();
        commands.close();
        let unsent = if shutdown.is_cancelled() {
            SubmitError::Closed
        } else {
            SubmitError::NotBound
        };
        while let Ok(Command::Submit { reply, .. }) = commands.try_recv() {
            let _ = reply.send(Err(unsent));
        }
        for (_, pending) in self.pending.drain() {
            if let Pending::Submit { reply, .. } = pending {
                let _ = reply.send(Err(SubmitError::InDoubt));
            }
        }
        self.writer.close(self.config.response_timeout).await;
        reason
    }

    async fn serve(
        &mut self,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        inbound: &mpsc::Sender<Inbound>,
        shutdown: &CancellationToken,
    ) -> String {
        // An inbound request the full channel could not take yet; reading pauses until it is taken.
        let mut waiting: Option<Inbound> = None;
        loop {
            let deadline = self.next_deadline();
            let idle_until = self.last_received + self.config.enquire_link_interval;
            let may_enquire = !self.enquire_link_outstanding && !self.unbinding;
            tokio::select! {
                biased;
                () = shutdown.cancelled(), if !self.unbinding => self.send_unbind(),
                reason = self.writer.failed() => return reason,
                frame = self.reader.next(), if waiting.is_none() => {
                    self.last_received = Instant::now();
                    let flow = match frame {
                        None => Flow::End("connection closed by the SMSC".to_owned()),
                        Some(Err(error)) => Flow::End(format!("read failed: {error}")),
                        Some(Ok(frame)) => self.on_frame(frame),
                    };
                    match flow {
                        Flow::Continue => {}
                        Flow::Deliver(request) => waiting = offer(inbound, request),
                        Flow::End(reason) => return reason,
                    }
                }
                permit = inbound.reserve(), if waiting.is_some() => {
                    // On `Err` the caller dropped the receiver; dropping the request answers it 0x64.
                    if let (Ok(permit), Some(request)) = (permit, waiting.take()) {
                        permit.send(request);
                    }
                }
                Some(command) = commands.recv() => {
                    self.on_command(command);
                    for _ in 1..MAX_COMMANDS_PER_TURN {
                        let Ok(command) = commands.try_recv() else { break };
                        self.on_command(command);
                    }
                }
                () = sleep_until(deadline.unwrap_or(idle_until)), if deadline.is_some() => {
                    if let Some(reason) = self.expire(Instant::now()) {
                        return reason;
                    }
                }
                () = sleep_until(idle_until), if may_enquire => self.send_enquire_link(),
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        let Command::Submit {
            body,
            permit,
            reply,
        } = command;
        if self.unbinding {
            let _ = reply.send(Err(SubmitError::Closed));
            return;
        }
        let sequence_number = self.request(Pending::Submit {
            reply,
            _permit: permit,
        });
        self.writer.send(Pdu::SubmitSm {
            sequence_number,
            body,
        });
    }

    /// Registers an outstanding request with its deadline and returns its sequence number.
    pub(super) fn request(&mut self, pending: Pending) -> u32 {
        let pending_requests = &self.pending;
        let sequence_number = self
            .sequence
            .next_free(|candidate| pending_requests.contains_key(&candidate));
        self.pending.insert(sequence_number, pending);
        let deadline = Instant::now() + self.config.response_timeout;
        self.deadlines.push_back((deadline, sequence_number));
        sequence_number
    }

    pub(super) fn send_unbind(&mut self) {
        tracing::info!("shutting down: sending unbind");
        self.unbinding = true;
        let sequence_number = self.request(Pending::Unbind);
        self.writer.send(Pdu::Unbind { sequence_number });
    }

    fn send_enquire_link(&mut self) {
        self.enquire_link_outstanding = true;
        let sequence_number = self.request(Pending::EnquireLink);
        tracing::debug!(sequence_number, "link idle: sending enquire_link");
        self.writer.send(Pdu::EnquireLink { sequence_number });
    }

    /// Called when an `enquire_link` was answered (by `enquire_link_resp` or even `generic_nack`).
    pub(super) fn enquire_link_answered(&mut self) {
        self.enquire_link_outstanding = false;
    }

    /// The earliest deadline of a request still outstanding, dropping answered ones from the front.
    fn next_deadline(&mut self) -> Option<Instant> {
        while let Some(&(deadline, sequence_number)) = self.deadlines.front() {
            if self.pending.contains_key(&sequence_number) {
                return Some(deadline);
            }
            self.deadlines.pop_front();
        }
        None
    }

    /// Resolves requests whose time is up. Returns a reason when the link must be given up.
    fn expire(&mut self, now: Instant) -> Option<String> {
        while let Some(&(deadline, sequence_number)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            match self.pending.remove(&sequence_number) {
                None => {}
                Some(Pending::Submit { reply, .. }) => {
                    tracing::warn!(sequence_number, "no submit_sm_resp in time; in doubt");
                    let _ = reply.send(Err(SubmitError::InDoubt));
                }
                Some(Pending::EnquireLink) => {
                    return Some(format!(
                        "no enquire_link_resp within {:?}",
                        self.config.response_timeout
                    ));
                }
                Some(Pending::Unbind) => return Some("no unbind_resp; closing anyway".to_owned()),
            }
        }
        None
    }
}

/// Hands a request to the caller without blocking; returns it back when the channel is full.
fn offer(inbound: &mpsc::Sender<Inbound>, request: Inbound) -> Option<Inbound> {
    match inbound.try_send(request) {
        Ok(()) => None,
        Err(mpsc::error::TrySendError::Full(request)) => Some(request),
        Err(mpsc::error::TrySendError::Closed(request)) => {
            tracing::warn!("nobody takes inbound requests; rejecting");
            drop(request);
            None
        }
    }
}
