//! The caller and its identity: per-entity reads when the authorization details are refused,
//! `--principal`, and the failures that end a collection.

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

#[test]
fn refused_authorization_details_fall_back_to_per_entity_reads() {
    let mut w = World::alice().acl();
    w.iam.push(
        mock!(aws_sdk_iam::Client::get_account_authorization_details)
            .then_http_response(|| empty(403)),
    );
    w.iam
        .push(mock!(aws_sdk_iam::Client::get_user).then_output(|| {
            GetUserOutput::builder()
                .user(
                    aws_sdk_iam::types::User::builder()
                        .path("/")
                        .user_name("alice")
                        .user_id("AIDAEXAMPLE")
                        .arn(ALICE)
                        .create_date(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .build()
        }));
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
                            .document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*"}]}"#)
                            .version_id("v2")
                            .is_default_version(true)
                            .build(),
                    )
                    .build()
            }),
    );
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
    let got = run(&w);
    let u = unavailable(&got.evidence.identity);
    assert_eq!(u.needs[0], "iam:GetAccountAuthorizationDetails");
    assert!(u.needs.len() == 2, "{u:?}");
    assert!(
        u.reason
            .contains("AccessDenied from iam:GetAccountAuthorizationDetails"),
        "{}",
        u.reason
    );
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
