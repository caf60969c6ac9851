//! An account's organization as the scenario file holds it: `describe_organization`, the
//! `path` of levels with `list-policies-for-target` outputs, and the `describe-policy` bodies.

use why403_core::Policy;
use why403_core::evidence::{OrgLevel, OrgPolicyType, OrgRoot, Organization, Slot, Unavailable};
use why403_core::json;

use super::{
    J, NameKind, Text, absent, compact, fixed, id, label, name, policy, tree, unavailable,
};
use crate::redact::Kind;

/// The AWS managed policies that the reader supplies when `policies` leaves them out.
const FULL_ACCESS: [(&str, &str); 2] = [
    (
        "p-FullAWSAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "p-RCPFullAWSAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
    ),
];

/// The id and name of an SCP or RCP, from the name the reader gave it:
/// `SCP p-abc123 (DenyS3) attached to ou-...` or `RCP p-abc123 attached to r-...`.
fn org_policy_name(label: &str) -> Option<(&str, Option<&str>)> {
    let rest = label
        .strip_prefix("SCP ")
        .or_else(|| label.strip_prefix("RCP "))?;
    let (id, after) = rest.split_once(' ')?;
    if after.starts_with("attached to ") {
        return Some((id, None));
    }
    let (pname, _) = after.strip_prefix('(')?.rsplit_once(") attached to ")?;
    Some((id, Some(pname)))
}

/// The `describe-policy` bodies to write: id, name, type and document, in first-seen order.
type Bodies<'a> = Vec<(String, Option<String>, &'static str, &'a Policy)>;

/// `organization` / `bucket_organization`: `describe_organization`, `roots` when it was read
/// (or refused), the `path` from the levels that were read, and the bodies of the policies
/// other than the built-in full access ones. Both SCPs and RCPs absent, unless the root shows
/// neither enabled, is written as `CONSOLIDATED_BILLING`.
pub(super) fn organization(o: &Organization) -> J {
    let root = o.root.get();
    let off_by_root = |t: OrgPolicyType| root.and_then(|r| r.enabled(t)) == Some(false);
    let both_absent = matches!((&o.scps, &o.rcps), (Slot::Absent, Slot::Absent));
    let consolidated =
        both_absent && !(off_by_root(OrgPolicyType::Scp) && off_by_root(OrgPolicyType::Rcp));
    let features = fixed(if consolidated {
        "CONSOLIDATED_BILLING"
    } else {
        "ALL"
    });
    let describe = obj! {"Organization": obj! {
        "Id": id(&o.id, Kind::Org), "FeatureSet": features,
        "MasterAccountId": id(&o.management_account, Kind::Account),
    }};
    // A root with SCPs or RCPs listed cannot go with consolidated billing.
    let roots = match &o.root {
        Slot::Collected(r)
            if consolidated
                && r.policy_types.iter().any(|t| {
                    [OrgPolicyType::Scp, OrgPolicyType::Rcp]
                        .iter()
                        .any(|k| k.as_str() == t.policy_type)
                }) =>
        {
            None
        }
        Slot::Collected(r) => Some(roots(r)),
        Slot::Unavailable(u) if *u != not_in_scenario() => Some(unavailable(u)),
        _ => None,
    };
    let out = obj! {"describe_organization": describe}.with("roots", roots);
    if both_absent {
        return out;
    }
    let Some(levels) = o.scps.get().or(o.rcps.get()) else {
        // No level was read: the path itself is unavailable. A policy type the root shows not
        // enabled is read back as absent without it.
        let fallback = Unavailable {
            reason: "the organization's policies were not read".to_owned(),
            needs: Vec::new(),
        };
        let u = o
            .scps
            .unavailable()
            .or(o.rcps.unavailable())
            .unwrap_or(&fallback);
        return out.with("path", Some(unavailable(u)));
    };
    let mut bodies: Bodies<'_> = Vec::new();
    let mut path = Vec::new();
    let last = levels.len().saturating_sub(1);
    for (i, l) in levels.iter().enumerate() {
        let target = l.target_id.as_str();
        // The reader wants the root first and the account last.
        let kind = match i {
            0 => Kind::Root,
            i if i == last => Kind::Account,
            _ => Kind::Ou,
        };
        let scps = level(&o.scps, i, target, "SERVICE_CONTROL_POLICY", &mut bodies);
        let rcps = level(&o.rcps, i, target, "RESOURCE_CONTROL_POLICY", &mut bodies);
        path.push(
            obj! {"target": id(target, kind)}
                .with("name", l.name.as_deref().map(|n| name(n, NameKind::Level)))
                .with("scps", Some(scps))
                .with("rcps", Some(rcps)),
        );
    }
    let policies: Vec<(String, Text, J)> = bodies
        .into_iter()
        .filter(|(id, _, _, p)| !is_built_in(id, p))
        .map(|(id, pname, ty, p)| {
            let summary = obj! {"Id": policy_id(&id)}
                .with("Name", pname.as_deref().map(label))
                .with("Type", Some(fixed(ty)));
            let body = obj! {"Policy": obj! {"PolicySummary": summary, "Content": policy(p, true)}};
            let key = match policy_id(&id) {
                J::Str(_, text) => text,
                _ => Text::Fixed,
            };
            (id, key, body)
        })
        .collect();
    out.with("path", Some(J::Arr(path))).with(
        "policies",
        (!policies.is_empty()).then_some(J::Obj(policies)),
    )
}

