//! S3 Block Public Access in the analysis (docs/aws-model.md#bucket-side, docs/aws-model.md#block-public-access): `RestrictPublicBuckets`
//! with a public bucket policy, `IgnorePublicAcls` with a public ACL grant, unreadable
//! settings, and the `SetPublicAccessBlock` change that fixes verify with.

use why403_core::analysis::{Analysis, CheckOutcome, Verdict};
use why403_core::eval::Decision;
use why403_core::evidence::{
    Acl, AclGrant, AclPermission, Evidence, Grantee, ObjectOwnership, OrgPublicAccessBlock,
    PublicAccessBlock, PublicAccessLevel, PublicAccessSetting, Slot, Unavailable,
};
use why403_core::finding::{Change, Verification, verify};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::{Credentials, UploadRequest};

const OWNER: &str = "444455556666";
const OWNER_CANONICAL: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

/// An anonymous upload to a bucket of account `OWNER` with nothing granting it yet.
fn world() -> (UploadRequest, Evidence) {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "k.txt");
    req.credentials = Credentials::Anonymous;
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    ev.identity = Slot::NotApplicable;
    ev.session_policy = Slot::NotApplicable;
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected(OWNER.into());
    ev.bucket.policy = Slot::Absent;
    ev.bucket.acl = Slot::Collected(Acl {
        owner_id: OWNER_CANONICAL.into(),
        owner_display_name: None,
        grants: vec![AclGrant {
            grantee: Grantee::CanonicalUser {
                id: OWNER_CANONICAL.into(),
                display_name: None,
            },
            permission: AclPermission::FullControl,
        }],
    });
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::ObjectWriter);
    ev.bucket.public_access_block = Slot::Absent;
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Absent;
    ev.org_s3_policy = Slot::Absent;
    ev.kms_key = Slot::NotApplicable;
    ev.caller_org = Slot::NotApplicable;
    ev.bucket_org = Slot::Absent;
    ev.canonical_ids
        .insert(OWNER_CANONICAL.into(), OWNER.into());
    (req, ev)
}

fn public_policy() -> Policy {
    Policy::parse(
        "bucket policy of amzn-s3-demo-bucket",
        PolicyKind::Resource,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
    )
    .unwrap()
}

fn restrict() -> PublicAccessBlock {
    let mut p = PublicAccessBlock::default();
    p.set(PublicAccessSetting::RestrictPublicBuckets, true);
    p
}

fn unreadable() -> Unavailable {
    Unavailable {
        reason: "AccessDenied".into(),
        needs: vec!["s3:GetBucketPublicAccessBlock".into()],
    }
}

#[test]
fn a_public_policy_serves_anonymous_callers_without_block_public_access() {
    let (req, mut ev) = world();
    ev.bucket.policy = Slot::Collected(public_policy());
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn restrict_public_buckets_refuses_anonymous_callers_of_a_public_policy() {
    // AWS: with RestrictPublicBuckets and a public policy, only AWS service principals and
    // the owner account's principals get access; reported as an explicit deny.
    for level in [PublicAccessLevel::Bucket, PublicAccessLevel::Account] {
        let (req, mut ev) = world();
        ev.bucket.policy = Slot::Collected(public_policy());
        match level {
            PublicAccessLevel::Bucket => {
                ev.bucket.public_access_block = Slot::Collected(restrict())
            }
            PublicAccessLevel::Account => {
                ev.account_public_access_block = Slot::Collected(restrict())
            }
        }
        let a = Analysis::new(req, ev);
        assert_eq!(a.verdict, Verdict::Denied, "{level:?}");
        let c = &a.checks[0];
        assert!(c.eval.public_access_restricted);
        assert_eq!(c.eval.decision, Decision::ExplicitlyDenied);
        // Turning the setting off at that level is a fix core can verify.
        let off = Change::SetPublicAccessBlock {
            level,
            setting: PublicAccessSetting::RestrictPublicBuckets,
            enabled: false,
        };
        assert_eq!(verify(&a, &[off]), Verification::Resolves, "{level:?}");
        // Turning it off at the other level leaves it refused.
        let other = match level {
            PublicAccessLevel::Bucket => PublicAccessLevel::Account,
            PublicAccessLevel::Account => PublicAccessLevel::Bucket,
        };
        let wrong = Change::SetPublicAccessBlock {
            level: other,
            setting: PublicAccessSetting::RestrictPublicBuckets,
            enabled: false,
        };
        assert!(matches!(
            verify(&a, &[wrong]),
            Verification::StillDenied { .. }
        ));
    }
}

#[test]
fn an_unreadable_public_access_block_makes_a_public_policy_grant_indeterminate() {
    // Either level could have RestrictPublicBuckets on: the unread settings are named.
    let (req, mut ev) = world();
    ev.bucket.policy = Slot::Collected(public_policy());
    ev.bucket.public_access_block = Slot::Unavailable(unreadable());
    let a = Analysis::new(req, ev);
    let c = &a.checks[0];
    assert_eq!(c.outcome, CheckOutcome::Indeterminate);
    assert_eq!(c.worst, Some(Decision::ExplicitlyDenied));
    assert!(
        c.missing
            .iter()
            .any(|m| m.what == "the bucket's Block Public Access settings"),
        "{:?}",
        c.missing
    );
    // Enabling a setting on an unreadable level cannot be applied.
    let on = Change::SetPublicAccessBlock {
        level: PublicAccessLevel::Bucket,
        setting: PublicAccessSetting::IgnorePublicAcls,
        enabled: true,
    };
    assert!(matches!(verify(&a, &[on]), Verification::NotChecked { .. }));
}

#[test]
fn ignore_public_acls_voids_an_all_users_write_grant() {
    // AWS: IgnorePublicAcls makes S3 ignore public ACL grants; the refusal is reported as
    // "no resource-based policy allows".
    let (req, mut ev) = world();
    if let Slot::Collected(acl) = &mut ev.bucket.acl {
        acl.grants.push(AclGrant {
            grantee: Grantee::Group {
                uri: why403_core::evidence::ALL_USERS.into(),
            },
            permission: AclPermission::Write,
        });
    }
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Allowed);
    // Absent bucket setting: enabling IgnorePublicAcls creates it, and the grant is void.
    let on = Change::SetPublicAccessBlock {
        level: PublicAccessLevel::Bucket,
        setting: PublicAccessSetting::IgnorePublicAcls,
        enabled: true,
    };
    assert!(matches!(
        verify(&a, &[on]),
        Verification::StillDenied { .. }
    ));
    let mut ignore = PublicAccessBlock::default();
    ignore.set(PublicAccessSetting::IgnorePublicAcls, true);
    ev.account_public_access_block = Slot::Collected(ignore);
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert_eq!(a.checks[0].eval.decision, Decision::ImplicitlyDenied);
    let off = Change::SetPublicAccessBlock {
        level: PublicAccessLevel::Account,
        setting: PublicAccessSetting::IgnorePublicAcls,
        enabled: false,
    };
    assert_eq!(verify(&a, &[off]), Verification::Resolves);
}

