//! Fires and clear cases of `builtin/bucket-policy-not-principal-deny`.

use why403_rule_bucket_policy_not_principal_deny as _;

const RULE: &str = "bucket-policy-not-principal-deny";

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
