//! S3's refusals outside policy evaluation that depend on the request's headers
//! (docs/aws-model.md#bucket-side): each is a block on the `s3:PutObject` check.

use why403_core::analysis::{Analysis, CheckOutcome, Verdict};
use why403_core::evidence::{Evidence, ObjectOwnership, PublicAccessBlock, Slot};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::UploadRequest;

const OWNER: &str = "111122223333";

/// A same-account user whose identity policy allows the upload, with everything else known.
fn world() -> (UploadRequest, Evidence) {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "k.txt");
    req.principal = Some(format!("arn:aws:iam::{OWNER}:user/alice"));
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    let p = Policy::parse(
        "inline policy P of user alice",
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
    )
    .unwrap();
    ev.identity = Slot::Collected(why403_core::evidence::Identity {
        kind: why403_core::evidence::IdentityKind::User,
        arn: format!("arn:aws:iam::{OWNER}:user/alice"),
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
    ev.bucket.policy = Slot::Absent;
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.kms_key = Slot::NotApplicable;
    ev.caller_org = Slot::Absent;
    ev.bucket_org = Slot::Absent;
    (req, ev)
}

fn block_codes(a: &Analysis) -> Vec<&'static str> {
    a.checks
        .iter()
        .flat_map(|c| c.blocks.iter().map(|b| b.code.as_str()))
        .collect()
}

#[test]
fn the_baseline_is_allowed() {
    let (req, ev) = world();
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn bucket_owner_enforced_rejects_acls_other_than_bucket_owner_full_control() {
    // AWS: with ACLs disabled, an upload with an ACL other than bucket-owner-full-control gets
    // 400 AccessControlListNotSupported.
    let (mut req, ev) = world();
    req.headers.insert("x-amz-acl".into(), "public-read".into());
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(block_codes(&a).contains(&"object-ownership-acl-not-supported"));
    let b = a.checks.iter().flat_map(|c| &c.blocks).next().unwrap();
    assert_eq!(
        (b.status, b.aws_code),
        (400, "AccessControlListNotSupported")
    );
    req.headers
        .insert("x-amz-acl".into(), "bucket-owner-full-control".into());
    let a = Analysis::new(req, ev);
    assert!(!block_codes(&a).contains(&"object-ownership-acl-not-supported"));
}

#[test]
fn block_public_acls_rejects_a_public_acl() {
    // AWS: BlockPublicAcls rejects PutObject requests that carry a public ACL.
    let (mut req, mut ev) = world();
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::ObjectWriter);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock {
        block_public_acls: true,
        ..Default::default()
    });
    req.headers.insert("x-amz-acl".into(), "public-read".into());
    let a = Analysis::new(req, ev);
    assert!(
        block_codes(&a).contains(&"block-public-acls"),
        "{:?}",
        block_codes(&a)
    );
    assert!(a.checks.iter().any(|c| c.outcome == CheckOutcome::Denied));
}

#[test]
fn requester_pays_needs_the_header_from_other_accounts() {
    // AWS: a Requester Pays bucket refuses requests from other accounts without
    // `x-amz-request-payer: requester`; the owner pays for its own requests.
    let (mut req, mut ev) = world();
    ev.bucket.request_payer = Slot::Collected("Requester".into());
    assert!(
        !block_codes(&Analysis::new(req.clone(), ev.clone()))
            .contains(&"requester-pays-missing-header")
    );
    ev.bucket.owner_account = Slot::Collected("444455556666".into());
    assert!(
        block_codes(&Analysis::new(req.clone(), ev.clone()))
            .contains(&"requester-pays-missing-header")
    );
    req.headers
        .insert("x-amz-request-payer".into(), "requester".into());
    assert!(!block_codes(&Analysis::new(req, ev)).contains(&"requester-pays-missing-header"));
}

#[test]
fn expected_bucket_owner_must_match() {
    // AWS: `x-amz-expected-bucket-owner` different from the owner gets 403.
    let (mut req, ev) = world();
    req.headers
        .insert("x-amz-expected-bucket-owner".into(), "444455556666".into());
    assert!(
        block_codes(&Analysis::new(req.clone(), ev.clone()))
            .contains(&"expected-bucket-owner-mismatch")
    );
    req.headers
        .insert("x-amz-expected-bucket-owner".into(), OWNER.into());
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
}

#[test]
fn blocked_sse_c_rejects_customer_keys() {
    // AWS: with BlockedEncryptionTypes = SSE-C, uploads that specify SSE-C get 403.
    let (mut req, mut ev) = world();
    ev.bucket.encryption = Slot::Collected(why403_core::evidence::Encryption {
        algorithm: "AES256".into(),
        kms_key_id: None,
        bucket_key_enabled: false,
        blocked_encryption_types: vec!["SSE-C".into()],
    });
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    req.headers.insert(
        "x-amz-server-side-encryption-customer-algorithm".into(),
        "AES256".into(),
    );
    assert!(block_codes(&Analysis::new(req, ev)).contains(&"sse-c-blocked"));
}

/// An unreadable setting that would refuse the request if set leaves the upload undecided and
/// names itself; the same setting unread does not matter to a request it could not refuse.
#[test]
fn an_unread_setting_that_could_refuse_the_request_makes_it_indeterminate() {
    use why403_core::analysis::{
        ENCRYPTION_UNREAD_FOR_SSE_C, OWNERSHIP_UNREAD, REQUEST_PAYMENT_UNREAD,
    };
    let missing = |a: &Analysis| -> Vec<String> {
        a.checks
            .iter()
            .flat_map(|c| c.missing.iter().map(|m| m.what.clone()))
            .collect()
    };
    // Object Ownership unread: an ACL header could be refused (400); no ACL header, no doubt.
    let (mut req, mut ev) = world();
    ev.bucket.ownership = Slot::missing("AccessDenied", &["s3:GetBucketOwnershipControls"]);
    req.headers.insert("x-amz-acl".into(), "public-read".into());
    let a = Analysis::new(req, ev.clone());
    assert_eq!(a.checks[0].outcome, CheckOutcome::Indeterminate);
    assert!(missing(&a).contains(&OWNERSHIP_UNREAD.to_owned()));
    let (req, _) = world();
    assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed);
    // Requester Pays unread: matters for another account's caller without the header.
    let (mut req, mut ev) = world();
    ev.bucket.request_payer = Slot::missing("AccessDenied", &["s3:GetBucketRequestPayment"]);
    ev.bucket.owner_account = Slot::Collected("444455556666".into());
    let a = Analysis::new(req.clone(), ev.clone());
    assert!(missing(&a).contains(&REQUEST_PAYMENT_UNREAD.to_owned()));
    req.headers
        .insert("x-amz-request-payer".into(), "requester".into());
    let a = Analysis::new(req, ev);
    assert!(!missing(&a).contains(&REQUEST_PAYMENT_UNREAD.to_owned()));
    // Default encryption unread: matters to an SSE-C upload, which involves no KMS key.
    let (mut req, mut ev) = world();
    ev.bucket.encryption = Slot::missing("AccessDenied", &["s3:GetEncryptionConfiguration"]);
    req.headers.insert(
        "x-amz-server-side-encryption-customer-algorithm".into(),
        "AES256".into(),
    );
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict.to_string(), "indeterminate");
    assert!(missing(&a).contains(&ENCRYPTION_UNREAD_FOR_SSE_C.to_owned()));
    assert!(a.checks.iter().all(|c| !c.action.starts_with("kms:")));
}
