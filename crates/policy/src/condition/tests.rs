//! Condition operators against docs/aws-model.md#condition-blocks (block evaluation), docs/aws-model.md#condition-operators (operators) and
//! §D.4 (policy variables). Every test names the AWS rule it checks in an `// AWS:` line.
//!
//! Conditions are built the way the evaluator sees them: by parsing a small policy with
//! `Policy::parse` and taking the compiled `Condition`s of its only statement.

use serde_json::{Value, json};

use super::*;
use crate::policy::{Policy, PolicyKind};

/// The condition key most tests use.
const K: &str = "test:Key";

const V2012: Option<&str> = Some("2012-10-17");

/// Every base operator name, for the tests that sweep all of them.
const ALL_BASE: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

const NEGATED: &[&str] = &[
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
    "ArnNotEquals",
    "ArnNotLike",
];

/// A policy value that is valid for the operator, so that only the key's absence decides.
fn valid_value(op: &str) -> Value {
    match Operator::parse(op).unwrap().base.family() {
        Family::String => json!("x"),
        Family::Numeric => json!("1"),
        Family::Date => json!("2024-01-01T00:00:00Z"),
        Family::Bool => json!("true"),
        Family::Binary => json!("aGVsbG8="),
        Family::Ip => json!("10.0.0.0/8"),
        Family::Arn => json!("arn:aws:s3:::bucket/*"),
        Family::Null => json!("false"),
    }
}

/// Parses a policy whose only statement has `condition` as its `Condition` block.
fn parse_with(version: Option<&str>, condition: Value) -> Policy {
    let mut doc = json!({
        "Statement": [{
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": condition,
        }]
    });
    if let Some(v) = version {
        doc["Version"] = json!(v);
    }
    let text = doc.to_string();
    Policy::parse("test", PolicyKind::Identity, &text)
        .unwrap_or_else(|e| panic!("test policy must parse: {e}\n{text}"))
}

/// One condition under an explicit policy version.
fn cond_in(version: Option<&str>, op: &str, key: &str, values: Value) -> Condition {
    let mut policy = parse_with(version, json!({ op: { key: values } }));
    assert_eq!(policy.statements[0].conditions.len(), 1);
    policy.statements.remove(0).conditions.remove(0)
}

/// One condition under Version 2012-10-17.
fn cond(op: &str, key: &str, values: Value) -> Condition {
    cond_in(V2012, op, key, values)
}

/// A request with single-valued keys.
fn ctx(pairs: &[(&str, &str)]) -> RequestContext {
    let mut c = RequestContext::new();
    for (k, v) in pairs {
        c.set(k, *v);
    }
    c
}

/// A request with one multivalued key.
fn multi(key: &str, values: &[&str]) -> RequestContext {
    let mut c = RequestContext::new();
    c.insert(key, values.iter().map(|v| (*v).to_owned()).collect(), true);
    c
}

/// `op` with `values` on key `K`, against a request where `K` is `request` (or absent).
fn run(op: &str, values: Value, request: Option<&str>) -> CondResult {
    let c = cond(op, K, values);
    match request {
        Some(v) => c.evaluate(&ctx(&[(K, v)])),
        None => c.evaluate(&RequestContext::new()),
    }
}

fn holds(op: &str, values: Value, request: Option<&str>) -> bool {
    run(op, values, request).holds
}

// ---------------------------------------------------------------------------------------
// §D.2 Condition block evaluation
// ---------------------------------------------------------------------------------------

#[test]
fn block_is_one_condition_per_operator_and_key_all_anded() {
    // AWS: all operators in a block AND; all keys under one operator AND.
    let policy = parse_with(
        V2012,
        json!({
            "StringEquals": { "s3:x-amz-acl": "private", "s3:x-amz-storage-class": "STANDARD" },
            "NumericLessThan": { "s3:TlsVersion": "1.4" },
        }),
    );
    let conds = &policy.statements[0].conditions;
    assert_eq!(conds.len(), 3);
    let all = |c: &RequestContext| conds.iter().all(|x| x.evaluate(c).holds);
    let full = ctx(&[
        ("s3:x-amz-acl", "private"),
        ("s3:x-amz-storage-class", "STANDARD"),
        ("s3:TlsVersion", "1.3"),
    ]);
    assert!(all(&full));
    let one_key_wrong = ctx(&[
        ("s3:x-amz-acl", "private"),
        ("s3:x-amz-storage-class", "GLACIER"),
        ("s3:TlsVersion", "1.3"),
    ]);
    assert!(!all(&one_key_wrong));
    let other_op_wrong = ctx(&[
        ("s3:x-amz-acl", "private"),
        ("s3:x-amz-storage-class", "STANDARD"),
        ("s3:TlsVersion", "1.4"),
    ]);
    assert!(!all(&other_op_wrong));
}

#[test]
fn several_values_for_one_key_are_ored() {
    // AWS: multiple values for one key OR.
    let v = json!(["private", "bucket-owner-full-control"]);
    let r = run("StringEquals", v.clone(), Some("bucket-owner-full-control"));
    assert_eq!(
        r,
        CondResult {
            holds: true,
            why: CondWhy::Matched(1)
        }
    );
    assert!(holds("StringEquals", v.clone(), Some("private")));
    assert_eq!(
        run("StringEquals", v, Some("public-read")),
        CondResult {
            holds: false,
            why: CondWhy::NoMatch
        }
    );
}

#[test]
fn negated_operators_with_several_values_are_nor() {
    // AWS: for negated operators the values combine as NOR ("matches none").
    let cases: &[(&str, Value, &str, &str)] = &[
        ("StringNotEquals", json!(["a", "b"]), "b", "c"),
        ("StringNotEqualsIgnoreCase", json!(["a", "b"]), "B", "c"),
        ("StringNotLike", json!(["a*", "b*"]), "bx", "cx"),
        ("NumericNotEquals", json!(["1", "2"]), "2", "3"),
        (
            "DateNotEquals",
            json!(["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"]),
            "2024-02-01T00:00:00Z",
            "2024-03-01T00:00:00Z",
        ),
        (
            "NotIpAddress",
            json!(["10.0.0.0/8", "192.168.0.0/16"]),
            "192.168.1.1",
            "172.16.0.1",
        ),
        (
            "ArnNotEquals",
            json!(["arn:aws:s3:::a", "arn:aws:s3:::b"]),
            "arn:aws:s3:::b",
            "arn:aws:s3:::c",
        ),
        (
            "ArnNotLike",
            json!(["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"]),
            "arn:aws:s3:::b/k",
            "arn:aws:s3:::c/k",
        ),
    ];
    for (op, values, matches_second, matches_none) in cases {
        let r = run(op, values.clone(), Some(*matches_second));
        assert_eq!(
            r,
            CondResult {
                holds: false,
                why: CondWhy::Matched(1)
            },
            "{op} {matches_second}"
        );
        let r = run(op, values.clone(), Some(*matches_none));
        assert_eq!(
            r,
            CondResult {
                holds: true,
                why: CondWhy::NoMatch
            },
            "{op} {matches_none}"
        );
    }
}

#[test]
fn condition_key_names_are_case_insensitive() {
    // AWS: condition key names are case-insensitive.
    let c = cond("StringEquals", "S3:X-AMZ-ACL", json!("private"));
    assert!(c.evaluate(&ctx(&[("s3:x-amz-acl", "private")])).holds);
    assert!(c.evaluate(&ctx(&[("s3:X-Amz-Acl", "private")])).holds);
    let c = cond("StringEquals", "s3:x-amz-acl", json!("private"));
    assert!(c.evaluate(&ctx(&[("S3:X-AMZ-ACL", "private")])).holds);
}

#[test]
fn tag_style_key_names_match_case_insensitively() {
    // AWS: tag-style keys (`aws:ResourceTag/K`, `kms:EncryptionContext:K`) match the key name
    // case-insensitively.
    let c = cond("StringEquals", "aws:ResourceTag/Project", json!("apollo"));
    assert!(
        c.evaluate(&ctx(&[("aws:resourcetag/project", "apollo")]))
            .holds
    );
    assert!(
        c.evaluate(&ctx(&[("AWS:RESOURCETAG/PROJECT", "apollo")]))
            .holds
    );
    let c = cond(
        "StringEquals",
        "kms:EncryptionContext:Department",
        json!("10"),
    );
    assert!(
        c.evaluate(&ctx(&[("kms:encryptioncontext:department", "10")]))
            .holds
    );
}

