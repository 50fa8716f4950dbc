//! The intake: API requests hand their messages here and wait; one task stores everything that
//! has arrived meanwhile in a single transaction (group commit), so one fsync serves many
//! requests. A request is answered only after the commit that holds its messages.

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::store::{Store, StoreError, SubmitBatch, SubmitOutcome};

type Reply = oneshot::Sender<Result<SubmitOutcome, Arc<StoreError>>>;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the intake has stopped")]
    Stopped,
    #[error("store failure")]
    Store(#[source] Arc<StoreError>),
}

/// The sending side, cloned into every request handler.
#[derive(Clone)]
pub struct Intake {
    sender: mpsc::Sender<(SubmitBatch, Reply)>,
}

impl Intake {
    /// Starts the intake task. It ends once every `Intake` clone is dropped and the queue is
    /// drained, so nothing accepted is left behind at shutdown.
    pub fn start(
        store: Arc<dyn Store>,
        max_messages: usize,
        stored: Arc<Notify>,
    ) -> (Intake, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(4096);
        let task = tokio::spawn(run(store, receiver, max_messages, stored));
        (Intake { sender }, task)
    }

    /// Stores `batch` and returns once it is durable.
    pub async fn submit(&self, batch: SubmitBatch) -> Result<SubmitOutcome, IntakeError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((batch, reply))
            .await
            .map_err(|_| IntakeError::Stopped)?;
        match answer.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(IntakeError::Store(error)),
            Err(_) => Err(IntakeError::Stopped),
        }
    }
}

async fn run(
    store: Arc<dyn Store>,
    mut receiver: mpsc::Receiver<(SubmitBatch, Reply)>,
    max_messages: usize,
    stored: Arc<Notify>,
) {
    while let Some(first) = receiver.recv().await {
        let mut count = first.0.messages.len();
        let mut pending = vec![first];
        while count < max_messages {
            let Ok(next) = receiver.try_recv() else { break };
            count += next.0.messages.len();
            pending.push(next);
        }
        let (batches, replies): (Vec<SubmitBatch>, Vec<Reply>) = pending.into_iter().unzip();
        metrics::histogram!("dlrgate_intake_group_size").record(batches.len() as f64);
        match store.submit(batches).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
                stored.notify_one();
            }
            Err(error) => {
                tracing::error!(?error, "storing submitted messages failed");
                let error = Arc::new(error);
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}
