//! The access point sections: `aws s3control get-access-point` and
//! `aws s3control get-access-point-policy`.

use why403_core::PolicyKind;
use why403_core::evidence::{AccessPoint, NetworkOrigin, Slot};
use why403_core::upload::{AccessPointRef, Target, UploadRequest};

use crate::read::{Absence, R, Reader, Section, Val};

/// The IAM action that reads the access point.
pub(crate) const AP_NEEDS: &[&str] = &["s3:GetAccessPoint"];
/// The IAM action that reads its policy.
pub(crate) const POLICY_NEEDS: &[&str] = &["s3:GetAccessPointPolicy"];
/// The IAM action that reads a Multi-Region Access Point.
pub(crate) const MRAP_NEEDS: &[&str] = &["s3:GetMultiRegionAccessPoint"];
/// The IAM action that reads its policy.
pub(crate) const MRAP_POLICY_NEEDS: &[&str] = &["s3:GetMultiRegionAccessPointPolicy"];

/// The four sections an access point or a Multi-Region Access Point is read from.
pub(crate) struct Sections<'a> {
    pub ap: Section<'a>,
    pub policy: Section<'a>,
    pub mrap: Section<'a>,
    pub mrap_policy: Section<'a>,
}

/// Reads both sections into the access point slot (`NotApplicable` when the request names
/// the bucket). Fills the request's bucket from `Bucket` when the request leaves it out, and
/// checks that what the request names is this access point.
pub(crate) fn read(
    r: &Reader<'_>,
    s: Sections<'_>,
    req: &mut UploadRequest,
    request_at: &Val<'_>,
) -> R<Slot<AccessPoint>> {
    let refuse = |sections: [&Section<'_>; 2], why: &str| -> R<()> {
        for sec in sections {
            if let Some(v) = sec.val() {
                return Err(v.err(r, why));
            }
        }
        Ok(())
    };
    let named = match req.target.clone() {
        Target::AccessPoint(named) => {
            refuse(
                [&s.mrap, &s.mrap_policy],
                "the request names a single-Region access point: use `access_point` and `access_point_policy`",
            )?;
            named
        }
        Target::MultiRegionAccessPoint { account, alias } => {
            refuse(
                [&s.ap, &s.policy],
                "the request names a Multi-Region Access Point: use `multi_region_access_point` and `multi_region_access_point_policy`",
            )?;
            return multi_region(r, s.mrap, s.mrap_policy, req, &account, &alias);
        }
        Target::Bucket | Target::DirectoryBucket => {
            let why = "the request goes through no access point: set `/request/access_point`";
            refuse([&s.ap, &s.policy], why)?;
            refuse([&s.mrap, &s.mrap_policy], why)?;
            return Ok(Slot::NotApplicable);
        }
    };
    let (ap, policy) = (s.ap, s.policy);
    let mut slot = ap.slot(
        r,
        "access_point",
        AP_NEEDS,
        Absence::Rejected(
            "the request names the access point, so it exists (S3 would answer `NoSuchAccessPoint`, not 403)",
        ),
        |v| access_point(r, &v, &named, req),
    )?;
    match &mut slot {
        Slot::Collected(a) => {
            a.policy = policy.slot(
                r,
                "access_point_policy",
                POLICY_NEEDS,
                Absence::Allowed,
                |v| policy_of(r, v, &a.name),
            )?;
        }
        _ => {
            if let Some(v) = policy.val() {
                return Err(v.err(
                    r,
                    "`access_point_policy` needs `access_point` (`aws s3control get-access-point`), which says which bucket and account it belongs to",
                ));
            }
        }
    }
    if req.bucket.is_empty() {
        return Err(request_at.err(
            r,
            "missing required field `bucket`: give it, or the access point's evidence (`/evidence/access_point`, whose `Bucket` names it)",
        ));
    }
    Ok(slot)
}

