//! Table-driven and property tests of receipt reading, the public-status mapping and id
//! normalisation. Every table goes through [`check`]; `text` holds the reading cases and
//! `mapping` the TLV and status cases.

mod mapping;
mod text;

use super::IdFormat::{self, AsIs, Decimal, Hex};
use super::MessageState::{self, *};
use super::{DeliveryReceipt, ReceiptTime, normalize_id, public_status};
use crate::domain::status::DeliveryStatus as Public;
use Expect::{Format, Key, Merged, Parsed, State, Status};
use proptest::prelude::*;

/// TLVs merged over the receipt text; all absent unless set.
#[derive(Debug, Clone, Copy)]
struct Tlvs {
    id: Option<&'static str>,
    state: Option<u8>,
    network_error: Option<&'static [u8]>,
}

const NO_TLVS: Tlvs = Tlvs {
    id: None,
    state: None,
    network_error: None,
};

fn tlv_state(state: u8) -> Tlvs {
    Tlvs {
        state: Some(state),
        ..NO_TLVS
    }
}

fn tlv_error(state: u8, network_error: &'static [u8]) -> Tlvs {
    Tlvs {
        state: Some(state),
        network_error: Some(network_error),
        ..NO_TLVS
    }
}

/// What to run on the input and what it must give.
enum Expect {
    /// `DeliveryReceipt::parse_text`.
    Parsed(Option<DeliveryReceipt>),
    /// The text's receipt (an empty one when the text has none) with the TLVs merged over it.
    Merged(Tlvs, DeliveryReceipt),
    /// `public_status` of the text's receipt with the TLVs merged over it.
    Status(Tlvs, Public),
    /// `MessageState::from_stat`.
    State(Option<MessageState>),
    /// `normalize_id` in the given format.
    Key(IdFormat, &'static str),
    /// `IdFormat::from_str`.
    Format(Option<IdFormat>),
}

fn merged(input: &str, tlvs: Tlvs) -> DeliveryReceipt {
    DeliveryReceipt::parse_text(input)
        .unwrap_or_default()
        .with_tlvs(tlvs.id, tlvs.state, tlvs.network_error)
}

fn check(input: &str, expect: Expect) {
    match expect {
        Parsed(e) => assert_eq!(DeliveryReceipt::parse_text(input), e, "{input:?}"),
        Merged(tlvs, e) => assert_eq!(merged(input, tlvs), e, "{input:?} + {tlvs:?}"),
        Status(tlvs, e) => {
            let got = public_status(&merged(input, tlvs));
            assert_eq!(got, e, "{input:?} + {tlvs:?}");
        }
        State(e) => assert_eq!(MessageState::from_stat(input), e, "{input:?}"),
        Key(format, e) => assert_eq!(normalize_id(input, format), e, "{input:?} {format:?}"),
        Format(e) => assert_eq!(input.parse::<IdFormat>().ok(), e, "{input:?}"),
    }
}

fn run<const N: usize>(cases: [(&str, Expect); N]) {
    for (input, expect) in cases {
        check(input, expect);
    }
}

fn s(value: &str) -> Option<String> {
    Some(value.to_owned())
}

fn at(year: u16, [month, day, hour, minute, second]: [u8; 5]) -> Option<ReceiptTime> {
    Some(ReceiptTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// A receipt with only an id and a stat (and the state the stat stands for).
fn id_stat(id: &str, stat: &str) -> DeliveryReceipt {
    DeliveryReceipt {
        message_id: s(id),
        stat: s(stat),
        state: MessageState::from_stat(stat),
        ..DeliveryReceipt::default()
    }
}

#[test]
fn ids_normalise_to_one_key_across_formats() {
    let u128_max = "340282366920938463463374607431768211455";
    run([
        ("1A", Key(Hex, "26")),
        ("1a", Key(Hex, "26")),
        ("0001a", Key(Hex, "26")),
        ("26", Key(Decimal, "26")),
        ("00026", Key(Decimal, "26")),
        (" 26\0", Key(Decimal, "26")),
        ("1F04", Key(Hex, "7940")),
        ("7940", Key(Decimal, "7940")),
        ("0", Key(Hex, "0")),
        ("000", Key(Decimal, "0")),
        ("ffffffffffffffffffffffffffffffff", Key(Hex, u128_max)),
        (u128_max, Key(Decimal, u128_max)),
        (
            "0001ffffffffffffffffffffffffffffffff",
            Key(Hex, "1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
        ),
        (
            "0999999999999999999999999999999999999999",
            Key(Decimal, "999999999999999999999999999999999999999"),
        ),
        ("", Key(Hex, "")),
        ("  ", Key(Decimal, "")),
        ("+1A", Key(Hex, "+1A")),
        ("-26", Key(Decimal, "-26")),
        ("1F04", Key(Decimal, "1F04")),
        (" abc-123 ", Key(Hex, "abc-123")),
        (" 0026 ", Key(AsIs, "0026")),
        ("Ab-01\0", Key(AsIs, "Ab-01")),
        ("hex", Format(Some(Hex))),
        (" HEX ", Format(Some(Hex))),
        ("decimal", Format(Some(Decimal))),
        ("as-is", Format(Some(AsIs))),
        ("asis", Format(Some(AsIs))),
        ("octal", Format(None)),
    ]);
}

/// Pieces that look like receipt text, so generated inputs reach the field readers.
fn receipt_like() -> impl Strategy<Value = String> {
    let pieces = [
        "id:",
        "ID: ",
        "sub:",
        "dlvrd:",
        "submit date:",
        "done_date :",
        "stat:",
        "err:",
        "text:",
        "Text:",
        " ",
        "  ",
        ":",
        ",",
        "\0",
        "0",
        "1",
        "12",
        "2402131200",
        "240213120059",
        "DELIVRD",
        "buffred",
        "AOK",
        "ü",
        "x",
    ];
    proptest::collection::vec(proptest::sample::select(pieces.to_vec()), 0..24)
        .prop_map(|pieces| pieces.concat())
}

fn any_format() -> impl Strategy<Value = IdFormat> {
    proptest::sample::select(vec![Hex, Decimal, AsIs])
}

proptest! {
    #[test]
    fn reading_never_panics(
        raw in prop_oneof![any::<String>(), receipt_like()],
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        id in proptest::option::of(any::<String>()),
        state in proptest::option::of(any::<u8>()),
        network_error in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6)),
    ) {
        let from_bytes = DeliveryReceipt::parse_text(&String::from_utf8_lossy(&bytes));
        let receipt = DeliveryReceipt::parse_text(&raw).or(from_bytes).unwrap_or_default();
        let merged = receipt.with_tlvs(id.as_deref(), state, network_error.as_deref());
        let _ = public_status(&merged);
    }

    #[test]
    fn nothing_after_text_is_read_as_a_field(message in "\\PC*") {
        let receipt = DeliveryReceipt::parse_text(&format!("id:7 stat:UNDELIV text:{message}"));
        prop_assert_eq!(receipt, Some(DeliveryReceipt {
            text: (!message.is_empty()).then(|| message.clone()),
            ..id_stat("7", "UNDELIV")
        }));
    }

    #[test]
    fn normalising_a_key_again_changes_nothing(raw in prop_oneof![any::<String>(), "[0-9a-fA-F \0]{0,45}"], format in any_format()) {
        let key = normalize_id(&raw, format);
        if format == Hex {
            prop_assert_eq!(normalize_id(&key, Decimal), key);
        } else {
            prop_assert_eq!(normalize_id(&key, format), key);
        }
    }

    #[test]
    fn hex_and_decimal_ids_of_one_number_match(value in any::<u128>(), zeros in 0usize..4, upper in any::<bool>()) {
        let padding = "0".repeat(zeros);
        let hex = if upper { format!("{padding}{value:X}") } else { format!("{padding}{value:x}") };
        let decimal = format!("{padding}{value}");
        prop_assert_eq!(normalize_id(&hex, Hex), normalize_id(&decimal, Decimal));
    }
}
