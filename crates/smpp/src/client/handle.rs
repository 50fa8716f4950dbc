//! [`ClientHandle`]: what callers hold to submit, watch the link and shut the client down.
//!
//! Owns the submit path up to the session's queue (finding the bound session, waiting for a window
//! slot) and the state shared with the supervisor. It must not touch the socket or track sequence
//! numbers; the session does both, so the handle stays cheap to clone and call from many tasks.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::LinkState;
use crate::SubmitSm;

/// The SMSC's answer to one `submit_sm`: a `submit_sm_resp`, or a `generic_nack` (then `message_id` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitResponse {
    /// 0 (`ESME_ROK`) when the SMSC accepted the message. What other values mean for the message is the
    /// caller's decision (temporary like 0x58 throttled, or permanent like 0x0B bad destination).
    pub command_status: u32,
    /// As received (lossily decoded as UTF-8); may be empty on error.
    pub message_id: String,
}

/// Why `submit` has no response to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// No bound session right now; nothing was written, so retrying later cannot duplicate.
    #[error("not bound to the SMSC; nothing was sent")]
    NotBound,
    /// Written, but no response came (timeout, or the connection was lost while waiting). The SMSC may
    /// have the message; retrying may deliver it twice.
    #[error("submit_sm was sent but not answered; the SMSC may have accepted it")]
    InDoubt,
    /// The client has been shut down; nothing was written.
    #[error("the SMPP client is shut down")]
    Closed,
}

pub(crate) type SubmitResult = Result<SubmitResponse, SubmitError>;

/// Work for the bound session.
#[derive(Debug)]
pub(crate) enum Command {
    Submit {
        body: SubmitSm,
        /// Held until the response (or the end of the session), so the window counts in-flight requests.
        permit: OwnedSemaphorePermit,
        reply: oneshot::Sender<SubmitResult>,
    },
}

/// How handles reach the currently bound session. Replaced on every bind, cleared when the session ends.
#[derive(Debug, Clone)]
pub(crate) struct SessionLink {
    pub(crate) window: Arc<Semaphore>,
    pub(crate) commands: mpsc::UnboundedSender<Command>,
}

/// State shared by handles and the supervisor.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    link: Mutex<Option<SessionLink>>,
    pub(crate) shutdown: CancellationToken,
}

impl Shared {
    /// A poisoned lock only means another thread panicked while swapping an `Option`; the value is fine.
    fn lock(&self) -> MutexGuard<'_, Option<SessionLink>> {
        self.link
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn publish(&self, link: SessionLink) {
        *self.lock() = Some(link);
    }

    pub(crate) fn withdraw(&self) {
        *self.lock() = None;
    }

    fn current(&self) -> Option<SessionLink> {
        self.lock().clone()
    }
}

/// A cheap, cloneable handle to a running [`super::Client`].
///
/// When the last handle is dropped the client shuts down as if [`ClientHandle::shutdown`] had been called
/// (without waiting for it), so a forgotten client does not reconnect forever.
#[derive(Debug, Clone)]
pub struct ClientHandle {
    inner: Arc<HandleInner>,
}

#[derive(Debug)]
struct HandleInner {
    shared: Arc<Shared>,
    state: watch::Receiver<LinkState>,
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

impl ClientHandle {
    pub(crate) fn new(shared: Arc<Shared>, state: watch::Receiver<LinkState>) -> Self {
        Self {
            inner: Arc::new(HandleInner { shared, state }),
        }
    }

    /// Sends `submit_sm` on the bound session, waiting for a window slot first, and awaits the response.
    ///
    /// Returns at once with [`SubmitError::NotBound`] when no session is bound. A caller waiting for a
    /// slot when the session ends gets `NotBound` too, since its message was not written.
    pub async fn submit(&self, body: SubmitSm) -> SubmitResult {
        let shared = &self.inner.shared;
        if shared.shutdown.is_cancelled() {
            return Err(SubmitError::Closed);
        }
        let Some(link) = shared.current() else {
            return Err(SubmitError::NotBound);
        };
        let Ok(permit) = link.window.acquire_owned().await else {
            return Err(self.unsent());
        };
        let (reply, response) = oneshot::channel();
        let command = Command::Submit {
            body,
            permit,
            reply,
        };
        if link.commands.send(command).is_err() {
            return Err(self.unsent());
        }
        // The session answers every command it takes; losing the answer means it stopped abruptly
        // (runtime shutdown), when the message may or may not have been written.
        response.await.unwrap_or(Err(SubmitError::InDoubt))
    }

    /// The link's state, updated on every change.
    pub fn state(&self) -> watch::Receiver<LinkState> {
        self.inner.state.clone()
    }

    /// Stops taking submits (later ones get `Closed`), waits until every in-flight submit has its
    /// response or has timed out as `InDoubt` (at most `response_timeout`), then sends `unbind`, waits
    /// (at most `response_timeout`) for `unbind_resp`, closes the connection and stops reconnecting.
    pub async fn shutdown(&self) {
        self.inner.shared.shutdown.cancel();
        let mut state = self.inner.state.clone();
        // An error means the supervisor is gone, which is the state being waited for.
        let _ = state.wait_for(|state| *state == LinkState::Closed).await;
    }

    fn unsent(&self) -> SubmitError {
        if self.inner.shared.shutdown.is_cancelled() {
            SubmitError::Closed
        } else {
            SubmitError::NotBound
        }
    }
}
