//! An account's organization: `describe-organization`, the path from the root to the account
//! with the SCPs and RCPs attached at each level (`list-policies-for-target`), and the policy
//! bodies (`describe-policy`).

use why403_core::evidence::{OrgLevel, Organization, Slot, Unavailable};
use why403_core::{Policy, PolicyKind};

use crate::read::{Absence, Obj, R, Reader, Section, Val, is_account, missing};

pub(crate) const ORG_NEEDS: &[&str] = &["organizations:DescribeOrganization"];
const PATH_NEEDS: &[&str] = &[
    "organizations:ListParents",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
];
const LIST_NEEDS: &[&str] = &["organizations:ListPoliciesForTarget"];
const DESCRIBE_NEEDS: &[&str] = &["organizations:DescribePolicy"];

/// SCPs or RCPs.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Scp,
    Rcp,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Scp => "scps",
            Kind::Rcp => "rcps",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Kind::Scp => "SCP",
            Kind::Rcp => "RCP",
        }
    }
    fn aws_type(self) -> &'static str {
        match self {
            Kind::Scp => "SERVICE_CONTROL_POLICY",
            Kind::Rcp => "RESOURCE_CONTROL_POLICY",
        }
    }
    fn policy_kind(self) -> PolicyKind {
        match self {
            Kind::Scp => PolicyKind::Scp,
            Kind::Rcp => PolicyKind::Rcp,
        }
    }
    /// The AWS managed policy attached by default, whose body AWS publishes.
    fn full_access(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Scp => (
                "p-FullAWSAccess",
                "FullAWSAccess",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
            Kind::Rcp => (
                "p-RCPFullAWSAccess",
                "RCPFullAWSAccess",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            ),
        }
    }
}

/// Reads an `organization` / `bucket_organization` section. `account` is the account whose
/// path it must end at, when known. `$absent` means the account is in no organization.
pub(crate) fn read(
    r: &Reader<'_>,
    key: &str,
    s: Section<'_>,
    account: Option<&str>,
) -> R<Slot<Organization>> {
    let slot = s.slot(r, key, ORG_NEEDS, Absence::Allowed, |v| {
        organization(r, &v, account)
    })?;
    Ok(match slot {
        Slot::Collected(Ok(org)) => Slot::Collected(org),
        Slot::Collected(Err(u)) | Slot::Unavailable(u) => Slot::Unavailable(u),
        Slot::Absent => Slot::Absent,
        Slot::NotApplicable => Slot::NotApplicable,
    })
}

fn organization(
    r: &Reader<'_>,
    v: &Val<'_>,
    account: Option<&str>,
) -> R<Result<Organization, Unavailable>> {
    let o = v.obj(r)?;
    o.only(r, &["describe_organization", "path", "policies"])?;
    let describe = Section::read(r, &o, "describe_organization", ORG_NEEDS)?;
    let policies = o.opt_obj(r, "policies")?;
    let path = Section::read(r, &o, "path", PATH_NEEDS)?;
    let (scps, rcps) = match path {
        Section::Given(p) => (
            levels(r, &p, policies.as_ref(), Kind::Scp, account)?,
            levels(r, &p, policies.as_ref(), Kind::Rcp, account)?,
        ),
        Section::Absent(a) => {
            return Err(a.err(r, "`path` cannot be `$absent`: every account has a root; put `$absent` on the whole organization for an account outside any organization"));
        }
        Section::Unavailable(u) => (Slot::Unavailable(u.clone()), Slot::Unavailable(u)),
        Section::Missing => (
            Slot::Unavailable(missing(PATH_NEEDS)),
            Slot::Unavailable(missing(PATH_NEEDS)),
        ),
    };
    let d = match describe {
        Section::Given(d) => d.obj(r)?,
        Section::Absent(a) => {
            return Err(a.err(
                r,
                "put `$absent` on the whole organization for an account outside any organization",
            ));
        }
        Section::Unavailable(u) => return Ok(Err(u)),
        Section::Missing => return Ok(Err(missing(ORG_NEEDS))),
    };
    d.only(r, &["Organization"])?;
    let org = d.req(r, "Organization")?.obj(r)?;
    let consolidated = org.opt_str(r, "FeatureSet")? == Some("CONSOLIDATED_BILLING");
    let (scps, rcps) = if consolidated {
        // Without all features, SCPs and RCPs cannot be used.
        (Slot::Absent, Slot::Absent)
    } else {
        (scps, rcps)
    };
    Ok(Ok(Organization {
        id: org.req(r, "Id")?.nonempty(r)?.to_owned(),
        management_account: org.req(r, "MasterAccountId")?.account(r)?.to_owned(),
        scps,
        rcps,
    }))
}

/// Checks the targets of `path` (root first, then OUs, then the account).
fn check_targets(
    r: &Reader<'_>,
    items: &[(Obj<'_>, Val<'_>)],
    path: &Val<'_>,
    account: Option<&str>,
) -> R<()> {
    if items.len() < 2 {
        return Err(path.err(
            r,
            "expected the root, any OUs and the account, root first (at least two levels)",
        ));
    }
    let last = items.len() - 1;
    for (i, (_, tv)) in items.iter().enumerate() {
        let t = tv.nonempty(r)?;
        let ok = match i {
            0 => t.starts_with("r-"),
            i if i == last => is_account(t),
            _ => t.starts_with("ou-"),
        };
        if !ok {
            let want = match i {
                0 => "the root (`r-...`)",
                i if i == last => "the account (12 digits)",
                _ => "an organizational unit (`ou-...`)",
            };
            return Err(tv.err(
                r,
                format!("expected {want} at this level of the path, found `{t}`"),
            ));
        }
        if i == last
            && let Some(a) = account
            && a != t
        {
            return Err(tv.err(
                r,
                format!("the path must end at account `{a}`, found `{t}`"),
            ));
        }
    }
    Ok(())
}

