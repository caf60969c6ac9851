//! The caller's IAM user or role with every policy that applies to it.
//!
//! Targeted reads first, as concurrent as their dependencies allow: the entity (`GetUser` /
//! `GetRole`) and its lists (`List*Policies`, `ListAttached*Policies`, `ListGroupsForUser`)
//! together, then each inline policy (`Get*Policy`), each group's lists and each managed
//! policy's default version id (`GetPolicy`) as soon as the list that names it answers, then
//! that version's document (`GetPolicyVersion`). Their cost depends on the caller, not on the
//! account. Only when one of them is refused, `GetAccountAuthorizationDetails` (every page:
//! its cost grows with the account) is read instead, and the refusal noted in the stats.
//!
//! Every read goes through the session's cache: a managed policy, a policy version, a group
//! and the authorization details are read once per session whoever needs them.
//!
//! Policies are named as the scenario reader names them, so both sources give the same
//! evidence: `inline policy P of user U`, `managed policy ARN`, `inline policy P of group G`,
//! `managed policy ARN of group G`, `permissions boundary ARN`.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_iam::types::{EntityType, GroupDetail, ManagedPolicyDetail, RoleDetail, UserDetail};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures_util::future::join_all;
use why403_core::evidence::{Identity, IdentityKind, Slot, Unavailable};
use why403_core::{Policy, PolicyKind};

use crate::call::{Api, CallOutcome, Failure, Read, Tracker};
use crate::session::Session;
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

/// The action that reads the entity of `who` (`iam:GetUser` or `iam:GetRole`): the first a
/// reader needs to read its policies.
pub(crate) fn entity_action(who: &Who) -> &'static str {
    match who {
        Who::Session { .. } => GET_ROLE.action,
        _ => GET_USER.action,
    }
}

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

#[derive(Debug, Default, Clone)]
struct Group {
    name: String,
    inline: Vec<(String, String)>,
    attached: Vec<String>,
}

/// A group with the documents of its attached policies, as a session keeps it.
#[derive(Debug, Clone)]
pub(crate) struct GroupRead {
    group: Group,
    docs: Docs,
}

/// The authorization details of an account, every page, as a session keeps them.
#[derive(Debug, Default)]
pub(crate) struct Details {
    users: Vec<UserDetail>,
    groups: Vec<GroupDetail>,
    roles: Vec<RoleDetail>,
    policies: Vec<ManagedPolicyDetail>,
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

/// The reads of one identity: the session (clients and cache), the collection's tracker, and
/// the highest round a call of this identity was made in (a fallback comes after it).
struct Reader<'s, 't> {
    s: &'s Session,
    tr: &'s Tracker<'t>,
    account: &'s str,
    last: AtomicU32,
}

impl Reader<'_, '_> {
    async fn call<T, E, F>(&self, round: u32, api: Api, fut: F) -> Read<T>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.last.fetch_max(round, Ordering::Relaxed);
        self.tr.call(round, api, &[], fut).await
    }

    fn iam(&self) -> &aws_sdk_iam::Client {
        &self.s.clients().iam
    }
}

/// Reads the identity of `who`; `creds_account` is the account the credentials belong to.
pub(crate) async fn read(
    s: &Session,
    tr: &Tracker<'_>,
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
    let entity_api = match kind {
        IdentityKind::User => GET_USER,
        IdentityKind::Role => GET_ROLE,
    };
    if who.account() != creds_account {
        return Slot::Unavailable(Unavailable {
            reason: format!(
                "the IAM policies of account `{}` can be read only with credentials of that \
                 account (these belong to `{creds_account}`)",
                who.account()
            ),
            needs: vec![entity_api.action.to_owned()],
        });
    }
    let rd = Reader {
        s,
        tr,
        account: who.account(),
        last: AtomicU32::new(round),
    };
    let (got, needs) = match Box::pin(targeted(&rd, kind, name, round)).await {
        Ok(found) => (Ok(found), entity_api.action),
        Err(f) if f.outcome == CallOutcome::Denied => {
            let next = rd.last.load(Ordering::Relaxed) + 1;
            tr.note(format!(
                "{} read the whole account (its cost grows with the account's users, groups, \
                 roles and policies) because a targeted read was refused: {}",
                GAAD.name(),
                f.reason
            ));
            match Box::pin(whole_account(&rd, kind, who, name, next)).await {
                Ok(Ok(found)) => (Ok(found), GAAD.action),
                Ok(Err(reason)) => (Err(reason), GAAD.action),
                Err(g) => {
                    return Slot::Unavailable(Unavailable {
                        reason: format!("{}; then {}", f.reason, g.reason),
                        needs: vec![f.action.to_owned(), g.action.to_owned()],
                    });
                }
            }
        }
        Err(f) => return Slot::Unavailable(f.unavailable()),
    };
    let built = got.and_then(|(entity, docs)| build(&entity, &docs));
    match built {
        Ok(i) => Slot::Collected(i),
        Err(reason) => Slot::Unavailable(Unavailable {
            reason,
            needs: vec![needs.to_owned()],
        }),
    }
}

