//! The diagnosis's consistency as properties, on generated scenarios (issue 16): a random
//! identity policy, bucket policy, default encryption, key policy, Object Ownership, Block
//! Public Access, request headers and transport around one upload, diagnosed with every
//! built-in rule. Whatever the scenario:
//!
//! - an allowed upload has no cause;
//! - every check's outcome is what the policy engine decides for the check's own request,
//!   unless S3 or KMS refuses it outside policy evaluation;
//! - a confirmed cause's fix, applied alone, changes the check it explains, and the upload is
//!   then allowed or something else is named as still refusing it;
//! - adding an explicit deny that matches the upload never leaves it allowed;
//! - making one piece of evidence unreadable never turns denied into allowed or allowed into
//!   denied: the verdict stays, or becomes indeterminate.

use proptest::prelude::*;
use serde_json::{Value, json};
use why403_core::analysis::{CheckOutcome, Verdict};
use why403_core::eval::Decision;
use why403_core::finding::{Confidence, Diagnosis, Role, Verification, apply_changes, diagnose};

const BUCKET: &str = "amzn-s3-demo-bucket";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn template() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/scenarios/two-causes.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn action() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("s3:PutObject")),
        Just(json!("s3:Put*")),
        Just(json!("s3:*")),
        Just(json!("s3:GetObject")),
        Just(json!(["s3:PutObject", "s3:PutObjectAcl"])),
        Just(json!("kms:GenerateDataKey")),
        Just(json!(["kms:GenerateDataKey", "kms:Decrypt"])),
        Just(json!("kms:*")),
        Just(json!("*")),
    ]
}

fn resource() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(format!("arn:aws:s3:::{BUCKET}/*"))),
        Just(json!(format!("arn:aws:s3:::{BUCKET}"))),
        Just(json!(format!("arn:aws:s3:::{BUCKET}/reports/*"))),
        Just(json!(format!("arn:aws:s3:::{BUCKET}/other/*"))),
        Just(json!("arn:aws:s3:::amzn-s3-demo-bucket2/*")),
        Just(json!(KEY_ARN)),
        Just(json!("*")),
    ]
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(json!({"Bool": {"aws:SecureTransport": "false"}}))),
        1 => Just(Some(json!({"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}))),
        1 => Just(Some(json!({"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}))),
        1 => Just(Some(json!({"Null": {"s3:x-amz-server-side-encryption": "true"}}))),
        1 => Just(Some(json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}))),
        1 => Just(Some(json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))),
    ]
}

fn statement(resource_side: bool) -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.7),
        action(),
        resource(),
        condition(),
        prop_oneof![
            Just(json!("*")),
            Just(json!({"AWS": ALICE})),
            Just(json!({"AWS": "arn:aws:iam::111122223333:root"})),
            Just(json!({"AWS": "444455556666"})),
        ],
    )
        .prop_map(move |(allow, action, resource, condition, principal)| {
            let mut s = json!({
                "Effect": if allow { "Allow" } else { "Deny" },
                "Action": action,
                "Resource": resource,
            });
            if let Some(c) = condition {
                s["Condition"] = c;
            }
            if resource_side {
                s["Principal"] = principal;
            }
            s
        })
}

fn policy(resource_side: bool) -> impl Strategy<Value = Value> {
    prop::collection::vec(statement(resource_side), 1..4)
        .prop_map(|st| json!({"Version": "2012-10-17", "Statement": st}))
}

