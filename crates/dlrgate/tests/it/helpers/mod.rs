//! Shared test helpers: `spawn_app()` and the `TestApp` client, and running the real binary.

#![allow(dead_code, clippy::unwrap_used)]

pub mod app;
pub mod binary;
pub mod cluster;
pub mod crash_checks;
pub mod crash_load;
pub mod hooks;
pub mod hooks_api;
pub mod hostile;
pub mod multinode;
pub mod postgres;
pub mod raw_esme;
pub mod receiver;
pub mod smpp_route;
pub mod sms;
pub mod smsc_peer;
pub mod upstream;
