//! "Not enabled / not in use / not applicable" is not "unreadable": an organization policy type
//! that is not enabled (AWS Organizations User Guide, Enabling and disabling a policy type), an
//! organization with consolidated billing only, an account in no organization, a bucket without
//! a policy or Block Public Access configuration, no session policy, no VPC endpoint... leave
//! the upload allowed, with no stand-in and nothing missing; the same evidence honestly
//! unreadable makes it indeterminate and names the IAM action that would read it.

use why403_core::analysis::{Analysis, CheckOutcome, Verdict};
use why403_core::eval::Layer;
use why403_core::evidence::{
    Evidence, Identity, IdentityKind, KmsKey, ObjectOwnership, OrgLevel, OrgPolicyType, OrgRoot,
    Organization, PublicAccessBlock, RootPolicyType, Slot,
};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::UploadRequest;

const CALLER: &str = "111122223333";
const OWNER: &str = "444455556666";
const MANAGEMENT: &str = "999988887777";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const SCP_FULL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const RCP_FULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
const PATH_NEEDS: &[&str] = &[
    "organizations:ListParents",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
];

fn policy(name: &str, kind: PolicyKind, text: &str) -> Policy {
    Policy::parse(name, kind, text).unwrap()
}

fn levels(account: &str, kind: PolicyKind, text: &str) -> Slot<Vec<OrgLevel>> {
    Slot::Collected(
        ["r-a1b2", account]
            .iter()
            .map(|t| OrgLevel {
                target_id: (*t).into(),
                name: None,
                policies: vec![policy("full", kind, text)],
            })
            .collect(),
    )
}

fn root(types: &[(&str, &str)]) -> Slot<OrgRoot> {
    Slot::Collected(OrgRoot {
        id: "r-a1b2".into(),
        name: Some("Root".into()),
        policy_types: types
            .iter()
            .map(|(t, s)| RootPolicyType {
                policy_type: (*t).into(),
                status: (*s).into(),
            })
            .collect(),
    })
}

/// A member account's organization with SCPs and RCPs enabled and `FullAWSAccess` /
/// `RCPFullAWSAccess` at every level.
fn org(account: &str) -> Organization {
    Organization {
        id: "o-a1b2c3d4e5".into(),
        management_account: MANAGEMENT.into(),
        root: root(&[
            ("SERVICE_CONTROL_POLICY", "ENABLED"),
            ("RESOURCE_CONTROL_POLICY", "ENABLED"),
        ]),
        scps: levels(account, PolicyKind::Scp, SCP_FULL),
        rcps: levels(account, PolicyKind::Rcp, RCP_FULL),
    }
}

fn unreadable_path() -> Slot<Vec<OrgLevel>> {
    Slot::missing("AccessDenied from organizations:ListParents", PATH_NEEDS)
}

/// Alice uploads to a bucket of her own account (a member of an organization); her identity
/// policy allows everything; every other piece of evidence is read.
fn world() -> (UploadRequest, Evidence) {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "k.txt");
    req.principal = Some(format!("arn:aws:iam::{CALLER}:user/alice"));
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    ev.identity = Slot::Collected(Identity {
        kind: IdentityKind::User,
        arn: format!("arn:aws:iam::{CALLER}:user/alice"),
        name: "alice".into(),
        path: "/".into(),
        id: "AIDAEXAMPLE".into(),
        tags: Default::default(),
        policies: vec![policy(
            "inline policy P of user alice",
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}"#,
        )],
        groups: vec![],
        boundary: None,
    });
    ev.session_policy = Slot::NotApplicable;
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected(CALLER.into());
    ev.bucket.policy = Slot::Absent;
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Absent;
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Absent;
    ev.kms_key = Slot::NotApplicable;
    ev.caller_org = Slot::Collected(org(CALLER));
    ev.bucket_org = Slot::NotApplicable;
    (req, ev)
}

/// The same upload by a user of `CALLER` to a bucket of `OWNER` that grants `CALLER`.
fn cross_account() -> (UploadRequest, Evidence) {
    let (req, mut ev) = world();
    ev.bucket.owner_account = Slot::Collected(OWNER.into());
    ev.bucket.policy = Slot::Collected(policy(
        "bucket policy",
        PolicyKind::Resource,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{CALLER}:root"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}}]}}"#
        ),
    ));
    ev.account_public_access_block = Slot::Absent;
    ev.bucket_org = Slot::Collected(org(OWNER));
    (req, ev)
}

