//! Fires and clear cases of `builtin/kms-key-unusable-state`.

use why403_rule_kms_key_unusable_state as _;

const RULE: &str = "kms-key-unusable-state";

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
