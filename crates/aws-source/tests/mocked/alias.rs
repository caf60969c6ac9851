//! An upload through an access point named by its alias: the alias's Region (`HeadBucket` on
//! the alias), its access point among the credentials' account's (`ListAccessPoints`, page by
//! page), then the access point as if named by its ARN. An alias that is not the account's,
//! or that cannot be looked up, leaves the access point and its bucket unknown, saying why and
//! which action would read them.

use aws_sdk_s3control::operation::list_access_points::ListAccessPointsOutput;
use aws_sdk_s3control::types::{AccessPoint, NetworkOrigin};

use crate::access_point::{AP_ARN, with_policy, world};
use crate::world::*;

const ALIAS: &str = "finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias";

fn entry(name: &str, alias: &str) -> AccessPoint {
    AccessPoint::builder()
        .name(name)
        .network_origin(NetworkOrigin::Internet)
        .bucket("amzn-s3-demo-bucket")
        .alias(alias)
        .access_point_arn(format!("arn:aws:s3:eu-west-1:{ACCOUNT}:accesspoint/{name}"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Two pages: another access point, then (when `found`) the alias's.
fn listed(found: bool) -> [Rule; 2] {
    [
        mock!(aws_sdk_s3control::Client::list_access_points)
            .match_requests(|r| r.account_id() == Some(ACCOUNT) && r.next_token().is_none())
            .then_output(|| {
                ListAccessPointsOutput::builder()
                    .access_point_list(entry(
                        "other-ap",
                        "other-ap-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-s3alias",
                    ))
                    .next_token("page-2")
                    .build()
            }),
        mock!(aws_sdk_s3control::Client::list_access_points)
            .match_requests(|r| r.account_id() == Some(ACCOUNT) && r.next_token() == Some("page-2"))
            .then_output(move || {
                let b = ListAccessPointsOutput::builder();
                if found {
                    b.access_point_list(entry("finance-ap", ALIAS)).build()
                } else {
                    b.build()
                }
            }),
    ]
}

fn request() -> UploadRequest {
    UploadRequest::from_s3_url(&format!("s3://{ALIAS}/reports/q3.csv"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_alias_is_found_among_the_accounts_access_points_and_read_as_its_arn() {
    let mut w = world(with_policy());
    w.s3c.extend(listed(true));
    let got = run_with(&w, &request(), None).unwrap_or_else(|e| panic!("{e}"));
    let ap = access_point(&got);
    assert_eq!((ap.name.as_str(), ap.arn.as_str()), ("finance-ap", AP_ARN));
    assert_eq!(ap.alias.as_deref(), Some(ALIAS));
    assert!(ap.policy.get().is_some(), "{:?}", ap.policy);
    assert_eq!(got.request.bucket, "amzn-s3-demo-bucket");
    assert_eq!(got.evidence.bucket.name, "amzn-s3-demo-bucket");
    // The alias's Region, both pages of access points, then the access point and its policy.
    assert_eq!(got.stats.count("s3control:ListAccessPoints"), 2);
    assert_eq!(round_of(&got, "s3control:ListAccessPoints"), 2);
    assert_eq!(round_of(&got, "s3control:GetAccessPoint"), 4);
    assert_eq!(round_of(&got, "s3control:GetAccessPointPolicy"), 4);
    // HeadBucket on the alias, then on the bucket.
    assert_eq!(got.stats.count("s3:HeadBucket"), 2);
}

#[test]
fn an_alias_that_is_not_the_accounts_leaves_the_access_point_and_its_bucket_unknown() {
    let mut w = World::alice();
    w.s3c.extend(listed(false));
    let got = run_with(&w, &request(), None).unwrap_or_else(|e| panic!("{e}"));
    let u = unavailable(&got.evidence.access_point);
    assert!(
        u.reason.contains(&format!(
            "`{ALIAS}` is not the alias of an access point of account `{ACCOUNT}`"
        )) && u.reason.contains("eu-west-1")
            && u.reason.contains("name the access point by its ARN"),
        "{}",
        u.reason
    );
    assert_eq!(
        u.needs,
        [
            "s3:ListAccessPoints",
            "s3:GetAccessPoint",
            "s3:GetAccessPointPolicy"
        ]
    );
    // The bucket is unknown: none of its reads were made, each says why.
    let policy = unavailable(&got.evidence.bucket.policy);
    assert!(
        policy.reason.contains("the bucket of access point alias"),
        "{}",
        policy.reason
    );
    assert_eq!(policy.needs, ["s3:GetBucketPolicy"]);
    assert!(got.evidence.bucket.owner_account.unavailable().is_some());
    // The Region is the alias's, which is its bucket's.
    assert_eq!(
        got.evidence.bucket.region,
        Slot::Collected("eu-west-1".to_owned())
    );
    for api in [
        "s3control:GetAccessPoint",
        "s3:GetBucketPolicy",
        "s3:GetBucketAcl",
    ] {
        assert_eq!(got.stats.count(api), 0, "{api}");
    }
    // Never a certainty about the bucket: the diagnosis cannot say the upload is allowed.
    let d = why403_core::finding::diagnose(
        got.request.clone(),
        got.evidence.clone(),
        &why403_rules::registry(),
    );
    assert_ne!(d.verdict.to_string(), "allowed", "{:#?}", d.findings);
}

#[test]
fn a_refused_list_of_access_points_leaves_the_access_point_unknown_naming_the_action() {
    let mut w = World::alice();
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::list_access_points)
            .then_http_response(|| control_error(403, "AccessDenied")),
    );
    let got = run_with(&w, &request(), None).unwrap_or_else(|e| panic!("{e}"));
    let u = unavailable(&got.evidence.access_point);
    assert!(
        u.reason
            .contains("AccessDenied from s3control:ListAccessPoints"),
        "{}",
        u.reason
    );
    assert_eq!(u.needs[0], "s3:ListAccessPoints");
}

#[test]
fn an_alias_whose_region_cannot_be_read_leaves_the_access_point_unknown() {
    let mut w = World::default();
    let alice = World::alice();
    w.sts = alice.sts;
    w.s3.push(mock!(aws_sdk_s3::Client::head_bucket).then_http_response(|| empty(403)));
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_location)
            .then_http_response(|| s3_error(403, "AccessDenied")),
    );
    let got = run_with(&w, &request(), None).unwrap_or_else(|e| panic!("{e}"));
    let u = unavailable(&got.evidence.access_point);
    assert!(
        u.reason.contains("the Region of access point alias"),
        "{}",
        u.reason
    );
    assert_eq!(u.needs, ["s3:GetBucketLocation", "s3:ListAccessPoints"]);
    assert_eq!(got.stats.count("s3control:ListAccessPoints"), 0);
}

/// A session looks an alias up once, and reads the access point once whether an upload names
/// it by its alias or by its ARN.
#[test]
fn a_session_reads_the_alias_and_its_access_point_once() {
    let mut w = world(with_policy());
    w.s3c.extend(listed(true));
    let by_arn = UploadRequest::from_s3_url(&format!("s3://{AP_ARN}/reports/q4.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let uploads = [request(), request(), by_arn];
    let session = why403_aws_source::Session::new(w.clients());
    let got =
        runtime().block_on(session.collect_many(uploads.iter().map(|u| (u, None)), 3, &|_| {}));
    for g in &got {
        let g = g.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(access_point(g).arn, AP_ARN);
    }
    let total = session.stats();
    // Both pages once; the access point and its policy once; HeadBucket on the alias and on
    // the bucket once each.
    assert_eq!(total.count("s3control:ListAccessPoints"), 2);
    assert_eq!(total.count("s3control:GetAccessPoint"), 1);
    assert_eq!(total.count("s3control:GetAccessPointPolicy"), 1);
    assert_eq!(total.count("s3:HeadBucket"), 2);
}
