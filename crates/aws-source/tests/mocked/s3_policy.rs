//! The organization's S3 policy in effect for the bucket owner's account
//! (`DescribeEffectivePolicy`, policy type `S3_POLICY`): its `all` or `none`, no policy that
//! applies (`EffectivePolicyNotFoundException`, an account in no organization) as `Absent`, a
//! refusal as unavailable, one read per account in a session, and a public ACL upload refused
//! by it diagnosed as `account-bpa-enforced-by-organization`.

use aws_sdk_organizations::operation::describe_effective_policy::DescribeEffectivePolicyOutput;
use aws_sdk_organizations::types::{EffectivePolicy, EffectivePolicyType, OrganizationFeatureSet};
use why403_core::evidence::OrgPublicAccessBlock;

use crate::world::*;

const API: &str = "organizations:DescribeEffectivePolicy";

fn in_organization() -> Rule {
    describe_organization(OrganizationFeatureSet::All)
}

/// `DescribeEffectivePolicy` for the credentials' own account (no target), answering `value`.
fn effective(value: &'static str) -> Rule {
    mock!(aws_sdk_organizations::Client::describe_effective_policy)
        .match_requests(|r| {
            r.policy_type() == Some(&EffectivePolicyType::S3Policy) && r.target_id().is_none()
        })
        .then_output(move || {
            DescribeEffectivePolicyOutput::builder()
                .effective_policy(
                    EffectivePolicy::builder()
                        .policy_type(EffectivePolicyType::S3Policy)
                        .target_id(ACCOUNT)
                        .policy_content(format!(
                            r#"{{"s3_attributes":{{"public_access_block_configuration":{{"@@assign":"{value}"}}}}}}"#
                        ))
                        .build(),
                )
                .build()
        })
}

fn effective_error(code: &'static str) -> Rule {
    mock!(aws_sdk_organizations::Client::describe_effective_policy)
        .then_http_response(move || org_error(code))
}

fn calls(got: &Collected) -> Vec<CallOutcome> {
    got.stats
        .per_call
        .iter()
        .filter(|c| c.api == API)
        .map(|c| c.outcome)
        .collect()
}

#[test]
fn the_effective_s3_policy_of_the_own_account_is_read_without_a_target() {
    for (value, want) in [
        ("all", OrgPublicAccessBlock::All),
        ("none", OrgPublicAccessBlock::None),
    ] {
        let mut w = World::alice().acl();
        w.org = vec![in_organization(), effective(value)];
        let got = run(&w);
        assert_eq!(got.evidence.org_s3_policy, Slot::Collected(want), "{value}");
        assert_eq!(calls(&got), [CallOutcome::Ok], "{value}");
    }
}

#[test]
fn no_effective_policy_means_none_applies_and_a_refusal_is_unavailable() {
    let mut w = World::alice().acl();
    w.org = vec![
        in_organization(),
        effective_error("EffectivePolicyNotFoundException"),
    ];
    let got = run(&w);
    assert_eq!(got.evidence.org_s3_policy, Slot::Absent);
    assert_eq!(calls(&got), [CallOutcome::Absent]);

    let mut w = World::alice().acl();
    w.org = vec![in_organization(), effective_error("AccessDeniedException")];
    let got = run(&w);
    let u = got
        .evidence
        .org_s3_policy
        .unavailable()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.org_s3_policy));
    assert_eq!(u.needs, [API]);
    assert!(u.reason.contains("AccessDeniedException"), "{}", u.reason);
}

#[test]
fn an_account_in_no_organization_has_no_s3_policy_and_is_not_asked() {
    let mut w = World::alice().acl();
    w.org = vec![not_in_organization(), effective("all")];
    let got = run(&w);
    assert_eq!(got.evidence.org_s3_policy, Slot::Absent);
    assert!(calls(&got).is_empty(), "{:#?}", got.stats.per_call);
}

#[test]
fn a_session_reads_the_s3_policy_once_per_account() {
    let mut w = World::alice().acl();
    w.org = vec![in_organization(), effective("all")];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let session = why403_aws_source::Session::new(w.clients());
    let a = UploadRequest::new("amzn-s3-demo-bucket", "a.csv");
    let b = UploadRequest::new("amzn-s3-demo-bucket", "b.csv");
    let got = rt.block_on(session.collect_many([(&a, None), (&b, None)], 2, &|_| {}));
    for g in &got {
        let g = g.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            g.evidence.org_s3_policy,
            Slot::Collected(OrgPublicAccessBlock::All)
        );
    }
    let stats = session.stats();
    assert_eq!(
        stats.per_call.iter().filter(|c| c.api == API).count(),
        1,
        "{:#?}",
        stats.per_call
    );
}

#[test]
fn a_public_acl_upload_refused_by_the_s3_policy_read_live_is_the_cause() {
    let mut w = World::alice().acl();
    w.org = vec![in_organization(), effective("all")];
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    req.headers
        .insert("x-amz-acl".to_owned(), "public-read".to_owned());
    let got = run_with(&w, &req, None).unwrap_or_else(|e| panic!("{e}"));
    let d = why403_core::finding::diagnose(
        got.request.clone(),
        got.evidence.clone(),
        &why403_rules::registry(),
    );
    let causes = cause_ids(&d);
    assert!(
        causes.contains(&"account-bpa-enforced-by-organization"),
        "{:#?}",
        d.findings
    );
    assert!(
        !causes.contains(&"block-public-acls-rejects-public-acl"),
        "{causes:?}"
    );
}
