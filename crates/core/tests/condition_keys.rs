//! The request context of an upload, key by key, as docs/condition-keys.md lists it: for each
//! row of its tables a test that the derived context has (or lacks) the key with the right
//! value for the principal kinds it concerns, and a test that the tables and these tests name
//! the same keys. Keys the evidence leaves open make a decision that depends on them
//! `Indeterminate` (an unread organization, identity or bucket owner).

use why403_core::analysis::{Analysis, CheckKind, CheckOutcome, Verdict, derive};
use why403_core::context::RequestContext;
use why403_core::eval::RequestPrincipal;
use why403_core::evidence::{
    Caller, Encryption, Evidence, EvidenceKind, Identity, IdentityKind, KmsKey, ObjectOwnership,
    OrgLevel, Organization, PublicAccessBlock, Slot,
};
use why403_core::policy::{Policy, PolicyKind};
use why403_core::upload::{ContextOverride, Credentials, UploadRequest};

const CALLER: &str = "111122223333";
const OWNER: &str = "444455556666";
const ORG: &str = "o-a1b2c3d4e5";
/// The caller's account sits in `ou-ab12-22222222`, under `ou-ab12-11111111`, under the root.
const PATH: &str = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/";
const OWNER_ORG: &str = "o-f6g7h8i9j0";
const OWNER_PATH: &str = "o-f6g7h8i9j0/r-cd34/ou-cd34-33333333/";
const KEY: &str = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const TIME: &str = "2026-11-29T12:00:00Z";

/// Who uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    User,
    Session,
    Federated,
    Root,
    Anonymous,
}

const SIGNED: [Who; 4] = [Who::User, Who::Session, Who::Federated, Who::Root];
const ALL: [Who; 5] = [
    Who::User,
    Who::Session,
    Who::Federated,
    Who::Root,
    Who::Anonymous,
];

fn policy(name: &str, kind: PolicyKind, text: &str) -> Policy {
    Policy::parse(name, kind, text).unwrap()
}

const ALLOW_ALL_SCP: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

const ALLOW_ALL_RCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// The levels from the root through `targets` to `account`, each with `p`.
fn levels(targets: &[&str], account: &str, p: &Policy) -> Vec<OrgLevel> {
    targets
        .iter()
        .copied()
        .chain([account])
        .map(|t| OrgLevel {
            target_id: t.into(),
            name: None,
            policies: vec![p.clone()],
        })
        .collect()
}

/// An organization whose levels run from the root through `targets` to `account`, each with
/// `FullAWSAccess` and `RCPFullAWSAccess`.
fn org(id: &str, targets: &[&str], account: &str) -> Organization {
    let scp = policy("SCP p-FullAWSAccess", PolicyKind::Scp, ALLOW_ALL_SCP);
    let rcp = policy("RCP p-RCPFullAWSAccess", PolicyKind::Rcp, ALLOW_ALL_RCP);
    Organization {
        id: id.into(),
        management_account: "999999999999".into(),
        scps: Slot::Collected(levels(targets, account, &scp)),
        rcps: Slot::Collected(levels(targets, account, &rcp)),
        root: Slot::missing("not read", &["organizations:ListRoots"]),
    }
}

fn caller_org() -> Organization {
    org(
        ORG,
        &["r-ab12", "ou-ab12-11111111", "ou-ab12-22222222"],
        CALLER,
    )
}

fn owner_org() -> Organization {
    org(OWNER_ORG, &["r-cd34", "ou-cd34-33333333"], OWNER)
}

fn identity(kind: IdentityKind, arn: &str, name: &str, id: &str, tag: &str) -> Identity {
    let p = policy(
        &format!("inline policy P of {name}"),
        PolicyKind::Identity,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","kms:*"],"Resource":"*"}]}"#,
    );
    Identity {
        kind,
        arn: arn.into(),
        name: name.into(),
        path: "/".into(),
        id: id.into(),
        tags: [("team".to_owned(), tag.to_owned())].into_iter().collect(),
        policies: vec![p],
        groups: vec![],
        boundary: None,
    }
}

/// `who` of account `CALLER` (in organization `ORG`) uploads to a bucket of `OWNER` (in
/// `OWNER_ORG`) that allows everyone to upload; nothing else refuses.
fn world(who: Who) -> (UploadRequest, Evidence) {
    let mut req = UploadRequest::new("amzn-s3-demo-bucket", "reports/q3.csv");
    req.time = Some(TIME.into());
    req.region = Some("us-east-1".into());
    req.network.source_ip = Some("203.0.113.7".into());
    let mut ev = Evidence::unknown("amzn-s3-demo-bucket");
    ev.caller = Slot::NotApplicable;
    ev.session_policy = Slot::NotApplicable;
    ev.caller_org = Slot::Collected(caller_org());
    match who {
        Who::User => {
            let arn = format!("arn:aws:iam::{CALLER}:user/alice");
            req.principal = Some(arn.clone());
            ev.identity = Slot::Collected(identity(
                IdentityKind::User,
                &arn,
                "alice",
                "AIDAJQABLZS4A3QDU576Q",
                "blue",
            ));
        }
        Who::Session => {
            req.principal = Some(format!("arn:aws:sts::{CALLER}:assumed-role/Uploader/s1"));
            req.credentials = Credentials::Temporary;
            req.session_tags = [("project".to_owned(), "apollo".to_owned())]
                .into_iter()
                .collect();
            ev.identity = Slot::Collected(identity(
                IdentityKind::Role,
                &format!("arn:aws:iam::{CALLER}:role/teams/Uploader"),
                "Uploader",
                "AROA3XFRBF535PLBIFPI4",
                "red",
            ));
            ev.session_policy = Slot::Absent;
        }
        Who::Federated => {
            req.principal = Some(format!("arn:aws:sts::{CALLER}:federated-user/bob"));
            req.credentials = Credentials::Temporary;
            req.session_tags = [("project".to_owned(), "gemini".to_owned())]
                .into_iter()
                .collect();
            ev.identity = Slot::missing("federated user", &[]);
            ev.session_policy = Slot::Absent;
        }
        Who::Root => {
            req.principal = Some(format!("arn:aws:iam::{CALLER}:root"));
            ev.identity = Slot::NotApplicable;
        }
        Who::Anonymous => {
            req.credentials = Credentials::Anonymous;
            ev.identity = Slot::NotApplicable;
            ev.caller_org = Slot::NotApplicable;
        }
    }
    ev.bucket.region = Slot::Collected("us-east-1".into());
    ev.bucket.owner_account = Slot::Collected(OWNER.into());
    ev.bucket.policy = Slot::Collected(policy(
        "bucket policy of amzn-s3-demo-bucket",
        PolicyKind::Resource,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Everyone","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
    ));
    ev.bucket.acl = Slot::NotApplicable;
    ev.bucket.encryption = Slot::Absent;
    ev.bucket.ownership = Slot::Collected(ObjectOwnership::BucketOwnerEnforced);
    ev.bucket.public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.bucket.request_payer = Slot::Collected("BucketOwner".into());
    ev.account_public_access_block = Slot::Collected(PublicAccessBlock::default());
    ev.kms_key = Slot::NotApplicable;
    ev.bucket_org = Slot::Collected(owner_org());
    (req, ev)
}