fn levels(
    r: &Reader<'_>,
    path: &Val<'_>,
    policies: Option<&Obj<'_>>,
    kind: Kind,
    account: Option<&str>,
) -> R<Slot<Vec<OrgLevel>>> {
    let mut items = Vec::new();
    for lv in path.arr(r)? {
        let lo = lv.obj(r)?;
        lo.only(r, &["target", "name", "scps", "rcps"])?;
        let tv = lo.req(r, "target")?;
        items.push((lo, tv));
    }
    check_targets(r, &items, path, account)?;
    let mut out = Vec::new();
    let mut unavailable: Option<Unavailable> = None;
    let mut absent: Vec<Val<'_>> = Vec::new();
    for (lo, tv) in &items {
        let target = tv.str(r)?;
        let level_name = lo.opt_str(r, "name")?.map(str::to_owned);
        match Section::read(r, lo, kind.key(), LIST_NEEDS)? {
            Section::Missing => {
                unavailable.get_or_insert_with(|| Unavailable {
                    reason: format!(
                        "the {}s attached to `{target}` are not in the scenario",
                        kind.label()
                    ),
                    needs: LIST_NEEDS.iter().map(|s| (*s).to_owned()).collect(),
                });
            }
            Section::Unavailable(u) => {
                unavailable.get_or_insert(u);
            }
            Section::Absent(a) => absent.push(a),
            Section::Given(list) => match attached(r, &list, policies, kind, target)? {
                Ok(policies) => out.push(OrgLevel {
                    target_id: target.to_owned(),
                    name: level_name,
                    policies,
                }),
                Err(u) => {
                    unavailable.get_or_insert(u);
                }
            },
        }
    }
    if let Some(u) = unavailable {
        return Ok(Slot::Unavailable(u));
    }
    if absent.len() == items.len() {
        // The policy type is not enabled in the organization.
        return Ok(Slot::Absent);
    }
    if let Some(a) = absent.first() {
        return Err(a.err(
            r,
            format!("`$absent` (the policy type is not enabled) must be given at every level or none, as `{}` applies to the whole organization", kind.key()),
        ));
    }
    Ok(Slot::Collected(out))
}

/// The policies of one `list-policies-for-target` output, with their bodies.
fn attached(
    r: &Reader<'_>,
    list: &Val<'_>,
    policies: Option<&Obj<'_>>,
    kind: Kind,
    target: &str,
) -> R<Result<Vec<Policy>, Unavailable>> {
    let o = list.obj(r)?;
    o.only(r, &["Policies", "NextToken"])?;
    let mut out = Vec::new();
    for s in o.req(r, "Policies")?.arr(r)? {
        let s = s.obj(r)?;
        let id = s.req(r, "Id")?.nonempty(r)?;
        check_type(r, &s, kind)?;
        let mut pname = s.opt_str(r, "Name")?.map(str::to_owned);
        let body = match policies
            .map(|p| Section::read(r, p, id, DESCRIBE_NEEDS))
            .transpose()?
        {
            Some(Section::Given(d)) => {
                let d = d.obj(r)?;
                d.only(r, &["Policy"])?;
                let p = d.req(r, "Policy")?.obj(r)?;
                if let Some(sum) = p.opt_obj(r, "PolicySummary")? {
                    if let Some(sid) = sum.opt("Id") {
                        let sid_s = sid.str(r)?;
                        if sid_s != id {
                            return Err(
                                sid.err(r, format!("policy `{sid_s}` is filed under `{id}`"))
                            );
                        }
                    }
                    check_type(r, &sum, kind)?;
                    if pname.is_none() {
                        pname = sum.opt_str(r, "Name")?.map(str::to_owned);
                    }
                }
                Some(p.req(r, "Content")?)
            }
            Some(Section::Absent(a)) => {
                return Err(a.err(
                    r,
                    format!("policy `{id}` is attached to `{target}`, so it exists"),
                ));
            }
            Some(Section::Unavailable(u)) => return Ok(Err(u)),
            Some(Section::Missing) | None => None,
        };
        let label = |n: &Option<String>| match n {
            Some(n) => format!("{} {id} ({n}) attached to {target}", kind.label()),
            None => format!("{} {id} attached to {target}", kind.label()),
        };
        match body {
            Some(content) => out.push(content.policy(r, &label(&pname), kind.policy_kind())?),
            None => {
                let (fid, fname, text) = kind.full_access();
                if id != fid {
                    return Ok(Err(Unavailable {
                        reason: format!(
                            "{} `{id}` attached to `{target}` is not in `policies` (`aws organizations describe-policy --policy-id {id}`)",
                            kind.label()
                        ),
                        needs: DESCRIBE_NEEDS.iter().map(|s| (*s).to_owned()).collect(),
                    }));
                }
                let name = label(&Some(pname.unwrap_or_else(|| fname.to_owned())));
                let policy = Policy::parse(&name, kind.policy_kind(), text).map_err(|e| {
                    s.err(r, format!("built-in policy `{fid}` does not parse: {e}"))
                })?;
                out.push(policy);
            }
        }
    }
    Ok(Ok(out))
}

fn check_type(r: &Reader<'_>, o: &Obj<'_>, kind: Kind) -> R<()> {
    if let Some(t) = o.opt("Type") {
        let ts = t.str(r)?;
        if ts != kind.aws_type() {
            return Err(t.err(
                r,
                format!("expected a `{}` under `{}`, found `{ts}` (check the `--filter` of list-policies-for-target)", kind.aws_type(), kind.key()),
            ));
        }
    }
    Ok(())
}
