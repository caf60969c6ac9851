//! `why403 eval`'s reader and evaluator (`why403_policy::batch`) on arbitrary bytes: line by
//! line through `BatchEvaluator::eval_line`, and whole through `eval_stream` (its chunk
//! reader, the BOM, lines that are not UTF-8). Every output line is one JSON value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use why403_policy::batch::{BatchEvaluator, eval_stream};

fn check_json_lines(out: &str) {
    for line in out.lines() {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            panic!("output line is not JSON ({e}): {line}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut evaluator = BatchEvaluator::new();
        let mut out = String::new();
        for (n, line) in text.split('\n').enumerate() {
            evaluator.eval_line(line, n as u64 + 1, &mut out);
        }
        check_json_lines(&out);
    }
    let mut out = Vec::new();
    if eval_stream(data, &mut out, 1).is_ok() {
        let out = String::from_utf8(out).expect("eval's output is UTF-8");
        check_json_lines(&out);
    }
});
