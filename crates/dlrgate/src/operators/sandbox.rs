//! The built-in sandbox operator: accepts every message at once and plans realistic later reports
//! by the last digit of the recipient (`domain::sandbox`). The plan is stored with the submission
//! in one transaction, so a crash never loses a planned report.

use async_trait::async_trait;

use super::{Operator, Outcome};
use crate::domain::sandbox;
use crate::domain::status::DeliveryStatus;
use crate::store::{DueMessage, Receipt, Submission};

pub struct SandboxOperator {
    pub name: String,
    /// Divides the realistic delays.
    pub speed: f64,
}

#[async_trait]
impl Operator for SandboxOperator {
    async fn submit(&self, message: &DueMessage, now: i64) -> Outcome {
        Outcome::Submitted(self.submission(message, now))
    }

    /// Nothing leaves the process: a message claimed at a crash can go again.
    fn resend_after_crash(&self) -> bool {
        true
    }
}

impl SandboxOperator {
    fn submission(&self, message: &DueMessage, now: i64) -> Submission {
        let last_digit = message
            .recipient
            .bytes()
            .last()
            .map(|b| b.wrapping_sub(b'0'))
            .unwrap_or(1)
            % 10;
        let receipt = |part: u32, at: i64, status: DeliveryStatus, error_code: &str| Receipt {
            message_id: message.id,
            part,
            status,
            at,
            source: self.name.clone(),
            error_code: Some(error_code.to_owned()),
            raw: Some(sandbox::receipt_text(status, error_code)),
        };
        let immediate = (1..=message.parts.max(1))
            .map(|part| receipt(part, now, DeliveryStatus::Accepted, "000"))
            .collect();
        let scheduled = sandbox::plan(last_digit, message.parts, self.speed)
            .into_iter()
            .map(|planned| {
                let after = i64::try_from(planned.after.as_millis()).unwrap_or(i64::MAX);
                receipt(
                    planned.part,
                    now.saturating_add(after),
                    planned.status,
                    planned.error_code,
                )
            })
            .collect();
        Submission {
            message_id: message.id,
            connector: self.name.clone(),
            at: now,
            immediate,
            scheduled,
            operator_ids: Vec::new(),
        }
    }
}