#[test]
fn value_case_sensitivity_depends_on_the_operator() {
    // AWS: key names are case-insensitive, value case-sensitivity depends on the operator.
    assert!(!holds("StringEquals", json!("Private"), Some("private")));
    assert!(holds(
        "StringEqualsIgnoreCase",
        json!("Private"),
        Some("private")
    ));
    assert!(!holds("StringLike", json!("Pri*"), Some("private")));
    assert!(!holds(
        "ArnEquals",
        json!("arn:aws:s3:::Bucket"),
        Some("arn:aws:s3:::bucket")
    ));
}

#[test]
fn missing_key_makes_positive_operators_false() {
    // AWS: missing key => every (non-negated, non-IfExists) operator returns false.
    for op in ALL_BASE
        .iter()
        .filter(|op| !NEGATED.contains(*op) && **op != "Null")
    {
        let r = run(op, valid_value(op), None);
        assert_eq!(
            r,
            CondResult {
                holds: false,
                why: CondWhy::KeyAbsent
            },
            "{op}"
        );
    }
}

#[test]
fn missing_key_makes_negated_operators_true() {
    // AWS: missing key => negated operators (StringNot…, NumericNot…, DateNot…, ArnNot…,
    // NotIpAddress) are true.
    for op in NEGATED {
        let r = run(op, valid_value(op), None);
        assert_eq!(
            r,
            CondResult {
                holds: true,
                why: CondWhy::KeyAbsent
            },
            "{op}"
        );
    }
}

#[test]
fn missing_key_makes_if_exists_true() {
    // AWS: `…IfExists` returns true when the key is missing (for every operator but Null).
    for op in ALL_BASE.iter().filter(|op| **op != "Null") {
        let name = format!("{op}IfExists");
        let r = run(&name, valid_value(op), None);
        assert_eq!(
            r,
            CondResult {
                holds: true,
                why: CondWhy::KeyAbsent
            },
            "{name}"
        );
    }
}

#[test]
fn if_exists_behaves_as_the_base_operator_when_the_key_is_present() {
    // AWS: `…IfExists`: key absent => true; else as base operator.
    assert!(holds(
        "StringEqualsIfExists",
        json!("private"),
        Some("private")
    ));
    assert!(!holds(
        "StringEqualsIfExists",
        json!("private"),
        Some("public-read")
    ));
    assert!(holds("NumericLessThanIfExists", json!("10"), Some("9")));
    assert!(!holds("NumericLessThanIfExists", json!("10"), Some("10")));
    assert!(!holds(
        "IpAddressIfExists",
        json!("10.0.0.0/8"),
        Some("11.0.0.1")
    ));
    assert!(!holds("StringNotEqualsIfExists", json!("a"), Some("a")));
    assert!(holds("StringNotEqualsIfExists", json!("a"), Some("b")));
    // A present value of the wrong type is not "absent".
    assert!(!holds("NumericLessThanIfExists", json!("10"), Some("nine")));
}

#[test]
fn deny_with_negated_operator_fires_on_missing_key() {
    // AWS: Deny + negated operator fires on missing keys (the condition holds).
    let r = run("StringNotEquals", json!("aws:kms"), None);
    assert_eq!(
        r,
        CondResult {
            holds: true,
            why: CondWhy::KeyAbsent
        }
    );
    assert!(!holds("StringNotEquals", json!("aws:kms"), Some("aws:kms")));
    assert!(holds("StringNotEquals", json!("aws:kms"), Some("AES256")));
}

#[test]
fn knowledge_center_kms_key_deny_fires_when_the_header_is_absent() {
    // AWS: Deny + negated `…IfExists` also fires on missing keys: `StringNotLikeIfExists` is
    // true when `s3:x-amz-server-side-encryption-aws-kms-key-id` is absent, so the Deny applies.
    let text = r#"{
      "Version": "2012-10-17",
      "Statement": [{
        "Sid": "DenyWrongKmsKey",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition": {
          "StringNotLikeIfExists": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id":
              "arn:aws:kms:us-east-1:111122223333:key/KEY-ID"
          }
        }
      }]
    }"#;
    let policy = Policy::parse("bucket policy", PolicyKind::Resource, text).unwrap();
    let c = &policy.statements[0].conditions[0];
    assert_eq!(c.op.to_string(), "StringNotLikeIfExists");
    let key = "s3:x-amz-server-side-encryption-aws-kms-key-id";

    let absent = c.evaluate(&RequestContext::new());
    assert_eq!(
        absent,
        CondResult {
            holds: true,
            why: CondWhy::KeyAbsent
        },
        "absent: Deny fires"
    );

    let right = c.evaluate(&ctx(&[(
        key,
        "arn:aws:kms:us-east-1:111122223333:key/KEY-ID",
    )]));
    assert_eq!(
        right,
        CondResult {
            holds: false,
            why: CondWhy::Matched(0)
        },
        "right key: no Deny"
    );

    let wrong = c.evaluate(&ctx(&[(
        key,
        "arn:aws:kms:us-east-1:111122223333:key/OTHER",
    )]));
    assert_eq!(
        wrong,
        CondResult {
            holds: true,
            why: CondWhy::NoMatch
        },
        "wrong key: Deny fires"
    );
}

#[test]
fn key_present_with_no_values_counts_as_empty() {
    // AWS: missing key rules apply to an empty value set too (reported as KeyEmpty).
    let c = cond("StringEquals", K, json!("x"));
    let empty = multi(K, &[]);
    assert_eq!(
        c.evaluate(&empty),
        CondResult {
            holds: false,
            why: CondWhy::KeyEmpty
        }
    );
    let c = cond("StringNotEquals", K, json!("x"));
    assert_eq!(
        c.evaluate(&empty),
        CondResult {
            holds: true,
            why: CondWhy::KeyEmpty
        }
    );
}

#[test]
fn several_request_values_without_set_operator_match_if_any_matches() {
    // AWS: a positive operator matches when the request value matches any policy value; for a
    // multivalued key used without a set operator, any request value may match.
    let c = cond("StringEquals", K, json!("b"));
    assert!(c.evaluate(&multi(K, &["a", "b"])).holds);
    assert!(!c.evaluate(&multi(K, &["a", "c"])).holds);
    let c = cond("StringNotEquals", K, json!("b"));
    assert!(!c.evaluate(&multi(K, &["a", "b"])).holds);
    assert!(c.evaluate(&multi(K, &["a", "c"])).holds);
}

// ---------------------------------------------------------------------------------------
// §D.3 String operators
// ---------------------------------------------------------------------------------------

#[test]
fn string_equals_is_exact_and_case_sensitive() {
    // AWS: StringEquals = exact, case-sensitive.
    assert!(holds("StringEquals", json!("AES256"), Some("AES256")));
    assert!(!holds("StringEquals", json!("AES256"), Some("aes256")));
    assert!(!holds("StringEquals", json!("AES256"), Some("AES256 ")));
    assert!(!holds("StringEquals", json!("AES256"), Some("")));
    assert!(holds("StringEquals", json!(""), Some("")));
}

#[test]
fn string_equals_gives_wildcards_no_meaning() {
    // AWS: StringEquals has no wildcard meaning: `*` and `?` are literal characters.
    assert!(!holds("StringEquals", json!("home/*"), Some("home/alice")));
    assert!(holds("StringEquals", json!("home/*"), Some("home/*")));
    assert!(!holds("StringEquals", json!("a?c"), Some("abc")));
    assert!(holds("StringEquals", json!("a?c"), Some("a?c")));
}

#[test]
fn string_not_equals_is_the_negation_of_string_equals() {
    // AWS: StringNotEquals = negated exact, case-sensitive match.
    assert!(!holds("StringNotEquals", json!("AES256"), Some("AES256")));
    assert!(holds("StringNotEquals", json!("AES256"), Some("aes256")));
    assert!(holds("StringNotEquals", json!("a*"), Some("ab")));
}

