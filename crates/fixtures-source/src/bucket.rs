//! The bucket's sections: policy, ACL, default encryption, Object Ownership, Block Public
//! Access, Region and Requester Pays, each as the `aws s3api` / `aws s3control` output.

use std::collections::BTreeMap;

use why403_core::evidence::{
    Acl, AclGrant, AclPermission, Encryption, Grantee, ObjectOwnership, PublicAccessBlock,
};
use why403_core::{Policy, PolicyKind};

use crate::read::{Obj, R, Reader, Val};

/// Whether an object is a policy document itself rather than an API output wrapping one
/// (`{"Policy": "..."}`): pasting the document is accepted too.
pub(crate) fn is_document(v: &Val<'_>, r: &Reader<'_>) -> R<bool> {
    let o = v.obj(r)?;
    Ok(o.get("Statement").is_some() || o.get("Version").is_some())
}

/// `aws s3api get-bucket-policy` (`{"Policy": "<JSON string>"}`), or the document itself.
pub(crate) fn policy(r: &Reader<'_>, v: Val<'_>, bucket: &str) -> R<Policy> {
    let name = format!("bucket policy of {bucket}");
    if matches!(v.node.value, why403_core::json::Json::String(_)) || is_document(&v, r)? {
        return v.policy(r, &name, PolicyKind::Resource);
    }
    let o = v.obj(r)?;
    o.only(r, &["Policy"])?;
    o.req(r, "Policy")?.policy(r, &name, PolicyKind::Resource)
}

/// `aws s3api get-bucket-acl`.
pub(crate) fn acl(r: &Reader<'_>, v: Val<'_>) -> R<Acl> {
    let o = v.obj(r)?;
    o.only(r, &["Owner", "Grants"])?;
    let owner = o.req(r, "Owner")?.obj(r)?;
    let mut grants = Vec::new();
    for g in o.opt_arr(r, "Grants")? {
        let g = g.obj(r)?;
        let gv = g.req(r, "Grantee")?;
        let ge = gv.obj(r)?;
        let ty = match ge.opt_str(r, "Type")? {
            Some(t) => t,
            None if ge.opt("ID").is_some() => "CanonicalUser",
            None if ge.opt("URI").is_some() => "Group",
            None if ge.opt("EmailAddress").is_some() => "AmazonCustomerByEmail",
            None => return Err(gv.err(r, "missing required field `Type`")),
        };
        let grantee = match ty {
            "CanonicalUser" => Grantee::CanonicalUser {
                id: ge.req(r, "ID")?.nonempty(r)?.to_owned(),
                display_name: ge.opt_str(r, "DisplayName")?.map(str::to_owned),
            },
            "Group" => Grantee::Group {
                uri: ge.req(r, "URI")?.nonempty(r)?.to_owned(),
            },
            "AmazonCustomerByEmail" => Grantee::Email {
                address: ge.req(r, "EmailAddress")?.nonempty(r)?.to_owned(),
            },
            other => {
                let at = ge.get("Type").unwrap_or(gv.clone());
                return Err(at.err(
                    r,
                    format!("unknown grantee type `{other}`; expected `CanonicalUser`, `Group` or `AmazonCustomerByEmail`"),
                ));
            }
        };
        let pv = g.req(r, "Permission")?;
        let p = pv.str(r)?;
        let permission = AclPermission::parse(p).ok_or_else(|| {
            pv.err(r, format!("unknown permission `{p}`; expected `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP` or `FULL_CONTROL`"))
        })?;
        grants.push(AclGrant {
            grantee,
            permission,
        });
    }
    Ok(Acl {
        owner_id: owner.req(r, "ID")?.nonempty(r)?.to_owned(),
        owner_display_name: owner.opt_str(r, "DisplayName")?.map(str::to_owned),
        grants,
    })
}

/// The one element of a `Rules` array (S3 configurations have exactly one rule).
fn one_rule<'a>(r: &Reader<'_>, parent: &Val<'a>) -> R<Val<'a>> {
    let o = parent.obj(r)?;
    let rules = o.req(r, "Rules")?;
    let mut items = rules.arr(r)?;
    match items.len() {
        1 => Ok(items.remove(0)),
        0 => Err(rules.err(r, "expected one rule, found none")),
        n => Err(rules.err(
            r,
            format!("expected one rule, found {n} (S3 keeps a single rule)"),
        )),
    }
}

