//! The caller (`sts get-caller-identity`) and its IAM user or role with every policy that
//! applies to it (`iam get-account-authorization-details`).

use std::collections::BTreeMap;

use why403_core::evidence::{Caller, Identity, IdentityKind, Slot, Unavailable};
use why403_core::policy::AwsPrincipal;
use why403_core::{Policy, PolicyKind};

use crate::read::{Absence, Obj, R, Reader, Section, Val};
use crate::request::Who;

pub(crate) const CALLER_NEEDS: &[&str] = &["sts:GetCallerIdentity"];
pub(crate) const IDENTITY_NEEDS: &[&str] = &["iam:GetAccountAuthorizationDetails"];

/// Reads `caller_identity`; also returns its `Arn` value for the request.
pub(crate) fn caller<'a>(r: &Reader<'_>, s: Section<'a>) -> R<(Slot<Caller>, Option<Val<'a>>)> {
    let mut arn_val = None;
    let slot = s.slot(
        r,
        "caller_identity",
        CALLER_NEEDS,
        Absence::Rejected("every signed request has a caller; for an unsigned one set `\"credentials\": \"anonymous\"` and leave `caller_identity` out"),
        |v| {
            let o = v.obj(r)?;
            o.only(r, &["UserId", "Account", "Arn"])?;
            let account_val = o.req(r, "Account")?;
            let account = account_val.account(r)?.to_owned();
            let arn_v = o.req(r, "Arn")?;
            let arn = arn_v.nonempty(r)?.to_owned();
            if AwsPrincipal::parse(&arn).account().is_some_and(|a| a != account) {
                return Err(account_val.err(r, format!("`{account}` is not the account of `{arn}`")));
            }
            let user_id = o.req(r, "UserId")?.nonempty(r)?.to_owned();
            arn_val = Some(arn_v);
            Ok(Caller { account, arn, user_id })
        },
    )?;
    Ok((slot, arn_val))
}

const DETAILS_FIELDS: &[&str] = &[
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
    "IsTruncated",
    "Marker",
];

/// Reads `account_authorization_details` and picks the caller's user or role.
pub(crate) fn identity(r: &Reader<'_>, s: Section<'_>, who: &Who) -> R<Slot<Identity>> {
    let absence = Absence::Rejected("it lists every user and role of the account");
    match who {
        Who::Anonymous | Who::Root { .. } => {
            // Validate a given section all the same: a typo must not pass silently.
            s.slot(
                r,
                "account_authorization_details",
                IDENTITY_NEEDS,
                absence,
                |v| details(r, &v).map(|_| ()),
            )?;
            Ok(Slot::NotApplicable)
        }
        Who::FederatedUser { .. } => {
            s.slot(
                r,
                "account_authorization_details",
                IDENTITY_NEEDS,
                absence,
                |v| details(r, &v).map(|_| ()),
            )?;
            Ok(Slot::Unavailable(Unavailable {
                reason: "a federated-user ARN does not name the IAM user that called \
                         GetFederationToken, so its policies cannot be picked"
                    .to_owned(),
                needs: vec!["cloudtrail:LookupEvents".to_owned()],
            }))
        }
        Who::User { .. } | Who::Session { .. } => {
            let slot = s.slot(
                r,
                "account_authorization_details",
                IDENTITY_NEEDS,
                absence,
                |v| {
                    let d = details(r, &v)?;
                    pick(r, &d, who)
                },
            )?;
            Ok(match slot {
                Slot::Collected(Ok(identity)) => Slot::Collected(identity),
                Slot::Collected(Err(reason)) => Slot::Unavailable(Unavailable {
                    reason,
                    needs: IDENTITY_NEEDS.iter().map(|s| (*s).to_owned()).collect(),
                }),
                Slot::Absent => Slot::Absent,
                Slot::Unavailable(u) => Slot::Unavailable(u),
                Slot::NotApplicable => Slot::NotApplicable,
            })
        }
    }
}

