//! One bound connection: the event loop that multiplexes submits, inbound PDUs, answers and timers.
//!
//! Owns the per-connection state: the window, outstanding requests by `sequence_number`, their deadlines,
//! `enquire_link` on idleness, the orderly shutdown (drain in-flight submits, then `unbind`), and the
//! teardown that resolves every waiter. It keeps reading the socket at all times, because responses to
//! our requests share it with the peer's requests. It must not reconnect (the supervisor does) or
//! interpret messages. What each received PDU means is in `incoming.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

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
use super::{ClientConfig, SubmitError, command_status as status};
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
    /// Set on shutdown: new submits are refused with `Closed`, and `unbind` waits until no submit is
    /// outstanding. Sending `unbind` straight away would let an SMSC that answers `unbind_resp` first (or
    /// drops pending work on unbind) end the session with every in-flight submit in doubt. The wait is
    /// bounded by `response_timeout`, since each outstanding submit expires within that.
    draining: bool,
    unbinding: bool,
    /// Requests turned away because the inbound channel was full, counted between warnings.
    turned_away: Overflow,
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
            draining: false,
            unbinding: false,
            turned_away: Overflow::default(),
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
        loop {
            if self.draining && !self.unbinding && !self.submits_outstanding() {
                self.send_unbind();
            }
            let deadline = self.next_deadline();
            let idle_until = self.last_received + self.config.enquire_link_interval;
            let may_enquire = !self.enquire_link_outstanding && !self.unbinding;
            // Reading comes last: a peer that floods us can keep the socket ready forever, while every
            // other branch is ready only finitely often (commands are bounded by the window).
            tokio::select! {
                biased;
                () = shutdown.cancelled(), if !self.draining => self.start_draining(),
                reason = self.writer.failed() => return reason,
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
                frame = self.reader.next() => {
                    self.last_received = Instant::now();
                    let flow = match frame {
                        None => Flow::End("connection closed by the SMSC".to_owned()),
                        Some(Err(error)) => Flow::End(format!("read failed: {error}")),
                        Some(Ok(frame)) => self.on_frame(frame),
                    };
                    match flow {
                        Flow::Continue => {}
                        Flow::Deliver(request) => self.turned_away.offer(inbound, request),
                        Flow::End(reason) => return reason,
                    }
                }
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        let Command::Submit {
            body,
            permit,
            reply,
        } = command;
        if self.draining {
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

    fn start_draining(&mut self) {
        self.draining = true;
        let outstanding = self.pending.values().filter(|p| is_submit(p)).count();
        tracing::info!(
            outstanding,
            "shutting down: refusing new submits, waiting for outstanding ones"
        );
    }

    fn submits_outstanding(&self) -> bool {
        self.pending.values().any(is_submit)
    }

    fn send_unbind(&mut self) {
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

pub(super) fn is_submit(pending: &Pending) -> bool {
    matches!(pending, Pending::Submit { .. })
}

/// Requests turned away since the last warning, so a flood of them logs one line per
/// [`OVERFLOW_WARNING_EVERY`] rather than one per request.
#[derive(Default)]
struct Overflow {
    count: u64,
    warned_at: Option<Instant>,
}

/// Least time between two warnings about a full inbound channel.
const OVERFLOW_WARNING_EVERY: Duration = Duration::from_secs(10);

impl Overflow {
    /// Hands a request to the caller without blocking. When the channel is full the request is
    /// answered at once with `ESME_RX_T_APPN` (0x64), so the SMSC re-sends it later, and is never
    /// acknowledged here.
    ///
    /// Waiting for room instead would stop reading the socket, and with it the `submit_sm_resp`s and
    /// `enquire_link_resp`s behind the request: submits would time out in doubt and the link be
    /// declared dead. 0x64 rather than 0x58 (`ESME_RTHROTTLED`): SMPP 3.4 defines 0x58 for an ESME
    /// exceeding the SMSC's limits, whereas 0x64 is the receiving ESME's temporary error, which
    /// SMSCs retry.
    fn offer(&mut self, inbound: &mpsc::Sender<Inbound>, request: Inbound) {
        let request = match inbound.try_send(request) {
            Ok(()) => return,
            Err(
                mpsc::error::TrySendError::Full(request)
                | mpsc::error::TrySendError::Closed(request),
            ) => request,
        };
        request.responder.reject(status::ESME_RX_T_APPN);
        self.count += 1;
        let now = Instant::now();
        if self
            .warned_at
            .is_none_or(|at| now.duration_since(at) >= OVERFLOW_WARNING_EVERY)
        {
            tracing::warn!(
                turned_away = self.count,
                closed = inbound.is_closed(),
                "inbound channel full; answered ESME_RX_T_APPN so the SMSC re-sends later \
                 (count since the last warning; raise the inbound capacity if this repeats)"
            );
            self.count = 0;
            self.warned_at = Some(now);
        }
    }
}
