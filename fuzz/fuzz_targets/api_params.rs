//! seven.io parameters from a query string and a JSON or form body, then everything `/api/sms`
//! and `/api/status` read from them: never panics; bad input is an `ApiError`.
//! Input: a first line (`json` for a JSON body, anything else for a form), the query string on
//! the second line, the body after it.
#![no_main]

use std::sync::OnceLock;

use dlrgate::api::params::parse_params;
use dlrgate::api::sms_request::SmsRequest;
use dlrgate::config::{Overrides, Settings};
use dlrgate::domain::params::parse_message_ids;
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS
        .get_or_init(|| Settings::load(&Overrides::default()).expect("the default settings load"))
}

fuzz_target!(|data: &[u8]| {
    let mut lines = data.splitn(3, |&b| b == b'\n');
    let kind = lines.next().unwrap_or_default();
    let query = lines.next().map(String::from_utf8_lossy);
    let body = lines.next().unwrap_or_default();
    let content_type = (kind == b"json").then_some("application/json");
    let Ok(params) = parse_params(query.as_deref(), content_type, body) else {
        return;
    };
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("a valid time");
    let _ = SmsRequest::parse(&params, &settings().sms, now);
    if let Some(ids) = params.get("msg_id") {
        let _ = parse_message_ids(ids);
    }
    let _ = params.flag("json");
});
