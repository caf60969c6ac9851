//! The bucket's reads: its Region (`HeadBucket`, whose `x-amz-bucket-region` header comes back
//! even on a 403), then, in the bucket's Region and all at once, its policy, ACL, default
//! encryption, Object Ownership, Block Public Access and Requester Pays; the account-level
//! Block Public Access (`s3control`); and the credentials' own canonical id (`ListBuckets`),
//! which tells whether the bucket is in their account.

use why403_core::evidence::{
    Acl, AclGrant, AclPermission, Encryption, Grantee, ObjectOwnership, PublicAccessBlock,
};
use why403_core::{Policy, PolicyKind};

use crate::CollectError;
use crate::call::{Api, CallOutcome, Failure, Read, Tracker, classify, header_of, status_of};
use crate::config::Clients;

pub(crate) const HEAD_BUCKET: Api = Api::new("s3", "HeadBucket", "s3:ListBucket");
const GET_LOCATION: Api = Api::new("s3", "GetBucketLocation", "s3:GetBucketLocation");
const LIST_BUCKETS: Api = Api::new("s3", "ListBuckets", "s3:ListAllMyBuckets");
pub(crate) const GET_POLICY: Api = Api::new("s3", "GetBucketPolicy", "s3:GetBucketPolicy");
const GET_ACL: Api = Api::new("s3", "GetBucketAcl", "s3:GetBucketAcl");
const GET_ENCRYPTION: Api = Api::new("s3", "GetBucketEncryption", "s3:GetEncryptionConfiguration");
const GET_OWNERSHIP: Api = Api::new(
    "s3",
    "GetBucketOwnershipControls",
    "s3:GetBucketOwnershipControls",
);
const GET_PAB: Api = Api::new(
    "s3",
    "GetPublicAccessBlock",
    "s3:GetBucketPublicAccessBlock",
);
const GET_PAYMENT: Api = Api::new(
    "s3",
    "GetBucketRequestPayment",
    "s3:GetBucketRequestPayment",
);
const GET_ACCOUNT_PAB: Api = Api::new(
    "s3control",
    "GetPublicAccessBlock",
    "s3:GetAccountPublicAccessBlock",
);

const NO_PAB: &str = "NoSuchPublicAccessBlockConfiguration";

/// The bucket's Region: `HeadBucket`'s `x-amz-bucket-region`, else `GetBucketLocation`.
/// A bucket that does not exist ends the collection.
pub(crate) async fn region(
    tr: &Tracker<'_>,
    c: &Clients,
    bucket: &str,
    round: u32,
) -> Result<Read<String>, CollectError> {
    let s3 = &c.s3;
    let api = HEAD_BUCKET;
    tr.progress(&api.name());
    let start = std::time::Instant::now();
    let res = s3.head_bucket().bucket(bucket).send().await;
    let (outcome, found) = match &res {
        Ok(out) => (CallOutcome::Ok, out.bucket_region().map(str::to_owned)),
        Err(e) => {
            let f = classify(api, &[], e);
            let header = header_of(e, "x-amz-bucket-region").map(str::to_owned);
            (f.outcome, header)
        }
    };
    tr.record_call(api, round, outcome, start.elapsed());
    if let Err(e) = &res
        && status_of(e) == Some(404)
    {
        return Err(CollectError::NoSuchBucket {
            bucket: bucket.to_owned(),
        });
    }
    if let Some(r) = found.filter(|r| !r.is_empty()) {
        return Ok(Ok(r));
    }
    let head_failure = res.err().map(|e| classify(api, &[], &e));
    let loc = tr
        .call(
            round + 1,
            GET_LOCATION,
            &[],
            s3.get_bucket_location().bucket(bucket).send(),
        )
        .await;
    Ok(match loc {
        Ok(out) => Ok(match out.location_constraint().map(|l| l.as_str()) {
            None | Some("") => "us-east-1".to_owned(),
            Some("EU") => "eu-west-1".to_owned(),
            Some(other) => other.to_owned(),
        }),
        Err(mut f) => {
            if let Some(h) = head_failure {
                f.reason = format!("{}; {}", h.reason, f.reason);
            }
            Err(f)
        }
    })
}

/// The canonical user id of the credentials' account (`ListBuckets` prints it as `Owner.ID`).
pub(crate) async fn own_canonical_id(tr: &Tracker<'_>, c: &Clients, round: u32) -> Read<String> {
    let s3 = &c.s3;
    let out = tr
        .call(
            round,
            LIST_BUCKETS,
            &[],
            s3.list_buckets().max_buckets(1).send(),
        )
        .await?;
    out.owner()
        .and_then(|o| o.id())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| Failure::invalid(LIST_BUCKETS, "no `Owner.ID`"))
}