#[test]
fn string_equals_ignore_case_folds_case() {
    // AWS: StringEqualsIgnoreCase folds case.
    assert!(holds(
        "StringEqualsIgnoreCase",
        json!("Private"),
        Some("PRIVATE")
    ));
    assert!(holds(
        "StringEqualsIgnoreCase",
        json!("ÄRGER"),
        Some("ärger")
    ));
    assert!(!holds(
        "StringEqualsIgnoreCase",
        json!("Private"),
        Some("privat")
    ));
    assert!(!holds("StringEqualsIgnoreCase", json!("a*"), Some("AB")));
}

#[test]
fn string_not_equals_ignore_case_folds_case() {
    // AWS: StringNotEqualsIgnoreCase folds case, negated.
    assert!(!holds(
        "StringNotEqualsIgnoreCase",
        json!("Private"),
        Some("PRIVATE")
    ));
    assert!(holds(
        "StringNotEqualsIgnoreCase",
        json!("Private"),
        Some("public")
    ));
}

#[test]
fn string_like_star_is_any_run_and_question_one_char() {
    // AWS: StringLike = case-sensitive glob with `*` (any run) and `?` (one char) anywhere.
    let like = |p: &str, v: &str| holds("StringLike", json!(p), Some(v));
    assert!(like("home/*", "home/"));
    assert!(like("home/*", "home/alice/docs/a.txt"));
    assert!(!like("home/*", "home"));
    assert!(like("*.txt", "a/b.txt"));
    assert!(like("a*b*c", "aXXbYYc"));
    assert!(!like("a*b*c", "aXXbYY"));
    assert!(like("f?o", "foo"));
    assert!(like("f?o", "fäo"));
    assert!(!like("f?o", "fo"));
    assert!(!like("f?o", "fooo"));
    assert!(like("*", ""));
    assert!(like("??", "ab"));
    assert!(!like("??", "a"));
    assert!(!like("Home/*", "home/alice"));
}

#[test]
fn string_not_like_is_the_negation_of_string_like() {
    // AWS: StringNotLike = negated case-sensitive glob.
    assert!(!holds("StringNotLike", json!("home/*"), Some("home/alice")));
    assert!(holds("StringNotLike", json!("home/*"), Some("other/alice")));
    assert!(holds("StringNotLike", json!("home/*"), Some("HOME/alice")));
}

// ---------------------------------------------------------------------------------------
// §D.3 Numeric operators
// ---------------------------------------------------------------------------------------

#[test]
fn numeric_equals_compares_integers_and_decimals() {
    // AWS: Numeric = integer/decimal compare; values often given as strings.
    assert!(holds("NumericEquals", json!("10"), Some("10")));
    assert!(holds("NumericEquals", json!("10"), Some("10.0")));
    assert!(holds("NumericEquals", json!(10), Some("10")));
    assert!(holds("NumericEquals", json!(1.5), Some("1.50")));
    assert!(holds("NumericEquals", json!("-3"), Some("-3")));
    assert!(!holds("NumericEquals", json!("10"), Some("11")));
}

#[test]
fn numeric_not_equals() {
    // AWS: NumericNotEquals = negated numeric equality.
    assert!(!holds("NumericNotEquals", json!("10"), Some("10.0")));
    assert!(holds("NumericNotEquals", json!("10"), Some("9")));
}

#[test]
fn numeric_less_than() {
    // AWS: NumericLessThan: request value < policy value.
    assert!(holds("NumericLessThan", json!("10"), Some("9")));
    assert!(holds("NumericLessThan", json!("10"), Some("9.99")));
    assert!(!holds("NumericLessThan", json!("10"), Some("10")));
    assert!(!holds("NumericLessThan", json!("10"), Some("11")));
    assert!(holds("NumericLessThan", json!("0"), Some("-1")));
}

#[test]
fn numeric_less_than_equals() {
    // AWS: NumericLessThanEquals: request value <= policy value.
    assert!(holds("NumericLessThanEquals", json!("10"), Some("9")));
    assert!(holds("NumericLessThanEquals", json!("10"), Some("10")));
    assert!(!holds("NumericLessThanEquals", json!("10"), Some("10.5")));
}

#[test]
fn numeric_greater_than() {
    // AWS: NumericGreaterThan: request value > policy value.
    assert!(holds("NumericGreaterThan", json!("1.2"), Some("1.3")));
    assert!(!holds("NumericGreaterThan", json!("1.2"), Some("1.2")));
    assert!(!holds("NumericGreaterThan", json!("1.2"), Some("1.1")));
}

#[test]
fn numeric_greater_than_equals() {
    // AWS: NumericGreaterThanEquals: request value >= policy value.
    assert!(holds("NumericGreaterThanEquals", json!("1.2"), Some("1.2")));
    assert!(holds("NumericGreaterThanEquals", json!("1.2"), Some("2")));
    assert!(!holds(
        "NumericGreaterThanEquals",
        json!("1.2"),
        Some("1.19")
    ));
}

// ---------------------------------------------------------------------------------------
// §D.3 Date operators
// ---------------------------------------------------------------------------------------

/// The same instant, 2024-01-01T00:00:00Z, in every form AWS accepts.
const NEW_YEAR_FORMS: &[&str] = &[
    "2024-01-01T00:00:00Z",
    "2024-01-01T02:00:00+02:00",
    "2023-12-31T19:00:00-05:00",
    "2024-01-01T00:00:00.000Z",
    "2024-01-01T00:00:00",
    "2024-01-01",
    "1704067200",
];

#[test]
fn date_equals_accepts_iso_offsets_date_only_and_epoch() {
    // AWS: Date operators take ISO-8601 (W3C profiles: offsets, date-only) or epoch seconds.
    for policy in NEW_YEAR_FORMS {
        for request in NEW_YEAR_FORMS {
            assert!(
                holds("DateEquals", json!(policy), Some(*request)),
                "{policy} vs {request}"
            );
        }
    }
    assert!(holds(
        "DateEquals",
        json!(1_704_067_200),
        Some("2024-01-01T00:00:00Z")
    ));
    assert!(!holds(
        "DateEquals",
        json!("2024-01-01"),
        Some("2024-01-01T00:00:01Z")
    ));
}

#[test]
fn date_not_equals() {
    // AWS: DateNotEquals = negated date equality.
    assert!(!holds(
        "DateNotEquals",
        json!("2024-01-01"),
        Some("1704067200")
    ));
    assert!(holds(
        "DateNotEquals",
        json!("2024-01-01"),
        Some("2024-01-02")
    ));
}

#[test]
fn date_less_than() {
    // AWS: DateLessThan: request date before policy date.
    let p = json!("2024-01-01T00:00:00Z");
    assert!(holds(
        "DateLessThan",
        p.clone(),
        Some("2023-12-31T23:59:59Z")
    ));
    assert!(holds("DateLessThan", p.clone(), Some("1704067199")));
    assert!(holds(
        "DateLessThan",
        p.clone(),
        Some("2024-01-01T00:59:59+01:00")
    ));
    assert!(!holds(
        "DateLessThan",
        p.clone(),
        Some("2024-01-01T00:00:00Z")
    ));
    assert!(!holds("DateLessThan", p, Some("2024-06-01")));
}

#[test]
fn date_less_than_equals() {
    // AWS: DateLessThanEquals: request date at or before policy date.
    let p = json!("2024-01-01");
    assert!(holds(
        "DateLessThanEquals",
        p.clone(),
        Some("2024-01-01T00:00:00Z")
    ));
    assert!(holds("DateLessThanEquals", p.clone(), Some("1704067199")));
    assert!(!holds(
        "DateLessThanEquals",
        p,
        Some("2024-01-01T00:00:01Z")
    ));
}

#[test]
fn date_greater_than() {
    // AWS: DateGreaterThan: request date after policy date.
    let p = json!("1704067200");
    assert!(holds(
        "DateGreaterThan",
        p.clone(),
        Some("2024-01-01T00:00:01Z")
    ));
    assert!(holds(
        "DateGreaterThan",
        p.clone(),
        Some("2024-01-01T01:00:00+00:30")
    ));
    assert!(!holds("DateGreaterThan", p.clone(), Some("2024-01-01")));
    assert!(!holds("DateGreaterThan", p, Some("2023-12-31T23:59:59Z")));
}

