//! Organization conditions end to end: the identity-perimeter RCP of AWS's data perimeter
//! guidance (deny unless the caller is in the organization, `aws:PrincipalIsAWSService` false)
//! and a bucket policy that grants one OU by `aws:PrincipalOrgPaths`, each deciding a
//! cross-account upload by where the caller's account sits.

use why403_core::analysis::{Analysis, Verdict};
use why403_core::eval::{Decision, Layer};
use why403_core::evidence::{
    Evidence, Identity, IdentityKind, ObjectOwnership, OrgLevel, Organization, PublicAccessBlock,
    Slot,
};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::UploadRequest;

const OWNER: &str = "444455556666";
const ORG: &str = "o-a1b2c3d4e5";

fn policy(name: &str, kind: PolicyKind, text: &str) -> Policy {
    Policy::parse(name, kind, text).unwrap()
}

fn full_scp() -> Policy {
    policy(
        "SCP p-FullAWSAccess",
        PolicyKind::Scp,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
}

fn full_rcp() -> Policy {
    policy(
        "RCP p-RCPFullAWSAccess",
        PolicyKind::Rcp,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
    )
}

/// The levels from the root `r-ab12` through `ous` to `account`; the root's carry `extra`.
fn levels(ous: &[&str], account: &str, full: &Policy, extra: Option<&Policy>) -> Vec<OrgLevel> {
    std::iter::once("r-ab12")
        .chain(ous.iter().copied())
        .chain([account])
        .enumerate()
        .map(|(i, t)| OrgLevel {
            target_id: t.into(),
            name: None,
            policies: std::iter::once(full.clone())
                .chain(extra.filter(|_| i == 0).cloned())
                .collect(),
        })
        .collect()
}

/// `account` in organization `ORG`, under the OUs `ous`; the root has `rcp` besides
/// `RCPFullAWSAccess`.
fn member(account: &str, ous: &[&str], rcp: Option<&Policy>) -> Organization {
    Organization {
        id: ORG.into(),
        management_account: "999999999999".into(),
        scps: Slot::Collected(levels(ous, account, &full_scp(), None)),
        rcps: Slot::Collected(levels(ous, account, &full_rcp(), rcp)),
        root: Slot::missing("not read", &["organizations:ListRoots"]),
    }
}

/// User alice of `caller` uploads to a bucket of `OWNER` (in `ORG`, directly under the root)
/// whose policy is `bucket_policy`; her own policy allows the upload.
fn world(
    caller: &str,
    caller_org: Slot<Organization>,
    bucket_policy: &str,
) -> (UploadRequest, Evidence) {
    let arn = format!("arn:aws:iam::{caller}:user/alice");
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "incoming/report.csv");
    req.principal = Some(arn.clone());
    req.region = Some("us-east-1".into());
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    ev.identity = Slot::Collected(Identity {
        kind: IdentityKind::User,
        arn,
        name: "alice".into(),
        path: "/".into(),
        id: "AIDAJQABLZS4A3QDU576Q".into(),
        tags: Default::default(),
        policies: vec![policy(
            "inline policy AllowUploads of user alice",
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
        )],
        groups: vec![],
        boundary: None,
    });
    ev.session_policy = Slot::NotApplicable;
    ev.caller_org = caller_org;
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected(OWNER.into());
    ev.bucket.policy = Slot::Collected(policy(
        "bucket policy of amzn-s3-demo-bucket",
        PolicyKind::Resource,
        bucket_policy,
    ));
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.kms_key = Slot::NotApplicable;
    ev.bucket_org = Slot::Collected(member(OWNER, &[], None));
    (req, ev)
}

/// A bucket policy that grants the upload to everyone (the RCP is what restricts it).
const OPEN_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Uploads","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#;

/// The identity-perimeter statement of AWS's RCP examples (AWS KMS Developer Guide, "Resource
/// control policies in AWS KMS"; the data perimeter policy examples), for S3: deny unless the
/// caller belongs to the organization, except AWS service principals. `bool_op` is `Bool` as
/// the KMS guide writes it, or `BoolIfExists`.
fn perimeter_rcp(bool_op: &str) -> Policy {
    policy(
        "RCP p-perimeter (EnforceOrgIdentities) attached to r-ab12",
        PolicyKind::Rcp,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"EnforceOrgIdentities","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{{"StringNotEqualsIfExists":{{"aws:PrincipalOrgID":"{ORG}"}},"{bool_op}":{{"aws:PrincipalIsAWSService":"false"}}}}}}]}}"#
        ),
    )
}

