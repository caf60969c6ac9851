//! The account's organization: `DescribeOrganization` (any member account may call it), then,
//! with the management or delegated administrator credentials, the path from the account up
//! to the root (`ListParents`, with `ListRoots` read up front so the root's policies need not
//! wait for the walk) and at each level the SCPs and RCPs (`ListPoliciesForTarget`) with their
//! bodies (`DescribePolicy`). Levels are root first, policies named as the scenario reader
//! names them. Apart from the path, the S3 policy in effect for the bucket owner's account
//! (`DescribeEffectivePolicy`).

use aws_sdk_organizations::types::{
    EffectivePolicyType, OrganizationFeatureSet, ParentType, PolicyType,
};
use futures_util::future::join_all;
use why403_core::evidence::{
    OrgLevel, OrgPolicyType, OrgPublicAccessBlock, OrgRoot, Organization, RootPolicyType, Slot,
    Unavailable,
};
use why403_core::{Policy, PolicyKind};

use crate::call::{Api, CallOutcome, Failure, Read, Tracker};
use crate::config::Clients;
use crate::session::Session;

const DESCRIBE_ORG: Api = Api::new(
    "organizations",
    "DescribeOrganization",
    "organizations:DescribeOrganization",
);
const LIST_ROOTS: Api = Api::new("organizations", "ListRoots", "organizations:ListRoots");
const LIST_PARENTS: Api = Api::new("organizations", "ListParents", "organizations:ListParents");
const DESCRIBE_OU: Api = Api::new(
    "organizations",
    "DescribeOrganizationalUnit",
    "organizations:DescribeOrganizationalUnit",
);
const LIST_POLICIES: Api = Api::new(
    "organizations",
    "ListPoliciesForTarget",
    "organizations:ListPoliciesForTarget",
);
const DESCRIBE_POLICY: Api = Api::new(
    "organizations",
    "DescribePolicy",
    "organizations:DescribePolicy",
);

/// The deepest path AWS allows is the root and five levels of OUs.
const MAX_DEPTH: usize = 8;

/// What `DescribeOrganization` says.
#[derive(Debug, Clone)]
pub(crate) struct OrgInfo {
    pub id: String,
    pub management_account: String,
    /// SCPs and RCPs exist only with all features.
    pub all_features: bool,
}

/// What `DescribeOrganization` answered with the credentials' own account and, with
/// `--org-profile`, with the organization credentials.
#[derive(Debug, Clone)]
pub(crate) struct OrgView {
    own: Read<OrgInfo>,
    admin: Option<Read<OrgInfo>>,
}

/// The organization to read for an account.
#[derive(Debug)]
pub(crate) enum OrgOf<'a> {
    /// This organization; `member` when the account is known to be in it (it is the
    /// credentials' own account, which described it); otherwise the path walk must show it.
    Read { info: &'a OrgInfo, member: bool },
    /// The account is in no organization (`AWSOrganizationsNotInUseException`).
    NotInAny,
    /// Its organization cannot be read.
    Unavailable(Unavailable),
}

impl OrgView {
    /// The organization of `account`, given the credentials' account. An account's own
    /// `DescribeOrganization` says whether it is in an organization
    /// (`AWSOrganizationsNotInUseException`: in none); it says nothing of another account.
    pub(crate) fn of(&self, account: &str, creds_account: &str) -> OrgOf<'_> {
        let admin = self.admin.as_ref().and_then(|a| a.as_ref().ok());
        if account == creds_account {
            return match (&self.own, admin) {
                (Ok(info), _) => OrgOf::Read { info, member: true },
                (Err(f), _) if f.outcome == CallOutcome::Absent => OrgOf::NotInAny,
                (Err(_), Some(info)) => OrgOf::Read {
                    info,
                    member: false,
                },
                (Err(f), None) => OrgOf::Unavailable(f.unavailable()),
            };
        }
        match (admin, &self.own) {
            (Some(info), _) | (None, Ok(info)) => OrgOf::Read {
                info,
                member: false,
            },
            (None, Err(f)) => OrgOf::Unavailable(Unavailable {
                reason: format!(
                    "the organization of account `{account}` can be read only with credentials of that account, or of its organization's management account (`--org-profile`); the credentials' account `{creds_account}` answered: {}",
                    f.reason
                ),
                needs: vec![DESCRIBE_ORG.action.to_owned()],
            }),
        }
    }
}

