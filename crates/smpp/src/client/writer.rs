//! The write half of a connection: one task that drains a queue of PDUs into the socket.
//!
//! Owns batching: it feeds every PDU already queued and then flushes once, so a burst of submits and
//! answers costs a few system calls instead of one each. It must not decide what to send; the session,
//! the handles' submits (through the session) and the responders all just queue PDUs.

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

/// The session's side of the write task.
#[derive(Debug)]
pub(crate) struct Writer {
    out: mpsc::UnboundedSender<Pdu>,
    close: CancellationToken,
    /// `None` once the task has been awaited.
    task: Option<JoinHandle<Result<(), FrameError>>>,
}

impl Writer {
    pub(crate) fn spawn(half: OwnedWriteHalf) -> Self {
        let (out, queue) = mpsc::unbounded_channel();
        let close = CancellationToken::new();
        let sink = FramedWrite::new(half, SmppCodec);
        let task = tokio::spawn(write_loop(sink, queue, close.clone()));
        Self {
            out,
            close,
            task: Some(task),
        }
    }

    /// Queues a PDU. A failure means the write task has ended, which the session sees through
    /// [`Writer::failed`], so it is not reported here.
    pub(crate) fn send(&self, pdu: Pdu) {
        let _ = self.out.send(pdu);
    }

    /// A queue handle for responders, which answer after the session has moved on.
    pub(crate) fn queue(&self) -> mpsc::UnboundedSender<Pdu> {
        self.out.clone()
    }

    /// Resolves when the write task has ended on its own, i.e. writing failed. Pending forever after the
    /// task has been awaited, so it is safe in a `select!` loop.
    pub(crate) async fn failed(&mut self) -> String {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let outcome = task.await;
        self.task = None;
        match outcome {
            Ok(Ok(())) => "write queue closed".to_owned(),
            Ok(Err(error)) => format!("write failed: {error}"),
            Err(error) => format!("write task ended: {error}"),
        }
    }

    /// Writes what is queued, closes the write half, and gives up after `limit` (a peer that stopped
    /// reading must not hold the client up).
    pub(crate) async fn close(mut self, limit: Duration) {
        self.close.cancel();
        let Some(mut task) = self.task.take() else {
            return;
        };
        if tokio::time::timeout(limit, &mut task).await.is_err() {
            tracing::debug!("write queue not flushed in time; dropping it");
            task.abort();
        }
    }
}

/// `SinkExt::<Pdu>` is spelled out for flush and close because the codec also encodes `&Pdu`.
async fn write_loop(
    mut sink: FramedWrite<OwnedWriteHalf, SmppCodec>,
    mut queue: mpsc::UnboundedReceiver<Pdu>,
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
