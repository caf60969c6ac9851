//! The caller's IAM user or role with every policy that applies to it: one
//! `GetAccountAuthorizationDetails` (all pages), or, when that is refused, the per-entity
//! calls (`GetUser`/`GetRole`, `List*Policies`, `Get*Policy`, `ListGroupsForUser`,
//! `GetPolicy` + `GetPolicyVersion`), as concurrent as their dependencies allow.
//!
//! Policies are named as the scenario reader names them, so both sources give the same
//! evidence: `inline policy P of user U`, `managed policy ARN`, `inline policy P of group G`,
//! `managed policy ARN of group G`, `permissions boundary ARN`.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use aws_sdk_iam::types::EntityType;
use futures_util::future::join_all;
use why403_core::evidence::{Identity, IdentityKind, Slot, Unavailable};
use why403_core::{Policy, PolicyKind};

use crate::call::{Api, Failure, Read, Tracker};
use crate::config::Clients;
use crate::who::Who;

const GAAD: Api = Api::new(
    "iam",
    "GetAccountAuthorizationDetails",
    "iam:GetAccountAuthorizationDetails",
);
const GET_USER: Api = Api::new("iam", "GetUser", "iam:GetUser");
const GET_ROLE: Api = Api::new("iam", "GetRole", "iam:GetRole");
const LIST_USER_POLICIES: Api = Api::new("iam", "ListUserPolicies", "iam:ListUserPolicies");
const GET_USER_POLICY: Api = Api::new("iam", "GetUserPolicy", "iam:GetUserPolicy");
const LIST_ATTACHED_USER: Api = Api::new(
    "iam",
    "ListAttachedUserPolicies",
    "iam:ListAttachedUserPolicies",
);
const LIST_GROUPS_FOR_USER: Api = Api::new("iam", "ListGroupsForUser", "iam:ListGroupsForUser");
const LIST_GROUP_POLICIES: Api = Api::new("iam", "ListGroupPolicies", "iam:ListGroupPolicies");
const GET_GROUP_POLICY: Api = Api::new("iam", "GetGroupPolicy", "iam:GetGroupPolicy");
const LIST_ATTACHED_GROUP: Api = Api::new(
    "iam",
    "ListAttachedGroupPolicies",
    "iam:ListAttachedGroupPolicies",
);
const LIST_ROLE_POLICIES: Api = Api::new("iam", "ListRolePolicies", "iam:ListRolePolicies");
const GET_ROLE_POLICY: Api = Api::new("iam", "GetRolePolicy", "iam:GetRolePolicy");
const LIST_ATTACHED_ROLE: Api = Api::new(
    "iam",
    "ListAttachedRolePolicies",
    "iam:ListAttachedRolePolicies",
);
const GET_POLICY: Api = Api::new("iam", "GetPolicy", "iam:GetPolicy");
const GET_POLICY_VERSION: Api = Api::new("iam", "GetPolicyVersion", "iam:GetPolicyVersion");

/// A user's or role's policies as IAM lists them, before parsing.
#[derive(Debug, Default)]
struct Entity {
    kind: Option<IdentityKind>,
    name: String,
    arn: String,
    path: String,
    id: String,
    tags: BTreeMap<String, String>,
    /// Inline policies: name and document (URL-encoded or raw).
    inline: Vec<(String, String)>,
    attached: Vec<String>,
    boundary: Option<String>,
    groups: Vec<Group>,
}

#[derive(Debug, Default)]
struct Group {
    name: String,
    inline: Vec<(String, String)>,
    attached: Vec<String>,
}

impl Entity {
    /// Every managed policy the entity needs.
    fn managed_arns(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.attached.iter().cloned().collect();
        all.extend(self.boundary.iter().cloned());
        for g in &self.groups {
            all.extend(g.attached.iter().cloned());
        }
        all
    }
}

/// Managed policy ARN -> default version's document.
type Docs = BTreeMap<String, String>;

