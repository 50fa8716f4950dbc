//! Smoke tests of the npm SMSC peer helper. Work in progress.
