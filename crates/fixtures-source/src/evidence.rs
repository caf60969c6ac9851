//! The `evidence` object of a scenario: reads every section into the [`Evidence`] slots and
//! decides what a missing section means (unavailable, or not applicable to this request).

use std::collections::BTreeMap;

use why403_core::PolicyKind;
use why403_core::evidence::{BucketEvidence, Evidence, Slot, Unavailable};
use why403_core::upload::UploadRequest;

use crate::bucket;
use crate::identity;
use crate::kms::{self, KmsSections};
use crate::org;
use crate::read::{Absence, Obj, R, Reader, Section, Val};
use crate::request::{self, Who};

/// The members of `evidence`, in the order the documentation lists them.
pub const EVIDENCE_SECTIONS: &[&str] = &[
    "caller_identity",
    "account_authorization_details",
    "session_policy",
    "bucket_policy",
    "bucket_acl",
    "bucket_encryption",
    "bucket_ownership_controls",
    "bucket_public_access_block",
    "account_public_access_block",
    "bucket_location",
    "bucket_owner",
    "bucket_request_payment",
    "access_point",
    "access_point_policy",
    "multi_region_access_point",
    "multi_region_access_point_policy",
    "kms_key",
    "kms_key_policy",
    "kms_grants",
    "organization",
    "bucket_organization",
    "organization_s3_policy",
    "vpc_endpoint",
    "canonical_ids",
];

const SESSION_UNREADABLE: &str = "session policies cannot be read from AWS; add `session_policy` or `{\"$absent\": \"none passed\"}`";
const OWNER_NEEDS: &[&str] = &["s3:GetBucketAcl", "s3:ListAllMyBuckets"];

