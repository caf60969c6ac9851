//! The JSON rendering: the documented members are there, and every diagnosis of the test
//! scenarios validates against `schema/report.schema.json` (checked by a small validator for
//! the keywords the schema uses).

mod render_common;

use serde_json::Value;
use why403_core::render::{SCHEMA_ID, json};

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    k.sort_unstable();
    k
}

#[test]
fn a_denied_upload_has_the_documented_members() {
    let v = json(&render_common::denied(false));
    assert_eq!(v["schema"], SCHEMA_ID);
    assert_eq!(v["verdict"], "denied");
    assert_eq!(
        keys(&v),
        [
            "cause",
            "checks",
            "client",
            "findings",
            "missing",
            "request",
            "schema",
            "skipped",
            "superseded",
            "verdict"
        ]
    );
    assert_eq!(
        keys(&v["request"]),
        [
            "access_point",
            "bucket",
            "context",
            "credentials",
            "headers",
            "key",
            "network",
            "object_arn",
            "operation",
            "principal",
            "region",
            "session_tags",
            "time"
        ]
    );
    assert_eq!(
        v["request"]["principal"],
        "arn:aws:iam::111122223333:user/alice"
    );
    assert_eq!(v["request"]["operation"], "put_object");
    assert_eq!(v["request"]["access_point"], Value::Null);

    let check = &v["checks"][0];
    assert_eq!(
        keys(check),
        [
            "action",
            "blocked_by",
            "blocks",
            "deciding",
            "decision",
            "kind",
            "kms_grant",
            "missing",
            "outcome",
            "reason",
            "resource",
            "summary",
            "worst_decision"
        ]
    );
    assert_eq!(
        (&check["action"], &check["outcome"], &check["decision"]),
        (
            &"s3:PutObject".into(),
            &"denied".into(),
            &"explicitly_denied".into()
        )
    );
    assert_eq!(check["deciding"][0]["sid"], "DenyUnencryptedUploads");
    assert_eq!(check["deciding"][0]["layer"], "resource");

    let f = &v["findings"][0];
    assert_eq!(
        keys(f),
        [
            "check",
            "claims",
            "confidence",
            "fix",
            "labels",
            "message",
            "missing",
            "notes",
            "role",
            "rule"
        ]
    );
    assert_eq!(
        (&f["rule"], &f["role"], &f["confidence"]),
        (
            &"builtin/bucket-policy-explicit-deny".into(),
            &"cause".into(),
            &"confirmed".into()
        )
    );
    // How to apply the fix: the request step, in the AWS CLI's terms without a client.
    assert_eq!(v["client"], Value::Null);
    let step = &f["fix"]["howto"][0];
    assert_eq!(
        keys(step),
        [
            "apply",
            "client",
            "diff",
            "document",
            "document_after",
            "file",
            "notes",
            "summary",
            "who"
        ]
    );
    assert_eq!(step["who"]["kind"], "uploader");
    assert_eq!(step["client"][0]["client"], "aws s3 cp");
    let l = &f["labels"][0];
    assert_eq!(
        keys(l),
        [
            "column", "document", "line", "message", "origin", "pointer", "primary", "snippet",
            "span"
        ]
    );
    // The policy object starts at line 20, column 17 of the file; its first statement is on
    // the policy's fourth line, at the file's column 7.
    assert_eq!(
        (&l["line"], &l["column"], &l["primary"]),
        (&23.into(), &7.into(), &true.into())
    );
    assert_eq!(l["pointer"], "/Statement/0");
    assert!(
        l["snippet"].as_str().is_some_and(
            |s| s.starts_with('{') && s.contains("\"Sid\": \"DenyUnencryptedUploads\"")
        )
    );
    assert_eq!(l["origin"]["file"], "scenario.json");

    let fix = &f["fix"];
    assert_eq!(
        keys(fix),
        ["changes", "description", "howto", "verified", "widens"]
    );
    assert_eq!(
        fix["changes"][0],
        serde_json::json!({"type": "set_header", "name": "x-amz-server-side-encryption", "value": "aws:kms"})
    );
    let alt = &v["findings"][1]["fix"];
    assert_eq!(
        alt["changes"][0],
        serde_json::json!({"type": "remove_statement", "target": {"policy": "bucket_policy"}, "statement": 0})
    );
    assert_eq!(alt["verified"], serde_json::json!({"status": "resolves"}));
}

#[test]
fn an_indeterminate_upload_lists_what_is_missing() {
    let v = json(&render_common::indeterminate());
    assert_eq!(v["verdict"], "indeterminate");
    assert_eq!(v["missing"][0]["what"], "bucket policy");
    assert_eq!(
        v["missing"][0]["needs"],
        serde_json::json!(["s3:GetBucketPolicy"])
    );
    assert_eq!(v["checks"][0]["outcome"], "indeterminate");
}

#[test]
fn diagnoses_validate_against_the_schema() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schema/report.schema.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(schema["properties"]["schema"]["const"], SCHEMA_ID);
    for d in [
        render_common::denied(false),
        render_common::denied(true),
        render_common::indeterminate(),
    ] {
        let v = json(&d);
        let mut errors = Vec::new();
        validate(&schema, &schema, &v, "", &mut errors);
        assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
    }
    // The validator itself catches what it should.
    let mut bad = json(&render_common::denied(false));
    bad["verdict"] = "maybe".into();
    bad["findings"][0]["extra"] = 1.into();
    bad["findings"][0]["fix"]["changes"][0]["type"] = "set_footer".into();
    bad["checks"][0]["deciding"][0]["level"] = (-1).into();
    let mut errors = Vec::new();
    validate(&schema, &schema, &bad, "", &mut errors);
    assert_eq!(errors.len(), 4, "{errors:#?}");
}

/// Validates `v` against `s` for the keywords the schema uses: `$ref`, `type`, `const`,
/// `enum`, `properties`, `required`, `additionalProperties`, `items`, `oneOf`, `anyOf` and
/// `minimum`.
fn validate(root: &Value, s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let target = r.strip_prefix('#').and_then(|p| root.pointer(p));
        match target {
            Some(t) => validate(root, t, v, at, errors),
            None => errors.push(format!("{at}: unresolved `$ref` {r}")),
        }
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{at}: expected {types:?}, found {v}"));
            return;
        }
    }
    if let Some(c) = s.get("const")
        && c != v
    {
        errors.push(format!("{at}: expected {c}, found {v}"));
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {e:?}"));
    }
    if let (Some(m), Some(n)) = (s.get("minimum").and_then(Value::as_i64), v.as_i64())
        && n < m
    {
        errors.push(format!("{at}: {n} < {m}"));
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for req in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !obj.contains_key(req) {
                errors.push(format!("{at}: missing `{req}`"));
            }
        }
        for (k, val) in obj {
            let here = format!("{at}/{k}");
            match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                (Some(ps), _) => validate(root, ps, val, &here, errors),
                (None, Some(Value::Bool(false))) => {
                    errors.push(format!("{here}: not in the schema"))
                }
                (None, Some(extra)) if extra.is_object() => {
                    validate(root, extra, val, &here, errors)
                }
                _ => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            validate(root, items, item, &format!("{at}/{i}"), errors);
        }
    }
    for (kw, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(alts) = s.get(kw).and_then(Value::as_array) {
            let passing = alts
                .iter()
                .filter(|alt| {
                    let mut e = Vec::new();
                    validate(root, alt, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            if passing == 0 || (exactly_one && passing > 1) {
                errors.push(format!("{at}: {passing} alternatives of `{kw}` match {v}"));
            }
        }
    }
}
