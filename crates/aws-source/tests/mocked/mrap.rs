//! An upload through a Multi-Region Access Point: found by its alias among its account's
//! (`ListMultiRegionAccessPoints`), its `Established` policy read
//! (`GetMultiRegionAccessPointPolicy`), and the bucket the request was routed to: its only
//! bucket, the one the request names (`--mrap-bucket`), or the only one its routes make active
//! (`GetMultiRegionAccessPointRoutes`); with several active and none named the collection ends,
//! naming them.

use aws_sdk_s3control::operation::get_multi_region_access_point_policy::GetMultiRegionAccessPointPolicyOutput;
use aws_sdk_s3control::operation::get_multi_region_access_point_routes::GetMultiRegionAccessPointRoutesOutput;
use aws_sdk_s3control::operation::list_multi_region_access_points::ListMultiRegionAccessPointsOutput;
use aws_sdk_s3control::types::{
    EstablishedMultiRegionAccessPointPolicy, MultiRegionAccessPointPolicyDocument,
    MultiRegionAccessPointReport, MultiRegionAccessPointRoute,
    ProposedMultiRegionAccessPointPolicy, PublicAccessBlockConfiguration, RegionReport,
};
use why403_core::evidence::NetworkOrigin;

use crate::world::*;

const ALIAS: &str = "mfzwi23gnjvgw.mrap";
const MRAP_ARN: &str = "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap";
const OTHER: &str = "444455556666";
const MRAP_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"DenyPuts","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap/object/*"}]}"#;

fn report(buckets: &[(&str, &str, &str)]) -> MultiRegionAccessPointReport {
    let mut r = MultiRegionAccessPointReport::builder()
        .name("finance-mrap")
        .alias(ALIAS)
        .public_access_block(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        );
    for (bucket, region, account) in buckets {
        r = r.regions(
            RegionReport::builder()
                .bucket(*bucket)
                .region(*region)
                .bucket_account_id(*account)
                .build(),
        );
    }
    r.build()
}

/// Alice's world with the Multi-Region Access Point over `buckets` (`(name, Region,
/// account)`), listed after another one; `policy` answers its policy.
fn world(buckets: &'static [(&'static str, &'static str, &'static str)], policy: Rule) -> World {
    let mut w = World::alice().acl();
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::list_multi_region_access_points)
            .match_requests(|r| r.account_id() == Some(ACCOUNT))
            .then_output(move || {
                ListMultiRegionAccessPointsOutput::builder()
                    .access_points(
                        MultiRegionAccessPointReport::builder()
                            .name("other")
                            .alias("aaaaaaaaaaaaa.mrap")
                            .build(),
                    )
                    .access_points(report(buckets))
                    .build()
            }),
    );
    w.s3c.push(policy);
    w
}

fn established() -> Rule {
    mock!(aws_sdk_s3control::Client::get_multi_region_access_point_policy)
        .match_requests(|r| r.account_id() == Some(ACCOUNT) && r.name() == Some("finance-mrap"))
        .then_output(|| {
            GetMultiRegionAccessPointPolicyOutput::builder()
                .policy(
                    MultiRegionAccessPointPolicyDocument::builder()
                        .established(
                            EstablishedMultiRegionAccessPointPolicy::builder()
                                .policy(MRAP_POLICY)
                                .build(),
                        )
                        .build(),
                )
                .build()
        })
}

const ONE: &[(&str, &str, &str)] = &[("amzn-s3-demo-bucket", "eu-west-1", ACCOUNT)];
const TWO: &[(&str, &str, &str)] = &[
    ("amzn-s3-demo-bucket", "eu-west-1", ACCOUNT),
    ("amzn-s3-demo-bucket-us", "us-east-1", OTHER),
];

