//! Fires and clear cases of `builtin/object-ownership-enforced-acl-header`.

use why403_rule_object_ownership_enforced_acl_header as _;

const RULE: &str = "object-ownership-enforced-acl-header";

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
