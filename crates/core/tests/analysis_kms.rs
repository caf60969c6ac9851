//! The KMS side of an SSE-KMS upload (docs/aws-model.md#kms-side, docs/aws-model.md#keys-on-the-s3-call-to-kms, docs/aws-model.md#kms): which key reference is
//! resolved where, the request context of S3's call to KMS, and the changes that fix a key
//! (enable it, cancel its deletion, use another key), each verified by analysing again.

use why403_core::analysis::{
    Analysis, CheckKind, Verdict, resolved_in_caller_account, uses_bucket_key,
};
use why403_core::evidence::{
    Encryption, Evidence, KmsGrant, KmsKey, ObjectOwnership, PublicAccessBlock, Slot,
};
use why403_core::finding::{Change, Verification, verify};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::UploadRequest;

const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn key_policy(principal: &str) -> Policy {
    Policy::parse(
        "key policy",
        PolicyKind::KeyPolicy,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Users","Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}}]}}"#
        ),
    )
    .unwrap()
}

fn key(account: &str, region: &str) -> KmsKey {
    KmsKey {
        arn: format!("arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        account: account.into(),
        region: region.into(),
        state: "Enabled".into(),
        manager: "CUSTOMER".into(),
        spec: "SYMMETRIC_DEFAULT".into(),
        usage: "ENCRYPT_DECRYPT".into(),
        policy: Slot::Collected(key_policy("*")),
        grants: Slot::Collected(Vec::new()),
    }
}

/// `caller_account`'s user alice uploads with the bucket's default encryption `KEY` (named by
/// `reference`); her identity policy allows S3 and KMS, the key policy allows everyone.
fn world(caller_account: &str, reference: &str) -> (UploadRequest, Evidence) {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "k.txt");
    req.principal = Some(format!("arn:aws:iam::{caller_account}:user/alice"));
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    let p = Policy::parse(
        "inline policy P of user alice",
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}"#,
    )
    .unwrap();
    ev.identity = Slot::Collected(why403_core::evidence::Identity {
        kind: why403_core::evidence::IdentityKind::User,
        arn: format!("arn:aws:iam::{caller_account}:user/alice"),
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
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
        )
        .unwrap(),
    );
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Collected(Encryption {
        algorithm: "aws:kms".into(),
        kms_key_id: Some(reference.into()),
        bucket_key_enabled: false,
        blocked_encryption_types: vec![],
    });
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.kms_key = Slot::Collected(key(OWNER, "us-east-1"));
    ev.caller_org = Slot::Absent;
    ev.bucket_org = Slot::Absent;
    (req, ev)
}

fn block_codes(a: &Analysis) -> Vec<&'static str> {
    a.checks
        .iter()
        .filter(|c| c.kind == CheckKind::Kms)
        .flat_map(|c| c.blocks.iter().map(|b| b.code.as_str()))
        .collect()
}

fn context_value(a: &Analysis, key: &str) -> Option<String> {
    let c = a.checks.iter().find(|c| c.kind == CheckKind::Kms)?;
    c.request.context.get(key).map(|v| v.values[0].clone())
}

#[test]
fn the_baseline_is_allowed() {
    let (req, ev) = world(OWNER, KEY);
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Allowed, "{:?}", block_codes(&a));
}

#[test]
fn key_ids_and_alias_names_resolve_in_the_callers_account() {
    // AWS KMS: a key in another account must be named by its key ARN or alias ARN; a key id
    // or alias name is looked up in the caller's account.
    assert!(resolved_in_caller_account("alias/uploads"));
    assert!(resolved_in_caller_account(
        "1234abcd-12ab-34cd-56ef-1234567890ab"
    ));
    assert!(!resolved_in_caller_account(KEY));
    assert!(!resolved_in_caller_account(
        "arn:aws:kms:us-east-1:111122223333:alias/uploads"
    ));
}

#[test]
fn a_cross_account_uploader_cannot_reach_the_bucket_owners_key_by_alias() {
    let (req, ev) = world(OTHER, "alias/uploads");
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(block_codes(&a).contains(&"kms-key-other-account-by-reference"));
    // The same alias used by a caller of the key's account resolves to the key.
    let (req, ev) = world(OWNER, "alias/uploads");
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
    // The key ARN reaches it from the other account.
    let (req, ev) = world(OTHER, KEY);
    let a = Analysis::new(req, ev);
    assert!(!block_codes(&a).contains(&"kms-key-other-account-by-reference"));
    assert_eq!(a.verdict, Verdict::Allowed);
}

