//! Fires and clear cases of `builtin/requester-pays-header-missing`.

use why403_rule_requester_pays_header_missing as _;

const RULE: &str = "requester-pays-header-missing";

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
