//! Delivery reports from upstream gateways (Kannel's `%d`/`%A`, Jasmin's level, status and
//! err, named statuses of the generic JSON form): never panic; unknown values are errors.
//! Input: lines of a type or level, an answer or status, and an error code.
#![no_main]

use dlrgate::domain::dlr::{jasmin, kannel, named_status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let (first, second, err) = (lines.next(), lines.next(), lines.next());
    let first = first.unwrap_or_default();
    let _ = kannel(first, second);
    let _ = jasmin(first, second.unwrap_or_default(), err);
    let _ = named_status(second.unwrap_or_default(), err);
});