/// What the reader gives for `roots` left out.
fn not_in_scenario() -> Unavailable {
    Unavailable {
        reason: crate::read::NOT_IN_SCENARIO.to_owned(),
        needs: vec!["organizations:ListRoots".to_owned()],
    }
}

/// `list-roots` for the organization's root (its `Arn` is not kept).
fn roots(r: &OrgRoot) -> J {
    let types = r.policy_types.iter().map(|t| {
        obj! {"Type": fixed(&t.policy_type), "Status": fixed(&t.status)}
    });
    let root = obj! {"Id": id(&r.id, Kind::Root)}
        .with("Name", r.name.as_deref().map(|n| name(n, NameKind::Level)))
        .with("PolicyTypes", Some(J::Arr(types.collect())));
    obj! {"Roots": J::Arr(vec![root])}
}

/// An SCP's or RCP's id: AWS's own full-access policies are kept.
fn policy_id(pid: &str) -> J {
    if FULL_ACCESS.iter().any(|(full, _)| *full == pid) {
        fixed(pid)
    } else {
        id(pid, Kind::OrgPolicy)
    }
}

fn is_built_in(id: &str, p: &Policy) -> bool {
    let mut text = String::new();
    if let Ok(node) = json::parse(&p.text) {
        compact(&tree(&node, Text::Fixed), &mut text);
    }
    FULL_ACCESS
        .iter()
        .any(|(fid, full)| *fid == id && text == *full)
}

/// `list-policies-for-target` of one level, recording the bodies to describe.
fn level<'a>(
    slot: &'a Slot<Vec<OrgLevel>>,
    index: usize,
    target: &str,
    ty: &'static str,
    bodies: &mut Bodies<'a>,
) -> J {
    let not_read = |reason: String| Unavailable {
        reason,
        needs: vec!["organizations:ListPoliciesForTarget".to_owned()],
    };
    let levels = match slot {
        Slot::Collected(levels) => levels,
        Slot::Absent => return absent("PolicyTypeNotEnabledException"),
        Slot::Unavailable(u) => return unavailable(u),
        Slot::NotApplicable => return unavailable(&not_read("not applicable".to_owned())),
    };
    let found = levels
        .get(index)
        .filter(|l| l.target_id == target)
        .or_else(|| levels.iter().find(|l| l.target_id == target));
    let Some(found) = found else {
        return unavailable(&not_read(format!(
            "the policies attached to `{target}` were not read"
        )));
    };
    let policies = found.policies.iter().enumerate().map(|(k, p)| {
        let (id, pname) = match org_policy_name(&p.name) {
            Some((id, pname)) => (id.to_owned(), pname.map(str::to_owned)),
            // A name the reader does not give: a made-up id.
            None => (format!("p-why403{index}x{k}"), None),
        };
        let entry = obj! {"Id": policy_id(&id)}
            .with("Name", pname.as_deref().map(label))
            .with("Type", Some(fixed(ty)));
        if !bodies.iter().any(|(b, ..)| *b == id) {
            bodies.push((id, pname, ty, p));
        }
        entry
    });
    obj! {"Policies": J::Arr(policies.collect())}
}
