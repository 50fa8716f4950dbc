//! Delivery reports that upstream gateways send over HTTP (smpp.md §6): Kannel's `dlr-url`
//! callbacks (`%d` DLR type and `%A` SMSC answer), Jasmin's DLR fields (`level`,
//! `message_status`, `err`) and the status names of dlrgate's generic JSON form, each read into
//! the public status it means (smpp.md §3).
//!
//! This module owns only that reading. It knows no HTTP, parses no query strings, matches
//! nothing against stored messages and decides no status transitions ([`super::status`] does).
//! It never panics: every input either reads or gives a [`DlrError`].

use std::str::FromStr;

use super::receipt::{DeliveryReceipt, MessageState, public_status};
use super::status::DeliveryStatus;

/// Kannel's DLR type bits (`dlr-mask`, `%d`), as in Kannel's `dlr.h`.
pub mod kannel_bits {
    /// Delivered to the phone.
    pub const SUCCESS: u32 = 1;
    /// Not delivered to the phone.
    pub const FAIL: u32 = 2;
    /// Queued on the SMSC (buffered).
    pub const BUFFERED: u32 = 4;
    /// Accepted by the SMSC (`submit_sm_resp` OK).
    pub const SMSC_SUCCESS: u32 = 8;
    /// Rejected by the SMSC (`submit_sm_resp` error).
    pub const SMSC_FAIL: u32 = 16;
    /// SMSC intermediate notification; together with [`FAIL`] (34) Kannel 1.4.5 means "expired".
    pub const INTERMEDIATE: u32 = 32;
    /// Every bit Kannel defines.
    pub const ALL: u32 = 63;
}

/// What one HTTP delivery report says about one message part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlrReading {
    pub status: DeliveryStatus,
    /// The operator's error code as sent: the receipt's `err:`, a NACK's command status
    /// (`0x0000000b`), Jasmin's `err` or its `ESME_*` error.
    pub error_code: Option<String>,
}

/// Why a report could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DlrError {
    #[error("DLR type {0:?} is not a Kannel %d value (a bit set of 1, 2, 4, 8, 16 and 32)")]
    KannelType(String),
    #[error("level {0:?} is not a Jasmin DLR level (1, 2 or 3)")]
    JasminLevel(String),
    #[error("message_status {0:?} is not an ESME_* status or a receipt stat code")]
    JasminStatus(String),
    #[error("status {0:?} is neither a dlrgate status nor a receipt stat code")]
    Status(String),
}

/// Reads a Kannel callback: `dlr_type` is `%d`, `answer` is `%A`.
///
/// `%d` is a bit set (smpp.md §6.1); the most definite bit wins: 1 → DELIVERED; 2 with 32 (34,
/// Kannel 1.4.5's "expired") → EXPIRED; 2 → NOTDELIVERED, refined by the receipt's `stat:` to
/// REJECTED, EXPIRED or UNKNOWN (which the status engine turns into a provisional FAILED);
/// 16 → REJECTED; 4 → BUFFERED and 32 → TRANSMITTED, both refined by `stat:` to ACCEPTED,
/// TRANSMITTED or BUFFERED; 8 → ACCEPTED. Zero and bits Kannel does not define are errors.
pub fn kannel(dlr_type: &str, answer: Option<&str>) -> Result<DlrReading, DlrError> {
    use kannel_bits::*;
    let bits = dlr_type
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|bits| *bits != 0 && bits & !ALL == 0)
        .ok_or_else(|| DlrError::KannelType(dlr_type.to_owned()))?;
    let answer = KannelAnswer::read(answer.unwrap_or_default());
    let receipt = answer.receipt.as_ref();
    let status = if bits & SUCCESS != 0 {
        DeliveryStatus::Delivered
    } else if bits & FAIL != 0 && bits & INTERMEDIATE != 0 {
        DeliveryStatus::Expired
    } else if bits & FAIL != 0 {
        refine_failure(receipt)
    } else if bits & SMSC_FAIL != 0 {
        DeliveryStatus::Rejected
    } else if bits & BUFFERED != 0 {
        refine_pending(receipt, DeliveryStatus::Buffered)
    } else if bits & INTERMEDIATE != 0 {
        refine_pending(receipt, DeliveryStatus::Transmitted)
    } else {
        DeliveryStatus::Accepted
    };
    Ok(DlrReading {
        status,
        error_code: answer.error_code,
    })
}

