//! Table-driven and property tests of GSM 03.38 coding and of cutting texts into SMS parts.

use super::*;
use crate::domain::encoding::{Encoding, GSM_BASIC, GSM_EXTENSION, analyze};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Octets of the concatenation UDH `05 00 03 reference total index`.
const UDH_LEN: usize = 6;

/// GSM characters worth mixing: letters, escapes, Greek, line breaks and accented letters.
const GSM_POOL: &[char] = &[
    'a', 'Z', '7', ' ', '.', '@', '$', '_', '\n', '\r', 'é', 'Ä', 'ß', '¤', '§', 'Δ', 'Φ', 'Ω',
    'Σ', 'Ξ', '€', '^', '{', '}', '\\', '[', '~', ']', '|', '\u{0C}',
];
/// Characters that force UCS-2: emoji (surrogate pairs), CJK, Cyrillic and near misses.
const NON_GSM_POOL: &[char] = &['😀', '🎉', '中', '文', 'я', 'ç', '`', '\u{1B}'];

fn a(n: usize) -> String {
    "a".repeat(n)
}

fn ru(n: usize) -> String {
    "я".repeat(n)
}

fn check_septets(text: &str, expect: Option<Vec<u8>>) {
    assert_eq!(gsm7_septets(text), expect, "text {text:?}");
    if let Some(septets) = expect {
        assert_eq!(decode_gsm7(&septets), text, "septets {septets:02X?}");
    }
}

fn check_decode(septets: &[u8], expect: &str) {
    assert_eq!(decode_gsm7(septets), expect, "septets {septets:02X?}");
}

/// Checks the invariants of every split, then `(data_coding, payload length of each part)`.
fn check_segments(text: &str, flash: bool, expect: (u8, &[usize])) {
    assert_invariants(text, 0x2A, flash);
    let segments = segments(text, 0x2A, flash);
    let udh_len = if segments.len() > 1 { UDH_LEN } else { 0 };
    let lengths: Vec<usize> = segments
        .iter()
        .map(|segment| segment.short_message.len() - udh_len)
        .collect();
    let data_coding = segments[0].data_coding;
    assert_eq!((data_coding, &lengths[..]), expect, "text {text:?}");
}

/// Everything a split must satisfy, whatever the text.
fn assert_invariants(text: &str, reference: u8, flash: bool) {
    let info = analyze(text);
    let texts = part_texts(text);
    assert_eq!(texts.len(), info.parts as usize, "part texts of {text:?}");
    assert_eq!(texts.concat(), text);
    let segments = segments(text, reference, flash);
    assert_eq!(
        segments.len(),
        info.parts as usize,
        "part count of {text:?}"
    );
    let total = segments.len();
    let (alphabet, single, per_part) = match info.encoding {
        Encoding::Gsm7 => (0x00, 160, 153),
        Encoding::Ucs2 => (0x08, 140, 134),
    };
    let class = if flash { 0x10 } else { 0x00 };
    let mut joined = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        assert_eq!(segment.data_coding, alphabet | class);
        assert_eq!(segment.udhi, total > 1);
        let payload = if total == 1 {
            assert!(segment.short_message.len() <= single);
            &segment.short_message[..]
        } else {
            let udh = [0x05, 0x00, 0x03, reference, total as u8, index as u8 + 1];
            assert_eq!(segment.short_message[..UDH_LEN], udh);
            let payload = &segment.short_message[UDH_LEN..];
            assert!(!payload.is_empty() && payload.len() <= per_part);
            payload
        };
        match info.encoding {
            // ESC only ever starts an escape pair, so a part ending in ESC split one.
            Encoding::Gsm7 => assert_ne!(payload.last(), Some(&ESC), "split escape"),
            Encoding::Ucs2 => {
                let part = String::from_utf16(&utf16_units(payload));
                assert!(part.is_ok(), "split surrogate pair in part {index}");
            }
        }
        joined.extend_from_slice(payload);
    }
    let decoded = match info.encoding {
        Encoding::Gsm7 => decode_gsm7(&joined),
        Encoding::Ucs2 => String::from_utf16_lossy(&utf16_units(&joined)),
    };
    assert_eq!(decoded, text);
}

fn utf16_units(octets: &[u8]) -> Vec<u16> {
    assert_eq!(octets.len() % 2, 0, "UCS-2 payload of odd length");
    octets
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
        .collect()
}