#[test]
fn date_greater_than_equals() {
    // AWS: DateGreaterThanEquals: request date at or after policy date.
    let p = json!("2024-01-01T00:00:00Z");
    assert!(holds(
        "DateGreaterThanEquals",
        p.clone(),
        Some("2024-01-01")
    ));
    assert!(holds(
        "DateGreaterThanEquals",
        p.clone(),
        Some("1704067201")
    ));
    assert!(!holds(
        "DateGreaterThanEquals",
        p,
        Some("2023-12-31T23:59:59.999Z")
    ));
}

// ---------------------------------------------------------------------------------------
// §D.3 Bool, Binary, IP
// ---------------------------------------------------------------------------------------

#[test]
fn bool_compares_true_and_false() {
    // AWS: Bool takes "true"/"false".
    assert!(holds("Bool", json!("true"), Some("true")));
    assert!(holds("Bool", json!(true), Some("true")));
    assert!(holds("Bool", json!("false"), Some("false")));
    assert!(holds("Bool", json!(false), Some("false")));
    assert!(!holds("Bool", json!("true"), Some("false")));
    assert!(!holds("Bool", json!("false"), Some("true")));
    assert!(!holds("Bool", json!("true"), Some("yes")));
}

#[test]
fn bool_false_on_a_missing_key_is_false() {
    // AWS: missing key => Bool is false (so `Deny` + `Bool aws:SecureTransport false` does not
    // fire when the key is absent).
    let r = run("Bool", json!("false"), None);
    assert_eq!(
        r,
        CondResult {
            holds: false,
            why: CondWhy::KeyAbsent
        }
    );
}

#[test]
fn binary_equals_compares_bytes_of_base64_values() {
    // AWS: BinaryEquals = byte compare against a base64 value in the policy.
    assert!(holds("BinaryEquals", json!("aGVsbG8="), Some("aGVsbG8=")));
    assert!(!holds("BinaryEquals", json!("aGVsbG8="), Some("d29ybGQ=")));
    assert!(holds(
        "BinaryEquals",
        json!(["d29ybGQ=", "aGVsbG8="]),
        Some("aGVsbG8=")
    ));
    assert_eq!(
        run("BinaryEquals", json!("aGVsbG8="), Some("not base64!")).why,
        CondWhy::Incomparable
    );
}

#[test]
fn ip_address_matches_ipv4_cidr_blocks() {
    // AWS: IpAddress: CIDR v4.
    let p = json!("203.0.113.0/24");
    assert!(holds("IpAddress", p.clone(), Some("203.0.113.0")));
    assert!(holds("IpAddress", p.clone(), Some("203.0.113.255")));
    assert!(!holds("IpAddress", p.clone(), Some("203.0.114.1")));
    assert!(holds("IpAddress", json!("0.0.0.0/0"), Some("8.8.8.8")));
    assert!(!holds("IpAddress", p, Some("2001:db8::1")));
}

#[test]
fn ip_address_bare_address_is_a_slash_32() {
    // AWS: a bare IP address in IpAddress is a /32.
    assert!(holds(
        "IpAddress",
        json!("203.0.113.7"),
        Some("203.0.113.7")
    ));
    assert!(!holds(
        "IpAddress",
        json!("203.0.113.7"),
        Some("203.0.113.8")
    ));
    assert!(holds(
        "NotIpAddress",
        json!("203.0.113.7"),
        Some("203.0.113.8")
    ));
}

#[test]
fn ip_address_matches_ipv6_cidr_blocks() {
    // AWS: IpAddress: CIDR v6; a bare v6 address is a /128.
    let p = json!("2001:db8::/32");
    assert!(holds("IpAddress", p.clone(), Some("2001:db8:1:2::3")));
    assert!(!holds("IpAddress", p.clone(), Some("2001:db9::1")));
    assert!(!holds("IpAddress", p, Some("10.0.0.1")));
    assert!(holds(
        "IpAddress",
        json!("2001:db8::1"),
        Some("2001:db8::1")
    ));
    assert!(!holds(
        "IpAddress",
        json!("2001:db8::1"),
        Some("2001:db8::2")
    ));
    assert!(holds(
        "IpAddress",
        json!(["10.0.0.0/8", "2001:db8::/32"]),
        Some("2001:db8::5")
    ));
}

#[test]
fn not_ip_address_is_true_outside_every_block() {
    // AWS: NotIpAddress: true when the address is in none of the blocks (v4 and v6).
    let p = json!(["10.0.0.0/8", "2001:db8::/32"]);
    assert!(holds("NotIpAddress", p.clone(), Some("192.0.2.1")));
    assert!(holds("NotIpAddress", p.clone(), Some("2001:db9::1")));
    assert!(!holds("NotIpAddress", p.clone(), Some("10.1.2.3")));
    assert!(!holds("NotIpAddress", p, Some("2001:db8::7")));
}

// ---------------------------------------------------------------------------------------
// §D.3 ARN operators
// ---------------------------------------------------------------------------------------

#[test]
fn arn_equals_and_arn_like_are_identical() {
    // AWS: ArnEquals and ArnLike are identical (both glob each part).
    for op in ["ArnEquals", "ArnLike"] {
        let p = json!("arn:aws:iam::111122223333:role/app-*");
        assert!(
            holds(
                op,
                p.clone(),
                Some("arn:aws:iam::111122223333:role/app-web")
            ),
            "{op}"
        );
        assert!(
            !holds(
                op,
                p.clone(),
                Some("arn:aws:iam::444455556666:role/app-web")
            ),
            "{op}"
        );
        assert!(holds(
            op,
            json!("arn:aws:iam::11112222333?:root"),
            Some("arn:aws:iam::111122223333:root")
        ));
        assert!(
            holds(op, json!("arn:aws:s3:::b"), Some("arn:aws:s3:::b")),
            "{op}"
        );
        assert!(
            !holds(op, json!("arn:aws:s3:::b"), Some("arn:aws:s3:::bb")),
            "{op}"
        );
    }
}

#[test]
fn arn_like_star_does_not_cross_colon() {
    // AWS: ARN operators glob each of the 6 colon-separated parts separately, so `*` can't
    // cross `:` (differs from StringLike).
    let pattern = json!("arn:aws:iam::*:role/admin");
    let seven_parts = "arn:aws:iam::111122223333:extra:role/admin";
    assert!(holds(
        "ArnLike",
        pattern.clone(),
        Some("arn:aws:iam::111122223333:role/admin")
    ));
    assert!(!holds("ArnLike", pattern.clone(), Some(seven_parts)));
    assert!(!holds("ArnEquals", pattern.clone(), Some(seven_parts)));
    // The same pattern under StringLike lets `*` run over the colon.
    assert!(holds("StringLike", pattern, Some(seven_parts)));
    // A `*` in the region part does not reach into the account part.
    let p = json!("arn:aws:sqs:*:111122223333:q");
    let extra = "arn:aws:sqs:us-east-1:extra:111122223333:q";
    assert!(holds(
        "ArnLike",
        p.clone(),
        Some("arn:aws:sqs:us-east-1:111122223333:q")
    ));
    assert!(!holds("ArnLike", p.clone(), Some(extra)));
    assert!(holds("StringLike", p, Some(extra)));
    // `?` does not match a colon either.
    let p = json!("arn:aws:s3:us-east?1:111122223333:x");
    let colon = "arn:aws:s3:us-east:1:111122223333:x";
    assert!(!holds("ArnLike", p.clone(), Some(colon)));
    assert!(holds("StringLike", p, Some(colon)));
}

#[test]
fn arn_resource_part_keeps_further_colons() {
    // AWS: the resource part (sixth) is everything after the fifth colon; `*` there spans `/`
    // and any colons inside the resource part.
    let p = json!("arn:aws:s3:::bucket/*");
    assert!(holds(
        "ArnLike",
        p.clone(),
        Some("arn:aws:s3:::bucket/a/b:c/d")
    ));
    assert!(!holds("ArnLike", p, Some("arn:aws:s3:::bucket")));
    let p = json!("arn:aws:logs:us-east-1:111122223333:log-group:*");
    assert!(holds(
        "ArnLike",
        p,
        Some("arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:x")
    ));
}

