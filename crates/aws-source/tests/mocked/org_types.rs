//! Policy types that are not enabled (AWS Organizations User Guide, Enabling and disabling a
//! policy type): `PolicyTypeNotEnabledException` from `ListPoliciesForTarget`, a root whose
//! `PolicyTypes` lack a type, and an organization with consolidated billing only make SCPs or
//! RCPs `Absent`, not unavailable; an organization answer that says nothing about an account
//! leaves it unavailable.

use aws_sdk_organizations::types::{
    OrganizationFeatureSet, Parent, ParentType, PolicyType, PolicyTypeStatus, PolicyTypeSummary,
    Root,
};

use crate::world::*;

const ROOT: &str = "r-ab12";
const ORG: &str = "o-exampleorgid";
const OTHER: &str = "arn:aws:iam::444455556666:user/bob";

fn describe(features: OrganizationFeatureSet) -> Rule {
    describe_organization(features)
}

/// `ListRoots`, with these policy types `ENABLED` (`None`: an answer without `PolicyTypes`).
fn roots(enabled: Option<&'static [PolicyType]>) -> Rule {
    mock!(aws_sdk_organizations::Client::list_roots).then_output(move || {
        let mut root = Root::builder()
            .id(ROOT)
            .arn(format!(
                "arn:aws:organizations::999988887777:root/{ORG}/{ROOT}"
            ))
            .name("Root");
        if let Some(types) = enabled {
            root = root.set_policy_types(Some(
                types
                    .iter()
                    .map(|t| {
                        PolicyTypeSummary::builder()
                            .r#type(t.clone())
                            .status(PolicyTypeStatus::Enabled)
                            .build()
                    })
                    .collect(),
            ));
        }
        ListRootsOutput::builder().roots(root.build()).build()
    })
}

/// The account's parent is the root.
fn parents() -> Rule {
    mock!(aws_sdk_organizations::Client::list_parents).then_output(|| {
        ListParentsOutput::builder()
            .parents(Parent::builder().id(ROOT).r#type(ParentType::Root).build())
            .build()
    })
}

/// `ListPoliciesForTarget` of `kind` answering the AWS managed full access policy.
fn full_access(kind: PolicyType) -> Rule {
    let (id, name) = match kind {
        PolicyType::ServiceControlPolicy => ("p-FullAWSAccess", "FullAWSAccess"),
        _ => ("p-RCPFullAWSAccess", "RCPFullAWSAccess"),
    };
    let filter = kind.clone();
    mock!(aws_sdk_organizations::Client::list_policies_for_target)
        .match_requests(move |r| r.filter() == Some(&filter))
        .then_output(move || {
            ListPoliciesForTargetOutput::builder()
                .policies(
                    aws_sdk_organizations::types::PolicySummary::builder()
                        .id(id)
                        .name(name)
                        .r#type(kind.clone())
                        .build(),
                )
                .build()
        })
}

/// `ListPoliciesForTarget` of `kind` failing as AWS does for a type that is not enabled.
fn not_enabled(kind: PolicyType) -> Rule {
    mock!(aws_sdk_organizations::Client::list_policies_for_target)
        .match_requests(move |r| r.filter() == Some(&kind))
        .then_http_response(|| {
            aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                400.try_into().unwrap_or_else(|e| panic!("{e}")),
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"PolicyTypeNotEnabledException","Message":"This operation can be performed only for enabled policy types."}"#,
                ),
            )
        })
}

fn calls(got: &Collected, api: &str) -> usize {
    got.stats.per_call.iter().filter(|c| c.api == api).count()
}

fn org(got: &Collected) -> &why403_core::evidence::Organization {
    got.evidence
        .caller_org
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.caller_org))
}

#[test]
fn policy_type_not_enabled_exception_makes_the_type_absent() {
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::All),
        // A root whose policy types are not told: the listing decides.
        roots(None),
        parents(),
        full_access(PolicyType::ServiceControlPolicy),
        not_enabled(PolicyType::ResourceControlPolicy),
    ];
    let got = run(&w);
    let o = org(&got);
    assert_eq!(o.rcps, Slot::Absent);
    let targets: Vec<&str> = o
        .scps
        .get()
        .unwrap_or_else(|| panic!("{:?}", o.scps))
        .iter()
        .map(|l| l.target_id.as_str())
        .collect();
    assert_eq!(targets, [ROOT, ACCOUNT]);
    assert_eq!(
        unavailable(&o.root).reason,
        "organizations:ListRoots returned a root without `PolicyTypes`"
    );
    let lpft: Vec<CallOutcome> = got
        .stats
        .per_call
        .iter()
        .filter(|c| c.api == "organizations:ListPoliciesForTarget")
        .map(|c| c.outcome)
        .collect();
    assert_eq!(lpft.len(), 4, "{:#?}", got.stats.per_call);
    assert_eq!(
        lpft.iter().filter(|o| **o == CallOutcome::Absent).count(),
        2
    );
}