/// The same world with SSE-KMS under `KEY`, a key of the bucket owner that allows everyone.
fn kms_world(who: Who) -> (UploadRequest, Evidence) {
    let (mut req, mut ev) = world(who);
    req.headers
        .insert("x-amz-server-side-encryption".into(), "aws:kms".into());
    req.headers.insert(
        "x-amz-server-side-encryption-aws-kms-key-id".into(),
        KEY.into(),
    );
    ev.kms_key = Slot::Collected(KmsKey {
        arn: KEY.into(),
        key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
        account: OWNER.into(),
        region: "us-east-1".into(),
        state: "Enabled".into(),
        manager: "CUSTOMER".into(),
        spec: "SYMMETRIC_DEFAULT".into(),
        usage: "ENCRYPT_DECRYPT".into(),
        policy: Slot::Collected(policy(
            "key policy",
            PolicyKind::KeyPolicy,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
        )),
        grants: Slot::Collected(Vec::new()),
    });
    (req, ev)
}

fn s3_of(req: UploadRequest, ev: Evidence) -> RequestContext {
    Analysis::new(req, ev).context
}

fn s3(who: Who) -> RequestContext {
    let (req, ev) = world(who);
    s3_of(req, ev)
}

fn kms_of(req: UploadRequest, ev: Evidence) -> RequestContext {
    let a = Analysis::new(req, ev);
    a.checks
        .iter()
        .find(|c| c.kind == CheckKind::Kms)
        .expect("a KMS check")
        .request
        .context
        .clone()
}

fn kms(who: Who) -> RequestContext {
    let (req, ev) = kms_world(who);
    kms_of(req, ev)
}

fn get(c: &RequestContext, key: &str) -> Option<Vec<String>> {
    c.get(key).map(|v| v.values.clone())
}

/// The single value of a key, asserting it is single-valued.
fn one(c: &RequestContext, key: &str) -> Option<String> {
    let v = c.get(key)?;
    assert!(!v.multi, "`{key}` must be single-valued");
    assert_eq!(v.values.len(), 1, "`{key}`: {:?}", v.values);
    Some(v.values[0].clone())
}

/// The values of a key, asserting it is multivalued.
fn many(c: &RequestContext, key: &str) -> Option<Vec<String>> {
    let v = c.get(key)?;
    assert!(v.multi, "`{key}` must be multivalued");
    Some(v.values.clone())
}

fn absent(c: &RequestContext, key: &str) {
    assert!(
        c.get(key).is_none(),
        "`{key}` must be absent: {:?}",
        get(c, key)
    );
}

fn with_header(who: Who, name: &str, value: &str) -> RequestContext {
    let (mut req, ev) = world(who);
    req.headers.insert(name.into(), value.into());
    s3_of(req, ev)
}

fn service_context() -> RequestContext {
    let (req, ev) = world(Who::Root);
    derive::s3_context(
        &req,
        &ev,
        &RequestPrincipal::Service("cloudtrail.amazonaws.com".into()),
        TIME,
    )
}

