//! An upload to a directory bucket (`<base>--<zone-id>--x-s3`): its Region from the zone id,
//! its policy and default encryption read through the Region's `s3express-control` endpoint
//! (`s3express:` actions), and what every directory bucket has fixed (no ACL, bucket owner
//! enforced, all Block Public Access on, no Requester Pays) taken as known, unread.

use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput;
use why403_core::evidence::{ObjectOwnership, PublicAccessBlock};

use crate::world::*;

const BUCKET: &str = "amzn-s3-demo-bucket--usw2-az1--x-s3";
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3express:CreateSession","Resource":"arn:aws:s3express:us-west-2:111122223333:bucket/amzn-s3-demo-bucket--usw2-az1--x-s3"}]}"#;

fn request(bucket: &str) -> UploadRequest {
    UploadRequest::from_s3_url(&format!("s3://{bucket}/reports/q3.csv"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn with_policy(policy: Rule) -> World {
    let mut w = World::alice();
    w.s3.push(policy);
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_encryption)
            .then_http_response(|| s3_error(404, "ServerSideEncryptionConfigurationNotFoundError")),
    );
    w
}

#[test]
fn a_directory_bucket_reads_its_policy_and_encryption_and_knows_the_rest() {
    let w = with_policy(
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .match_requests(|r| r.bucket() == Some(BUCKET))
            .then_output(|| GetBucketPolicyOutput::builder().policy(POLICY).build()),
    );
    let got = run_with(&w, &request(BUCKET), None).unwrap_or_else(|e| panic!("{e}"));
    let b = &got.evidence.bucket;
    assert_eq!(b.name, BUCKET);
    assert_eq!(b.region, Slot::Collected("us-west-2".to_owned()));
    assert_eq!(b.policy.get().map(|p| &*p.text), Some(POLICY));
    assert_eq!(b.encryption, Slot::Absent);
    assert_eq!(b.acl, Slot::NotApplicable);
    assert_eq!(
        b.ownership,
        Slot::Collected(ObjectOwnership::BucketOwnerEnforced)
    );
    assert_eq!(
        b.public_access_block,
        Slot::Collected(PublicAccessBlock::ALL_ON)
    );
    assert_eq!(b.request_payer, Slot::Collected("BucketOwner".to_owned()));
    // Only the owner's account can read the policy.
    assert_eq!(b.owner_account, Slot::Collected(ACCOUNT.to_owned()));
    assert_eq!(got.evidence.access_point, Slot::NotApplicable);
    // No HeadBucket (a zonal operation, which would need CreateSession), no reads of what is
    // fixed; the bucket reads need nothing before them.
    for api in [
        "s3:HeadBucket",
        "s3:GetBucketLocation",
        "s3:GetBucketAcl",
        "s3:GetBucketOwnershipControls",
        "s3:GetPublicAccessBlock",
        "s3:GetBucketRequestPayment",
    ] {
        assert_eq!(got.stats.count(api), 0, "{api}");
    }
    assert_eq!(round_of(&got, "s3:GetBucketPolicy"), 1);
}

#[test]
fn refused_directory_bucket_reads_name_the_s3express_actions() {
    let mut w = World::alice();
    for rule in [
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .then_http_response(|| s3_error(403, "AccessDenied")),
        mock!(aws_sdk_s3::Client::get_bucket_encryption)
            .then_http_response(|| s3_error(403, "AccessDenied")),
    ] {
        w.s3.push(rule);
    }
    let got = run_with(&w, &request(BUCKET), None).unwrap_or_else(|e| panic!("{e}"));
    let b = &got.evidence.bucket;
    assert_eq!(unavailable(&b.policy).needs, ["s3express:GetBucketPolicy"]);
    assert_eq!(
        unavailable(&b.encryption).needs,
        ["s3express:GetEncryptionConfiguration"]
    );
    let owner = unavailable(&b.owner_account);
    assert_eq!(owner.needs, ["s3express:GetBucketPolicy"]);
    assert!(
        owner.reason.contains("directory bucket's owner"),
        "{}",
        owner.reason
    );
}

#[test]
fn a_zone_id_of_an_unknown_region_leaves_the_region_unknown() {
    let w = with_policy(
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .then_http_response(|| s3_error(404, "NoSuchBucketPolicy")),
    );
    let bucket = "amzn-s3-demo-bucket--zzz9-az1--x-s3";
    let got = run_with(&w, &request(bucket), None).unwrap_or_else(|e| panic!("{e}"));
    let u = unavailable(&got.evidence.bucket.region);
    assert!(
        u.reason.contains("zone id `zzz9-az1`") && u.reason.contains("--region"),
        "{}",
        u.reason
    );
    assert_eq!(got.evidence.bucket.policy, Slot::Absent);
}

/// What the reading relies on: the SDK sends a directory bucket's `GetBucketPolicy` to the
/// Region's `s3express-control` endpoint, signed, without a `CreateSession` first (the
/// first request it sends is the policy's).
#[test]
fn the_sdk_reads_a_directory_bucket_policy_from_the_regional_control_endpoint() {
    let (http, captured) = aws_smithy_http_client::test_util::capture_request(None);
    let conf = aws_sdk_s3::Config::builder()
        .with_test_defaults_v2()
        .region(aws_sdk_s3::config::Region::new("us-west-2"))
        .http_client(http)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    let _ = runtime().block_on(s3.get_bucket_policy().bucket(BUCKET).send());
    let req = captured.expect_request();
    let uri = req.uri().to_owned();
    assert!(
        uri.starts_with(&format!(
            "https://s3express-control.us-west-2.amazonaws.com/{BUCKET}"
        )) && uri.contains("policy"),
        "{uri}"
    );
    let auth = req.headers().get("authorization").unwrap_or_default();
    assert!(auth.contains("/us-west-2/s3express/aws4_request"), "{auth}");
}
