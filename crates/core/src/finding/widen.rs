//! Fix safety: what a fix allows beyond the refused request. Each policy a fix edits is
//! evaluated on probe requests around the upload (other objects of the prefix and of the
//! bucket, other buckets, other S3 actions, other principals for resource-side policies) before
//! and after the fix; a probe that the edited layer allows only after the fix is a widening.
//! Settings that open the bucket (Block Public Access off, an ACL grant) are widenings by
//! nature.

use crate::analysis::{Analysis, Check, CheckKind, ResourcePolicy};
use crate::eval::{Layer, Outcome, Request, RequestPrincipal};
use crate::evidence::PublicAccessLevel;
use crate::upload::UploadRequest;

use super::{Change, PolicyTarget};

/// A request near the refused one, and what allowing it means in words.
struct Probe {
    request: Request,
    words: String,
}

/// A policy layer a change edits.
struct Edited {
    layer: Layer,
    /// For leveled layers, the level; `None`: every level.
    level: Option<u16>,
    /// The checks whose policy sets hold the edited policy (`None`: all): the bucket policy is
    /// the resource policy of the S3 checks, the key policy that of the KMS checks.
    kind: Option<CheckKind>,
    /// For the resource layer: whose policy was edited (a check made through an access point
    /// holds the bucket policy in its bucket side).
    resource: Option<ResourcePolicy>,
}

/// The policy layer a change edits, if it edits one.
fn edited_layer(c: &Change) -> Option<Edited> {
    let at = |layer, level: Option<&usize>| Edited {
        layer,
        level: level.map(|l| *l as u16),
        kind: None,
        resource: None,
    };
    Some(match c {
        Change::AddIdentityPolicy { .. } => at(Layer::Identity, None),
        Change::AddStatement { target: t, .. }
        | Change::ReplaceStatement { target: t, .. }
        | Change::RemoveStatement { target: t, .. }
        | Change::SetPolicyVersion { target: t, .. } => match t {
            PolicyTarget::Identity(_) => at(Layer::Identity, None),
            PolicyTarget::Boundary => at(Layer::Boundary, None),
            PolicyTarget::Session => at(Layer::Session, None),
            PolicyTarget::BucketPolicy => Edited {
                kind: Some(CheckKind::S3),
                resource: Some(ResourcePolicy::Bucket),
                ..at(Layer::Resource, None)
            },
            PolicyTarget::AccessPointPolicy => Edited {
                kind: Some(CheckKind::S3),
                resource: Some(ResourcePolicy::AccessPoint),
                ..at(Layer::Resource, None)
            },
            PolicyTarget::KeyPolicy => Edited {
                kind: Some(CheckKind::Kms),
                ..at(Layer::Resource, None)
            },
            PolicyTarget::Scp { level, .. } => at(Layer::Scp, Some(level)),
            PolicyTarget::Rcp { level, .. } => at(Layer::Rcp, Some(level)),
            PolicyTarget::VpcEndpoint => at(Layer::VpcEndpoint, None),
        },
        Change::AttachScp { level, .. } => at(Layer::Scp, Some(level)),
        Change::AttachRcp { level, .. } => at(Layer::Rcp, Some(level)),
        _ => return None,
    })
}

/// Buckets other than `own` that the policies of `sets` name by a literal name (at most 3):
/// a fix may open them too.
fn named_buckets<'a>(
    sets: impl IntoIterator<Item = &'a crate::eval::PolicySet>,
    own: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for set in sets {
        let policies = set
            .identity
            .iter()
            .chain(&set.resource)
            .chain(set.scp.iter().flatten())
            .chain(set.rcp.iter().flatten())
            .chain(set.boundary.iter().flatten())
            .chain(&set.session)
            .chain(set.vpc_endpoint.iter().flatten());
        for p in policies {
            for st in &p.statements {
                let Some(r) = &st.resource else { continue };
                for item in &r.items {
                    let Some(rest) = item.raw.strip_prefix("arn:aws:s3:::") else {
                        continue;
                    };
                    let name = rest.split('/').next().unwrap_or_default();
                    let literal =
                        !name.is_empty() && !name.contains(['*', '?', '$']) && name != own;
                    if literal && out.len() < 3 && !out.iter().any(|b| b == name) {
                        out.push(name.to_owned());
                    }
                }
            }
        }
    }
    out
}