#[test]
fn code_table_holds_exactly_the_alphabet_of_encoding() {
    let basic: BTreeSet<char> = GSM7_BASIC
        .iter()
        .copied()
        .filter(|&c| c != '\u{1B}')
        .collect();
    assert_eq!(basic.len(), 127, "duplicate in GSM7_BASIC");
    assert_eq!(basic, GSM_BASIC.chars().collect());
    assert_eq!(GSM7_BASIC[0x1B], '\u{1B}');

    let extension: BTreeSet<char> = GSM7_EXTENSION.iter().map(|&(_, c)| c).collect();
    let codes: BTreeSet<u8> = GSM7_EXTENSION.iter().map(|&(code, _)| code).collect();
    assert_eq!(extension, GSM_EXTENSION.chars().collect());
    assert_eq!(
        codes.len(),
        GSM7_EXTENSION.len(),
        "duplicate extension code"
    );
    assert!(!codes.contains(&ESC));
}

#[test]
fn gsm7_code_points_follow_3gpp_ts_23_038() {
    let ext = |codes: &[u8]| codes.iter().flat_map(|&code| [ESC, code]).collect();
    let cases: Vec<(&str, Option<Vec<u8>>)> = vec![
        ("", Some(vec![])),
        ("@£$", Some(vec![0x00, 0x01, 0x02])),
        ("¥èéùìòÇ\nØø\rÅå", Some((0x03..=0x0F).collect())),
        ("Δ_ΦΓΛΩΠΨΣΘΞ", Some((0x10..=0x1A).collect())),
        ("ÆæßÉ", Some((0x1C..=0x1F).collect())),
        (" !\"#¤%&'()*+,-./", Some((0x20..=0x2F).collect())),
        ("0123456789:;<=>?", Some((0x30..=0x3F).collect())),
        (
            "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§",
            Some((0x40..=0x5F).collect()),
        ),
        (
            "¿abcdefghijklmnopqrstuvwxyzäöñüà",
            Some((0x60..=0x7F).collect()),
        ),
        (
            "\u{0C}^{}\\[~]|€",
            Some(ext(&[
                0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65,
            ])),
        ),
        ("a€b", Some(vec![0x61, ESC, 0x65, 0x62])),
        ("ç", None),
        ("`", None),
        ("\u{1B}", None),
        ("Hi 😀", None),
        ("中文", None),
    ];
    for (text, expect) in cases {
        check_septets(text, expect);
    }
}

#[test]
fn decoding_tolerates_malformed_septets() {
    let cases: &[(&[u8], &str)] = &[
        (&[], ""),
        (&[0x48, 0x69], "Hi"),
        (&[ESC, 0x65], "€"),
        // An escape to a code without extension character shows the basic character.
        (&[ESC, 0x41], "A"),
        (&[ESC, 0x0D], "\r"),
        (&[ESC, ESC], " "),
        (&[0x41, ESC], "A?"),
        (&[0x80, 0x61], "?a"),
        (&[ESC, 0xFF], "?"),
    ];
    for &(septets, expect) in cases {
        check_decode(septets, expect);
    }
}

#[test]
fn gsm_part_boundaries() {
    let cases: Vec<(String, &[usize])> = vec![
        (String::new(), &[0]),
        (a(160), &[160]),
        (a(161), &[153, 8]),
        (a(153 * 2), &[153, 153]),
        (a(153 * 2 + 1), &[153, 153, 1]),
        (a(158) + "€", &[160]),
        (a(159) + "€", &[153, 8]),
        // An extension character at position 153 does not fit the first part.
        (a(152) + "€" + &a(152), &[152, 153, 1]),
        (a(153) + "€" + &a(6), &[153, 8]),
        (a(151) + "€" + &a(153), &[153, 153]),
        ("€".repeat(80), &[160]),
        ("€".repeat(81), &[152, 10]),
    ];
    for (text, lengths) in &cases {
        check_segments(text, false, (0x00, lengths));
    }
}

#[test]
fn ucs2_part_boundaries() {
    let cases: Vec<(String, &[usize])> = vec![
        (ru(70), &[140]),
        (ru(71), &[134, 8]),
        (ru(67 * 2), &[134, 134]),
        (ru(67 * 2 + 1), &[134, 134, 2]),
        (ru(68) + "😀", &[140]),
        (ru(69) + "😀", &[134, 8]),
        // A surrogate pair at the part boundary moves whole into the next part.
        (ru(66) + "😀" + &ru(66), &[132, 134, 2]),
        (ru(65) + "😀" + &ru(67), &[134, 134]),
        ("😀".repeat(35), &[140]),
        ("😀".repeat(36), &[132, 12]),
        (a(69) + "ç", &[140]),
        (a(70) + "ç", &[134, 8]),
    ];
    for (text, lengths) in &cases {
        check_segments(text, false, (0x08, lengths));
    }
}

#[test]
fn flash_sends_message_class_0() {
    check_segments("Hi", true, (0x10, &[2]));
    check_segments(&a(161), true, (0x10, &[153, 8]));
    check_segments("Hi 😀", true, (0x18, &[10]));
    check_segments(&ru(71), true, (0x18, &[134, 8]));
}

