//! `why403 rules`: the table of registered rules sorted by id, one rule's documentation, and
//! an error for an unknown id.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

#[test]
fn lists_the_rules_sorted_by_id() {
    let out = cargo_bin_cmd!("why403")
        .arg("rules")
        .assert()
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("ID ") && header.contains("LAYER") && header.ends_with("SUMMARY"),
        "{text}"
    );
    let ids: Vec<&str> = lines
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert!(
        ids.contains(&"builtin/bucket-policy-explicit-deny"),
        "{text}"
    );
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
}

#[test]
fn prints_a_rules_documentation() {
    cargo_bin_cmd!("why403")
        .args(["rules", "bucket-policy-explicit-deny"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("# builtin/bucket-policy-explicit-deny\n")
                .and(predicate::str::contains("## Cause")),
        );
}

#[test]
fn an_unknown_rule_is_an_error() {
    cargo_bin_cmd!("why403")
        .args(["rules", "nope"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("no rule `nope`"));
}