#[test]
fn arn_not_equals_and_arn_not_like_are_identical_negations() {
    // AWS: ArnNotEquals and ArnNotLike are identical: true when no policy ARN matches.
    for op in ["ArnNotEquals", "ArnNotLike"] {
        let p = json!("arn:aws:kms:*:111122223333:key/*");
        assert!(
            !holds(
                op,
                p.clone(),
                Some("arn:aws:kms:us-east-1:111122223333:key/abc")
            ),
            "{op}"
        );
        assert!(
            holds(
                op,
                p.clone(),
                Some("arn:aws:kms:us-east-1:444455556666:key/abc")
            ),
            "{op}"
        );
        // `*` in the region does not cross into the account, so this one is "not like".
        let extra = "arn:aws:kms:us-east-1:x:111122223333:key/abc";
        assert!(holds(op, p, Some(extra)), "{op}");
    }
}

#[test]
fn arn_operators_are_case_sensitive() {
    // AWS: ARN matching is case-sensitive.
    assert!(!holds(
        "ArnLike",
        json!("arn:aws:s3:::Bucket/*"),
        Some("arn:aws:s3:::bucket/k")
    ));
    assert!(holds(
        "ArnNotLike",
        json!("arn:aws:s3:::Bucket/*"),
        Some("arn:aws:s3:::bucket/k")
    ));
}

// ---------------------------------------------------------------------------------------
// §D.3 Null
// ---------------------------------------------------------------------------------------

#[test]
fn null_true_means_the_key_is_absent() {
    // AWS: Null "true" => key absent.
    assert_eq!(
        run("Null", json!("true"), None),
        CondResult {
            holds: true,
            why: CondWhy::Matched(0)
        }
    );
    assert_eq!(
        run("Null", json!(true), Some("x")),
        CondResult {
            holds: false,
            why: CondWhy::NoMatch
        }
    );
    assert!(
        cond("Null", K, json!("true"))
            .evaluate(&multi(K, &[]))
            .holds
    );
}

#[test]
fn null_false_means_the_key_is_present() {
    // AWS: Null "false" => key present and non-null.
    assert!(holds("Null", json!("false"), Some("x")));
    assert!(holds("Null", json!(false), Some("")));
    assert_eq!(
        run("Null", json!("false"), None),
        CondResult {
            holds: false,
            why: CondWhy::KeyAbsent
        }
    );
    assert!(
        !cond("Null", K, json!("false"))
            .evaluate(&multi(K, &[]))
            .holds
    );
    assert!(
        cond("Null", K, json!("false"))
            .evaluate(&multi(K, &["a", "b"]))
            .holds
    );
}

#[test]
fn null_with_a_value_that_is_not_a_boolean_never_holds() {
    // AWS: Null takes "true" or "false"; anything else matches nothing.
    assert!(!holds("Null", json!("maybe"), None));
    assert!(!holds("Null", json!("maybe"), Some("x")));
}

#[test]
fn null_if_exists_is_rejected() {
    // AWS: Null has no IfExists form.
    let e = Operator::parse("NullIfExists").unwrap_err();
    assert!(e.contains("IfExists"), "{e}");
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
        "Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}}"#;
    let e = Policy::parse("p", PolicyKind::Identity, text).unwrap_err();
    assert_eq!(e.pointer, "/Statement/Condition/NullIfExists");
    assert_eq!((e.line, e.column), (2, 37));
}

// ---------------------------------------------------------------------------------------
// §D.3 Set operators
// ---------------------------------------------------------------------------------------

#[test]
fn for_all_values_on_an_absent_key_is_true() {
    // AWS: ForAllValues is true when the key is absent.
    let c = cond(
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        json!(["env", "team"]),
    );
    assert_eq!(
        c.evaluate(&RequestContext::new()),
        CondResult {
            holds: true,
            why: CondWhy::KeyAbsent
        }
    );
}

#[test]
fn for_all_values_on_an_empty_set_is_true() {
    // AWS: ForAllValues is true when the key's value set is empty.
    let c = cond(
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        json!(["env", "team"]),
    );
    assert_eq!(
        c.evaluate(&multi("aws:TagKeys", &[])),
        CondResult {
            holds: true,
            why: CondWhy::KeyEmpty
        }
    );
}

#[test]
fn for_all_values_needs_every_request_value_in_the_policy_set() {
    // AWS: ForAllValues: every request value satisfies the operator against the policy set.
    let c = cond(
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        json!(["env", "team"]),
    );
    assert!(c.evaluate(&multi("aws:TagKeys", &["env"])).holds);
    assert!(c.evaluate(&multi("aws:TagKeys", &["team", "env"])).holds);
    assert_eq!(
        c.evaluate(&multi("aws:TagKeys", &["env", "cost", "team"])),
        CondResult {
            holds: false,
            why: CondWhy::ValueOutsideSet(1)
        }
    );
    let c = cond("ForAllValues:StringLike", "aws:TagKeys", json!(["app-*"]));
    assert!(c.evaluate(&multi("aws:TagKeys", &["app-a", "app-b"])).holds);
    assert!(!c.evaluate(&multi("aws:TagKeys", &["app-a", "web"])).holds);
}

#[test]
fn for_any_value_on_an_absent_or_empty_key_is_false() {
    // AWS: ForAnyValue is false when the key is absent or empty.
    let c = cond("ForAnyValue:StringEquals", "aws:TagKeys", json!(["env"]));
    assert_eq!(
        c.evaluate(&RequestContext::new()),
        CondResult {
            holds: false,
            why: CondWhy::KeyAbsent
        }
    );
    assert_eq!(
        c.evaluate(&multi("aws:TagKeys", &[])),
        CondResult {
            holds: false,
            why: CondWhy::KeyEmpty
        }
    );
}

#[test]
fn for_any_value_if_exists_on_an_absent_or_empty_key_is_false() {
    // AWS: ForAnyValue is false when the key is absent or empty; `IfExists` does not make it
    // true (an Allow on `ForAnyValue:StringEqualsIfExists` with the key absent is refused).
    // Found by `cargo xtask differential`.
    for op in [
        "ForAnyValue:StringEqualsIfExists",
        "ForAnyValue:StringNotLikeIfExists",
    ] {
        let c = cond(op, "aws:TagKeys", json!(["env"]));
        assert!(!c.evaluate(&RequestContext::new()).holds, "{op}");
        assert!(!c.evaluate(&multi("aws:TagKeys", &[])).holds, "{op}");
    }
    // ForAllValues stays vacuously true.
    let c = cond(
        "ForAllValues:StringEqualsIfExists",
        "aws:TagKeys",
        json!(["env"]),
    );
    assert!(c.evaluate(&RequestContext::new()).holds);
}

#[test]
fn for_any_value_needs_one_request_value_in_the_policy_set() {
    // AWS: ForAnyValue: at least one request value satisfies the operator.
    let c = cond(
        "ForAnyValue:StringEquals",
        "aws:TagKeys",
        json!(["env", "team"]),
    );
    assert_eq!(
        c.evaluate(&multi("aws:TagKeys", &["cost", "team"])),
        CondResult {
            holds: true,
            why: CondWhy::Matched(1)
        }
    );
    assert_eq!(
        c.evaluate(&multi("aws:TagKeys", &["cost", "owner"])),
        CondResult {
            holds: false,
            why: CondWhy::NoMatch
        }
    );
}

#[test]
fn for_all_values_with_a_negated_operator_needs_every_value_to_match_none() {
    // AWS: with negated operators the per-value test is "matches none of the policy values".
    let c = cond(
        "ForAllValues:StringNotEquals",
        "aws:TagKeys",
        json!(["secret", "admin"]),
    );
    assert!(c.evaluate(&multi("aws:TagKeys", &["env", "team"])).holds);
    assert_eq!(
        c.evaluate(&multi("aws:TagKeys", &["env", "admin"])),
        CondResult {
            holds: false,
            why: CondWhy::ValueOutsideSet(1)
        }
    );
    // Absent: still vacuously true.
    assert!(c.evaluate(&RequestContext::new()).holds);
    let c = cond(
        "ForAllValues:StringNotLike",
        "aws:TagKeys",
        json!(["aws:*"]),
    );
    assert!(c.evaluate(&multi("aws:TagKeys", &["env"])).holds);
    assert!(!c.evaluate(&multi("aws:TagKeys", &["env", "aws:x"])).holds);
}

