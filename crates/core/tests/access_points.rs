//! Uploads through access points and to directory buckets (docs/aws-model.md#access-points,
//! docs/aws-model.md#directory-buckets): the target forms, the context keys, and the
//! evaluation of the access point's side and the bucket's side.

use why403_core::analysis::{Analysis, BlockCode, CheckOutcome, ResourcePolicy, Verdict};
use why403_core::evidence::{
    AccessPoint, Evidence, EvidenceKind, Identity, IdentityKind, NetworkOrigin, ObjectOwnership,
    PublicAccessBlock, Slot,
};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::{
    AccessPointRef, SessionMode, Target, UploadRequest, is_directory_bucket_name, parse_destination,
};

const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";
const AP: &str = "arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap";

#[test]
fn destinations_in_the_forms_the_aws_cli_accepts() {
    let (t, bucket, key) = parse_destination(&format!("{AP}/reports/q3.csv")).unwrap();
    assert_eq!(
        t,
        Target::AccessPoint(AccessPointRef::Arn {
            arn: AP.into(),
            region: "us-east-1".into(),
            account: OWNER.into(),
            name: "finance-ap".into(),
        })
    );
    assert_eq!((bucket.as_str(), key.as_str()), ("", "reports/q3.csv"));
    // The object ARN form names the same key.
    let (_, _, key) = parse_destination(&format!("{AP}/object/reports/q3.csv")).unwrap();
    assert_eq!(key, "reports/q3.csv");
    let (t, _, _) =
        parse_destination("finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias/k").unwrap();
    assert!(matches!(t, Target::AccessPoint(AccessPointRef::Alias(_))));
    let (t, _, _) =
        parse_destination("arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap/k").unwrap();
    assert_eq!(
        t,
        Target::MultiRegionAccessPoint {
            account: OWNER.into(),
            alias: "mfzwi23gnjvgw.mrap".into()
        }
    );
    let (t, bucket, _) = parse_destination("amzn-s3-demo-bucket--usw2-az1--x-s3/k").unwrap();
    assert_eq!(
        (t, bucket.as_str()),
        (
            Target::DirectoryBucket,
            "amzn-s3-demo-bucket--usw2-az1--x-s3"
        )
    );
    assert!(is_directory_bucket_name("logs--usw2-lax1-az1--x-s3"));
    assert!(!is_directory_bucket_name("--usw2-az1--x-s3"));
    assert!(!is_directory_bucket_name("bucket--x-s3"));
    let (t, _, _) = parse_destination("amzn-s3-demo-bucket/k").unwrap();
    assert_eq!(t, Target::Bucket);
    for bad in [
        "arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap",
        "arn:aws:s3:us-east-1:1111:accesspoint/finance-ap/k",
        "arn:aws:s3:us-east-1:111122223333:bucket/finance-ap/k",
        "arn:aws:s3::111122223333:accesspoint/finance-ap/k",
        "arn:aws:iam::111122223333:role/x/k",
        "bucket-only",
    ] {
        let e = parse_destination(bad).unwrap_err();
        assert!(e.contains('`'), "{bad}: {e}");
    }
    let r = UploadRequest::from_s3_url(&format!("s3://{AP}/reports/q3.csv")).unwrap();
    assert!(r.target.is_access_point());
    assert_eq!(r.key, "reports/q3.csv");
}

fn policy(name: &str, kind: PolicyKind, text: &str) -> Policy {
    Policy::parse(name, kind, text).unwrap()
}

