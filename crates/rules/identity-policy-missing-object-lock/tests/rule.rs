//! Fires and clear cases of `builtin/identity-policy-missing-object-lock`.

use why403_rule_identity_policy_missing_object_lock as _;

const RULE: &str = "identity-policy-missing-object-lock";

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
