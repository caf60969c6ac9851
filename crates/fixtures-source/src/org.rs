//! An account's organization: `describe-organization`, the root with its enabled policy types
//! (`list-roots`), the path from the root to the account with the SCPs and RCPs attached at
//! each level (`list-policies-for-target`), and the policy bodies (`describe-policy`); and the
//! S3 policy in effect for the bucket owner's account (`describe-effective-policy`).

use why403_core::evidence::{
    OrgLevel, OrgPolicyType, OrgPublicAccessBlock, OrgRoot, Organization, RootPolicyType, Slot,
    Unavailable,
};
use why403_core::{Policy, PolicyKind};

use crate::read::{Absence, Obj, R, Reader, Section, Val, is_account, missing};

pub(crate) const ORG_NEEDS: &[&str] = &["organizations:DescribeOrganization"];
const PATH_NEEDS: &[&str] = &[
    "organizations:ListParents",
    "organizations:ListPoliciesForTarget",
    "organizations:DescribePolicy",
];
const LIST_NEEDS: &[&str] = &["organizations:ListPoliciesForTarget"];
const ROOTS_NEEDS: &[&str] = &["organizations:ListRoots"];
const DESCRIBE_NEEDS: &[&str] = &["organizations:DescribePolicy"];
pub(crate) const S3_POLICY_NEEDS: &[&str] = &["organizations:DescribeEffectivePolicy"];
pub(crate) use why403_core::evidence::ORG_S3_POLICY_TYPE as S3_POLICY;

