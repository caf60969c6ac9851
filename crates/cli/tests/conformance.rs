//! The repository's conformance corpus (`tests/conformance/cases.jsonl`: authorization cases
//! written from AWS's documentation, each with its source) through `why403 eval`: every
//! decision is the case's `expected`, and every case names its AWS source.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/conformance/cases.jsonl"
);

#[test]
fn every_case_of_the_corpus_gets_its_expected_decision() {
    let text = std::fs::read_to_string(CORPUS).unwrap_or_else(|e| panic!("{CORPUS}: {e}"));
    let cases: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}", i + 1)))
        .collect();
    assert!(cases.len() >= 200, "the corpus has {} cases", cases.len());
    let mut ids = std::collections::BTreeSet::new();
    for c in &cases {
        assert!(ids.insert(c["id"].to_string()), "case id {} twice", c["id"]);
    }
    for c in &cases {
        let url = c["source"]["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with("https://docs.aws.amazon.com/")
                || url.starts_with("https://repost.aws/"),
            "case {} has no AWS source: {url:?}",
            c["id"]
        );
    }
    let out = cargo_bin_cmd!("why403")
        .args(["eval", CORPUS])
        .output()
        .expect("why403 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(results.len(), cases.len(), "one result per case");
    let wrong: Vec<String> = cases
        .iter()
        .zip(&results)
        .filter(|(c, r)| {
            r["decision"] != c["expected"] || r.get("error").is_some_and(|e| !e.is_null())
        })
        .map(|(c, r)| format!("{}: expected {}, got {}", c["id"], c["expected"], r))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} cases disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
