//! Scenario files of uploads through access points and to directory buckets: what the reader
//! makes of them, and its located errors.

use why403_core::evidence::{NetworkOrigin, ObjectOwnership, Slot};
use why403_core::upload::{AccessPointRef, SessionMode, Target};
use why403_fixtures_source::{ScenarioError, parse, write_scenario};

const AP_ARN: &str = "arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap";

/// A scenario with `request` and `evidence` members spliced in (JSON text without braces).
fn scenario(request: &str, evidence: &str) -> String {
    format!(
        r#"{{
  "scenario": 1,
  "request": {{
    "principal": "arn:aws:iam::111122223333:user/alice",
{request}
    "key": "reports/q3.csv"
  }},
  "evidence": {{
{evidence}
    "bucket_owner": "111122223333"
  }}
}}
"#
    )
}

fn access_point_section(extra: &str) -> String {
    format!(
        r#"    "access_point": {{
      "Name": "finance-ap",
      "Bucket": "amzn-s3-demo-bucket",
      "NetworkOrigin": "VPC",
      "VpcConfiguration": {{"VpcId": "vpc-1a2b3c4d"}},
      "PublicAccessBlockConfiguration": {{"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}},
      "Alias": "finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias",
      "AccessPointArn": "{AP_ARN}"{extra}
    }},
"#
    )
}

fn err(text: &str) -> ScenarioError {
    match parse("scenario.json", text) {
        Ok(_) => panic!("expected an error for\n{text}"),
        Err(e) => e,
    }
}

fn located(text: &str) -> (String, usize, usize, String) {
    let e = err(text);
    let at = e.location().expect("located");
    (e.to_string(), at.line, at.column, at.pointer.clone())
}

#[test]
fn an_access_point_arn_gives_the_target_and_its_evidence_the_bucket() {
    let text = scenario(
        &format!("    \"access_point\": \"{AP_ARN}\",\n"),
        &format!(
            "{}    \"access_point_policy\": {{\"$absent\": \"NoSuchAccessPointPolicy\"}},\n",
            access_point_section(",\n      \"BucketAccountId\": \"444455556666\"")
        ),
    );
    // `bucket_owner` says 111122223333 but the access point says its bucket is 444455556666's.
    let (msg, line, _, pointer) = located(&text);
    assert_eq!(pointer, "/evidence/bucket_owner", "{msg}");
    assert!(
        msg.contains("contradicts the access point's `BucketAccountId`"),
        "{msg}"
    );
    assert!(line > 10);

    let text = scenario(
        &format!("    \"access_point\": \"{AP_ARN}\",\n"),
        &format!(
            "{}    \"access_point_policy\": {{\"$absent\": \"NoSuchAccessPointPolicy\"}},\n",
            access_point_section("")
        ),
    );
    let s = parse("scenario.json", &text).expect("reads");
    assert_eq!(s.request.bucket, "amzn-s3-demo-bucket");
    let Target::AccessPoint(AccessPointRef::Arn {
        name,
        account,
        region,
        ..
    }) = &s.request.target
    else {
        panic!("{:?}", s.request.target)
    };
    assert_eq!(
        (name.as_str(), account.as_str(), region.as_str()),
        ("finance-ap", "111122223333", "us-east-1")
    );
    let ap = s.evidence.access_point.get().expect("read");
    assert_eq!(ap.network_origin, NetworkOrigin::Vpc("vpc-1a2b3c4d".into()));
    assert_eq!(ap.policy, Slot::Absent);
    assert!(ap.public_access_block.block_public_acls);
    // Written back and read again, it is the same scenario.
    let again = parse("again.json", &write_scenario(&s, false)).expect("reads back");
    assert_eq!(again.request.target, s.request.target);
    assert_eq!(again.evidence.access_point, s.evidence.access_point);
}

#[test]
fn an_alias_needs_the_access_points_arn() {
    let alias = "finance-ap-hrzrlukc5m36ft7okagglf3gmwluquse1b-s3alias";
    let section =
        access_point_section("").replace(&format!(",\n      \"AccessPointArn\": \"{AP_ARN}\""), "");
    let text = scenario(&format!("    \"bucket\": \"{alias}\",\n"), &section);
    let (msg, _, _, pointer) = located(&text);
    assert_eq!(pointer, "/evidence/access_point");
    assert!(
        msg.contains("missing required field `AccessPointArn`"),
        "{msg}"
    );
    // With it, the alias given as `bucket` is the access point, as the AWS CLI reads it.
    let text = scenario(
        &format!("    \"bucket\": \"{alias}\",\n"),
        &access_point_section(""),
    );
    let s = parse("scenario.json", &text).expect("reads");
    assert_eq!(
        s.request.target,
        Target::AccessPoint(AccessPointRef::Alias(alias.into()))
    );
    assert_eq!(s.request.bucket, "amzn-s3-demo-bucket");
    // Without the access point's evidence, the bucket is unknown: located at the request.
    let text = scenario(&format!("    \"access_point\": \"{alias}\",\n"), "");
    let (msg, line, column, pointer) = located(&text);
    assert_eq!(
        (line, column, pointer.as_str()),
        (3, 14, "/request"),
        "{msg}"
    );
    assert!(msg.contains("missing required field `bucket`"), "{msg}");
}