/// `aws s3control get-multi-region-access-point` and `get-multi-region-access-point-policy`
/// (whose `Established` policy is the one in force). The request's `bucket` is the bucket the
/// request was routed to, which must be one of the access point's `Regions`.
fn multi_region(
    r: &Reader<'_>,
    mrap: Section<'_>,
    policy: Section<'_>,
    req: &UploadRequest,
    account: &str,
    alias: &str,
) -> R<Slot<AccessPoint>> {
    let mut slot = mrap.slot(
        r,
        "multi_region_access_point",
        MRAP_NEEDS,
        Absence::Rejected("the request names the Multi-Region Access Point, so it exists"),
        |v| {
            let o = v.obj(r)?;
            o.only(r, &["AccessPoint"])?;
            let a = o.req(r, "AccessPoint")?.obj(r)?;
            a.only(
                r,
                &["Name", "Alias", "CreatedAt", "PublicAccessBlock", "Status", "Regions"],
            )?;
            let name = a.req(r, "Name")?.nonempty(r)?.to_owned();
            let alias_v = a.req(r, "Alias")?;
            if alias_v.str(r)? != alias {
                return Err(alias_v.err(
                    r,
                    format!(
                        "the Multi-Region Access Point's alias is `{}`, but the request names `{alias}`",
                        alias_v.str(r)?
                    ),
                ));
            }
            let public_access_block = match a.opt_obj(r, "PublicAccessBlock")? {
                Some(c) => {
                    crate::bucket::pab_settings(r, &c)?
                }
                None => {
                    return Err(a.err(
                        r,
                        "missing required field `PublicAccessBlock` (`get-multi-region-access-point` always returns it)",
                    ));
                }
            };
            let regions = a.req(r, "Regions")?;
            let mut bucket_account = None;
            let mut found = false;
            for reg in regions.arr(r)? {
                let reg = reg.obj(r)?;
                reg.only(r, &["Bucket", "Region", "BucketAccountId"])?;
                if reg.str(r, "Bucket")? == req.bucket {
                    found = true;
                    bucket_account = match reg.opt("BucketAccountId") {
                        Some(b) => Some(b.account(r)?.to_owned()),
                        None => None,
                    };
                }
            }
            if !found {
                return Err(regions.err(
                    r,
                    format!(
                        "`{}` (`/request/bucket`, the bucket the request was routed to) is not one of the Multi-Region Access Point's buckets",
                        req.bucket
                    ),
                ));
            }
            Ok(AccessPoint {
                name,
                arn: format!("arn:aws:s3::{account}:accesspoint/{alias}"),
                alias: Some(alias.to_owned()),
                account: account.to_owned(),
                bucket: req.bucket.clone(),
                bucket_account,
                network_origin: NetworkOrigin::Internet,
                public_access_block,
                policy: Slot::Absent,
                multi_region: true,
            })
        },
    )?;
    match &mut slot {
        Slot::Collected(a) => {
            a.policy = policy.slot(
                r,
                "multi_region_access_point_policy",
                MRAP_POLICY_NEEDS,
                Absence::Allowed,
                |v| {
                    let o = v.obj(r)?;
                    o.only(r, &["Policy"])?;
                    let p = o.req(r, "Policy")?.obj(r)?;
                    p.only(r, &["Established", "Proposed"])?;
                    let e = p.req(r, "Established")?.obj(r)?;
                    e.only(r, &["Policy"])?;
                    e.req(r, "Policy")?.policy(
                        r,
                        &format!("Multi-Region Access Point policy of {}", a.name),
                        PolicyKind::Resource,
                    )
                },
            )?;
        }
        _ => {
            if let Some(v) = policy.val() {
                return Err(v.err(
                    r,
                    "`multi_region_access_point_policy` needs `multi_region_access_point`",
                ));
            }
        }
    }
    Ok(slot)
}

