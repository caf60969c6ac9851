//! Condition keys AWS puts in a request whose value the evidence leaves open: the caller's
//! organization (id and path) when it could not be read, the resource owner's, the caller's
//! tags and unique id when its IAM identity could not be read. Leaving such a key out of the
//! context would decide silently as if the caller were in no organization or had no tag; the
//! analysis instead evaluates the check under every value that matters to the policies (none,
//! each value the policies compare the key with, and one they do not name) and leaves a
//! decision that depends on it `Indeterminate`, naming the missing evidence.

use super::{Block, CheckOutcome, Missing, settle};
use crate::condition::Family;
use crate::context::RequestContext;
use crate::eval::{Evaluation, PolicySet, Request, RequestPrincipal};
use crate::evidence::{Evidence, EvidenceKind, Slot, Unavailable};
use crate::policy::{AwsPrincipal, Policy};
use crate::upload::UploadRequest;

/// Keys the evidence leaves open, and the evidence that would settle them.
#[derive(Debug, Clone)]
pub(crate) struct Unknown {
    spec: Spec,
    missing: Missing,
}

#[derive(Debug, Clone)]
enum Spec {
    /// An organization. With `id` unknown, the account may be in none (every key absent) or
    /// in any; with `id` known, only its path is open.
    Org {
        id: Option<String>,
        id_keys: Vec<&'static str>,
        path_keys: Vec<&'static str>,
    },
    /// Keys that share one single value, unknown; absent too when `may_be_absent`.
    Value {
        keys: Vec<&'static str>,
        may_be_absent: bool,
    },
    /// Every key under `prefix` (`aws:PrincipalTag/`) but the `known` ones (lower-case) may
    /// be absent or have any value.
    Tags {
        prefix: &'static str,
        known: Vec<String>,
    },
}

/// One way the open keys could be: each key with its values, or `None` for absent.
type World = Vec<(String, bool, Option<Vec<String>>)>;

/// More combinations than this are not evaluated: the check is left open.
const MAX_WORLDS: usize = 256;

/// A value that no policy names, for "present, but none of those".
const FRESH: &str = "why403-unknown";

/// The open keys of the request for a resource owned by `owner` (the bucket owner for the S3
/// request, the KMS key's account for S3's call to KMS); `s3_keys` also names the
/// `s3:ResourceAccount` twin of `aws:ResourceAccount`.
pub(crate) fn unknowns(
    req: &UploadRequest,
    ev: &Evidence,
    p: &RequestPrincipal,
    owner: Option<&str>,
    owner_slot: &Slot<String>,
    s3_keys: bool,
) -> Vec<Unknown> {
    let mut out = Vec::new();
    let caller = p.account();
    let same_org = owner.is_some() && owner == caller;
    if let RequestPrincipal::Aws(_) = p {
        // The caller's organization; the resource's too when the caller owns the resource.
        let (mut id_keys, mut path_keys) =
            (vec!["aws:PrincipalOrgID"], vec!["aws:PrincipalOrgPaths"]);
        if same_org {
            id_keys.push("aws:ResourceOrgID");
            path_keys.push("aws:ResourceOrgPaths");
        }
        org_unknown(
            &mut out,
            &ev.caller_org,
            EvidenceKind::CallerOrganization,
            "the caller's organization",
            id_keys,
            path_keys,
        );
    }
    if !same_org {
        match owner {
            Some(o) => {
                let third;
                let slot = match super::derive::resource_org(ev, owner, p) {
                    Some(s) => s,
                    None => {
                        third = Slot::Unavailable(Unavailable {
                            reason: format!(
                                "the organization of account `{o}`, which owns the resource, is not in the evidence"
                            ),
                            needs: vec!["organizations:DescribeOrganization".into()],
                        });
                        &third
                    }
                };
                org_unknown(
                    &mut out,
                    slot,
                    EvidenceKind::BucketOrganization,
                    "the resource owner's organization",
                    vec!["aws:ResourceOrgID"],
                    vec!["aws:ResourceOrgPaths"],
                );
            }
            None => {
                // Whose the resource is, and so its organization, is open.
                let u = unavailable_of(owner_slot, "the bucket owner's account", "s3:GetBucketAcl");
                let mut keys = vec!["aws:ResourceAccount"];
                if s3_keys {
                    keys.push("s3:ResourceAccount");
                }
                out.push(Unknown {
                    spec: Spec::Value {
                        keys,
                        may_be_absent: false,
                    },
                    missing: missing(
                        EvidenceKind::BucketOwner,
                        "the bucket owner's account (`aws:ResourceAccount`)",
                        u.clone(),
                    ),
                });
                out.push(Unknown {
                    spec: Spec::Org {
                        id: None,
                        id_keys: vec!["aws:ResourceOrgID"],
                        path_keys: vec!["aws:ResourceOrgPaths"],
                    },
                    missing: missing(
                        EvidenceKind::BucketOwner,
                        "the bucket owner's account and its organization (`aws:ResourceOrgID`, `aws:ResourceOrgPaths`)",
                        u,
                    ),
                });
            }
        }
    }
    // The caller's IAM user or role: its tags, and its unique id unless the caller identity
    // gave it.
    if let (
        RequestPrincipal::Aws(AwsPrincipal::User { .. } | AwsPrincipal::AssumedRole { .. }),
        Slot::Unavailable(u),
    ) = (p, &ev.identity)
    {
        out.push(Unknown {
            spec: Spec::Tags {
                prefix: "aws:PrincipalTag/",
                known: req
                    .session_tags
                    .keys()
                    .map(|k| format!("aws:principaltag/{}", k.to_ascii_lowercase()))
                    .collect(),
            },
            missing: missing(
                EvidenceKind::Identity,
                "the caller's IAM tags (`aws:PrincipalTag`)",
                u.clone(),
            ),
        });
        let caller_known = ev
            .caller
            .get()
            .is_some_and(|c| Some(c.arn.as_str()) == p.arn());
        if !caller_known {
            out.push(Unknown {
                spec: Spec::Value {
                    keys: vec!["aws:userid"],
                    may_be_absent: false,
                },
                missing: missing(
                    EvidenceKind::Identity,
                    "the caller's unique id (`aws:userid`)",
                    u.clone(),
                ),
            });
        }
    }
    // Keys the request gives explicitly are known.
    let given = |k: &str| req.context.keys().any(|g| g.eq_ignore_ascii_case(k));
    out.retain_mut(|u| match &mut u.spec {
        Spec::Org {
            id_keys, path_keys, ..
        } => {
            id_keys.retain(|k| !given(k));
            path_keys.retain(|k| !given(k));
            !(id_keys.is_empty() && path_keys.is_empty())
        }
        Spec::Value { keys, .. } => {
            keys.retain(|k| !given(k));
            !keys.is_empty()
        }
        Spec::Tags { known, .. } => {
            known.extend(req.context.keys().map(|k| k.to_ascii_lowercase()));
            true
        }
    });
    out
}

