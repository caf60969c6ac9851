//! The caller's IAM user or role as `aws iam get-account-authorization-details` prints it:
//! the entity, its groups and the managed policies they use, told apart by the names the reader
//! gives identity policies.

use why403_core::Policy;
use why403_core::evidence::{Identity, IdentityKind};

use super::{J, NameKind, Text, data, fixed, id, label, list, name, policy};
use crate::redact::Kind;

/// The policies of one user, role or group, as `*PolicyList` and `AttachedManagedPolicies`.
#[derive(Default)]
struct Attached<'a> {
    inline: Vec<(String, &'a Policy)>,
    managed: Vec<String>,
}

impl Attached<'_> {
    fn lists(&self) -> (J, J) {
        let inline = list(&self.inline, |(n, p)| {
            obj! {"PolicyName": label(n), "PolicyDocument": policy(p, false)}
        });
        let managed = list(&self.managed, |arn| {
            obj! {"PolicyName": policy_name(arn), "PolicyArn": data(arn)}
        });
        (inline, managed)
    }
}

/// The name of a managed policy: redactable unless it is an AWS managed policy, whose ARN is
/// kept.
fn policy_name(arn: &str) -> J {
    match arn.split(':').nth(4) {
        Some("aws") => fixed(arn_name(arn)),
        _ => name(arn_name(arn), NameKind::Policy),
    }
}

/// The last segment of a policy ARN's resource (`policy/path/Name` -> `Name`).
fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The path of a policy ARN's resource (`policy/a/b/Name` -> `/a/b/`).
fn arn_path(arn: &str) -> String {
    let segments: Vec<&str> = arn.splitn(6, ':').nth(5).unwrap_or("").split('/').collect();
    match segments.as_slice() {
        [_, path @ .., _] if !path.is_empty() => format!("/{}/", path.join("/")),
        _ => "/".to_owned(),
    }
}

