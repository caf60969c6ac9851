//! Resource control policies in the analysis (docs/aws-model.md#aws-organizations, docs/aws-model.md#step-2-resource-control-policies): the RCPs of
//! the resource owner's organization apply, not the caller's; the management account's
//! resources are exempt; every level must allow; and the `AttachRcp` change fixes a level
//! without an Allow.

use why403_core::analysis::{Analysis, Verdict, rcp_organization};
use why403_core::eval::{Decision, Layer};
use why403_core::evidence::{Evidence, ObjectOwnership, OrgLevel, Organization, Slot};
use why403_core::finding::{Change, Verification, verify};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::UploadRequest;

const CALLER: &str = "111122223333";
const OWNER: &str = "444455556666";
const FULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
const DENY_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyS3","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#;

fn rcp(name: &str, text: &str) -> Policy {
    Policy::parse(name, PolicyKind::Rcp, text).unwrap()
}

/// An organization whose path has a root and the account, each with these RCPs.
fn org(management: &str, account: &str, root: Vec<Policy>, leaf: Vec<Policy>) -> Organization {
    Organization {
        id: "o-a1b2c3d4e5".into(),
        management_account: management.into(),
        root: Slot::missing("not read", &["organizations:ListRoots"]),
        scps: Slot::Absent,
        rcps: Slot::Collected(vec![
            OrgLevel {
                target_id: "r-a1b2".into(),
                name: Some("Root".into()),
                policies: root,
            },
            OrgLevel {
                target_id: account.into(),
                name: None,
                policies: leaf,
            },
        ]),
    }
}

/// A user of `CALLER` uploading to a bucket of `OWNER` that grants the caller's account, with
/// an identity policy that allows the upload.
fn world() -> (UploadRequest, Evidence) {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "k.txt");
    req.principal = Some(format!("arn:aws:iam::{CALLER}:user/alice"));
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    let p = Policy::parse(
        "inline policy P of user alice",
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
    )
    .unwrap();
    ev.identity = Slot::Collected(why403_core::evidence::Identity {
        kind: why403_core::evidence::IdentityKind::User,
        arn: format!("arn:aws:iam::{CALLER}:user/alice"),
        name: "alice".into(),
        path: "/".into(),
        id: "AIDAEXAMPLE".into(),
        tags: Default::default(),
        policies: vec![p],
        groups: vec![],
        boundary: None,
    });
    ev.session_policy = Slot::NotApplicable;
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected(OWNER.into());
    ev.bucket.policy = Slot::Collected(
        Policy::parse(
            "bucket policy",
            PolicyKind::Resource,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{CALLER}:root"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}}]}}"#
            ),
        )
        .unwrap(),
    );
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Absent;
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Absent;
    ev.kms_key = Slot::NotApplicable;
    ev.caller_org = Slot::Absent;
    ev.bucket_org = Slot::Absent;
    (req, ev)
}

#[test]
fn the_baseline_is_allowed() {
    let (req, ev) = world();
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn an_rcp_of_the_bucket_owners_organization_denies_a_caller_from_another_account() {
    // AWS: RCPs apply to the resources of member accounts, whoever the caller is.
    let (req, mut ev) = world();
    ev.bucket_org = Slot::Collected(org(
        "999988887777",
        OWNER,
        vec![rcp("full", FULL), rcp("deny", DENY_S3)],
        vec![rcp("full", FULL)],
    ));
    assert!(std::ptr::eq(
        rcp_organization(&ev, Some(OWNER), Some(CALLER)).unwrap(),
        &ev.bucket_org
    ));
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    let c = &a.checks[0];
    assert_eq!(c.eval.decision, Decision::ExplicitlyDenied);
    assert!(c.eval.deciding.iter().all(|at| at.layer == Layer::Rcp));
}

#[test]
fn an_rcp_of_the_callers_organization_does_not_apply_to_another_accounts_bucket() {
    let (req, mut ev) = world();
    ev.caller_org = Slot::Collected(Organization {
        scps: Slot::Collected(vec![]),
        ..org("999988887777", CALLER, vec![rcp("deny", DENY_S3)], vec![])
    });
    assert!(std::ptr::eq(
        rcp_organization(&ev, Some(CALLER), Some(CALLER)).unwrap(),
        &ev.caller_org
    ));
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn rcps_do_not_apply_to_the_management_accounts_resources() {
    let (req, mut ev) = world();
    ev.bucket_org = Slot::Collected(org(OWNER, OWNER, vec![rcp("deny", DENY_S3)], vec![]));
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn a_level_without_an_rcp_allow_denies_and_attach_rcp_fixes_it() {
    // AWS: an Allow is needed at every level from the root to the account.
    let (req, mut ev) = world();
    ev.bucket_org = Slot::Collected(org("999988887777", OWNER, vec![rcp("full", FULL)], vec![]));
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert_eq!(a.checks[0].eval.decision, Decision::ImplicitlyDenied);
    let attach = |level| Change::AttachRcp {
        level,
        name: "RCPFullAWSAccess".into(),
        document: serde_json::from_str(FULL).unwrap(),
    };
    assert_eq!(verify(&a, &[attach(1)]), Verification::Resolves);
    assert!(matches!(
        verify(&a, &[attach(0)]),
        Verification::StillDenied { .. }
    ));
    assert!(matches!(
        verify(&a, &[attach(7)]),
        Verification::NotChecked { .. }
    ));
}

#[test]
fn the_organization_of_a_third_accounts_resource_is_not_the_bucket_owners() {
    // A KMS key of a third account is governed by that account's organization's RCPs, which
    // the evidence does not hold: neither the caller's nor the bucket owner's apply.
    let (_, ev) = world();
    assert!(rcp_organization(&ev, Some("777766665555"), Some(CALLER)).is_none());
    assert!(std::ptr::eq(
        rcp_organization(&ev, None, Some(CALLER)).unwrap(),
        &ev.bucket_org
    ));
}