/// `DescribeOrganization` with the credentials and, with `--org-profile`, with the
/// organization credentials, at once.
pub(crate) async fn describe(tr: &Tracker<'_>, c: &Clients, round: u32) -> OrgView {
    let own = &c.organizations;
    let (own, admin) = tokio::join!(describe_with(tr, own, round), async {
        match &c.org_admin {
            Some(admin) => Some(describe_with(tr, admin, round).await),
            None => None,
        }
    });
    OrgView { own, admin }
}

async fn describe_with(
    tr: &Tracker<'_>,
    org: &aws_sdk_organizations::Client,
    round: u32,
) -> Read<OrgInfo> {
    let out = tr
        .call(
            round,
            DESCRIBE_ORG,
            &["AWSOrganizationsNotInUseException"],
            org.describe_organization().send(),
        )
        .await?;
    let Some(o) = out.organization() else {
        return Err(Failure::invalid(DESCRIBE_ORG, "no `Organization`"));
    };
    let (Some(id), Some(mgmt)) = (o.id(), o.master_account_id()) else {
        return Err(Failure::invalid(
            DESCRIBE_ORG,
            "an organization without `Id` or `MasterAccountId`",
        ));
    };
    Ok(OrgInfo {
        id: id.to_owned(),
        management_account: mgmt.to_owned(),
        all_features: o.feature_set() != Some(&OrganizationFeatureSet::ConsolidatedBilling),
    })
}

/// The organization's root as `ListRoots` gives it.
#[derive(Debug, Clone)]
pub(crate) struct RootRead {
    pub id: String,
    pub arn: Option<String>,
    pub name: Option<String>,
    /// `None` when the answer has no `PolicyTypes` (not the same as an empty list: nothing
    /// enabled).
    pub policy_types: Option<Vec<RootPolicyType>>,
}

impl RootRead {
    /// Whether this is the root of organization `org`, as far as its ARN tells
    /// (`arn:aws:organizations::<management>:root/o-.../r-...`).
    fn of(&self, org: &str) -> bool {
        self.arn
            .as_deref()
            .is_none_or(|a| a.contains(&format!("/{org}/")))
    }

    /// Whether policy type `kind` is enabled on the root, when its policy types are known.
    fn enabled(&self, kind: Kind) -> Option<bool> {
        match self.slot() {
            Slot::Collected(r) => r.enabled(kind.org_type()),
            _ => None,
        }
    }

    /// The root as evidence: unavailable when its policy types are not known.
    fn slot(&self) -> Slot<OrgRoot> {
        match &self.policy_types {
            Some(types) => Slot::Collected(OrgRoot {
                id: self.id.clone(),
                name: self.name.clone(),
                policy_types: types.clone(),
            }),
            None => Slot::Unavailable(Unavailable {
                reason: format!(
                    "{} returned a root without `PolicyTypes`",
                    LIST_ROOTS.name()
                ),
                needs: vec![LIST_ROOTS.action.to_owned()],
            }),
        }
    }
}

/// The organization's root: its id, name and the policy types enabled on it.
pub(crate) async fn root(tr: &Tracker<'_>, c: &Clients, round: u32) -> Read<RootRead> {
    let org = c.org_reader();
    let out = tr
        .call(round, LIST_ROOTS, &[], org.list_roots().send())
        .await?;
    let Some(r) = out.roots().first() else {
        return Err(Failure::invalid(LIST_ROOTS, "no root"));
    };
    let Some(id) = r.id() else {
        return Err(Failure::invalid(LIST_ROOTS, "a root without `Id`"));
    };
    let policy_types = r.policy_types.as_ref().map(|types| {
        types
            .iter()
            .map(|t| RootPolicyType {
                policy_type: t
                    .r#type()
                    .map(|x| x.as_str())
                    .unwrap_or_default()
                    .to_owned(),
                status: t
                    .status()
                    .map(|x| x.as_str())
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    });
    Ok(RootRead {
        id: id.to_owned(),
        arn: r.arn().map(str::to_owned),
        name: r.name().map(str::to_owned),
        policy_types,
    })
}

/// SCPs or RCPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Scp,
    Rcp,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Scp => "SCP",
            Kind::Rcp => "RCP",
        }
    }
    fn filter(self) -> PolicyType {
        match self {
            Kind::Scp => PolicyType::ServiceControlPolicy,
            Kind::Rcp => PolicyType::ResourceControlPolicy,
        }
    }
    fn org_type(self) -> OrgPolicyType {
        match self {
            Kind::Scp => OrgPolicyType::Scp,
            Kind::Rcp => OrgPolicyType::Rcp,
        }
    }
    fn policy_kind(self) -> PolicyKind {
        match self {
            Kind::Scp => PolicyKind::Scp,
            Kind::Rcp => PolicyKind::Rcp,
        }
    }
    /// The AWS managed policy attached by default, whose body AWS publishes (no call needed).
    fn full_access(self) -> (&'static str, &'static str) {
        match self {
            Kind::Scp => (
                "p-FullAWSAccess",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
            Kind::Rcp => (
                "p-RCPFullAWSAccess",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            ),
        }
    }
}

