//! `dlrgate smsc-sim` against independent clients. Work in progress.
