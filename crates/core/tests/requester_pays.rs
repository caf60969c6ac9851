//! Requester Pays and anonymous requests (Amazon S3 User Guide, *Using Requester Pays general
//! purpose buckets*: once Requester Pays is enabled, anonymous access to the bucket is not
//! allowed). An unsigned upload is refused whatever headers it sends, so the header that
//! serves another account's caller is no fix for it; an unreadable Requester Pays setting
//! leaves an anonymous upload undecided.

use why403_core::analysis::{Analysis, BlockCode, CheckOutcome, Verdict};
use why403_core::evidence::{Evidence, EvidenceKind, ObjectOwnership, PublicAccessBlock, Slot};
use why403_core::finding::{Change, Verification, verify};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::{Credentials, UploadRequest};

/// An unsigned upload to a bucket of `111122223333` whose policy lets anyone put objects.
fn world(payer: Slot<String>, header: bool) -> (UploadRequest, Evidence) {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "drop/report.csv");
    req.credentials = Credentials::Anonymous;
    if header {
        req.headers
            .insert("x-amz-request-payer".into(), "requester".into());
    }
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    ev.identity = Slot::NotApplicable;
    ev.session_policy = Slot::NotApplicable;
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected("111122223333".into());
    ev.bucket.policy = Slot::Collected(
        Policy::parse(
            "bucket policy of amzn-s3-demo-bucket",
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicDropBox","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/drop/*"}]}"#,
        )
        .unwrap(),
    );
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.account_public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.bucket.request_payer = payer;
    ev.kms_key = Slot::NotApplicable;
    ev.caller_org = Slot::NotApplicable;
    ev.bucket_org = Slot::Absent;
    (req, ev)
}

fn codes(a: &Analysis) -> Vec<BlockCode> {
    a.checks
        .iter()
        .flat_map(|c| c.blocks.iter().map(|b| b.code))
        .collect()
}

#[test]
fn an_anonymous_upload_to_a_bucket_owner_pays_bucket_is_allowed() {
    for header in [false, true] {
        let (req, ev) = world(Slot::Collected("BucketOwner".into()), header);
        assert_eq!(Analysis::new(req, ev).verdict, Verdict::Allowed, "{header}");
    }
}

#[test]
fn a_requester_pays_bucket_refuses_an_anonymous_upload_whatever_it_sends() {
    for header in [false, true] {
        let (req, ev) = world(Slot::Collected("Requester".into()), header);
        let a = Analysis::new(req, ev);
        assert_eq!(a.verdict, Verdict::Denied, "{header}");
        assert_eq!(codes(&a), [BlockCode::RequesterPaysAnonymous], "{header}");
        let b = &a.checks[0].blocks[0];
        assert_eq!((b.status, b.aws_code), (403, "AccessDenied"));
    }
}

#[test]
fn sending_the_header_does_not_fix_an_anonymous_upload() {
    let (req, ev) = world(Slot::Collected("Requester".into()), false);
    let a = Analysis::new(req, ev);
    let v = verify(
        &a,
        &[Change::SetHeader {
            name: "x-amz-request-payer".into(),
            value: "requester".into(),
        }],
    );
    assert!(matches!(v, Verification::StillDenied { .. }), "{v:?}");
}

#[test]
fn an_unreadable_setting_leaves_an_anonymous_upload_undecided_even_with_the_header() {
    for header in [false, true] {
        let (req, ev) = world(
            Slot::missing("AccessDenied", &["s3:GetBucketRequestPayment"]),
            header,
        );
        let a = Analysis::new(req, ev);
        assert_eq!(a.checks[0].outcome, CheckOutcome::Indeterminate, "{header}");
        let Verdict::Indeterminate { missing } = &a.verdict else {
            panic!("{:?}", a.verdict)
        };
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert_eq!(missing[0].kind, EvidenceKind::BucketRequestPayment);
        assert_eq!(missing[0].unavailable.needs, ["s3:GetBucketRequestPayment"]);
    }
}

#[test]
fn a_signed_caller_of_another_account_with_the_header_is_still_allowed() {
    let (mut req, mut ev) = world(Slot::Collected("Requester".into()), true);
    req.credentials = Credentials::LongTerm;
    req.principal = Some("arn:aws:iam::444455556666:user/bob".into());
    ev.identity = Slot::Collected(why403_core::evidence::Identity {
        kind: why403_core::evidence::IdentityKind::User,
        arn: "arn:aws:iam::444455556666:user/bob".into(),
        name: "bob".into(),
        path: "/".into(),
        id: "AIDAEXAMPLEBOB".into(),
        tags: Default::default(),
        policies: vec![
            Policy::parse(
                "inline policy P of user bob",
                PolicyKind::Identity,
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#,
            )
            .unwrap(),
        ],
        groups: vec![],
        boundary: None,
    });
    ev.caller_org = Slot::Absent;
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Allowed);
    req.headers.clear();
    let a = Analysis::new(req, ev);
    assert_eq!(codes(&a), [BlockCode::RequesterPaysMissingHeader]);
}
