//! dlrgate's one integration-test binary. Tests start the real `Application` (or the real
//! binary) and talk to it only over HTTP, as a client would.

mod auth;
mod bad_input;
mod balance;
mod crash;
mod helpers;
mod ingest_jasmin;
mod ingest_json;
mod ingest_kannel;
mod journal;
mod kannel_route;
mod limits;
mod postgres_app;
mod retention;
mod sdk;
mod smpp_claims;
mod smpp_crash;
mod smpp_peer_link;
mod smpp_peer_receipts;
mod smpp_sim_e2e;
mod sms;
mod sms_schedule;
mod smsc_peer_smoke;
mod smsc_sim;
mod status;
mod store_contract;
mod webhooks_api;
mod webhooks_concurrency;
mod webhooks_delivery;
mod webhooks_fairness;
mod webhooks_isolation;
mod webhooks_payload;
mod webhooks_recovery;
mod webhooks_signing;
