//! Rule `builtin/bucket-policy-missing-access-point-delegation`: an upload through an access
//! point that the bucket's policy neither allows nor delegates to access points.

use why403_core::analysis::derive::access_point_arn;
use why403_core::analysis::{BlockCode, CheckOutcome};
use why403_core::evidence::EvidenceKind;
use why403_core::finding::{Change, Fix, PolicyTarget, Refusal};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload goes through an S3 access point, the access point's side allows it (an
    /// access point policy statement, or the caller's identity policy on the access point's
    /// ARN), but the bucket behind it does not: its policy has no statement that allows the
    /// request or delegates access control to access points, and no identity grant of the
    /// bucket owner's own account stands for it. Typical cases: the access point policy grants
    /// a role that has no identity policy for the bucket and the bucket has no policy; an
    /// access point in another account (a cross-account access point) whose bucket owner
    /// never delegated to it; a delegation statement that names another account in
    /// `s3:DataAccessPointAccount`.
    ///
    /// ## How AWS evaluates it
    ///
    /// "Permissions granted in an access point policy are effective only if the underlying
    /// bucket also allows the same access" (S3 User Guide). S3 evaluates the bucket's policy
    /// with the bucket's object ARN `arn:aws:s3:::bucket/key` and with the access point keys
    /// `s3:DataAccessPointArn` and `s3:DataAccessPointAccount`. The recommended bucket policy
    /// delegates: `"Principal": {"AWS": "*"}`, `"Action": "*"`, the bucket's ARNs, and
    /// `"StringEquals": {"s3:DataAccessPointAccount": "<bucket owner's account>"}`, so that
    /// every access point of the account decides alone. For a cross-account access point the
    /// bucket owner delegates to the access point's account or ARN. why403 takes a caller of
    /// the account that owns both the bucket and the access point, whose identity policy
    /// allows the request, as permitted by the bucket (docs/aws-model.md, Access points,
    /// where this reading of AWS's documentation is written down).
    ///
    /// ## Example
    ///
    /// The bucket `amzn-s3-demo-bucket` has no policy; the access point `finance-ap` of the
    /// same account grants the role `Analyst`, which has no identity policy for S3:
    /// the access point allows, the bucket does not.
    ///
    /// ## Fix
    ///
    /// Add a statement to the bucket policy that delegates the upload to the access point:
    /// `"Principal": "*"` with `"StringEquals": {"s3:DataAccessPointArn": "<access
    /// point ARN>"}`, on the upload's prefix. It allows nothing by itself to a request that
    /// names the bucket; the access point's policy and the callers' identity policies keep
    /// deciding who uploads through it. AWS's recommended form delegates every action of
    /// every access point of the bucket owner's account (`s3:DataAccessPointAccount`).
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Configuring IAM policies for using access points (Delegating
    ///   access control to access points)
    /// - Amazon S3 User Guide: Creating access points (cross-account access points)
    /// - Amazon S3 User Guide: Access points restrictions and limitations
    pub struct BucketPolicyMissingAccessPointDelegation {
        id: "bucket-policy-missing-access-point-delegation",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "the bucket policy neither allows nor delegates an upload through an access point",
        refines: [],
        service: S3,
        actions: [],
        messages: [implicit(ResourceBased), GENERIC],
    }
}

impl Rule for BucketPolicyMissingAccessPointDelegation {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let req = &a.request;
        let ap = access_point_arn(req, &a.evidence).unwrap_or_default();
        let ap_account = a.evidence.access_point.get().map(|p| p.account.clone());
        let owner = a.evidence.bucket.owner_account.get().cloned();
        let resource = req.object_folder_arn();
        if let Some((f, hit)) = emit_block(cx, out, BlockCode::AccessPointBucketNotPermitted) {
            let actions = hit.actions();
            f.notes.push(hit.answer());
            if let (Some(apa), Some(o)) = (&ap_account, &owner)
                && apa != o
            {
                f.notes.push(format!(
                    "the access point belongs to account `{apa}` and the bucket to `{o}`: only the bucket owner's policy can permit a request through another account's access point"
                ));
            }
            if a.evidence.bucket.policy.get().is_none() {
                f.notes
                    .push(format!("the bucket `{}` has no bucket policy", req.bucket));
            }
            let action: serde_json::Value = match actions.as_slice() {
                [one] => (*one).into(),
                many => many.iter().map(|a| serde_json::Value::from(*a)).collect(),
            };
            let who = owner
                .as_deref()
                .map_or_else(String::new, |o| format!("in account `{o}`, "));
            // The statement AWS documents for delegation (`"Principal": "*"`), narrowed to this
            // access point, the refused actions and the upload's prefix. A principal narrower
            // than `*` (the caller's account) would make the bucket's side depend on the
            // caller's identity policies, which AWS does not document for access points.
            f.notes.push(format!(
                "AWS's recommended bucket policy delegates every action to every access point of the bucket owner's account (`s3:DataAccessPointAccount`); the fix delegates only `{}` on `{resource}`, through `{ap}`; the widenings are the bucket policy's, and the access point's policy and the callers' identity policies still decide",
                actions.join("`, `")
            ));
            f.fix = Some(Fix::new(
                format!(
                    "{who}add a statement to the bucket policy of `{}` that delegates `{}` on `{resource}` to the access point `{ap}` (`\"Principal\": \"*\"` with `s3:DataAccessPointArn`)",
                    req.bucket,
                    actions.join("`, `")
                ),
                vec![Change::AddStatement {
                    target: PolicyTarget::BucketPolicy,
                    statement: serde_json::json!({
                        "Sid": "DelegateToAccessPoint",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": action,
                        "Resource": resource,
                        "Condition": {"StringEquals": {"s3:DataAccessPointArn": ap}},
                    }),
                }],
            ));
        }
        // The bucket policy could not be read: the bucket's side is undecided.
        for check in &a.checks {
            let Some(side) = &check.bucket_side else {
                continue;
            };
            if side.permits.is_some() || check.outcome != CheckOutcome::Indeterminate {
                continue;
            }
            let Some(m) = check
                .missing
                .iter()
                .find(|m| m.kind == EvidenceKind::BucketPolicy)
                .cloned()
            else {
                continue;
            };
            cx.possible(
                out,
                check,
                Refusal::Unread(EvidenceKind::BucketPolicy),
                m,
                format!(
                    "the bucket policy of `{}` could not be read; unless it allows `{}` or delegates it to the access point `{ap}`, the bucket refuses the request",
                    req.bucket, check.action
                ),
            );
        }
    }
}
