//! Kannel's `dlr-url` callbacks (smpp.md §6.1): `type` is `%d` (a bit set), `answer` is `%A`
//! (`ACK/`, `NACK/…` or the receipt text), `ts` is `%T`. The report names its part by `ref`,
//! which dlrgate's Kannel route puts in the URL (`<message id>.<part>`), or, for callbacks set
//! up outside dlrgate, by `id` (the SMSC's id, `%F`), normalised with the connector's id format.

use super::{Received, bad_request, receipt};
use crate::api::error::ApiError;
use crate::domain::dlr;
use crate::domain::receipt::{IdFormat, normalize_id};
use crate::store::OperatorReceipt;

pub(super) fn receipts(
    received: &Received,
    id_format: IdFormat,
) -> Result<Vec<OperatorReceipt>, ApiError> {
    let operator_id = match (received.param("ref"), received.param("id")) {
        (Some(reference), _) => normalize_id(reference, IdFormat::AsIs),
        (None, Some(id)) => normalize_id(id, id_format),
        (None, None) => return Err(bad_request("ref (or id, the SMSC id %F) is missing")),
    };
    let dlr_type = received.required("type")?;
    let answer = received.param("answer");
    let reading = dlr::kannel(dlr_type, answer).map_err(|e| bad_request(e.to_string()))?;
    let at = received.time(received.param("ts").and_then(|ts| ts.parse().ok()));
    let raw = received.raw_with(answer);
    Ok(vec![receipt(operator_id, reading, at, raw)])
}
