//! The caller and its identity: targeted reads first, the authorization details when they are
//! refused, `--principal`, and the failures that end a collection.

use crate::world::*;

fn encoded(doc: &str) -> String {
    let mut out = String::new();
    for b in doc.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

const PUT_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#;
const MANAGED_ARN: &str = "arn:aws:iam::111122223333:policy/UploadsKmsUse";

const MANAGED_DOC: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*"}]}"#;

/// Alice's targeted reads: an inline policy and a managed policy whose default version is v2.
/// `GetAccountAuthorizationDetails` is refused (and must not be needed).
fn targeted_world() -> World {
    let mut w = World::alice().acl();
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .then_http_response(|| empty(403)),
    );
    w.iam.push(get_user("alice", "AIDAEXAMPLE"));
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_user_policies).then_output(|| {
            ListUserPoliciesOutput::builder()
                .policy_names("PutUploads")
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_user_policy)
            .match_requests(|r| r.policy_name() == Some("PutUploads"))
            .then_output(|| {
                GetUserPolicyOutput::builder()
                    .user_name("alice")
                    .policy_name("PutUploads")
                    .policy_document(encoded(PUT_DOC))
                    .build()
                    .unwrap_or_else(|e| panic!("{e}"))
            }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_attached_user_policies).then_output(|| {
            ListAttachedUserPoliciesOutput::builder()
                .attached_policies(
                    aws_sdk_iam::types::AttachedPolicy::builder()
                        .policy_name("UploadsKmsUse")
                        .policy_arn(MANAGED_ARN)
                        .build(),
                )
                .build()
        }),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_groups_for_user).then_output(|| {
            ListGroupsForUserOutput::builder()
                .set_groups(Some(Vec::new()))
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
        }),
    );
    w.iam
        .push(mock!(aws_sdk_iam::Client::get_policy).then_output(|| {
            GetPolicyOutput::builder()
                .policy(
                    aws_sdk_iam::types::Policy::builder()
                        .arn(MANAGED_ARN)
                        .default_version_id("v2")
                        .build(),
                )
                .build()
        }));
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_policy_version)
            .match_requests(|r| r.version_id() == Some("v2"))
            .then_output(|| {
                // moto returns this document raw, AWS URL-encoded: both are accepted.
                GetPolicyVersionOutput::builder()
                    .policy_version(
                        aws_sdk_iam::types::PolicyVersion::builder()
                            .document(MANAGED_DOC)
                            .version_id("v2")
                            .is_default_version(true)
                            .build(),
                    )
                    .build()
            }),
    );
    w
}

/// The round of each IAM call.
fn iam_rounds(got: &Collected) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = got
        .stats
        .per_call
        .iter()
        .filter(|c| c.api.starts_with("iam:"))
        .map(|c| (c.api.clone(), c.round))
        .collect();
    out.sort();
    out
}

#[test]
fn targeted_reads_come_first_as_concurrent_as_their_dependencies_allow() {
    let w = targeted_world();
    let got = run(&w);
    let id = got
        .evidence
        .identity
        .get()
        .unwrap_or_else(|| panic!("{:?}", got.evidence.identity));
    assert_eq!(id.kind, IdentityKind::User);
    assert_eq!(id.id, "AIDAEXAMPLE");
    let names: Vec<&str> = id.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "inline policy PutUploads of user alice",
            "managed policy arn:aws:iam::111122223333:policy/UploadsKmsUse"
        ]
    );
    assert_eq!(id.policies[0].statements.len(), 1);
    // The entity and its lists together (after the caller), then the documents they name.
    let expected: Vec<(String, u32)> = [
        ("iam:GetPolicy", 3),
        ("iam:GetPolicyVersion", 4),
        ("iam:GetUser", 2),
        ("iam:GetUserPolicy", 3),
        ("iam:ListAttachedUserPolicies", 2),
        ("iam:ListGroupsForUser", 2),
        ("iam:ListUserPolicies", 2),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r))
    .collect();
    assert_eq!(iam_rounds(&got), expected);
    assert_eq!(w.iam[0].num_calls(), 0, "GetAccountAuthorizationDetails");
    assert!(got.stats.notes.is_empty(), "{:?}", got.stats.notes);
}