/// Kannel's `%A`: `ACK/`, `NACK/<command status>/<reason>`, or the SMSC's receipt text.
struct KannelAnswer {
    receipt: Option<DeliveryReceipt>,
    error_code: Option<String>,
}

impl KannelAnswer {
    fn read(answer: &str) -> KannelAnswer {
        let answer = answer.trim();
        if answer.starts_with("ACK/") || answer == "ACK" {
            return KannelAnswer {
                receipt: None,
                error_code: None,
            };
        }
        if let Some(rest) = answer.strip_prefix("NACK/") {
            let code = rest.split('/').next().unwrap_or_default().trim();
            return KannelAnswer {
                receipt: None,
                error_code: (!code.is_empty()).then(|| code.to_owned()),
            };
        }
        let receipt = DeliveryReceipt::parse_text(answer);
        let error_code = receipt.as_ref().and_then(|r| r.error.clone());
        KannelAnswer {
            receipt,
            error_code,
        }
    }
}

/// A final failure, made more precise by the receipt's `stat:` when it says more.
fn refine_failure(receipt: Option<&DeliveryReceipt>) -> DeliveryStatus {
    let Some(receipt) = receipt.filter(|r| r.state.is_some()) else {
        return DeliveryStatus::NotDelivered;
    };
    match public_status(receipt) {
        status @ (DeliveryStatus::Rejected | DeliveryStatus::Expired | DeliveryStatus::Unknown) => {
            status
        }
        _ => DeliveryStatus::NotDelivered,
    }
}

/// A pending state, made more precise by the receipt's `stat:` when it names a pending one.
fn refine_pending(receipt: Option<&DeliveryReceipt>, default: DeliveryStatus) -> DeliveryStatus {
    match receipt.map(public_status) {
        Some(
            status @ (DeliveryStatus::Accepted
            | DeliveryStatus::Transmitted
            | DeliveryStatus::Buffered),
        ) => status,
        _ => default,
    }
}

/// Reads a Jasmin DLR (smpp.md §6.2). A `message_status` of `ESME_ROK` means ACCEPTED and any
/// other `ESME_*` REJECTED (with the `ESME_*` name as error code), whatever the level says;
/// otherwise (levels 2 and 3) it is a receipt stat code, read as smpp.md §3 maps it, with `err`
/// as error code. Level 1 must carry an `ESME_*` status.
pub fn jasmin(
    level: &str,
    message_status: &str,
    err: Option<&str>,
) -> Result<DlrReading, DlrError> {
    let level = match level.trim() {
        "1" => 1,
        "2" => 2,
        "3" => 3,
        _ => return Err(DlrError::JasminLevel(level.to_owned())),
    };
    let message_status = message_status.trim();
    let err = err
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned);
    let unknown = || DlrError::JasminStatus(message_status.to_owned());
    if message_status
        .get(..5)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("ESME_"))
    {
        if message_status.eq_ignore_ascii_case("ESME_ROK") {
            return Ok(DlrReading {
                status: DeliveryStatus::Accepted,
                error_code: err,
            });
        }
        return Ok(DlrReading {
            status: DeliveryStatus::Rejected,
            error_code: Some(message_status.to_owned()),
        });
    }
    if level == 1 {
        return Err(unknown());
    }
    let status = stat_status(message_status, err.as_deref()).ok_or_else(unknown)?;
    Ok(DlrReading {
        status,
        error_code: err,
    })
}