/// A role session of `account` whose identity policy is `identity` (none when empty), uploading
/// through the access point `finance-ap` of the bucket owner's account.
fn world(account: &str, identity: &str) -> (UploadRequest, Evidence) {
    let (t, _, key) = parse_destination(&format!("{AP}/reports/q3.csv")).unwrap();
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", &key);
    req.target = t;
    req.principal = Some(format!("arn:aws:sts::{account}:assumed-role/Analyst/alice"));
    let mut id = Identity::from_arn(
        &format!("arn:aws:iam::{account}:role/Analyst"),
        "AROAEXAMPLE",
    );
    id.kind = IdentityKind::Role;
    if !identity.is_empty() {
        id.policies.push(policy(
            "inline policy P of role Analyst",
            PolicyKind::Identity,
            identity,
        ));
    }
    let ev = Evidence::builder("amzn-s3-demo-bucket")
        .identity(id)
        .bucket_owner(OWNER)
        .region("us-east-1")
        .with(|e| {
            e.caller = Slot::NotApplicable;
            e.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
            e.bucket.acl = Slot::NotApplicable;
            e.bucket.request_payer = Slot::Collected("BucketOwner".into());
            e.kms_key = Slot::NotApplicable;
            e.access_point = Slot::Collected(AccessPoint {
                name: "finance-ap".into(),
                arn: AP.into(),
                alias: None,
                account: OWNER.into(),
                bucket: "amzn-s3-demo-bucket".into(),
                bucket_account: Some(OWNER.into()),
                network_origin: NetworkOrigin::Internet,
                public_access_block: PublicAccessBlock::default(),
                policy: Slot::Absent,
                multi_region: false,
            });
        })
        .rest_absent();
    (req, ev)
}

