//! `$absent`, `$unavailable` and missing sections give the right slot; what does not apply to
//! the request is `NotApplicable`; identities, KMS keys and organizations are resolved.

use why403_core::evidence::{Evidence, IdentityKind, Slot, Unavailable};
use why403_core::upload::Credentials;
use why403_fixtures_source::{Scenario, parse};

const USER: &str = "arn:aws:iam::111122223333:user/alice";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Uploader/alice";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn scenario(request_extra: &str, evidence: &str) -> String {
    format!(
        r#"{{"scenario": 1, "request": {{"bucket": "amzn-s3-demo-bucket", "key": "k"{request_extra}}}, "evidence": {{{evidence}}}}}"#
    )
}

fn load(request_extra: &str, evidence: &str) -> Scenario {
    let text = scenario(request_extra, evidence);
    parse("s.json", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn load_err(request_extra: &str, evidence: &str) -> String {
    let text = scenario(request_extra, evidence);
    match parse("s.json", &text) {
        Ok(_) => panic!("expected an error for\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn user(evidence: &str) -> Evidence {
    load(&format!(r#", "principal": "{USER}""#), evidence).evidence
}

fn unavailable(reason: &str, needs: &[&str]) -> Unavailable {
    Unavailable {
        reason: reason.into(),
        needs: needs.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn missing<T>(needs: &[&str]) -> Slot<T> {
    Slot::Unavailable(unavailable("not in the scenario", needs))
}

#[test]
fn missing_sections_are_unavailable_with_the_action_that_reads_them() {
    let s = load(&format!(r#", "principal": "{USER}""#), "");
    assert_eq!(s.request.credentials, Credentials::LongTerm);
    let e = s.evidence;
    assert_eq!(e.caller, missing(&["sts:GetCallerIdentity"]));
    assert_eq!(e.identity, missing(&["iam:GetAccountAuthorizationDetails"]));
    assert_eq!(e.bucket.policy, missing(&["s3:GetBucketPolicy"]));
    assert_eq!(e.bucket.acl, missing(&["s3:GetBucketAcl"]));
    assert_eq!(
        e.bucket.encryption,
        missing(&["s3:GetEncryptionConfiguration"])
    );
    assert_eq!(
        e.bucket.ownership,
        missing(&["s3:GetBucketOwnershipControls"])
    );
    assert_eq!(
        e.bucket.public_access_block,
        missing(&["s3:GetBucketPublicAccessBlock"])
    );
    assert_eq!(
        e.account_public_access_block,
        missing(&["s3:GetAccountPublicAccessBlock"])
    );
    assert_eq!(e.bucket.region, missing(&["s3:GetBucketLocation"]));
    assert_eq!(
        e.bucket.request_payer,
        missing(&["s3:GetBucketRequestPayment"])
    );
    // Default encryption is unknown, so whether a KMS key is used is unknown too.
    assert_eq!(e.kms_key, missing(&["kms:DescribeKey"]));
    assert_eq!(
        e.caller_org,
        missing(&["organizations:DescribeOrganization"])
    );
    assert_eq!(
        e.bucket_org,
        missing(&["organizations:DescribeOrganization"])
    );
    let owner = e
        .bucket
        .owner_account
        .unavailable()
        .expect("owner unavailable");
    assert!(owner.reason.contains("`bucket_owner`"), "{}", owner.reason);
    assert_eq!(owner.needs, ["s3:GetBucketAcl", "s3:ListAllMyBuckets"]);
    // An IAM user with long-term keys has no session; no endpoint was used.
    assert_eq!(e.session_policy, Slot::NotApplicable);
    assert_eq!(e.vpc_endpoint_policy, Slot::NotApplicable);
    assert!(e.canonical_ids.is_empty());
}

#[test]
fn absent_markers_are_positive_evidence_of_absence() {
    let e = user(
        r#""bucket_policy": {"$absent": "NoSuchBucketPolicy"},
           "bucket_encryption": {"$absent": "ServerSideEncryptionConfigurationNotFoundError"},
           "bucket_ownership_controls": {"$absent": "OwnershipControlsNotFoundError"},
           "bucket_public_access_block": {"$absent": "NoSuchPublicAccessBlockConfiguration"},
           "account_public_access_block": {"$absent": "NoSuchPublicAccessBlockConfiguration"},
           "organization": {"$absent": "AWSOrganizationsNotInUseException"}"#,
    );
    assert_eq!(e.bucket.policy, Slot::Absent);
    assert_eq!(e.bucket.encryption, Slot::Absent);
    assert_eq!(e.bucket.ownership, Slot::Absent);
    assert_eq!(e.bucket.public_access_block, Slot::Absent);
    assert_eq!(e.account_public_access_block, Slot::Absent);
    assert_eq!(e.caller_org, Slot::Absent);
    // No default encryption and no header: no KMS key.
    assert_eq!(e.kms_key, Slot::NotApplicable);
}

#[test]
fn unavailable_markers_keep_their_reason_and_needs() {
    let e = user(
        r#""bucket_policy": {"$unavailable": {"reason": "MethodNotAllowed: not the bucket owner's account", "needs": ["s3:GetBucketPolicy"]}},
           "bucket_acl": {"$unavailable": "AccessDenied when calling GetBucketAcl"},
           "kms_key": {"$unavailable": {"reason": "AccessDeniedException"}}"#,
    );
    assert_eq!(
        e.bucket.policy,
        Slot::Unavailable(unavailable(
            "MethodNotAllowed: not the bucket owner's account",
            &["s3:GetBucketPolicy"]
        ))
    );
    // Without `needs`, the section's own action.
    assert_eq!(
        e.bucket.acl,
        Slot::Unavailable(unavailable(
            "AccessDenied when calling GetBucketAcl",
            &["s3:GetBucketAcl"]
        ))
    );
    assert_eq!(
        e.kms_key,
        Slot::Unavailable(unavailable("AccessDeniedException", &["kms:DescribeKey"]))
    );
}

#[test]
fn absent_is_rejected_where_aws_always_has_one() {
    for section in [
        "bucket_acl",
        "bucket_location",
        "bucket_request_payment",
        "account_authorization_details",
    ] {
        let err = load_err(
            &format!(r#", "principal": "{USER}""#),
            &format!(r#""{section}": {{"$absent": "X"}}"#),
        );
        assert!(
            err.contains(&format!("`{section}` cannot be `$absent`")),
            "{err}"
        );
    }
    let err = load_err("", r#""caller_identity": {"$absent": "X"}"#);
    assert!(
        err.contains("`caller_identity` cannot be `$absent`"),
        "{err}"
    );
}

#[test]
fn sessions_need_a_session_policy_or_its_absence() {
    let s = load(&format!(r#", "principal": "{SESSION}""#), "");
    assert_eq!(s.request.credentials, Credentials::Temporary);
    let u = s
        .evidence
        .session_policy
        .unavailable()
        .expect("unavailable");
    assert!(
        u.reason
            .starts_with("session policies cannot be read from AWS"),
        "{}",
        u.reason
    );
    assert!(u.needs.is_empty());
    let s = load(
        &format!(r#", "principal": "{SESSION}""#),
        r#""session_policy": {"$absent": "none passed"}"#,
    );
    assert_eq!(s.evidence.session_policy, Slot::Absent);
    let err = load_err(
        &format!(r#", "principal": "{USER}""#),
        r#""session_policy": {"Version": "2012-10-17", "Statement": []}"#,
    );
    assert!(
        err.contains("only assumed-role and federated-user sessions carry a session policy"),
        "{err}"
    );
}

#[test]
fn root_and_anonymous_callers_have_no_identity() {
    let s = load(r#", "principal": "arn:aws:iam::111122223333:root""#, "");
    assert_eq!(s.evidence.identity, Slot::NotApplicable);
    assert_eq!(s.evidence.session_policy, Slot::NotApplicable);
    assert_eq!(s.request.credentials, Credentials::LongTerm);
    let s = load(r#", "credentials": "anonymous""#, "");
    assert_eq!(s.request.principal, None);
    assert_eq!(s.request.credentials, Credentials::Anonymous);
    assert_eq!(s.evidence.caller, Slot::NotApplicable);
    assert_eq!(s.evidence.identity, Slot::NotApplicable);
    assert_eq!(s.evidence.caller_org, Slot::NotApplicable);
}

#[test]
fn principal_comes_from_the_caller_identity() {
    let s = load(
        "",
        &format!(
            r#""caller_identity": {{"UserId": "AIDACKCEVSQ6C2EXAMPLE", "Account": "111122223333", "Arn": "{USER}"}}"#
        ),
    );
    assert_eq!(s.request.principal.as_deref(), Some(USER));
    let err = load_err(
        &format!(r#", "principal": "{SESSION}""#),
        &format!(
            r#""caller_identity": {{"UserId": "AIDACKCEVSQ6C2EXAMPLE", "Account": "111122223333", "Arn": "{USER}"}}"#
        ),
    );
    assert!(
        err.contains("differs from `/evidence/caller_identity/Arn`"),
        "{err}"
    );
}

const DETAILS: &str = r#""account_authorization_details": {
  "UserDetailList": [{"Path": "/eng/", "UserName": "alice", "UserId": "AIDAEXAMPLEALICE", "Arn": "arn:aws:iam::111122223333:user/eng/alice",
     "GroupList": ["Uploaders"],
     "UserPolicyList": [{"PolicyName": "Own", "PolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D"}],
     "AttachedManagedPolicies": [], "Tags": [{"Key": "team", "Value": "blue"}]}],
  "GroupDetailList": [{"GroupName": "Uploaders", "GroupId": "AGPAEXAMPLE", "Arn": "arn:aws:iam::111122223333:group/Uploaders",
     "GroupPolicyList": [{"PolicyName": "GroupInline", "PolicyDocument": {"Version": "2012-10-17", "Statement": []}}],
     "AttachedManagedPolicies": [{"PolicyName": "AmazonS3FullAccess", "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}]}],
  "RoleDetailList": [],
  "Policies": [{"PolicyName": "AmazonS3FullAccess", "Arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess", "DefaultVersionId": "v2",
     "PolicyVersionList": [{"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}, "VersionId": "v2", "IsDefaultVersion": true}]}]
}"#;

#[test]
fn a_users_group_policies_are_collected() {
    let e = load(
        r#", "principal": "arn:aws:iam::111122223333:user/eng/alice""#,
        DETAILS,
    )
    .evidence;
    let id = e.identity.get().expect("identity");
    assert_eq!(id.kind, IdentityKind::User);
    assert_eq!(
        (id.name.as_str(), id.path.as_str(), id.id.as_str()),
        ("alice", "/eng/", "AIDAEXAMPLEALICE")
    );
    assert_eq!(id.groups, ["Uploaders"]);
    assert_eq!(id.tags.get("team").map(String::as_str), Some("blue"));
    assert!(id.boundary.is_none());
    let names: Vec<&str> = id.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "inline policy Own of user alice",
            "inline policy GroupInline of group Uploaders",
            "managed policy arn:aws:iam::aws:policy/AmazonS3FullAccess of group Uploaders"
        ]
    );
}

#[test]
fn a_managed_policy_without_its_document_makes_the_identity_unavailable() {
    let details = DETAILS.replace(
        r#""Arn": "arn:aws:iam::aws:policy/AmazonS3FullAccess""#,
        r#""Arn": "arn:aws:iam::aws:policy/Other""#,
    );
    let e = load(
        r#", "principal": "arn:aws:iam::111122223333:user/eng/alice""#,
        &details,
    )
    .evidence;
    let u = e.identity.unavailable().expect("unavailable");
    assert!(
        u.reason.starts_with(
            "managed policy `arn:aws:iam::aws:policy/AmazonS3FullAccess` is not in `Policies`"
        ),
        "{}",
        u.reason
    );
    assert_eq!(u.needs, ["iam:GetAccountAuthorizationDetails"]);
    // A caller the details do not list.
    let e = load(
        r#", "principal": "arn:aws:iam::111122223333:user/bob""#,
        DETAILS,
    )
    .evidence;
    assert!(
        e.identity
            .unavailable()
            .unwrap()
            .reason
            .contains("user `arn:aws:iam::111122223333:user/bob` is not in `UserDetailList`")
    );
}

#[test]
fn kms_key_resolution() {
    let headers = |h: &str| format!(r#", "principal": "{USER}", "headers": {{{h}}}"#);
    // SSE-S3 requested: no key, whatever the bucket default.
    let s = load(&headers(r#""x-amz-server-side-encryption": "AES256""#), "");
    assert_eq!(s.evidence.kms_key, Slot::NotApplicable);
    let err = load_err(
        &headers(r#""x-amz-server-side-encryption": "AES256""#),
        &format!(
            r#""kms_key": {{"KeyMetadata": {{"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": "{KEY}", "KeyState": "Enabled", "KeyManager": "CUSTOMER"}}}}"#
        ),
    );
    assert!(
        err.contains(
            "the upload uses no KMS key: the request sends `x-amz-server-side-encryption: AES256`"
        ),
        "{err}"
    );
    // SSE-KMS with a key id: the key must be described; its policy and grants are separate.
    let kms = format!(
        r#""X-Amz-Server-Side-Encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "{KEY}""#
    );
    let s = load(&headers(&kms), "");
    assert_eq!(s.evidence.kms_key, missing(&["kms:DescribeKey"]));
    let key = format!(
        r#""kms_key": {{"KeyMetadata": {{"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Arn": "{KEY}", "KeyState": "Disabled", "KeyManager": "CUSTOMER"}}}}"#
    );
    let s = load(&headers(&kms), &key);
    let k = s.evidence.kms_key.get().expect("key");
    assert_eq!(k.state, "Disabled");
    assert_eq!(k.policy, missing(&["kms:GetKeyPolicy"]));
    assert_eq!(k.grants, missing(&["kms:ListGrants"]));
    // Another key than the header names.
    let other = KEY.replace(
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "0987dcba-09fe-87dc-65ba-ab0987654321",
    );
    let err = load_err(
        &headers(&format!(
            r#""x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "{other}""#
        )),
        &key,
    );
    assert!(
        err.contains("but the upload uses `arn:aws:kms:us-east-1:111122223333:key/0987dcba"),
        "{err}"
    );
    // SSE-KMS without a key id uses the AWS managed key aws/s3, never a customer key.
    let err = load_err(
        &headers(r#""x-amz-server-side-encryption": "aws:kms""#),
        &key,
    );
    assert!(err.contains("the AWS managed key `aws/s3`"), "{err}");
    // The key comes from default encryption when the request sends no header.
    let enc = format!(
        r#""bucket_encryption": {{"ServerSideEncryptionConfiguration": {{"Rules": [{{"ApplyServerSideEncryptionByDefault": {{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "{KEY}"}}}}]}}}}, {key},
           "kms_grants": {{"Grants": [], "Truncated": true}}"#
    );
    let s = load(&format!(r#", "principal": "{USER}""#), &enc);
    let k = s
        .evidence
        .kms_key
        .get()
        .expect("key from default encryption");
    assert!(k.grants.unavailable().unwrap().reason.contains("truncated"));
}

#[test]
fn bucket_owner_region_and_the_bucket_organization() {
    let cid = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
    let e = user(&format!(
        r#""bucket_acl": {{"Owner": {{"ID": "{cid}"}}, "Grants": []}}, "canonical_ids": {{"{cid}": "111122223333"}},
           "bucket_location": {{"LocationConstraint": null}}"#
    ));
    assert_eq!(
        e.bucket.owner_account,
        Slot::Collected("111122223333".into())
    );
    assert_eq!(e.bucket.region, Slot::Collected("us-east-1".into()));
    // Same account: the bucket's organization is the caller's.
    assert_eq!(e.bucket_org, Slot::NotApplicable);
    let err = load_err(
        &format!(r#", "principal": "{USER}""#),
        r#""bucket_owner": "111122223333", "bucket_organization": {"$absent": "AWSOrganizationsNotInUseException"}"#,
    );
    assert!(
        err.contains("`bucket_organization` is only for a bucket in another account"),
        "{err}"
    );
    let e = user(
        r#""bucket_owner": "444455556666", "bucket_organization": {"$absent": "AWSOrganizationsNotInUseException"}"#,
    );
    assert_eq!(e.bucket_org, Slot::Absent);
    // The Region the request was sent to stands in for a missing bucket location.
    let s = load(
        &format!(r#", "principal": "{USER}", "region": "eu-central-1""#),
        "",
    );
    assert_eq!(
        s.evidence.bucket.region,
        Slot::Collected("eu-central-1".into())
    );
}

fn org(path: &str, extra: &str) -> String {
    format!(
        r#""organization": {{"describe_organization": {{"Organization": {{"Id": "o-aa111bb222", "MasterAccountId": "999988887777"{extra}}}}}{path}}}"#
    )
}

#[test]
fn organization_slots() {
    let e = user(&org("", ""));
    let o = e.caller_org.get().expect("org");
    assert_eq!(
        o.scps,
        Slot::Unavailable(unavailable(
            "not in the scenario",
            &[
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:DescribePolicy"
            ]
        ))
    );
    // Consolidated billing only: no SCPs or RCPs apply.
    let e = user(&org("", r#", "FeatureSet": "CONSOLIDATED_BILLING""#));
    assert_eq!(e.caller_org.get().unwrap().scps, Slot::Absent);
    // A policy whose body is not given; RCPs not enabled; the built-in FullAWSAccess.
    let path = r#", "path": [
        {"target": "r-ab12", "scps": {"Policies": [{"Id": "p-FullAWSAccess"}]}, "rcps": {"$absent": "PolicyTypeNotEnabledException"}},
        {"target": "111122223333", "scps": {"Policies": [{"Id": "p-abc123", "Name": "DenyS3"}]}, "rcps": {"$absent": "PolicyTypeNotEnabledException"}}
    ]"#;
    let e = user(&org(path, ""));
    let o = e.caller_org.get().unwrap();
    assert_eq!(o.rcps, Slot::Absent);
    let u = o.scps.unavailable().expect("p-abc123 is not given");
    assert!(
        u.reason
            .starts_with("SCP `p-abc123` attached to `111122223333` is not in `policies`"),
        "{}",
        u.reason
    );
    assert_eq!(u.needs, ["organizations:DescribePolicy"]);
    // A level without `scps`.
    let path =
        r#", "path": [{"target": "r-ab12"}, {"target": "111122223333", "scps": {"Policies": []}}]"#;
    let u = user(&org(path, ""))
        .caller_org
        .get()
        .unwrap()
        .scps
        .unavailable()
        .cloned()
        .unwrap();
    assert_eq!(
        u.reason,
        "the SCPs attached to `r-ab12` are not in the scenario"
    );
    // The path must end at the caller's account.
    let path = r#", "path": [{"target": "r-ab12"}, {"target": "444455556666"}]"#;
    let err = load_err(&format!(r#", "principal": "{USER}""#), &org(path, ""));
    assert!(
        err.contains("the path must end at account `111122223333`, found `444455556666`"),
        "{err}"
    );
}

#[test]
fn vpc_endpoint_applies_only_to_endpoint_requests() {
    let net = r#", "principal": "arn:aws:iam::111122223333:user/alice", "network": {"vpc_endpoint": "vpce-1a2b3c4d"}"#;
    let s = load(net, "");
    assert_eq!(
        s.evidence.vpc_endpoint_policy,
        missing(&["ec2:DescribeVpcEndpoints"])
    );
    let err = load_err(
        &format!(r#", "principal": "{USER}""#),
        r#""vpc_endpoint": {"VpcEndpoints": []}"#,
    );
    assert!(
        err.contains("the request went through no VPC endpoint"),
        "{err}"
    );
    let err = load_err(
        net,
        r#""vpc_endpoint": {"VpcEndpoints": [{"VpcEndpointId": "vpce-other", "PolicyDocument": "{}"}]}"#,
    );
    assert!(
        err.contains("the request's endpoint `vpce-1a2b3c4d` is not in `VpcEndpoints`"),
        "{err}"
    );
}

#[test]
fn the_partial_example() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/partial.json");
    let s = why403_fixtures_source::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.request.principal.as_deref(), Some(SESSION));
    assert_eq!(s.request.credentials, Credentials::TemporaryWithMfa);
    assert_eq!(
        s.request.operation,
        why403_core::upload::Operation::Multipart
    );
    assert_eq!(s.request.network.source_ip.as_deref(), Some("203.0.113.7"));
    let e = s.evidence;
    assert_eq!(
        e.identity,
        Slot::Unavailable(unavailable(
            "AccessDenied when calling GetAccountAuthorizationDetails",
            &["iam:GetAccountAuthorizationDetails"]
        ))
    );
    assert_eq!(e.session_policy, Slot::Absent);
    assert_eq!(
        e.bucket.policy,
        Slot::Unavailable(unavailable(
            "AccessDenied when calling GetBucketPolicy",
            &["s3:GetBucketPolicy"]
        ))
    );
    assert_eq!(e.bucket.acl, missing(&["s3:GetBucketAcl"]));
    assert_eq!(e.bucket.ownership, Slot::Absent);
    assert_eq!(e.bucket.region, Slot::Collected("us-east-1".into()));
    // SSE-KMS without a key id: the AWS managed key; its policy was not read.
    let k = e.kms_key.get().expect("aws/s3");
    assert_eq!(k.manager, "AWS");
    assert_eq!(k.policy, missing(&["kms:GetKeyPolicy"]));
    let o = e.caller_org.get().expect("org");
    let u = o.scps.unavailable().expect("path unavailable");
    assert_eq!(
        u.reason,
        "ListParents is allowed only from the management account"
    );
    assert_eq!(
        u.needs,
        [
            "organizations:ListParents",
            "organizations:ListPoliciesForTarget",
            "organizations:DescribePolicy"
        ]
    );
    assert_eq!(o.scps, o.rcps);
    // Same account: the bucket's organization is the caller's.
    assert_eq!(e.bucket_org, Slot::NotApplicable);
}