/// One level's policies of one kind: `None` when the policy type is not enabled.
pub(crate) type Attached = Read<Option<Vec<Policy>>>;

#[derive(Debug)]
struct Level {
    target: String,
    name: Option<String>,
    scps: Attached,
    rcps: Attached,
}

/// The organization of `account` with its SCPs and RCPs. `root` is `ListRoots`' answer.
/// A policy type applies only where it is enabled on the root, and none can be without all
/// features: a type known not to be is `Absent`, and its policies are not listed. Unless
/// `member`, the account's membership must be shown by the path walk: `Err` when it cannot
/// be (the account may be in another organization).
pub(crate) async fn organization(
    tr: &Tracker<'_>,
    s: &Session,
    info: &OrgInfo,
    account: &str,
    member: bool,
    root: &Read<RootRead>,
    round: u32,
) -> Result<Organization, Unavailable> {
    // A root of another organization (the organization credentials' own) tells nothing here.
    let root = match root {
        Ok(r) if !r.of(&info.id) => Err(Failure::invalid(
            LIST_ROOTS,
            format!("the root of another organization than `{}`", info.id),
        )),
        other => other.clone(),
    };
    let off = |k: Kind| {
        !info.all_features || root.as_ref().ok().and_then(|r| r.enabled(k)) == Some(false)
    };
    let kinds: Vec<Kind> = [Kind::Scp, Kind::Rcp]
        .into_iter()
        .filter(|k| !off(*k))
        .collect();
    let (scps, rcps) = if kinds.is_empty() && member {
        (Slot::Absent, Slot::Absent)
    } else {
        match path(tr, s, account, &root, &kinds, round).await {
            Ok(levels) => {
                let get = |k: Kind| {
                    if off(k) {
                        Slot::Absent
                    } else {
                        let enabled = root.as_ref().ok().and_then(|r| r.enabled(k));
                        assemble(&levels, k, enabled)
                    }
                };
                (get(Kind::Scp), get(Kind::Rcp))
            }
            Err(u) if !member => return Err(u),
            Err(u) => {
                let get = |k: Kind| {
                    if off(k) {
                        Slot::Absent
                    } else {
                        Slot::Unavailable(u.clone())
                    }
                };
                (get(Kind::Scp), get(Kind::Rcp))
            }
        }
    };
    Ok(Organization {
        id: info.id.clone(),
        management_account: info.management_account.clone(),
        root: match &root {
            Ok(r) => r.slot(),
            Err(f) => Slot::Unavailable(f.unavailable()),
        },
        scps,
        rcps,
    })
}

type Levels = Slot<Vec<OrgLevel>>;

