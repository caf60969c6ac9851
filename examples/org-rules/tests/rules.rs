//! Acme's rules with why403's test kit: every case under `tests/<rule>/cases/`, with the
//! reviewed snapshots in `tests/<rule>/snapshots/`, diagnosed with the built-in rules and
//! Acme's, as the `acme-why403` binary does.

use std::path::Path;

// Acme's rules and the built-in ones, linked into this test binary.
use acme_why403 as _;
use why403_rules as _;

#[test]
fn acmes_rules_fire_on_their_fires_cases_and_stay_silent_on_their_clear_cases() {
    let registry = why403_rules::registry();
    let acme: Vec<&str> = registry
        .rules()
        .iter()
        .map(|r| r.meta())
        .filter(|m| m.scope == "acme")
        .map(|m| m.id)
        .collect();
    assert_eq!(
        acme,
        [
            "data-lake-bucket-outside-vpc-endpoint",
            "scp-data-lake-tag-required"
        ],
        "Acme's rules are not all linked: `use acme_why403 as _;` must stay at the top of this file"
    );
    let mut failures = why403_fixtures_source::testkit::registry_problems("acme", &acme);
    for id in acme {
        let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(id);
        failures.extend(why403_fixtures_source::testkit::run_cases(id, &tests));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
