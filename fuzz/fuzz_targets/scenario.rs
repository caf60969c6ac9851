//! The scenario reader (`why403_fixtures_source::parse`, what `ScenarioFile` reads a file
//! with) on arbitrary text: a scenario or a located error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = why403_fixtures_source::parse("fuzz.json", text) {
        // Every error names the file and a place in it.
        let message = e.to_string();
        assert!(message.starts_with("fuzz.json"), "{message}");
    }
});