/// What a successful read found: the entity with every document it needs, or why the caller
/// cannot be picked from what IAM answered.
type Found = Result<(Entity, Docs), String>;

fn tags_of(tags: &[aws_sdk_iam::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

fn boundary_of(b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>) -> Option<String> {
    b.and_then(|b| b.permissions_boundary_arn())
        .map(str::to_owned)
}

/// The targeted reads of a user or a role. A refusal, or else the first failure, is the
/// answer (every call has ended by then, so the stats and the fallback's round count them
/// all).
async fn targeted(
    rd: &Reader<'_, '_>,
    kind: IdentityKind,
    name: &str,
    round: u32,
) -> Read<(Entity, Docs)> {
    let iam = rd.iam();
    // The entity, then its boundary's document.
    let entity = async {
        let mut e = Entity {
            kind: Some(kind),
            ..Entity::default()
        };
        match kind {
            IdentityKind::User => {
                let out = rd
                    .call(round, GET_USER, iam.get_user().user_name(name).send())
                    .await?;
                let Some(u) = out.user() else {
                    return Err(Failure::invalid(GET_USER, "no user"));
                };
                e.name = u.user_name().to_owned();
                e.arn = u.arn().to_owned();
                e.path = u.path().to_owned();
                e.id = u.user_id().to_owned();
                e.tags = tags_of(u.tags());
                e.boundary = boundary_of(u.permissions_boundary());
            }
            IdentityKind::Role => {
                let out = rd
                    .call(round, GET_ROLE, iam.get_role().role_name(name).send())
                    .await?;
                let Some(x) = out.role() else {
                    return Err(Failure::invalid(GET_ROLE, "no role"));
                };
                e.name = x.role_name().to_owned();
                e.arn = x.arn().to_owned();
                e.path = x.path().to_owned();
                e.id = x.role_id().to_owned();
                e.tags = tags_of(x.tags());
                e.boundary = boundary_of(x.permissions_boundary());
            }
        }
        let docs = managed_all(rd, e.boundary.iter().cloned().collect(), round + 1).await?;
        Ok((e, docs))
    };
    // The inline policies: their names, then each document.
    let inline = async {
        let (names, last) = match kind {
            IdentityKind::User => {
                list_pages(
                    rd,
                    round,
                    LIST_USER_POLICIES,
                    |m| {
                        iam.list_user_policies()
                            .user_name(name)
                            .max_items(1000)
                            .set_marker(m)
                            .send()
                    },
                    |out| {
                        (
                            out.policy_names().to_vec(),
                            next_marker(out.is_truncated(), out.marker()),
                        )
                    },
                )
                .await?
            }
            IdentityKind::Role => {
                list_pages(
                    rd,
                    round,
                    LIST_ROLE_POLICIES,
                    |m| {
                        iam.list_role_policies()
                            .role_name(name)
                            .max_items(1000)
                            .set_marker(m)
                            .send()
                    },
                    |out| {
                        (
                            out.policy_names().to_vec(),
                            next_marker(out.is_truncated(), out.marker()),
                        )
                    },
                )
                .await?
            }
        };
        let docs = join_all(names.iter().map(|p| async move {
            let doc = match kind {
                IdentityKind::User => rd
                    .call(
                        last + 1,
                        GET_USER_POLICY,
                        iam.get_user_policy().user_name(name).policy_name(p).send(),
                    )
                    .await?
                    .policy_document()
                    .to_owned(),
                IdentityKind::Role => rd
                    .call(
                        last + 1,
                        GET_ROLE_POLICY,
                        iam.get_role_policy().role_name(name).policy_name(p).send(),
                    )
                    .await?
                    .policy_document()
                    .to_owned(),
            };
            Ok::<_, Failure>((p.clone(), doc))
        }))
        .await;
        docs.into_iter().collect::<Read<Vec<_>>>()
    };
    // The attached policies: their ARNs, then each default version.
    let attached = async {
        let (arns, last) = match kind {
            IdentityKind::User => {
                list_pages(
                    rd,
                    round,
                    LIST_ATTACHED_USER,
                    |m| {
                        iam.list_attached_user_policies()
                            .user_name(name)
                            .max_items(1000)
                            .set_marker(m)
                            .send()
                    },
                    |out| {
                        (
                            attached_of(out.attached_policies()),
                            next_marker(out.is_truncated(), out.marker()),
                        )
                    },
                )
                .await?
            }
            IdentityKind::Role => {
                list_pages(
                    rd,
                    round,
                    LIST_ATTACHED_ROLE,
                    |m| {
                        iam.list_attached_role_policies()
                            .role_name(name)
                            .max_items(1000)
                            .set_marker(m)
                            .send()
                    },
                    |out| {
                        (
                            attached_of(out.attached_policies()),
                            next_marker(out.is_truncated(), out.marker()),
                        )
                    },
                )
                .await?
            }
        };
        let docs = managed_all(rd, arns.clone(), last + 1).await?;
        Ok((arns, docs))
    };
    // A user's groups: their names, then each group's policies.
    let groups = async {
        if kind != IdentityKind::User {
            return Ok(Vec::new());
        }
        let (names, last) = list_pages(
            rd,
            round,
            LIST_GROUPS_FOR_USER,
            |m| {
                iam.list_groups_for_user()
                    .user_name(name)
                    .max_items(1000)
                    .set_marker(m)
                    .send()
            },
            |out| {
                (
                    out.groups()
                        .iter()
                        .map(|g| g.group_name().to_owned())
                        .collect::<Vec<_>>(),
                    next_marker(out.is_truncated(), out.marker()),
                )
            },
        )
        .await?;
        let got = join_all(names.iter().map(|g| group(rd, g, last + 1))).await;
        got.into_iter().collect::<Read<Vec<_>>>()
    };
    let (entity, inline, attached, groups) = tokio::join!(entity, inline, attached, groups);
    // A refusal anywhere is the answer (it is what the fallback is for), else the first
    // failure.
    let failures = [
        entity.as_ref().err(),
        inline.as_ref().err(),
        attached.as_ref().err(),
        groups.as_ref().err(),
    ];
    if let Some(f) = failures
        .iter()
        .flatten()
        .find(|f| f.outcome == CallOutcome::Denied)
    {
        return Err((*f).clone());
    }
    let (mut e, mut docs) = entity?;
    e.inline = inline?;
    let (arns, attached_docs) = attached?;
    e.attached = arns;
    docs.extend(attached_docs);
    for g in groups? {
        docs.extend(g.docs);
        e.groups.push(g.group);
    }
    Ok((e, docs))
}

/// Every page of a `List*` call: `send(marker)` makes the call, `items(answer)` gives the
/// items and the next marker. Returns the items and the round of the last page.
async fn list_pages<O, E, T, S, Fut>(
    rd: &Reader<'_, '_>,
    round: u32,
    api: Api,
    mut send: S,
    items: impl Fn(&O) -> (Vec<T>, Option<String>),
) -> Read<(Vec<T>, u32)>
where
    S: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut out = Vec::new();
    let mut marker = None;
    let mut r = round;
    loop {
        let answer = rd.call(r, api, send(marker.take())).await?;
        let (got, next) = items(&answer);
        out.extend(got);
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

fn attached_of(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect()
}

fn inline_of(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<(String, String)> {
    list.iter()
        .filter_map(|p| Some((p.policy_name()?.to_owned(), p.policy_document()?.to_owned())))
        .collect()
}

/// A group's inline policies and its attached policies' documents, once per session.
async fn group(rd: &Reader<'_, '_>, name: &str, round: u32) -> Read<GroupRead> {
    let key = (rd.account.to_owned(), name.to_ascii_lowercase());
    rd.s.cache
        .group
        .get(key, Box::pin(read_group(rd, name, round)))
        .await
}

async fn read_group(rd: &Reader<'_, '_>, name: &str, round: u32) -> Read<GroupRead> {
    let iam = rd.iam();
    let inline = async {
        let (names, last) = list_pages(
            rd,
            round,
            LIST_GROUP_POLICIES,
            |m| {
                iam.list_group_policies()
                    .group_name(name)
                    .max_items(1000)
                    .set_marker(m)
                    .send()
            },
            |out| {
                (
                    out.policy_names().to_vec(),
                    next_marker(out.is_truncated(), out.marker()),
                )
            },
        )
        .await?;
        let docs = join_all(names.iter().map(|p| async move {
            let out = rd
                .call(
                    last + 1,
                    GET_GROUP_POLICY,
                    iam.get_group_policy()
                        .group_name(name)
                        .policy_name(p)
                        .send(),
                )
                .await?;
            Ok::<_, Failure>((p.clone(), out.policy_document().to_owned()))
        }))
        .await;
        docs.into_iter().collect::<Read<Vec<_>>>()
    };
    let attached = async {
        let (arns, last) = list_pages(
            rd,
            round,
            LIST_ATTACHED_GROUP,
            |m| {
                iam.list_attached_group_policies()
                    .group_name(name)
                    .max_items(1000)
                    .set_marker(m)
                    .send()
            },
            |out| {
                (
                    attached_of(out.attached_policies()),
                    next_marker(out.is_truncated(), out.marker()),
                )
            },
        )
        .await?;
        let docs = managed_all(rd, arns.clone(), last + 1).await?;
        Ok((arns, docs))
    };
    let (inline, attached) = tokio::join!(inline, attached);
    let inline = inline?;
    let (arns, docs) = attached?;
    Ok(GroupRead {
        group: Group {
            name: name.to_owned(),
            inline,
            attached: arns,
        },
        docs,
    })
}

/// The default version's document of each managed policy, each once per session.
async fn managed_all(rd: &Reader<'_, '_>, arns: Vec<String>, round: u32) -> Read<Docs> {
    let unique: BTreeSet<String> = arns.into_iter().collect();
    let got = join_all(unique.into_iter().map(|arn| async move {
        let doc = managed(rd, &arn, round).await?;
        Ok((arn, doc))
    }))
    .await;
    got.into_iter().collect()
}

/// The default version's document of one managed policy: `GetPolicy` names the version,
/// `GetPolicyVersion` gives it; each is read once per session (by ARN, and by ARN and
/// version).
async fn managed(rd: &Reader<'_, '_>, arn: &str, round: u32) -> Read<String> {
    let version =
        rd.s.cache
            .policy
            .get(arn.to_owned(), Box::pin(default_version(rd, arn, round)))
            .await?;
    let key = (arn.to_owned(), version.clone());
    rd.s.cache
        .policy_version
        .get(key, Box::pin(version_document(rd, arn, version, round + 1)))
        .await
}

async fn default_version(rd: &Reader<'_, '_>, arn: &str, round: u32) -> Read<String> {
    let iam = rd.iam();
    let p = rd
        .call(round, GET_POLICY, iam.get_policy().policy_arn(arn).send())
        .await?;
    match p.policy().and_then(|p| p.default_version_id()) {
        Some(v) => Ok(v.to_owned()),
        None => Err(Failure::invalid(
            GET_POLICY,
            format!("no default version for `{arn}`"),
        )),
    }
}

async fn version_document(
    rd: &Reader<'_, '_>,
    arn: &str,
    version: String,
    round: u32,
) -> Read<String> {
    let iam = rd.iam();
    let v = rd
        .call(
            round,
            GET_POLICY_VERSION,
            iam.get_policy_version()
                .policy_arn(arn)
                .version_id(&version)
                .send(),
        )
        .await?;
    match v.policy_version().and_then(|v| v.document()) {
        Some(doc) => Ok(doc.to_owned()),
        None => Err(Failure::invalid(
            GET_POLICY_VERSION,
            format!("no document for `{arn}` version `{version}`"),
        )),
    }
}

/// The fallback: every page of the account's authorization details (once per session for
/// each account and kind), the caller picked from them, then any managed policy they did not
/// list.
async fn whole_account(
    rd: &Reader<'_, '_>,
    kind: IdentityKind,
    who: &Who,
    name: &str,
    round: u32,
) -> Read<Found> {
    let word = match kind {
        IdentityKind::User => "user",
        IdentityKind::Role => "role",
    };
    let key = (rd.account.to_owned(), word);
    let details =
        rd.s.cache
            .details
            .get(key, Box::pin(read_details(rd, kind, round)))
            .await?;
    let last = rd.last.load(Ordering::Relaxed).max(round);
    let entity = match pick(&details, kind, who, name) {
        Ok(e) => e,
        Err(reason) => return Ok(Err(reason)),
    };
    let needed = entity.managed_arns();
    let mut docs = Docs::new();
    for p in &details.policies {
        let (Some(arn), default) = (p.arn(), p.default_version_id()) else {
            continue;
        };
        if !needed.contains(arn) {
            continue;
        }
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
    // AWS managed policies, or a page boundary, can leave a needed policy out.
    let missing: Vec<String> = needed
        .into_iter()
        .filter(|a| !docs.contains_key(a))
        .collect();
    docs.extend(managed_all(rd, missing, last + 1).await?);
    Ok(Ok((entity, docs)))
}

async fn read_details(rd: &Reader<'_, '_>, kind: IdentityKind, round: u32) -> Read<Arc<Details>> {
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
    let iam = rd.iam();
    let mut d = Details::default();
    let mut marker: Option<String> = None;
    let mut r = round;
    loop {
        let out = rd
            .call(
                r,
                GAAD,
                iam.get_account_authorization_details()
                    .set_filter(Some(filter.clone()))
                    .max_items(1000)
                    .set_marker(marker.take())
                    .send(),
            )
            .await?;
        d.users.extend(out.user_detail_list().iter().cloned());
        d.groups.extend(out.group_detail_list().iter().cloned());
        d.roles.extend(out.role_detail_list().iter().cloned());
        d.policies.extend(out.policies().iter().cloned());
        match out.marker().filter(|_| out.is_truncated()) {
            Some(m) => {
                marker = Some(m.to_owned());
                r += 1;
            }
            None => break,
        }
    }
    Ok(Arc::new(d))
}

/// The caller's entry in the authorization details.
fn pick(d: &Details, kind: IdentityKind, who: &Who, name: &str) -> Result<Entity, String> {
    match kind {
        IdentityKind::User => {
            let arn = who.arn();
            let found = d
                .users
                .iter()
                .find(|u| u.arn() == Some(arn.as_str()))
                .or_else(|| {
                    d.users
                        .iter()
                        .find(|u| u.user_name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
                });
            let Some(u) = found else {
                return Err(format!(
                    "user `{arn}` is not in the account's authorization details"
                ));
            };
            let mut e = Entity {
                kind: Some(IdentityKind::User),
                name: u.user_name().unwrap_or(name).to_owned(),
                arn: u.arn().unwrap_or(&arn).to_owned(),
                path: u.path().unwrap_or("/").to_owned(),
                id: u.user_id().unwrap_or_default().to_owned(),
                tags: tags_of(u.tags()),
                inline: inline_of(u.user_policy_list()),
                attached: attached_of(u.attached_managed_policies()),
                boundary: boundary_of(u.permissions_boundary()),
                groups: Vec::new(),
            };
            for gname in u.group_list() {
                let Some(g) = d.groups.iter().find(|g| {
                    g.group_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case(gname))
                }) else {
                    return Err(format!(
                        "group `{gname}` of user `{}` is not in the account's authorization details",
                        e.name
                    ));
                };
                e.groups.push(Group {
                    name: gname.clone(),
                    inline: inline_of(g.group_policy_list()),
                    attached: attached_of(g.attached_managed_policies()),
                });
            }
            Ok(e)
        }
        IdentityKind::Role => {
            let Some(role) = d
                .roles
                .iter()
                .find(|x| x.role_name().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            else {
                return Err(format!(
                    "role `{name}` is not in the account's authorization details"
                ));
            };
            Ok(Entity {
                kind: Some(IdentityKind::Role),
                name: role.role_name().unwrap_or(name).to_owned(),
                arn: role.arn().unwrap_or_default().to_owned(),
                path: role.path().unwrap_or("/").to_owned(),
                id: role.role_id().unwrap_or_default().to_owned(),
                tags: tags_of(role.tags()),
                inline: inline_of(role.role_policy_list()),
                attached: attached_of(role.attached_managed_policies()),
                boundary: boundary_of(role.permissions_boundary()),
                groups: Vec::new(),
            })
        }
    }
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