/// The levels from the root to `account`, with the policies of `kinds` listed at each; `Err`
/// when the walk fails.
async fn path(
    tr: &Tracker<'_>,
    s: &Session,
    account: &str,
    root: &Read<RootRead>,
    kinds: &[Kind],
    round: u32,
) -> Result<Vec<Level>, Unavailable> {
    let root_level = async {
        match root {
            Ok(r) => Some(level(tr, s, &r.id, r.name.clone(), kinds, round).await),
            Err(_) => None,
        }
    };
    let chain = async {
        let mut levels = Vec::new();
        let mut target = account.to_owned();
        let mut r = round;
        loop {
            let c = s.clients();
            let (parent, mut lv, name) = tokio::join!(
                s.cache
                    .org_parent
                    .get(target.clone(), Box::pin(parent(tr, c, &target, r))),
                level(tr, s, &target, None, kinds, r),
                async {
                    match target.starts_with("ou-") {
                        true => {
                            let read = Box::pin(ou_name(tr, c, &target, r));
                            s.cache.ou_name.get(target.clone(), read).await
                        }
                        false => None,
                    }
                }
            );
            lv.name = name;
            levels.push(lv);
            match parent {
                Ok((id, true)) => return Ok((levels, id, r)),
                Ok((id, _)) if levels.len() < MAX_DEPTH => {
                    target = id;
                    r += 1;
                }
                Ok((id, _)) => {
                    return Err(Failure::invalid(
                        LIST_PARENTS,
                        format!("a path deeper than {MAX_DEPTH} levels (at `{id}`)"),
                    ));
                }
                Err(f) => return Err(f),
            }
        }
    };
    let (root_level, chain) = tokio::join!(root_level, chain);
    let (mut chain, root_id, last) = chain.map_err(|f| Unavailable {
        reason: f.reason.clone(),
        needs: vec![
            f.action.to_owned(),
            LIST_POLICIES.action.to_owned(),
            DESCRIBE_POLICY.action.to_owned(),
        ],
    })?;
    let root_level = match root_level {
        Some(l) if l.target == root_id => l,
        // ListRoots was refused (or named another root): read the root found by the walk.
        _ => level(tr, s, &root_id, None, kinds, last + 1).await,
    };
    chain.push(root_level);
    chain.reverse();
    Ok(chain)
}

/// The levels of one kind: the first failure of any level; `Absent` when the type is enabled
/// nowhere (`PolicyTypeNotEnabledException` at every level), unless the root lists it
/// `ENABLED` (`enabled`) or only some levels say so, which contradict each other.
fn assemble(levels: &[Level], kind: Kind, enabled: Option<bool>) -> Levels {
    let mut out = Vec::new();
    let mut not_enabled = 0;
    for l in levels {
        let got = match kind {
            Kind::Scp => &l.scps,
            Kind::Rcp => &l.rcps,
        };
        match got {
            Err(f) => return Slot::Unavailable(f.unavailable()),
            Ok(None) => not_enabled += 1,
            Ok(Some(p)) => out.push(OrgLevel {
                target_id: l.target.clone(),
                name: l.name.clone(),
                policies: p.clone(),
            }),
        }
    }
    let contradiction = |what: &str| {
        Slot::Unavailable(Unavailable {
            reason: format!(
                "{} answered PolicyTypeNotEnabledException for the {}s of {what}",
                LIST_POLICIES.name(),
                kind.label()
            ),
            needs: vec![
                LIST_POLICIES.action.to_owned(),
                LIST_ROOTS.action.to_owned(),
            ],
        })
    };
    match not_enabled {
        0 => Slot::Collected(out),
        n if n < levels.len() => contradiction("some levels of the path only"),
        _ if enabled == Some(true) => {
            contradiction("every level, but ListRoots lists the type as enabled")
        }
        _ => Slot::Absent,
    }
}

/// The parent of `target`, and whether it is the root.
async fn parent(tr: &Tracker<'_>, c: &Clients, target: &str, round: u32) -> Read<(String, bool)> {
    let org = c.org_reader();
    let out = tr
        .call(
            round,
            LIST_PARENTS,
            &[],
            org.list_parents().child_id(target).send(),
        )
        .await?;
    let Some(p) = out.parents().first() else {
        return Err(Failure::invalid(
            LIST_PARENTS,
            format!("no parent of `{target}`"),
        ));
    };
    let id = p.id().unwrap_or_default().to_owned();
    let is_root = match p.r#type() {
        Some(t) => *t == ParentType::Root,
        None => id.starts_with("r-"),
    };
    Ok((id, is_root))
}

/// An OU's name, for messages; `None` when it cannot be read.
async fn ou_name(tr: &Tracker<'_>, c: &Clients, ou: &str, round: u32) -> Option<String> {
    let org = c.org_reader();
    let out = tr
        .call(
            round,
            DESCRIBE_OU,
            &[],
            org.describe_organizational_unit()
                .organizational_unit_id(ou)
                .send(),
        )
        .await
        .ok()?;
    out.organizational_unit()
        .and_then(|u| u.name())
        .map(str::to_owned)
}

/// One level, with the policies of `kinds` (the others are not listed: `Ok(None)`). Each
/// level's policies of a kind are read once per session, whichever account's path needs them.
async fn level(
    tr: &Tracker<'_>,
    s: &Session,
    target: &str,
    name: Option<String>,
    kinds: &[Kind],
    round: u32,
) -> Level {
    let of = |k: Kind| async move {
        match kinds.contains(&k) {
            true => {
                let read = Box::pin(attached(tr, s.clients(), target, k, round));
                s.cache.org_attached.get((target.to_owned(), k), read).await
            }
            false => Ok(None),
        }
    };
    let (scps, rcps) = tokio::join!(of(Kind::Scp), of(Kind::Rcp));
    Level {
        target: target.to_owned(),
        name,
        scps,
        rcps,
    }
}

