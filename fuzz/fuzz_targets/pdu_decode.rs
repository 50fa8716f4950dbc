//! The SMPP framing and PDU decoder on arbitrary bytes: never panics, consumes whole frames
//! only, and every PDU it decodes encodes back to bytes that decode to the same PDU.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smpp::SmppError;
use smpp::codec::{decode, encode};

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    loop {
        let before = buf.len();
        match decode(&mut buf) {
            Ok(Some(pdu)) => {
                assert!(buf.len() < before, "a decoded PDU consumed nothing");
                let mut wire = BytesMut::new();
                encode(&pdu, &mut wire);
                let again = decode(&mut wire).expect("re-decoding an encoded PDU");
                assert_eq!(again.as_ref(), Some(&pdu));
                assert!(wire.is_empty(), "encoding left bytes behind");
            }
            Ok(None) => break,
            // The malformed frame is gone; the connection answers it and reads on.
            Err(SmppError::Body { .. }) => assert!(buf.len() < before),
            Err(_) => break,
        }
    }
});
