//! `why403_errors::parse` on arbitrary text, then `explain` with the built-in rules and the
//! three renderings of the explanation.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use why403_core::Registry;

static REGISTRY: LazyLock<Registry> = LazyLock::new(why403_rules::registry);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = why403_errors::parse(text);
    let x = why403_errors::explain(&parsed, &REGISTRY);
    let _ = why403_errors::human(&parsed, &x);
    let _ = why403_errors::html(&parsed, &x);
    let _ = why403_errors::json(&parsed, &x);
});