/// Reads the identity of `who`; `creds_account` is the account the credentials belong to.
pub(crate) async fn read(
    tr: &Tracker<'_>,
    c: &Clients,
    who: &Who,
    creds_account: &str,
    round: u32,
) -> Slot<Identity> {
    let (kind, name) = match who {
        Who::Root { .. } => return Slot::NotApplicable,
        Who::Federated { .. } => {
            return Slot::Unavailable(Unavailable {
                reason: "a federated-user ARN does not name the IAM user that called \
                         GetFederationToken, so its policies cannot be picked"
                    .to_owned(),
                needs: vec!["cloudtrail:LookupEvents".to_owned()],
            });
        }
        Who::User { name, .. } => (IdentityKind::User, name.as_str()),
        Who::Session { role_name, .. } => (IdentityKind::Role, role_name.as_str()),
    };
    if who.account() != creds_account {
        return Slot::Unavailable(Unavailable {
            reason: format!(
                "the IAM policies of account `{}` can be read only with credentials of that \
                 account (these belong to `{creds_account}`)",
                who.account()
            ),
            needs: vec![GAAD.action.to_owned()],
        });
    }
    let got = match Box::pin(details(tr, c, kind, who, name, round)).await {
        Ok(found) => found,
        Err(gaad) => match Box::pin(per_entity(tr, c, kind, name, round + 1)).await {
            Ok(found) => found,
            Err(f) => {
                return Slot::Unavailable(Unavailable {
                    reason: format!("{}; then {}", gaad.reason, f.reason),
                    needs: vec![gaad.action.to_owned(), f.action.to_owned()],
                });
            }
        },
    };
    let (entity, docs) = match got {
        Ok(v) => v,
        Err(reason) => {
            return Slot::Unavailable(Unavailable {
                reason,
                needs: vec![GAAD.action.to_owned()],
            });
        }
    };
    match build(&entity, &docs) {
        Ok(i) => Slot::Collected(i),
        Err(reason) => Slot::Unavailable(Unavailable {
            reason,
            needs: vec![GAAD.action.to_owned()],
        }),
    }
}

/// What a successful read found: the entity with every document it needs, or why the caller
/// cannot be picked from what IAM answered.
type Found = Result<(Entity, Docs), String>;

