//! Fires and clear cases of `builtin/vpc-endpoint-policy-explicit-deny`.

use why403_rule_vpc_endpoint_policy_explicit_deny as _;

const RULE: &str = "vpc-endpoint-policy-explicit-deny";

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