fn request(bucket: &str) -> UploadRequest {
    let mut r = UploadRequest::from_s3_url(&format!("s3://{MRAP_ARN}/reports/q3.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    r.bucket = bucket.to_owned();
    r
}

fn collect(w: &World, bucket: &str) -> Collected {
    run_with(w, &request(bucket), None).unwrap_or_else(|e| panic!("collection failed: {e}"))
}

#[test]
fn a_multi_region_access_point_with_one_bucket_is_read_with_its_policy() {
    let got = collect(&world(ONE, established()), "");
    let ap = access_point(&got);
    assert!(ap.multi_region);
    assert_eq!(
        (ap.name.as_str(), ap.arn.as_str()),
        ("finance-mrap", MRAP_ARN)
    );
    assert_eq!(ap.alias.as_deref(), Some(ALIAS));
    assert_eq!(ap.account, ACCOUNT);
    assert_eq!(ap.bucket, "amzn-s3-demo-bucket");
    assert_eq!(ap.bucket_account.as_deref(), Some(ACCOUNT));
    assert_eq!(ap.network_origin, NetworkOrigin::Internet);
    assert!(ap.public_access_block.restrict_public_buckets);
    let policy = ap.policy.get().unwrap_or_else(|| panic!("{:?}", ap.policy));
    assert_eq!(&*policy.text, MRAP_POLICY);
    assert_eq!(got.request.bucket, "amzn-s3-demo-bucket");
    assert_eq!(round_of(&got, "s3control:ListMultiRegionAccessPoints"), 1);
    assert_eq!(
        round_of(&got, "s3control:GetMultiRegionAccessPointPolicy"),
        2
    );
    assert_eq!(round_of(&got, "s3:HeadBucket"), 3);
    // The policy's deny, read live, is the diagnosis's cause.
    let d = why403_core::finding::diagnose(
        got.request.clone(),
        got.evidence.clone(),
        &why403_rules::registry(),
    );
    assert_eq!(d.verdict.to_string(), "denied", "{:#?}", d.findings);
    assert!(
        d.findings
            .iter()
            .any(|f| f.role == why403_core::finding::Role::Cause
                && f.rule.id.as_str() == "access-point-policy-explicit-deny"),
        "{:#?}",
        d.findings
    );
}

/// `GetMultiRegionAccessPointRoutes` with these traffic dials for `amzn-s3-demo-bucket` and
/// `amzn-s3-demo-bucket-us`.
fn routes(eu: i32, us: i32) -> Rule {
    mock!(aws_sdk_s3control::Client::get_multi_region_access_point_routes)
        .match_requests(|r| r.account_id() == Some(ACCOUNT) && r.mrap() == Some(MRAP_ARN))
        .then_output(move || {
            let route = |bucket: &str, region: &str, dial: i32| {
                MultiRegionAccessPointRoute::builder()
                    .bucket(bucket)
                    .region(region)
                    .traffic_dial_percentage(dial)
                    .build()
                    .unwrap_or_else(|e| panic!("{e}"))
            };
            GetMultiRegionAccessPointRoutesOutput::builder()
                .mrap(MRAP_ARN)
                .routes(route("amzn-s3-demo-bucket", "eu-west-1", eu))
                .routes(route("amzn-s3-demo-bucket-us", "us-east-1", us))
                .build()
        })
}

#[test]
fn with_several_active_buckets_the_routed_bucket_must_be_named() {
    let mut w = world(TWO, established());
    w.s3c.push(routes(50, 50));
    match run_with(&w, &request(""), None) {
        Err(e @ CollectError::MultiRegionAccessPoint { .. }) => {
            let m = e.to_string();
            assert!(
                m.contains(MRAP_ARN)
                    && m.contains(
                        "2 buckets, `amzn-s3-demo-bucket` (eu-west-1), `amzn-s3-demo-bucket-us` (us-east-1); 2 of them receive requests"
                    )
                    && m.contains("--mrap-bucket"),
                "{m}"
            );
        }
        other => panic!("expected CollectError::MultiRegionAccessPoint, found {other:?}"),
    }
    match run_with(&w, &request("elsewhere"), None) {
        Err(e @ CollectError::MultiRegionAccessPoint { .. }) => {
            assert!(
                e.to_string()
                    .contains("`elsewhere` is not one of its buckets"),
                "{e}"
            );
        }
        other => panic!("expected CollectError::MultiRegionAccessPoint, found {other:?}"),
    }
}

#[test]
fn with_one_active_bucket_its_routes_name_the_routed_bucket() {
    let mut w = world(TWO, established());
    w.s3c.push(routes(0, 100));
    let got = collect(&w, "");
    assert_eq!(access_point(&got).bucket, "amzn-s3-demo-bucket-us");
    assert_eq!(got.evidence.bucket.name, "amzn-s3-demo-bucket-us");
    // The routes and the policy both need only the list.
    assert_eq!(
        round_of(&got, "s3control:GetMultiRegionAccessPointRoutes"),
        2
    );
    assert_eq!(
        round_of(&got, "s3control:GetMultiRegionAccessPointPolicy"),
        2
    );
    // Named, the bucket needs no routes.
    let got = collect(&w, "amzn-s3-demo-bucket");
    assert_eq!(
        got.stats.count("s3control:GetMultiRegionAccessPointRoutes"),
        0
    );
}

#[test]
fn refused_routes_leave_the_routed_bucket_to_be_named() {
    let mut w = world(TWO, established());
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::get_multi_region_access_point_routes)
            .then_http_response(|| control_error(403, "AccessDenied")),
    );
    match run_with(&w, &request(""), None) {
        Err(e @ CollectError::MultiRegionAccessPoint { .. }) => {
            let m = e.to_string();
            assert!(
                m.contains("AccessDenied from s3control:GetMultiRegionAccessPointRoutes")
                    && m.contains("--mrap-bucket"),
                "{m}"
            );
        }
        other => panic!("expected CollectError::MultiRegionAccessPoint, found {other:?}"),
    }
}