/// Allowed, with no stand-in policy and nothing missing in any check.
#[track_caller]
fn assert_allowed(req: &UploadRequest, ev: &Evidence) {
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Allowed, "{:#?}", a.checks);
    for c in &a.checks {
        assert!(c.synthetic.is_empty(), "{}: {:?}", c.action, c.synthetic);
        assert!(c.missing.is_empty(), "{}: {:?}", c.action, c.missing);
        assert!(c.worst.is_none(), "{}: {:?}", c.action, c.worst);
    }
}

/// Indeterminate, naming `what` with the IAM action `needs` among the missing evidence.
#[track_caller]
fn assert_indeterminate(req: &UploadRequest, ev: &Evidence, what: &str, needs: &str) {
    let a = Analysis::new(req.clone(), ev.clone());
    let Verdict::Indeterminate { missing } = &a.verdict else {
        panic!("expected indeterminate, got {}: {:#?}", a.verdict, a.checks);
    };
    assert!(
        missing
            .iter()
            .any(|m| m.what == what && m.unavailable.needs.iter().any(|n| n == needs)),
        "`{what}` needing `{needs}` not in {missing:#?}"
    );
}

#[test]
fn the_baselines_are_allowed() {
    let (req, ev) = world();
    assert_allowed(&req, &ev);
    let (req, ev) = cross_account();
    assert_allowed(&req, &ev);
}

#[test]
fn a_policy_type_that_is_not_enabled_does_not_apply() {
    // PolicyTypeNotEnabledException from ListPoliciesForTarget at every level, the root's
    // PolicyTypes without the type, or consolidated billing only: the sources give `Absent`.
    for t in [OrgPolicyType::Scp, OrgPolicyType::Rcp] {
        let (req, mut ev) = world();
        let o = ev.caller_org.get_mut().unwrap();
        match t {
            OrgPolicyType::Scp => o.scps = Slot::Absent,
            OrgPolicyType::Rcp => o.rcps = Slot::Absent,
        }
        assert!(o.policy_type_off(t));
        assert_allowed(&req, &ev);
    }
    let (req, mut ev) = cross_account();
    ev.bucket_org.get_mut().unwrap().rcps = Slot::Absent;
    assert_allowed(&req, &ev);
}

#[test]
fn consolidated_billing_applies_neither_scps_nor_rcps() {
    let (req, mut ev) = world();
    let o = ev.caller_org.get_mut().unwrap();
    (o.scps, o.rcps, o.root) = (Slot::Absent, Slot::Absent, root(&[]));
    assert_allowed(&req, &ev);
    let (req, mut ev) = cross_account();
    for o in [ev.caller_org.get_mut(), ev.bucket_org.get_mut()] {
        let o = o.unwrap();
        (o.scps, o.rcps) = (Slot::Absent, Slot::Absent);
    }
    assert_allowed(&req, &ev);
}

#[test]
fn the_roots_policy_types_decide_when_the_path_is_unreadable() {
    // A member account without the management account's credentials: the path is
    // unreadable, but the root shows which types are enabled.
    let (req, mut ev) = world();
    let o = ev.caller_org.get_mut().unwrap();
    (o.scps, o.rcps) = (unreadable_path(), unreadable_path());
    o.root = root(&[("TAG_POLICY", "ENABLED")]);
    assert!(o.policy_type_off(OrgPolicyType::Scp) && o.policy_type_off(OrgPolicyType::Rcp));
    assert_allowed(&req, &ev);

    // SCPs enabled, RCPs not: only the SCPs are missing.
    let o = ev.caller_org.get_mut().unwrap();
    o.root = root(&[("SERVICE_CONTROL_POLICY", "ENABLED")]);
    let a = Analysis::new(req.clone(), ev.clone());
    let c = &a.checks[0];
    assert_eq!(c.outcome, CheckOutcome::Indeterminate);
    assert_eq!(c.synthetic, [(Layer::Scp, 0)]);
    assert_indeterminate(
        &req,
        &ev,
        "service control policies",
        "organizations:ListParents",
    );

    // The bucket owner's organization, across accounts.
    let (req, mut ev) = cross_account();
    let o = ev.bucket_org.get_mut().unwrap();
    o.rcps = unreadable_path();
    o.root = root(&[("SERVICE_CONTROL_POLICY", "ENABLED")]);
    assert_allowed(&req, &ev);
}

