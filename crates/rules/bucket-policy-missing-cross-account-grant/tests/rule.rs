//! Fires and clear cases of `builtin/bucket-policy-missing-cross-account-grant`.

use why403_rule_bucket_policy_missing_cross_account_grant as _;

const RULE: &str = "bucket-policy-missing-cross-account-grant";

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
