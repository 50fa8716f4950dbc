//! dlrgate's one integration-test binary. Tests start the real `Application` (or the real
//! binary) and talk to it only over HTTP, as a client would.

mod auth;
mod bad_input;
mod crash;
mod helpers;
mod journal;
mod retention;
mod sdk;
mod sms;
mod status;
mod store_contract;
mod webhooks_api;
mod webhooks_delivery;
mod webhooks_recovery;
mod webhooks_signing;
