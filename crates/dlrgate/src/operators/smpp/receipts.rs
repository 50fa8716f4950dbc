//! Receipts from an SMSC: `deliver_sm` and `data_sm` recognised as receipts by `esm_class` mask,
//! read TLVs first and Appendix B text second (`domain::receipt`), stored in one transaction per
//! batch (`Store::apply_operator_receipts`, which parks receipts that come before their submit
//! response) and only then acknowledged. A batch the store could not take is answered with a
//! temporary error, so the SMSC sends it again; nothing is acknowledged unstored.

use std::sync::Arc;

use smpp::client::{Inbound, InboundRequest};
use smpp::{Tlvs, tag};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::domain::receipt::{DeliveryReceipt, IdFormat, normalize_id, public_status};
use crate::store::{OperatorReceipt, Store};
use crate::workers::{count_changes, now_millis};

/// `esm_class` message types that carry a receipt: SMSC delivery receipt, SME acknowledgement,
/// intermediate notification (smpp.md §2.2).
const RECEIPT_TYPES: u8 = 0x04 | 0x08 | 0x20;
/// ESME_RX_T_APPN: temporary application error, the SMSC retries.
const TEMPORARY_ERROR: u32 = 0x64;
/// Most receipts stored in one transaction.
const BATCH: usize = 512;

pub struct ReceiptSink {
    pub connector: String,
    pub store: Arc<dyn Store>,
    pub deliveries: Arc<Notify>,
    pub id_format: IdFormat,
}

impl ReceiptSink {
    pub async fn run(self, mut inbound: mpsc::Receiver<Inbound>, stop: CancellationToken) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let first = tokio::select! {
                _ = stop.cancelled() => return,
                next = inbound.recv() => match next {
                    Some(first) => first,
                    None => return,
                },
            };
            batch.push(first);
            while batch.len() < BATCH {
                match inbound.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            self.store_and_answer(std::mem::take(&mut batch)).await;
        }
    }

    async fn store_and_answer(&self, batch: Vec<Inbound>) {
        let now = now_millis();
        let mut receipts = Vec::with_capacity(batch.len());
        let mut responders = Vec::with_capacity(batch.len());
        for Inbound { request, responder } in batch {
            match read(&request, self.id_format, now) {
                Some(receipt) => {
                    receipts.push(receipt);
                    responders.push(responder);
                }
                None => {
                    // Inbound SMS (MO) are not handled yet; a receipt without any id can never
                    // match. Both are acknowledged so the SMSC does not resend them forever.
                    tracing::warn!(connector = %self.connector, ?request, "deliver_sm that is no usable receipt; acknowledged and ignored");
                    metrics::counter!("dlrgate_smpp_ignored_total", "connector" => self.connector.clone()).increment(1);
                    responder.ack();
                }
            }
        }
        if receipts.is_empty() {
            return;
        }
        match self
            .store
            .apply_operator_receipts(&self.connector, receipts)
            .await
        {
            Ok(outcome) => {
                responders.into_iter().for_each(|r| r.ack());
                count_changes(&outcome.changes);
                if !outcome.changes.is_empty() {
                    self.deliveries.notify_one();
                }
                metrics::counter!("dlrgate_receipts_total", "connector" => self.connector.clone(), "result" => "matched")
                    .increment(outcome.matched as u64);
                metrics::counter!("dlrgate_receipts_total", "connector" => self.connector.clone(), "result" => "parked")
                    .increment(outcome.parked as u64);
            }
            Err(error) => {
                tracing::error!(?error, connector = %self.connector, "storing receipts failed; the SMSC is asked to resend them");
                responders
                    .into_iter()
                    .for_each(|r| r.reject(TEMPORARY_ERROR));
            }
        }
    }
}

/// Reads a receipt out of a `deliver_sm` or `data_sm`; `None` when it is not one or has no id.
pub fn read(request: &InboundRequest, id_format: IdFormat, now: i64) -> Option<OperatorReceipt> {
    let (esm_class, text, tlvs): (u8, &[u8], &Tlvs) = match request {
        InboundRequest::DeliverSm(body) => {
            let text = body
                .tlvs
                .message_payload()
                .unwrap_or(body.short_message.as_ref());
            (body.esm_class, text, &body.tlvs)
        }
        InboundRequest::DataSm(body) => (
            body.esm_class,
            body.tlvs.message_payload().unwrap_or_default(),
            &body.tlvs,
        ),
    };
    let text = String::from_utf8_lossy(text);
    let has_receipt_tlvs = tlvs.get(tag::RECEIPTED_MESSAGE_ID).is_some();
    if esm_class & RECEIPT_TYPES == 0 && !has_receipt_tlvs {
        return None;
    }
    let receipted_id = tlvs
        .receipted_message_id()
        .map(|id| String::from_utf8_lossy(id).into_owned());
    let receipt = DeliveryReceipt::parse_text(&text)
        .unwrap_or_default()
        .with_tlvs(
            receipted_id.as_deref(),
            tlvs.message_state(),
            tlvs.get(tag::NETWORK_ERROR_CODE),
        );
    let operator_id = normalize_id(receipt.message_id.as_deref()?, id_format);
    if operator_id.is_empty() {
        return None;
    }
    Some(OperatorReceipt {
        operator_id,
        status: public_status(&receipt),
        at: now,
        error_code: receipt.error.clone(),
        raw: Some(raw_text(&text, &receipt, tlvs)),
    })
}