fn with_perimeter(bool_op: &str, caller: &str, caller_org: Slot<Organization>) -> Analysis {
    let (req, mut ev) = world(caller, caller_org, OPEN_BUCKET);
    ev.bucket_org = Slot::Collected(member(OWNER, &[], Some(&perimeter_rcp(bool_op))));
    Analysis::new(req, ev)
}

#[test]
fn the_identity_perimeter_rcp_refuses_a_caller_outside_the_organization() {
    for op in ["Bool", "BoolIfExists"] {
        // An account in no organization at all.
        let a = with_perimeter(op, "777788889999", Slot::Absent);
        assert_eq!(a.verdict, Verdict::Denied, "{op}");
        let c = &a.checks[0];
        assert_eq!(c.eval.decision, Decision::ExplicitlyDenied, "{op}");
        assert!(
            c.eval.deciding.iter().all(|at| at.layer == Layer::Rcp),
            "{op}"
        );
        // An account of another organization.
        let mut other = member("777788889999", &[], None);
        other.id = "o-zz99yy88xx".into();
        let a = with_perimeter(op, "777788889999", Slot::Collected(other));
        assert_eq!(a.verdict, Verdict::Denied, "{op}");
        assert_eq!(
            a.checks[0].eval.decision,
            Decision::ExplicitlyDenied,
            "{op}"
        );
    }
}

#[test]
fn the_identity_perimeter_rcp_allows_a_caller_inside_the_organization() {
    for op in ["Bool", "BoolIfExists"] {
        let inside = member("111122223333", &["ou-ab12-11111111"], None);
        let a = with_perimeter(op, "111122223333", Slot::Collected(inside));
        assert_eq!(a.verdict, Verdict::Allowed, "{op}");
    }
    // Without the RCP the outside caller is allowed: the RCP is what refuses it.
    let (req, ev) = world("777788889999", Slot::Absent, OPEN_BUCKET);
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn the_identity_perimeter_rcp_leaves_an_unread_callers_organization_open() {
    let a = with_perimeter(
        "Bool",
        "777788889999",
        Slot::missing("AccessDenied", &["organizations:DescribeOrganization"]),
    );
    let Verdict::Indeterminate { missing } = &a.verdict else {
        panic!("{:?}", a.verdict)
    };
    assert!(
        missing.iter().any(|m| m.what.contains("aws:PrincipalOrgID")
            && m.unavailable.needs == ["organizations:DescribeOrganization"]),
        "{missing:?}"
    );
}

/// The bucket policy grants uploads to the accounts in `ou-ab12-11111111` and its child OUs.
const OU_GRANT: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"UploadsFromOneOu","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"]}}}]}"#;

#[test]
fn an_org_paths_grant_allows_a_caller_in_the_ou() {
    for ous in [
        &["ou-ab12-11111111"][..],
        &["ou-ab12-11111111", "ou-ab12-22222222"][..],
    ] {
        let (req, ev) = world(
            "111122223333",
            Slot::Collected(member("111122223333", ous, None)),
            OU_GRANT,
        );
        let a = Analysis::new(req, ev);
        assert_eq!(a.verdict, Verdict::Allowed, "{ous:?}");
    }
}

#[test]
fn an_org_paths_grant_refuses_a_caller_in_another_ou() {
    for ous in [&["ou-ab12-33333333"][..], &[][..]] {
        let (req, ev) = world(
            "111122223333",
            Slot::Collected(member("111122223333", ous, None)),
            OU_GRANT,
        );
        let a = Analysis::new(req, ev);
        assert_eq!(a.verdict, Verdict::Denied, "{ous:?}");
        let c = &a.checks[0];
        assert_eq!(c.eval.decision, Decision::ImplicitlyDenied);
        assert!(c.eval.blocked_by.iter().any(|b| b.layer == Layer::Resource));
    }
}

#[test]
fn an_org_paths_grant_with_string_equals_takes_only_accounts_directly_in_the_ou() {
    let direct = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"ForAnyValue:StringEquals":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"}}}]}"#;
    let verdict = |ous: &[&str]| {
        let (req, ev) = world(
            "111122223333",
            Slot::Collected(member("111122223333", ous, None)),
            direct,
        );
        Analysis::new(req, ev).verdict
    };
    assert_eq!(verdict(&["ou-ab12-11111111"]), Verdict::Allowed);
    assert_eq!(
        verdict(&["ou-ab12-11111111", "ou-ab12-22222222"]),
        Verdict::Denied
    );
}
