//! Fires and clear cases of `builtin/policy-variable-in-old-version`.

use why403_rule_policy_variable_in_old_version as _;

const RULE: &str = "policy-variable-in-old-version";

#[test]
fn fires() {
    insta::glob!("cases/fires/*.json", |path| {
        let out = why403_fixtures_source::testkit::fires(RULE, path);
        insta::assert_snapshot!(out);
    });
}

#[test]
fn clear() {
    insta::glob!("cases/clear/*.json", |path| {
        why403_fixtures_source::testkit::clear(RULE, path);
    });
}
