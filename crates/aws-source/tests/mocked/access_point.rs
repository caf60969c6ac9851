//! An upload through an access point named by its ARN: the access point and its policy are
//! read (`s3control` `GetAccessPoint`, `GetAccessPointPolicy`), the access point's bucket is
//! the one every bucket read is about; a policy that does not exist is absent, one that is
//! refused is unavailable, an access point that cannot be read ends the collection, and the
//! access point policy's deny read live is the diagnosis's cause.
//! (moto 5.2.5 answers both calls with a `...Response` root element where AWS answers
//! `...Result`, which the SDK refuses: docs/architecture.md#testing.)

use aws_sdk_s3control::operation::get_access_point::GetAccessPointOutput;
use aws_sdk_s3control::operation::get_access_point_policy::GetAccessPointPolicyOutput;
use why403_core::evidence::NetworkOrigin;

use crate::world::*;

pub(crate) const AP_ARN: &str = "arn:aws:s3:eu-west-1:111122223333:accesspoint/finance-ap";
pub(crate) const AP_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyPuts","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:eu-west-1:111122223333:accesspoint/finance-ap/object/*"}]}"#;

/// Alice's world with the access point `finance-ap` (in a VPC) on her bucket; `policy` answers
/// `GetAccessPointPolicy`.
pub(crate) fn world(policy: Rule) -> World {
    let mut w = World::alice().acl();
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::get_access_point)
            .match_requests(|r| r.account_id() == Some(ACCOUNT) && r.name() == Some("finance-ap"))
            .then_output(|| {
                GetAccessPointOutput::builder()
                    .name("finance-ap")
                    .bucket("amzn-s3-demo-bucket")
                    .network_origin(aws_sdk_s3control::types::NetworkOrigin::Vpc)
                    .vpc_configuration(
                        aws_sdk_s3control::types::VpcConfiguration::builder()
                            .vpc_id("vpc-1a2b3c4d")
                            .build()
                            .unwrap_or_else(|e| panic!("{e}")),
                    )
                    .public_access_block_configuration(
                        aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                            .block_public_acls(true)
                            .ignore_public_acls(true)
                            .block_public_policy(true)
                            .restrict_public_buckets(true)
                            .build(),
                    )
                    .alias("finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias")
                    .access_point_arn(AP_ARN)
                    .bucket_account_id(ACCOUNT)
                    .build()
            }),
    );
    w.s3c.push(policy);
    w
}

pub(crate) fn with_policy() -> Rule {
    mock!(aws_sdk_s3control::Client::get_access_point_policy)
        .match_requests(|r| r.account_id() == Some(ACCOUNT) && r.name() == Some("finance-ap"))
        .then_output(|| {
            GetAccessPointPolicyOutput::builder()
                .policy(AP_POLICY)
                .build()
        })
}

fn request() -> UploadRequest {
    UploadRequest::from_s3_url(&format!("s3://{AP_ARN}/reports/q3.csv"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn collect(w: &World) -> Collected {
    run_with(w, &request(), None).unwrap_or_else(|e| panic!("collection failed: {e}"))
}

#[test]
fn an_access_point_and_its_policy_are_read_and_name_the_bucket() {
    let got = collect(&world(with_policy()));
    let ap = access_point(&got);
    assert_eq!((ap.name.as_str(), ap.arn.as_str()), ("finance-ap", AP_ARN));
    assert_eq!(ap.account, ACCOUNT);
    assert_eq!(ap.bucket, "amzn-s3-demo-bucket");
    assert_eq!(ap.bucket_account.as_deref(), Some(ACCOUNT));
    assert_eq!(
        ap.alias.as_deref(),
        Some("finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias")
    );
    assert_eq!(
        ap.network_origin,
        NetworkOrigin::Vpc("vpc-1a2b3c4d".to_owned())
    );
    assert!(
        ap.public_access_block.block_public_acls && ap.public_access_block.restrict_public_buckets
    );
    assert!(!ap.multi_region);
    let policy = ap.policy.get().unwrap_or_else(|| panic!("{:?}", ap.policy));
    assert_eq!(policy.name, "access point policy of finance-ap");
    assert_eq!(&*policy.text, AP_POLICY);
    // The access point's bucket is the upload's.
    assert_eq!(got.request.bucket, "amzn-s3-demo-bucket");
    assert_eq!(got.evidence.bucket.name, "amzn-s3-demo-bucket");
    assert_eq!(
        got.evidence.bucket.region,
        Slot::Collected("eu-west-1".to_owned())
    );
    // Both reads in round 1; the bucket's Region after them.
    assert_eq!(round_of(&got, "s3control:GetAccessPoint"), 1);
    assert_eq!(round_of(&got, "s3control:GetAccessPointPolicy"), 1);
    assert_eq!(round_of(&got, "s3:HeadBucket"), 2);
}

#[test]
fn an_access_point_without_a_policy_has_an_absent_policy() {
    let got = collect(&world(
        mock!(aws_sdk_s3control::Client::get_access_point_policy)
            .then_http_response(|| control_error(404, "NoSuchAccessPointPolicy")),
    ));
    let ap = access_point(&got);
    assert_eq!(ap.policy, Slot::Absent);
}

#[test]
fn a_refused_access_point_policy_is_unavailable() {
    let got = collect(&world(
        mock!(aws_sdk_s3control::Client::get_access_point_policy)
            .then_http_response(|| control_error(403, "AccessDenied")),
    ));
    let ap = access_point(&got);
    assert_eq!(unavailable(&ap.policy).needs, ["s3:GetAccessPointPolicy"]);
}

#[test]
fn an_access_point_that_cannot_be_read_ends_the_collection() {
    let mut w = World::alice().acl();
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::get_access_point)
            .then_http_response(|| control_error(403, "AccessDenied")),
    );
    w.s3c.push(with_policy());
    match run_with(&w, &request(), None) {
        Err(e @ CollectError::AccessPoint { .. }) => {
            let m = e.to_string();
            assert!(m.contains(AP_ARN) && m.contains("s3:GetAccessPoint"), "{m}");
        }
        other => panic!("expected CollectError::AccessPoint, found {other:?}"),
    }
}

/// The access point policy's explicit deny, read live, is the diagnosis's cause.
#[test]
fn an_access_point_policy_deny_read_live_is_the_cause() {
    let got = collect(&world(with_policy()));
    let d = why403_core::finding::diagnose(
        got.request.clone(),
        got.evidence.clone(),
        &why403_rules::registry(),
    );
    assert_eq!(d.verdict.to_string(), "denied", "{:#?}", d.findings);
    let causes = cause_ids(&d);
    assert!(
        causes.contains(&"access-point-policy-explicit-deny"),
        "{:#?}",
        d.findings
    );
}