#[test]
fn contradictions_and_bad_values_are_located() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            scenario(
                "    \"access_point\": \"arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap\",\n",
                "",
            ),
            "/request",
            "the bucket of the Multi-Region Access Point that the request was routed to",
        ),
        (
            scenario("    \"access_point\": \"amzn-s3-demo-bucket\",\n", ""),
            "/request/access_point",
            "expected an access point ARN",
        ),
        (
            scenario(
                "    \"access_point\": \"arn:aws:s3:us-east-1:12345:accesspoint/x\",\n",
                "",
            ),
            "/request/access_point",
            "the account of an access point ARN is 12 digits",
        ),
        (
            scenario(
                "    \"bucket\": \"amzn-s3-demo-bucket\",\n    \"session_mode\": \"ReadOnly\",\n",
                "",
            ),
            "/request/session_mode",
            "for directory buckets",
        ),
        (
            scenario(
                "    \"bucket\": \"amzn-s3-demo-bucket\",\n",
                &access_point_section(""),
            ),
            "/evidence/access_point",
            "goes through no access point",
        ),
        (
            scenario(
                &format!(
                    "    \"access_point\": \"{AP_ARN}\",\n    \"bucket\": \"other-bucket\",\n"
                ),
                &access_point_section(""),
            ),
            "/evidence/access_point/Bucket",
            "attached to `amzn-s3-demo-bucket`",
        ),
        (
            scenario(
                &format!("    \"access_point\": \"{AP_ARN}\",\n"),
                &access_point_section("").replace("\"VPC\"", "\"Vpc\""),
            ),
            "/evidence/access_point/NetworkOrigin",
            "unknown network origin `Vpc`",
        ),
        (
            scenario(
                "    \"access_point\": \"arn:aws:s3:us-east-1:111122223333:accesspoint/other-ap\",\n",
                &access_point_section(""),
            ),
            "/evidence/access_point/AccessPointArn",
            "is not the access point the request names",
        ),
        (
            scenario(
                "    \"bucket\": \"amzn-s3-demo-bucket--usw2-az1--x-s3\",\n",
                "    \"bucket_acl\": {\"Owner\": {\"ID\": \"abc\"}, \"Grants\": []},\n",
            ),
            "/evidence/bucket_acl",
            "a directory bucket has no ACL",
        ),
    ];
    for (text, pointer, words) in cases {
        let (msg, _, _, at) = located(&text);
        assert_eq!(at, pointer, "{msg}");
        assert!(msg.contains(words), "{msg}");
    }
}

#[test]
fn a_directory_bucket_has_its_settings_and_a_session_mode() {
    let text = scenario(
        "    \"bucket\": \"amzn-s3-demo-bucket--usw2-az1--x-s3\",\n    \"session_mode\": \"ReadOnly\",\n",
        "    \"bucket_location\": {\"LocationConstraint\": \"us-west-2\"},\n",
    );
    let s = parse("scenario.json", &text).expect("reads");
    assert_eq!(s.request.target, Target::DirectoryBucket);
    assert_eq!(s.request.session_mode, SessionMode::ReadOnly);
    assert_eq!(s.evidence.bucket.acl, Slot::NotApplicable);
    assert_eq!(
        s.evidence.bucket.ownership,
        Slot::Collected(ObjectOwnership::BucketOwnerEnforced)
    );
    assert!(s.evidence.access_point == Slot::NotApplicable);
    let again = parse("again.json", &write_scenario(&s, false)).expect("reads back");
    assert_eq!(again.request.session_mode, SessionMode::ReadOnly);
    assert_eq!(again.request.target, Target::DirectoryBucket);
}

#[test]
fn a_multi_region_access_point_and_the_bucket_it_routed_to() {
    let mrap = "arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap";
    let section = |bucket: &str| {
        format!(
            r#"    "multi_region_access_point": {{"AccessPoint": {{
      "Name": "global", "Alias": "mfzwi23gnjvgw.mrap", "CreatedAt": "2026-01-01T00:00:00Z",
      "PublicAccessBlock": {{"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}},
      "Status": "READY",
      "Regions": [{{"Bucket": "{bucket}", "Region": "us-east-1", "BucketAccountId": "111122223333"}}]
    }}}},
    "multi_region_access_point_policy": {{"Policy": {{"Established": {{"Policy": "{{\"Version\":\"2012-10-17\",\"Statement\":[]}}"}}}}}},
"#
        )
    };
    let request =
        format!("    \"access_point\": \"{mrap}\",\n    \"bucket\": \"amzn-s3-demo-bucket\",\n");
    let s = parse(
        "scenario.json",
        &scenario(&request, &section("amzn-s3-demo-bucket")),
    )
    .expect("reads");
    let ap = s.evidence.access_point.get().expect("read");
    assert!(ap.multi_region);
    assert_eq!(ap.arn, mrap);
    assert_eq!(ap.bucket, "amzn-s3-demo-bucket");
    assert!(ap.policy.get().is_some());
    let again = parse("again.json", &write_scenario(&s, false)).expect("reads back");
    assert_eq!(
        again.evidence.access_point.get().map(|a| &a.arn),
        Some(&ap.arn)
    );
    // The bucket must be one the access point routes to.
    let (msg, _, _, pointer) = located(&scenario(&request, &section("other-bucket")));
    assert_eq!(
        pointer, "/evidence/multi_region_access_point/AccessPoint/Regions",
        "{msg}"
    );
    assert!(
        msg.contains("is not one of the Multi-Region Access Point's buckets"),
        "{msg}"
    );
    // A single-Region access point's sections are refused for it.
    let (msg, _, _, pointer) = located(&scenario(&request, &access_point_section("")));
    assert_eq!(pointer, "/evidence/access_point", "{msg}");
}
