//! SMS text analysis: which encoding a text needs (GSM 03.38 7-bit or UCS-2)
//! and how many concatenated SMS parts it takes, counted the way handsets
//! and SMSCs count them (escape sequences and surrogate pairs never split).

/// Characters of the GSM 03.38 default alphabet (one septet each).
/// The escape code 0x1B itself is not a character and is left out.
pub(crate) const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters of the GSM 03.38 extension table, sent as ESC + code (two septets).
pub(crate) const GSM_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets available in a single (non-concatenated) GSM 7-bit SMS.
pub(crate) const GSM_SINGLE: u32 = 160;
/// Septets available per part once a concatenation UDH is present.
pub(crate) const GSM_PER_PART: u32 = 153;
/// UTF-16 code units available in a single UCS-2 SMS.
pub(crate) const UCS2_SINGLE: u32 = 70;
/// UTF-16 code units available per part once a concatenation UDH is present.
pub(crate) const UCS2_PER_PART: u32 = 67;
/// Octets available for UDH + payload in one 8-bit binary SMS.
const BINARY_OCTETS: usize = 140;

/// Data coding of an SMS text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, 7 bits per character.
    Gsm7,
    /// UCS-2 (in practice UTF-16), 16 bits per code unit.
    Ucs2,
}

impl Encoding {
    /// The seven.io wire name of the encoding.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm",
            Encoding::Ucs2 => "ucs2",
        }
    }
}

/// Result of [`analyze`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextInfo {
    /// Encoding the text must be sent with.
    pub encoding: Encoding,
    /// Number of SMS parts (at least 1, also for an empty text).
    pub parts: u32,
    /// Septets (GSM 7-bit) or UTF-16 code units (UCS-2) of the whole text.
    pub units: u32,
}