fn missing(kind: EvidenceKind, what: &str, unavailable: Unavailable) -> Missing {
    Missing {
        kind,
        what: what.to_owned(),
        unavailable,
    }
}

fn unavailable_of<T>(slot: &Slot<T>, what: &str, needs: &str) -> Unavailable {
    match slot {
        Slot::Unavailable(u) => u.clone(),
        _ => Unavailable {
            reason: format!("{what} is not in the evidence"),
            needs: vec![needs.to_owned()],
        },
    }
}

/// The open keys of an organization slot: everything when it was not read, the path when
/// the organization was read but not its levels.
fn org_unknown(
    out: &mut Vec<Unknown>,
    slot: &Slot<crate::evidence::Organization>,
    kind: EvidenceKind,
    what: &str,
    id_keys: Vec<&'static str>,
    path_keys: Vec<&'static str>,
) {
    match slot {
        Slot::Unavailable(u) => {
            let names = id_keys
                .iter()
                .chain(&path_keys)
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Unknown {
                spec: Spec::Org {
                    id: None,
                    id_keys,
                    path_keys,
                },
                missing: missing(kind, &format!("{what} ({names})"), u.clone()),
            });
        }
        Slot::Collected(o) if super::derive::org_path(o).is_none() => {
            let mut u = match (&o.scps, &o.rcps) {
                (Slot::Unavailable(u), _) | (_, Slot::Unavailable(u)) => u.clone(),
                _ => Unavailable {
                    reason:
                        "the organization's root and OUs above the account are not in the evidence"
                            .into(),
                    needs: Vec::new(),
                },
            };
            if !u.needs.iter().any(|n| n == "organizations:ListParents") {
                u.needs.insert(0, "organizations:ListParents".into());
            }
            let names = path_keys
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Unknown {
                spec: Spec::Org {
                    id: Some(o.id.clone()),
                    id_keys: Vec::new(),
                    path_keys,
                },
                missing: missing(kind, &format!("{what}'s path ({names})"), u),
            });
        }
        _ => {}
    }
}

/// Every policy of a set.
fn policies(set: &PolicySet) -> impl Iterator<Item = &Policy> {
    set.identity
        .iter()
        .chain(set.resource.iter())
        .chain(set.scp.iter().flatten())
        .chain(set.rcp.iter().flatten())
        .chain(set.boundary.iter().flatten())
        .chain(set.session.iter())
        .chain(set.vpc_endpoint.iter().flatten())
}

