//! The in-memory half of applying a batch of receipts, shared by both backends: given the state
//! of every message the batch names, runs the receipts through `domain::status` in the order
//! given (so duplicates and out-of-order receipts within one batch behave exactly as across
//! batches) and says what to write: events, part states, message states and status changes.
//! No I/O here; each backend loads the states and writes the plan in its own dialect.

use std::collections::HashMap;

use crate::domain::status::{self, Decision, DeliveryStatus, PartState};
use crate::store::{AccountId, MessageId, Receipt, StatusChange};

/// A message's parts and its shown status, as loaded before the batch.
pub(crate) struct MessageState {
    pub account_id: AccountId,
    pub status: Option<DeliveryStatus>,
    pub provisional: bool,
    pub parts: Vec<(u32, PartState)>,
    /// Carried into each status change (`StatusChange::send_at`, `connector`).
    pub send_at: i64,
    pub connector: String,
}

/// The message row as the batch leaves it.
pub(crate) struct MessageRow {
    pub shown: DeliveryStatus,
    pub at: i64,
    pub provisional: bool,
    pub error_code: Option<String>,
}

/// What a batch writes.
#[derive(Default)]
pub(crate) struct Plan<'r> {
    /// Every receipt of a known message, with its effect, in order.
    pub events: Vec<(&'r Receipt, &'static str)>,
    /// Each changed part's new state and when it changed.
    pub parts: HashMap<(MessageId, u32), (PartState, i64)>,
    pub messages: HashMap<MessageId, MessageRow>,
    /// Status changes of whole messages, in order.
    pub changes: Vec<StatusChange>,
}

/// Runs `receipts` in order over `states`, which it keeps in step with the plan.
pub(crate) fn plan<'r>(
    receipts: &[&'r Receipt],
    states: &mut HashMap<MessageId, MessageState>,
) -> Plan<'r> {
    let mut plan = Plan::default();
    for &receipt in receipts {
        let Some(message) = states.get_mut(&receipt.message_id) else {
            tracing::warn!(
                message_id = receipt.message_id,
                "receipt for an unknown message"
            );
            continue;
        };
        let Some(index) = message.parts.iter().position(|(p, _)| *p == receipt.part) else {
            tracing::warn!(
                message_id = receipt.message_id,
                part = receipt.part,
                "receipt for an unknown part"
            );
            plan.events.push((receipt, "unmatched"));
            continue;
        };
        let decision = status::transition(message.parts[index].1, receipt.status);
        plan.events.push((receipt, effect(decision)));
        let Decision::Apply(next) = decision else {
            continue;
        };
        message.parts[index].1 = next;
        plan.parts
            .insert((receipt.message_id, receipt.part), (next, receipt.at));
        if let Some((row, change)) = update_message(message, receipt) {
            plan.messages.insert(receipt.message_id, row);
            plan.changes.extend(change);
        }
    }
    plan
}

fn effect(decision: Decision) -> &'static str {
    match decision {
        Decision::Apply(_) => "applied",
        Decision::Duplicate => "duplicate",
        Decision::Stale => "stale",
    }
}

/// Recomputes the message status from its parts after `receipt` changed one of them; keeps the
/// in-memory state in step with the row it returns.
fn update_message(
    message: &mut MessageState,
    receipt: &Receipt,
) -> Option<(MessageRow, Option<StatusChange>)> {
    let parts: Vec<PartState> = message.parts.iter().map(|(_, state)| *state).collect();
    let aggregated = status::aggregate(&parts)?;
    let provisional = status::aggregate_is_provisional(&parts);
    let next = status::message_update(message.status, Some(aggregated));
    if next.is_none() && message.provisional == provisional {
        return None;
    }
    let shown = next.or(message.status).unwrap_or(aggregated);
    message.status = Some(shown);
    message.provisional = provisional;
    let change = next.map(|status| StatusChange {
        message_id: receipt.message_id,
        account_id: message.account_id,
        status,
        at: receipt.at,
        send_at: message.send_at,
        connector: message.connector.clone(),
    });
    let row = MessageRow {
        shown,
        at: receipt.at,
        provisional,
        error_code: receipt.error_code.clone(),
    };
    Some((row, change))
}
