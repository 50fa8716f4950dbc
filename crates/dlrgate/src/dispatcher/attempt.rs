//! One webhook attempt: render, sign, send, and decide what becomes of the delivery.

use std::time::Instant;

use rand::Rng;

use super::Dispatcher;
use super::client::{Answer, Failure};
use super::{payload, signing};
use crate::domain::webhook::{Verdict, classify_status};
use crate::store::{AttemptRecord, DeliveryFate, DueDelivery};
use crate::workers::now_millis;

impl Dispatcher {
    /// Sends one delivery; returns the attempt to record.
    pub(super) async fn attempt(&self, delivery: DueDelivery) -> AttemptRecord {
        let rendered = payload::render(&delivery);
        let mut headers: Vec<(String, String)> =
            signing::parse_custom_headers(&delivery.hook.headers).unwrap_or_default();
        let webhook_id = format!("msg_dlr{}", delivery.id);
        let timestamp = now_millis() / 1000;
        headers.extend(
            signing::headers(&delivery.secrets, &webhook_id, timestamp, &rendered)
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v)),
        );
        let started = Instant::now();
        let result = self.client.send(&rendered, &headers).await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let record = self.record_for(&delivery, result, latency_ms);
        let outcome = record.error_class.unwrap_or("delivered");
        metrics::counter!("dlrgate_webhook_attempts_total", "outcome" => outcome).increment(1);
        metrics::histogram!("dlrgate_webhook_attempt_seconds").record(latency_ms as f64 / 1000.0);
        if record.fate == DeliveryFate::Delivered {
            // The delivery was created with its status change, in the same transaction.
            let waited = (record.at - delivery.created_at).max(0) as f64 / 1000.0;
            metrics::histogram!(crate::telemetry::WEBHOOK_DELIVERY_SECONDS).record(waited);
        }
        record
    }

    fn record_for(
        &self,
        delivery: &DueDelivery,
        result: Result<Answer, Failure>,
        latency_ms: i64,
    ) -> AttemptRecord {
        let at = now_millis();
        let (verdict, http_status, retry_after, class, detail, snippet) = match result {
            Ok(answer) => {
                let verdict = classify_status(answer.status);
                let class = (verdict != Verdict::Delivered).then_some("http_status");
                let detail = class.map(|_| format!("the receiver answered HTTP {}", answer.status));
                (
                    verdict,
                    Some(answer.status),
                    answer.retry_after,
                    class,
                    detail,
                    Some(answer.snippet),
                )
            }
            Err(failure) => (
                Verdict::Retry,
                None,
                None,
                Some(failure.class),
                Some(failure.detail),
                None,
            ),
        };
        let fate = match verdict {
            Verdict::Delivered => DeliveryFate::Delivered,
            Verdict::Gone => DeliveryFate::Failed { disable_hook: true },
            Verdict::Failed => DeliveryFate::Failed {
                disable_hook: false,
            },
            Verdict::Retry => match self.policy.next_delay(
                delivery.attempts + 1,
                retry_after,
                rand::rng().random::<f64>(),
            ) {
                Some(delay) => DeliveryFate::Retry {
                    at: at.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
                },
                None => DeliveryFate::Abandoned,
            },
        };
        AttemptRecord {
            delivery_id: delivery.id,
            hook_id: delivery.hook.id,
            at,
            http_status,
            latency_ms,
            error_class: class,
            detail,
            response_snippet: snippet,
            fate,
            disable_after_ms: i64::try_from(self.disable_after.as_millis()).unwrap_or(i64::MAX),
        }
    }
}
