//! Jasmin's HTTP DLRs (smpp.md §6.2), by GET or form POST: `id` (Jasmin's message id, which
//! names the part), `level`, `message_status` and, for levels 2 and 3, `id_smsc`, `sub`,
//! `dlvrd`, `subdate`, `donedate`, `err` and `text`. Jasmin retries unless the answer is
//! exactly [`ACK`] with 200, so that is the answer to every report stored, duplicates included.

use super::{Received, bad_request, receipt};
use crate::api::error::ApiError;
use crate::domain::dlr;
use crate::domain::receipt::{IdFormat, normalize_id};
use crate::store::OperatorReceipt;

/// The one answer Jasmin's DLRThrower takes as success.
pub(super) const ACK: &str = "ACK/Jasmin";

pub(super) fn receipts(
    received: &Received,
    id_format: IdFormat,
) -> Result<Vec<OperatorReceipt>, ApiError> {
    let id = received.required("id")?;
    let level = received.required("level")?;
    let message_status = received.required("message_status")?;
    let reading = dlr::jasmin(level, message_status, received.param("err"))
        .map_err(|e| bad_request(e.to_string()))?;
    let text = receipt_text(received, message_status);
    let raw = received.raw_with(text.as_deref());
    Ok(vec![receipt(
        normalize_id(id, id_format),
        reading,
        received.time(None),
        raw,
    )])
}

/// The receipt fields of a level 2 or 3 report as Appendix B text, for the event log.
fn receipt_text(received: &Received, message_status: &str) -> Option<String> {
    let field = |name: &str| received.param(name).unwrap_or_default();
    received.param("id_smsc")?;
    Some(format!(
        "id:{} sub:{} dlvrd:{} submit date:{} done date:{} stat:{message_status} err:{} text:{}",
        field("id_smsc"),
        field("sub"),
        field("dlvrd"),
        field("subdate"),
        field("donedate"),
        field("err"),
        field("text"),
    ))
}
