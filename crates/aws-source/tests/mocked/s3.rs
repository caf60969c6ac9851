//! Bucket reads: denials (with and without an error code), absent configuration, retried
//! throttling, a timeout and a malformed response.

use crate::world::*;

#[test]
fn access_denied_is_unavailable_with_the_action_that_would_read_it() {
    let mut w = World::alice().acl();
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_policy)
            .then_http_response(|| s3_error(403, "AccessDenied")),
    );
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_encryption)
            .then_http_response(|| s3_error(403, "AccessDenied")),
    );
    let got = run(&w);
    let p = unavailable(&got.evidence.bucket.policy);
    assert_eq!(p.needs, ["s3:GetBucketPolicy"]);
    assert!(
        p.reason
            .starts_with("AccessDenied from s3:GetBucketPolicy (AccessDenied message)"),
        "{}",
        p.reason
    );
    let e = unavailable(&got.evidence.bucket.encryption);
    assert_eq!(e.needs, ["s3:GetEncryptionConfiguration"]);
    // Unknown default encryption: whether a KMS key is used is unknown too.
    let k = unavailable(&got.evidence.kms_key);
    assert!(
        k.needs
            .contains(&"s3:GetEncryptionConfiguration".to_owned()),
        "{k:?}"
    );
}

#[test]
fn a_403_without_an_error_code_is_a_denial() {
    let mut w = World::alice().acl();
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_ownership_controls).then_http_response(|| empty(403)),
    );
    let got = run(&w);
    let u = unavailable(&got.evidence.bucket.ownership);
    assert!(
        u.reason
            .contains("AccessDenied from s3:GetBucketOwnershipControls")
            && u.reason.contains("without an error code"),
        "{}",
        u.reason
    );
    let stat = got
        .stats
        .per_call
        .iter()
        .find(|c| c.api == "s3:GetBucketOwnershipControls")
        .unwrap_or_else(|| panic!("no call recorded"));
    assert_eq!(stat.outcome, CallOutcome::Denied);
}

#[test]
fn absent_configuration_is_absent() {
    let mut w = World::alice().acl();
    for (code, status) in [
        ("NoSuchBucketPolicy", 404),
        ("ServerSideEncryptionConfigurationNotFoundError", 404),
        ("OwnershipControlsNotFoundError", 404),
        ("NoSuchPublicAccessBlockConfiguration", 404),
    ] {
        let rule = match code {
            "NoSuchBucketPolicy" => mock!(aws_sdk_s3::Client::get_bucket_policy)
                .then_http_response(move || s3_error(status, code)),
            "ServerSideEncryptionConfigurationNotFoundError" => {
                mock!(aws_sdk_s3::Client::get_bucket_encryption)
                    .then_http_response(move || s3_error(status, code))
            }
            "OwnershipControlsNotFoundError" => {
                mock!(aws_sdk_s3::Client::get_bucket_ownership_controls)
                    .then_http_response(move || s3_error(status, code))
            }
            _ => mock!(aws_sdk_s3::Client::get_public_access_block)
                .then_http_response(move || s3_error(status, code)),
        };
        w.s3.push(rule);
    }
    w.s3c.push(
        mock!(aws_sdk_s3control::Client::get_public_access_block)
            .then_http_response(|| {
                // S3 Control wraps its errors in `ErrorResponse`.
                aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                    404.try_into().unwrap_or_else(|e| panic!("{e}")),
                    aws_smithy_types::body::SdkBody::from(
                        "<ErrorResponse><Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>none</Message></Error></ErrorResponse>",
                    ),
                )
            }),
    );
    w.org.push(not_in_organization());
    let got = run(&w);
    let b = &got.evidence.bucket;
    assert_eq!(b.policy, Slot::Absent);
    assert_eq!(b.encryption, Slot::Absent);
    assert_eq!(b.ownership, Slot::Absent);
    assert_eq!(b.public_access_block, Slot::Absent);
    assert_eq!(got.evidence.account_public_access_block, Slot::Absent);
    assert_eq!(got.evidence.caller_org, Slot::Absent);
    // No default encryption: no KMS key.
    assert_eq!(got.evidence.kms_key, Slot::NotApplicable);
    // The ACL's owner is the credentials' canonical id: the bucket is in their account.
    assert_eq!(b.owner_account, Slot::Collected(ACCOUNT.to_owned()));
    assert_eq!(b.region, Slot::Collected("eu-west-1".to_owned()));
    assert_eq!(got.evidence.session_policy, Slot::NotApplicable);
    assert_eq!(got.evidence.bucket_org, Slot::NotApplicable);
    assert_eq!(got.request.principal.as_deref(), Some(ALICE));
    assert_eq!(got.request.credentials, Credentials::LongTerm);
    assert!(got.request.time.is_some());
}

#[test]
fn throttling_is_retried_until_it_succeeds() {
    let mut w = World::alice();
    let acl = mock!(aws_sdk_s3::Client::get_bucket_acl)
        .sequence()
        .http_status(
            503,
            Some("<Error><Code>SlowDown</Code><Message>slow down</Message></Error>".to_owned()),
        )
        .times(2)
        .output(|| {
            GetBucketAclOutput::builder()
                .owner(aws_sdk_s3::types::Owner::builder().id(CANONICAL).build())
                .build()
        })
        .build();
    w.s3.push(acl);
    let got = run(&w);
    assert!(
        got.evidence.bucket.acl.get().is_some(),
        "{:?}",
        got.evidence.bucket.acl
    );
    assert_eq!(w.s3[2].num_calls(), 3);
}

#[test]
fn a_call_that_never_answers_times_out_into_unavailable() {
    let mut w = World::alice().acl();
    w.never_kms = true;
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "report.csv");
    req.headers
        .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
    req.headers.insert(
        "x-amz-server-side-encryption-aws-kms-key-id".into(),
        KEY_ARN.into(),
    );
    let got = run_with(&w, &req, None).unwrap_or_else(|e| panic!("{e}"));
    let u = unavailable(&got.evidence.kms_key);
    assert!(
        u.reason.contains("kms:DescribeKey timed out"),
        "{}",
        u.reason
    );
    assert_eq!(u.needs, ["kms:DescribeKey"]);
}

#[test]
fn a_malformed_response_is_unavailable_not_fatal() {
    let mut w = World::alice();
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_acl).then_http_response(|| {
            aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                200.try_into().unwrap_or_else(|e| panic!("{e}")),
                aws_smithy_types::body::SdkBody::from("<<< this is not XML"),
            )
        }),
    );
    w.s3.push(
        mock!(aws_sdk_s3::Client::get_bucket_policy).then_output(|| {
            aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput::builder()
                .policy("{\"Statement\": [")
                .build()
        }),
    );
    let got = run(&w);
    let acl = unavailable(&got.evidence.bucket.acl);
    assert_eq!(acl.needs, ["s3:GetBucketAcl"]);
    let p = unavailable(&got.evidence.bucket.policy);
    assert!(p.reason.contains("does not parse"), "{}", p.reason);
}