#[test]
fn an_enabled_or_changing_policy_type_that_cannot_be_read_is_indeterminate() {
    for status in ["ENABLED", "PENDING_ENABLE", "PENDING_DISABLE"] {
        let (req, mut ev) = cross_account();
        let o = ev.bucket_org.get_mut().unwrap();
        o.rcps = Slot::missing(
            "AccessDenied from organizations:ListPoliciesForTarget",
            &["organizations:ListPoliciesForTarget"],
        );
        o.root = root(&[("RESOURCE_CONTROL_POLICY", status)]);
        assert!(!o.policy_type_off(OrgPolicyType::Rcp), "{status}");
        assert_indeterminate(
            &req,
            &ev,
            "resource control policies",
            "organizations:ListPoliciesForTarget",
        );
    }
    // The root unread: nothing shows the type is off.
    let (req, mut ev) = world();
    let o = ev.caller_org.get_mut().unwrap();
    o.scps = unreadable_path();
    o.root = Slot::missing("AccessDenied", &["organizations:ListRoots"]);
    assert_indeterminate(
        &req,
        &ev,
        "service control policies",
        "organizations:ListParents",
    );
}

#[test]
fn an_account_in_no_organization_has_no_scps_or_rcps() {
    // AWSOrganizationsNotInUseException from DescribeOrganization.
    let (req, mut ev) = world();
    ev.caller_org = Slot::Absent;
    assert_allowed(&req, &ev);
    let (req, mut ev) = cross_account();
    (ev.caller_org, ev.bucket_org) = (Slot::Absent, Slot::Absent);
    assert_allowed(&req, &ev);
    // Unreadable organizations are not "none".
    let (req, mut ev) = world();
    ev.caller_org = Slot::missing("AccessDenied", &["organizations:DescribeOrganization"]);
    assert_indeterminate(
        &req,
        &ev,
        "the caller's organization (SCPs)",
        "organizations:DescribeOrganization",
    );
    let (req, mut ev) = cross_account();
    ev.bucket_org = Slot::missing("AccessDenied", &["organizations:DescribeOrganization"]);
    assert_indeterminate(
        &req,
        &ev,
        "the resource owner's organization (RCPs)",
        "organizations:DescribeOrganization",
    );
}

#[test]
fn the_management_accounts_own_upload_ignores_unreadable_policies() {
    // SCPs do not restrict the management account, nor RCPs its resources.
    let (mut req, mut ev) = world();
    req.principal = Some(format!("arn:aws:iam::{MANAGEMENT}:user/alice"));
    ev.bucket.owner_account = Slot::Collected(MANAGEMENT.into());
    if let Slot::Collected(i) = &mut ev.identity {
        i.arn = format!("arn:aws:iam::{MANAGEMENT}:user/alice");
    }
    let o = ev.caller_org.get_mut().unwrap();
    (o.scps, o.rcps) = (unreadable_path(), unreadable_path());
    assert_allowed(&req, &ev);
}

#[test]
fn rcps_not_enabled_do_not_apply_to_the_kms_key_either() {
    let (mut req, mut ev) = world();
    req.headers
        .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
    req.headers.insert(
        "x-amz-server-side-encryption-aws-kms-key-id".into(),
        KEY.into(),
    );
    ev.kms_key = Slot::Collected(KmsKey {
        arn: KEY.into(),
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        account: CALLER.into(),
        region: "us-east-1".into(),
        state: "Enabled".into(),
        manager: "CUSTOMER".into(),
        spec: "SYMMETRIC_DEFAULT".into(),
        usage: "ENCRYPT_DECRYPT".into(),
        policy: Slot::Collected(policy(
            "key policy",
            PolicyKind::KeyPolicy,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{CALLER}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
            ),
        )),
        grants: Slot::Collected(vec![]),
    });
    assert_allowed(&req, &ev);
    let o = ev.caller_org.get_mut().unwrap();
    o.rcps = unreadable_path();
    o.root = root(&[("SERVICE_CONTROL_POLICY", "ENABLED")]);
    assert_allowed(&req, &ev);
    let o = ev.caller_org.get_mut().unwrap();
    o.root = Slot::missing("AccessDenied", &["organizations:ListRoots"]);
    let a = Analysis::new(req, ev);
    assert!(matches!(a.verdict, Verdict::Indeterminate { .. }));
    assert!(
        a.checks
            .iter()
            .all(|c| c.outcome == CheckOutcome::Indeterminate && c.is_synthetic(Layer::Rcp, 0)),
        "{:#?}",
        a.checks
    );
}

