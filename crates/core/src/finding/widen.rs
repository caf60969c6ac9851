//! Fix safety: what a fix allows beyond the refused request. Each policy a fix edits is
//! evaluated on probe requests around the upload (other objects of the prefix and of the
//! bucket, other buckets, other S3 actions, other principals for resource-side policies) before
//! and after the fix; a probe that the edited layer allows only after the fix is a widening.
//! Settings that open the bucket (Block Public Access off, an ACL grant) are widenings by
//! nature.

use crate::analysis::{Analysis, CheckKind};
use crate::eval::{Layer, Outcome, Request, RequestPrincipal};
use crate::evidence::PublicAccessLevel;

use super::{Change, PolicyTarget};

/// A request near the refused one, and what allowing it means in words.
struct Probe {
    request: Request,
    words: String,
}

/// The layers a change edits: the layer and, for leveled layers, the level (`None`: every
/// level), and whether the layer is on the resource side (other principals matter).
fn edited_layers(c: &Change) -> Vec<(Layer, Option<u16>)> {
    let target = |t: &PolicyTarget| match t {
        PolicyTarget::Identity(_) => (Layer::Identity, None),
        PolicyTarget::Boundary => (Layer::Boundary, None),
        PolicyTarget::Session => (Layer::Session, None),
        PolicyTarget::BucketPolicy | PolicyTarget::KeyPolicy => (Layer::Resource, None),
        PolicyTarget::Scp { level, .. } => (Layer::Scp, Some(*level as u16)),
        PolicyTarget::Rcp { level, .. } => (Layer::Rcp, Some(*level as u16)),
        PolicyTarget::VpcEndpoint => (Layer::VpcEndpoint, None),
    };
    match c {
        Change::AddIdentityPolicy { .. } => vec![(Layer::Identity, None)],
        Change::AddStatement { target: t, .. }
        | Change::ReplaceStatement { target: t, .. }
        | Change::RemoveStatement { target: t, .. }
        | Change::SetPolicyVersion { target: t, .. } => vec![target(t)],
        Change::AttachScp { level, .. } => vec![(Layer::Scp, Some(*level as u16))],
        Change::AttachRcp { level, .. } => vec![(Layer::Rcp, Some(*level as u16))],
        _ => Vec::new(),
    }
}

fn probes(a: &Analysis, kind: CheckKind, base: &Request, resource_side: bool) -> Vec<Probe> {
    let mut out = Vec::new();
    let with = |principal: RequestPrincipal, action: &str, resource: &str| {
        let mut r = Request::new(principal, action, resource, base.context.clone());
        r.resource_account = base.resource_account.clone();
        r
    };
    let req = &a.request;
    if kind == CheckKind::S3 {
        let bucket = req.bucket_arn();
        let (dir, _) = req.key.rsplit_once('/').unwrap_or(("", &req.key));
        if !dir.is_empty() {
            out.push(Probe {
                request: with(
                    base.principal.clone(),
                    &base.action,
                    &format!("{bucket}/{dir}/why403-probe-object"),
                ),
                words: format!("`{}` on other objects under `{dir}/`", base.action),
            });
        }
        out.push(Probe {
            request: with(
                base.principal.clone(),
                &base.action,
                &format!("{bucket}/why403-probe-prefix/object"),
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
        let account = base
            .principal
            .account()
            .unwrap_or("111122223333")
            .to_owned();
        let others = [
            (
                RequestPrincipal::parse(Some(&format!(
                    "arn:aws:iam::{account}:user/why403-probe-user"
                ))),
                format!("other principals of account `{account}`"),
            ),
            (
                RequestPrincipal::parse(Some("arn:aws:iam::000000000000:role/why403-probe")),
                "principals of other accounts".to_owned(),
            ),
            (RequestPrincipal::Anonymous, "anonymous callers".to_owned()),
        ];
        for (p, words) in others {
            out.push(Probe {
                request: with(p, &base.action, &base.resource),
                words: format!("`{}` for {words}", base.action),
            });
        }
    }
    out
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
        for (layer, level) in edited_layers(c) {
            let resource_side = matches!(layer, Layer::Resource | Layer::Rcp);
            for check in &before.checks {
                let Some(now) = after.checks.iter().find(|x| x.action == check.action) else {
                    continue;
                };
                for probe in probes(before, check.kind, &check.request, resource_side) {
                    let was = layer_allows(&check.set.evaluate(&probe.request), layer, level);
                    let is = layer_allows(&now.set.evaluate(&probe.request), layer, level);
                    if is && !was {
                        push(format!("also allows {}", probe.words));
                    }
                }
            }
        }
    }
    out
}