#[test]
fn for_any_value_with_a_negated_operator_needs_one_value_to_match_none() {
    // AWS: ForAnyValue with a negated operator: some request value matches none of the policy
    // values; absent or empty is still false.
    let c = cond(
        "ForAnyValue:StringNotEquals",
        "aws:TagKeys",
        json!(["env", "team"]),
    );
    assert!(c.evaluate(&multi("aws:TagKeys", &["env", "cost"])).holds);
    assert!(!c.evaluate(&multi("aws:TagKeys", &["env", "team"])).holds);
    assert!(!c.evaluate(&RequestContext::new()).holds);
    assert!(!c.evaluate(&multi("aws:TagKeys", &[])).holds);
}

#[test]
fn set_operators_with_if_exists_on_an_absent_key() {
    // AWS: `…IfExists` makes an absent key true, except under ForAnyValue, which needs a
    // request value (see for_any_value_if_exists_on_an_absent_or_empty_key_is_false).
    let c = cond(
        "ForAllValues:StringEqualsIfExists",
        "aws:TagKeys",
        json!(["env"]),
    );
    assert!(c.evaluate(&RequestContext::new()).holds);
    assert!(!c.evaluate(&multi("aws:TagKeys", &["cost"])).holds);
    let c = cond(
        "ForAnyValue:StringEqualsIfExists",
        "aws:TagKeys",
        json!(["env"]),
    );
    assert!(!c.evaluate(&RequestContext::new()).holds);
    assert!(c.evaluate(&multi("aws:TagKeys", &["env"])).holds);
}

#[test]
fn set_operators_over_other_families() {
    // AWS: set operators apply the base operator to each request value.
    let c = cond("ForAllValues:NumericLessThan", K, json!("10"));
    assert!(c.evaluate(&multi(K, &["1", "9.5"])).holds);
    assert!(!c.evaluate(&multi(K, &["1", "10"])).holds);
    assert!(
        !c.evaluate(&multi(K, &["1", "x"])).holds,
        "an incomparable value is outside the set"
    );
    let c = cond("ForAnyValue:IpAddress", K, json!("10.0.0.0/8"));
    assert!(c.evaluate(&multi(K, &["not-an-ip", "10.1.1.1"])).holds);
    assert!(!c.evaluate(&multi(K, &["not-an-ip", "11.1.1.1"])).holds);
}

#[test]
fn for_all_values_on_a_single_valued_key_can_be_over_permissive() {
    // AWS: using set operators on single-valued keys is discouraged (can be over-permissive):
    // ForAllValues is true when the key is absent.
    let c = cond(
        "ForAllValues:StringEquals",
        "s3:x-amz-server-side-encryption",
        json!("aws:kms"),
    );
    assert!(c.evaluate(&RequestContext::new()).holds);
    assert!(
        c.evaluate(&ctx(&[("s3:x-amz-server-side-encryption", "aws:kms")]))
            .holds
    );
    assert!(
        !c.evaluate(&ctx(&[("s3:x-amz-server-side-encryption", "AES256")]))
            .holds
    );
}

// ---------------------------------------------------------------------------------------
// §D.4 Policy variables
// ---------------------------------------------------------------------------------------

#[test]
fn variables_substitute_in_string_values() {
    // AWS: policy variables are usable in String condition values (Version 2012-10-17).
    let req = ctx(&[("aws:username", "alice"), (K, "home/alice")]);
    assert!(
        cond("StringEquals", K, json!("home/${aws:username}"))
            .evaluate(&req)
            .holds
    );
    assert!(
        cond("StringLike", K, json!("home/${aws:username}"))
            .evaluate(&req)
            .holds
    );
    assert!(
        cond("StringEqualsIgnoreCase", K, json!("HOME/${aws:username}"))
            .evaluate(&req)
            .holds
    );
    assert!(
        !cond("StringNotEquals", K, json!("home/${aws:username}"))
            .evaluate(&req)
            .holds
    );
    let bob = ctx(&[("aws:username", "bob"), (K, "home/alice")]);
    assert!(
        !cond("StringEquals", K, json!("home/${aws:username}"))
            .evaluate(&bob)
            .holds
    );
    assert!(
        cond("StringNotEquals", K, json!("home/${aws:username}"))
            .evaluate(&bob)
            .holds
    );
}

#[test]
fn variable_key_names_are_case_insensitive() {
    // AWS: condition key names are case-insensitive, also inside `${…}`.
    let req = ctx(&[("aws:username", "alice"), (K, "alice")]);
    assert!(
        cond("StringEquals", K, json!("${AWS:UserName}"))
            .evaluate(&req)
            .holds
    );
}

#[test]
fn substituted_values_are_literal_in_like_operators() {
    // AWS: a substituted value is taken literally; its `*` is not a wildcard.
    let c = cond("StringLike", K, json!("home/${aws:username}/*"));
    assert!(
        c.evaluate(&ctx(&[("aws:username", "a*"), (K, "home/a*/x")]))
            .holds
    );
    assert!(
        !c.evaluate(&ctx(&[("aws:username", "a*"), (K, "home/abc/x")]))
            .holds
    );
}

#[test]
fn variables_substitute_in_arn_values() {
    // AWS: policy variables are usable in ARN condition values, matched per part.
    let c = cond(
        "ArnLike",
        "aws:SourceArn",
        json!("arn:aws:s3:::${aws:PrincipalTag/team}-*"),
    );
    let req = |arn: &str| ctx(&[("aws:PrincipalTag/team", "red"), ("aws:SourceArn", arn)]);
    assert!(c.evaluate(&req("arn:aws:s3:::red-logs")).holds);
    assert!(!c.evaluate(&req("arn:aws:s3:::blue-logs")).holds);
    let c = cond(
        "ArnEquals",
        "aws:SourceArn",
        json!("arn:aws:iam::${aws:PrincipalAccount}:root"),
    );
    let req = ctx(&[
        ("aws:PrincipalAccount", "111122223333"),
        ("aws:SourceArn", "arn:aws:iam::111122223333:root"),
    ]);
    assert!(c.evaluate(&req).holds);
    let c = cond(
        "ArnNotLike",
        "aws:SourceArn",
        json!("arn:aws:iam::${aws:PrincipalAccount}:*"),
    );
    assert!(!c.evaluate(&req).holds);
}

#[test]
fn variable_default_applies_when_the_key_is_absent() {
    // AWS: `${aws:PrincipalTag/team, 'company-wide'}` (comma, space, single-quoted default).
    let c = cond("StringEquals", K, json!("${aws:PrincipalTag/team, 'x'}"));
    assert!(c.evaluate(&ctx(&[(K, "x")])).holds);
    assert!(!c.evaluate(&ctx(&[(K, "red")])).holds);
    assert!(
        c.evaluate(&ctx(&[("aws:PrincipalTag/team", "red"), (K, "red")]))
            .holds
    );
    assert!(
        !c.evaluate(&ctx(&[("aws:PrincipalTag/team", "red"), (K, "x")]))
            .holds
    );
    let c = cond(
        "StringLike",
        K,
        json!("teams/${aws:PrincipalTag/team, 'company-wide'}/*"),
    );
    assert!(c.evaluate(&ctx(&[(K, "teams/company-wide/doc")])).holds);
}

#[test]
fn escapes_are_literal_characters() {
    // AWS: `${*}` => literal `*`, `${?}` => literal `?`, `${$}` => literal `$`.
    let c = cond("StringLike", K, json!("a${*}b${?}c${$}*"));
    assert!(c.evaluate(&ctx(&[(K, "a*b?c$")])).holds);
    assert!(c.evaluate(&ctx(&[(K, "a*b?c$tail")])).holds);
    assert!(!c.evaluate(&ctx(&[(K, "aXbYc$")])).holds);
    let c = cond("StringEquals", K, json!("${*}${?}${$}"));
    assert!(c.evaluate(&ctx(&[(K, "*?$")])).holds);
    assert!(!c.evaluate(&ctx(&[(K, "${*}${?}${$}")])).holds);
    let c = cond("ArnLike", K, json!("arn:aws:s3:::b/${*}"));
    assert!(c.evaluate(&ctx(&[(K, "arn:aws:s3:::b/*")])).holds);
    assert!(!c.evaluate(&ctx(&[(K, "arn:aws:s3:::b/k")])).holds);
}

