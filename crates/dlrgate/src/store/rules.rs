//! Pure decisions both backends make the same way, kept once: charging a group of requests to
//! their accounts, which of a cycle's attempts change a hook's failure run, and an operator's
//! receipt as a receipt of one part. No I/O here.

use crate::store::{
    AccountId, AttemptRecord, DeliveryFate, HookId, MessageId, OperatorReceipt, Receipt,
    SubmitBatch,
};

/// Each account's balance (`None`: unlimited) and whether this group changed it.
pub(crate) type Balances = std::collections::HashMap<AccountId, (Option<i64>, bool)>;

/// Charges `batch` to its account if it can pay: `Some(balance left)`, else `None`.
pub(crate) fn charge(balances: &mut Balances, batch: &SubmitBatch) -> Option<Option<i64>> {
    let total: i64 = batch.messages.iter().map(|m| m.price_micros).sum();
    let (balance, changed) = balances.get_mut(&batch.account_id)?;
    match *balance {
        None => Some(None),
        Some(left) if left < total => None,
        Some(left) => {
            if total > 0 {
                *balance = Some(left - total);
                *changed = true;
            }
            Some(*balance)
        }
    }
}

/// The records that decide each hook's failure run, in order: per hook, its last success (which
/// ends a run), then the first failure after it (which starts one), any 410 after it, and its
/// last failure (which may have lasted long enough to disable the hook).
pub(crate) fn hook_updates(records: &[AttemptRecord]) -> Vec<&AttemptRecord> {
    let mut hooks: Vec<HookId> = records.iter().map(|r| r.hook_id).collect();
    hooks.sort_unstable();
    hooks.dedup();
    let mut updates = Vec::new();
    for hook in hooks {
        let own: Vec<&AttemptRecord> = records.iter().filter(|r| r.hook_id == hook).collect();
        let last_success = own.iter().rposition(|r| r.fate == DeliveryFate::Delivered);
        if let Some(index) = last_success {
            updates.push(own[index]);
        }
        let failures = &own[last_success.map_or(0, |i| i + 1)..];
        let gone = failures
            .iter()
            .find(|r| r.fate == (DeliveryFate::Failed { disable_hook: true }));
        let picked = [failures.first(), gone, failures.last()];
        for record in picked.into_iter().flatten() {
            if !updates.iter().any(|u| std::ptr::eq(*u, *record)) {
                updates.push(record);
            }
        }
    }
    updates
}

pub(crate) fn to_receipt(
    connector: &str,
    message_id: MessageId,
    part: u32,
    r: OperatorReceipt,
) -> Receipt {
    Receipt {
        message_id,
        part,
        status: r.status,
        at: r.at,
        source: connector.to_owned(),
        error_code: r.error_code,
        raw: r.raw,
    }
}
