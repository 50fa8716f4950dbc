//! Pure domain types and rules of dlrgate: statuses and their transitions, recipients, text
//! encoding, request-parameter values, SMSC delivery receipts, the sandbox operator's plan and
//! request signatures.
//!
//! Nothing here does I/O or knows the wire format: no sqlx, axum, tokio::net or serde derives.
//! API wire types live in `api/` and convert to and from these types.

pub mod credentials;
pub mod dlr;
pub mod encoding;
pub mod msisdn;
pub mod params;
pub mod receipt;
pub mod routing;
pub mod sandbox;
pub mod segment;
pub mod signature;
pub mod status;
pub mod timefmt;
pub mod webhook;
