//! Turning a text into the SMS parts an SMPP `submit_sm` carries: GSM 03.38 septets or UCS-2
//! octets, cut where [`analyze`] counts its parts, each part behind a concatenation UDH when
//! there are several.
//!
//! This module owns the GSM 03.38 code points (3GPP TS 23.038) and the cutting of a text into
//! parts. It must not decide the encoding or the part count on its own: both follow from the
//! alphabet and limits of `encoding`, so that the number of parts billed is the number sent.
//! It does no I/O and knows nothing of SMPP beyond the bytes of `short_message`.

#[cfg(doc)]
use crate::domain::encoding::analyze;
use crate::domain::encoding::{Encoding, GSM_PER_PART, GSM_SINGLE, UCS2_PER_PART, UCS2_SINGLE};

/// The GSM 03.38 escape code: the next septet is looked up in the extension table.
const ESC: u8 = 0x1B;

/// GSM 03.38 default alphabet in code order: entry `n` is the character of septet `n`.
///
/// Entry 0x1B is the escape code, not a character; it holds U+001B only to keep the indices
/// right and is never matched when encoding (a text containing U+001B goes out as UCS-2).
#[rustfmt::skip]
const GSM7_BASIC: [char; 128] = [
    // 0x00
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
    // 0x10
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É',
    // 0x20
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    // 0x30
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
    // 0x40
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
    // 0x50
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
    // 0x60
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    // 0x70
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/// GSM 03.38 extension table: `(code, character)`, each sent as `ESC code`.
const GSM7_EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'), // Form feed (page break).
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// `data_coding` of the GSM default alphabet (SMSC default).
const DATA_CODING_GSM7: u8 = 0x00;
/// `data_coding` of UCS-2.
const DATA_CODING_UCS2: u8 = 0x08;
/// Added to `data_coding` for a flash SMS: general data coding group with message class 0.
const DATA_CODING_CLASS_0: u8 = 0x10;

/// One SMS part as SMPP sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// 0x00 GSM default alphabet (unpacked septets, one per octet) or 0x08 UCS-2; a flash SMS
    /// uses 0x10 / 0x18, the same alphabets with message class 0 (shown, not stored).
    pub data_coding: u8,
    /// Whether `short_message` starts with a UDH; the connector then sets 0x40 in `esm_class`.
    pub udhi: bool,
    /// The UDH (if any) followed by the payload.
    pub short_message: Vec<u8>,
}

/// Splits `text` into the segments [`analyze`] counts, the parts of [`part_texts`], with a
/// [`concatenation_udh`] on each part when there are several.
///
/// The UDH counts parts in one octet, so it can number at most 255; the API caps texts at
/// 1,520 characters, which is at most 47 parts. Beyond 255 parts, `total` and `index`
/// saturate at 255.
pub fn segments(text: &str, reference: u8, flash: bool) -> Vec<Segment> {
    let class = if flash { DATA_CODING_CLASS_0 } else { 0 };
    let (encoding, parts) = cut(text);
    let (data_coding, payloads) = match encoding {
        Encoding::Gsm7 => {
            // Every part of a GSM text is GSM, so the default is never taken.
            let payloads = parts
                .iter()
                .map(|part| gsm7_septets(part).unwrap_or_default())
                .collect();
            (DATA_CODING_GSM7 | class, payloads)
        }
        Encoding::Ucs2 => {
            let payloads = parts
                .iter()
                .map(|part| part.encode_utf16().flat_map(u16::to_be_bytes).collect())
                .collect();
            (DATA_CODING_UCS2 | class, payloads)
        }
    };
    with_headers(payloads, data_coding, reference)
}

/// The text of each part, cut exactly where [`analyze`] counts its parts: all of `text` if it
/// fits one SMS, else greedily as much as fits a concatenated part, never inside a character (so
/// never inside a GSM escape pair or a UTF-16 surrogate pair). The parts joined are `text`; an
/// empty text is one empty part.
pub fn part_texts(text: &str) -> Vec<&str> {
    cut(text).1
}

/// The concatenation UDH of part `index` (from 1) of `total`: `05 00 03 reference total index`,
/// with an 8-bit reference. `total` and `index` saturate at 255.
pub fn concatenation_udh(reference: u8, total: u32, index: u32) -> [u8; 6] {
    let octet = |value: u32| u8::try_from(value).unwrap_or(u8::MAX);
    [0x05, 0x00, 0x03, reference, octet(total), octet(index)]
}