/// The receipt text as sent, plus what came only in TLVs, for the logbook.
fn raw_text(text: &str, receipt: &DeliveryReceipt, tlvs: &Tlvs) -> String {
    let mut raw = text.trim_end_matches('\0').to_owned();
    if let Some(state) = tlvs.message_state() {
        raw.push_str(&format!(" [message_state:{state}]"));
    }
    if let Some(code) = &receipt.network_error_code {
        raw.push_str(&format!(" [network_error_code:{code}]"));
    }
    raw
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use smpp::DeliverSm;

    use super::*;
    use crate::domain::status::DeliveryStatus;

    fn deliver_sm(esm_class: u8, text: &str, tlvs: Tlvs) -> InboundRequest {
        InboundRequest::DeliverSm(DeliverSm {
            esm_class,
            short_message: text.as_bytes().to_vec().into(),
            tlvs,
            ..DeliverSm::default()
        })
    }

    const TEXT: &str = "id:1A sub:001 dlvrd:001 submit date:2611270308 done date:2611270309 stat:DELIVRD err:000 text:hi";

    #[test]
    fn a_receipt_is_read_by_mask_with_tlvs_over_text() {
        let tlvs = Tlvs::default()
            .with(tag::RECEIPTED_MESSAGE_ID, b"1b\0".to_vec())
            .with(tag::MESSAGE_STATE, vec![5u8]);
        let receipt = read(&deliver_sm(0x44, TEXT, tlvs), IdFormat::Hex, 7).unwrap();
        assert_eq!(receipt.operator_id, "27");
        assert_eq!(receipt.status, DeliveryStatus::NotDelivered);
        assert_eq!(receipt.error_code.as_deref(), Some("000"));
        assert_eq!(receipt.at, 7);
        assert!(receipt.raw.unwrap().ends_with("text:hi [message_state:5]"));
    }

    #[test]
    fn text_only_and_intermediate_receipts_are_read() {
        let receipt = read(&deliver_sm(0x04, TEXT, Tlvs::default()), IdFormat::AsIs, 0).unwrap();
        assert_eq!(
            (receipt.operator_id.as_str(), receipt.status),
            ("1A", DeliveryStatus::Delivered)
        );
        let enroute = TEXT.replace("DELIVRD", "ENROUTE");
        let receipt = read(
            &deliver_sm(0x20, &enroute, Tlvs::default()),
            IdFormat::AsIs,
            0,
        )
        .unwrap();
        assert_eq!(receipt.status, DeliveryStatus::Transmitted);
    }

    #[test]
    fn inbound_sms_and_receipts_without_an_id_are_not_receipts() {
        assert_eq!(
            read(
                &deliver_sm(0x00, "hello there", Tlvs::default()),
                IdFormat::AsIs,
                0
            ),
            None
        );
        assert_eq!(
            read(
                &deliver_sm(0x04, "stat:DELIVRD", Tlvs::default()),
                IdFormat::AsIs,
                0
            ),
            None
        );
    }

    #[test]
    fn a_data_sm_receipt_takes_its_text_from_message_payload() {
        let tlvs = Tlvs::default().with(tag::MESSAGE_PAYLOAD, TEXT.as_bytes().to_vec());
        let request = InboundRequest::DataSm(smpp::DataSm {
            esm_class: 0x04,
            tlvs,
            ..smpp::DataSm::default()
        });
        let receipt = read(&request, IdFormat::Hex, 0).unwrap();
        assert_eq!(
            (receipt.operator_id.as_str(), receipt.status),
            ("26", DeliveryStatus::Delivered)
        );
    }

    proptest::proptest! {
        /// Whatever an SMSC puts in a deliver_sm, reading it never panics, and a receipt that
        /// comes out always has an id.
        #[test]
        fn reading_any_deliver_sm_never_panics(
            esm_class: u8,
            text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            id in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70),
            state: Option<u8>,
            nerr in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..5),
        ) {
            let mut tlvs = Tlvs::default().with(tag::RECEIPTED_MESSAGE_ID, id);
            if let Some(state) = state {
                tlvs = tlvs.with(tag::MESSAGE_STATE, vec![state]);
            }
            tlvs = tlvs.with(tag::NETWORK_ERROR_CODE, nerr);
            let request = InboundRequest::DeliverSm(DeliverSm {
                esm_class,
                short_message: text.into(),
                tlvs,
                ..DeliverSm::default()
            });
            for format in [IdFormat::Hex, IdFormat::Decimal, IdFormat::AsIs] {
                if let Some(receipt) = read(&request, format, 0) {
                    proptest::prop_assert!(!receipt.operator_id.is_empty());
                }
            }
        }
    }
}