#[test]
fn unresolved_variable_never_matches_and_makes_negated_operators_false() {
    // AWS: a policy variable that resolves to nothing => no match for string/ARN operators.
    let none = ctx(&[(K, "home/")]);
    for op in ["StringEquals", "StringLike", "StringEqualsIgnoreCase"] {
        let r = cond(op, K, json!("home/${aws:username}")).evaluate(&none);
        assert_eq!(
            r,
            CondResult {
                holds: false,
                why: CondWhy::Incomparable
            },
            "{op}"
        );
    }
    for op in [
        "StringNotEquals",
        "StringNotLike",
        "StringNotEqualsIgnoreCase",
    ] {
        let r = cond(op, K, json!("home/${aws:username}")).evaluate(&none);
        assert_eq!(
            r,
            CondResult {
                holds: false,
                why: CondWhy::Incomparable
            },
            "{op}"
        );
    }
    let arn = ctx(&[(K, "arn:aws:s3:::b")]);
    for op in ["ArnLike", "ArnEquals", "ArnNotLike", "ArnNotEquals"] {
        let r = cond(op, K, json!("arn:aws:s3:::${aws:username}")).evaluate(&arn);
        assert_eq!(
            r,
            CondResult {
                holds: false,
                why: CondWhy::Incomparable
            },
            "{op}"
        );
    }
    // Another policy value that matches still makes the positive operator hold.
    assert!(
        cond("StringEquals", K, json!(["${aws:username}", "home/"]))
            .evaluate(&none)
            .holds
    );
}

#[test]
fn multivalued_keys_cannot_be_variables() {
    // AWS: any single-valued key may be a variable; multivalued keys cannot.
    let c = cond("StringEquals", K, json!("${aws:TagKeys}"));
    let mut req = multi("aws:TagKeys", &["env"]);
    req.set(K, "env");
    assert_eq!(
        c.evaluate(&req),
        CondResult {
            holds: false,
            why: CondWhy::Incomparable
        }
    );
}

#[test]
fn bool_accepts_variables() {
    // AWS: Bool: variables allowed (accepted by the parser and substituted).
    let c = cond("Bool", K, json!("${aws:PrincipalTag/mfa}"));
    assert!(
        c.evaluate(&ctx(&[("aws:PrincipalTag/mfa", "true"), (K, "true")]))
            .holds
    );
    assert!(
        !c.evaluate(&ctx(&[("aws:PrincipalTag/mfa", "false"), (K, "true")]))
            .holds
    );
    assert_eq!(c.evaluate(&ctx(&[(K, "true")])).why, CondWhy::Incomparable);
}

#[test]
fn numeric_date_ip_and_binary_values_take_no_variables() {
    // AWS: policy variables are not allowed with Numeric, Date, IP, Binary.
    let req = ctx(&[("aws:PrincipalTag/n", "5"), (K, "5")]);
    assert!(
        !cond("NumericEquals", K, json!("${aws:PrincipalTag/n}"))
            .evaluate(&req)
            .holds
    );
    let req = ctx(&[("aws:PrincipalTag/d", "2024-01-01"), (K, "2024-01-01")]);
    assert!(
        !cond("DateEquals", K, json!("${aws:PrincipalTag/d}"))
            .evaluate(&req)
            .holds
    );
    let req = ctx(&[("aws:PrincipalTag/ip", "10.0.0.1"), (K, "10.0.0.1")]);
    assert!(
        !cond("IpAddress", K, json!("${aws:PrincipalTag/ip}"))
            .evaluate(&req)
            .holds
    );
    assert!(
        !cond("NotIpAddress", K, json!("${aws:PrincipalTag/ip}"))
            .evaluate(&req)
            .holds
    );
    let req = ctx(&[("aws:PrincipalTag/b", "aGVsbG8="), (K, "aGVsbG8=")]);
    assert!(
        !cond("BinaryEquals", K, json!("${aws:PrincipalTag/b}"))
            .evaluate(&req)
            .holds
    );
}

#[test]
fn version_2008_takes_variables_literally() {
    // AWS: policy variables only with Version 2012-10-17; under 2008-10-17 `${aws:username}`
    // is literal text.
    let alice = ctx(&[("aws:username", "alice"), (K, "home/alice")]);
    let literal = ctx(&[("aws:username", "alice"), (K, "home/${aws:username}")]);
    for op in ["StringEquals", "StringLike"] {
        let c = cond_in(Some("2008-10-17"), op, K, json!("home/${aws:username}"));
        assert!(!c.evaluate(&alice).holds, "{op}");
        assert!(c.evaluate(&literal).holds, "{op}");
    }
    let c = cond_in(
        Some("2008-10-17"),
        "StringNotEquals",
        K,
        json!("home/${aws:username}"),
    );
    assert!(
        c.evaluate(&alice).holds,
        "not resolved, so not incomparable either"
    );
    let c = cond_in(Some("2008-10-17"), "StringLike", K, json!("a${*}"));
    assert!(
        c.evaluate(&ctx(&[(K, "a${anything}")])).holds,
        "`${{*}}` is not an escape: `*` is a wildcard"
    );
}

#[test]
fn missing_version_takes_variables_literally() {
    // AWS: a policy without `Version` uses the old language: no policy variables.
    let c = cond_in(None, "StringEquals", K, json!("home/${aws:username}"));
    assert!(
        !c.evaluate(&ctx(&[("aws:username", "alice"), (K, "home/alice")]))
            .holds
    );
    assert!(
        c.evaluate(&ctx(&[
            ("aws:username", "alice"),
            (K, "home/${aws:username}")
        ]))
        .holds
    );
    let c = cond_in(None, "ArnLike", K, json!("arn:aws:s3:::${aws:username}"));
    assert!(
        !c.evaluate(&ctx(&[
            ("aws:username", "alice"),
            (K, "arn:aws:s3:::alice")
        ]))
        .holds
    );
}

// ---------------------------------------------------------------------------------------
// Invalid values and values of the wrong type
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_numeric_policy_value_never_matches() {
    // AWS: a value that is not of the operator's type never matches; negated operators false.
    for op in [
        "NumericEquals",
        "NumericLessThan",
        "NumericGreaterThanEquals",
        "NumericNotEquals",
    ] {
        let r = run(op, json!("ten"), Some("10"));
        assert_eq!(
            r,
            CondResult {
                holds: false,
                why: CondWhy::Incomparable
            },
            "{op}"
        );
    }
    assert!(matches!(
        cond("NumericLessThan", K, json!("ten")).values[0].value,
        CondValue::Invalid { .. }
    ));
    // A valid value next to the invalid one still matches.
    assert!(holds("NumericEquals", json!(["ten", "10"]), Some("10")));
}

#[test]
fn invalid_ip_policy_value_never_matches() {
    // AWS: IpAddress with a value that is not an address or CIDR never matches; NotIpAddress
    // is false.
    assert_eq!(
        run("IpAddress", json!("nope"), Some("10.0.0.1")).why,
        CondWhy::Incomparable
    );
    assert!(!holds("IpAddress", json!("nope"), Some("10.0.0.1")));
    assert!(!holds("NotIpAddress", json!("nope"), Some("10.0.0.1")));
    assert!(!holds("IpAddress", json!("10.0.0.0/33"), Some("10.0.0.1")));
}

#[test]
fn arn_policy_value_with_fewer_than_six_parts_never_matches() {
    // AWS: ARN values are split into 6 colon-separated parts; fewer parts is not an ARN.
    for v in ["arn:aws:s3", "arn:aws:s3::bucket", "*"] {
        let c = cond("ArnLike", K, json!(v));
        assert!(
            matches!(c.values[0].value, CondValue::Invalid { .. }),
            "{v}"
        );
        assert!(
            !holds("ArnLike", json!(v), Some("arn:aws:s3:::bucket")),
            "{v}"
        );
        assert!(
            !holds("ArnEquals", json!(v), Some("arn:aws:s3:::bucket")),
            "{v}"
        );
        assert!(
            !holds("ArnNotLike", json!(v), Some("arn:aws:s3:::bucket")),
            "{v}"
        );
        assert!(
            !holds("ArnNotEquals", json!(v), Some("arn:aws:s3:::bucket")),
            "{v}"
        );
    }
}

