//! The npm SMSC peer (tests/smpp/smsc-peer.mjs), spawned and driven from tests. Work in progress.