#[test]
fn a_root_without_rcps_enabled_makes_them_absent_without_listing_them() {
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::All),
        roots(Some(&[
            PolicyType::ServiceControlPolicy,
            PolicyType::TagPolicy,
        ])),
        parents(),
        full_access(PolicyType::ServiceControlPolicy),
        // As moto answers: the default RCP listed although the type is not enabled.
        full_access(PolicyType::ResourceControlPolicy),
    ];
    let got = run(&w);
    let o = org(&got);
    assert_eq!(o.rcps, Slot::Absent);
    assert_eq!(o.scps.get().map(Vec::len), Some(2));
    let root = o.root.get().unwrap_or_else(|| panic!("{:?}", o.root));
    assert_eq!(root.id, ROOT);
    assert_eq!(
        root.enabled(why403_core::evidence::OrgPolicyType::Rcp),
        Some(false)
    );
    // Only the SCPs of the root and the account were listed.
    assert_eq!(
        calls(&got, "organizations:ListPoliciesForTarget"),
        2,
        "{:#?}",
        got.stats.per_call
    );
}

#[test]
fn a_member_account_that_cannot_walk_its_path_still_knows_the_types_not_enabled() {
    // No --org-profile; ListRoots answers (as moto does for member accounts), ListParents is
    // refused.
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::All),
        roots(Some(&[PolicyType::ServiceControlPolicy])),
        mock!(aws_sdk_organizations::Client::list_parents).then_http_response(|| empty(403)),
        full_access(PolicyType::ServiceControlPolicy),
    ];
    let got = run(&w);
    let o = org(&got);
    assert_eq!(o.rcps, Slot::Absent);
    let u = unavailable(&o.scps);
    assert_eq!(
        u.needs,
        [
            "organizations:ListParents",
            "organizations:ListPoliciesForTarget",
            "organizations:DescribePolicy"
        ]
    );
    // Neither type enabled: nothing to walk.
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::All),
        roots(Some(&[])),
        mock!(aws_sdk_organizations::Client::list_parents).then_http_response(|| empty(403)),
    ];
    let got = run(&w);
    let o = org(&got);
    assert_eq!((&o.scps, &o.rcps), (&Slot::Absent, &Slot::Absent));
    assert_eq!(calls(&got, "organizations:ListParents"), 0);
    // The root unreadable (a member account on AWS): the SCPs and RCPs stay unavailable.
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::All),
        mock!(aws_sdk_organizations::Client::list_roots).then_http_response(|| empty(403)),
        mock!(aws_sdk_organizations::Client::list_parents).then_http_response(|| empty(403)),
    ];
    let got = run(&w);
    let o = org(&got);
    assert_eq!(unavailable(&o.root).needs, ["organizations:ListRoots"]);
    assert!(o.scps.unavailable().is_some() && o.rcps.unavailable().is_some());
}

#[test]
fn consolidated_billing_applies_no_scps_or_rcps_and_reads_no_path() {
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::ConsolidatedBilling),
        mock!(aws_sdk_organizations::Client::list_roots).then_http_response(|| empty(403)),
        mock!(aws_sdk_organizations::Client::list_parents).then_http_response(|| empty(403)),
    ];
    let got = run(&w);
    let o = org(&got);
    assert_eq!((&o.scps, &o.rcps), (&Slot::Absent, &Slot::Absent));
    assert_eq!(calls(&got, "organizations:ListParents"), 0);
    assert_eq!(calls(&got, "organizations:ListPoliciesForTarget"), 0);
}

#[test]
fn the_credentials_organization_says_nothing_of_another_account_it_cannot_walk() {
    // The credentials' account has consolidated billing; the uploader named with --principal
    // is of another account, whose organization the credentials cannot tell.
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::ConsolidatedBilling),
        mock!(aws_sdk_organizations::Client::list_parents).then_http_response(|| empty(403)),
    ];
    let req = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    let got = run_with(&w, &req, Some(OTHER)).unwrap_or_else(|e| panic!("{e}"));
    let u = unavailable(&got.evidence.caller_org);
    assert!(
        u.reason
            .starts_with("the caller's account `444455556666` may not be in organization"),
        "{}",
        u.reason
    );
    // The bucket is the credentials' account's: its organization has no SCPs or RCPs.
    let b = got
        .evidence
        .bucket_org
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.bucket_org));
    assert_eq!((&b.scps, &b.rcps), (&Slot::Absent, &Slot::Absent));

    // The credentials' account is in no organization: that says nothing of bob's account.
    let mut w = World::alice().acl();
    w.org = vec![not_in_organization()];
    let got = run_with(&w, &req, Some(OTHER)).unwrap_or_else(|e| panic!("{e}"));
    let u = unavailable(&got.evidence.caller_org);
    assert_eq!(u.needs, ["organizations:DescribeOrganization"]);
    assert!(
        u.reason.contains("AWSOrganizationsNotInUseException"),
        "{}",
        u.reason
    );
    assert_eq!(got.evidence.bucket_org, Slot::Absent);
}

#[test]
fn a_root_that_contradicts_the_listing_leaves_the_type_unavailable() {
    let mut w = World::alice().acl();
    w.org = vec![
        describe(OrganizationFeatureSet::All),
        roots(Some(&[
            PolicyType::ServiceControlPolicy,
            PolicyType::ResourceControlPolicy,
        ])),
        parents(),
        full_access(PolicyType::ServiceControlPolicy),
        not_enabled(PolicyType::ResourceControlPolicy),
    ];
    let got = run(&w);
    let u = unavailable(&org(&got).rcps);
    assert_eq!(
        u.needs,
        [
            "organizations:ListPoliciesForTarget",
            "organizations:ListRoots"
        ]
    );
}
