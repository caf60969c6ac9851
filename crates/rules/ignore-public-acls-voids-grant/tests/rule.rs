//! Fires and clear cases of `builtin/ignore-public-acls-voids-grant`.

use why403_rule_ignore_public_acls_voids_grant as _;

const RULE: &str = "ignore-public-acls-voids-grant";

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
