//! Every built-in rule's fires and clear cases (`crates/rules/<id>/tests/cases/`), with their
//! reviewed snapshots (`tests/snapshots/`), in one test binary: the number of linked test
//! binaries does not grow with the number of rules. `WHY403_RULE=<id>` runs one rule's cases;
//! `INSTA_UPDATE=always` writes new snapshots to review.

use std::path::Path;

#[test]
fn every_rule_fires_on_its_fires_cases_and_stays_silent_on_its_clear_cases() {
    let only = std::env::var("WHY403_RULE").ok();
    let registry = why403_rules::registry();
    let mut ran = 0;
    let mut failures = Vec::new();
    for rule in registry.rules() {
        let id = rule.meta().id;
        if only.as_deref().is_some_and(|o| o != id) {
            continue;
        }
        let tests = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../rules")
            .join(id)
            .join("tests");
        failures.extend(why403_fixtures_source::testkit::run_cases(id, &tests));
        ran += 1;
    }
    assert!(ran > 0, "no rule `{}`", only.unwrap_or_default());
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