/// Each other "there is none" marker against its unreadable counterpart, in a request where
/// the evidence matters.
#[test]
fn every_other_none_marker_is_not_unreadable() {
    type Edit = fn(&mut UploadRequest, &mut Evidence, bool);
    let cases: &[(&str, &str, Edit)] = &[
        // NoSuchBucketPolicy
        ("bucket policy", "s3:GetBucketPolicy", |_, ev, none| {
            ev.bucket.policy = if none {
                Slot::Absent
            } else {
                Slot::missing("AccessDenied", &["s3:GetBucketPolicy"])
            }
        }),
        // OwnershipControlsNotFoundError, with an ACL header (the bucket behaves as ObjectWriter)
        (
            "the bucket's Object Ownership setting",
            "s3:GetBucketOwnershipControls",
            |req, ev, none| {
                req.headers.insert("x-amz-acl".into(), "private".into());
                ev.bucket.ownership = if none {
                    Slot::Absent
                } else {
                    Slot::missing("AccessDenied", &["s3:GetBucketOwnershipControls"])
                }
            },
        ),
        // ServerSideEncryptionConfigurationNotFoundError, with an SSE-C upload
        (
            "the bucket's default encryption (whether it blocks SSE-C)",
            "s3:GetEncryptionConfiguration",
            |req, ev, none| {
                req.headers.insert(
                    "x-amz-server-side-encryption-customer-algorithm".into(),
                    "AES256".into(),
                );
                ev.bucket.encryption = if none {
                    Slot::Absent
                } else {
                    Slot::missing("AccessDenied", &["s3:GetEncryptionConfiguration"])
                }
            },
        ),
        // A role session created without a session policy
        ("session policy", "", |req, ev, none| {
            req.principal = Some(format!("arn:aws:sts::{CALLER}:assumed-role/R/s"));
            if let Slot::Collected(i) = &mut ev.identity {
                (i.kind, i.arn, i.name) = (
                    IdentityKind::Role,
                    format!("arn:aws:iam::{CALLER}:role/R"),
                    "R".into(),
                );
            }
            ev.session_policy = if none {
                Slot::Absent
            } else {
                Slot::missing("session policies cannot be read from AWS", &[])
            }
        }),
        // An endpoint without a policy (full access)
        (
            "VPC endpoint policy",
            "ec2:DescribeVpcEndpoints",
            |req, ev, none| {
                req.network.vpc_endpoint = Some("vpce-1a2b3c4d".into());
                ev.vpc_endpoint_policy = if none {
                    Slot::Absent
                } else {
                    Slot::missing("AccessDenied", &["ec2:DescribeVpcEndpoints"])
                }
            },
        ),
        // No identity policies read at all (a permissions boundary may exist)
        (
            "identity policies and permissions boundary",
            "iam:GetAccountAuthorizationDetails",
            |_, ev, none| {
                if !none {
                    ev.identity =
                        Slot::missing("AccessDenied", &["iam:GetAccountAuthorizationDetails"]);
                }
            },
        ),
    ];
    for (what, needs, edit) in cases {
        let (mut req, mut ev) = world();
        edit(&mut req, &mut ev, true);
        assert_allowed(&req, &ev);
        let (mut req, mut ev) = world();
        edit(&mut req, &mut ev, false);
        let a = Analysis::new(req.clone(), ev.clone());
        let Verdict::Indeterminate { missing } = &a.verdict else {
            panic!("{what}: expected indeterminate, got {}", a.verdict);
        };
        let m = missing
            .iter()
            .find(|m| m.what == *what)
            .unwrap_or_else(|| panic!("{what} not in {missing:#?}"));
        if needs.is_empty() {
            assert!(m.unavailable.reason.contains("cannot be read from AWS"));
        } else {
            assert_eq!(m.unavailable.needs, [*needs], "{what}");
        }
    }
    // No Block Public Access configuration at either level: all four settings off.
    let (req, mut ev) = cross_account();
    ev.bucket.public_access_block = Slot::Absent;
    ev.account_public_access_block = Slot::Absent;
    assert_allowed(&req, &ev);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    assert_allowed(&req, &ev);
    // The bucket in the caller's own account: the bucket owner's organization does not
    // apply (its RCPs are the caller's organization's).
    let (req, ev) = world();
    assert_eq!(ev.bucket_org, Slot::NotApplicable);
    assert_allowed(&req, &ev);
}