#[test]
fn a_refused_targeted_read_falls_back_to_the_authorization_details_with_the_same_evidence() {
    use aws_sdk_iam::operation::get_account_authorization_details::GetAccountAuthorizationDetailsOutput;
    use aws_sdk_iam::types::{
        AttachedPolicy, ManagedPolicyDetail, PolicyDetail, PolicyVersion, UserDetail,
    };
    let targeted = run(&targeted_world());

    let mut w = World::alice().acl();
    w.iam
        .push(mock!(aws_sdk_iam::Client::get_user).then_http_response(|| empty(403)));
    w.iam.extend(empty_iam_lists());
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_account_authorization_details).then_output(|| {
            GetAccountAuthorizationDetailsOutput::builder()
                .user_detail_list(
                    UserDetail::builder()
                        .user_name("alice")
                        .arn(ALICE)
                        .user_id("AIDAEXAMPLE")
                        .path("/")
                        .user_policy_list(
                            PolicyDetail::builder()
                                .policy_name("PutUploads")
                                .policy_document(encoded(PUT_DOC))
                                .build(),
                        )
                        .attached_managed_policies(
                            AttachedPolicy::builder()
                                .policy_name("UploadsKmsUse")
                                .policy_arn(MANAGED_ARN)
                                .build(),
                        )
                        .build(),
                )
                .policies(
                    ManagedPolicyDetail::builder()
                        .arn(MANAGED_ARN)
                        .default_version_id("v2")
                        .policy_version_list(
                            PolicyVersion::builder()
                                .version_id("v1")
                                .document(PUT_DOC)
                                .is_default_version(false)
                                .build(),
                        )
                        .policy_version_list(
                            PolicyVersion::builder()
                                .version_id("v2")
                                .document(encoded(MANAGED_DOC))
                                .is_default_version(true)
                                .build(),
                        )
                        .build(),
                )
                .build()
        }),
    );
    let got = run(&w);
    assert_eq!(got.evidence.identity, targeted.evidence.identity);
    assert_eq!(got.stats.count("iam:GetAccountAuthorizationDetails"), 1);
    // After the refused round, and the policy came with the details.
    let gaad: Vec<u32> = got
        .stats
        .per_call
        .iter()
        .filter(|c| c.api == "iam:GetAccountAuthorizationDetails")
        .map(|c| c.round)
        .collect();
    assert_eq!(gaad, [3]);
    assert_eq!(got.stats.count("iam:GetPolicy"), 0);
    assert_eq!(got.stats.notes.len(), 1, "{:?}", got.stats.notes);
    assert!(
        got.stats.notes[0].contains("AccessDenied from iam:GetUser"),
        "{}",
        got.stats.notes[0]
    );
}

#[test]
fn refused_identity_reads_name_both_ways_to_read_them() {
    let mut w = World::alice().acl();
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .then_http_response(|| empty(403)),
    );
    w.iam
        .push(mock!(aws_sdk_iam::Client::get_user).then_http_response(|| empty(403)));
    w.iam.extend(empty_iam_lists());
    let got = run(&w);
    let u = unavailable(&got.evidence.identity);
    assert_eq!(
        u.needs,
        ["iam:GetUser", "iam:GetAccountAuthorizationDetails"],
        "{u:?}"
    );
    assert!(
        u.reason.contains("AccessDenied from iam:GetUser")
            && u.reason
                .contains("then AccessDenied from iam:GetAccountAuthorizationDetails"),
        "{}",
        u.reason
    );
}

fn no_such_entity() -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        404.try_into().unwrap_or_else(|e| panic!("{e}")),
        aws_smithy_types::body::SdkBody::from(
            "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name alice cannot be found.</Message></Error></ErrorResponse>",
        ),
    )
}