/// The bucket's configuration reads.
#[derive(Debug, Clone)]
pub(crate) struct BucketReads {
    pub policy: Read<Policy>,
    pub acl: Read<Acl>,
    pub encryption: Read<Encryption>,
    pub ownership: Read<ObjectOwnership>,
    pub public_access_block: Read<PublicAccessBlock>,
    pub request_payer: Read<String>,
}

/// Every configuration read of the bucket, at once, in its Region.
pub(crate) async fn read(
    tr: &Tracker<'_>,
    c: &Clients,
    bucket: &str,
    region: Option<&str>,
    round: u32,
) -> BucketReads {
    let s3 = match region {
        Some(r) => c.s3_in(r),
        None => c.s3.clone(),
    };
    let s3 = &s3;
    let (policy, acl, encryption, ownership, public_access_block, request_payer) = tokio::join!(
        async {
            let out = tr
                .call(
                    round,
                    GET_POLICY,
                    &["NoSuchBucketPolicy"],
                    s3.get_bucket_policy().bucket(bucket).send(),
                )
                .await
                .map_err(|mut f| {
                    if f.code.as_deref() == Some("MethodNotAllowed") {
                        f.reason.push_str(
                            "; only identities of the bucket owner's account can read a bucket policy",
                        );
                    }
                    f
                })?;
            let text = out.policy().unwrap_or_default();
            Policy::parse(
                &format!("bucket policy of {bucket}"),
                PolicyKind::Resource,
                text,
            )
            .map_err(|e| Failure::invalid(GET_POLICY, format!("a policy that does not parse: {e}")))
        },
        async {
            let out = tr
                .call(
                    round,
                    GET_ACL,
                    &[],
                    s3.get_bucket_acl().bucket(bucket).send(),
                )
                .await?;
            acl(&out)
        },
        async {
            let out = tr
                .call(
                    round,
                    GET_ENCRYPTION,
                    &["ServerSideEncryptionConfigurationNotFoundError"],
                    s3.get_bucket_encryption().bucket(bucket).send(),
                )
                .await?;
            encryption(&out)
        },
        async {
            let out = tr
                .call(
                    round,
                    GET_OWNERSHIP,
                    &["OwnershipControlsNotFoundError"],
                    s3.get_bucket_ownership_controls().bucket(bucket).send(),
                )
                .await?;
            ownership(&out)
        },
        async {
            let out = tr
                .call(
                    round,
                    GET_PAB,
                    &[NO_PAB],
                    s3.get_public_access_block().bucket(bucket).send(),
                )
                .await?;
            Ok(pab_s3(out.public_access_block_configuration()))
        },
        async {
            let out = tr
                .call(
                    round,
                    GET_PAYMENT,
                    &[],
                    s3.get_bucket_request_payment().bucket(bucket).send(),
                )
                .await?;
            match out.payer().map(|p| p.as_str()) {
                Some(p @ ("BucketOwner" | "Requester")) => Ok(p.to_owned()),
                Some(other) => Err(Failure::invalid(
                    GET_PAYMENT,
                    format!("an unknown payer `{other}`"),
                )),
                None => Ok("BucketOwner".to_owned()),
            }
        },
    );
    BucketReads {
        policy,
        acl,
        encryption,
        ownership,
        public_access_block,
        request_payer,
    }
}

/// The account-level Block Public Access of `account` (readable only with its credentials).
pub(crate) async fn account_public_access_block(
    tr: &Tracker<'_>,
    c: &Clients,
    account: &str,
    round: u32,
) -> Read<PublicAccessBlock> {
    let s3c = &c.s3control;
    let out = tr
        .call(
            round,
            GET_ACCOUNT_PAB,
            &[NO_PAB],
            s3c.get_public_access_block().account_id(account).send(),
        )
        .await?;
    let conf = out.public_access_block_configuration();
    Ok(PublicAccessBlock {
        block_public_acls: conf.and_then(|c| c.block_public_acls()).unwrap_or(false),
        ignore_public_acls: conf.and_then(|c| c.ignore_public_acls()).unwrap_or(false),
        block_public_policy: conf.and_then(|c| c.block_public_policy()).unwrap_or(false),
        restrict_public_buckets: conf
            .and_then(|c| c.restrict_public_buckets())
            .unwrap_or(false),
    })
}