/// What the policies of a set say about condition keys.
struct Mentions {
    /// Every condition: lower-case key, operator family, value as written.
    conditions: Vec<(String, Family, String)>,
    /// The policy texts, lower-case, for `${key}` variables.
    texts: Vec<String>,
}

impl Mentions {
    fn of(sets: &[&PolicySet]) -> Mentions {
        let mut conditions = Vec::new();
        let mut texts = Vec::new();
        for p in sets.iter().flat_map(|s| policies(s)) {
            for st in &p.statements {
                for c in &st.conditions {
                    for v in &c.values {
                        conditions.push((c.key_lower.clone(), c.op.base.family(), v.raw.clone()));
                    }
                    if c.values.is_empty() {
                        conditions.push((c.key_lower.clone(), c.op.base.family(), String::new()));
                    }
                }
            }
            if p.text.contains("${") {
                texts.push(p.text.to_ascii_lowercase());
            }
        }
        Mentions { conditions, texts }
    }

    fn mentions(&self, key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        self.conditions.iter().any(|(c, _, _)| *c == k)
            || self
                .texts
                .iter()
                .any(|t| t.contains(&format!("${{{k}}}")) || t.contains(&format!("${{{k},")))
    }

    /// The values a key could take that matter to the conditions on it: each compared value
    /// (a `${key}` variable's value in the request) and, for numbers and dates, its
    /// neighbours.
    fn values(&self, key: &str, ctx: &RequestContext) -> Vec<String> {
        let k = key.to_ascii_lowercase();
        let mut out = Vec::new();
        for (c, family, raw) in &self.conditions {
            if *c != k || raw.is_empty() {
                continue;
            }
            if raw.contains("${") {
                // A value that is one variable: what it stands for in this request.
                if let Some(inner) = raw
                    .strip_prefix("${")
                    .and_then(|r| r.strip_suffix('}'))
                    .filter(|i| !i.contains("${"))
                {
                    let name = inner.split(',').next().unwrap_or(inner).trim();
                    if let Some(v) = ctx.get(name) {
                        out.extend(v.values.iter().cloned());
                    }
                }
                continue;
            }
            match family {
                Family::Numeric => {
                    if let Ok(n) = raw.trim().parse::<f64>() {
                        out.extend([n - 1.0, n, n + 1.0].map(|x| x.to_string()));
                    }
                }
                Family::Date => {
                    if let Some(t) = crate::condition::parse_aws_date(raw) {
                        let s = t.as_second();
                        out.extend([s - 1, s, s + 1].map(|x| x.to_string()));
                    }
                }
                Family::Bool => out.extend(["true".to_owned(), "false".to_owned()]),
                Family::Null | Family::Binary => {}
                Family::String | Family::Arn | Family::Ip => out.push(raw.clone()),
            }
        }
        out.push(FRESH.to_owned());
        out.sort();
        out.dedup();
        out
    }