/// Reads `request` and `evidence` together: the request's principal may come from the
/// caller identity, and what applies depends on the request.
pub(crate) fn read(
    r: &Reader<'_>,
    req_obj: &Obj<'_>,
    ev: Option<&Obj<'_>>,
) -> R<(UploadRequest, Evidence)> {
    if let Some(ev) = ev {
        ev.only(r, EVIDENCE_SECTIONS)?;
    }
    let sec = |key: &str, needs: &[&str]| -> R<Section<'_>> {
        match ev {
            Some(o) => Section::read(r, o, key, needs),
            None => Ok(Section::Missing),
        }
    };
    let get = |key: &str| ev.and_then(|o| o.opt(key));

    let (mut caller, arn) = identity::caller(r, sec("caller_identity", identity::CALLER_NEEDS)?)?;
    let (mut req, who) = request::read(r, req_obj, arn.as_ref())?;
    if matches!(who, Who::Anonymous) {
        caller = Slot::NotApplicable;
    }
    let id_section = sec("account_authorization_details", identity::IDENTITY_NEEDS)?;
    let identity = identity::identity(r, id_section, &who)?;
    let session_policy = session_policy(r, sec("session_policy", &[])?, &who)?;
    let access_point = crate::access_point::read(
        r,
        crate::access_point::Sections {
            ap: sec("access_point", crate::access_point::AP_NEEDS)?,
            policy: sec("access_point_policy", crate::access_point::POLICY_NEEDS)?,
            mrap: sec("multi_region_access_point", crate::access_point::MRAP_NEEDS)?,
            mrap_policy: sec(
                "multi_region_access_point_policy",
                crate::access_point::MRAP_POLICY_NEEDS,
            )?,
        },
        &mut req,
        &req_obj.val,
    )?;
    let directory = req.target.is_directory_bucket();

    let b = req.bucket.clone();
    let policy = sec("bucket_policy", &["s3:GetBucketPolicy"])?.slot(
        r,
        "bucket_policy",
        &["s3:GetBucketPolicy"],
        Absence::Allowed,
        |v| bucket::policy(r, v, &b),
    )?;
    let acl_section = sec("bucket_acl", &["s3:GetBucketAcl"])?;
    if directory && let Some(v) = acl_section.val() {
        return Err(v.err(
            r,
            "a directory bucket has no ACL (ACLs are disabled): leave `bucket_acl` out",
        ));
    }
    let acl = acl_section.slot(
        r,
        "bucket_acl",
        &["s3:GetBucketAcl"],
        Absence::Rejected("every bucket has an ACL"),
        |v| bucket::acl(r, v),
    )?;
    let encryption = sec("bucket_encryption", &["s3:GetEncryptionConfiguration"])?.slot(
        r,
        "bucket_encryption",
        &["s3:GetEncryptionConfiguration"],
        Absence::Allowed,
        |v| bucket::encryption(r, v),
    )?;
    let ownership = sec(
        "bucket_ownership_controls",
        &["s3:GetBucketOwnershipControls"],
    )?
    .slot(
        r,
        "bucket_ownership_controls",
        &["s3:GetBucketOwnershipControls"],
        Absence::Allowed,
        |v| bucket::ownership(r, v),
    )?;
    let public_access_block = sec(
        "bucket_public_access_block",
        &["s3:GetBucketPublicAccessBlock"],
    )?
    .slot(
        r,
        "bucket_public_access_block",
        &["s3:GetBucketPublicAccessBlock"],
        Absence::Allowed,
        |v| bucket::public_access_block(r, v),
    )?;
    let account_public_access_block = sec(
        "account_public_access_block",
        &["s3:GetAccountPublicAccessBlock"],
    )?
    .slot(
        r,
        "account_public_access_block",
        &["s3:GetAccountPublicAccessBlock"],
        Absence::Allowed,
        |v| bucket::public_access_block(r, v),
    )?;
    let location = sec("bucket_location", &["s3:GetBucketLocation"])?;
    let location_missing = location.is_missing();
    let mut region = location.slot(
        r,
        "bucket_location",
        &["s3:GetBucketLocation"],
        Absence::Rejected("every bucket has a Region"),
        |v| bucket::location(r, v),
    )?;
    if location_missing && let Some(reg) = &req.region {
        region = Slot::Collected(reg.clone());
    }
    let request_payer = sec("bucket_request_payment", &["s3:GetBucketRequestPayment"])?.slot(
        r,
        "bucket_request_payment",
        &["s3:GetBucketRequestPayment"],
        Absence::Rejected("every bucket has a payer (`BucketOwner` unless Requester Pays is on)"),
        |v| bucket::request_payment(r, v),
    )?;
    // A directory bucket has no ACL, always enforces bucket ownership, is never Requester
    // Pays and blocks all public access (S3 User Guide, Differences for directory buckets):
    // what a scenario leaves out of these is known.
    let (mut acl, mut ownership, mut request_payer, mut public_access_block) =
        (acl, ownership, request_payer, public_access_block);
    if directory {
        acl = Slot::NotApplicable;
        if ownership.unavailable().is_some() {
            ownership =
                Slot::Collected(why403_core::evidence::ObjectOwnership::BucketOwnerEnforced);
        }
        if request_payer.unavailable().is_some() {
            request_payer = Slot::Collected("BucketOwner".to_owned());
        }
        if public_access_block.unavailable().is_some() {
            public_access_block = Slot::Collected(why403_core::evidence::PublicAccessBlock::ALL_ON);
        }
    }
    let canonical_ids = match get("canonical_ids") {
        Some(v) => bucket::canonical_ids(r, &v)?,
        None => BTreeMap::new(),
    };
    let mut owner_account = owner_account(r, get("bucket_owner"), &acl, &canonical_ids)?;
    // A cross-account access point says which account owns its bucket.
    if let Some(ap) = access_point.get()
        && let Some(b) = &ap.bucket_account
    {
        match owner_account.get() {
            Some(o) if o != b => {
                let at = get("bucket_owner")
                    .or_else(|| get("access_point"))
                    .unwrap_or_else(|| req_obj.val.clone());
                return Err(at.err(
                    r,
                    format!("`{o}` contradicts the access point's `BucketAccountId` (`{b}`)"),
                ));
            }
            Some(_) => {}
            None => owner_account = Slot::Collected(b.clone()),
        }
    }

    let used = kms::key_use(&req, &encryption);
    let kms_key = kms::read(
        r,
        KmsSections {
            key: sec("kms_key", kms::KEY_NEEDS)?,
            policy: sec("kms_key_policy", kms::POLICY_NEEDS)?,
            grants: sec("kms_grants", kms::GRANTS_NEEDS)?,
        },
        &used,
    )?;

    let caller_account = who.account().map(str::to_owned);
    let org_section = sec("organization", org::ORG_NEEDS)?;
    let caller_org = match &caller_account {
        Some(a) => org::read(r, "organization", org_section, Some(a))?,
        None => {
            org::read(r, "organization", org_section, None)?;
            Slot::NotApplicable
        }
    };
    let bucket_org_section = sec("bucket_organization", org::ORG_NEEDS)?;
    let owner = owner_account.get().cloned();
    let bucket_org = match (&owner, &caller_account) {
        (Some(o), Some(c)) if o == c => {
            if let Some(v) = bucket_org_section.val() {
                return Err(v.err(
                    r,
                    format!("the bucket is in the caller's account `{o}`: its organization is `organization`; `bucket_organization` is only for a bucket in another account"),
                ));
            }
            Slot::NotApplicable
        }
        _ => org::read(
            r,
            "bucket_organization",
            bucket_org_section,
            owner.as_deref(),
        )?,
    };

    let owner_org = match (&owner, &caller_account) {
        (Some(o), Some(c)) if o == c => Some(&caller_org),
        (Some(_), _) => Some(&bucket_org),
        (None, _) => None,
    };
    let org_s3_policy = org::s3_policy(
        r,
        sec("organization_s3_policy", org::S3_POLICY_NEEDS)?,
        owner.as_deref(),
        owner_org,
    )?;

    let vpc_endpoint_policy = vpc_endpoint(
        r,
        sec("vpc_endpoint", &["ec2:DescribeVpcEndpoints"])?,
        &mut req,
    )?;

    let evidence = Evidence {
        caller,
        identity,
        session_policy,
        bucket: BucketEvidence {
            name: req.bucket.clone(),
            region,
            owner_account,
            policy,
            acl,
            encryption,
            ownership,
            public_access_block,
            request_payer,
        },
        access_point,
        account_public_access_block,
        org_s3_policy,
        kms_key,
        caller_org,
        bucket_org,
        vpc_endpoint_policy,
        canonical_ids,
    };
    Ok((req, evidence))
}

