//! API keys and signing secrets: how they are made and how keys are stored (only as hashes).
//!
//! Keys are 256-bit random values, so a plain SHA-256 is the right hash: argon2 is for
//! low-entropy passwords and would cost milliseconds of CPU per request.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};

/// A new API key: 43 alphanumeric characters (about 256 bits).
pub fn new_api_key() -> String {
    random_alphanumeric(43)
}

/// A new signing secret: 32 alphanumeric characters, usable with seven.io's SDK verifiers.
pub fn new_signing_secret() -> String {
    random_alphanumeric(32)
}

fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The stored form of an API key.
pub fn hash_api_key(key: &str) -> Vec<u8> {
    Sha256::digest(key.trim().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hashes_stable() {
        let a = new_api_key();
        let b = new_api_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_api_key(&a), hash_api_key(&a));
        assert_ne!(hash_api_key(&a), hash_api_key(&b));
        assert_eq!(new_signing_secret().len(), 32);
    }
}