#[test]
fn arn_with_a_variable_resolving_to_fewer_than_six_parts_never_matches() {
    // AWS: an ARN value must have 6 parts after substitution too.
    let c = cond("ArnNotLike", K, json!("${aws:PrincipalTag/arn}"));
    let r = c.evaluate(&ctx(&[
        ("aws:PrincipalTag/arn", "arn:aws:s3"),
        (K, "arn:aws:s3:::b"),
    ]));
    assert_eq!(
        r,
        CondResult {
            holds: false,
            why: CondWhy::Incomparable
        }
    );
}

#[test]
fn invalid_date_bool_and_binary_policy_values_never_match() {
    // AWS: a policy value that is not of the operator's type never matches.
    assert!(!holds(
        "DateLessThan",
        json!("yesterday"),
        Some("2024-01-01")
    ));
    assert!(!holds(
        "DateNotEquals",
        json!("yesterday"),
        Some("2024-01-01")
    ));
    assert!(!holds("Bool", json!("yes"), Some("true")));
    assert!(!holds("BinaryEquals", json!("!!!"), Some("!!!")));
}

#[test]
fn request_value_of_the_wrong_type_makes_negated_operators_false() {
    // AWS: a request value that is not an IP/number/date/ARN cannot be compared; the
    // comparison never matches and negated operators are false.
    let cases: &[(&str, Value, &str)] = &[
        ("NotIpAddress", json!("10.0.0.0/8"), "not-an-ip"),
        ("NumericNotEquals", json!("1"), "one"),
        ("DateNotEquals", json!("2024-01-01"), "soon"),
        ("ArnNotEquals", json!("arn:aws:s3:::b"), "not-an-arn"),
        ("ArnNotLike", json!("arn:aws:s3:::*"), "s3:::b"),
    ];
    for (op, value, request) in cases {
        let r = run(op, value.clone(), Some(*request));
        assert_eq!(
            r,
            CondResult {
                holds: false,
                why: CondWhy::Incomparable
            },
            "{op}"
        );
        let positive = op.replacen("Not", "", 1);
        assert!(
            !holds(&positive, value.clone(), Some(*request)),
            "{positive}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Operator names
// ---------------------------------------------------------------------------------------

#[test]
fn every_operator_name_parses_and_displays_as_written() {
    // AWS: operators are the base names, optionally prefixed `ForAllValues:`/`ForAnyValue:`
    // and suffixed `IfExists` (not Null).
    for base in ALL_BASE {
        for set in ["", "ForAllValues:", "ForAnyValue:"] {
            for suffix in ["", "IfExists"] {
                let name = format!("{set}{base}{suffix}");
                if *base == "Null" && suffix == "IfExists" {
                    continue;
                }
                let op = Operator::parse(&name).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(op.to_string(), name);
                assert_eq!(op.base.name(), *base);
                assert_eq!(op.if_exists, !suffix.is_empty());
                assert_eq!(op.base.is_negated(), NEGATED.contains(base), "{name}");
            }
        }
    }
}

#[test]
fn operator_families() {
    // AWS: the operator family decides how values are parsed and compared.
    let family = |n: &str| Operator::parse(n).unwrap().base.family();
    assert_eq!(family("StringNotLike"), Family::String);
    assert_eq!(family("NumericGreaterThanEquals"), Family::Numeric);
    assert_eq!(family("DateLessThanEquals"), Family::Date);
    assert_eq!(family("Bool"), Family::Bool);
    assert_eq!(family("BinaryEquals"), Family::Binary);
    assert_eq!(family("NotIpAddress"), Family::Ip);
    assert_eq!(family("ArnNotLike"), Family::Arn);
    assert_eq!(family("Null"), Family::Null);
}

#[test]
fn unknown_operator_is_an_error() {
    // AWS: an unknown condition operator is rejected.
    for name in [
        "StringContains",
        "",
        "IfExists",
        "ForAllValues:",
        "ForAllValues:Foo",
        "NumericEqual",
    ] {
        let e = Operator::parse(name).unwrap_err();
        assert!(e.contains("unknown condition operator"), "{name}: {e}");
    }
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
        "Resource":"*","Condition":{"StringContains":{"k":"v"}}}}"#;
    let e = Policy::parse("p", PolicyKind::Identity, text).unwrap_err();
    assert_eq!(e.pointer, "/Statement/Condition/StringContains");
    assert!(
        e.message
            .contains("unknown condition operator `StringContains`"),
        "{}",
        e.message
    );
}

#[test]
fn operator_names_are_case_sensitive() {
    // AWS: operator names are case-sensitive.
    let e = Operator::parse("stringequals").unwrap_err();
    assert!(e.contains("did you mean `StringEquals`"), "{e}");
    assert!(Operator::parse("StringEqualsIfexists").is_err());
    assert!(Operator::parse("forallvalues:StringEquals").is_err());
    assert!(Operator::parse("ForAnyvalue:StringEquals").is_err());
    assert!(
        Operator::parse("BOOL")
            .unwrap_err()
            .contains("did you mean `Bool`")
    );
}

#[test]
fn condition_values_may_be_strings_numbers_or_booleans_but_not_objects() {
    // AWS: condition values are strings (numbers and booleans are accepted as their text).
    let c = cond("NumericEquals", K, json!([1, "2", 3.5]));
    let raws: Vec<&str> = c.values.iter().map(|v| v.raw.as_str()).collect();
    assert_eq!(raws, ["1", "2", "3.5"]);
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*",
        "Resource":"*","Condition":{"StringEquals":{"k":{"a":"b"}}}}}"#;
    let e = Policy::parse("p", PolicyKind::Identity, text).unwrap_err();
    assert_eq!(e.pointer, "/Statement/Condition/StringEquals/k");
}

#[test]
fn date_accepts_the_w3c_minute_and_fraction_profiles() {
    // AWS: Date operators take the W3C profiles of ISO 8601: `YYYY-MM-DDThh:mmTZD` (no
    // seconds) and `YYYY-MM-DDThh:mm:ss.sTZD` (fraction), with `Z` or `+hh:mm`.
    assert!(holds(
        "DateEquals",
        json!("2024-01-01T00:00Z"),
        Some("1704067200")
    ));
    assert!(holds(
        "DateEquals",
        json!("2024-01-01T01:00+01:00"),
        Some("1704067200")
    ));
    assert!(holds(
        "DateLessThan",
        json!("2024-01-01T00:00:00.5Z"),
        Some("1704067200")
    ));
    assert!(!holds(
        "DateLessThan",
        json!("2024-01-01T00:00:00.5Z"),
        Some("1704067200.5")
    ));
}

#[test]
fn date_accepts_the_w3c_year_month_profile() {
    // AWS: Date operators take ISO 8601 in the W3C profiles, which include `YYYY-MM`
    // (meaning the first instant of that month).
    assert!(holds(
        "DateEquals",
        json!("2024-01"),
        Some("2024-01-01T00:00:00Z")
    ));
    assert!(holds(
        "DateGreaterThanEquals",
        json!("2024-01"),
        Some("2024-01-15")
    ));
}

/// `Null` tests the key's presence, and its explanation says so, whichever way it holds.
#[test]
fn a_null_condition_is_explained_by_the_keys_presence() {
    use crate::eval::explain_condition_holds;
    let c = cond("Null", "s3:RequestObjectTag/team", json!("true"));
    assert_eq!(
        explain_condition_holds(&c, &RequestContext::new()),
        "the request has no `s3:RequestObjectTag/team`, so `Null` is true"
    );
    let c = cond("Null", "s3:RequestObjectTag/team", json!("false"));
    assert_eq!(
        explain_condition_holds(&c, &ctx(&[("s3:RequestObjectTag/team", "data")])),
        "the request has `s3:RequestObjectTag/team` (`data`), so `Null` is false"
    );
}