/// The policies of one kind attached to `target`, with their bodies.
async fn attached(tr: &Tracker<'_>, c: &Clients, target: &str, kind: Kind, round: u32) -> Attached {
    let org = c.org_reader();
    let mut summaries = Vec::new();
    let mut token: Option<String> = None;
    let mut r = round;
    loop {
        let got = tr
            .call(
                r,
                LIST_POLICIES,
                &["PolicyTypeNotEnabledException"],
                org.list_policies_for_target()
                    .target_id(target)
                    .filter(kind.filter())
                    .set_next_token(token.take())
                    .send(),
            )
            .await;
        let out = match got {
            Ok(out) => out,
            Err(f) if f.outcome == CallOutcome::Absent => return Ok(None),
            Err(f) => return Err(f),
        };
        for s in out.policies() {
            if let Some(id) = s.id() {
                summaries.push((id.to_owned(), s.name().map(str::to_owned)));
            }
        }
        match out.next_token() {
            Some(t) => {
                token = Some(t.to_owned());
                r += 1;
            }
            None => break,
        }
    }
    let next = r + 1;
    let bodies = join_all(summaries.iter().map(|(id, pname)| async move {
        let label = match pname {
            Some(n) => format!("{} {id} ({n}) attached to {target}", kind.label()),
            None => format!("{} {id} attached to {target}", kind.label()),
        };
        let (full_id, full_text) = kind.full_access();
        let text = if id == full_id {
            full_text.to_owned()
        } else {
            let out = tr
                .call(
                    next,
                    DESCRIBE_POLICY,
                    &[],
                    org.describe_policy().policy_id(id).send(),
                )
                .await?;
            match out.policy().and_then(|p| p.content()) {
                Some(t) => t.to_owned(),
                None => {
                    return Err(Failure::invalid(
                        DESCRIBE_POLICY,
                        format!("no `Content` for `{id}`"),
                    ));
                }
            }
        };
        Policy::parse(&label, kind.policy_kind(), &text).map_err(|e| {
            Failure::invalid(
                DESCRIBE_POLICY,
                format!("a policy that does not parse: {e}"),
            )
        })
    }))
    .await;
    bodies.into_iter().collect::<Read<Vec<_>>>().map(Some)
}

const DESCRIBE_EFFECTIVE: Api = Api::new(
    "organizations",
    "DescribeEffectivePolicy",
    "organizations:DescribeEffectivePolicy",
);

/// The answers of `DescribeEffectivePolicy` that mean no S3 policy applies to the account: none
/// on its path, the policy type not enabled, the account in no organization.
const S3_POLICY_ABSENT: &[&str] = &[
    "EffectivePolicyNotFoundException",
    "PolicyTypeNotEnabledException",
    "AWSOrganizationsNotInUseException",
];

/// The organization's S3 policy in effect for an account (`DescribeEffectivePolicy`, policy
/// type `S3_POLICY`): `Ok(None)` when none applies or it sets no Block Public Access. `target`
/// is `None` for the credentials' own account, which any member account may read for itself;
/// another account is named, and read with the organization credentials.
pub(crate) async fn s3_policy(
    tr: &Tracker<'_>,
    org: &aws_sdk_organizations::Client,
    target: Option<&str>,
    round: u32,
) -> Read<Option<OrgPublicAccessBlock>> {
    let out = tr
        .call(
            round,
            DESCRIBE_EFFECTIVE,
            S3_POLICY_ABSENT,
            org.describe_effective_policy()
                .policy_type(EffectivePolicyType::S3Policy)
                .set_target_id(target.map(str::to_owned))
                .send(),
        )
        .await?;
    let Some(content) = out.effective_policy().and_then(|p| p.policy_content()) else {
        return Err(Failure::invalid(
            DESCRIBE_EFFECTIVE,
            "no `EffectivePolicy.PolicyContent`",
        ));
    };
    OrgPublicAccessBlock::from_policy_content(content)
        .map_err(|m| Failure::invalid(DESCRIBE_EFFECTIVE, format!("an S3 policy that is {m}")))
}
