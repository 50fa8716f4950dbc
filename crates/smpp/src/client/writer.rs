//! The write half of a connection: one task that drains a queue of PDUs into the socket.
//!
//! Owns batching: it feeds every PDU already queued and then flushes once, so a burst of submits and
//! answers costs a few system calls instead of one each. Owns the bound on that queue too: a peer that
//! keeps sending requests (each of which we answer) but never reads would otherwise grow it without
//! limit, so a full queue marks the peer as misbehaving and ends the session. It must not decide what to
//! send; the session, the handles' submits (through the session) and the responders all just queue PDUs.

use std::time::Duration;

use futures_util::SinkExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::codec::FramedWrite;
use tokio_util::sync::CancellationToken;

use crate::{FrameError, Pdu, SmppCodec};

/// Most PDUs encoded before a flush, so one long burst cannot starve the socket.
const MAX_BATCH: usize = 256;

/// PDUs that may wait for the socket on top of the client's own traffic (see [`Writer::spawn`]). Only a
/// peer that sends requests faster than it reads our answers, with the kernel's socket buffers already
/// full, gets anywhere near it; a few thousand 16-octet answers are far beyond any honest burst.
pub(crate) const PEER_BACKLOG: usize = 4096;

/// A handle for queueing PDUs on one connection, held by the session and by every [`super::Responder`].
#[derive(Debug, Clone)]
pub(crate) struct WriteQueue {
    out: mpsc::Sender<Pdu>,
    /// Cancelled when a PDU did not fit: the peer is not reading, and the session must end.
    overflow: CancellationToken,
}

impl WriteQueue {
    /// A queue of `capacity` PDUs and its receiving end.
    pub(crate) fn new(capacity: usize) -> (Self, mpsc::Receiver<Pdu>) {
        let (out, queue) = mpsc::channel(capacity.max(1));
        let overflow = CancellationToken::new();
        (Self { out, overflow }, queue)
    }

    /// Queues a PDU without waiting. Returns `false` when it was not queued: either the write task has
    /// ended (the session sees that through [`Writer::failed`]), or the queue is full, which marks the
    /// peer as not reading and makes [`Writer::failed`] end the session.
    pub(crate) fn send(&self, pdu: Pdu) -> bool {
        match self.out.try_send(pdu) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(pdu)) => {
                if !self.overflow.is_cancelled() {
                    tracing::warn!(
                        command_id = pdu.command_id(),
                        sequence_number = pdu.sequence_number(),
                        "write queue full: the peer is not reading; closing the connection"
                    );
                    self.overflow.cancel();
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    fn overflowed(&self) -> bool {
        self.overflow.is_cancelled()
    }
}

/// The session's side of the write task.
#[derive(Debug)]
pub(crate) struct Writer {
    queue: WriteQueue,
    /// How many PDUs the queue holds, for the reason given when it overflows.
    capacity: usize,
    close: CancellationToken,
    /// `None` once the task has been awaited.
    task: Option<JoinHandle<Result<(), FrameError>>>,
}

/// What ended the write task's watch in [`Writer::failed`].
enum Failure {
    Overflow,
    Ended(Result<Result<(), FrameError>, tokio::task::JoinError>),
}

impl Writer {
    /// Starts the write task. `own_traffic` is how many PDUs the client itself may legitimately have
    /// queued at once (the window's submits plus answers to inbound requests); the queue holds that
    /// many plus [`PEER_BACKLOG`].
    pub(crate) fn spawn(half: OwnedWriteHalf, own_traffic: usize) -> Self {
        let capacity = own_traffic.saturating_add(PEER_BACKLOG);
        let (queue, pdus) = WriteQueue::new(capacity);
        let close = CancellationToken::new();
        let sink = FramedWrite::new(half, SmppCodec);
        let task = tokio::spawn(write_loop(sink, pdus, close.clone()));
        Self {
            queue,
            capacity,
            close,
            task: Some(task),
        }
    }

    /// Queues a PDU. A failure (the task ended, or the queue overflowed) is seen through
    /// [`Writer::failed`], so it is not reported here.
    pub(crate) fn send(&self, pdu: Pdu) {
        let _ = self.queue.send(pdu);
    }

    /// A queue handle for responders, which answer after the session has moved on.
    pub(crate) fn queue(&self) -> WriteQueue {
        self.queue.clone()
    }

    /// Resolves when the write task has ended on its own (writing failed) or the queue overflowed
    /// (the peer is not reading). Pending forever after the task has been awaited, so it is safe in a
    /// `select!` loop.
    pub(crate) async fn failed(&mut self) -> String {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let failure = tokio::select! {
            () = self.queue.overflow.cancelled() => Failure::Overflow,
            outcome = task => Failure::Ended(outcome),
        };
        match failure {
            Failure::Overflow => format!(
                "peer is not reading: more than {} PDUs waiting to be written",
                self.capacity
            ),
            Failure::Ended(outcome) => {
                self.task = None;
                match outcome {
                    Ok(Ok(())) => "write queue closed".to_owned(),
                    Ok(Err(error)) => format!("write failed: {error}"),
                    Err(error) => format!("write task ended: {error}"),
                }
            }
        }
    }

    /// Writes what is queued, closes the write half, and gives up after `limit` (a peer that stopped
    /// reading must not hold the client up). After an overflow the peer is known not to read, so the
    /// queue is dropped at once.
    pub(crate) async fn close(mut self, limit: Duration) {
        self.close.cancel();
        let Some(mut task) = self.task.take() else {
            return;
        };
        if self.queue.overflowed() {
            task.abort();
            return;
        }
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            tracing::debug!("write queue not flushed in time; dropping it");
            task.abort();
        }
    }
}

/// `SinkExt::<Pdu>` is spelled out for flush and close because the codec also encodes `&Pdu`.
async fn write_loop(
    mut sink: FramedWrite<OwnedWriteHalf, SmppCodec>,
    mut queue: mpsc::Receiver<Pdu>,
    close: CancellationToken,
) -> Result<(), FrameError> {
    loop {
        let first = tokio::select! {
            biased;
            pdu = queue.recv() => pdu,
            () = close.cancelled() => None,
        };
        let Some(first) = first else {
            break;
        };
        sink.feed(first).await?;
        for _ in 1..MAX_BATCH {
            let Ok(pdu) = queue.try_recv() else {
                break;
            };
            sink.feed(pdu).await?;
        }
        SinkExt::<Pdu>::flush(&mut sink).await?;
    }
    // Answers queued just before closing (unbind_resp above all) still go out.
    queue.close();
    while let Ok(pdu) = queue.try_recv() {
        sink.feed(pdu).await?;
    }
    SinkExt::<Pdu>::close(&mut sink).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_the_pdu_and_marks_the_overflow() {
        let (queue, mut pdus) = WriteQueue::new(1);
        let enquire_link_resp = |sequence_number| Pdu::EnquireLinkResp {
            sequence_number,
            command_status: 0,
        };

        assert!(queue.send(enquire_link_resp(1)));
        assert!(!queue.overflowed());
        assert!(!queue.send(enquire_link_resp(2)));
        assert!(queue.overflowed());
        assert_eq!(pdus.try_recv().ok(), Some(enquire_link_resp(1)));
        assert!(pdus.try_recv().is_err());
    }
}