fn acl(out: &aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput) -> Read<Acl> {
    use aws_sdk_s3::types::Type;
    let Some(owner_id) = out.owner().and_then(|o| o.id()).filter(|i| !i.is_empty()) else {
        return Err(Failure::invalid(GET_ACL, "an ACL without `Owner.ID`"));
    };
    let mut grants = Vec::new();
    for g in out.grants() {
        let (Some(ge), Some(perm)) = (g.grantee(), g.permission()) else {
            continue;
        };
        let Some(permission) = AclPermission::parse(perm.as_str()) else {
            return Err(Failure::invalid(
                GET_ACL,
                format!("an unknown permission `{}`", perm.as_str()),
            ));
        };
        let missing =
            |field: &str| Failure::invalid(GET_ACL, format!("a grantee without `{field}`"));
        let grantee = match ge.r#type() {
            Type::CanonicalUser => Grantee::CanonicalUser {
                id: ge.id().ok_or_else(|| missing("ID"))?.to_owned(),
                display_name: ge.display_name().map(str::to_owned),
            },
            Type::Group => Grantee::Group {
                uri: ge.uri().ok_or_else(|| missing("URI"))?.to_owned(),
            },
            Type::AmazonCustomerByEmail => Grantee::Email {
                address: ge
                    .email_address()
                    .ok_or_else(|| missing("EmailAddress"))?
                    .to_owned(),
            },
            other => {
                return Err(Failure::invalid(
                    GET_ACL,
                    format!("an unknown grantee type `{}`", other.as_str()),
                ));
            }
        };
        grants.push(AclGrant {
            grantee,
            permission,
        });
    }
    Ok(Acl {
        owner_id: owner_id.to_owned(),
        owner_display_name: out
            .owner()
            .and_then(|o| o.display_name())
            .map(str::to_owned),
        grants,
    })
}

fn encryption(
    out: &aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput,
) -> Read<Encryption> {
    let rule = out
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first());
    let Some(rule) = rule else {
        return Err(Failure {
            outcome: CallOutcome::Absent,
            code: None,
            reason: "s3:GetBucketEncryption returned no rule".to_owned(),
            action: GET_ENCRYPTION.action,
        });
    };
    let Some(by_default) = rule.apply_server_side_encryption_by_default() else {
        return Err(Failure::invalid(
            GET_ENCRYPTION,
            "a rule without `ApplyServerSideEncryptionByDefault`",
        ));
    };
    Ok(Encryption {
        algorithm: by_default.sse_algorithm().as_str().to_owned(),
        kms_key_id: by_default
            .kms_master_key_id()
            .filter(|k| !k.is_empty())
            .map(str::to_owned),
        bucket_key_enabled: rule.bucket_key_enabled().unwrap_or(false),
        blocked_encryption_types: rule
            .blocked_encryption_types()
            .map(|b| {
                b.encryption_type()
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn ownership(
    out: &aws_sdk_s3::operation::get_bucket_ownership_controls::GetBucketOwnershipControlsOutput,
) -> Read<ObjectOwnership> {
    use aws_sdk_s3::types::ObjectOwnership as O;
    let rule = out.ownership_controls().and_then(|c| c.rules().first());
    match rule.map(|r| r.object_ownership()) {
        Some(O::BucketOwnerEnforced) => Ok(ObjectOwnership::BucketOwnerEnforced),
        Some(O::BucketOwnerPreferred) => Ok(ObjectOwnership::BucketOwnerPreferred),
        Some(O::ObjectWriter) => Ok(ObjectOwnership::ObjectWriter),
        Some(other) => Err(Failure::invalid(
            GET_OWNERSHIP,
            format!("an unknown Object Ownership `{}`", other.as_str()),
        )),
        None => Err(Failure::invalid(GET_OWNERSHIP, "no ownership rule")),
    }
}

fn pab_s3(conf: Option<&aws_sdk_s3::types::PublicAccessBlockConfiguration>) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: conf.and_then(|c| c.block_public_acls()).unwrap_or(false),
        ignore_public_acls: conf.and_then(|c| c.ignore_public_acls()).unwrap_or(false),
        block_public_policy: conf.and_then(|c| c.block_public_policy()).unwrap_or(false),
        restrict_public_buckets: conf
            .and_then(|c| c.restrict_public_buckets())
            .unwrap_or(false),
    }
}
