//! seven.io request signatures (HMAC-SHA256 over timestamp, nonce, method, URL and the body's
//! MD5): verifying never panics, a signature made with the secret verifies (in any case), and
//! a given one exactly when it is that signature. Custom webhook header lines parse or are
//! refused without panicking.
//! Input: lines of secret, timestamp, nonce, method, URL and the signature to check; the body
//! after them.
#![no_main]

use dlrgate::dispatcher::signing::parse_custom_headers;
use dlrgate::domain::signature::{SignedRequest, sign, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(7, |&b| b == b'\n');
    let mut text = || String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    let (secret, timestamp, nonce, method, url, given) =
        (text(), text(), text(), text(), text(), text());
    let body = fields.next().unwrap_or_default();
    let request = SignedRequest {
        timestamp: &timestamp,
        nonce: &nonce,
        method: &method,
        url: &url,
        body,
    };
    let signature = sign(&secret, &request);
    assert!(verify(&secret, &request, &signature));
    assert!(verify(&secret, &request, &signature.to_ascii_uppercase()));
    let accepted = verify(&secret, &request, &given);
    assert_eq!(accepted, given.trim().eq_ignore_ascii_case(&signature));
    let _ = parse_custom_headers(&given);
});