/// The status a generic JSON report names: one of dlrgate's statuses (`DELIVERED`, …, any case)
/// or a receipt stat code (`DELIVRD`, `UNDELIV`, …), read with its `err` as an SMPP receipt is
/// (`ENROUTE` with a non-zero error is BUFFERED).
pub fn named_status(name: &str, err: Option<&str>) -> Result<DeliveryStatus, DlrError> {
    DeliveryStatus::from_str(name)
        .ok()
        .or_else(|| stat_status(name, err))
        .ok_or_else(|| DlrError::Status(name.to_owned()))
}

/// The public status of a receipt `stat:` code (with its `err`), or `None` for an unknown code.
fn stat_status(stat: &str, err: Option<&str>) -> Option<DeliveryStatus> {
    let state = MessageState::from_stat(stat)?;
    let receipt = DeliveryReceipt {
        stat: Some(stat.trim().to_ascii_uppercase()),
        state: Some(state),
        error: err.map(str::to_owned),
        ..DeliveryReceipt::default()
    };
    Some(public_status(&receipt))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use DeliveryStatus::*;

    fn receipt(stat: &str, err: &str) -> String {
        format!(
            "id:0A1B sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:{stat} err:{err} text:Hello"
        )
    }

    /// The status and error code a report should give, or `Err` when it must be refused.
    type Expect<'a> = Result<(DeliveryStatus, Option<&'a str>), ()>;

    fn check_kannel(dlr_type: &str, answer: &str, expect: Expect<'_>) {
        let got = kannel(dlr_type, Some(answer))
            .map(|r| (r.status, r.error_code))
            .map_err(|_| ());
        let expect = expect.map(|(s, e)| (s, e.map(str::to_owned)));
        assert_eq!(got, expect, "type {dlr_type:?} answer {answer:?}");
    }

    #[test]
    fn kannel_types_read_as_bit_sets_refined_by_the_stat() {
        let cases: &[(&str, String, Expect<'_>)] = &[
            ("8", "ACK/".into(), Ok((Accepted, None))),
            ("1", receipt("DELIVRD", "000"), Ok((Delivered, Some("000")))),
            (
                "2",
                receipt("UNDELIV", "001"),
                Ok((NotDelivered, Some("001"))),
            ),
            (
                "2",
                receipt("DELETED", "000"),
                Ok((NotDelivered, Some("000"))),
            ),
            ("2", receipt("REJECTD", "005"), Ok((Rejected, Some("005")))),
            ("2", receipt("EXPIRED", "000"), Ok((Expired, Some("000")))),
            ("2", receipt("UNKNOWN", "000"), Ok((Unknown, Some("000")))),
            ("2", "".into(), Ok((NotDelivered, None))),
            ("34", receipt("EXPIRED", "000"), Ok((Expired, Some("000")))),
            ("34", "".into(), Ok((Expired, None))),
            ("4", receipt("ACCEPTD", "000"), Ok((Accepted, Some("000")))),
            (
                "4",
                receipt("ENROUTE", "000"),
                Ok((Transmitted, Some("000"))),
            ),
            ("4", receipt("ENROUTE", "027"), Ok((Buffered, Some("027")))),
            ("4", receipt("BUFFRED", "000"), Ok((Buffered, Some("000")))),
            ("4", "".into(), Ok((Buffered, None))),
            (
                "32",
                receipt("ENROUTE", "000"),
                Ok((Transmitted, Some("000"))),
            ),
            ("32", "".into(), Ok((Transmitted, None))),
            (
                "16",
                "NACK/0x0000000b/Invalid Destination Address".into(),
                Ok((Rejected, Some("0x0000000b"))),
            ),
            ("9", receipt("DELIVRD", "000"), Ok((Delivered, Some("000")))),
            ("24", "NACK/0x45/x".into(), Ok((Rejected, Some("0x45")))),
            (
                "12",
                receipt("ENROUTE", "000"),
                Ok((Transmitted, Some("000"))),
            ),
            (" 1 ", "garbage".into(), Ok((Delivered, None))),
            ("0", "ACK/".into(), Err(())),
            ("64", "ACK/".into(), Err(())),
            ("-1", "ACK/".into(), Err(())),
            ("abc", "ACK/".into(), Err(())),
            ("", "ACK/".into(), Err(())),
            ("99999999999999999999", "ACK/".into(), Err(())),
        ];
        for (dlr_type, answer, expect) in cases {
            check_kannel(dlr_type, answer, *expect);
        }
    }

    fn check_jasmin(
        level: &str,
        status: &str,
        err: Option<&str>,
        expect: Option<(DeliveryStatus, Option<&str>)>,
    ) {
        let got = jasmin(level, status, err)
            .ok()
            .map(|r| (r.status, r.error_code));
        let expect = expect.map(|(s, e)| (s, e.map(str::to_owned)));
        assert_eq!(got, expect, "level {level:?} status {status:?}");
    }

    #[test]
    fn jasmin_levels_and_statuses_map_as_in_section_3() {
        check_jasmin("1", "ESME_ROK", None, Some((Accepted, None)));
        check_jasmin(
            "1",
            "ESME_RINVDSTADR",
            None,
            Some((Rejected, Some("ESME_RINVDSTADR"))),
        );
        check_jasmin(
            "1",
            "ESME_RTHROTTLED",
            None,
            Some((Rejected, Some("ESME_RTHROTTLED"))),
        );
        check_jasmin("1", "DELIVRD", None, None);
        for level in ["2", "3"] {
            check_jasmin(
                level,
                "DELIVRD",
                Some("000"),
                Some((Delivered, Some("000"))),
            );
            check_jasmin(
                level,
                "UNDELIV",
                Some("001"),
                Some((NotDelivered, Some("001"))),
            );
            check_jasmin(level, "DELETED", None, Some((NotDelivered, None)));
            check_jasmin(level, "REJECTD", None, Some((Rejected, None)));
            check_jasmin(level, "EXPIRED", None, Some((Expired, None)));
            check_jasmin(level, "ACCEPTD", None, Some((Accepted, None)));
            check_jasmin(
                level,
                "ENROUTE",
                Some("000"),
                Some((Transmitted, Some("000"))),
            );
            check_jasmin(level, "ENROUTE", Some("027"), Some((Buffered, Some("027"))));
            check_jasmin(level, "UNKNOWN", None, Some((Unknown, None)));
            check_jasmin(level, "ESME_ROK", None, Some((Accepted, None)));
            check_jasmin(level, "WHATEVER", None, None);
        }
        check_jasmin("0", "DELIVRD", None, None);
        check_jasmin("", "ESME_ROK", None, None);
        check_jasmin("2", "", None, None);
        check_jasmin("2", "é", None, None);
    }

    #[test]
    fn json_statuses_are_dlrgate_names_or_stat_codes() {
        let cases = [
            ("DELIVERED", Some(Delivered)),
            ("delivered", Some(Delivered)),
            ("NOTDELIVERED", Some(NotDelivered)),
            ("FAILED", Some(Failed)),
            ("DELIVRD", Some(Delivered)),
            ("UNDELIV", Some(NotDelivered)),
            ("ACCEPTD", Some(Accepted)),
            ("ENROUTE", Some(Transmitted)),
            ("TRANSMITTED", Some(Transmitted)),
            ("BUFFRED", Some(Buffered)),
            ("nope", None),
            ("", None),
        ];
        for (name, expect) in cases {
            assert_eq!(named_status(name, None).ok(), expect, "{name:?}");
        }
        assert_eq!(named_status("ENROUTE", Some("027")), Ok(Buffered));
        assert_eq!(named_status("TRANSMITTED", Some("027")), Ok(Transmitted));
    }
}
