//! What an embedder uses, from the crate root only: evaluate one request against a policy set,
//! and diagnose an upload from built evidence.

use why403_core::{
    Decision, Diagnoser, Evidence, Policy, PolicyKind, PolicySet, Registry, Request,
    RequestContext, RequestPrincipal, UploadRequest, Verdict,
};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn allow_reports() -> Policy {
    Policy::parse(
        "inline policy Reports of user alice",
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject",
            "Resource":"arn:aws:s3:::amzn-s3-demo-bucket/reports/*"}]}"#,
    )
    .unwrap()
}

#[test]
fn one_request_is_evaluated_against_a_policy_set() {
    let set = PolicySet {
        identity: vec![allow_reports()],
        ..PolicySet::default()
    };
    let request = |key: &str| {
        let mut r = Request::new(
            RequestPrincipal::parse(Some(ALICE)),
            "s3:PutObject",
            &format!("arn:aws:s3:::amzn-s3-demo-bucket/{key}"),
            RequestContext::new(),
        );
        r.resource_account = Some("111122223333".into());
        r
    };
    assert_eq!(
        set.evaluate(&request("reports/q3.csv")).decision,
        Decision::Allowed
    );
    assert_eq!(
        set.evaluate(&request("exports/q3.csv")).decision,
        Decision::ImplicitlyDenied
    );
}

#[test]
fn an_upload_is_diagnosed_from_built_evidence() {
    use why403_core::evidence::{Caller, Identity};
    let evidence = |with_identity: bool| {
        let b = Evidence::builder("amzn-s3-demo-bucket")
            .caller(Caller::new(ALICE, "AIDACKCEVSQ6C2EXAMPLE"))
            .bucket_owner("111122223333")
            .region("us-east-1");
        let b = if with_identity {
            b.identity(
                Identity::from_arn(ALICE, "AIDACKCEVSQ6C2EXAMPLE").with_policy(allow_reports()),
            )
        } else {
            b
        };
        b.rest_absent()
    };
    let registry = Registry::default();
    let diagnoser = Diagnoser::new(&registry);
    let upload =
        |key: &str| UploadRequest::from_s3_url(&format!("s3://amzn-s3-demo-bucket/{key}")).unwrap();
    assert_eq!(
        diagnoser
            .diagnose(upload("reports/q3.csv"), evidence(true))
            .verdict,
        Verdict::Allowed
    );
    assert_eq!(
        diagnoser
            .diagnose(upload("exports/q3.csv"), evidence(true))
            .verdict,
        Verdict::Denied
    );
    // The identity was not given: it always exists, so it stays unavailable and the verdict
    // says what would read it.
    let d = diagnoser.diagnose(upload("reports/q3.csv"), evidence(false));
    let Verdict::Indeterminate { missing } = &d.verdict else {
        panic!("{:?}", d.verdict)
    };
    assert!(
        missing
            .iter()
            .any(|m| m.unavailable.needs.iter().any(|n| n.starts_with("iam:"))),
        "{missing:?}"
    );
    // A request is built from an `s3://` URL, and a URL without a key is refused.
    assert!(UploadRequest::from_s3_url("s3://amzn-s3-demo-bucket").is_err());
    assert!(UploadRequest::from_s3_url("https://example.com/k").is_err());
}