/// `aws s3control get-access-point`.
fn access_point(
    r: &Reader<'_>,
    v: &Val<'_>,
    named: &AccessPointRef,
    req: &mut UploadRequest,
) -> R<AccessPoint> {
    let o = v.obj(r)?;
    o.only(
        r,
        &[
            "Name",
            "Bucket",
            "NetworkOrigin",
            "VpcConfiguration",
            "PublicAccessBlockConfiguration",
            "CreationDate",
            "Alias",
            "AccessPointArn",
            "Endpoints",
            "BucketAccountId",
        ],
    )?;
    let name_v = o.req(r, "Name")?;
    let name = name_v.nonempty(r)?.to_owned();
    let alias = o.opt_str(r, "Alias")?.map(str::to_owned);
    let arn_v = o.opt("AccessPointArn");
    let arn = match (&arn_v, named) {
        (Some(a), AccessPointRef::Arn { arn, .. }) => {
            let given = a.nonempty(r)?;
            if given != arn {
                return Err(a.err(
                    r,
                    format!("`{given}` is not the access point the request names (`{arn}`)"),
                ));
            }
            given.to_owned()
        }
        (Some(a), AccessPointRef::Alias(_)) => a.nonempty(r)?.to_owned(),
        (None, AccessPointRef::Arn { arn, .. }) => arn.clone(),
        (None, AccessPointRef::Alias(al)) => {
            return Err(o.err(
                r,
                format!("missing required field `AccessPointArn`: the request names the access point by its alias `{al}`, which gives neither its account nor its Region"),
            ));
        }
    };
    // arn:partition:s3:region:account:accesspoint/name
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let at = || arn_v.clone().unwrap_or_else(|| v.clone());
    let (account, arn_name) = match parts.as_slice() {
        ["arn", _, "s3", region, account, res]
            if !region.is_empty() && crate::read::is_account(account) =>
        {
            match res.strip_prefix("accesspoint/") {
                Some(n) if !n.is_empty() && !n.contains('/') => ((*account).to_owned(), n),
                _ => {
                    return Err(at().err(
                        r,
                        format!("`{arn}` is not an access point ARN (`arn:aws:s3:<region>:<account>:accesspoint/<name>`)"),
                    ));
                }
            }
        }
        _ => {
            return Err(at().err(
                r,
                format!("`{arn}` is not an access point ARN (`arn:aws:s3:<region>:<account>:accesspoint/<name>`)"),
            ));
        }
    };
    if arn_name != name {
        return Err(name_v.err(
            r,
            format!("the access point's `Name` is `{name}` but its ARN names `{arn_name}`"),
        ));
    }
    if let AccessPointRef::Alias(al) = named
        && let Some(a) = &alias
        && a != al
    {
        let at = o.get("Alias").unwrap_or_else(|| v.clone());
        return Err(at.err(
            r,
            format!("the access point's alias is `{a}`, but the request names `{al}`"),
        ));
    }
    let bucket_v = o.req(r, "Bucket")?;
    let bucket = bucket_v.nonempty(r)?.to_owned();
    if req.bucket.is_empty() {
        req.bucket = bucket.clone();
    } else if req.bucket != bucket {
        return Err(bucket_v.err(
            r,
            format!(
                "the access point is attached to `{bucket}`, but `/request/bucket` is `{}`",
                req.bucket
            ),
        ));
    }
    let origin_v = o.req(r, "NetworkOrigin")?;
    let vpc = match o.opt_obj(r, "VpcConfiguration")? {
        Some(c) => {
            c.only(r, &["VpcId"])?;
            Some(c.req(r, "VpcId")?)
        }
        None => None,
    };
    let network_origin = match origin_v.str(r)? {
        "Internet" => {
            if let Some(v) = vpc {
                return Err(v.err(
                    r,
                    "an access point with network origin `Internet` has no `VpcConfiguration`",
                ));
            }
            NetworkOrigin::Internet
        }
        "VPC" => match vpc {
            Some(v) => {
                let id = v.str(r)?;
                if !id.starts_with("vpc-") {
                    return Err(v.err(r, format!("expected a VPC id (`vpc-...`), found `{id}`")));
                }
                NetworkOrigin::Vpc(id.to_owned())
            }
            None => {
                return Err(origin_v.err(r, "network origin `VPC` needs `VpcConfiguration.VpcId`"));
            }
        },
        other => {
            return Err(origin_v.err(
                r,
                format!("unknown network origin `{other}`; expected `Internet` or `VPC`"),
            ));
        }
    };
    let public_access_block = match o.opt_obj(r, "PublicAccessBlockConfiguration")? {
        Some(c) => crate::bucket::pab_settings(r, &c)?,
        // S3 turns all four on for a new access point unless told otherwise; an output
        // without them is hand-written, and says nothing.
        None => {
            return Err(o.err(
                r,
                "missing required field `PublicAccessBlockConfiguration` (`get-access-point` always returns it)",
            ));
        }
    };
    let bucket_account = match o.opt("BucketAccountId") {
        Some(b) => Some(b.account(r)?.to_owned()),
        None => None,
    };
    Ok(AccessPoint {
        name,
        arn,
        alias,
        account,
        bucket,
        bucket_account,
        network_origin,
        public_access_block,
        policy: Slot::Absent,
        multi_region: false,
    })
}

/// `aws s3control get-access-point-policy` (`{"Policy": "<JSON string>"}`), or the document.
fn policy_of(r: &Reader<'_>, v: Val<'_>, name: &str) -> R<why403_core::Policy> {
    let title = format!("access point policy of {name}");
    if matches!(v.node.value, why403_core::json::Json::String(_))
        || crate::bucket::is_document(&v, r)?
    {
        return v.policy(r, &title, PolicyKind::Resource);
    }
    let o = v.obj(r)?;
    o.only(r, &["Policy"])?;
    o.req(r, "Policy")?.policy(r, &title, PolicyKind::Resource)
}
