//! The SMPP client against a scripted fake SMSC over real TCP on 127.0.0.1.
//!
//! One test binary (so it links once), one file per concern. Set `TEST_LOG=1` to see the client's logs.

mod binding;
mod fake_smsc;
mod inbound;
mod link;
mod submit;