fn probes(
    req: &UploadRequest,
    kind: CheckKind,
    base: &Request,
    resource_side: bool,
    named: &[String],
) -> Vec<Probe> {
    let mut out = Vec::new();
    let with = |principal: RequestPrincipal, action: &str, resource: &str| {
        let mut r = Request::new(principal, action, resource, base.context.clone());
        r.resource_account = base.resource_account.clone();
        r
    };
    // The objects' ARNs in the form the base request names them: the bucket's
    // (`arn:aws:s3:::bucket/`) or an access point's (`.../accesspoint/name/object/`); none for
    // a request on the bucket itself (a directory bucket's `CreateSession`).
    let objects = base
        .resource
        .strip_suffix(req.key.as_str())
        .filter(|b| b.ends_with('/'));
    if kind == CheckKind::S3
        && let Some(objects) = objects
    {
        if let Some(dir) = req.folder() {
            out.push(Probe {
                request: with(
                    base.principal.clone(),
                    &base.action,
                    &format!("{objects}{dir}/why403-probe-object"),
                ),
                words: format!("`{}` on other objects under `{dir}/`", base.action),
            });
        }
        out.push(Probe {
            request: with(
                base.principal.clone(),
                &base.action,
                &format!("{objects}why403-probe-prefix/object"),
            ),
            words: format!("`{}` on other objects of the bucket", base.action),
        });
        out.push(Probe {
            request: with(
                base.principal.clone(),
                &base.action,
                "arn:aws:s3:::why403-probe-other-bucket/object",
            ),
            words: format!("`{}` on objects of other buckets", base.action),
        });
        for b in named {
            out.push(Probe {
                request: with(
                    base.principal.clone(),
                    &base.action,
                    &format!("arn:aws:s3:::{b}/why403-probe-object"),
                ),
                words: format!("`{}` on objects of bucket `{b}`", base.action),
            });
        }
        for other in ["s3:DeleteObject", "s3:GetObject"] {
            if !other.eq_ignore_ascii_case(&base.action) {
                out.push(Probe {
                    request: with(base.principal.clone(), other, &base.resource),
                    words: format!("`{other}` on the object"),
                });
            }
        }
    }
    if resource_side {
        // Another principal of the caller's account, or of the resource owner's when the
        // caller has none (an anonymous caller).
        let account = base
            .principal
            .account()
            .or(base.resource_account.as_deref());
        let mut others = Vec::new();
        if let Some(account) = account {
            others.push((
                RequestPrincipal::parse(Some(&format!(
                    "arn:aws:iam::{account}:user/why403-probe-user"
                ))),
                format!("other principals of account `{account}`"),
            ));
        }
        let outsider = if account == Some("000000000000") {
            "999999999999"
        } else {
            "000000000000"
        };
        others.push((
            RequestPrincipal::parse(Some(&format!("arn:aws:iam::{outsider}:role/why403-probe"))),
            "principals of other accounts".to_owned(),
        ));
        // An anonymous caller's request is the refused one itself, not a probe around it.
        if !matches!(base.principal, RequestPrincipal::Anonymous) {
            others.push((RequestPrincipal::Anonymous, "anonymous callers".to_owned()));
        }
        for (p, words) in others {
            out.push(Probe {
                request: with(p, &base.action, &base.resource),
                words: format!("`{}` for {words}", base.action),
            });
        }
    }
    out
}

/// The policy set (and its request) that holds the edited policy in a check before and after
/// the fix: the check's own, or for the bucket policy of a request through an access point,
/// its bucket side. `None` when the check does not hold it.
fn edited_sets<'c>(
    check: &'c Check,
    now: &'c Check,
    e: &Edited,
) -> Option<(
    (&'c crate::eval::PolicySet, &'c Request),
    &'c crate::eval::PolicySet,
)> {
    match e.resource {
        Some(ResourcePolicy::Bucket) if check.resource_policy == ResourcePolicy::AccessPoint => {
            let (b, n) = (check.bucket_side.as_ref()?, now.bucket_side.as_ref()?);
            Some(((&b.set, &b.request), &n.set))
        }
        Some(r) if r != check.resource_policy => None,
        _ => Some(((&check.set, &check.request), &now.set)),
    }
}

fn layer_allows(eval: &crate::eval::Evaluation, layer: Layer, level: Option<u16>) -> bool {
    let mut ls = eval
        .layers
        .iter()
        .filter(|l| l.layer == layer && level.is_none_or(|v| v == l.level))
        .peekable();
    ls.peek().is_some() && ls.all(|l| l.outcome == Outcome::Allow)
}

