//! Fires and clear cases of `builtin/cross-account-aws-managed-key`.

use why403_rule_cross_account_aws_managed_key as _;

const RULE: &str = "cross-account-aws-managed-key";

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
