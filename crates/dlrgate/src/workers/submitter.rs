//! The submitter: takes queued messages whose send time has come, in batches, and hands them to
//! their operator. Today every message goes to the built-in sandbox operator, which accepts it at
//! once and plans its later reports (`domain::sandbox`); the plan is stored with the submission in
//! one transaction, so a crash never loses a planned report.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{count_changes, now_millis, pause};
use crate::domain::sandbox;
use crate::domain::status::DeliveryStatus;
use crate::store::{DueMessage, Receipt, Store, Submission};

pub const SANDBOX: &str = "sandbox";

pub struct Submitter {
    pub store: Arc<dyn Store>,
    pub tick: Duration,
    pub batch_size: u32,
    pub sandbox_speed: f64,
    /// Woken by the intake when new messages are stored.
    pub wake: Arc<Notify>,
    /// Woken here when new reports are scheduled.
    pub reports: Arc<Notify>,
    /// Woken here when status changes wrote webhook deliveries.
    pub deliveries: Arc<Notify>,
}

impl Submitter {
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.step().await {
                Ok(count) if count as u32 >= self.batch_size => continue,
                Ok(_) => {}
                Err(error) => tracing::error!(?error, "submitting due messages failed; retrying"),
            }
            if !pause(self.tick, &self.wake, &shutdown).await {
                return;
            }
        }
    }

    /// Submits one batch of due messages; returns how many there were.
    pub async fn step(&self) -> Result<usize, crate::store::StoreError> {
        let now = now_millis();
        let due = self.store.due_messages(now, self.batch_size).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let count = due.len();
        let submissions = due
            .iter()
            .map(|message| self.sandbox_submission(message, now))
            .collect();
        let changes = self.store.record_submissions(submissions).await?;
        count_changes(&changes);
        if !changes.is_empty() {
            self.deliveries.notify_one();
        }
        metrics::counter!("dlrgate_messages_submitted_total", "connector" => SANDBOX)
            .increment(count as u64);
        self.reports.notify_one();
        Ok(count)
    }

    fn sandbox_submission(&self, message: &DueMessage, now: i64) -> Submission {
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
            source: SANDBOX.to_owned(),
            error_code: Some(error_code.to_owned()),
            raw: Some(sandbox::receipt_text(status, error_code)),
        };
        let immediate = (1..=message.parts.max(1))
            .map(|part| receipt(part, now, DeliveryStatus::Accepted, "000"))
            .collect();
        let scheduled = sandbox::plan(last_digit, message.parts, self.sandbox_speed)
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
            connector: SANDBOX.to_owned(),
            at: now,
            immediate,
            scheduled,
        }
    }
}