/// The caller's policies sorted back by the names the reader gives them: the entity's own
/// (`inline policy <name> of user|role <entity>`, `managed policy <arn>`), each group's
/// (`... of group <group>`), and the managed policies by ARN (first document wins: AWS has
/// one default version per ARN). A name of another form is kept as an inline policy.
struct Sorted<'a> {
    own: Attached<'a>,
    groups: Vec<(String, Attached<'a>)>,
    managed: Vec<(String, &'a Policy)>,
}

impl<'a> Sorted<'a> {
    fn new(i: &'a Identity, entity: &str) -> Sorted<'a> {
        let mut s = Sorted {
            own: Attached::default(),
            groups: i
                .groups
                .iter()
                .map(|g| (g.clone(), Attached::default()))
                .collect(),
            managed: Vec::new(),
        };
        for (n, p) in i.policies.iter().enumerate() {
            let (group, what) =
                attachment(&p.name, entity).unwrap_or((None, Attachment::Unknown(n)));
            if let Attachment::Managed(arn) = what
                && !s.managed.iter().any(|(a, _)| a == arn)
            {
                s.managed.push((arn.to_owned(), p));
            }
            let target = match group {
                Some(g) => s.group(g),
                None => &mut s.own,
            };
            match what {
                Attachment::Inline(policy) => target.inline.push((policy.to_owned(), p)),
                Attachment::Managed(arn) => target.managed.push(arn.to_owned()),
                Attachment::Unknown(n) => {
                    target.inline.push((format!("why403-policy-{}", n + 1), p))
                }
            }
        }
        s
    }

    fn group(&mut self, g: &str) -> &mut Attached<'a> {
        let k = match self.groups.iter().position(|(name, _)| name == g) {
            Some(k) => k,
            None => {
                self.groups.push((g.to_owned(), Attached::default()));
                self.groups.len() - 1
            }
        };
        &mut self.groups[k].1
    }
}

#[derive(Debug, Clone, Copy)]
enum Attachment<'a> {
    Inline(&'a str),
    Managed(&'a str),
    /// A name the reader does not give (index in the list).
    Unknown(usize),
}

/// Where the reader's name for an identity policy says it is attached: the group, if any, and
/// the policy name or ARN.
fn attachment<'n>(name: &'n str, entity: &str) -> Option<(Option<&'n str>, Attachment<'n>)> {
    if let Some(rest) = name.strip_prefix("inline policy ") {
        let (policy, owner) = rest.split_once(" of ")?;
        return match owner.strip_prefix("group ") {
            Some(g) => Some((Some(g), Attachment::Inline(policy))),
            None => (owner == entity).then_some((None, Attachment::Inline(policy))),
        };
    }
    let rest = name.strip_prefix("managed policy ")?;
    match rest.split_once(" of group ") {
        Some((arn, g)) => Some((Some(g), Attachment::Managed(arn))),
        None => (!rest.contains(' ')).then_some((None, Attachment::Managed(rest))),
    }
}

/// `aws iam get-account-authorization-details`, reduced to the caller, its groups and the
/// managed policies they use (each with its default version only).
pub(super) fn identity(i: &Identity) -> J {
    let (word, list_key, name_key, id_key, kind) = match i.kind {
        IdentityKind::User => (
            "user",
            "UserPolicyList",
            "UserName",
            "UserId",
            NameKind::User,
        ),
        IdentityKind::Role => (
            "role",
            "RolePolicyList",
            "RoleName",
            "RoleId",
            NameKind::Role,
        ),
    };
    let mut sorted = Sorted::new(i, &format!("{word} {}", i.name));
    let boundary =
        i.boundary
            .as_ref()
            .map(|b| match b.name.strip_prefix("permissions boundary ") {
                Some(arn) if !arn.contains(' ') => (arn.to_owned(), b),
                // A name the reader does not give: a made-up ARN in the caller's account.
                _ => {
                    let account = i.arn.split(':').nth(4).unwrap_or("");
                    (format!("arn:aws:iam::{account}:policy/why403-boundary"), b)
                }
            });
    let (inline, attached) = sorted.own.lists();
    let groups = (i.kind == IdentityKind::User)
        .then(|| list(&sorted.groups, |(g, _)| name(g, NameKind::Group)));
    let entity = obj! {"Path": fixed(&i.path)}
        .with(name_key, Some(name(&i.name, kind)))
        .with(id_key, Some(id(&i.id, Kind::UniqueId)))
        .with("Arn", Some(data(&i.arn)))
        .with(list_key, Some(inline))
        .with("GroupList", groups)
        .with("AttachedManagedPolicies", Some(attached))
        .with(
            "PermissionsBoundary",
            boundary.as_ref().map(|(arn, _)| {
                obj! {"PermissionsBoundaryType": fixed("Policy"), "PermissionsBoundaryArn": data(arn)}
            }),
        )
        .with("Tags", Some(list(&i.tags, |(k, v)| obj! {"Key": fixed(k), "Value": data(v)})));
    if let Some((arn, b)) = boundary
        && !sorted.managed.iter().any(|(a, _)| *a == arn)
    {
        sorted.managed.push((arn, b));
    }
    let groups = list(&sorted.groups, |(g, a)| {
        let (inline, attached) = a.lists();
        obj! {"GroupName": name(g, NameKind::Group), "GroupPolicyList": inline, "AttachedManagedPolicies": attached}
    });
    let policies = list(&sorted.managed, |(arn, p)| {
        let version = obj! {"Document": policy(p, false), "VersionId": fixed("v1"), "IsDefaultVersion": J::Bool(true)};
        obj! {
            "PolicyName": policy_name(arn),
            "Arn": data(arn),
            "Path": fixed(&arn_path(arn)),
            "DefaultVersionId": fixed("v1"),
            "PolicyVersionList": J::Arr(vec![version]),
        }
    });
    let (users, roles) = match i.kind {
        IdentityKind::User => (vec![entity], Vec::new()),
        IdentityKind::Role => (Vec::new(), vec![entity]),
    };
    obj! {
        "UserDetailList": J::Arr(users),
        "GroupDetailList": groups,
        "RoleDetailList": J::Arr(roles),
        "Policies": policies,
    }
}
