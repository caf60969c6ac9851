//! The access point an upload goes through (`s3://arn:aws:s3:<region>:<account>:accesspoint/<name>/<key>`):
//! `GetAccessPoint` (its bucket, the bucket's account, its network origin and its Block Public
//! Access) and `GetAccessPointPolicy`, both at once, with `s3control` in the access point's
//! Region. The evidence is what the scenario reader makes of the same two outputs.
//!
//! An access point named by its alias (`<name>-<metadata>-s3alias`) is first found among the
//! caller's account's access points in the alias's Region (`ListAccessPoints`, whose entries
//! carry `Alias`); the alias says neither its account nor its name. A Multi-Region Access
//! Point (`arn:aws:s3::<account>:accesspoint/<alias>.mrap`) is found by its alias among its
//! account's Multi-Region Access Points (`ListMultiRegionAccessPoints`, whose report is the
//! one `GetMultiRegionAccessPoint` gives, and which, unlike it, does not need the name), then
//! its policy is read (`GetMultiRegionAccessPointPolicy`), and, when it has several buckets and
//! the request names none, which of them receive requests (`GetMultiRegionAccessPointRoutes`);
//! all in `us-west-2`.

use aws_sdk_s3control::config::Region;
use why403_core::evidence::{AccessPoint, NetworkOrigin, PublicAccessBlock, Slot};
use why403_core::{Policy, PolicyKind};

use crate::bucket::pab_s3control;
use crate::call::{Api, Failure, Read, Tracker, slot};
use crate::config::Clients;

const GET_ACCESS_POINT: Api = Api::new("s3control", "GetAccessPoint", "s3:GetAccessPoint");
const GET_ACCESS_POINT_POLICY: Api = Api::new(
    "s3control",
    "GetAccessPointPolicy",
    "s3:GetAccessPointPolicy",
);
pub(crate) const LIST_ACCESS_POINTS: Api =
    Api::new("s3control", "ListAccessPoints", "s3:ListAccessPoints");
pub(crate) const LIST_MRAPS: Api = Api::new(
    "s3control",
    "ListMultiRegionAccessPoints",
    "s3:ListMultiRegionAccessPoints",
);
pub(crate) const GET_MRAP_POLICY: Api = Api::new(
    "s3control",
    "GetMultiRegionAccessPointPolicy",
    "s3:GetMultiRegionAccessPointPolicy",
);
pub(crate) const GET_MRAP_ROUTES: Api = Api::new(
    "s3control",
    "GetMultiRegionAccessPointRoutes",
    "s3:GetMultiRegionAccessPointRoutes",
);
/// The Region of the Multi-Region Access Points' control plane (S3 API reference,
/// `GetMultiRegionAccessPoint`: "This action will always be routed to the US West (Oregon)
/// Region").
const MRAP_CONTROL_REGION: &str = "us-west-2";
/// At most this many pages of a list are read (1,000 entries a page).
const MAX_PAGES: u32 = 20;

/// An access point named by its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Named<'a> {
    pub arn: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
}

/// A lookup by alias: what it found (`None`: nothing has that alias), and the round of its
/// last page.
pub(crate) type Lookup<T> = (Read<Option<T>>, u32);

/// An access point found by its alias: what its ARN says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub arn: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl Found {
    pub(crate) fn named(&self) -> Named<'_> {
        Named {
            arn: &self.arn,
            region: &self.region,
            account: &self.account,
            name: &self.name,
        }
    }
}

/// The access point of `account` in `region` whose alias is `alias` (`ListAccessPoints`, page
/// by page from `round`), and the round of the last page. `Ok(None)`: the account has no
/// such access point in that Region (the alias may be another account's).
pub(crate) async fn find_alias(
    tr: &Tracker<'_>,
    c: &Clients,
    alias: &str,
    account: &str,
    region: &str,
    round: u32,
) -> Lookup<Found> {
    let s3c = &c.s3control;
    find_paged(LIST_ACCESS_POINTS, alias, round, |token, at| async move {
        let page = tr
            .call(
                at,
                LIST_ACCESS_POINTS,
                &[],
                s3c.list_access_points()
                    .account_id(account)
                    .set_next_token(token)
                    .max_results(1000)
                    .customize()
                    .config_override(
                        aws_sdk_s3control::config::Builder::default()
                            .region(Region::new(region.to_owned())),
                    )
                    .send(),
            )
            .await?;
        let found = page
            .access_point_list()
            .iter()
            .find(|a| a.alias() == Some(alias))
            .map(|ap| {
                let name = ap.name().to_owned();
                let arn = ap.access_point_arn().filter(|a| !a.is_empty()).map_or_else(
                    || format!("arn:aws:s3:{region}:{account}:accesspoint/{name}"),
                    str::to_owned,
                );
                Ok(Found {
                    arn,
                    region: region.to_owned(),
                    account: account.to_owned(),
                    name,
                })
            });
        Ok((found, page.next_token().map(str::to_owned)))
    })
    .await
}

/// One page of a list searched for an alias: the entry with the alias (or why it cannot be
/// used), and the next page's token.
type Page<T> = (Option<Read<T>>, Option<String>);

/// Reads the pages `page` gives (from `round`, one round each) until one has the entry with
/// `alias`, at most [`MAX_PAGES`].
async fn find_paged<T, F, Fut>(api: Api, alias: &str, round: u32, mut page: F) -> Lookup<T>
where
    F: FnMut(Option<String>, u32) -> Fut,
    Fut: std::future::Future<Output = Read<Page<T>>>,
{
    let mut token = None;
    let mut at = round;
    loop {
        let (found, next) = match page(token.take(), at).await {
            Ok(p) => p,
            Err(f) => return (Err(f), at),
        };
        if let Some(found) = found {
            return (found.map(Some), at);
        }
        match next.filter(|t| !t.is_empty()) {
            Some(t) if at - round + 1 < MAX_PAGES => token = Some(t),
            Some(_) => {
                let what = format!("more than {MAX_PAGES} pages without alias `{alias}`");
                return (Err(Failure::invalid(api, what)), at);
            }
            None => return (Ok(None), at),
        }
        at += 1;
    }
}