#[test]
fn public_access_block_settings_read_and_write_by_name() {
    let mut p = PublicAccessBlock::default();
    for s in [
        PublicAccessSetting::BlockPublicAcls,
        PublicAccessSetting::IgnorePublicAcls,
        PublicAccessSetting::BlockPublicPolicy,
        PublicAccessSetting::RestrictPublicBuckets,
    ] {
        assert!(!p.get(s));
        p.set(s, true);
        assert!(p.get(s), "{}", s.as_str());
    }
    assert_eq!(
        p,
        PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    );
}

#[test]
fn the_organizations_s3_policy_overrides_the_accounts_own_settings() {
    // AWS: while an organization's S3 policy applies, the account-level settings are
    // inherited from it ("all" turns the four on, "none" off) and cannot be changed in the
    // account.
    let all_on = OrgPublicAccessBlock::All.settings();
    let (req, mut ev) = world();
    ev.bucket.policy = Slot::Collected(public_policy());
    ev.account_public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.org_s3_policy = Slot::Collected(OrgPublicAccessBlock::All);
    assert_eq!(
        ev.effective_account_public_access_block(),
        Slot::Collected(all_on)
    );
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(a.checks[0].eval.public_access_restricted);
    // The account cannot turn the setting off: the change is refused, not verified.
    let off = Change::SetPublicAccessBlock {
        level: PublicAccessLevel::Account,
        setting: PublicAccessSetting::RestrictPublicBuckets,
        enabled: false,
    };
    let got = verify(&a, std::slice::from_ref(&off));
    assert!(
        matches!(&got, Verification::NotChecked { why } if why.contains("organization's S3 policy")),
        "{got:?}"
    );
    // Its steps start from the settings in effect and say who can change them.
    let steps = why403_core::finding::howto::howto(
        &a,
        &why403_core::finding::Fix::new("turn it off", vec![off]),
        None,
    )
    .steps;
    let doc = steps[0].document.as_ref().map(|d| d.diff.as_str());
    assert!(
        doc.is_some_and(|d| d.contains("-  \"RestrictPublicBuckets\": true")),
        "{doc:?}"
    );
    assert!(
        steps[0]
            .notes
            .iter()
            .any(|n| n.contains("management account changes or detaches")),
        "{:?}",
        steps[0].notes
    );

    // "none" overrides an account that has the settings on.
    ev.account_public_access_block = Slot::Collected(all_on);
    ev.org_s3_policy = Slot::Collected(OrgPublicAccessBlock::None);
    assert_eq!(
        ev.effective_account_public_access_block(),
        Slot::Collected(PublicAccessBlock::default())
    );
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );

    // An unread S3 policy leaves the account's settings as read (GetPublicAccessBlock gives
    // the effective ones); a read one settles unreadable account settings.
    ev.org_s3_policy = Slot::Unavailable(unreadable());
    assert_eq!(
        ev.effective_account_public_access_block(),
        Slot::Collected(all_on)
    );
    ev.account_public_access_block = Slot::Unavailable(unreadable());
    ev.org_s3_policy = Slot::Collected(OrgPublicAccessBlock::None);
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn s3_policy_content_reads_assigned_and_resolved_values() {
    let read = OrgPublicAccessBlock::from_policy_content;
    assert_eq!(
        read(&OrgPublicAccessBlock::All.policy_content()),
        Ok(Some(OrgPublicAccessBlock::All))
    );
    assert_eq!(
        read(r#"{"s3_attributes": {"public_access_block_configuration": "none"}}"#),
        Ok(Some(OrgPublicAccessBlock::None))
    );
    assert_eq!(read(r#"{"s3_attributes": {}}"#), Ok(None));
    assert_eq!(read("{}"), Ok(None));
    assert!(read(r#"{"s3_attributes": {"public_access_block_configuration": "some"}}"#).is_err());
    assert!(read("not json").is_err());
}
