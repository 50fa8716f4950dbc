//! The sandbox operator's script: which statuses a message goes through and when, decided by the
//! recipient's last digit like a payment provider's test card numbers (documented in README).
//!
//! | last digit | sequence after ACCEPTED on submit           |
//! |------------|---------------------------------------------|
//! | 1–5        | TRANSMITTED, DELIVERED                      |
//! | 6          | TRANSMITTED, BUFFERED, DELIVERED            |
//! | 7          | TRANSMITTED, NOTDELIVERED                   |
//! | 8          | TRANSMITTED, BUFFERED, EXPIRED              |
//! | 9          | TRANSMITTED, REJECTED                       |
//! | 0          | TRANSMITTED, FAILED                         |
//!
//! Delays are realistic seconds divided by the configured speed factor. This module only plans;
//! the sandbox worker stores the plan and the status engine applies it like any operator receipt.

use std::time::Duration;

use super::status::DeliveryStatus::{self, *};

/// One future operator report for one part of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedReport {
    /// Part number, starting at 1.
    pub part: u32,
    /// Delay after the submit.
    pub after: Duration,
    pub status: DeliveryStatus,
    /// The operator error code the sandbox reports with this status, as an SMSC's `err` field.
    pub error_code: &'static str,
}

/// Status steps after ACCEPTED, as (seconds after submit, status, err) at speed 1.
fn script(last_digit: u8) -> &'static [(f64, DeliveryStatus, &'static str)] {
    match last_digit {
        6 => &[
            (1.0, Transmitted, "000"),
            (4.0, Buffered, "027"),
            (12.0, Delivered, "000"),
        ],
        7 => &[(1.0, Transmitted, "000"), (5.0, NotDelivered, "001")],
        8 => &[
            (1.0, Transmitted, "000"),
            (4.0, Buffered, "027"),
            (30.0, Expired, "027"),
        ],
        9 => &[(1.0, Transmitted, "000"), (2.0, Rejected, "011")],
        0 => &[(1.0, Transmitted, "000"), (2.5, Failed, "069")],
        _ => &[(1.0, Transmitted, "000"), (3.0, Delivered, "000")],
    }
}

/// Plans the reports for a message of `parts` parts sent to a number ending in `last_digit`.
/// `speed` divides every delay (1000 makes the sandbox a thousand times faster); values below
/// 0.001 are treated as 0.001. Later parts report a little later than earlier ones, as real
/// concatenated messages do.
pub fn plan(last_digit: u8, parts: u32, speed: f64) -> Vec<PlannedReport> {
    let speed = speed.max(0.001);
    let parts = parts.max(1);
    let mut reports = Vec::new();
    for part in 1..=parts {
        let stagger = 0.1 * f64::from(part - 1);
        for &(seconds, status, error_code) in script(last_digit) {
            let after = Duration::from_secs_f64((seconds + stagger) / speed);
            reports.push(PlannedReport {
                part,
                after,
                status,
                error_code,
            });
        }
    }
    reports
}

/// The SMPP `stat` word the sandbox writes into its raw receipt text, so the logbook shows what a
/// real SMSC would have sent.
pub fn receipt_text(status: DeliveryStatus, error_code: &str) -> String {
    let stat = match status {
        Accepted => "ACCEPTD",
        Transmitted => "ENROUTE",
        Buffered => "BUFFRED",
        Delivered => "DELIVRD",
        NotDelivered => "UNDELIV",
        Expired => "EXPIRED",
        Rejected => "REJECTD",
        Failed | Unknown => "UNKNOWN",
    };
    format!("sandbox stat:{stat} err:{error_code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(last_digit: u8, expect: &[DeliveryStatus]) {
        let statuses: Vec<DeliveryStatus> =
            plan(last_digit, 1, 1.0).iter().map(|r| r.status).collect();
        assert_eq!(statuses, expect, "last digit {last_digit}");
    }

    #[test]
    fn last_digit_decides_the_outcome() {
        for digit in 1..=5 {
            check(digit, &[Transmitted, Delivered]);
        }
        check(6, &[Transmitted, Buffered, Delivered]);
        check(7, &[Transmitted, NotDelivered]);
        check(8, &[Transmitted, Buffered, Expired]);
        check(9, &[Transmitted, Rejected]);
        check(0, &[Transmitted, Failed]);
    }

    #[test]
    fn speed_divides_delays_and_every_part_reports() {
        let slow = plan(1, 2, 1.0);
        let fast = plan(1, 2, 1000.0);
        assert_eq!(slow.len(), 4);
        assert_eq!(fast.len(), 4);
        assert_eq!(slow[1].after, Duration::from_secs(3));
        assert_eq!(fast[1].after, Duration::from_millis(3));
        assert!(slow.iter().all(|r| r.after > Duration::ZERO));
        assert!(
            slow.windows(2)
                .all(|w| w[0].part < w[1].part || w[0].after < w[1].after)
        );
    }

    #[test]
    fn receipt_text_names_the_smpp_stat() {
        assert_eq!(
            receipt_text(Delivered, "000"),
            "sandbox stat:DELIVRD err:000"
        );
        assert_eq!(receipt_text(Expired, "027"), "sandbox stat:EXPIRED err:027");
    }
}
