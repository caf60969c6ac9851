//! A small denied upload, diagnosed, for the renderer tests: an identity policy allows, the
//! bucket policy (an object inside a scenario file) denies uploads without SSE-KMS.

use why403_core::analysis::{Missing, Verdict};
use why403_core::evidence::{
    Acl, Caller, Evidence, Identity, IdentityKind, ObjectOwnership, PublicAccessBlock, Slot,
    Unavailable,
};
use why403_core::finding::{
    Change, Confidence, Diagnosis, Finding, Fix, PolicyTarget, Role, RuleRef, diagnose, verify,
};
use why403_core::policy::{Origin, Policy, PolicyKind};
use why403_core::rule::{Registry, label};
use why403_core::upload::UploadRequest;

pub const BUCKET_POLICY: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [
      {
        "Sid": "DenyUnencryptedUploads",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
        "Condition": {
          "StringNotEquals": {
            "s3:x-amz-server-side-encryption": "aws:kms"
          }
        }
      }
    ]
  }"#;

const IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowUpload","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#;

fn evidence(bucket_policy: Policy) -> Evidence {
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::Collected(Caller {
        account: "111122223333".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        user_id: "AIDAEXAMPLE".into(),
    });
    let identity = Policy::parse(
        "inline policy upload of user alice",
        PolicyKind::Identity,
        IDENTITY,
    )
    .unwrap_or_else(|e| panic!("identity policy: {e}"));
    ev.identity = Slot::Collected(Identity {
        kind: IdentityKind::User,
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        name: "alice".into(),
        path: "/".into(),
        id: "AIDAEXAMPLE".into(),
        tags: Default::default(),
        policies: vec![identity],
        groups: Vec::new(),
        boundary: None,
    });
    ev.session_policy = Slot::NotApplicable;
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected("111122223333".into());
    ev.bucket.policy = Slot::Collected(bucket_policy);
    ev.bucket.acl = Slot::Collected(Acl {
        owner_id: "owner".into(),
        owner_display_name: None,
        grants: Vec::new(),
    });
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.bucket.request_payer = Slot::NotApplicable;
    ev.account_public_access_block = Slot::Absent;
    ev.kms_key = Slot::NotApplicable;
    ev.caller_org = Slot::Absent;
    ev.bucket_org = Slot::Absent;
    ev
}

/// The bucket policy, placed at line 20, column 17 of `scenario.json`.
pub fn bucket_policy(from_string: bool) -> Policy {
    let mut p = Policy::parse(
        "bucket policy of amzn-s3-demo-bucket",
        PolicyKind::Resource,
        BUCKET_POLICY,
    )
    .unwrap_or_else(|e| panic!("bucket policy: {e}"));
    p.origin = Some(Origin {
        file: "scenario.json".into(),
        line: 20,
        column: 17,
        pointer: "/evidence/bucket/policy".into(),
        from_string,
    });
    p
}

/// The denied upload with a hand-made cause finding (what the bucket-policy rule would say)
/// and a verified fix.
pub fn denied(from_string: bool) -> Diagnosis {
    let request = UploadRequest::new("amzn-s3-demo-bucket", "uploads/report.csv");
    let mut d = diagnose(
        request,
        evidence(bucket_policy(from_string)),
        &Registry::default(),
    );
    assert_eq!(d.verdict, Verdict::Denied);
    let Some(Slot::Collected(p)) = Some(&d.analysis.evidence.bucket.policy) else {
        panic!("bucket policy is collected")
    };
    let st = &p.statements[0];
    let cond = st.condition_span.unwrap_or(st.span);
    let changes = vec![Change::SetHeader {
        name: "x-amz-server-side-encryption".into(),
        value: "aws:kms".into(),
    }];
    let mut fix = Fix::new(
        "send `x-amz-server-side-encryption: aws:kms` with the upload",
        changes,
    );
    fix.verified = verify(&d.analysis, &fix.changes);
    let mut alt = Fix::new(
        "remove statement `DenyUnencryptedUploads` from the bucket policy",
        vec![Change::RemoveStatement {
            target: PolicyTarget::BucketPolicy,
            statement: 0,
        }],
    );
    alt.verified = verify(&d.analysis, &alt.changes);
    d.findings.insert(
        0,
        Finding {
            rule: RuleRef { scope: "builtin".into(), id: "bucket-policy-explicit-deny".into() },
            role: Role::Cause,
            confidence: Confidence::Confirmed,
            message: "explicit deny in statement `DenyUnencryptedUploads` of the bucket policy of `amzn-s3-demo-bucket`"
                .into(),
            check: Some("s3:PutObject".into()),
            labels: vec![
                label(p, st.span, &st.pointer, true, "this statement denies the upload"),
                label(p, cond, &format!("{}/Condition", st.pointer), false, "because the request has no `x-amz-server-side-encryption: aws:kms`"),
            ],
            fix: Some(fix),
            missing: vec![Missing {
                kind: why403_core::rule::EvidenceKind::SessionPolicy,
                what: "session policy".into(),
                unavailable: Unavailable { reason: "session policies cannot be read from AWS".into(), needs: Vec::new() },
            }],
            notes: vec!["the deny applies to every principal, including the bucket owner".into()],
            claims: Vec::new(),
        },
    );
    if let Some(f) = d.findings.get_mut(1) {
        f.fix = Some(alt);
    }
    d
}

/// An upload whose bucket policy could not be read.
pub fn indeterminate() -> Diagnosis {
    let mut ev = evidence(bucket_policy(false));
    ev.bucket.policy = Slot::missing(
        "AccessDenied from s3:GetBucketPolicy",
        &["s3:GetBucketPolicy"],
    );
    diagnose(
        UploadRequest::new("amzn-s3-demo-bucket", "uploads/report.csv"),
        ev,
        &Registry::default(),
    )
}
