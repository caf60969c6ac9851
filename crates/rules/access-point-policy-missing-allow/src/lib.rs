//! Rule `builtin/access-point-policy-missing-allow`: a caller of another account uploads
//! through an access point whose policy does not grant it the upload.

use why403_core::analysis::derive::{authorized_folder, principal_arn};
use why403_core::analysis::{CheckKind, ResourcePolicy};
use why403_core::eval::{Layer, RequestPrincipal};
use why403_core::finding::{Fix, PolicyTarget, Refusal};
use why403_core::rule::{Emitter, Rule, RuleContext, grant, near_miss, near_miss_labels};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload goes through an S3 access point owned by another account than the caller's,
    /// and the access point's policy has no statement that allows the caller the action
    /// (`s3:PutObject`, or `s3:PutObjectAcl` when the upload sets an ACL) on the access
    /// point's object ARN `arn:aws:s3:<region>:<account>:accesspoint/<name>/object/<key>`:
    /// the access point has no policy at all, its statements name other principals, or their
    /// `Resource` names the bucket's ARN (`arn:aws:s3:::bucket/*`), which a request through
    /// the access point never matches.
    ///
    /// ## How AWS evaluates it
    ///
    /// For a request through an access point, the access point's policy is the resource-based
    /// policy and the access point's ARN is the resource. As for any resource, a principal of
    /// another account needs both its own identity policy and the resource's policy to allow
    /// the request; within the access point's account, either suffices (and then a missing
    /// identity grant is `identity-policy-missing-put-object`). The bucket must permit the
    /// request too (`bucket-policy-missing-access-point-delegation`). AWS reports
    /// `...because no resource-based policy allows the s3:PutObject action` with the access
    /// point's ARN as the resource.
    ///
    /// ## Example
    ///
    /// The access point `finance-ap` of account `111122223333` has no policy, and a role of
    /// account `444455556666` uploads through it: its own policy allows
    /// `arn:aws:s3:us-east-1:111122223333:accesspoint/finance-ap/object/*`, but nothing in
    /// account `111122223333` grants it anything.
    ///
    /// ## Fix
    ///
    /// The access point's owner adds a statement to its policy that allows the action on the
    /// access point's objects under the upload's prefix to the caller (for a role session,
    /// the role): `aws s3control put-access-point-policy`. The bucket must permit it too,
    /// usually by delegating to the account's access points.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Configuring IAM policies for using access points
    /// - Amazon S3 User Guide: Access points policy examples
    /// - IAM User Guide: Cross-account policy evaluation logic
    pub struct AccessPointPolicyMissingAllow {
        id: "access-point-policy-missing-allow",
        scope: "builtin",
        layer: AccessPoint,
        summary: "the access point policy does not grant a caller of another account the upload",
        refines: [],
        service: S3,
        actions: [],
        messages: [implicit(ResourceBased)],
    }
}

impl Rule for AccessPointPolicyMissingAllow {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let Some(p @ RequestPrincipal::Aws(_)) = &a.principal else {
            return;
        };
        let Some(who) = principal_arn(p, &a.evidence) else {
            return;
        };
        let folder = authorized_folder(&a.request, &a.evidence);
        // A Multi-Region Access Point's policy has its own command.
        let put = if a
            .evidence
            .access_point
            .get()
            .is_some_and(|p| p.multi_region)
        {
            "put-multi-region-access-point-policy"
        } else {
            "put-access-point-policy"
        };
        for check in a
            .checks
            .iter()
            .filter(|c| c.kind == CheckKind::S3 && c.resource_policy == ResourcePolicy::AccessPoint)
        {
            // Within the access point's account an identity grant is enough: another rule.
            if !check.request.is_cross_account() || check.is_synthetic(Layer::Resource, 0) {
                continue;
            }
            let blocked = check
                .eval
                .refused_without_deny()
                .iter()
                .any(|b| b.layer == Layer::Resource);
            if !blocked {
                continue;
            }
            let owner = check.request.resource_account.clone().unwrap_or_default();
            let name = check.set.resource.as_ref().map_or_else(
                || "the access point's policy".to_owned(),
                |p| format!("the {}", p.name),
            );
            let message = match near_miss(cx, check, Layer::Resource, None, &folder) {
                Some(nm) => nm.message(&name, check),
                None if check.set.resource.is_none() => format!(
                    "the access point of account `{owner}` has no policy, so nothing grants `{}` to `{who}` of another account",
                    check.action
                ),
                None => format!(
                    "{name} does not grant `{}` to `{who}`, a principal of another account",
                    check.action
                ),
            };
            let f = cx.cause(
                out,
                check,
                Refusal::NoAllow {
                    layer: Layer::Resource,
                    level: 0,
                },
                message,
            );
            f.notes.push(format!(
                "the upload needs `{}` because {}",
                check.action, check.reason
            ));
            f.notes.push(format!(
                "the access point belongs to account `{owner}`: a caller of another account needs the access point's policy to allow it, besides its own identity policy"
            ));
            f.labels
                .extend(near_miss_labels(cx, check, Layer::Resource, None));
            f.fix = Some(Fix::new(
                format!(
                    "in account `{owner}`, add a statement to the access point's policy that allows `{}` on `{folder}` to `{who}` (`aws s3control {put}`)",
                    check.action
                ),
                vec![grant(
                    PolicyTarget::AccessPointPolicy,
                    "AllowUploadsThroughAccessPoint",
                    &who,
                    check.action.as_str(),
                    &folder,
                )],
            ));
        }
    }
}
