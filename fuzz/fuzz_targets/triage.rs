//! `why403_triage::read_stream` on arbitrary bytes (CloudTrail in any wrapping, access logs,
//! gzip or not), the grouping that follows, and `parse_suppress` on the same bytes as text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use why403_triage::{Options, Progress, Triage, parse_suppress, read_stream};

fuzz_target!(|data: &[u8]| {
    let mut t = Triage::new(Options::default());
    read_stream(data, "fuzz.json", 0, &mut t, &Progress::default());
    let _ = t.finish();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_suppress(text);
    }
});