/// What applying `changes` allows beyond the refused request, in words (empty when nothing).
pub(super) fn widens(before: &Analysis, after: &Analysis, changes: &[Change]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for c in changes {
        match c {
            Change::SetPublicAccessBlock {
                level,
                setting,
                enabled: false,
            } => push(format!(
                "turns off Block Public Access `{setting:?}` for {}",
                match level {
                    PublicAccessLevel::Bucket => "the whole bucket",
                    PublicAccessLevel::Account => "every bucket of the account",
                }
            )),
            Change::AddAclGrant {
                canonical_id,
                permission,
            } => push(format!(
                "grants `{permission:?}` on the whole bucket to the canonical user `{canonical_id}`"
            )),
            _ => {}
        }
        let Some(e) = edited_layer(c) else { continue };
        let resource_side = matches!(e.layer, Layer::Resource | Layer::Rcp);
        for check in before
            .checks
            .iter()
            .filter(|x| e.kind.is_none_or(|k| k == x.kind))
        {
            let Some(now) = after.checks.iter().find(|x| x.action == check.action) else {
                continue;
            };
            let Some(((set, base), now_set)) = edited_sets(check, now, &e) else {
                continue;
            };
            let named = named_buckets([set, now_set], &before.request.bucket);
            for probe in probes(&before.request, check.kind, base, resource_side, &named) {
                let was = layer_allows(&set.evaluate(&probe.request), e.layer, e.level);
                let is = layer_allows(&now_set.evaluate(&probe.request), e.layer, e.level);
                if is && !was {
                    push(format!("also allows {}", probe.words));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::RequestContext;

    fn words(principal: RequestPrincipal, owner: Option<&str>) -> Vec<String> {
        let req = UploadRequest::new("amzn-s3-demo-bucket", "reports/q3.csv");
        let mut base = Request::new(
            principal,
            "s3:PutObject",
            &req.object_arn(),
            RequestContext::new(),
        );
        base.resource_account = owner.map(str::to_owned);
        probes(&req, CheckKind::S3, &base, true, &[])
            .into_iter()
            .map(|p| p.words)
            .collect()
    }

    #[test]
    fn principal_probes_name_accounts_from_the_request() {
        let alice = RequestPrincipal::parse(Some("arn:aws:iam::111122223333:user/alice"));
        let w = words(alice, Some("444455556666"));
        assert!(
            w.contains(&"`s3:PutObject` for other principals of account `111122223333`".to_owned())
        );
        assert!(w.contains(&"`s3:PutObject` for anonymous callers".to_owned()));
        // An anonymous caller has no account: the bucket owner's stands in, or none; its own
        // request is not a probe.
        let w = words(RequestPrincipal::Anonymous, Some("444455556666"));
        assert!(
            w.contains(&"`s3:PutObject` for other principals of account `444455556666`".to_owned())
        );
        assert!(!w.iter().any(|x| x.contains("anonymous")), "{w:?}");
        let w = words(RequestPrincipal::Anonymous, None);
        assert!(
            !w.iter().any(|x| x.contains("other principals of account")),
            "{w:?}"
        );
        assert!(w.iter().any(|x| x.contains("principals of other accounts")));
        assert!(
            w.iter()
                .any(|x| x.contains("other objects under `reports/`"))
        );
    }

    #[test]
    fn buckets_the_policies_name_are_probed() {
        let policy = crate::policy::Policy::parse(
            "inline policy p",
            crate::policy::PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject",
                "Resource":["arn:aws:s3:::amzn-s3-demo-bucket/*","arn:aws:s3:::amzn-s3-demo-logs/*",
                "arn:aws:s3:::amzn-s3-demo-*/x","*"]}]}"#,
        )
        .unwrap();
        let set = crate::eval::PolicySet {
            identity: vec![policy],
            ..Default::default()
        };
        assert_eq!(
            named_buckets([&set], "amzn-s3-demo-bucket"),
            vec!["amzn-s3-demo-logs".to_owned()]
        );
        let req = UploadRequest::new("amzn-s3-demo-bucket", "reports/q3.csv");
        let alice = RequestPrincipal::parse(Some("arn:aws:iam::111122223333:user/alice"));
        let base = Request::new(
            alice,
            "s3:PutObject",
            &req.object_arn(),
            RequestContext::new(),
        );
        let words: Vec<String> = probes(
            &req,
            CheckKind::S3,
            &base,
            false,
            &["amzn-s3-demo-logs".into()],
        )
        .into_iter()
        .map(|p| p.words)
        .collect();
        assert!(
            words.contains(&"`s3:PutObject` on objects of bucket `amzn-s3-demo-logs`".to_owned()),
            "{words:?}"
        );
    }
}
