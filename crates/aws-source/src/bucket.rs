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
/// A directory bucket's policy: the same call, allowed by its own IAM action (S3 API reference,
/// `GetBucketPolicy`, Directory bucket permissions).
pub(crate) const GET_DIRECTORY_POLICY: Api =
    Api::new("s3", "GetBucketPolicy", "s3express:GetBucketPolicy");
const GET_DIRECTORY_ENCRYPTION: Api = Api::new(
    "s3",
    "GetBucketEncryption",
    "s3express:GetEncryptionConfiguration",
);
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
    /// A directory bucket's (see [`read_directory`]).
    pub directory: bool,
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
        policy(tr, s3, bucket, GET_POLICY, round),
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
        default_encryption(tr, s3, bucket, GET_ENCRYPTION, round),
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
        directory: false,
    }
}

impl BucketReads {
    /// A bucket that is unknown (`u` says why): none of its reads can be made.
    pub(crate) fn unknown(u: &why403_core::evidence::Unavailable) -> BucketReads {
        let f = |api: Api| Failure {
            outcome: CallOutcome::Failed,
            code: None,
            reason: u.reason.clone(),
            action: api.action,
        };
        BucketReads {
            policy: Err(f(GET_POLICY)),
            acl: Err(f(GET_ACL)),
            encryption: Err(f(GET_ENCRYPTION)),
            ownership: Err(f(GET_OWNERSHIP)),
            public_access_block: Err(f(GET_PAB)),
            request_payer: Err(f(GET_PAYMENT)),
            directory: false,
        }
    }
}

/// A directory bucket's Region, from the Availability Zone or Local Zone id in its name
/// (`<base>--<zone-id>--x-s3`): a zone id starts with its Region's code (`usw2-az1`,
/// `use1-atl2-az1`). `HeadBucket` is not used: on a directory bucket it is a zonal endpoint
/// operation, which the SDK authorizes by first calling `CreateSession`. A zone id whose
/// Region code is not in the table leaves the Region unknown; the reads then go to the
/// Region the credentials were configured with (`--region`).
pub(crate) fn directory_region(bucket: &str, c: &Clients) -> Read<String> {
    const CODES: &[(&str, &str)] = &[
        ("use1", "us-east-1"),
        ("use2", "us-east-2"),
        ("usw1", "us-west-1"),
        ("usw2", "us-west-2"),
        ("cac1", "ca-central-1"),
        ("sae1", "sa-east-1"),
        ("euw1", "eu-west-1"),
        ("euw2", "eu-west-2"),
        ("euw3", "eu-west-3"),
        ("euc1", "eu-central-1"),
        ("eun1", "eu-north-1"),
        ("aps1", "ap-south-1"),
        ("apse1", "ap-southeast-1"),
        ("apse2", "ap-southeast-2"),
        ("apne1", "ap-northeast-1"),
        ("apne2", "ap-northeast-2"),
        ("apne3", "ap-northeast-3"),
    ];
    let zone = bucket
        .strip_suffix("--x-s3")
        .and_then(|r| r.rsplit_once("--"))
        .map_or("", |(_, z)| z);
    let code = zone.split('-').next().unwrap_or_default();
    if let Some((_, region)) = CODES.iter().find(|(c, _)| *c == code) {
        return Ok((*region).to_owned());
    }
    let configured =
        c.s3.config()
            .region()
            .map_or_else(|| "the default Region".to_owned(), |r| format!("`{r}`"));
    Err(Failure {
        outcome: CallOutcome::Failed,
        code: None,
        reason: format!(
            "the Region of directory bucket `{bucket}` comes from its zone id `{zone}`, whose \
             Region code why403 does not know; its policy and encryption were read in \
             {configured} (pass --region with the bucket's Region)"
        ),
        action: GET_DIRECTORY_POLICY.action,
    })
}

/// The reads of a directory bucket: its policy and default encryption, through the Region's
/// `s3express-control` endpoint, which the SDK picks for a `--x-s3` name (and signs for
/// `s3express`; no `CreateSession`). The rest is fixed for every directory bucket (S3 User
/// Guide, Differences for directory buckets): no ACL (kept here as a failure the evidence
/// never shows: its slot is not applicable), Object Ownership bucket owner enforced, all four
/// Block Public Access settings on, no Requester Pays.
pub(crate) async fn read_directory(
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
    let (policy, encryption) = tokio::join!(
        policy(tr, &s3, bucket, GET_DIRECTORY_POLICY, round),
        default_encryption(tr, &s3, bucket, GET_DIRECTORY_ENCRYPTION, round),
    );
    BucketReads {
        policy,
        acl: Err(Failure {
            outcome: CallOutcome::Absent,
            code: None,
            reason: "a directory bucket has no ACL (ACLs are disabled)".to_owned(),
            action: GET_ACL.action,
        }),
        encryption,
        ownership: Ok(ObjectOwnership::BucketOwnerEnforced),
        public_access_block: Ok(PublicAccessBlock::ALL_ON),
        request_payer: Ok("BucketOwner".to_owned()),
        directory: true,
    }
}

/// The bucket's policy (`GetBucketPolicy`, as `api` names it).
async fn policy(
    tr: &Tracker<'_>,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    api: Api,
    round: u32,
) -> Read<Policy> {
    let out = tr
        .call(
            round,
            api,
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
    .map_err(|e| Failure::invalid(api, format!("a policy that does not parse: {e}")))
}

/// The bucket's default encryption (`GetBucketEncryption`, as `api` names it).
async fn default_encryption(
    tr: &Tracker<'_>,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    api: Api,
    round: u32,
) -> Read<Encryption> {
    let out = tr
        .call(
            round,
            api,
            &["ServerSideEncryptionConfigurationNotFoundError"],
            s3.get_bucket_encryption().bucket(bucket).send(),
        )
        .await?;
    encryption(&out, api)
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
    Ok(pab_s3control(out.public_access_block_configuration()))
}

/// Block Public Access settings as `s3control` answers them (an account's, an access point's,
/// a Multi-Region Access Point's); a setting left out is off.
pub(crate) fn pab_s3control(
    conf: Option<&aws_sdk_s3control::types::PublicAccessBlockConfiguration>,
) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: conf.and_then(|c| c.block_public_acls()).unwrap_or(false),
        ignore_public_acls: conf.and_then(|c| c.ignore_public_acls()).unwrap_or(false),
        block_public_policy: conf.and_then(|c| c.block_public_policy()).unwrap_or(false),
        restrict_public_buckets: conf
            .and_then(|c| c.restrict_public_buckets())
            .unwrap_or(false),
    }
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
    api: Api,
) -> Read<Encryption> {
    let rule = out
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first());
    let Some(rule) = rule else {
        return Err(Failure {
            outcome: CallOutcome::Absent,
            code: None,
            reason: format!("{} returned no rule", api.name()),
            action: api.action,
        });
    };
    let Some(by_default) = rule.apply_server_side_encryption_by_default() else {
        return Err(Failure::invalid(
            api,
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