#[test]
fn the_named_bucket_is_the_one_read_with_its_account() {
    let got = collect(&world(TWO, established()), "amzn-s3-demo-bucket-us");
    let ap = access_point(&got);
    assert_eq!(ap.bucket, "amzn-s3-demo-bucket-us");
    assert_eq!(ap.bucket_account.as_deref(), Some(OTHER));
    assert_eq!(got.evidence.bucket.name, "amzn-s3-demo-bucket-us");
}

#[test]
fn a_refused_policy_is_unavailable_and_one_never_established_is_absent() {
    let refused = mock!(aws_sdk_s3control::Client::get_multi_region_access_point_policy)
        .then_http_response(|| control_error(403, "AccessDenied"));
    let got = collect(&world(ONE, refused), "");
    let ap = access_point(&got);
    assert_eq!(
        unavailable(&ap.policy).needs,
        ["s3:GetMultiRegionAccessPointPolicy"]
    );

    let proposed_only = mock!(aws_sdk_s3control::Client::get_multi_region_access_point_policy)
        .then_output(|| {
            GetMultiRegionAccessPointPolicyOutput::builder()
                .policy(
                    MultiRegionAccessPointPolicyDocument::builder()
                        .proposed(
                            ProposedMultiRegionAccessPointPolicy::builder()
                                .policy(MRAP_POLICY)
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let got = collect(&world(ONE, proposed_only), "");
    let ap = access_point(&got);
    assert_eq!(ap.policy, Slot::Absent);
}

#[test]
fn a_refused_list_ends_the_collection_unless_the_bucket_is_named() {
    let mut w = World::alice().acl();
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::list_multi_region_access_points)
            .then_http_response(|| control_error(403, "AccessDenied")),
    );
    match run_with(&w, &request(""), None) {
        Err(e @ CollectError::MultiRegionAccessPoint { .. }) => {
            let m = e.to_string();
            assert!(
                m.contains("AccessDenied from s3control:ListMultiRegionAccessPoints"),
                "{m}"
            );
        }
        other => panic!("expected CollectError::MultiRegionAccessPoint, found {other:?}"),
    }
    // Named, the bucket is read; the access point is unavailable, naming the action.
    let got = collect(&w, "amzn-s3-demo-bucket");
    assert_eq!(
        unavailable(&got.evidence.access_point).needs,
        ["s3:ListMultiRegionAccessPoints"]
    );
    assert_eq!(got.evidence.bucket.name, "amzn-s3-demo-bucket");
    assert_eq!(got.stats.count("s3:GetBucketAcl"), 1);
}

#[test]
fn a_multi_region_access_point_the_account_does_not_have_ends_the_collection() {
    let mut w = World::alice();
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::list_multi_region_access_points)
            .then_output(|| ListMultiRegionAccessPointsOutput::builder().build()),
    );
    match run_with(&w, &request(""), None) {
        Err(e @ CollectError::MultiRegionAccessPoint { .. }) => {
            assert!(
                e.to_string()
                    .contains("has no Multi-Region Access Point with alias `mfzwi23gnjvgw.mrap`"),
                "{e}"
            );
        }
        other => panic!("expected CollectError::MultiRegionAccessPoint, found {other:?}"),
    }
}

/// A session reads a Multi-Region Access Point and its policy once for every upload through it.
#[test]
fn a_session_reads_the_multi_region_access_point_once() {
    let w = world(ONE, established());
    let uploads = [request(""), request(""), request("amzn-s3-demo-bucket")];
    let session = why403_aws_source::Session::new(w.clients());
    let got =
        runtime().block_on(session.collect_many(uploads.iter().map(|u| (u, None)), 3, &|_| {}));
    for g in &got {
        let g = g.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(access_point(g).bucket, "amzn-s3-demo-bucket");
    }
    let total = session.stats();
    assert_eq!(total.count("s3control:ListMultiRegionAccessPoints"), 1);
    assert_eq!(total.count("s3control:GetMultiRegionAccessPointPolicy"), 1);
    assert_eq!(total.count("s3:HeadBucket"), 1);
}