#[test]
fn an_alias_arn_names_a_key_of_its_own_account_and_region_only() {
    // An alias ARN of another account than the described key's does not describe that key:
    // what the upload's key allows is then unknown.
    let (req, ev) = world(OWNER, "arn:aws:kms:us-east-1:999999999999:alias/uploads");
    let a = Analysis::new(req, ev);
    assert!(
        matches!(a.verdict, Verdict::Indeterminate { .. }),
        "{}",
        a.verdict
    );
    let (req, ev) = world(OWNER, "arn:aws:kms:us-east-1:111122223333:alias/uploads");
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Allowed);
    assert_eq!(
        context_value(&a, "kms:RequestAlias").as_deref(),
        Some("alias/uploads")
    );
}

#[test]
fn the_encryption_context_is_the_bucket_arn_with_an_s3_bucket_key() {
    // S3 User Guide: with an S3 Bucket Key the encryption context is the bucket ARN, else the
    // object ARN; the request header overrides the bucket's setting; DSSE-KMS has no Bucket Key.
    let (mut req, mut ev) = world(OWNER, KEY);
    assert!(!uses_bucket_key(&req, &ev));
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(
        context_value(&a, "kms:EncryptionContext:aws:s3:arn").as_deref(),
        Some("arn:aws:s3:::amzn-s3-demo-bucket/k.txt")
    );
    req.headers.insert(
        "x-amz-server-side-encryption-bucket-key-enabled".into(),
        "true".into(),
    );
    assert!(uses_bucket_key(&req, &ev));
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(
        context_value(&a, "kms:EncryptionContext:aws:s3:arn").as_deref(),
        Some("arn:aws:s3:::amzn-s3-demo-bucket")
    );
    req.headers.insert(
        "x-amz-server-side-encryption-bucket-key-enabled".into(),
        "false".into(),
    );
    if let Slot::Collected(e) = &mut ev.bucket.encryption {
        e.bucket_key_enabled = true;
    }
    assert!(!uses_bucket_key(&req, &ev));
    req.headers
        .remove("x-amz-server-side-encryption-bucket-key-enabled");
    assert!(uses_bucket_key(&req, &ev));
    if let Slot::Collected(e) = &mut ev.bucket.encryption {
        e.algorithm = "aws:kms:dsse".into();
    }
    assert!(!uses_bucket_key(&req, &ev));
}

#[test]
fn enabling_a_disabled_key_resolves_the_upload() {
    // AWS KMS: a disabled key refuses cryptographic operations (DisabledException).
    let (req, mut ev) = world(OWNER, KEY);
    ev.kms_key.get_mut().unwrap().state = "Disabled".into();
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(block_codes(&a).contains(&"kms-key-disabled"));
    assert_eq!(verify(&a, &[Change::EnableKmsKey]), Verification::Resolves);
}

#[test]
fn a_key_pending_deletion_needs_cancel_then_enable() {
    // AWS KMS: EnableKey on a key pending deletion fails; CancelKeyDeletion leaves it Disabled.
    let (req, mut ev) = world(OWNER, KEY);
    ev.kms_key.get_mut().unwrap().state = "PendingDeletion".into();
    let a = Analysis::new(req, ev);
    assert!(block_codes(&a).contains(&"kms-key-pending-deletion"));
    assert!(matches!(
        verify(&a, &[Change::EnableKmsKey]),
        Verification::NotChecked { .. }
    ));
    match verify(&a, &[Change::CancelKmsKeyDeletion]) {
        Verification::StillDenied { by } => {
            assert!(by.iter().any(|b| b.contains("is disabled")), "{by:?}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        verify(&a, &[Change::CancelKmsKeyDeletion, Change::EnableKmsKey]),
        Verification::Resolves
    );
    // Cancelling the deletion of a key that is not pending deletion is refused.
    let (req, ev) = world(OWNER, KEY);
    let a = Analysis::new(req, ev);
    assert!(matches!(
        verify(&a, &[Change::CancelKmsKeyDeletion]),
        Verification::NotChecked { .. }
    ));
}

#[test]
fn using_a_key_in_the_buckets_region_resolves_the_upload() {
    // S3: the KMS key must be in the bucket's Region.
    let (req, mut ev) = world(
        OWNER,
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    );
    ev.kms_key = Slot::Collected(key(OWNER, "eu-west-1"));
    let a = Analysis::new(req, ev);
    assert!(block_codes(&a).contains(&"kms-key-other-region"));
    let use_key = Change::UseKmsKey {
        arn: KEY.into(),
        key_policy: None,
    };
    assert_eq!(verify(&a, &[use_key]), Verification::Resolves);
    // A malformed ARN is not applied.
    assert!(matches!(
        verify(
            &a,
            &[Change::UseKmsKey {
                arn: "alias/uploads".into(),
                key_policy: None
            }]
        ),
        Verification::NotChecked { .. }
    ));
}

#[test]
fn a_new_key_for_the_header_replaces_the_header_key_and_carries_its_policy() {
    // The request header wins over default encryption, so the fix changes the header; the new
    // key's policy decides.
    let (mut req, mut ev) = world(OWNER, KEY);
    req.headers
        .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
    req.headers.insert(
        "x-amz-server-side-encryption-aws-kms-key-id".into(),
        KEY.into(),
    );
    ev.kms_key.get_mut().unwrap().spec = "RSA_2048".into();
    let a = Analysis::new(req, ev);
    assert!(block_codes(&a).contains(&"kms-key-not-symmetric"));
    let new = "arn:aws:kms:us-east-1:111122223333:key/new";
    let deny_all = serde_json::json!({"Version": "2012-10-17", "Statement": []});
    assert!(matches!(
        verify(
            &a,
            &[Change::UseKmsKey {
                arn: new.into(),
                key_policy: Some(deny_all)
            }]
        ),
        Verification::StillDenied { .. }
    ));
    let allow = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "kms:GenerateDataKey", "Resource": "*"}]});
    assert_eq!(
        verify(
            &a,
            &[Change::UseKmsKey {
                arn: new.into(),
                key_policy: Some(allow)
            }]
        ),
        Verification::Resolves
    );
}