const ON_AP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap/object/*"}]}"#;
const ON_BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#;
const DELEGATION: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":["arn:aws:s3:::amzn-s3-demo-bucket","arn:aws:s3:::amzn-s3-demo-bucket/*"],"Condition":{"StringEquals":{"s3:DataAccessPointAccount":"111122223333"}}}]}"#;

fn codes(a: &Analysis) -> Vec<BlockCode> {
    a.checks
        .iter()
        .flat_map(|c| c.blocks.iter().map(|b| b.code))
        .collect()
}

#[test]
fn the_access_point_is_the_resource_and_its_keys_are_in_the_context() {
    let (req, ev) = world(OWNER, ON_AP);
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Allowed);
    let c = &a.checks[0];
    assert_eq!(c.resource_policy, ResourcePolicy::AccessPoint);
    assert_eq!(c.request.resource, format!("{AP}/object/reports/q3.csv"));
    let side = c.bucket_side.as_ref().expect("the bucket's side");
    assert_eq!(
        side.request.resource,
        "arn:aws:s3:::amzn-s3-demo-bucket/reports/q3.csv"
    );
    // No bucket policy: the owner account's own identity grant stands for the bucket.
    assert!(side.owner_identity_grant);
    let v = |k: &str| a.context.get(k).map(|v| v.values[0].clone());
    assert_eq!(v("s3:DataAccessPointArn").as_deref(), Some(AP));
    assert_eq!(v("s3:DataAccessPointAccount").as_deref(), Some(OWNER));
    assert_eq!(
        v("s3:AccessPointNetworkOrigin").as_deref(),
        Some("Internet")
    );
}

#[test]
fn a_grant_on_the_bucket_arn_does_not_cover_the_access_point() {
    let (req, mut ev) = world(OWNER, ON_BUCKET);
    ev.bucket.policy = Slot::Collected(policy(
        "bucket policy of b",
        PolicyKind::Resource,
        DELEGATION,
    ));
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(codes(&a).is_empty(), "{:?}", codes(&a));
}

#[test]
fn an_access_point_grant_needs_the_buckets_permission() {
    let grant = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Analyst"},"Action":"s3:PutObject","Resource":"arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap/object/*"}]}"#;
    let (req, mut ev) = world(OWNER, "");
    if let Slot::Collected(ap) = &mut ev.access_point {
        ap.policy = Slot::Collected(policy(
            "access point policy of finance-ap",
            PolicyKind::Resource,
            grant,
        ));
    }
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(codes(&a), vec![BlockCode::AccessPointBucketNotPermitted]);
    // Delegation permits it.
    ev.bucket.policy = Slot::Collected(policy(
        "bucket policy of b",
        PolicyKind::Resource,
        DELEGATION,
    ));
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    // A delegation to another account does not.
    let other = DELEGATION.replace("111122223333\"}", "999988887777\"}");
    ev.bucket.policy = Slot::Collected(policy("bucket policy of b", PolicyKind::Resource, &other));
    assert_eq!(
        codes(&Analysis::new(req.clone(), ev.clone())),
        vec![BlockCode::AccessPointBucketNotPermitted]
    );
    // An unreadable bucket policy leaves the bucket's side undecided.
    ev.bucket.policy = Slot::missing("AccessDenied", &["s3:GetBucketPolicy"]);
    let a = Analysis::new(req, ev);
    assert_eq!(a.checks[0].outcome, CheckOutcome::Indeterminate);
    assert!(
        a.checks[0]
            .missing
            .iter()
            .any(|m| m.kind == EvidenceKind::BucketPolicy)
    );
}

#[test]
fn a_bucket_policy_deny_refuses_through_the_access_point() {
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyIngest","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"StringNotEquals":{"s3:DataAccessPointArn":"arn:aws:s3:us-east-1:111122223333:accesspoint/ingest-ap"}}}]}"#;
    let (req, mut ev) = world(OWNER, ON_AP);
    ev.bucket.policy = Slot::Collected(policy("bucket policy of b", PolicyKind::Resource, deny));
    let a = Analysis::new(req, ev);
    assert_eq!(codes(&a), vec![BlockCode::AccessPointBucketPolicyDeny]);
    assert!(a.checks[0].blocks[0].message.contains("`OnlyIngest`"));
}

#[test]
fn a_caller_of_another_account_needs_the_access_point_policy() {
    let (req, mut ev) = world(OTHER, ON_AP);
    ev.bucket.policy = Slot::Collected(policy(
        "bucket policy of b",
        PolicyKind::Resource,
        DELEGATION,
    ));
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(a.checks[0].request.is_cross_account());
}

#[test]
fn a_vpc_access_point_refuses_requests_from_elsewhere() {
    let (mut req, mut ev) = world(OWNER, ON_AP);
    if let Slot::Collected(ap) = &mut ev.access_point {
        ap.network_origin = NetworkOrigin::Vpc("vpc-1a2b3c4d".into());
    }
    req.network.source_ip = Some("203.0.113.7".into());
    assert_eq!(
        codes(&Analysis::new(req.clone(), ev.clone())),
        vec![BlockCode::AccessPointNetworkOrigin]
    );
    req.network.source_ip = None;
    req.network.vpc_endpoint = Some("vpce-1a2b3c4d5e6f7a8b9".into());
    req.network.vpc = Some("vpc-9f8e7d6c".into());
    ev.vpc_endpoint_policy = Slot::Absent;
    assert_eq!(
        codes(&Analysis::new(req.clone(), ev.clone())),
        vec![BlockCode::AccessPointNetworkOrigin]
    );
    req.network.vpc = Some("vpc-1a2b3c4d".into());
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Allowed);
    assert_eq!(
        a.context
            .get("s3:AccessPointNetworkOrigin")
            .map(|v| v.values[0].as_str()),
        Some("VPC")
    );
    // The endpoint's VPC unknown: undecided.
    req.network.vpc = None;
    let a = Analysis::new(req, ev);
    assert_eq!(a.checks[0].outcome, CheckOutcome::Indeterminate);
}

#[test]
fn the_access_points_block_public_acls_refuses_a_public_acl() {
    let (mut req, mut ev) = world(
        OWNER,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:PutObjectAcl"],"Resource":"*"}]}"#,
    );
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::ObjectWriter);
    ev.bucket.acl = Slot::Absent;
    if let Slot::Collected(ap) = &mut ev.access_point {
        ap.public_access_block.block_public_acls = true;
    }
    req.headers.insert("x-amz-acl".into(), "public-read".into());
    let a = Analysis::new(req, ev);
    assert!(
        codes(&a).contains(&BlockCode::AccessPointBlockPublicAcls),
        "{:?}",
        codes(&a)
    );
}

#[test]
fn a_directory_bucket_authorizes_create_session() {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket--usw2-az1--x-s3", "k.parquet");
    req.target = Target::DirectoryBucket;
    req.principal = Some(format!("arn:aws:iam::{OWNER}:user/loader"));
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3express:CreateSession","Resource":"arn:aws:s3express:us-west-2:111122223333:bucket/amzn-s3-demo-bucket--usw2-az1--x-s3","Condition":{"StringEquals":{"s3express:SessionMode":"ReadWrite"}}}]}"#;
    let id = Identity::from_arn(&format!("arn:aws:iam::{OWNER}:user/loader"), "AIDAEXAMPLE")
        .with_policy(policy(
            "inline policy P of user loader",
            PolicyKind::Identity,
            allow,
        ));
    let ev = Evidence::builder(&req.bucket)
        .identity(id)
        .bucket_owner(OWNER)
        .region("us-west-2")
        .with(|e| {
            e.caller = Slot::NotApplicable;
            e.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
            e.bucket.acl = Slot::NotApplicable;
            e.bucket.request_payer = Slot::Collected("BucketOwner".into());
            e.kms_key = Slot::NotApplicable;
        })
        .rest_absent();
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Allowed);
    assert_eq!(a.checks.len(), 1);
    assert_eq!(a.checks[0].action, "s3express:CreateSession");
    assert_eq!(
        a.checks[0].request.resource,
        "arn:aws:s3express:us-west-2:111122223333:bucket/amzn-s3-demo-bucket--usw2-az1--x-s3"
    );
    // A read-only session: the policy's condition no longer holds, and S3 refuses the write.
    req.session_mode = SessionMode::ReadOnly;
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert_eq!(codes(&a), vec![BlockCode::DirectoryBucketReadOnlySession]);
}

#[test]
fn a_multi_region_access_point_is_authorized_like_an_access_point() {
    const MRAP: &str = "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap";
    let on_mrap = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap/object/*"}]}"#;
    let (mut req, mut ev) = world(OWNER, on_mrap);
    req.target = parse_destination(&format!("{MRAP}/reports/q3.csv"))
        .unwrap()
        .0;
    if let Slot::Collected(ap) = &mut ev.access_point {
        ap.arn = MRAP.into();
        ap.name = "global".into();
        ap.multi_region = true;
    }
    let a = Analysis::new(req.clone(), ev.clone());
    assert_eq!(a.verdict, Verdict::Allowed);
    assert_eq!(
        a.checks[0].request.resource,
        format!("{MRAP}/object/reports/q3.csv")
    );
    assert_eq!(
        a.context
            .get("s3:DataAccessPointArn")
            .map(|v| v.values[0].as_str()),
        Some(MRAP)
    );
    // A bucket policy that delegates only to single-Region access points of another account
    // does not permit it; granted in the Multi-Region Access Point's policy alone, the bucket
    // must delegate.
    let grant = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Analyst"},"Action":"s3:PutObject","Resource":"arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap/object/*"}]}"#;
    let (_, mut ev2) = world(OWNER, "");
    if let Slot::Collected(ap) = &mut ev2.access_point {
        ap.arn = MRAP.into();
        ap.multi_region = true;
        ap.policy = Slot::Collected(policy(
            "Multi-Region Access Point policy of global",
            PolicyKind::Resource,
            grant,
        ));
    }
    assert_eq!(
        codes(&Analysis::new(req.clone(), ev2.clone())),
        vec![BlockCode::AccessPointBucketNotPermitted]
    );
    let delegate = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{"StringEquals":{"s3:DataAccessPointArn":"arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap"}}}]}"#;
    ev2.bucket.policy =
        Slot::Collected(policy("bucket policy of b", PolicyKind::Resource, delegate));
    assert_eq!(Analysis::new(req, ev2).verdict, Verdict::Allowed);
}

#[test]
fn what_could_not_be_read_leaves_the_access_point_request_undecided() {
    // The access point the request names, not given: never taken as "no policy".
    let (req, mut ev) = world(OWNER, ON_AP);
    ev.access_point = Slot::NotApplicable;
    let a = Analysis::new(req, ev);
    assert_eq!(a.checks[0].outcome, CheckOutcome::Indeterminate);
    assert!(
        a.checks[0]
            .missing
            .iter()
            .any(|m| m.kind == EvidenceKind::AccessPoint)
    );
    // The identity policies unreadable, the access point policy granting the role and no
    // bucket policy: whether the bucket permits rests on the unread identity policies.
    let grant = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Analyst"},"Action":"s3:PutObject","Resource":"arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap/object/*"}]}"#;
    let (req, mut ev) = world(OWNER, "");
    ev.identity = Slot::missing("AccessDenied", &["iam:GetAccountAuthorizationDetails"]);
    if let Slot::Collected(ap) = &mut ev.access_point {
        ap.policy = Slot::Collected(policy(
            "access point policy of finance-ap",
            PolicyKind::Resource,
            grant,
        ));
    }
    let a = Analysis::new(req, ev);
    assert_eq!(a.checks[0].bucket_side.as_ref().unwrap().permits, None);
    assert_ne!(a.verdict, Verdict::Allowed);
}