/// `aws s3api get-bucket-encryption`.
pub(crate) fn encryption(r: &Reader<'_>, v: Val<'_>) -> R<Encryption> {
    let o = v.obj(r)?;
    o.only(r, &["ServerSideEncryptionConfiguration"])?;
    let rule = one_rule(r, &o.req(r, "ServerSideEncryptionConfiguration")?)?.obj(r)?;
    let by_default = rule.req(r, "ApplyServerSideEncryptionByDefault")?.obj(r)?;
    let alg_v = by_default.req(r, "SSEAlgorithm")?;
    let algorithm = alg_v.str(r)?;
    if !matches!(algorithm, "AES256" | "aws:kms" | "aws:kms:dsse") {
        return Err(alg_v.err(
            r,
            format!(
                "unknown algorithm `{algorithm}`; expected `AES256`, `aws:kms` or `aws:kms:dsse`"
            ),
        ));
    }
    let kms_key_id = by_default
        .opt_str(r, "KMSMasterKeyID")?
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let blocked = match rule.opt_obj(r, "BlockedEncryptionTypes")? {
        Some(b) => b
            .opt("EncryptionType")
            .map(|t| t.strings(r))
            .transpose()?
            .unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(Encryption {
        algorithm: algorithm.to_owned(),
        kms_key_id,
        bucket_key_enabled: rule.opt_bool(r, "BucketKeyEnabled")?.unwrap_or(false),
        blocked_encryption_types: blocked,
    })
}

/// `aws s3api get-bucket-ownership-controls`.
pub(crate) fn ownership(r: &Reader<'_>, v: Val<'_>) -> R<ObjectOwnership> {
    let o = v.obj(r)?;
    o.only(r, &["OwnershipControls"])?;
    let rule = one_rule(r, &o.req(r, "OwnershipControls")?)?.obj(r)?;
    let ov = rule.req(r, "ObjectOwnership")?;
    Ok(match ov.str(r)? {
        "BucketOwnerEnforced" => ObjectOwnership::BucketOwnerEnforced,
        "BucketOwnerPreferred" => ObjectOwnership::BucketOwnerPreferred,
        "ObjectWriter" => ObjectOwnership::ObjectWriter,
        other => {
            return Err(ov.err(
                r,
                format!("unknown Object Ownership `{other}`; expected `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`"),
            ));
        }
    })
}

/// `aws s3api get-public-access-block` or `aws s3control get-public-access-block`; a
/// setting left out is off, as in AWS's API.
pub(crate) fn public_access_block(r: &Reader<'_>, v: Val<'_>) -> R<PublicAccessBlock> {
    let o = v.obj(r)?;
    o.only(r, &["PublicAccessBlockConfiguration"])?;
    pab_settings(r, &o.req(r, "PublicAccessBlockConfiguration")?.obj(r)?)
}

/// The four settings of a Block Public Access configuration object (of a bucket, an account,
/// an access point or a Multi-Region Access Point); a setting left out is off.
pub(crate) fn pab_settings(r: &Reader<'_>, c: &Obj<'_>) -> R<PublicAccessBlock> {
    let flag = |k: &str| -> R<bool> { Ok(c.opt_bool(r, k)?.unwrap_or(false)) };
    Ok(PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls")?,
        ignore_public_acls: flag("IgnorePublicAcls")?,
        block_public_policy: flag("BlockPublicPolicy")?,
        restrict_public_buckets: flag("RestrictPublicBuckets")?,
    })
}

/// `aws s3api get-bucket-location`: `null` (or empty) is us-east-1, the legacy `EU` is
/// eu-west-1.
pub(crate) fn location(r: &Reader<'_>, v: Val<'_>) -> R<String> {
    let o = v.obj(r)?;
    o.only(r, &["LocationConstraint"])?;
    let Some(lc) = o.get("LocationConstraint") else {
        return Err(o.err(
            r,
            "missing required field `LocationConstraint` (`null` for us-east-1)",
        ));
    };
    if lc.is_null() {
        return Ok("us-east-1".to_owned());
    }
    Ok(match lc.str(r)? {
        "" => "us-east-1".to_owned(),
        "EU" => "eu-west-1".to_owned(),
        other => other.to_owned(),
    })
}

/// `aws s3api get-bucket-request-payment`.
pub(crate) fn request_payment(r: &Reader<'_>, v: Val<'_>) -> R<String> {
    let o = v.obj(r)?;
    o.only(r, &["Payer"])?;
    let pv = o.req(r, "Payer")?;
    match pv.str(r)? {
        p @ ("BucketOwner" | "Requester") => Ok(p.to_owned()),
        other => Err(pv.err(
            r,
            format!("unknown payer `{other}`; expected `BucketOwner` or `Requester`"),
        )),
    }
}

/// `canonical_ids`: S3 canonical user id -> account id.
pub(crate) fn canonical_ids(r: &Reader<'_>, v: &Val<'_>) -> R<BTreeMap<String, String>> {
    let o = v.obj(r)?;
    let mut out = BTreeMap::new();
    for (id, account) in o.members() {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(account.err(r, format!("`{id}` is not a canonical user id (hex digits)")));
        }
        out.insert(id.to_ascii_lowercase(), account.account(r)?.to_owned());
    }
    Ok(out)
}