/// GSM 03.38 code of each character (extension characters as 0x1B + code); `None` if a
/// character is not in the alphabet.
pub fn gsm7_septets(text: &str) -> Option<Vec<u8>> {
    let mut septets = Vec::with_capacity(text.len());
    for c in text.chars() {
        if let Some(code) = basic_code(c) {
            septets.push(code);
        } else {
            let (code, _) = GSM7_EXTENSION.iter().find(|&&(_, ext)| ext == c)?;
            septets.extend([ESC, *code]);
        }
    }
    Some(septets)
}

/// Decodes unpacked septets, the inverse of [`gsm7_septets`], for receipts and tests.
///
/// Malformed input still decodes, as 3GPP TS 23.038 asks of a receiver: an escape to a code
/// the extension table lacks shows the basic-table character of that code, `ESC ESC` (reserved
/// for a further extension table) shows a space, and an octet above 0x7F or an escape at the
/// very end shows `?`.
pub fn decode_gsm7(septets: &[u8]) -> String {
    let mut text = String::with_capacity(septets.len());
    let mut septets = septets.iter().copied();
    while let Some(septet) = septets.next() {
        let c = match septet {
            ESC => match septets.next() {
                Some(ESC) => ' ',
                Some(code) => extension_char(code).unwrap_or_else(|| basic_char(code)),
                None => '?',
            },
            code => basic_char(code),
        };
        text.push(c);
    }
    text
}

/// The basic-table code of `c`, if it has one.
fn basic_code(c: char) -> Option<u8> {
    // Letters, digits and space sit at their ASCII codes in the basic table; answering them
    // first spares most characters of most texts the scan of the table.
    if c.is_ascii_alphanumeric() || c == ' ' {
        return u8::try_from(c).ok();
    }
    if c == '\u{1B}' {
        return None;
    }
    let index = GSM7_BASIC.iter().position(|&basic| basic == c)?;
    u8::try_from(index).ok()
}

/// The basic-table character of `code`, or `?` for an octet that is no septet.
fn basic_char(code: u8) -> char {
    GSM7_BASIC.get(usize::from(code)).copied().unwrap_or('?')
}

/// The extension-table character of `code`, if the table has one.
fn extension_char(code: u8) -> Option<char> {
    let (_, c) = GSM7_EXTENSION.iter().find(|&&(ext, _)| ext == code)?;
    Some(*c)
}

/// Septets `c` takes in GSM 7-bit (2 for an escape pair), or `None` outside the alphabet.
fn gsm7_len(c: char) -> Option<usize> {
    if basic_code(c).is_some() {
        Some(1)
    } else {
        GSM7_EXTENSION.iter().any(|&(_, ext)| ext == c).then_some(2)
    }
}

/// The encoding of `text`, as [`analyze`] picks it, and the text of each of its parts.
fn cut(text: &str) -> (Encoding, Vec<&str>) {
    if text.chars().all(|c| gsm7_len(c).is_some()) {
        let units = |c| gsm7_len(c).unwrap_or(2);
        (
            Encoding::Gsm7,
            cut_at(text, units, GSM_SINGLE, GSM_PER_PART),
        )
    } else {
        let parts = cut_at(text, char::len_utf16, UCS2_SINGLE, UCS2_PER_PART);
        (Encoding::Ucs2, parts)
    }
}

/// Cuts `text` as `encoding::count_parts` counts it: everything in one part if its `units` fit
/// `single`, else greedily at most `per_part` units per part, whole characters only.
fn cut_at(text: &str, units: fn(char) -> usize, single: u32, per_part: u32) -> Vec<&str> {
    let (single, per_part) = (single as usize, per_part as usize);
    if text.chars().map(units).sum::<usize>() <= single {
        return vec![text];
    }
    let mut parts = Vec::new();
    let mut start = 0;
    let mut fill = 0;
    for (at, c) in text.char_indices() {
        let len = units(c);
        if fill + len > per_part {
            parts.push(&text[start..at]);
            start = at;
            fill = 0;
        }
        fill += len;
    }
    parts.push(&text[start..]);
    parts
}

/// Builds the segments, prefixing each payload with a concatenation UDH when there are several.
fn with_headers(payloads: Vec<Vec<u8>>, data_coding: u8, reference: u8) -> Vec<Segment> {
    if payloads.len() <= 1 {
        return payloads
            .into_iter()
            .map(|payload| Segment {
                data_coding,
                udhi: false,
                short_message: payload,
            })
            .collect();
    }
    let total = u32::try_from(payloads.len()).unwrap_or(u32::MAX);
    payloads
        .into_iter()
        .zip(1..=total)
        .map(|(payload, index)| {
            let mut short_message = concatenation_udh(reference, total, index).to_vec();
            short_message.extend(payload);
            Segment {
                data_coding,
                udhi: true,
                short_message,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