/// One generated scenario, as scenario-file JSON.
fn scenario() -> impl Strategy<Value = Value> {
    (
        policy(false),
        prop::option::of(policy(true)),
        0..3u8,
        prop::option::of(policy(true)),
        0..3u8,
        prop::collection::vec(any::<bool>(), 4),
        (0..3u8, 0..3u8, any::<bool>()),
    )
        .prop_map(
            |(identity, bucket_policy, encryption, key_policy, ownership, pab, (acl, sse, tls))| {
                let mut s = template();
                let ev = &mut s["evidence"];
                ev["account_authorization_details"]["UserDetailList"][0]["UserPolicyList"][0]
                    ["PolicyDocument"] = identity;
                ev["bucket_policy"] = match bucket_policy {
                    Some(p) => json!({"Policy": p.to_string()}),
                    None => json!({"$absent": "NoSuchBucketPolicy"}),
                };
                ev["bucket_encryption"]["ServerSideEncryptionConfiguration"]["Rules"][0]
                    ["ApplyServerSideEncryptionByDefault"] = match encryption {
                    0 => json!({"SSEAlgorithm": "AES256"}),
                    _ => json!({"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN}),
                };
                if let Some(p) = key_policy {
                    // A key policy always lets the account's IAM policies decide, plus the
                    // generated statements.
                    let mut st = vec![json!({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"})];
                    st.extend(p["Statement"].as_array().unwrap().iter().cloned());
                    ev["kms_key_policy"] =
                        json!({"Policy": json!({"Version": "2012-10-17", "Statement": st}).to_string()});
                }
                ev["bucket_ownership_controls"]["OwnershipControls"]["Rules"][0]["ObjectOwnership"] =
                    json!(["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"][ownership as usize]);
                let names = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"];
                for (n, on) in names.iter().zip(&pab) {
                    ev["bucket_public_access_block"]["PublicAccessBlockConfiguration"][n] = json!(on);
                }
                let headers = &mut s["request"]["headers"];
                match acl {
                    1 => headers["x-amz-acl"] = json!("bucket-owner-full-control"),
                    2 => headers["x-amz-acl"] = json!("public-read"),
                    _ => {}
                }
                match sse {
                    1 => headers["x-amz-server-side-encryption"] = json!("AES256"),
                    2 => {
                        headers["x-amz-server-side-encryption"] = json!("aws:kms");
                        headers["x-amz-server-side-encryption-aws-kms-key-id"] = json!(KEY_ARN);
                    }
                    _ => {}
                }
                s["request"]["network"]["tls"] = json!(tls);
                // The KMS key's sections only when the upload uses it (the reader refuses
                // evidence the upload does not use).
                let uses_kms = match sse {
                    2 => true,
                    1 => false,
                    _ => encryption != 0,
                };
                if !uses_kms {
                    let ev = s["evidence"].as_object_mut().unwrap();
                    for k in ["kms_key", "kms_key_policy", "kms_grants"] {
                        ev.remove(k);
                    }
                }
                s
            },
        )
}

fn run(s: &Value) -> Diagnosis {
    let sc = why403_fixtures_source::parse("generated.json", &s.to_string())
        .unwrap_or_else(|e| panic!("{e}\n{s:#}"));
    diagnose(sc.request, sc.evidence, &why403_rules::registry())
}

fn is_cause(d: &Diagnosis) -> bool {
    d.findings
        .iter()
        .any(|f| matches!(f.role, Role::Cause | Role::Contributing))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_diagnosis_is_consistent(s in scenario()) {
        let d = run(&s);
        // An allowed upload has no cause.
        if d.verdict == Verdict::Allowed {
            prop_assert!(!is_cause(&d), "{:#?}", d.findings);
        }
        // Each check's outcome is the policy engine's for its own request, unless S3 or KMS
        // refuses outside policy evaluation.
        for c in &d.analysis.checks {
            let e = c.set.evaluate(&c.request);
            if c.blocks.is_empty() && c.missing.is_empty() && c.kms_grant.is_none() {
                let allowed = c.outcome == CheckOutcome::Allowed;
                prop_assert_eq!(allowed, e.decision == Decision::Allowed, "{}: {:?}", c.action, e.decision);
            }
        }
        // A confirmed cause's fix, applied, changes the check it explains (its outcome, its
        // evaluation, or S3's and KMS's own refusals), and its verification says why when the
        // upload is still refused.
        for f in d.findings.iter().filter(|f| f.role == Role::Cause && f.confidence == Confidence::Confirmed) {
            let Some(fix) = &f.fix else { continue };
            match &fix.verified {
                Verification::Resolves => {}
                Verification::StillDenied { by } => prop_assert!(!by.is_empty(), "{}", f.rule),
                Verification::Indeterminate { missing } => prop_assert!(!missing.is_empty()),
                Verification::NotChecked { why } => prop_assert!(!why.is_empty()),
            }
            let Ok(after) = apply_changes(&d.analysis, &fix.changes) else { continue };
            let claimed: Vec<&str> = f.claims.iter().map(|c| c.check.as_str()).collect();
            for before in d.analysis.checks.iter().filter(|c| claimed.contains(&c.action.as_str())) {
                let now = after.checks.iter().find(|c| c.action == before.action);
                let changed = now.is_none_or(|now| {
                    now.outcome != before.outcome
                        || format!("{:?}", now.eval) != format!("{:?}", before.eval)
                        || format!("{:?}", now.blocks) != format!("{:?}", before.blocks)
                });
                prop_assert!(changed, "{}: the fix leaves `{}` as it was", f.rule, before.action);
            }
        }
    }

    #[test]
    fn a_matching_explicit_deny_never_leaves_the_upload_allowed(s in scenario()) {
        let mut denied = s.clone();
        let stmts = &mut denied["evidence"]["account_authorization_details"]["UserDetailList"][0]
            ["UserPolicyList"][0]["PolicyDocument"]["Statement"];
        stmts.as_array_mut().unwrap().push(json!({
            "Sid": "DenyAll", "Effect": "Deny", "Action": "s3:PutObject",
            "Resource": format!("arn:aws:s3:::{BUCKET}/*")}));
        let d = run(&denied);
        prop_assert_eq!(&d.verdict, &Verdict::Denied);
        prop_assert!(is_cause(&d));
    }

    #[test]
    fn unreadable_evidence_never_flips_the_verdict(s in scenario(), which in 0..5usize) {
        let before = run(&s).verdict;
        let section = ["bucket_policy", "kms_key_policy", "bucket_ownership_controls",
            "bucket_public_access_block", "account_authorization_details"][which];
        let mut hidden = s.clone();
        hidden["evidence"][section] = json!({"$unavailable": "AccessDenied (generated)"});
        let after = run(&hidden).verdict;
        let flipped = matches!(
            (&before, &after),
            (Verdict::Allowed, Verdict::Denied) | (Verdict::Denied, Verdict::Allowed)
        );
        prop_assert!(!flipped, "{section}: {before:?} became {after:?}");
        if !matches!(after, Verdict::Indeterminate { .. }) {
            prop_assert_eq!(
                std::mem::discriminant(&before),
                std::mem::discriminant(&after),
                "{}", section
            );
        }
    }
}

/// Found by `the_diagnosis_is_consistent`: an identity policy denies `kms:GenerateDataKey`
/// unless `s3:x-amz-server-side-encryption` is `aws:kms`. S3's request headers are not keys of
/// the KMS call S3 makes, so the deny applies whatever the upload sends: the fix is the
/// statement, never a header.
#[test]
fn a_kms_deny_on_an_s3_header_is_fixed_in_the_statement() {
    let mut s = template();
    s["evidence"]["account_authorization_details"]["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"] = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:PutObject", "kms:GenerateDataKey"], "Resource": "*"},
            {"Sid": "KmsOnlyForSse", "Effect": "Deny", "Action": "kms:GenerateDataKey", "Resource": KEY_ARN,
             "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}}]});
    s["evidence"]["bucket_policy"] = json!({"$absent": "NoSuchBucketPolicy"});
    s["request"]["headers"] = json!({"x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN});
    let d = run(&s);
    assert_eq!(d.verdict, Verdict::Denied);
    let f = d
        .findings
        .iter()
        .find(|f| f.rule.id == "identity-policy-explicit-deny")
        .expect("the explicit deny is found");
    let fix = f.fix.as_ref().expect("with a fix");
    assert!(
        !fix.changes
            .iter()
            .any(|c| matches!(c, why403_core::finding::Change::SetHeader { .. })),
        "{:?}",
        fix.changes
    );
    assert_eq!(fix.verified, Verification::Resolves, "{}", fix.description);
}
