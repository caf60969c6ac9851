//! Two causes at once (issue: every other known cause): both are reported, the explicit deny
//! first whatever the rules' ids, and the fix of each says that the other still blocks.

use std::path::Path;

use serde_json::Value;
use why403_core::finding::{Diagnosis, Role, Verification, diagnose};

fn scenario(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(name: &str, doc: &Value) -> Diagnosis {
    let s = why403_fixtures_source::parse(name, &doc.to_string()).unwrap_or_else(|e| panic!("{e}"));
    diagnose(s.request, s.evidence, &why403_rules::registry())
}

/// The user's inline policy allows `s3:PutObject` on the bucket ARN only.
fn narrow_identity_policy(doc: &mut Value) {
    let st = &mut doc["evidence"]["account_authorization_details"]["UserDetailList"][0]["UserPolicyList"]
        [0]["PolicyDocument"]["Statement"][0];
    assert_eq!(st["Sid"], "UploadReports", "the example scenario changed");
    st["Resource"] = Value::from("arn:aws:s3:::amzn-s3-demo-bucket");
}

/// The causes, in report order, with what each fix's verification says.
fn causes(d: &Diagnosis) -> Vec<(String, Verification)> {
    d.findings
        .iter()
        .filter(|f| f.role == Role::Cause)
        .map(|f| {
            let v = f.fix.as_ref().map(|x| x.verified.clone());
            (f.rule.id.clone(), v.expect("each cause has a fix"))
        })
        .collect()
}

fn still_denied_by(v: &Verification, what: &str) -> bool {
    matches!(v, Verification::StillDenied { by } if by.iter().any(|b| b.contains(what)))
}

#[test]
fn a_bucket_policy_deny_and_a_missing_identity_allow_are_both_reported() {
    // The shipped example: the bucket policy's KMS-key deny and an identity policy that names
    // the bucket instead of its objects.
    let doc = scenario("two-causes.json");
    let c = causes(&run("two-causes.json", &doc));
    let ids: Vec<&str> = c.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "bucket-policy-explicit-deny",
            "identity-policy-missing-put-object"
        ]
    );
    assert!(
        still_denied_by(&c[0].1, "no identity-based policy allows it"),
        "{:?}",
        c[0].1
    );
    assert!(still_denied_by(&c[1].1, "explicit deny"), "{:?}", c[1].1);
}

#[test]
fn the_explicit_deny_comes_first_whatever_the_rule_ids() {
    // An SCP deny (`scp-denies-s3`, which sorts after `identity-...`) with a missing identity
    // Allow: the explicit deny still leads.
    let mut doc = scenario("scp-denies-s3.json");
    narrow_identity_policy(&mut doc);
    let c = causes(&run("scp-two-causes.json", &doc));
    let ids: Vec<&str> = c.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["scp-denies-s3", "identity-policy-missing-put-object"]);
    assert!(
        still_denied_by(&c[0].1, "no identity-based policy allows it"),
        "{:?}",
        c[0].1
    );
    assert!(still_denied_by(&c[1].1, "explicit deny"), "{:?}", c[1].1);
}
