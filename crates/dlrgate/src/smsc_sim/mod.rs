//! `dlrgate smsc-sim`: an SMSC simulator (an SMPP 3.4 server built on `crates/smpp`). Work in progress.
