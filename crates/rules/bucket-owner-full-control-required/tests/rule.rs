//! Fires and clear cases of `builtin/bucket-owner-full-control-required`.

use why403_rule_bucket_owner_full_control_required as _;

const RULE: &str = "bucket-owner-full-control-required";

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
