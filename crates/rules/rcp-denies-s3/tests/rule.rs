//! Fires and clear cases of `builtin/rcp-denies-s3`.

use why403_rule_rcp_denies_s3 as _;

const RULE: &str = "rcp-denies-s3";

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
