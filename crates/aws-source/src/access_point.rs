//! The access point an upload goes through (`s3://arn:aws:s3:<region>:<account>:accesspoint/<name>/<key>`):
//! `GetAccessPoint` (its bucket, the bucket's account, its network origin and its Block Public
//! Access) and `GetAccessPointPolicy`, both at once, with `s3control` in the access point's
//! Region. The evidence is what the scenario reader makes of the same two outputs.

use aws_sdk_s3control::config::Region;
use why403_core::evidence::{AccessPoint, NetworkOrigin, PublicAccessBlock, Slot};
use why403_core::{Policy, PolicyKind};

use crate::call::{Api, Failure, Read, Tracker, slot};
use crate::config::Clients;

const GET_ACCESS_POINT: Api = Api::new("s3control", "GetAccessPoint", "s3:GetAccessPoint");
const GET_ACCESS_POINT_POLICY: Api = Api::new(
    "s3control",
    "GetAccessPointPolicy",
    "s3:GetAccessPointPolicy",
);

/// An access point named by its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Named<'a> {
    pub arn: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
}

/// Reads the access point and its policy. The policy is `Absent` when S3 answers
/// `NoSuchAccessPointPolicy`, `Unavailable` (naming `s3:GetAccessPointPolicy`) when refused.
pub(crate) async fn read(
    tr: &Tracker<'_>,
    c: &Clients,
    ap: Named<'_>,
    round: u32,
) -> Read<AccessPoint> {
    let s3c = &c.s3control;
    let in_region =
        || aws_sdk_s3control::config::Builder::default().region(Region::new(ap.region.to_owned()));
    let (got, policy) = tokio::join!(
        tr.call(
            round,
            GET_ACCESS_POINT,
            &[],
            s3c.get_access_point()
                .account_id(ap.account)
                .name(ap.name)
                .customize()
                .config_override(in_region())
                .send(),
        ),
        tr.call(
            round,
            GET_ACCESS_POINT_POLICY,
            &["NoSuchAccessPointPolicy"],
            s3c.get_access_point_policy()
                .account_id(ap.account)
                .name(ap.name)
                .customize()
                .config_override(in_region())
                .send(),
        ),
    );
    let got = got?;
    let mut point = access_point(&got, ap)?;
    point.policy = slot(policy.and_then(|out| {
        Policy::parse(
            &format!("access point policy of {}", point.name),
            PolicyKind::Resource,
            out.policy().unwrap_or_default(),
        )
        .map_err(|e| {
            Failure::invalid(
                GET_ACCESS_POINT_POLICY,
                format!("a policy that does not parse: {e}"),
            )
        })
    }));
    Ok(point)
}

fn access_point(
    out: &aws_sdk_s3control::operation::get_access_point::GetAccessPointOutput,
    ap: Named<'_>,
) -> Read<AccessPoint> {
    let invalid = |what: String| Failure::invalid(GET_ACCESS_POINT, what);
    let name = out.name().filter(|n| !n.is_empty()).unwrap_or(ap.name);
    if name != ap.name {
        return Err(invalid(format!(
            "the access point `{name}`, not `{}`",
            ap.name
        )));
    }
    if let Some(arn) = out.access_point_arn().filter(|a| !a.is_empty())
        && arn != ap.arn
    {
        return Err(invalid(format!(
            "the access point `{arn}`, not `{}`",
            ap.arn
        )));
    }
    let Some(bucket) = out.bucket().filter(|b| !b.is_empty()) else {
        return Err(invalid("an access point without `Bucket`".to_owned()));
    };
    let network_origin = match out.network_origin().map(|o| o.as_str()) {
        Some("Internet") => NetworkOrigin::Internet,
        Some("VPC") => match out.vpc_configuration().map(|v| v.vpc_id()) {
            Some(id) if id.starts_with("vpc-") => NetworkOrigin::Vpc(id.to_owned()),
            Some(id) => return Err(invalid(format!("a VPC id `{id}` (expected `vpc-...`)"))),
            None => {
                return Err(invalid(
                    "network origin `VPC` without `VpcConfiguration.VpcId`".to_owned(),
                ));
            }
        },
        Some(other) => return Err(invalid(format!("an unknown network origin `{other}`"))),
        None => {
            return Err(invalid(
                "an access point without `NetworkOrigin`".to_owned(),
            ));
        }
    };
    let Some(conf) = out.public_access_block_configuration() else {
        return Err(invalid(
            "an access point without `PublicAccessBlockConfiguration`".to_owned(),
        ));
    };
    Ok(AccessPoint {
        name: name.to_owned(),
        arn: ap.arn.to_owned(),
        alias: out.alias().filter(|a| !a.is_empty()).map(str::to_owned),
        account: ap.account.to_owned(),
        bucket: bucket.to_owned(),
        bucket_account: out
            .bucket_account_id()
            .filter(|a| !a.is_empty())
            .map(str::to_owned),
        network_origin,
        public_access_block: PublicAccessBlock {
            block_public_acls: conf.block_public_acls().unwrap_or(false),
            ignore_public_acls: conf.ignore_public_acls().unwrap_or(false),
            block_public_policy: conf.block_public_policy().unwrap_or(false),
            restrict_public_buckets: conf.restrict_public_buckets().unwrap_or(false),
        },
        policy: Slot::Absent,
        multi_region: false,
    })
}
