//! The status engine: which operator statuses exist, which are final, how a receipt for one part
//! of a message changes that part, and how the parts make up the status of the whole message.
//!
//! Rules (see ARCHITECTURE.md, "Invariants"):
//! - A final status never moves back. A non-final that arrives after a final is kept in history by
//!   the caller and changes nothing here ([`Decision::Stale`]).
//! - The same status twice changes nothing ([`Decision::Duplicate`]).
//! - `UNKNOWN` receipts become `FAILED`, provisionally: a later definite final status
//!   (DELIVERED, NOTDELIVERED, EXPIRED, REJECTED) replaces it (smpp.md §3, rule 2).
//! - A message is final only when every part is; it is DELIVERED only when every part is.

use std::fmt;
use std::str::FromStr;

/// An operator status as reported to customers (seven.io's status-report set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryStatus {
    Accepted,
    Transmitted,
    Buffered,
    Delivered,
    NotDelivered,
    Expired,
    Rejected,
    Failed,
    Unknown,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 9] = [
        Self::Accepted,
        Self::Transmitted,
        Self::Buffered,
        Self::Delivered,
        Self::NotDelivered,
        Self::Expired,
        Self::Rejected,
        Self::Failed,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Transmitted => "TRANSMITTED",
            Self::Buffered => "BUFFERED",
            Self::Delivered => "DELIVERED",
            Self::NotDelivered => "NOTDELIVERED",
            Self::Expired => "EXPIRED",
            Self::Rejected => "REJECTED",
            Self::Failed => "FAILED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Final statuses never change again (except a provisional FAILED, see [`PartState`]).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Accepted | Self::Transmitted | Self::Buffered)
    }

    /// How far a non-final status has come: ACCEPTED < TRANSMITTED < BUFFERED. BUFFERED means
    /// the SMSC has tried the handset, so it says more than TRANSMITTED.
    fn progress(self) -> u8 {
        match self {
            Self::Accepted => 1,
            Self::Transmitted => 2,
            Self::Buffered => 3,
            _ => 4,
        }
    }

    /// How bad a final outcome is, used to report the worst part of a multipart message.
    fn severity(self) -> u8 {
        match self {
            Self::Delivered => 0,
            Self::Expired => 1,
            Self::NotDelivered => 2,
            Self::Unknown => 3,
            Self::Failed => 4,
            Self::Rejected => 5,
            _ => 0,
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for DeliveryStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// Internal lifecycle of a message before the operator reports on it. Tracked, never reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalState {
    Created,
    Queued,
    Processed,
    Cancelled,
}

impl InternalState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Queued => "queued",
            Self::Processed => "processed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl FromStr for InternalState {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "created" => Ok(Self::Created),
            "queued" => Ok(Self::Queued),
            "processed" => Ok(Self::Processed),
            "cancelled" => Ok(Self::Cancelled),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

/// The operator status of one part of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartState {
    /// `None` until the first operator report.
    pub status: Option<DeliveryStatus>,
    /// True when `status` is FAILED only because the operator said UNKNOWN; a later definite
    /// final status may then replace it.
    pub provisional: bool,
}

impl PartState {
    pub fn is_final(self) -> bool {
        self.status.is_some_and(DeliveryStatus::is_final)
    }
}

/// What one receipt does to one part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The part moves to this state.
    Apply(PartState),
    /// The part already has this status: nothing changes.
    Duplicate,
    /// The receipt is older than what the part already knows (it would move a final status
    /// back, or ACCEPTED after later progress): kept in history, nothing changes.
    Stale,
}

/// Applies a receipt saying `reported` to a part whose state is `current`.
pub fn transition(current: PartState, reported: DeliveryStatus) -> Decision {
    let (incoming, provisional) = match reported {
        DeliveryStatus::Unknown => (DeliveryStatus::Failed, true),
        other => (other, false),
    };
    let Some(now) = current.status else {
        return Decision::Apply(PartState {
            status: Some(incoming),
            provisional,
        });
    };
    if now.is_final() {
        let definite_replaces_provisional =
            current.provisional && incoming.is_final() && incoming != DeliveryStatus::Failed;
        return if definite_replaces_provisional {
            Decision::Apply(PartState {
                status: Some(incoming),
                provisional: false,
            })
        } else if incoming == now {
            Decision::Duplicate
        } else {
            Decision::Stale
        };
    }
    if incoming == now {
        Decision::Duplicate
    } else if !incoming.is_final() && incoming == DeliveryStatus::Accepted {
        // ACCEPTED is only ever the first step; after TRANSMITTED or BUFFERED it is old news.
        Decision::Stale
    } else {
        Decision::Apply(PartState {
            status: Some(incoming),
            provisional,
        })
    }
}

/// The status of a whole message from the states of its parts.
///
/// Final only when every part is final: DELIVERED when every part is, otherwise the most severe
/// final status among the parts. While some part is not final, the most advanced non-final status
/// among the unfinished parts. `None` while no part has any operator status.
pub fn aggregate(parts: &[PartState]) -> Option<DeliveryStatus> {
    let statuses: Vec<DeliveryStatus> = parts.iter().filter_map(|part| part.status).collect();
    if statuses.is_empty() {
        return None;
    }
    let all_final = statuses.len() == parts.len() && statuses.iter().all(|s| s.is_final());
    if all_final {
        return statuses.into_iter().max_by_key(|s| s.severity());
    }
    statuses
        .into_iter()
        .filter(|s| !s.is_final())
        .max_by_key(|s| s.progress())
}

/// The status a message moves to when its parts now aggregate to `aggregated`, or `None` when its
/// stored status `before` stays. Like a part, a message never goes back to ACCEPTED once it has
/// come further (a multipart message whose BUFFERED part got DELIVERED while another part is
/// still only ACCEPTED stays BUFFERED).
pub fn message_update(
    before: Option<DeliveryStatus>,
    aggregated: Option<DeliveryStatus>,
) -> Option<DeliveryStatus> {
    let aggregated = aggregated?;
    let back_to_accepted = aggregated == DeliveryStatus::Accepted
        && before.is_some_and(|b| b != DeliveryStatus::Accepted);
    if back_to_accepted || before == Some(aggregated) {
        None
    } else {
        Some(aggregated)
    }
}

/// Whether the aggregated message status is provisional (some failed part came from UNKNOWN and
/// decides the outcome).
pub fn aggregate_is_provisional(parts: &[PartState]) -> bool {
    aggregate(parts) == Some(DeliveryStatus::Failed)
        && parts.iter().any(|p| p.provisional)
        && !parts
            .iter()
            .any(|p| p.status == Some(DeliveryStatus::Failed) && !p.provisional)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
