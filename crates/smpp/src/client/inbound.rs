//! Requests from the SMSC that the caller must answer: `deliver_sm` and `data_sm`, each with a [`Responder`].
//!
//! Owns the rule that every inbound request is answered exactly once: explicitly by [`Responder::ack`] or
//! [`Responder::reject`], or with `ESME_RX_T_APPN` when the responder is dropped, so the SMSC re-sends
//! instead of waiting forever. It must not look inside the requests; receipts are the service's business.

use super::command_status;
use super::writer::WriteQueue;
use crate::{DataSm, DataSmResp, DeliverSm, DeliverSmResp, Pdu};

/// One request from the SMSC, to be answered through [`Inbound::responder`].
#[derive(Debug)]
pub struct Inbound {
    pub request: InboundRequest,
    pub responder: Responder,
}

/// What the SMSC sent. Receipts arrive as either, depending on the SMSC (smpp.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundRequest {
    DeliverSm(DeliverSm),
    DataSm(DataSm),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseKind {
    DeliverSmResp,
    DataSmResp,
}

/// Answers one inbound request on the connection it arrived on.
///
/// Answers may be given in any order and from any task. If that connection has gone by the time of the
/// answer, or its write queue is full because the SMSC stopped reading (which closes the connection), the
/// answer is dropped (and logged): the SMSC re-sends unanswered requests after a reconnect.
#[derive(Debug)]
#[must_use = "an unanswered request is rejected with ESME_RX_T_APPN when the responder is dropped"]
pub struct Responder {
    sequence_number: u32,
    kind: ResponseKind,
    /// The connection's write queue; `None` once answered.
    out: Option<WriteQueue>,
}

impl Responder {
    pub(crate) fn new(sequence_number: u32, kind: ResponseKind, out: WriteQueue) -> Self {
        Self {
            sequence_number,
            kind,
            out: Some(out),
        }
    }

    /// The request's `sequence_number`, which the response repeats.
    pub fn sequence_number(&self) -> u32 {
        self.sequence_number
    }

    /// Answers `deliver_sm_resp`/`data_sm_resp` with `ESME_ROK`; `data_sm_resp` carries an empty `message_id`.
    pub fn ack(mut self) {
        self.answer(command_status::ESME_ROK);
    }

    /// Answers with an error status, e.g. [`command_status::ESME_RX_T_APPN`] so the SMSC re-sends later.
    pub fn reject(mut self, command_status: u32) {
        self.answer(command_status);
    }

    fn answer(&mut self, command_status: u32) {
        let Some(out) = self.out.take() else {
            return;
        };
        let sequence_number = self.sequence_number;
        let pdu = match self.kind {
            ResponseKind::DeliverSmResp => Pdu::DeliverSmResp {
                sequence_number,
                command_status,
                body: DeliverSmResp::default(),
            },
            ResponseKind::DataSmResp => Pdu::DataSmResp {
                sequence_number,
                command_status,
                body: DataSmResp::default(),
            },
        };
        if !out.send(pdu) {
            tracing::debug!(
                sequence_number,
                command_status,
                "connection gone or not reading before the answer; the SMSC will re-send"
            );
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.out.is_some() {
            tracing::warn!(
                sequence_number = self.sequence_number,
                "inbound request dropped unanswered; answering ESME_RX_T_APPN"
            );
            self.answer(command_status::ESME_RX_T_APPN);
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;

    fn responder(kind: ResponseKind) -> (Responder, mpsc::Receiver<Pdu>) {
        let (queue, rx) = WriteQueue::new(8);
        (Responder::new(7, kind, queue), rx)
    }

    #[test]
    fn ack_answers_once_with_rok_and_the_same_sequence_number() {
        let (responder, mut rx) = responder(ResponseKind::DataSmResp);
        responder.ack();
        assert_eq!(
            rx.try_recv().ok(),
            Some(Pdu::DataSmResp {
                sequence_number: 7,
                command_status: 0,
                body: DataSmResp::default()
            })
        );
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn dropping_unanswered_rejects_with_esme_rx_t_appn() {
        let (responder, mut rx) = responder(ResponseKind::DeliverSmResp);
        drop(responder);
        let answer = rx.try_recv().ok();
        assert_eq!(answer.map(|pdu| pdu.command_status()), Some(0x64));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn answering_after_the_connection_is_gone_does_not_panic() {
        let (responder, rx) = responder(ResponseKind::DeliverSmResp);
        drop(rx);
        responder.reject(0x08);
    }
}