/// Septets a character takes in GSM 7-bit, or `None` if it is not encodable.
fn gsm_septets(c: char) -> Option<u32> {
    // Letters, digits and space are in the basic table; answering them first skips the scan of
    // both tables for most characters of most texts.
    if c.is_ascii_alphanumeric() || c == ' ' || GSM_BASIC.contains(c) {
        Some(1)
    } else if GSM_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Total units and part count for a sequence of indivisible character costs.
fn count_parts<I>(costs: I, single: u32, per_part: u32) -> (u32, u32)
where
    I: Iterator<Item = u32> + Clone,
{
    let units = costs.clone().fold(0u32, u32::saturating_add);
    if units <= single {
        return (1, units);
    }
    let mut parts = 1u32;
    let mut fill = 0u32;
    for cost in costs {
        if fill + cost > per_part {
            parts = parts.saturating_add(1);
            fill = 0;
        }
        fill += cost;
    }
    (parts, units)
}

/// Picks the encoding for `text` and counts its units and SMS parts.
///
/// GSM 7-bit is used when every character is in the default alphabet or the
/// extension table; otherwise the whole text goes out as UCS-2.
pub fn analyze(text: &str) -> TextInfo {
    let is_gsm = text.chars().all(|c| gsm_septets(c).is_some());
    let (encoding, (parts, units)) = if is_gsm {
        let costs = text.chars().map(|c| gsm_septets(c).unwrap_or(1));
        (Encoding::Gsm7, count_parts(costs, GSM_SINGLE, GSM_PER_PART))
    } else {
        // A char is one or two UTF-16 code units, which always fits in u32.
        let costs = text.chars().map(|c| c.len_utf16() as u32);
        (
            Encoding::Ucs2,
            count_parts(costs, UCS2_SINGLE, UCS2_PER_PART),
        )
    };
    TextInfo {
        encoding,
        parts,
        units,
    }
}

/// Parts needed by an 8-bit binary message carrying its own UDH.
///
/// A custom UDH cannot be combined with gateway-side concatenation, so the
/// message must fit one SMS: `Some(1)` if UDH and payload fit in 140 octets,
/// `None` if the message is too long.
pub fn analyze_binary(udh: &[u8], payload: &[u8]) -> Option<u32> {
    let octets = udh.len().checked_add(payload.len())?;
    (octets <= BINARY_OCTETS).then_some(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use Encoding::{Gsm7, Ucs2};
    use proptest::prelude::*;

    fn check(input: &str, expect: (Encoding, u32, u32)) {
        let (encoding, parts, units) = expect;
        let expect = TextInfo {
            encoding,
            parts,
            units,
        };
        assert_eq!(analyze(input), expect, "input {input:?}");
    }

    fn a(n: usize) -> String {
        "a".repeat(n)
    }

    #[test]
    fn alphabet_tables_are_complete() {
        assert_eq!(GSM_BASIC.chars().count(), 127);
        assert_eq!(GSM_EXTENSION.chars().count(), 10);
        assert!(!GSM_BASIC.chars().any(|c| GSM_EXTENSION.contains(c)));
    }

    #[test]
    fn wire_names() {
        assert_eq!(Gsm7.as_str(), "gsm");
        assert_eq!(Ucs2.as_str(), "ucs2");
    }

    #[test]
    fn gsm_character_classes() {
        let cases: &[(&str, (Encoding, u32, u32))] = &[
            ("", (Gsm7, 1, 0)),
            ("Hello, world!", (Gsm7, 1, 13)),
            ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ", (Gsm7, 1, 29)),
            ("¡¿ÄÖÑÜ§äöñüà¤", (Gsm7, 1, 13)),
            ("line1\r\nline2", (Gsm7, 1, 12)),
            ("€", (Gsm7, 1, 2)),
            ("^{}\\[~]|€\u{0C}", (Gsm7, 1, 20)),
            ("ç", (Ucs2, 1, 1)),
            ("`", (Ucs2, 1, 1)),
            ("\u{1B}", (Ucs2, 1, 1)),
            ("Привет", (Ucs2, 1, 6)),
            ("hi 😀", (Ucs2, 1, 5)),
        ];
        for (input, expect) in cases {
            check(input, *expect);
        }
    }

    #[test]
    fn gsm_part_boundaries() {
        let cases: Vec<(String, (Encoding, u32, u32))> = vec![
            (a(160), (Gsm7, 1, 160)),
            (a(161), (Gsm7, 2, 161)),
            (a(153 * 2), (Gsm7, 2, 306)),
            (a(153 * 2 + 1), (Gsm7, 3, 307)),
            (a(153 * 3), (Gsm7, 3, 459)),
            (a(158) + "€", (Gsm7, 1, 160)),
            (a(159) + "€", (Gsm7, 2, 161)),
            // Escape at the part boundary: 152 + 2 does not fit in 153.
            (a(152) + "€" + &a(152), (Gsm7, 3, 306)),
            (a(151) + "€" + &a(153), (Gsm7, 2, 306)),
            ("€".repeat(80), (Gsm7, 1, 160)),
            ("€".repeat(81), (Gsm7, 2, 162)),
            ("€".repeat(153), (Gsm7, 3, 306)),
        ];
        for (input, expect) in &cases {
            check(input, *expect);
        }
    }

    #[test]
    fn ucs2_part_boundaries() {
        let ru = |n: usize| "я".repeat(n);
        let cases: Vec<(String, (Encoding, u32, u32))> = vec![
            (ru(70), (Ucs2, 1, 70)),
            (ru(71), (Ucs2, 2, 71)),
            (ru(67 * 2), (Ucs2, 2, 134)),
            (ru(67 * 2 + 1), (Ucs2, 3, 135)),
            (ru(68) + "😀", (Ucs2, 1, 70)),
            (ru(69) + "😀", (Ucs2, 2, 71)),
            // Surrogate pair at the part boundary: 66 + 2 does not fit in 67.
            (ru(66) + "😀" + &ru(66), (Ucs2, 3, 134)),
            (ru(65) + "😀" + &ru(67), (Ucs2, 2, 134)),
            ("😀".repeat(35), (Ucs2, 1, 70)),
            ("😀".repeat(36), (Ucs2, 2, 72)),
            ("😀".repeat(67), (Ucs2, 3, 134)),
            // A single non-GSM char turns the whole text into UCS-2.
            (a(69) + "ç", (Ucs2, 1, 70)),
            (a(70) + "ç", (Ucs2, 2, 71)),
        ];
        for (input, expect) in &cases {
            check(input, *expect);
        }
    }

    #[test]
    fn binary_fits_one_part() {
        let cases: &[(usize, usize, Option<u32>)] = &[
            (0, 0, Some(1)),
            (6, 134, Some(1)),
            (0, 140, Some(1)),
            (6, 135, None),
            (0, 141, None),
        ];
        for &(udh, payload, expect) in cases {
            let got = analyze_binary(&vec![0; udh], &vec![0; payload]);
            assert_eq!(got, expect, "udh {udh} payload {payload}");
        }
    }

    proptest! {
        #[test]
        fn parts_hold_all_units(text in any::<String>()) {
            let info = analyze(&text);
            let (single, per_part) = match info.encoding {
                Gsm7 => (GSM_SINGLE, GSM_PER_PART),
                Ucs2 => (UCS2_SINGLE, UCS2_PER_PART),
            };
            let capacity = if info.parts == 1 { single } else { info.parts * per_part };
            prop_assert!(info.units <= capacity);
        }
    }
}
