//! Fires and clear cases of `builtin/expected-bucket-owner-mismatch`.

use why403_rule_expected_bucket_owner_mismatch as _;

const RULE: &str = "expected-bucket-owner-mismatch";

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
