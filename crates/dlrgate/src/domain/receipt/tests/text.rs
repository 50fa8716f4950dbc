//! Reading the Appendix B text: whole receipts, free-form fields, partial and broken texts.

use super::*;

#[test]
fn full_receipt_texts_are_read() {
    let appendix_b = DeliveryReceipt {
        message_id: s("0123456789"),
        stat: s("DELIVRD"),
        state: Some(Delivered),
        error: s("000"),
        submit_date: at(2005, [10, 31, 14, 23, 0]),
        done_date: at(2005, [10, 31, 14, 25, 0]),
        submitted: Some(1),
        delivered: Some(1),
        text: s("Hello, this is a test"),
        ..DeliveryReceipt::default()
    };
    let twelve_digits = DeliveryReceipt {
        submitted: Some(1),
        delivered: Some(1),
        submit_date: at(2024, [2, 13, 5, 51, 3]),
        done_date: at(2024, [2, 29, 23, 59, 59]),
        error: s("000"),
        text: s("Hi"),
        ..id_stat("1F04", "DELIVRD")
    };
    run([
        (
            "id:0123456789 sub:001 dlvrd:001 submit date:0510311423 done date:0510311425 \
             stat:DELIVRD err:000 text:Hello, this is a test",
            Parsed(Some(appendix_b.clone())),
        ),
        (
            "ID:0123456789 SUB:001 DLVRD:001 Submit Date:0510311423 DONE DATE:0510311425 \
             Stat:DELIVRD Err:000 Text:Hello, this is a test",
            Parsed(Some(appendix_b.clone())),
        ),
        (
            "id:  0123456789  sub: 001 dlvrd:   001 submit_date : 0510311423 done date:0510311425 \
             stat: delivrd err: 000 text:Hello, this is a test\0",
            Parsed(Some(appendix_b)),
        ),
        (
            "id:1F04 sub:001 dlvrd:001 submit date:240213055103 done date:240229235959 \
             stat:DELIVRD err:000 Text:Hi",
            Parsed(Some(twelve_digits)),
        ),
        (
            "id:7940,sub:001,dlvrd:000,stat:UNDELIV,err:001",
            Parsed(Some(DeliveryReceipt {
                submitted: Some(1),
                delivered: Some(0),
                error: s("001"),
                ..id_stat("7940", "UNDELIV")
            })),
        ),
    ]);
}

#[test]
fn free_form_fields_are_kept_as_sent() {
    run([
        ("id:1 stat:delivrd", Parsed(Some(id_stat("1", "DELIVRD")))),
        (
            "id:1 stat:ENROUTE err: 042 text:",
            Parsed(Some(DeliveryReceipt {
                error: s("042"),
                ..id_stat("1", "ENROUTE")
            })),
        ),
        (
            "id:1 stat:DELIVRD err:AOK",
            Parsed(Some(DeliveryReceipt {
                error: s("AOK"),
                ..id_stat("1", "DELIVRD")
            })),
        ),
        (
            "id:1 stat:UNDELIV err:001 text:call me stat:DELIVRD err:000 id:2",
            Parsed(Some(DeliveryReceipt {
                error: s("001"),
                text: s("call me stat:DELIVRD err:000 id:2"),
                ..id_stat("1", "UNDELIV")
            })),
        ),
        (
            "id:1 stat:DELIVRD text: Meet at 10:30: ok  ",
            Parsed(Some(DeliveryReceipt {
                text: s(" Meet at 10:30: ok  "),
                ..id_stat("1", "DELIVRD")
            })),
        ),
        (
            "id:ü-1 stat:BUFFRED text:Grüße",
            Parsed(Some(DeliveryReceipt {
                text: s("Grüße"),
                ..id_stat("ü-1", "BUFFRED")
            })),
        ),
        ("id:1 stat:FOO", Parsed(Some(id_stat("1", "FOO")))),
    ]);
}

#[test]
fn partial_and_broken_texts() {
    let no_dates = Some(id_stat("9", "DELIVRD"));
    run([
        (
            "id:abc stat:DELIVRD",
            Parsed(Some(id_stat("abc", "DELIVRD"))),
        ),
        (
            "stat:EXPIRED",
            Parsed(Some(DeliveryReceipt {
                stat: s("EXPIRED"),
                state: Some(Expired),
                ..DeliveryReceipt::default()
            })),
        ),
        (
            "id:42",
            Parsed(Some(DeliveryReceipt {
                message_id: s("42"),
                ..DeliveryReceipt::default()
            })),
        ),
        (
            "id:9 submit date:2413011200 stat:DELIVRD",
            Parsed(no_dates.clone()),
        ),
        (
            "id:9 done date:2402301200 stat:DELIVRD",
            Parsed(no_dates.clone()),
        ),
        (
            "id:9 done date:24021312 stat:DELIVRD",
            Parsed(no_dates.clone()),
        ),
        (
            "id:9 done date:2402131260 stat:DELIVRD",
            Parsed(no_dates.clone()),
        ),
        (
            "id:9 done date:24021312005x stat:DELIVRD",
            Parsed(no_dates.clone()),
        ),
        (
            "id:9 sub:abc dlvrd:-1 stat:DELIVRD",
            Parsed(no_dates.clone()),
        ),
        ("id:9 id:10 stat:DELIVRD stat:UNDELIV", Parsed(no_dates)),
        (
            "msgid:99 stat:DELIVRD",
            Parsed(Some(DeliveryReceipt {
                message_id: None,
                ..id_stat("9", "DELIVRD")
            })),
        ),
        ("", Parsed(None)),
        ("\0", Parsed(None)),
        ("hello world", Parsed(None)),
        (":::: id stat", Parsed(None)),
        ("id: stat: err:000", Parsed(None)),
        ("text:id:1 stat:DELIVRD", Parsed(None)),
        ("valid:1 status:DELIVRD", Parsed(None)),
    ]);
}
