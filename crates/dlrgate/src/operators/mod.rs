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
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::store::{DueMessage, MessageId, Store, Submission};
use settings::{ConnectorSettings, SANDBOX};

/// What a connector did with a batch of due messages.
#[derive(Debug, Default)]
pub struct Submitted {
    /// Messages that reached a final answer from the operator (accepted, rejected, failed): stored
    /// with their immediate reports and operator ids.
    pub submissions: Vec<Submission>,
    /// Messages to move to the connector's fallback route.
    pub reroute: Vec<MessageId>,
    /// The others stay queued; the submitter waits this long before it tries again (the link is
    /// down, or the operator asked to slow down).
    pub retry_after: Option<Duration>,
}

#[async_trait]
pub trait Operator: Send + Sync + 'static {
    /// Hands `messages` to the operator. Messages not in the answer stay queued and come back.
    async fn submit(&self, messages: Vec<DueMessage>, now: i64) -> Submitted;

    /// Where messages go when this connector gives up on them, if anywhere.
    fn fallback(&self) -> Option<&str> {
        None
    }
}

/// What connectors need from the running application.
pub struct Context {
    pub store: Arc<dyn Store>,
    /// Woken when status changes wrote webhook deliveries.
    pub deliveries: Arc<Notify>,
    pub stop: CancellationToken,
    pub tracker: TaskTracker,
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
            ConnectorSettings::Kannel(s) => Arc::new(kannel::KannelOperator::new(
                s.clone(),
                kannel::http_client()?,
            )),
        };
        operators.push((connector.name().to_owned(), operator));
    }
    Ok(operators)
}