/// The rows of docs/condition-keys.md (first column, without backticks), each with the
/// function that tests it.
macro_rules! rows {
    ($($key:literal => $f:ident),* $(,)?) => {
        const ROWS: &[&str] = &[$($key),*];
        mod row {
            $( #[test] fn $f() { super::$f() } )*
        }
    };
}

rows! {
    "aws:PrincipalArn" => principal_arn,
    "aws:PrincipalAccount" => principal_account,
    "aws:PrincipalOrgID" => principal_org_id,
    "aws:PrincipalOrgPaths" => principal_org_paths,
    "aws:PrincipalTag/tag-key" => principal_tag,
    "aws:PrincipalIsAWSService" => principal_is_aws_service,
    "aws:PrincipalServiceName" => principal_service_name,
    "aws:PrincipalServiceNamesList" => principal_service_names_list,
    "aws:PrincipalType" => principal_type,
    "aws:userid" => userid,
    "aws:username" => username,
    "aws:AssumedRoot" => assumed_root,
    "aws:FederatedProvider" => federated_provider,
    "aws:TokenIssueTime" => token_issue_time,
    "aws:MultiFactorAuthPresent" => mfa_present,
    "aws:MultiFactorAuthAge" => mfa_age,
    "aws:SourceIdentity" => source_identity,
    "aws:Ec2InstanceSourceVpc, aws:Ec2InstanceSourcePrivateIPv4" => ec2_instance_source,
    "aws:SignInSessionArn, aws:ChatbotSourceArn, ec2:RoleDelivery, ec2:SourceInstanceArn, glue:RoleAssumedBy, glue:CredentialIssuingService, codebuild:BuildArn, codebuild:ProjectArn, lambda:SourceFunctionArn, ssm:SourceInstanceArn, identitystore:UserId" => credential_source_keys,
    "aws:SourceIp" => source_ip,
    "aws:SourceVpc" => source_vpc,
    "aws:SourceVpce" => source_vpce,
    "aws:VpcSourceIp" => vpc_source_ip,
    "aws:SourceVpcArn, aws:VpceAccount, aws:VpceOrgID, aws:VpceOrgPaths" => vpce_owner_keys,
    "aws:ResourceAccount" => resource_account,
    "aws:ResourceOrgID" => resource_org_id,
    "aws:ResourceOrgPaths" => resource_org_paths,
    "aws:ResourceTag/tag-key" => resource_tag,
    "aws:CalledVia" => called_via,
    "aws:CalledViaFirst, aws:CalledViaLast" => called_via_first_last,
    "aws:ViaAWSService" => via_aws_service,
    "aws:CalledViaAWSMCP, aws:ViaAWSMCPService, aws:IsMcpServiceAction" => mcp_keys,
    "aws:CurrentTime" => current_time,
    "aws:EpochTime" => epoch_time,
    "aws:referer" => referer,
    "aws:RequestedRegion" => requested_region,
    "aws:RequestTag/tag-key, aws:TagKeys" => request_tag,
    "aws:SecureTransport" => secure_transport,
    "aws:SourceAccount, aws:SourceArn, aws:SourceOrgID, aws:SourceOrgPaths" => source_resource_keys,
    "aws:UserAgent" => user_agent,
    "s3:x-amz-acl" => s3_acl,
    "s3:x-amz-grant-read, s3:x-amz-grant-write, s3:x-amz-grant-read-acp, s3:x-amz-grant-write-acp, s3:x-amz-grant-full-control" => s3_grants,
    "s3:x-amz-server-side-encryption" => s3_sse,
    "s3:x-amz-server-side-encryption-aws-kms-key-id" => s3_sse_key_id,
    "s3:x-amz-server-side-encryption-customer-algorithm" => s3_sse_c,
    "s3:x-amz-storage-class" => s3_storage_class,
    "s3:x-amz-website-redirect-location" => s3_website_redirect,
    "s3:x-amz-content-sha256" => s3_content_sha256,
    "s3:if-match, s3:if-none-match" => s3_conditional_write,
    "s3:RequestObjectTag/tag-key" => s3_request_object_tag,
    "s3:RequestObjectTagKeys" => s3_request_object_tag_keys,
    "s3:object-lock-mode, s3:object-lock-retain-until-date, s3:object-lock-legal-hold" => s3_object_lock,
    "s3:object-lock-remaining-retention-days" => s3_remaining_retention_days,
    "s3:signatureversion" => s3_signature_version,
    "s3:authType" => s3_auth_type,
    "s3:signatureAge" => s3_signature_age,
    "s3:TlsVersion" => s3_tls_version,
    "s3:ResourceAccount" => s3_resource_account,
    "s3:ObjectCreationOperation" => s3_object_creation_operation,
    "s3:x-amz-copy-source, s3:x-amz-metadata-directive, s3:AccessGrantsInstanceArn" => s3_other_operations,
    "s3:DataAccessPointArn, s3:DataAccessPointAccount, s3:AccessPointNetworkOrigin" => s3_access_point_keys,
    "s3express:SessionMode" => s3express_session_mode,
    "kms:ViaService" => kms_via_service,
    "kms:CallerAccount" => kms_caller_account,
    "kms:EncryptionContext:aws:s3:arn" => kms_context_arn,
    "kms:EncryptionContext:context-key" => kms_context_pairs,
    "kms:EncryptionContextKeys" => kms_context_keys,
    "kms:RequestAlias" => kms_request_alias,
    "kms:EncryptionAlgorithm" => kms_encryption_algorithm,
    "kms:KeySpec, kms:KeyUsage" => kms_key_spec_usage,
    "kms:KeyOrigin, kms:MultiRegion, kms:MultiRegionKeyType, kms:ResourceAliases" => kms_key_properties_not_read,
    "kms:GrantIsForAWSResource" => kms_grant_is_for_aws_resource,
    "aws:ResourceAccount, aws:ResourceOrgID, aws:ResourceOrgPaths on S3's call to KMS" => kms_resource_keys,
    "aws:MultiFactorAuthPresent on S3's call to KMS" => kms_mfa_present,
    "aws:SourceIp, aws:SourceVpc, aws:SourceVpce, aws:VpcSourceIp on S3's call to KMS" => kms_network_keys,
    "s3: keys on S3's call to KMS" => kms_no_s3_keys,
    "principal keys on S3's call to KMS" => kms_principal_keys,
}

// ---- Properties of the principal ----

fn principal_arn() {
    assert_eq!(
        one(&s3(Who::User), "aws:PrincipalArn").as_deref(),
        Some("arn:aws:iam::111122223333:user/alice")
    );
    // A role session: the role's ARN, with its path, not the session's.
    assert_eq!(
        one(&s3(Who::Session), "aws:PrincipalArn").as_deref(),
        Some("arn:aws:iam::111122223333:role/teams/Uploader")
    );
    assert_eq!(
        one(&s3(Who::Federated), "aws:PrincipalArn").as_deref(),
        Some("arn:aws:sts::111122223333:federated-user/bob")
    );
    assert_eq!(
        one(&s3(Who::Root), "aws:PrincipalArn").as_deref(),
        Some("arn:aws:iam::111122223333:root")
    );
    absent(&s3(Who::Anonymous), "aws:PrincipalArn");
}

fn principal_account() {
    for who in SIGNED {
        assert_eq!(
            one(&s3(who), "aws:PrincipalAccount").as_deref(),
            Some(CALLER)
        );
    }
    assert_eq!(
        one(&s3(Who::Anonymous), "aws:PrincipalAccount").as_deref(),
        Some("anonymous")
    );
}

fn principal_org_id() {
    for who in SIGNED {
        assert_eq!(one(&s3(who), "aws:PrincipalOrgID").as_deref(), Some(ORG));
    }
    absent(&s3(Who::Anonymous), "aws:PrincipalOrgID");
    // An account in no organization has none.
    let (req, mut ev) = world(Who::User);
    ev.caller_org = Slot::Absent;
    absent(&s3_of(req, ev), "aws:PrincipalOrgID");
}

fn principal_org_paths() {
    for who in SIGNED {
        assert_eq!(
            many(&s3(who), "aws:PrincipalOrgPaths"),
            Some(vec![PATH.to_owned()]),
            "{who:?}"
        );
    }
    absent(&s3(Who::Anonymous), "aws:PrincipalOrgPaths");
    let (req, mut ev) = world(Who::User);
    ev.caller_org = Slot::Absent;
    absent(&s3_of(req, ev), "aws:PrincipalOrgPaths");
    // An account directly under the root: the organization and the root.
    let (req, mut ev) = world(Who::User);
    ev.caller_org = Slot::Collected(org(ORG, &["r-ab12"], CALLER));
    assert_eq!(
        many(&s3_of(req, ev), "aws:PrincipalOrgPaths"),
        Some(vec!["o-a1b2c3d4e5/r-ab12/".to_owned()])
    );
    // The levels read with the RCPs serve as well as those read with the SCPs.
    let (req, mut ev) = world(Who::User);
    let mut o = caller_org();
    o.scps = Slot::missing("AccessDenied", &["organizations:DescribePolicy"]);
    ev.caller_org = Slot::Collected(o);
    assert_eq!(
        many(&s3_of(req, ev), "aws:PrincipalOrgPaths"),
        Some(vec![PATH.to_owned()])
    );
    // Neither read: the path is not known, so the key is not set (a decision that depends on
    // it is left open, see `unread_org_path_leaves_a_path_condition_open`).
    let (req, mut ev) = world(Who::User);
    let mut o = caller_org();
    o.scps = Slot::missing("AccessDenied", &["organizations:ListParents"]);
    o.rcps = Slot::missing("AccessDenied", &["organizations:ListParents"]);
    ev.caller_org = Slot::Collected(o);
    let c = s3_of(req, ev);
    absent(&c, "aws:PrincipalOrgPaths");
    assert_eq!(one(&c, "aws:PrincipalOrgID").as_deref(), Some(ORG));
}

fn principal_tag() {
    assert_eq!(
        one(&s3(Who::User), "aws:PrincipalTag/team").as_deref(),
        Some("blue")
    );
    // A role session: the role's tags and the session tags.
    let c = s3(Who::Session);
    assert_eq!(one(&c, "aws:PrincipalTag/team").as_deref(), Some("red"));
    assert_eq!(
        one(&c, "aws:PrincipalTag/project").as_deref(),
        Some("apollo")
    );
    // A session tag replaces the role's tag of the same key.
    let (mut req, ev) = world(Who::Session);
    req.session_tags.insert("team".into(), "green".into());
    assert_eq!(
        one(&s3_of(req, ev), "aws:PrincipalTag/team").as_deref(),
        Some("green")
    );
    // A federated user: its session tags only.
    let c = s3(Who::Federated);
    assert_eq!(
        one(&c, "aws:PrincipalTag/project").as_deref(),
        Some("gemini")
    );
    absent(&c, "aws:PrincipalTag/team");
    absent(&s3(Who::Root), "aws:PrincipalTag/team");
    absent(&s3(Who::Anonymous), "aws:PrincipalTag/team");
}

fn principal_is_aws_service() {
    for who in SIGNED {
        assert_eq!(
            one(&s3(who), "aws:PrincipalIsAWSService").as_deref(),
            Some("false"),
            "{who:?}"
        );
    }
    absent(&s3(Who::Anonymous), "aws:PrincipalIsAWSService");
    assert_eq!(
        one(&service_context(), "aws:PrincipalIsAWSService").as_deref(),
        Some("true")
    );
}

fn principal_service_name() {
    for who in ALL {
        absent(&s3(who), "aws:PrincipalServiceName");
    }
    assert_eq!(
        one(&service_context(), "aws:PrincipalServiceName").as_deref(),
        Some("cloudtrail.amazonaws.com")
    );
}

fn principal_service_names_list() {
    for who in ALL {
        absent(&s3(who), "aws:PrincipalServiceNamesList");
    }
    assert_eq!(
        many(&service_context(), "aws:PrincipalServiceNamesList"),
        Some(vec!["cloudtrail.amazonaws.com".to_owned()])
    );
}

fn principal_type() {
    for (who, t) in [
        (Who::User, "User"),
        (Who::Session, "AssumedRole"),
        (Who::Federated, "FederatedUser"),
        (Who::Root, "Account"),
        (Who::Anonymous, "Anonymous"),
    ] {
        assert_eq!(one(&s3(who), "aws:PrincipalType").as_deref(), Some(t));
    }
}

fn userid() {
    for (who, id) in [
        (Who::User, "AIDAJQABLZS4A3QDU576Q"),
        (Who::Session, "AROA3XFRBF535PLBIFPI4:s1"),
        (Who::Federated, "111122223333:bob"),
        (Who::Root, CALLER),
        (Who::Anonymous, "anonymous"),
    ] {
        assert_eq!(one(&s3(who), "aws:userid").as_deref(), Some(id), "{who:?}");
    }
    // The identity not read: `sts get-caller-identity` gives it.
    let (req, mut ev) = world(Who::Session);
    ev.identity = Slot::missing("AccessDenied", &["iam:GetAccountAuthorizationDetails"]);
    ev.caller = Slot::Collected(Caller {
        account: CALLER.into(),
        arn: format!("arn:aws:sts::{CALLER}:assumed-role/Uploader/s1"),
        user_id: "AROA3XFRBF535PLBIFPI4:s1".into(),
    });
    assert_eq!(
        one(&s3_of(req, ev), "aws:userid").as_deref(),
        Some("AROA3XFRBF535PLBIFPI4:s1")
    );
}

fn username() {
    assert_eq!(
        one(&s3(Who::User), "aws:username").as_deref(),
        Some("alice")
    );
    for who in [Who::Session, Who::Federated, Who::Root, Who::Anonymous] {
        absent(&s3(who), "aws:username");
    }
}

/// A key the derivation never supplies, for every principal kind; given in the request's
/// `context`, it is used as given.
fn never_derived(key: &str) {
    for who in ALL {
        absent(&s3(who), key);
    }
    let (mut req, ev) = world(Who::Session);
    req.context.insert(
        key.to_owned(),
        ContextOverride {
            values: vec!["given".into()],
            multi: false,
        },
    );
    assert_eq!(one(&s3_of(req, ev), key).as_deref(), Some("given"));
}

fn assumed_root() {
    never_derived("aws:AssumedRoot");
}

fn federated_provider() {
    never_derived("aws:FederatedProvider");
}

fn token_issue_time() {
    never_derived("aws:TokenIssueTime");
}

fn mfa_present() {
    assert_eq!(
        one(&s3(Who::Session), "aws:MultiFactorAuthPresent").as_deref(),
        Some("false")
    );
    let (mut req, ev) = world(Who::Session);
    req.credentials = Credentials::TemporaryWithMfa;
    assert_eq!(
        one(&s3_of(req, ev), "aws:MultiFactorAuthPresent").as_deref(),
        Some("true")
    );
    // Long-term access keys (a user, the root user) and anonymous requests: absent.
    for who in [Who::User, Who::Root, Who::Anonymous] {
        absent(&s3(who), "aws:MultiFactorAuthPresent");
    }
}

fn mfa_age() {
    never_derived("aws:MultiFactorAuthAge");
}

fn source_identity() {
    never_derived("aws:SourceIdentity");
}

fn ec2_instance_source() {
    never_derived("aws:Ec2InstanceSourceVpc");
    never_derived("aws:Ec2InstanceSourcePrivateIPv4");
}

fn credential_source_keys() {
    for k in [
        "aws:SignInSessionArn",
        "aws:ChatbotSourceArn",
        "ec2:RoleDelivery",
        "ec2:SourceInstanceArn",
        "glue:RoleAssumedBy",
        "glue:CredentialIssuingService",
        "codebuild:BuildArn",
        "codebuild:ProjectArn",
        "lambda:SourceFunctionArn",
        "ssm:SourceInstanceArn",
        "identitystore:UserId",
    ] {
        never_derived(k);
    }
}

// ---- Properties of the network ----

fn through_endpoint() -> RequestContext {
    let (mut req, mut ev) = world(Who::Session);
    req.network.vpc_endpoint = Some("vpce-1a2b3c4d5e6f7a8b9".into());
    req.network.vpc = Some("vpc-111bbb22".into());
    req.network.vpc_source_ip = Some("10.0.1.17".into());
    ev.vpc_endpoint_policy = Slot::Absent;
    s3_of(req, ev)
}

fn source_ip() {
    for who in ALL {
        assert_eq!(
            one(&s3(who), "aws:SourceIp").as_deref(),
            Some("203.0.113.7")
        );
    }
    absent(&through_endpoint(), "aws:SourceIp");
}

fn source_vpc() {
    absent(&s3(Who::Session), "aws:SourceVpc");
    assert_eq!(
        one(&through_endpoint(), "aws:SourceVpc").as_deref(),
        Some("vpc-111bbb22")
    );
}

fn source_vpce() {
    absent(&s3(Who::Session), "aws:SourceVpce");
    assert_eq!(
        one(&through_endpoint(), "aws:SourceVpce").as_deref(),
        Some("vpce-1a2b3c4d5e6f7a8b9")
    );
}

fn vpc_source_ip() {
    absent(&s3(Who::Session), "aws:VpcSourceIp");
    assert_eq!(
        one(&through_endpoint(), "aws:VpcSourceIp").as_deref(),
        Some("10.0.1.17")
    );
}

fn vpce_owner_keys() {
    for k in [
        "aws:SourceVpcArn",
        "aws:VpceAccount",
        "aws:VpceOrgID",
        "aws:VpceOrgPaths",
    ] {
        absent(&through_endpoint(), k);
        never_derived(k);
    }
}

// ---- Properties of the resource ----

fn resource_account() {
    for who in ALL {
        assert_eq!(one(&s3(who), "aws:ResourceAccount").as_deref(), Some(OWNER));
    }
    let (req, mut ev) = world(Who::User);
    ev.bucket.owner_account = Slot::missing("AccessDenied", &["s3:GetBucketAcl"]);
    absent(&s3_of(req, ev), "aws:ResourceAccount");
}

fn resource_org_id() {
    for who in ALL {
        assert_eq!(
            one(&s3(who), "aws:ResourceOrgID").as_deref(),
            Some(OWNER_ORG),
            "{who:?}"
        );
    }
    // The bucket in the caller's account: the caller's organization.
    let (req, mut ev) = world(Who::User);
    ev.bucket.owner_account = Slot::Collected(CALLER.into());
    ev.bucket_org = Slot::NotApplicable;
    assert_eq!(
        one(&s3_of(req, ev), "aws:ResourceOrgID").as_deref(),
        Some(ORG)
    );
    let (req, mut ev) = world(Who::User);
    ev.bucket_org = Slot::Absent;
    absent(&s3_of(req, ev), "aws:ResourceOrgID");
}

fn resource_org_paths() {
    for who in ALL {
        assert_eq!(
            many(&s3(who), "aws:ResourceOrgPaths"),
            Some(vec![OWNER_PATH.to_owned()])
        );
    }
    let (req, mut ev) = world(Who::User);
    ev.bucket.owner_account = Slot::Collected(CALLER.into());
    ev.bucket_org = Slot::NotApplicable;
    assert_eq!(
        many(&s3_of(req, ev), "aws:ResourceOrgPaths"),
        Some(vec![PATH.to_owned()])
    );
    let (req, mut ev) = world(Who::User);
    ev.bucket_org = Slot::Absent;
    absent(&s3_of(req, ev), "aws:ResourceOrgPaths");
}

fn resource_tag() {
    never_derived("aws:ResourceTag/team");
}

// ---- Properties of the request ----

fn called_via() {
    for who in ALL {
        absent(&s3(who), "aws:CalledVia");
    }
    assert_eq!(
        many(&kms(Who::User), "aws:CalledVia"),
        Some(vec!["s3.amazonaws.com".to_owned()])
    );
}

fn called_via_first_last() {
    for k in ["aws:CalledViaFirst", "aws:CalledViaLast"] {
        absent(&s3(Who::User), k);
        for who in SIGNED {
            assert_eq!(one(&kms(who), k).as_deref(), Some("s3.amazonaws.com"));
        }
    }
}

fn via_aws_service() {
    for who in ALL {
        assert_eq!(one(&s3(who), "aws:ViaAWSService").as_deref(), Some("false"));
    }
    for who in SIGNED {
        assert_eq!(one(&kms(who), "aws:ViaAWSService").as_deref(), Some("true"));
    }
}

fn mcp_keys() {
    for k in [
        "aws:CalledViaAWSMCP",
        "aws:ViaAWSMCPService",
        "aws:IsMcpServiceAction",
    ] {
        never_derived(k);
        absent(&kms(Who::User), k);
    }
}

fn current_time() {
    for who in ALL {
        assert_eq!(one(&s3(who), "aws:CurrentTime").as_deref(), Some(TIME));
    }
}

fn epoch_time() {
    for who in ALL {
        assert_eq!(
            one(&s3(who), "aws:EpochTime").as_deref(),
            Some("1795953600")
        );
    }
}

fn referer() {
    absent(&s3(Who::Anonymous), "aws:referer");
    assert_eq!(
        one(
            &with_header(Who::Anonymous, "referer", "https://www.example.com/"),
            "aws:referer"
        )
        .as_deref(),
        Some("https://www.example.com/")
    );
}

fn requested_region() {
    for who in ALL {
        assert_eq!(
            one(&s3(who), "aws:RequestedRegion").as_deref(),
            Some("us-east-1")
        );
    }
    // Without a Region in the request, the bucket's.
    let (mut req, mut ev) = world(Who::User);
    req.region = None;
    ev.bucket.region = Slot::Collected("eu-west-1".into());
    assert_eq!(
        one(&s3_of(req, ev), "aws:RequestedRegion").as_deref(),
        Some("eu-west-1")
    );
}

fn request_tag() {
    // PutObject takes tags as `s3:RequestObjectTag/*`, not `aws:RequestTag/*`.
    let c = with_header(Who::User, "x-amz-tagging", "team=blue");
    absent(&c, "aws:RequestTag/team");
    absent(&c, "aws:TagKeys");
}

fn secure_transport() {
    for who in ALL {
        assert_eq!(
            one(&s3(who), "aws:SecureTransport").as_deref(),
            Some("true")
        );
    }
    let (mut req, ev) = world(Who::User);
    req.network.tls = false;
    assert_eq!(
        one(&s3_of(req, ev), "aws:SecureTransport").as_deref(),
        Some("false")
    );
}

fn source_resource_keys() {
    for k in [
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
    ] {
        never_derived(k);
        absent(&kms(Who::User), k);
    }
}

fn user_agent() {
    absent(&s3(Who::User), "aws:UserAgent");
    assert_eq!(
        one(
            &with_header(Who::User, "user-agent", "aws-cli/2.17.0"),
            "aws:UserAgent"
        )
        .as_deref(),
        Some("aws-cli/2.17.0")
    );
}

// ---- Amazon S3 keys ----

/// A header the derivation copies into an `s3:` key.
fn header_key(header: &str, key: &str, value: &str) {
    absent(&s3(Who::User), key);
    for who in ALL {
        assert_eq!(
            one(&with_header(who, header, value), key).as_deref(),
            Some(value),
            "{who:?}"
        );
    }
}

fn s3_acl() {
    header_key("x-amz-acl", "s3:x-amz-acl", "bucket-owner-full-control");
}

fn s3_grants() {
    for h in [
        "x-amz-grant-read",
        "x-amz-grant-write",
        "x-amz-grant-read-acp",
        "x-amz-grant-write-acp",
        "x-amz-grant-full-control",
    ] {
        header_key(
            h,
            &format!("s3:{h}"),
            "id=79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        );
    }
}

fn s3_sse() {
    header_key(
        "x-amz-server-side-encryption",
        "s3:x-amz-server-side-encryption",
        "AES256",
    );
    // Not from the bucket's default encryption.
    let (req, mut ev) = world(Who::User);
    ev.bucket.encryption = Slot::Collected(Encryption {
        algorithm: "AES256".into(),
        kms_key_id: None,
        bucket_key_enabled: false,
        blocked_encryption_types: vec![],
    });
    absent(&s3_of(req, ev), "s3:x-amz-server-side-encryption");
}

fn s3_sse_key_id() {
    header_key(
        "x-amz-server-side-encryption-aws-kms-key-id",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        KEY,
    );
}

fn s3_sse_c() {
    header_key(
        "x-amz-server-side-encryption-customer-algorithm",
        "s3:x-amz-server-side-encryption-customer-algorithm",
        "AES256",
    );
}

fn s3_storage_class() {
    header_key(
        "x-amz-storage-class",
        "s3:x-amz-storage-class",
        "GLACIER_IR",
    );
}

fn s3_website_redirect() {
    header_key(
        "x-amz-website-redirect-location",
        "s3:x-amz-website-redirect-location",
        "/index.html",
    );
}

fn s3_content_sha256() {
    header_key(
        "x-amz-content-sha256",
        "s3:x-amz-content-sha256",
        "UNSIGNED-PAYLOAD",
    );
}

fn s3_conditional_write() {
    header_key("if-none-match", "s3:if-none-match", "*");
    header_key(
        "if-match",
        "s3:if-match",
        "\"9b2cf535f27731c974343645a3985328\"",
    );
}

fn s3_request_object_tag() {
    let c = with_header(Who::User, "x-amz-tagging", "team=blue&cost%20center=r%26d");
    assert_eq!(one(&c, "s3:RequestObjectTag/team").as_deref(), Some("blue"));
    assert_eq!(
        one(&c, "s3:RequestObjectTag/cost center").as_deref(),
        Some("r&d")
    );
    absent(&s3(Who::User), "s3:RequestObjectTag/team");
}

fn s3_request_object_tag_keys() {
    let c = with_header(Who::User, "x-amz-tagging", "team=blue&project=apollo");
    assert_eq!(
        many(&c, "s3:RequestObjectTagKeys"),
        Some(vec!["team".to_owned(), "project".to_owned()])
    );
    absent(&s3(Who::User), "s3:RequestObjectTagKeys");
}

fn s3_object_lock() {
    header_key(
        "x-amz-object-lock-mode",
        "s3:object-lock-mode",
        "GOVERNANCE",
    );
    header_key(
        "x-amz-object-lock-retain-until-date",
        "s3:object-lock-retain-until-date",
        "2027-01-01T00:00:00Z",
    );
    header_key(
        "x-amz-object-lock-legal-hold",
        "s3:object-lock-legal-hold",
        "ON",
    );
}

fn s3_remaining_retention_days() {
    absent(
        &with_header(
            Who::User,
            "x-amz-object-lock-retain-until-date",
            "2027-01-01T00:00:00Z",
        ),
        "s3:object-lock-remaining-retention-days",
    );
    never_derived("s3:object-lock-remaining-retention-days");
}

fn s3_signature_version() {
    for who in SIGNED {
        assert_eq!(
            one(&s3(who), "s3:signatureversion").as_deref(),
            Some("AWS4-HMAC-SHA256")
        );
    }
    // An unsigned request has no signature.
    absent(&s3(Who::Anonymous), "s3:signatureversion");
}

fn s3_auth_type() {
    for who in SIGNED {
        assert_eq!(one(&s3(who), "s3:authType").as_deref(), Some("REST-HEADER"));
    }
    absent(&s3(Who::Anonymous), "s3:authType");
}

fn s3_signature_age() {
    never_derived("s3:signatureAge");
}

fn s3_tls_version() {
    for who in ALL {
        assert_eq!(one(&s3(who), "s3:TlsVersion").as_deref(), Some("1.2"));
    }
    let (mut req, ev) = world(Who::User);
    req.network.tls = false;
    absent(&s3_of(req, ev), "s3:TlsVersion");
}

fn s3_resource_account() {
    for who in ALL {
        assert_eq!(one(&s3(who), "s3:ResourceAccount").as_deref(), Some(OWNER));
    }
}

fn s3_object_creation_operation() {
    never_derived("s3:ObjectCreationOperation");
}

fn s3_access_point_keys() {
    const AP: &str = "arn:aws:s3:us-east-1:444455556666:accesspoint/finance-ap";
    // Absent for a request that names the bucket.
    for k in [
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
        "s3:AccessPointNetworkOrigin",
    ] {
        absent(&s3(Who::Session), k);
    }
    let (mut req, mut ev) = world(Who::Session);
    req.target = why403_core::upload::parse_destination(&format!("{AP}/k"))
        .unwrap()
        .0;
    // The ARN the request names gives the first two, before the access point is read.
    let c = s3_of(req.clone(), ev.clone());
    assert_eq!(one(&c, "s3:DataAccessPointArn").as_deref(), Some(AP));
    assert_eq!(one(&c, "s3:DataAccessPointAccount").as_deref(), Some(OWNER));
    absent(&c, "s3:AccessPointNetworkOrigin");
    ev.access_point = Slot::Collected(why403_core::evidence::AccessPoint {
        name: "finance-ap".into(),
        arn: AP.into(),
        alias: None,
        account: OWNER.into(),
        bucket: "amzn-s3-demo-bucket".into(),
        bucket_account: None,
        network_origin: why403_core::evidence::NetworkOrigin::Vpc("vpc-1a2b3c4d".into()),
        public_access_block: Default::default(),
        policy: Slot::Absent,
        multi_region: false,
    });
    let c = s3_of(req, ev);
    assert_eq!(
        one(&c, "s3:AccessPointNetworkOrigin").as_deref(),
        Some("VPC")
    );
}

fn s3express_session_mode() {
    absent(&s3(Who::User), "s3express:SessionMode");
    let (mut req, ev) = world(Who::User);
    req.target = why403_core::upload::Target::DirectoryBucket;
    assert_eq!(
        one(&s3_of(req.clone(), ev.clone()), "s3express:SessionMode").as_deref(),
        Some("ReadWrite")
    );
    req.session_mode = why403_core::upload::SessionMode::ReadOnly;
    assert_eq!(
        one(&s3_of(req, ev), "s3express:SessionMode").as_deref(),
        Some("ReadOnly")
    );
}

fn s3_other_operations() {
    for k in [
        "s3:x-amz-copy-source",
        "s3:x-amz-metadata-directive",
        "s3:AccessGrantsInstanceArn",
    ] {
        never_derived(k);
    }
}

// ---- S3's call to KMS ----

fn kms_via_service() {
    absent(&s3(Who::User), "kms:ViaService");
    for who in SIGNED {
        assert_eq!(
            one(&kms(who), "kms:ViaService").as_deref(),
            Some("s3.us-east-1.amazonaws.com")
        );
    }
}

fn kms_caller_account() {
    for who in SIGNED {
        assert_eq!(one(&kms(who), "kms:CallerAccount").as_deref(), Some(CALLER));
    }
}

fn kms_context_arn() {
    assert_eq!(
        one(&kms(Who::User), "kms:EncryptionContext:aws:s3:arn").as_deref(),
        Some("arn:aws:s3:::amzn-s3-demo-bucket/reports/q3.csv")
    );
    // With an S3 Bucket Key, the bucket's ARN.
    let (mut req, ev) = kms_world(Who::User);
    req.headers.insert(
        "x-amz-server-side-encryption-bucket-key-enabled".into(),
        "true".into(),
    );
    assert_eq!(
        one(&kms_of(req, ev), "kms:EncryptionContext:aws:s3:arn").as_deref(),
        Some("arn:aws:s3:::amzn-s3-demo-bucket")
    );
}

/// `x-amz-server-side-encryption-context` for `{"project":"apollo","aws:s3:arn":"x"}`.
const CONTEXT_HEADER: &str = "eyJwcm9qZWN0IjoiYXBvbGxvIiwiYXdzOnMzOmFybiI6IngifQ==";

fn kms_context_pairs() {
    absent(&kms(Who::User), "kms:EncryptionContext:project");
    let (mut req, ev) = kms_world(Who::User);
    req.headers.insert(
        "x-amz-server-side-encryption-context".into(),
        CONTEXT_HEADER.into(),
    );
    let c = kms_of(req, ev);
    assert_eq!(
        one(&c, "kms:EncryptionContext:project").as_deref(),
        Some("apollo")
    );
    // S3 sets `aws:s3:arn` itself.
    assert_eq!(
        one(&c, "kms:EncryptionContext:aws:s3:arn").as_deref(),
        Some("arn:aws:s3:::amzn-s3-demo-bucket/reports/q3.csv")
    );
}

fn kms_context_keys() {
    assert_eq!(
        many(&kms(Who::User), "kms:EncryptionContextKeys"),
        Some(vec!["aws:s3:arn".to_owned()])
    );
    let (mut req, ev) = kms_world(Who::User);
    req.headers.insert(
        "x-amz-server-side-encryption-context".into(),
        CONTEXT_HEADER.into(),
    );
    assert_eq!(
        many(&kms_of(req, ev), "kms:EncryptionContextKeys"),
        Some(vec!["aws:s3:arn".to_owned(), "project".to_owned()])
    );
}

fn kms_request_alias() {
    absent(&kms(Who::User), "kms:RequestAlias");
    let (mut req, ev) = kms_world(Who::User);
    req.headers.insert(
        "x-amz-server-side-encryption-aws-kms-key-id".into(),
        "arn:aws:kms:us-east-1:444455556666:alias/uploads".into(),
    );
    assert_eq!(
        one(&kms_of(req, ev), "kms:RequestAlias").as_deref(),
        Some("alias/uploads")
    );
}

fn kms_encryption_algorithm() {
    assert_eq!(
        one(&kms(Who::User), "kms:EncryptionAlgorithm").as_deref(),
        Some("SYMMETRIC_DEFAULT")
    );
}

fn kms_key_spec_usage() {
    let c = kms(Who::User);
    assert_eq!(one(&c, "kms:KeySpec").as_deref(), Some("SYMMETRIC_DEFAULT"));
    assert_eq!(one(&c, "kms:KeyUsage").as_deref(), Some("ENCRYPT_DECRYPT"));
    absent(&s3(Who::User), "kms:KeySpec");
}

fn kms_key_properties_not_read() {
    for k in [
        "kms:KeyOrigin",
        "kms:MultiRegion",
        "kms:MultiRegionKeyType",
        "kms:ResourceAliases",
    ] {
        absent(&kms(Who::User), k);
    }
}

fn kms_grant_is_for_aws_resource() {
    absent(&kms(Who::User), "kms:GrantIsForAWSResource");
}

fn kms_resource_keys() {
    // A key of the bucket owner: the bucket owner's account and organization.
    let c = kms(Who::User);
    assert_eq!(one(&c, "aws:ResourceAccount").as_deref(), Some(OWNER));
    assert_eq!(one(&c, "aws:ResourceOrgID").as_deref(), Some(OWNER_ORG));
    assert_eq!(
        many(&c, "aws:ResourceOrgPaths"),
        Some(vec![OWNER_PATH.to_owned()])
    );
    // A key of the caller's account: the caller's, not the bucket's.
    let (req, mut ev) = kms_world(Who::User);
    if let Slot::Collected(k) = &mut ev.kms_key {
        k.account = CALLER.into();
        k.arn = k.arn.replace(OWNER, CALLER);
    }
    let mut req = req;
    req.headers.insert(
        "x-amz-server-side-encryption-aws-kms-key-id".into(),
        KEY.replace(OWNER, CALLER),
    );
    let c = kms_of(req, ev);
    assert_eq!(one(&c, "aws:ResourceAccount").as_deref(), Some(CALLER));
    assert_eq!(one(&c, "aws:ResourceOrgID").as_deref(), Some(ORG));
    assert_eq!(
        many(&c, "aws:ResourceOrgPaths"),
        Some(vec![PATH.to_owned()])
    );
}

fn kms_mfa_present() {
    // Long-term keys: S3's forward session carries `false`.
    for who in [Who::User, Who::Root] {
        absent(&s3(who), "aws:MultiFactorAuthPresent");
        assert_eq!(
            one(&kms(who), "aws:MultiFactorAuthPresent").as_deref(),
            Some("false")
        );
    }
    let (mut req, ev) = kms_world(Who::Session);
    req.credentials = Credentials::TemporaryWithMfa;
    assert_eq!(
        one(&kms_of(req, ev), "aws:MultiFactorAuthPresent").as_deref(),
        Some("true")
    );
}

fn kms_network_keys() {
    let (mut req, mut ev) = kms_world(Who::Session);
    req.network.vpc_endpoint = Some("vpce-1a2b3c4d5e6f7a8b9".into());
    req.network.vpc = Some("vpc-111bbb22".into());
    req.network.vpc_source_ip = Some("10.0.1.17".into());
    ev.vpc_endpoint_policy = Slot::Absent;
    let c = kms_of(req, ev);
    for k in ["aws:SourceVpc", "aws:SourceVpce", "aws:VpcSourceIp"] {
        absent(&c, k);
    }
    absent(&kms(Who::User), "aws:SourceIp");
}

fn kms_no_s3_keys() {
    let (mut req, ev) = kms_world(Who::User);
    req.headers
        .insert("x-amz-acl".into(), "bucket-owner-full-control".into());
    let c = kms_of(req, ev);
    for k in [
        "s3:x-amz-acl",
        "s3:x-amz-server-side-encryption",
        "s3:ResourceAccount",
        "s3:signatureversion",
    ] {
        absent(&c, k);
    }
}

fn kms_principal_keys() {
    for who in SIGNED {
        let (s, k) = (s3(who), kms(who));
        for key in [
            "aws:PrincipalArn",
            "aws:PrincipalAccount",
            "aws:PrincipalOrgID",
            "aws:PrincipalOrgPaths",
            "aws:PrincipalIsAWSService",
            "aws:PrincipalType",
            "aws:userid",
            "aws:PrincipalTag/project",
        ] {
            assert_eq!(get(&k, key), get(&s, key), "{who:?} {key}");
        }
    }
    assert_eq!(
        one(&kms(Who::User), "aws:PrincipalIsAWSService").as_deref(),
        Some("false")
    );
}

// ---- The document and these tests agree ----

#[test]
fn the_doc_table_lists_exactly_the_tested_keys() {
    let doc = include_str!("../../../docs/condition-keys.md");
    let mut in_doc: Vec<String> = doc
        .lines()
        .filter(|l| {
            l.starts_with("| `")
                || l.starts_with("| principal keys")
                || l.starts_with("| `s3:` keys")
        })
        .map(|l| l.split('|').nth(1).unwrap().trim().replace('`', ""))
        .collect();
    in_doc.sort();
    let mut tested: Vec<String> = ROWS.iter().map(|s| (*s).to_owned()).collect();
    tested.sort();
    let only_doc: Vec<&String> = in_doc.iter().filter(|k| !tested.contains(k)).collect();
    let only_tests: Vec<&String> = tested.iter().filter(|k| !in_doc.contains(k)).collect();
    assert!(
        only_doc.is_empty() && only_tests.is_empty(),
        "rows without a test: {only_doc:?}; tests without a row: {only_tests:?}"
    );
    let mut dup = in_doc.clone();
    dup.dedup();
    assert_eq!(dup.len(), in_doc.len(), "a row appears twice");
}

// ---- Keys the evidence leaves open ----

/// A bucket policy that allows the upload only under a condition.
fn bucket_policy_with(condition: &str) -> Slot<Policy> {
    Slot::Collected(policy(
        "bucket policy of amzn-s3-demo-bucket",
        PolicyKind::Resource,
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Conditional","Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-bucket/*","Condition":{condition}}}]}}"#
        ),
    ))
}

fn s3_check(a: &Analysis) -> &why403_core::analysis::Check {
    a.checks
        .iter()
        .find(|c| c.action == "s3:PutObject")
        .unwrap()
}

fn missing_kinds(a: &Analysis) -> Vec<EvidenceKind> {
    match &a.verdict {
        Verdict::Indeterminate { missing } => missing.iter().map(|m| m.kind).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn unread_org_leaves_an_org_id_condition_open() {
    let (req, mut ev) = world(Who::User);
    ev.caller_org = Slot::Collected(caller_org());
    ev.bucket.policy =
        bucket_policy_with(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#);
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    // Read and in no organization: refused for certain.
    ev.caller_org = Slot::Absent;
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Denied
    );
    // Not read: it depends on the organization.
    ev.caller_org = Slot::missing("AccessDenied", &["organizations:DescribeOrganization"]);
    let a = Analysis::new(req, ev);
    assert!(
        matches!(a.verdict, Verdict::Indeterminate { .. }),
        "{:?}",
        a.verdict
    );
    assert!(missing_kinds(&a).contains(&EvidenceKind::CallerOrganization));
    let m = s3_check(&a)
        .missing
        .iter()
        .find(|m| m.what.contains("aws:PrincipalOrgID"))
        .expect("the organization is named");
    assert_eq!(m.unavailable.needs, ["organizations:DescribeOrganization"]);
}

#[test]
fn unread_org_does_not_open_a_decision_that_does_not_depend_on_it() {
    let (req, mut ev) = world(Who::User);
    ev.caller_org = Slot::missing("AccessDenied", &["organizations:DescribeOrganization"]);
    ev.bucket.policy = Slot::Collected(policy(
        "bucket policy of amzn-s3-demo-bucket",
        PolicyKind::Resource,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoUploads","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}"#,
    ));
    let a = Analysis::new(req, ev);
    assert_eq!(a.verdict, Verdict::Denied);
    assert!(
        !s3_check(&a)
            .missing
            .iter()
            .any(|m| m.what.contains("aws:PrincipalOrgID")),
        "{:?}",
        s3_check(&a).missing
    );
}

#[test]
fn unread_org_path_leaves_a_path_condition_open() {
    let (req, mut ev) = world(Who::User);
    ev.bucket.policy = bucket_policy_with(
        r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}"#,
    );
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    // The organization read, its levels not. (The caller is its management account, which
    // no SCP restricts, so the unread SCPs decide nothing here.)
    let mut o = caller_org();
    o.management_account = CALLER.into();
    o.scps = Slot::missing(
        "AccessDenied",
        &[
            "organizations:ListParents",
            "organizations:ListPoliciesForTarget",
        ],
    );
    o.rcps = o.scps.clone();
    ev.caller_org = Slot::Collected(o);
    assert!(
        s3_of(req.clone(), ev.clone())
            .get("aws:PrincipalOrgPaths")
            .is_none()
    );
    let a = Analysis::new(req, ev);
    assert!(
        matches!(a.verdict, Verdict::Indeterminate { .. }),
        "{:?}",
        a.verdict
    );
    let m = s3_check(&a)
        .missing
        .iter()
        .find(|m| m.what.contains("aws:PrincipalOrgPaths"))
        .expect("the path is named");
    assert_eq!(m.kind, EvidenceKind::CallerOrganization);
    assert!(
        m.unavailable
            .needs
            .iter()
            .any(|n| n == "organizations:ListParents")
    );
}

#[test]
fn unread_bucket_owners_org_leaves_a_resource_org_condition_open() {
    let (req, mut ev) = world(Who::User);
    // The caller's own identity policy denies writing outside its organization.
    if let Slot::Collected(i) = &mut ev.identity {
        i.policies.push(policy(
            "inline policy Perimeter of user alice",
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"OnlyOurOrg","Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"aws:ResourceOrgID":"${aws:PrincipalOrgID}"}}}]}"#,
        ));
    }
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Denied
    );
    ev.bucket_org = Slot::Collected(org(ORG, &["r-ab12"], OWNER));
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    ev.bucket_org = Slot::missing(
        "not in the scenario",
        &["organizations:DescribeOrganization"],
    );
    let a = Analysis::new(req, ev);
    assert!(
        missing_kinds(&a).contains(&EvidenceKind::BucketOrganization),
        "{:?}",
        a.verdict
    );
}

#[test]
fn unread_identity_leaves_a_principal_tag_condition_open() {
    // A cross-account role session: the bucket policy grants by tag.
    let (req, mut ev) = world(Who::Session);
    ev.bucket.policy = bucket_policy_with(r#"{"StringEquals":{"aws:PrincipalTag/team":"red"}}"#);
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    ev.identity = Slot::missing("AccessDenied", &["iam:GetAccountAuthorizationDetails"]);
    let a = Analysis::new(req.clone(), ev.clone());
    let c = s3_check(&a);
    assert_eq!(c.outcome, CheckOutcome::Indeterminate);
    assert!(
        c.missing
            .iter()
            .any(|m| m.what.contains("aws:PrincipalTag"))
    );
    // A session tag is known whatever the role's tags are: refused for certain.
    let mut ev2 = ev.clone();
    ev2.bucket.policy =
        bucket_policy_with(r#"{"StringEquals":{"aws:PrincipalTag/project":"gemini"}}"#);
    let a = Analysis::new(req, ev2);
    assert_eq!(s3_check(&a).outcome, CheckOutcome::Denied);
    assert!(
        !s3_check(&a)
            .missing
            .iter()
            .any(|m| m.what.contains("aws:PrincipalTag"))
    );
}

#[test]
fn a_key_given_in_the_request_is_not_open() {
    let (mut req, mut ev) = world(Who::User);
    ev.bucket.policy =
        bucket_policy_with(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#);
    ev.caller_org = Slot::missing("AccessDenied", &["organizations:DescribeOrganization"]);
    req.context.insert(
        "aws:PrincipalOrgID".into(),
        ContextOverride {
            values: vec![ORG.into()],
            multi: false,
        },
    );
    let a = Analysis::new(req, ev);
    assert!(
        !s3_check(&a)
            .missing
            .iter()
            .any(|m| m.what.contains("aws:PrincipalOrgID"))
    );
}

#[test]
fn unread_bucket_owner_leaves_a_resource_account_condition_open() {
    let (req, mut ev) = world(Who::Anonymous);
    ev.bucket.policy =
        bucket_policy_with(r#"{"StringEquals":{"aws:ResourceAccount":"444455556666"}}"#);
    assert_eq!(
        Analysis::new(req.clone(), ev.clone()).verdict,
        Verdict::Allowed
    );
    ev.bucket.owner_account = Slot::missing("AccessDenied", &["s3:GetBucketAcl"]);
    let a = Analysis::new(req, ev);
    let c = s3_check(&a);
    assert_eq!(c.outcome, CheckOutcome::Indeterminate);
    assert!(
        c.missing
            .iter()
            .any(|m| m.kind == EvidenceKind::BucketOwner && m.what.contains("aws:ResourceAccount")),
        "{:?}",
        c.missing
    );
}