/// Reads `organization_s3_policy`: `aws organizations describe-effective-policy --policy-type
/// S3_POLICY --target-id <bucket owner>` (`{"EffectivePolicy": {"PolicyContent": "...",
/// ...}}`; `PolicyContent` as AWS gives it, a JSON string, or the object itself). `$absent`:
/// no S3 policy applies (`EffectivePolicyNotFoundException`, the policy type not enabled, the
/// account in no organization), as is an effective policy that does not set
/// `public_access_block_configuration`. Left out, it does not apply when the bucket owner's
/// organization is known not to exist or not to have the policy type enabled, and is
/// unavailable otherwise.
pub(crate) fn s3_policy(
    r: &Reader<'_>,
    s: Section<'_>,
    owner: Option<&str>,
    owner_org: Option<&Slot<Organization>>,
) -> R<Slot<OrgPublicAccessBlock>> {
    let off = match owner_org {
        Some(Slot::Absent) => true,
        Some(Slot::Collected(o)) => o.s3_policies_off(),
        _ => false,
    };
    if s.is_missing() && off {
        return Ok(Slot::Absent);
    }
    let read = |v: Val<'_>| -> R<Option<OrgPublicAccessBlock>> {
        let o = v.obj(r)?;
        o.only(r, &["EffectivePolicy"])?;
        let e = o.req(r, "EffectivePolicy")?.obj(r)?;
        e.only(
            r,
            &[
                "PolicyContent",
                "PolicyType",
                "TargetId",
                "LastUpdatedTimestamp",
            ],
        )?;
        if let Some(t) = e.opt_str(r, "PolicyType")?
            && t != S3_POLICY
        {
            let at = e.req(r, "PolicyType")?;
            return Err(at.err(r, format!("expected `{S3_POLICY}`, found `{t}`")));
        }
        if let (Some(t), Some(owner)) = (e.opt_str(r, "TargetId")?, owner)
            && t != owner
        {
            let at = e.req(r, "TargetId")?;
            return Err(at.err(
                r,
                format!("the effective policy is the bucket owner's (`{owner}`), not `{t}`'s"),
            ));
        }
        let content = e.req(r, "PolicyContent")?;
        let text = match &content.node.value {
            why403_core::json::Json::String(t) => t.clone(),
            why403_core::json::Json::Object(_) => r
                .text
                .get(content.node.span.range())
                .unwrap_or_default()
                .to_owned(),
            _ => return Err(content.err(r, "expected the policy content: a JSON string or object")),
        };
        OrgPublicAccessBlock::from_policy_content(&text).map_err(|m| content.err(r, m))
    };
    let slot = s.slot(
        r,
        "organization_s3_policy",
        S3_POLICY_NEEDS,
        Absence::Allowed,
        read,
    )?;
    Ok(match slot {
        Slot::Collected(None) => Slot::Absent,
        Slot::Collected(Some(v)) => Slot::Collected(v),
        Slot::Absent => Slot::Absent,
        Slot::Unavailable(u) => Slot::Unavailable(u),
        Slot::NotApplicable => Slot::NotApplicable,
    })
}

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
        self.org_type().as_str()
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
    o.only(r, &["describe_organization", "roots", "path", "policies"])?;
    let describe = match Section::read(r, &o, "describe_organization", ORG_NEEDS)? {
        Section::Given(d) => {
            let d = d.obj(r)?;
            d.only(r, &["Organization"])?;
            let org = d.req(r, "Organization")?.obj(r)?;
            let id = org.req(r, "Id")?.nonempty(r)?;
            let management = org.req(r, "MasterAccountId")?.account(r)?;
            // Kept when it says consolidated billing only, for errors located on it.
            let consolidated = match org.opt("FeatureSet") {
                Some(f) if f.str(r)? == "CONSOLIDATED_BILLING" => Some(f),
                _ => None,
            };
            Ok((id, management, consolidated))
        }
        Section::Absent(a) => {
            return Err(a.err(
                r,
                "put `$absent` on the whole organization for an account outside any organization",
            ));
        }
        Section::Unavailable(u) => Err(u),
        Section::Missing => Err(missing(ORG_NEEDS)),
    };
    let org_id = describe.as_ref().ok().map(|(id, ..)| *id);
    let root = match Section::read(r, &o, "roots", ROOTS_NEEDS)? {
        Section::Given(v) => Slot::Collected(roots(r, &v, org_id)?),
        Section::Absent(a) => {
            return Err(a.err(r, "`roots` cannot be `$absent`: every organization has a root; put `$absent` on the whole organization for an account outside any organization"));
        }
        Section::Unavailable(u) => Slot::Unavailable(u),
        Section::Missing => Slot::Unavailable(missing(ROOTS_NEEDS)),
    };
    if let (Ok((_, _, Some(features))), Some(rt)) = (&describe, root.get())
        && let Some(t) = rt
            .policy_types
            .iter()
            .find(|t| is_authorization_type(&t.policy_type))
    {
        return Err(features.err(
            r,
            format!(
                "an organization with consolidated billing only cannot have `{}` enabled, as `roots` says",
                t.policy_type
            ),
        ));
    }
    let policies = o.opt_obj(r, "policies")?;
    let root_id = root.get().map(|rt| rt.id.as_str());
    let enabled = |kind: Kind| root.get().and_then(|rt| rt.enabled(kind.org_type()));
    let (scps, rcps) = match Section::read(r, &o, "path", PATH_NEEDS)? {
        Section::Given(p) => {
            let targets = targets(r, &p, account, root_id)?;
            (
                levels(
                    r,
                    &targets,
                    policies.as_ref(),
                    Kind::Scp,
                    enabled(Kind::Scp),
                )?,
                levels(
                    r,
                    &targets,
                    policies.as_ref(),
                    Kind::Rcp,
                    enabled(Kind::Rcp),
                )?,
            )
        }
        Section::Absent(a) => {
            return Err(a.err(r, "`path` cannot be `$absent`: every account has a root; put `$absent` on the whole organization for an account outside any organization"));
        }
        Section::Unavailable(u) => (Slot::Unavailable(u.clone()), Slot::Unavailable(u)),
        Section::Missing => (
            Slot::Unavailable(missing(PATH_NEEDS)),
            Slot::Unavailable(missing(PATH_NEEDS)),
        ),
    };
    let (id, management, features) = match describe {
        Ok(d) => d,
        Err(u) => return Ok(Err(u)),
    };
    // A policy type applies only where it is enabled on the root; without all features, none
    // can be: such policies do not apply, even when the path could not be read.
    let off = |kind: Kind, slot: Slot<Vec<OrgLevel>>| {
        if features.is_some() || enabled(kind) == Some(false) {
            Slot::Absent
        } else {
            slot
        }
    };
    Ok(Ok(Organization {
        id: id.to_owned(),
        management_account: management.to_owned(),
        scps: off(Kind::Scp, scps),
        rcps: off(Kind::Rcp, rcps),
        root,
    }))
}

/// Whether an AWS policy type name is one whose policies can refuse an upload.
fn is_authorization_type(t: &str) -> bool {
    [OrgPolicyType::Scp, OrgPolicyType::Rcp]
        .iter()
        .any(|k| k.as_str() == t)
}

