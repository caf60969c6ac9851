//! Fires and clear cases of `builtin/vpc-endpoint-policy-missing-allow`.

use why403_rule_vpc_endpoint_policy_missing_allow as _;

const RULE: &str = "vpc-endpoint-policy-missing-allow";

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