    /// Keys under a prefix the policies test or use as variables, lower-case.
    fn keys_under(&self, prefix: &str) -> Vec<String> {
        let p = prefix.to_ascii_lowercase();
        let mut out: Vec<String> = self
            .conditions
            .iter()
            .filter(|(c, _, _)| c.starts_with(&p))
            .map(|(c, _, _)| c.clone())
            .collect();
        let var = format!("${{{p}");
        for t in &self.texts {
            let mut rest = t.as_str();
            while let Some(i) = rest.find(&var) {
                let after = &rest[i + 2..];
                let end = after.find(['}', ',']).unwrap_or(after.len());
                out.push(after[..end].trim().to_owned());
                rest = &after[end..];
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The ways an unknown could be, or `None` when no policy tests its keys.
fn worlds(u: &Unknown, m: &Mentions, ctx: &RequestContext) -> Option<Vec<World>> {
    match &u.spec {
        Spec::Org {
            id,
            id_keys,
            path_keys,
        } => {
            let path_matters = path_keys.iter().any(|k| m.mentions(k));
            let id_matters = id.is_none() && id_keys.iter().any(|k| m.mentions(k));
            if !path_matters && !id_matters {
                return None;
            }
            let path_values: Vec<String> =
                path_keys.iter().flat_map(|k| m.values(k, ctx)).collect();
            let ids: Vec<String> = match id {
                Some(i) => vec![i.clone()],
                None => {
                    let mut ids: Vec<String> =
                        id_keys.iter().flat_map(|k| m.values(k, ctx)).collect();
                    ids.extend(
                        path_values
                            .iter()
                            .filter_map(|v| v.split_once('/'))
                            .map(|(o, _)| o.to_owned())
                            .filter(|o| o.starts_with("o-")),
                    );
                    ids.push("o-why403unknown".to_owned());
                    ids.sort();
                    ids.dedup();
                    ids
                }
            };
            let mut out = Vec::new();
            if id.is_none() {
                // In no organization: none of the keys.
                out.push(
                    id_keys
                        .iter()
                        .chain(path_keys)
                        .map(|k| ((*k).to_owned(), false, None))
                        .collect(),
                );
            }
            for i in &ids {
                let prefix = format!("{i}/");
                let mut paths: Vec<String> = path_values
                    .iter()
                    .filter(|v| v.starts_with(&prefix))
                    .cloned()
                    .collect();
                paths.push(format!("{i}/r-why403unknown/"));
                for path in paths {
                    let mut w: World = id_keys
                        .iter()
                        .map(|k| ((*k).to_owned(), false, Some(vec![i.clone()])))
                        .collect();
                    w.extend(
                        path_keys
                            .iter()
                            .map(|k| ((*k).to_owned(), true, Some(vec![path.clone()]))),
                    );
                    out.push(w);
                }
            }
            Some(out)
        }
        Spec::Value {
            keys,
            may_be_absent,
        } => {
            if !keys.iter().any(|k| m.mentions(k)) {
                return None;
            }
            let mut values: Vec<String> = keys.iter().flat_map(|k| m.values(k, ctx)).collect();
            values.sort();
            values.dedup();
            let mut out: Vec<World> = Vec::new();
            if *may_be_absent {
                out.push(
                    keys.iter()
                        .map(|k| ((*k).to_owned(), false, None))
                        .collect(),
                );
            }
            for v in values {
                out.push(
                    keys.iter()
                        .map(|k| ((*k).to_owned(), false, Some(vec![v.clone()])))
                        .collect(),
                );
            }
            Some(out)
        }
        Spec::Tags { prefix, known } => {
            let keys: Vec<String> = m
                .keys_under(prefix)
                .into_iter()
                .filter(|k| !known.contains(k))
                .collect();
            if keys.is_empty() {
                return None;
            }
            // Each tag on its own: absent, or one of its values.
            let mut out: Vec<World> = vec![Vec::new()];
            for k in keys {
                let mut choices: Vec<Option<Vec<String>>> = vec![None];
                choices.extend(m.values(&k, ctx).into_iter().map(|v| Some(vec![v])));
                let k = &k;
                out = out
                    .into_iter()
                    .flat_map(|w| {
                        choices.iter().map(move |c| {
                            let mut w = w.clone();
                            w.push((k.clone(), false, c.clone()));
                            w
                        })
                    })
                    .take(MAX_WORLDS + 1)
                    .collect();
            }
            Some(out)
        }
    }
}

/// Settles a check whose context has open keys: the outcome stands when every way the open
/// keys could be gives it; otherwise the check is `Indeterminate` and names what is missing.
#[expect(
    clippy::too_many_arguments,
    reason = "the check's policy sets, request, blocks, grant rescue and outcome, and where the missing evidence goes"
)]
pub(crate) fn settle_unknown(
    unknowns: &[Unknown],
    best: &PolicySet,
    worst: Option<&PolicySet>,
    request: &Request,
    blocks: &[Block],
    rescue: &dyn Fn(&Request, &Evaluation) -> Option<String>,
    outcome: CheckOutcome,
    missing: &mut Vec<Missing>,
) -> CheckOutcome {
    if outcome == CheckOutcome::Indeterminate || !blocks.is_empty() || unknowns.is_empty() {
        return outcome;
    }
    let sets: Vec<&PolicySet> = std::iter::once(best).chain(worst).collect();
    let m = Mentions::of(&sets);
    let open: Vec<(&Unknown, Vec<World>)> = unknowns
        .iter()
        .filter_map(|u| worlds(u, &m, &request.context).map(|w| (u, w)))
        .collect();
    if open.is_empty() {
        return outcome;
    }
    let mut combos: Vec<World> = vec![Vec::new()];
    for (_, ws) in &open {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                ws.iter().map(move |w| {
                    let mut c = c.clone();
                    c.extend(w.iter().cloned());
                    c
                })
            })
            .take(MAX_WORLDS + 1)
            .collect();
    }
    let decided = combos.len() <= MAX_WORLDS
        && combos.iter().all(|world| {
            let mut alt = request.clone();
            for (k, multi, v) in world {
                match v {
                    Some(values) => alt.context.insert(k, values.clone(), *multi),
                    None => {
                        alt.context.remove(k);
                    }
                }
            }
            let (_, _, _, o) = settle(best.clone(), worst.cloned(), &alt, blocks, |e| {
                rescue(&alt, e)
            });
            o == outcome
        });
    if decided {
        return outcome;
    }
    for (u, _) in open {
        if !missing.contains(&u.missing) {
            missing.push(u.missing.clone());
        }
    }
    CheckOutcome::Indeterminate
}