struct Details<'a> {
    users: Vec<Obj<'a>>,
    groups: Vec<Obj<'a>>,
    roles: Vec<Obj<'a>>,
    policies: Vec<Obj<'a>>,
}

fn details<'a>(r: &Reader<'_>, v: &Val<'a>) -> R<Details<'a>> {
    let o = v.obj(r)?;
    o.only(r, DETAILS_FIELDS)?;
    let list =
        |key: &str| -> R<Vec<Obj<'a>>> { o.opt_arr(r, key)?.iter().map(|x| x.obj(r)).collect() };
    Ok(Details {
        users: list("UserDetailList")?,
        groups: list("GroupDetailList")?,
        roles: list("RoleDetailList")?,
        policies: list("Policies")?,
    })
}

/// `Ok(Err(reason))` when the details do not hold everything about the caller.
type Picked = Result<Identity, String>;

fn pick(r: &Reader<'_>, d: &Details<'_>, who: &Who) -> R<Picked> {
    match who {
        Who::User { arn, .. } => {
            let last = arn.rsplit('/').next().unwrap_or(arn);
            let mut found = None;
            for u in &d.users {
                if u.str(r, "Arn")? == arn {
                    found = Some(u);
                    break;
                }
            }
            if found.is_none() {
                for u in &d.users {
                    if u.str(r, "UserName")?.eq_ignore_ascii_case(last) {
                        found = Some(u);
                        break;
                    }
                }
            }
            match found {
                Some(u) => user(r, d, u),
                None => Ok(Err(format!(
                    "user `{arn}` is not in `UserDetailList` of account_authorization_details"
                ))),
            }
        }
        Who::Session { role_name, .. } => {
            for role in &d.roles {
                if role.str(r, "RoleName")?.eq_ignore_ascii_case(role_name) {
                    return entity(r, d, role, IdentityKind::Role);
                }
            }
            Ok(Err(format!(
                "role `{role_name}` is not in `RoleDetailList` of account_authorization_details"
            )))
        }
        Who::Anonymous | Who::Root { .. } | Who::FederatedUser { .. } => {
            Ok(Err("the caller has no IAM user or role".to_owned()))
        }
    }
}