fn session_policy(r: &Reader<'_>, s: Section<'_>, who: &Who) -> R<Slot<why403_core::Policy>> {
    if !who.has_session() {
        if let Some(v) = s.val() {
            return Err(v.err(
                r,
                "only assumed-role and federated-user sessions carry a session policy; the caller has none",
            ));
        }
        return Ok(Slot::NotApplicable);
    }
    if s.is_missing() {
        return Ok(Slot::Unavailable(Unavailable {
            reason: SESSION_UNREADABLE.to_owned(),
            needs: Vec::new(),
        }));
    }
    s.slot(r, "session_policy", &[], Absence::Allowed, |v| {
        v.policy(r, "session policy", PolicyKind::Session)
    })
}

/// `bucket_owner`, else the account that `canonical_ids` gives for the ACL's owner.
fn owner_account(
    r: &Reader<'_>,
    given: Option<Val<'_>>,
    acl: &Slot<why403_core::evidence::Acl>,
    canonical: &BTreeMap<String, String>,
) -> R<Slot<String>> {
    let from_acl = acl
        .get()
        .and_then(|a| canonical.get(&a.owner_id.to_ascii_lowercase()));
    match (given, from_acl) {
        (Some(v), from_acl) => {
            let a = v.account(r)?;
            if let Some(m) = from_acl
                && m != a
            {
                return Err(v.err(r, format!("`{a}` contradicts `canonical_ids`, which maps the bucket ACL's owner to `{m}`")));
            }
            Ok(Slot::Collected(a.to_owned()))
        }
        (None, Some(m)) => Ok(Slot::Collected(m.clone())),
        (None, None) => Ok(Slot::Unavailable(Unavailable {
            reason: "the bucket owner's account is not in the scenario: add `bucket_owner`, or `canonical_ids` \
                     mapping the owner id of `bucket_acl` to its account"
                .to_owned(),
            needs: OWNER_NEEDS.iter().map(|s| (*s).to_owned()).collect(),
        })),
    }
}

/// `aws ec2 describe-vpc-endpoints`: the policy of the request's endpoint. Fills
/// `request.network.vpc` from the endpoint's `VpcId` when the request leaves it out.
fn vpc_endpoint(
    r: &Reader<'_>,
    s: Section<'_>,
    req: &mut UploadRequest,
) -> R<Slot<why403_core::Policy>> {
    let Some(vpce) = req.network.vpc_endpoint.clone() else {
        if let Some(v) = s.val() {
            return Err(v.err(
                r,
                "the request went through no VPC endpoint: set `/request/network/vpc_endpoint`",
            ));
        }
        return Ok(Slot::NotApplicable);
    };
    let mut vpc_id = None;
    let slot = s.slot(
        r,
        "vpc_endpoint",
        &["ec2:DescribeVpcEndpoints"],
        Absence::Allowed,
        |v| {
            let o = v.obj(r)?;
            o.only(r, &["VpcEndpoints", "NextToken"])?;
            let list = o.req(r, "VpcEndpoints")?;
            for e in list.arr(r)? {
                let e = e.obj(r)?;
                if e.str(r, "VpcEndpointId")? != vpce {
                    continue;
                }
                vpc_id = e
                    .opt("VpcId")
                    .map(|v| v.str(r).map(|s| (s.to_owned(), v.clone())))
                    .transpose()?;
                let doc = e.req(r, "PolicyDocument")?;
                return doc.policy(
                    r,
                    &format!("VPC endpoint policy of {vpce}"),
                    PolicyKind::VpcEndpoint,
                );
            }
            Err(list.err(
                r,
                format!("the request's endpoint `{vpce}` is not in `VpcEndpoints`"),
            ))
        },
    )?;
    if let Some((id, v)) = vpc_id {
        match &req.network.vpc {
            Some(given) if *given != id => {
                return Err(v.err(
                    r,
                    format!(
                        "endpoint `{vpce}` is in `{id}`, but `/request/network/vpc` is `{given}`"
                    ),
                ));
            }
            Some(_) => {}
            None => req.network.vpc = Some(id),
        }
    }
    Ok(slot)
}
