//! Fires and clear cases of `builtin/sse-c-blocked-on-bucket`.

use why403_rule_sse_c_blocked_on_bucket as _;

const RULE: &str = "sse-c-blocked-on-bucket";

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
