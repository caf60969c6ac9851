//! Fires and clear cases of `builtin/bucket-acl-missing-write`.

use why403_rule_bucket_acl_missing_write as _;

const RULE: &str = "bucket-acl-missing-write";

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