#[test]
fn single_parts_carry_no_udh() {
    let cases: Vec<(&str, Segment)> = vec![
        ("Hi€", segment(0x00, false, &[0x48, 0x69, ESC, 0x65])),
        (
            "я😀",
            segment(0x08, false, &[0x04, 0x4F, 0xD8, 0x3D, 0xDE, 0x00]),
        ),
        ("", segment(0x00, false, &[])),
    ];
    for (text, expect) in cases {
        assert_eq!(segments(text, 9, false), vec![expect], "text {text:?}");
    }
}

#[test]
fn concatenated_parts_start_with_exact_udh() {
    let mut first = vec![0x05, 0x00, 0x03, 0xAB, 0x02, 0x01];
    first.extend([0x61; 153]);
    let mut second = vec![0x05, 0x00, 0x03, 0xAB, 0x02, 0x02];
    second.extend([0x61; 8]);
    let expect = vec![segment(0x00, true, &first), segment(0x00, true, &second)];
    assert_eq!(segments(&a(161), 0xAB, false), expect);

    let mut first = vec![0x05, 0x00, 0x03, 0x00, 0x02, 0x01];
    first.extend([0x04, 0x4F].repeat(67));
    let second = [
        0x05, 0x00, 0x03, 0x00, 0x02, 0x02, 0x04, 0x4F, 0x04, 0x4F, 0xD8, 0x3D, 0xDE, 0x00,
    ];
    let expect = vec![segment(0x08, true, &first), segment(0x08, true, &second)];
    assert_eq!(segments(&(ru(69) + "😀"), 0x00, false), expect);
}

#[test]
fn udh_numbers_saturate_at_255() {
    assert_eq!(
        concatenation_udh(0x34, 3, 2),
        [0x05, 0x00, 0x03, 0x34, 3, 2]
    );
    assert_eq!(
        concatenation_udh(0x34, 300, 256),
        [0x05, 0x00, 0x03, 0x34, 0xFF, 0xFF]
    );
}

fn segment(data_coding: u8, udhi: bool, short_message: &[u8]) -> Segment {
    Segment {
        data_coding,
        udhi,
        short_message: short_message.to_vec(),
    }
}

fn text_from(pool: Vec<char>, max_chars: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(pool), 0..max_chars)
        .prop_map(|chars| chars.into_iter().collect())
}

/// Texts of up to 500 characters: GSM only, GSM with rare UCS-2 characters, or anything.
fn any_text() -> impl Strategy<Value = String> {
    let mixed = [GSM_POOL, NON_GSM_POOL].concat();
    let mostly_gsm = [GSM_POOL, GSM_POOL, GSM_POOL, &NON_GSM_POOL[..2]].concat();
    prop_oneof![
        text_from(GSM_POOL.to_vec(), 500),
        text_from(mostly_gsm, 500),
        text_from(mixed, 500),
        any::<String>(),
    ]
}

/// Every character of the basic and the extension table.
fn every_gsm_char() -> Vec<char> {
    let basic = GSM7_BASIC.iter().copied().filter(|&c| c != '\u{1B}');
    basic
        .chain(GSM7_EXTENSION.iter().map(|&(_, c)| c))
        .collect()
}

/// One character as septets: a basic code (never ESC) or an escape pair.
fn septet_unit() -> impl Strategy<Value = Vec<u8>> {
    let extension: Vec<u8> = GSM7_EXTENSION.iter().map(|&(code, _)| code).collect();
    prop_oneof![
        (0u8..0x80)
            .prop_filter("ESC is no character", |&code| code != ESC)
            .prop_map(|c| vec![c]),
        proptest::sample::select(extension).prop_map(|code| vec![ESC, code]),
    ]
}

proptest! {
    #[test]
    fn every_split_matches_analyze_and_reassembles(
        text in any_text(),
        reference in any::<u8>(),
        flash in any::<bool>(),
    ) {
        assert_invariants(&text, reference, flash);
    }

    #[test]
    fn gsm7_accepts_exactly_what_analyze_sends_as_gsm(text in any_text()) {
        let is_gsm = analyze(&text).encoding == Encoding::Gsm7;
        prop_assert_eq!(gsm7_septets(&text).is_some(), is_gsm);
    }

    #[test]
    fn decoding_inverts_encoding(text in text_from(every_gsm_char(), 200)) {
        let septets = gsm7_septets(&text);
        prop_assert_eq!(septets.map(|septets| decode_gsm7(&septets)), Some(text));
    }

    #[test]
    fn encoding_inverts_decoding(units in proptest::collection::vec(septet_unit(), 0..200)) {
        let septets = units.concat();
        prop_assert_eq!(gsm7_septets(&decode_gsm7(&septets)), Some(septets));
    }

    #[test]
    fn decoding_any_octets_yields_at_most_one_char_per_octet(octets in any::<Vec<u8>>()) {
        prop_assert!(decode_gsm7(&octets).chars().count() <= octets.len());
    }
}