#[test]
fn a_key_arn_in_another_region_is_refused_without_describe_key() {
    // S3: the KMS key must be in the bucket's Region; a key ARN names its Region, so the
    // refusal does not depend on the unreadable describe-key.
    let other = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let (req, mut ev) = world(OWNER, other);
    ev.kms_key = Slot::missing("AccessDenied", &["kms:DescribeKey"]);
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(block_codes(&a).contains(&"kms-key-other-region"));
    // In the bucket's Region the same unreadable key leaves the verdict open.
    let (req, mut ev) = world(OWNER, KEY);
    ev.kms_key = Slot::missing("AccessDenied", &["kms:DescribeKey"]);
    let a = Analysis::new(req, ev);
    assert!(matches!(a.verdict, Verdict::Indeterminate { .. }));
}

#[test]
fn naming_the_same_key_by_its_arn_keeps_the_key_and_its_grants() {
    // AWS KMS: a key of another account must be named by its ARN; the fix that does so keeps
    // the key, its policy and its grants (here a grant is what allows the caller).
    let (req, mut ev) = world(OTHER, "alias/uploads");
    let k = ev.kms_key.get_mut().unwrap();
    k.policy = Slot::Collected(key_policy(&format!("arn:aws:iam::{OWNER}:root")));
    k.grants = Slot::Collected(vec![KmsGrant {
        grant_id: "g1".into(),
        name: None,
        grantee_principal: format!("arn:aws:iam::{OTHER}:user/alice"),
        operations: vec!["GenerateDataKey".into()],
        context_equals: Default::default(),
        context_subset: Default::default(),
    }]);
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(block_codes(&a).contains(&"kms-key-other-account-by-reference"));
    let same = [Change::UseKmsKey {
        arn: KEY.into(),
        key_policy: None,
    }];
    assert_eq!(verify(&a, &same), Verification::Resolves);
    // Another key with the same policy has no grant for the caller.
    let other = [Change::UseKmsKey {
        arn: "arn:aws:kms:us-east-1:111122223333:key/other".into(),
        key_policy: None,
    }];
    assert!(matches!(
        verify(&a, &other),
        Verification::StillDenied { .. }
    ));
}

#[test]
fn an_unknown_bucket_key_setting_leaves_a_context_dependent_verdict_open() {
    // S3: the encryption context is the bucket ARN with an S3 Bucket Key, else the object ARN;
    // with default encryption unreadable and no bucket-key header, either may be sent.
    let (mut req, mut ev) = world(OWNER, KEY);
    req.headers
        .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
    req.headers.insert(
        "x-amz-server-side-encryption-aws-kms-key-id".into(),
        KEY.into(),
    );
    ev.bucket.encryption = Slot::missing("AccessDenied", &["s3:GetEncryptionConfiguration"]);
    let pinned = Policy::parse(
        "key policy",
        PolicyKind::KeyPolicy,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::amzn-s3-demo-bucket"}}}]}"#,
    )
    .unwrap();
    ev.kms_key.get_mut().unwrap().policy = Slot::Collected(pinned);
    let a = Analysis::new(req.clone(), ev.clone());
    match &a.verdict {
        Verdict::Indeterminate { missing } => assert!(
            missing.iter().any(|m| m.what.contains("Bucket Key")),
            "{missing:?}"
        ),
        other => panic!("{other}"),
    }
    // The header settles it.
    req.headers.insert(
        "x-amz-server-side-encryption-bucket-key-enabled".into(),
        "true".into(),
    );
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    req.headers.insert(
        "x-amz-server-side-encryption-bucket-key-enabled".into(),
        "false".into(),
    );
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Denied);
}