/// A refusal of any targeted read, even beside another failure, falls back.
#[test]
fn a_refusal_among_other_failures_still_falls_back() {
    let mut w = World::alice().acl();
    w.iam.push(get_user("alice", "AIDAEXAMPLE"));
    w.iam
        .push(mock!(aws_sdk_iam::Client::list_user_policies).then_http_response(no_such_entity));
    w.iam.push(
        mock!(aws_sdk_iam::Client::list_attached_user_policies).then_http_response(|| empty(403)),
    );
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .then_http_response(|| empty(403)),
    );
    w.iam.extend(empty_iam_lists());
    let got = run(&w);
    let u = unavailable(&got.evidence.identity);
    assert_eq!(
        u.needs,
        [
            "iam:ListAttachedUserPolicies",
            "iam:GetAccountAuthorizationDetails"
        ],
        "{u:?}"
    );
    assert_eq!(got.stats.count("iam:GetAccountAuthorizationDetails"), 1);
    assert_eq!(got.stats.notes.len(), 1);
}

#[test]
fn a_failure_that_is_not_a_refusal_does_not_read_the_whole_account() {
    let mut w = World::alice().acl();
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .then_http_response(|| empty(403)),
    );
    w.iam
        .push(mock!(aws_sdk_iam::Client::get_user).then_http_response(no_such_entity));
    w.iam.extend(empty_iam_lists());
    let got = run(&w);
    let u = unavailable(&got.evidence.identity);
    assert_eq!(u.needs, ["iam:GetUser"], "{u:?}");
    assert!(u.reason.contains("NoSuchEntity"), "{}", u.reason);
    assert_eq!(w.iam[0].num_calls(), 0, "GetAccountAuthorizationDetails");
    assert!(got.stats.notes.is_empty());
}

#[test]
fn another_principal_is_diagnosed_with_its_own_arn() {
    let w = World::alice().acl();
    let session = "arn:aws:sts::111122223333:assumed-role/Uploader/bob";
    let got = run_with(
        &w,
        &UploadRequest::new("amzn-s3-demo-bucket", "k"),
        Some(session),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.request.principal.as_deref(), Some(session));
    assert_eq!(got.request.credentials, Credentials::Temporary);
    // A session may carry a session policy, which AWS never shows.
    assert!(got.evidence.session_policy.unavailable().is_some());
}

#[test]
fn a_role_arn_as_principal_is_refused_with_the_session_form() {
    let w = World::alice();
    let err = run_with(
        &w,
        &UploadRequest::new("b", "k"),
        Some("arn:aws:iam::111122223333:role/Uploader"),
    )
    .err()
    .unwrap_or_else(|| panic!("a role ARN was accepted"));
    assert!(matches!(err, CollectError::Principal { .. }));
    assert!(
        err.to_string().contains("assumed-role/Uploader/<session>"),
        "{err}"
    );
}

#[test]
fn a_missing_bucket_ends_the_collection() {
    let mut w = World::alice();
    w.s3.clear();
    w.s3.push(mock!(aws_sdk_s3::Client::head_bucket).then_http_response(|| empty(404)));
    let err = run_with(&w, &UploadRequest::new("nope", "k"), None)
        .err()
        .unwrap_or_else(|| panic!("a missing bucket was accepted"));
    assert!(matches!(err, CollectError::NoSuchBucket { .. }), "{err}");
}

#[test]
fn rejected_credentials_end_the_collection() {
    let mut w = World::alice();
    w.sts.clear();
    w.sts.push(mock!(aws_sdk_sts::Client::get_caller_identity).then_http_response(|| {
        aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
            403.try_into().unwrap_or_else(|e| panic!("{e}")),
            aws_smithy_types::body::SdkBody::from(
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
            ),
        )
    }));
    let err = run_with(&w, &UploadRequest::new("b", "k"), None)
        .err()
        .unwrap_or_else(|| panic!("rejected credentials were accepted"));
    assert!(
        matches!(err, CollectError::InvalidCredentials { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("InvalidClientTokenId"), "{err}");
}
