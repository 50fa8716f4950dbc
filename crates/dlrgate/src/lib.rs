//! dlrgate: a self-hosted SMS gateway that tells its customers, reliably and fast, what became of
//! every message. See ARCHITECTURE.md for the map.
//!
//! # Layout
//! - `domain`: pure rules (statuses, numbers, encodings, the sandbox's plan); no I/O.
//! - `store`: the `Store` trait and its SQLite backend; every write is one transaction.
//! - `api`: the seven.io-compatible HTTP API and dlrgate's own endpoints; calls `Store` only.
//! - `operators`: connectors (sandbox, SMPP, upstream HTTP) and routing.
//! - `smsc_sim`: the SMSC simulator behind `dlrgate smsc-sim`.
//! - `workers`: background loops (submitter, sandbox reports, retention) and the intake batcher.
//! - `app`, `config`, `cli`, `telemetry`: wiring.

pub mod api;
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod dispatcher;
pub mod domain;
pub mod operators;
pub mod smsc_sim;
pub mod store;
pub mod telemetry;
pub mod workers;