/// A Multi-Region Access Point as `ListMultiRegionAccessPoints` reports it: what the evidence
/// takes of it, and the buckets it routes to, with their Regions.
#[derive(Debug, Clone)]
pub(crate) struct MultiRegion {
    pub name: String,
    pub public_access_block: PublicAccessBlock,
    /// `(bucket, Region, bucket's account)`.
    pub buckets: Vec<(String, String, Option<String>)>,
}

/// The Multi-Region Access Point of `account` whose alias is `alias`, page by page from
/// `round` in the control plane's Region, and the round of the last page. `Ok(None)`: the
/// account has none with that alias.
pub(crate) async fn find_mrap(
    tr: &Tracker<'_>,
    c: &Clients,
    alias: &str,
    account: &str,
    round: u32,
) -> Lookup<MultiRegion> {
    let s3c = &c.s3control;
    find_paged(LIST_MRAPS, alias, round, |token, at| async move {
        let page = tr
            .call(
                at,
                LIST_MRAPS,
                &[],
                s3c.list_multi_region_access_points()
                    .account_id(account)
                    .set_next_token(token)
                    .customize()
                    .config_override(control_plane())
                    .send(),
            )
            .await?;
        let found = page
            .access_points()
            .iter()
            .find(|m| m.alias() == Some(alias))
            .map(multi_region);
        Ok((found, page.next_token().map(str::to_owned)))
    })
    .await
}

/// The buckets of Multi-Region Access Point `arn` that receive requests: those whose Region's
/// traffic dial is above 0 (`GetMultiRegionAccessPointRoutes`; a dial of 0 is a passive Region,
/// to which no request is routed). Read in `us-west-2`, one of the five Regions of the failover
/// control endpoints.
pub(crate) async fn active_buckets(
    tr: &Tracker<'_>,
    c: &Clients,
    account: &str,
    arn: &str,
    round: u32,
) -> Read<Vec<String>> {
    let s3c = &c.s3control;
    let out = tr
        .call(
            round,
            GET_MRAP_ROUTES,
            &[],
            s3c.get_multi_region_access_point_routes()
                .account_id(account)
                .mrap(arn)
                .customize()
                .config_override(control_plane())
                .send(),
        )
        .await?;
    Ok(out
        .routes()
        .iter()
        .filter(|r| r.traffic_dial_percentage() > 0)
        .filter_map(|r| r.bucket())
        .map(str::to_owned)
        .collect())
}

fn control_plane() -> aws_sdk_s3control::config::Builder {
    aws_sdk_s3control::config::Builder::default().region(Region::new(MRAP_CONTROL_REGION))
}

fn multi_region(m: &aws_sdk_s3control::types::MultiRegionAccessPointReport) -> Read<MultiRegion> {
    let invalid = |what: &str| Failure::invalid(LIST_MRAPS, what);
    let Some(name) = m.name().filter(|n| !n.is_empty()) else {
        return Err(invalid("a Multi-Region Access Point without `Name`"));
    };
    let Some(conf) = m.public_access_block() else {
        return Err(invalid(
            "a Multi-Region Access Point without `PublicAccessBlock`",
        ));
    };
    let mut buckets = Vec::new();
    for r in m.regions() {
        match (r.bucket().filter(|b| !b.is_empty()), r.region()) {
            (Some(b), Some(reg)) => buckets.push((
                b.to_owned(),
                reg.to_owned(),
                r.bucket_account_id()
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned),
            )),
            _ => return Err(invalid("a Region without `Bucket` or `Region`")),
        }
    }
    if buckets.is_empty() {
        return Err(invalid("a Multi-Region Access Point without buckets"));
    }
    Ok(MultiRegion {
        name: name.to_owned(),
        public_access_block: pab_s3control(Some(conf)),
        buckets,
    })
}

/// The Multi-Region Access Point's policy in force (`Established`); `Absent` when it has none
/// (`NoSuchMultiRegionAccessPointPolicy`, or no `Established` policy yet).
pub(crate) async fn mrap_policy(
    tr: &Tracker<'_>,
    c: &Clients,
    account: &str,
    name: &str,
    round: u32,
) -> Slot<Policy> {
    let s3c = &c.s3control;
    let got = tr
        .call(
            round,
            GET_MRAP_POLICY,
            &["NoSuchMultiRegionAccessPointPolicy"],
            s3c.get_multi_region_access_point_policy()
                .account_id(account)
                .name(name)
                .customize()
                .config_override(control_plane())
                .send(),
        )
        .await;
    let text = got.map(|out| {
        out.policy()
            .and_then(|p| p.established())
            .and_then(|e| e.policy())
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
    });
    match text {
        Ok(None) => Slot::Absent,
        other => slot(other.and_then(|t| {
            Policy::parse(
                &format!("Multi-Region Access Point policy of {name}"),
                PolicyKind::Resource,
                t.as_deref().unwrap_or_default(),
            )
            .map_err(|e| {
                Failure::invalid(
                    GET_MRAP_POLICY,
                    format!("a policy that does not parse: {e}"),
                )
            })
        })),
    }
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
        public_access_block: pab_s3control(Some(conf)),
        policy: Slot::Absent,
        multi_region: false,
    })
}
