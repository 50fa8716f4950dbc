//! Operators: the connectors that send messages (sandbox, SMPP, upstream HTTP gateways) and the
//! routing that picks one per message.
//!
//! Every connector implements [`Operator`]: the submitter loop of its connector
//! (`workers::submitter`) hands it batches of due messages and stores what it answers in one
//! transaction. Receipts that come later (SMPP `deliver_sm`, HTTP callbacks) go through
//! `Store::apply_operator_receipts`, which parks those that arrive before their submit answer.

pub mod kannel;
pub mod rate;
pub mod sandbox;
pub mod settings;
pub mod smpp;

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::store::{DueMessage, Store, Submission};
use settings::{ConnectorSettings, SANDBOX};

/// What became of one due message handed to a connector.
#[derive(Debug)]
pub enum Outcome {
    /// Handed over (accepted, rejected, in doubt…): stored with its immediate reports, planned
    /// reports and operator ids.
    Submitted(Submission),
    /// Nothing was sent (the link is down, or the connector is stopping): back in the queue, and
    /// the connector is asked again after this long.
    NotSent(Duration),
    /// Nothing was sent and the message's deadline has passed: it goes to the fallback
    /// connector, or becomes FAILED with this reason as error code.
    GaveUp(String),
}

#[async_trait]
pub trait Operator: Send + Sync + 'static {
    /// Hands one message to the operator. The submitter calls this for many messages at once
    /// (up to [`Operator::concurrency`]) and stores each outcome as it comes.
    async fn submit(&self, message: &DueMessage, now: i64) -> Outcome;

    /// Messages handed over at the same time.
    fn concurrency(&self) -> usize {
        usize::MAX
    }

    /// Where messages go when this connector gives up on them, if anywhere.
    fn fallback(&self) -> Option<&str> {
        None
    }

    /// Whether a message claimed when the process died may simply be sent again: true only when
    /// nothing of it can have left the process. Otherwise it is in doubt (UNKNOWN).
    fn resend_after_crash(&self) -> bool {
        false
    }
}

/// What connectors need from the running application.
pub struct Context {
    pub store: Arc<dyn Store>,
    /// Woken when status changes wrote webhook deliveries.
    pub deliveries: Arc<Notify>,
    pub stop: CancellationToken,
    pub tracker: TaskTracker,
    /// How many nodes share the store: a connector's `rate` is divided among them.
    pub nodes: Arc<AtomicU32>,
}

/// Starts every connector that sends (the sandbox always), with its background tasks, and returns
/// each one's name and operator. Receive-only upstreams (`type = "http"`) have no operator.
pub fn start(
    settings: &Settings,
    context: &Context,
) -> anyhow::Result<Vec<(String, Arc<dyn Operator>)>> {
    let sandbox = |name: &str| -> Arc<dyn Operator> {
        Arc::new(sandbox::SandboxOperator {
            name: name.to_owned(),
            speed: settings.sandbox.speed,
        })
    };
    let mut operators = vec![(SANDBOX.to_owned(), sandbox(SANDBOX))];
    for connector in &settings.connectors {
        let operator: Arc<dyn Operator> = match connector {
            ConnectorSettings::Sandbox { name } if name == SANDBOX => continue,
            ConnectorSettings::Sandbox { name } => sandbox(name),
            ConnectorSettings::Http(_) => continue,
            ConnectorSettings::Smpp(s) => smpp::start(s.clone(), context),
            ConnectorSettings::Kannel(s) => Arc::new(
                kannel::KannelOperator::new(s.clone(), kannel::http_client()?, &context.nodes)
                    .stopping_with(context.stop.clone()),
            ),
        };
        operators.push((connector.name().to_owned(), operator));
    }
    Ok(operators)
}
