//! Fires and clear cases of `builtin/block-public-acls-rejects-public-acl`.

use why403_rule_block_public_acls_rejects_public_acl as _;

const RULE: &str = "block-public-acls-rejects-public-acl";

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
