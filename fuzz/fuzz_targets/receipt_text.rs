//! SMPP receipt text (Appendix B) and TLVs → status: never panics, and the matching keys of
//! ids are canonical. The input is the receipt text; its first octets also serve as TLV values.
#![no_main]

use dlrgate::domain::receipt::{DeliveryReceipt, IdFormat, normalize_id, public_status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some(receipt) = DeliveryReceipt::parse_text(&text) else {
        return;
    };
    let _ = public_status(&receipt);
    if let Some(id) = &receipt.message_id {
        // Keys are canonical (normalize_id's contract): decimal and as-is keys are fixed
        // points, and a hex key is already canonical decimal.
        for format in [IdFormat::Decimal, IdFormat::AsIs] {
            let key = normalize_id(id, format);
            assert_eq!(normalize_id(&key, format), key, "{format:?} of {id:?}");
        }
        let key = normalize_id(id, IdFormat::Hex);
        assert_eq!(normalize_id(&key, IdFormat::Decimal), key, "Hex of {id:?}");
    }
    let receipted_id: String = text.chars().take(16).collect();
    let merged = receipt.with_tlvs(Some(&receipted_id), data.first().copied(), data.get(..3));
    let _ = public_status(&merged);
});