/// `aws organizations list-roots`: the organization's single root with its policy types.
fn roots(r: &Reader<'_>, v: &Val<'_>, org_id: Option<&str>) -> R<OrgRoot> {
    let o = v.obj(r)?;
    o.only(r, &["Roots", "NextToken"])?;
    let list = o.req(r, "Roots")?;
    let items = list.arr(r)?;
    let [one] = items.as_slice() else {
        return Err(list.err(
            r,
            format!(
                "expected the organization's one root, found {} roots",
                items.len()
            ),
        ));
    };
    let ro = one.obj(r)?;
    ro.only(r, &["Id", "Arn", "Name", "PolicyTypes"])?;
    let idv = ro.req(r, "Id")?;
    let id = idv.nonempty(r)?;
    if !id.starts_with("r-") {
        return Err(idv.err(r, format!("expected a root id (`r-...`), found `{id}`")));
    }
    if let (Some(arn), Some(org)) = (ro.opt("Arn"), org_id) {
        let a = arn.str(r)?;
        if !a.contains(&format!("/{org}/")) {
            return Err(arn.err(r, format!("the root `{a}` is not of organization `{org}`")));
        }
    }
    let types = ro.req(r, "PolicyTypes")?;
    let mut policy_types: Vec<RootPolicyType> = Vec::new();
    for t in types.arr(r)? {
        let to = t.obj(r)?;
        to.only(r, &["Type", "Status"])?;
        let tv = to.req(r, "Type")?;
        let policy_type = tv.nonempty(r)?;
        let sv = to.req(r, "Status")?;
        let status = sv.str(r)?;
        if !ROOT_STATUSES.contains(&status) {
            return Err(sv.err(
                r,
                format!(
                    "expected `ENABLED`, `PENDING_ENABLE` or `PENDING_DISABLE`, found `{status}`"
                ),
            ));
        }
        if policy_types.iter().any(|p| p.policy_type == policy_type) {
            return Err(tv.err(r, format!("policy type `{policy_type}` is listed twice")));
        }
        policy_types.push(RootPolicyType {
            policy_type: policy_type.to_owned(),
            status: status.to_owned(),
        });
    }
    Ok(OrgRoot {
        id: id.to_owned(),
        name: ro.opt_str(r, "Name")?.map(str::to_owned),
        policy_types,
    })
}

const ROOT_STATUSES: &[&str] = &["ENABLED", "PENDING_ENABLE", "PENDING_DISABLE"];

/// The levels of `path` (root first, then OUs, then the account), checked.
fn targets<'a>(
    r: &Reader<'_>,
    path: &Val<'a>,
    account: Option<&str>,
    root: Option<&str>,
) -> R<Vec<(Obj<'a>, Val<'a>)>> {
    let mut items = Vec::new();
    for lv in path.arr(r)? {
        let lo = lv.obj(r)?;
        lo.only(r, &["target", "name", "scps", "rcps"])?;
        let tv = lo.req(r, "target")?;
        items.push((lo, tv));
    }
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
        if i == 0
            && let Some(root) = root
            && root != t
        {
            return Err(tv.err(
                r,
                format!("the path must start at the root `{root}` that `roots` gives, found `{t}`"),
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
    Ok(items)
}

/// The policies of one kind along the path. `enabled` is what the root's `PolicyTypes` say
/// of the kind: not enabled, a level may leave it out or give `$absent`, and policies given
/// for it are a contradiction; enabled, `$absent` at every level is one.
fn levels(
    r: &Reader<'_>,
    items: &[(Obj<'_>, Val<'_>)],
    policies: Option<&Obj<'_>>,
    kind: Kind,
    enabled: Option<bool>,
) -> R<Slot<Vec<OrgLevel>>> {
    let mut out = Vec::new();
    let mut unavailable: Option<Unavailable> = None;
    let mut absent: Vec<Val<'_>> = Vec::new();
    for (lo, tv) in items {
        let target = tv.str(r)?;
        let level_name = lo.opt_str(r, "name")?.map(str::to_owned);
        let section = Section::read(r, lo, kind.key(), LIST_NEEDS)?;
        if enabled == Some(false) {
            if let Section::Given(v) = &section {
                return Err(v.err(
                    r,
                    format!(
                        "`roots` does not list `{}` as enabled, so `list-policies-for-target` fails with PolicyTypeNotEnabledException: give `{{\"$absent\": \"PolicyTypeNotEnabledException\"}}` or leave `{}` out",
                        kind.aws_type(),
                        kind.key()
                    ),
                ));
            }
            continue;
        }
        match section {
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
    if enabled == Some(false) {
        return Ok(Slot::Absent);
    }
    if let Some(u) = unavailable {
        return Ok(Slot::Unavailable(u));
    }
    if let Some(a) = absent.first() {
        if absent.len() != items.len() {
            return Err(a.err(
                r,
                format!("`$absent` (the policy type is not enabled) must be given at every level or none, as `{}` applies to the whole organization", kind.key()),
            ));
        }
        if enabled == Some(true) {
            return Err(a.err(
                r,
                format!(
                    "`roots` lists `{}` as `ENABLED`, so it cannot be `$absent` (not enabled)",
                    kind.aws_type()
                ),
            ));
        }
        // The policy type is not enabled in the organization.
        return Ok(Slot::Absent);
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