fn user(r: &Reader<'_>, d: &Details<'_>, u: &Obj<'_>) -> R<Picked> {
    let mut identity = match entity(r, d, u, IdentityKind::User)? {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    for gv in u.opt_arr(r, "GroupList")? {
        let gname = gv.nonempty(r)?;
        let mut group = None;
        for g in &d.groups {
            if g.str(r, "GroupName")?.eq_ignore_ascii_case(gname) {
                group = Some(g);
                break;
            }
        }
        let Some(g) = group else {
            return Ok(Err(format!(
                "group `{gname}` of user `{}` is not in `GroupDetailList` of account_authorization_details",
                identity.name
            )));
        };
        let owner = format!("group {gname}");
        identity
            .policies
            .extend(inline(r, g, "GroupPolicyList", &owner)?);
        match attached(r, d, g, Some(&owner))? {
            Ok(p) => identity.policies.extend(p),
            Err(e) => return Ok(Err(e)),
        }
        identity.groups.push(gname.to_owned());
    }
    Ok(Ok(identity))
}

/// A user or role with its own inline and attached policies, boundary and tags.
fn entity(r: &Reader<'_>, d: &Details<'_>, o: &Obj<'_>, kind: IdentityKind) -> R<Picked> {
    let (name_key, id_key, list_key, word) = match kind {
        IdentityKind::User => ("UserName", "UserId", "UserPolicyList", "user"),
        IdentityKind::Role => ("RoleName", "RoleId", "RolePolicyList", "role"),
    };
    let name = o.req(r, name_key)?.nonempty(r)?.to_owned();
    let owner = format!("{word} {name}");
    let mut policies = inline(r, o, list_key, &owner)?;
    match attached(r, d, o, None)? {
        Ok(p) => policies.extend(p),
        Err(e) => return Ok(Err(format!("{e} (attached to {owner})"))),
    }
    let boundary = match o.opt_obj(r, "PermissionsBoundary")? {
        None => None,
        Some(b) => {
            let arn = b.req(r, "PermissionsBoundaryArn")?.nonempty(r)?;
            let name = format!("permissions boundary {arn}");
            match managed(r, d, arn, &name, PolicyKind::Boundary)? {
                Ok(p) => Some(p),
                Err(e) => return Ok(Err(format!("{e} (the permissions boundary of {owner})"))),
            }
        }
    };
    let mut tags = BTreeMap::new();
    for t in o.opt_arr(r, "Tags")? {
        let t = t.obj(r)?;
        tags.insert(t.str(r, "Key")?.to_owned(), t.str(r, "Value")?.to_owned());
    }
    Ok(Ok(Identity {
        kind,
        arn: o.req(r, "Arn")?.nonempty(r)?.to_owned(),
        name,
        path: o.opt_str(r, "Path")?.unwrap_or("/").to_owned(),
        id: o.req(r, id_key)?.nonempty(r)?.to_owned(),
        tags,
        policies,
        groups: Vec::new(),
        boundary,
    }))
}

fn inline(r: &Reader<'_>, o: &Obj<'_>, key: &str, owner: &str) -> R<Vec<Policy>> {
    let mut out = Vec::new();
    for item in o.opt_arr(r, key)? {
        let item = item.obj(r)?;
        let pname = item.req(r, "PolicyName")?.nonempty(r)?;
        let doc = item.req(r, "PolicyDocument")?;
        out.push(doc.policy(
            r,
            &format!("inline policy {pname} of {owner}"),
            PolicyKind::Identity,
        )?);
    }
    Ok(out)
}

fn attached(
    r: &Reader<'_>,
    d: &Details<'_>,
    o: &Obj<'_>,
    group: Option<&str>,
) -> R<Result<Vec<Policy>, String>> {
    let mut out = Vec::new();
    for item in o.opt_arr(r, "AttachedManagedPolicies")? {
        let item = item.obj(r)?;
        let arn = item.req(r, "PolicyArn")?.nonempty(r)?;
        let name = match group {
            Some(g) => format!("managed policy {arn} of {g}"),
            None => format!("managed policy {arn}"),
        };
        match managed(r, d, arn, &name, PolicyKind::Identity)? {
            Ok(p) => out.push(p),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(out))
}

/// The default version of a managed policy from `Policies`.
fn managed(
    r: &Reader<'_>,
    d: &Details<'_>,
    arn: &str,
    name: &str,
    kind: PolicyKind,
) -> R<Result<Policy, String>> {
    let mut entry = None;
    for p in &d.policies {
        if p.str(r, "Arn")? == arn {
            entry = Some(p);
            break;
        }
    }
    let Some(p) = entry else {
        return Ok(Err(format!(
            "managed policy `{arn}` is not in `Policies` of account_authorization_details \
             (AWS managed policies are listed only without a `--filter`, or with `AWSManagedPolicy`)"
        )));
    };
    let default_id = p.opt_str(r, "DefaultVersionId")?;
    let versions: Vec<Obj<'_>> = p
        .opt_arr(r, "PolicyVersionList")?
        .iter()
        .map(|v| v.obj(r))
        .collect::<R<_>>()?;
    let mut chosen = None;
    for v in &versions {
        if v.opt_bool(r, "IsDefaultVersion")? == Some(true) {
            chosen = Some(v);
            break;
        }
    }
    if chosen.is_none()
        && let Some(id) = default_id
    {
        for v in &versions {
            if v.opt_str(r, "VersionId")? == Some(id) {
                chosen = Some(v);
                break;
            }
        }
    }
    let Some(v) = chosen else {
        return Ok(Err(format!(
            "managed policy `{arn}` has no default version in its `PolicyVersionList`"
        )));
    };
    let doc = v.req(r, "Document")?;
    Ok(Ok(doc.policy(r, name, kind)?))
}
