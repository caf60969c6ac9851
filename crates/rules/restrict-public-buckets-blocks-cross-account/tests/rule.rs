//! Fires and clear cases of `builtin/restrict-public-buckets-blocks-cross-account`.

use why403_rule_restrict_public_buckets_blocks_cross_account as _;

const RULE: &str = "restrict-public-buckets-blocks-cross-account";

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