/// Every page of the authorization details, filtered to what the caller's kind needs, then
/// any managed policy they did not list.
async fn details(
    tr: &Tracker<'_>,
    c: &Clients,
    kind: IdentityKind,
    who: &Who,
    name: &str,
    round: u32,
) -> Read<Found> {
    let iam = &c.iam;
    let filter = match kind {
        IdentityKind::User => vec![
            EntityType::User,
            EntityType::Group,
            EntityType::LocalManagedPolicy,
            EntityType::AwsManagedPolicy,
        ],
        IdentityKind::Role => vec![
            EntityType::Role,
            EntityType::LocalManagedPolicy,
            EntityType::AwsManagedPolicy,
        ],
    };
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut roles = Vec::new();
    let mut policies = Vec::new();
    let mut marker: Option<String> = None;
    let mut r = round;
    loop {
        let out = tr
            .call(
                r,
                GAAD,
                &[],
                iam.get_account_authorization_details()
                    .set_filter(Some(filter.clone()))
                    .max_items(1000)
                    .set_marker(marker.take())
                    .send(),
            )
            .await?;
        users.extend(out.user_detail_list().iter().cloned());
        groups.extend(out.group_detail_list().iter().cloned());
        roles.extend(out.role_detail_list().iter().cloned());
        policies.extend(out.policies().iter().cloned());
        match out.marker().filter(|_| out.is_truncated()) {
            Some(m) => {
                marker = Some(m.to_owned());
                r += 1;
            }
            None => break,
        }
    }
    let mut docs = Docs::new();
    for p in &policies {
        let (Some(arn), default) = (p.arn(), p.default_version_id()) else {
            continue;
        };
        let version = p
            .policy_version_list()
            .iter()
            .find(|v| v.is_default_version())
            .or_else(|| {
                p.policy_version_list()
                    .iter()
                    .find(|v| v.version_id().is_some() && v.version_id() == default)
            });
        if let Some(doc) = version.and_then(|v| v.document()) {
            docs.insert(arn.to_owned(), doc.to_owned());
        }
    }
    let entity = match kind {
        IdentityKind::User => {
            let arn = who.arn();
            let found = users
                .iter()
                .find(|u| u.arn() == Some(arn.as_str()))
                .or_else(|| {
                    users
                        .iter()
                        .find(|u| u.user_name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
                });
            let Some(u) = found else {
                return Ok(Err(format!(
                    "user `{arn}` is not in the account's authorization details"
                )));
            };
            let mut e = Entity {
                kind: Some(IdentityKind::User),
                name: u.user_name().unwrap_or(name).to_owned(),
                arn: u.arn().unwrap_or(&arn).to_owned(),
                path: u.path().unwrap_or("/").to_owned(),
                id: u.user_id().unwrap_or_default().to_owned(),
                tags: u
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                inline: inline_of(u.user_policy_list()),
                attached: attached_of(u.attached_managed_policies()),
                boundary: u
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
                groups: Vec::new(),
            };
            for gname in u.group_list() {
                let Some(g) = groups.iter().find(|g| {
                    g.group_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case(gname))
                }) else {
                    return Ok(Err(format!(
                        "group `{gname}` of user `{}` is not in the account's authorization details",
                        e.name
                    )));
                };
                e.groups.push(Group {
                    name: gname.clone(),
                    inline: inline_of(g.group_policy_list()),
                    attached: attached_of(g.attached_managed_policies()),
                });
            }
            e
        }
        IdentityKind::Role => {
            let Some(role) = roles
                .iter()
                .find(|x| x.role_name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            else {
                return Ok(Err(format!(
                    "role `{name}` is not in the account's authorization details"
                )));
            };
            Entity {
                kind: Some(IdentityKind::Role),
                name: role.role_name().unwrap_or(name).to_owned(),
                arn: role.arn().unwrap_or_default().to_owned(),
                path: role.path().unwrap_or("/").to_owned(),
                id: role.role_id().unwrap_or_default().to_owned(),
                tags: role
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                inline: inline_of(role.role_policy_list()),
                attached: attached_of(role.attached_managed_policies()),
                boundary: role
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                    .map(str::to_owned),
                groups: Vec::new(),
            }
        }
    };
    // AWS managed policies, or a page boundary, can leave a needed policy out.
    let missing: Vec<String> = entity
        .managed_arns()
        .into_iter()
        .filter(|a| !docs.contains_key(a))
        .collect();
    docs.extend(managed_all(tr, c, &missing, r + 1).await?);
    Ok(Ok((entity, docs)))
}

fn inline_of(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<(String, String)> {
    list.iter()
        .filter_map(|p| Some((p.policy_name()?.to_owned(), p.policy_document()?.to_owned())))
        .collect()
}

fn attached_of(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

/// Every page of a `List*` call: `page(marker, round)` gives the items and the next marker.
/// Returns the items and the round of the last page.
async fn all_pages<T, F, Fut>(round: u32, mut page: F) -> Read<(Vec<T>, u32)>
where
    F: FnMut(Option<String>, u32) -> Fut,
    Fut: Future<Output = Read<(Vec<T>, Option<String>)>>,
{
    let mut out = Vec::new();
    let mut marker = None;
    let mut r = round;
    loop {
        let (items, next) = page(marker.take(), r).await?;
        out.extend(items);
        match next {
            Some(m) => {
                marker = Some(m);
                r += 1;
            }
            None => return Ok((out, r)),
        }
    }
}

fn next_marker(truncated: bool, marker: Option<&str>) -> Option<String> {
    marker.filter(|_| truncated).map(str::to_owned)
}

/// The per-entity reads, for when the authorization details are refused.
async fn per_entity(
    tr: &Tracker<'_>,
    c: &Clients,
    kind: IdentityKind,
    name: &str,
    round: u32,
) -> Read<Found> {
    let iam = &c.iam;
    let mut e = Entity {
        kind: Some(kind),
        ..Entity::default()
    };
    let (inline_names, attached, groups, last) = match kind {
        IdentityKind::User => {
            let (user, inline, attached, groups) = tokio::join!(
                tr.call(round, GET_USER, &[], iam.get_user().user_name(name).send()),
                all_pages(round, |m, r| async move {
                    let out = tr
                        .call(
                            r,
                            LIST_USER_POLICIES,
                            &[],
                            iam.list_user_policies()
                                .user_name(name)
                                .max_items(1000)
                                .set_marker(m)
                                .send(),
                        )
                        .await?;
                    Ok((
                        out.policy_names().to_vec(),
                        next_marker(out.is_truncated(), out.marker()),
                    ))
                }),
                all_pages(round, |m, r| async move {
                    let out = tr
                        .call(
                            r,
                            LIST_ATTACHED_USER,
                            &[],
                            iam.list_attached_user_policies()
                                .user_name(name)
                                .max_items(1000)
                                .set_marker(m)
                                .send(),
                        )
                        .await?;
                    Ok((
                        attached_of(out.attached_policies()),
                        next_marker(out.is_truncated(), out.marker()),
                    ))
                }),
                all_pages(round, |m, r| async move {
                    let out = tr
                        .call(
                            r,
                            LIST_GROUPS_FOR_USER,
                            &[],
                            iam.list_groups_for_user()
                                .user_name(name)
                                .max_items(1000)
                                .set_marker(m)
                                .send(),
                        )
                        .await?;
                    Ok((
                        out.groups()
                            .iter()
                            .map(|g| g.group_name().to_owned())
                            .collect::<Vec<_>>(),
                        next_marker(out.is_truncated(), out.marker()),
                    ))
                }),
            );
            let user = user?;
            let Some(u) = user.user() else {
                return Err(Failure::invalid(GET_USER, "no user"));
            };
            e.name = u.user_name().to_owned();
            e.arn = u.arn().to_owned();
            e.path = u.path().to_owned();
            e.id = u.user_id().to_owned();
            e.tags = u
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            e.boundary = u
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned);
            let (inline, r1) = inline?;
            let (attached, r2) = attached?;
            let (groups, r3) = groups?;
            (inline, attached, groups, r1.max(r2).max(r3))
        }
        IdentityKind::Role => {
            let (role, inline, attached) = tokio::join!(
                tr.call(round, GET_ROLE, &[], iam.get_role().role_name(name).send()),
                all_pages(round, |m, r| async move {
                    let out = tr
                        .call(
                            r,
                            LIST_ROLE_POLICIES,
                            &[],
                            iam.list_role_policies()
                                .role_name(name)
                                .max_items(1000)
                                .set_marker(m)
                                .send(),
                        )
                        .await?;
                    Ok((
                        out.policy_names().to_vec(),
                        next_marker(out.is_truncated(), out.marker()),
                    ))
                }),
                all_pages(round, |m, r| async move {
                    let out = tr
                        .call(
                            r,
                            LIST_ATTACHED_ROLE,
                            &[],
                            iam.list_attached_role_policies()
                                .role_name(name)
                                .max_items(1000)
                                .set_marker(m)
                                .send(),
                        )
                        .await?;
                    Ok((
                        attached_of(out.attached_policies()),
                        next_marker(out.is_truncated(), out.marker()),
                    ))
                }),
            );
            let role = role?;
            let Some(x) = role.role() else {
                return Err(Failure::invalid(GET_ROLE, "no role"));
            };
            e.name = x.role_name().to_owned();
            e.arn = x.arn().to_owned();
            e.path = x.path().to_owned();
            e.id = x.role_id().to_owned();
            e.tags = x
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            e.boundary = x
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned);
            let (inline, r1) = inline?;
            let (attached, r2) = attached?;
            (inline, attached, Vec::new(), r1.max(r2))
        }
    };
    e.attached = attached;
    let next = last + 1;
    let mut own_managed: Vec<String> = e.attached.clone();
    own_managed.extend(e.boundary.iter().cloned());
    let (inline, groups, docs) = tokio::join!(
        join_all(inline_names.iter().map(|p| async move {
            let doc = match kind {
                IdentityKind::User => tr
                    .call(
                        next,
                        GET_USER_POLICY,
                        &[],
                        iam.get_user_policy().user_name(name).policy_name(p).send(),
                    )
                    .await?
                    .policy_document()
                    .to_owned(),
                IdentityKind::Role => tr
                    .call(
                        next,
                        GET_ROLE_POLICY,
                        &[],
                        iam.get_role_policy().role_name(name).policy_name(p).send(),
                    )
                    .await?
                    .policy_document()
                    .to_owned(),
            };
            Ok::<_, Failure>((p.clone(), doc))
        })),
        join_all(groups.iter().map(|g| group(tr, c, g, next))),
        managed_all(tr, c, &own_managed, next),
    );
    e.inline = inline.into_iter().collect::<Read<Vec<_>>>()?;
    let mut group_last = next;
    for g in groups {
        let (g, r) = g?;
        group_last = group_last.max(r);
        e.groups.push(g);
    }
    let mut docs = docs?;
    let missing: Vec<String> = e
        .managed_arns()
        .into_iter()
        .filter(|a| !docs.contains_key(a))
        .collect();
    docs.extend(managed_all(tr, c, &missing, group_last + 1).await?);
    Ok(Ok((e, docs)))
}

/// A group's inline and attached policies; returns the round of its last call.
async fn group(tr: &Tracker<'_>, c: &Clients, name: &str, round: u32) -> Read<(Group, u32)> {
    let iam = &c.iam;
    let (inline, attached) = tokio::join!(
        all_pages(round, |m, r| async move {
            let out = tr
                .call(
                    r,
                    LIST_GROUP_POLICIES,
                    &[],
                    iam.list_group_policies()
                        .group_name(name)
                        .max_items(1000)
                        .set_marker(m)
                        .send(),
                )
                .await?;
            Ok((
                out.policy_names().to_vec(),
                next_marker(out.is_truncated(), out.marker()),
            ))
        }),
        all_pages(round, |m, r| async move {
            let out = tr
                .call(
                    r,
                    LIST_ATTACHED_GROUP,
                    &[],
                    iam.list_attached_group_policies()
                        .group_name(name)
                        .max_items(1000)
                        .set_marker(m)
                        .send(),
                )
                .await?;
            Ok((
                attached_of(out.attached_policies()),
                next_marker(out.is_truncated(), out.marker()),
            ))
        }),
    );
    let (names, r1) = inline?;
    let (attached, r2) = attached?;
    let next = r1 + 1;
    let docs = join_all(names.iter().map(|p| async move {
        let out = tr
            .call(
                next,
                GET_GROUP_POLICY,
                &[],
                iam.get_group_policy()
                    .group_name(name)
                    .policy_name(p)
                    .send(),
            )
            .await?;
        Ok::<_, Failure>((p.clone(), out.policy_document().to_owned()))
    }))
    .await;
    let inline = docs.into_iter().collect::<Read<Vec<_>>>()?;
    let last = if names.is_empty() { r1 } else { next };
    Ok((
        Group {
            name: name.to_owned(),
            inline,
            attached,
        },
        last.max(r2),
    ))
}

/// The default version of each managed policy (`GetPolicy`, then `GetPolicyVersion`).
async fn managed_all(tr: &Tracker<'_>, c: &Clients, arns: &[String], round: u32) -> Read<Docs> {
    let iam = &c.iam;
    let unique: BTreeSet<&String> = arns.iter().collect();
    let got = join_all(unique.into_iter().map(|arn| async move {
        let p = tr
            .call(
                round,
                GET_POLICY,
                &[],
                iam.get_policy().policy_arn(arn).send(),
            )
            .await?;
        let Some(version) = p.policy().and_then(|p| p.default_version_id()) else {
            return Err(Failure::invalid(
                GET_POLICY,
                format!("no default version for `{arn}`"),
            ));
        };
        let v = tr
            .call(
                round + 1,
                GET_POLICY_VERSION,
                &[],
                iam.get_policy_version()
                    .policy_arn(arn)
                    .version_id(version)
                    .send(),
            )
            .await?;
        let Some(doc) = v.policy_version().and_then(|v| v.document()) else {
            return Err(Failure::invalid(
                GET_POLICY_VERSION,
                format!("no document for `{arn}` version `{version}`"),
            ));
        };
        Ok((arn.clone(), doc.to_owned()))
    }))
    .await;
    got.into_iter().collect()
}

/// Parses every document into the identity, named as the scenario reader names them.
fn build(e: &Entity, docs: &Docs) -> Result<Identity, String> {
    let kind = e.kind.unwrap_or(IdentityKind::User);
    let word = match kind {
        IdentityKind::User => "user",
        IdentityKind::Role => "role",
    };
    let parse = |name: String, kind: PolicyKind, text: &str| {
        Policy::parse(&name, kind, text).map_err(|err| format!("{name} does not parse: {err}"))
    };
    let managed = |arn: &str, name: String, kind: PolicyKind| match docs.get(arn) {
        Some(text) => parse(name, kind, text),
        None => Err(format!("managed policy `{arn}` could not be read")),
    };
    let mut policies = Vec::new();
    for (pname, doc) in &e.inline {
        policies.push(parse(
            format!("inline policy {pname} of {word} {}", e.name),
            PolicyKind::Identity,
            doc,
        )?);
    }
    for arn in &e.attached {
        policies.push(managed(
            arn,
            format!("managed policy {arn}"),
            PolicyKind::Identity,
        )?);
    }
    let mut groups = Vec::new();
    for g in &e.groups {
        for (pname, doc) in &g.inline {
            policies.push(parse(
                format!("inline policy {pname} of group {}", g.name),
                PolicyKind::Identity,
                doc,
            )?);
        }
        for arn in &g.attached {
            policies.push(managed(
                arn,
                format!("managed policy {arn} of group {}", g.name),
                PolicyKind::Identity,
            )?);
        }
        groups.push(g.name.clone());
    }
    let boundary = match &e.boundary {
        Some(arn) => Some(managed(
            arn,
            format!("permissions boundary {arn}"),
            PolicyKind::Boundary,
        )?),
        None => None,
    };
    Ok(Identity {
        kind,
        arn: e.arn.clone(),
        name: e.name.clone(),
        path: e.path.clone(),
        id: e.id.clone(),
        tags: e.tags.clone(),
        policies,
        groups,
        boundary,
    })
}
