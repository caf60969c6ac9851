//! Rule `builtin/access-point-cross-account-not-delegated`: the upload goes through an access
//! point of another account than the bucket's, and the bucket owner's policy does not
//! delegate to it.

use why403_core::analysis::BlockCode;
use why403_core::analysis::derive::access_point_arn;
use why403_core::finding::{Change, Fix, PolicyTarget};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The access point the upload goes through belongs to another account than its bucket
    /// (a cross-account access point: `get-access-point` shows a `BucketAccountId` other than
    /// the access point's account), and the bucket owner's policy neither allows the request
    /// nor delegates to that access point or its account. Typical: the bucket policy delegates
    /// with `s3:DataAccessPointAccount` set to the bucket owner's own account, as AWS's
    /// example does, which leaves out every other account's access points.
    ///
    /// ## How AWS evaluates it
    ///
    /// A request through an access point needs the bucket's permission as well as the access
    /// point's. For an access point of another account, only the bucket owner can give it, in
    /// the bucket policy: identity policies of the access point's account never speak for
    /// another account's bucket. The bucket owner delegates with `s3:DataAccessPointArn` (this
    /// access point) or `s3:DataAccessPointAccount` (every access point of that account). This
    /// rule refines `bucket-policy-missing-access-point-delegation`.
    ///
    /// ## Example
    ///
    /// Account `444455556666` creates `partner-ap` for the bucket `amzn-s3-demo-bucket` of
    /// account `111122223333`, whose policy delegates to `s3:DataAccessPointAccount`
    /// `111122223333` only: uploads through `partner-ap` are refused.
    ///
    /// ## Fix
    ///
    /// The bucket owner adds a statement to the bucket policy that delegates the upload to the
    /// access point (`"Principal": "*"`, `"StringEquals": {"s3:DataAccessPointArn": "<access
    /// point ARN>"}`), on the upload's prefix; to trust every access point of the other
    /// account, `s3:DataAccessPointAccount` with that account instead.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Configuring IAM policies for using access points (Delegating
    ///   access control to access points)
    /// - Amazon S3 User Guide: Creating access points (cross-account access points)
    pub struct AccessPointCrossAccountNotDelegated {
        id: "access-point-cross-account-not-delegated",
        scope: "builtin",
        layer: AccessPoint,
        summary: "a cross-account access point whose bucket owner does not delegate to it",
        refines: ["bucket-policy-missing-access-point-delegation"],
        service: S3,
        actions: [],
        messages: [GENERIC],
    }
}

impl Rule for AccessPointCrossAccountNotDelegated {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let Some(ap) = a.evidence.access_point.get() else {
            return;
        };
        let Some(owner) = a.evidence.bucket.owner_account.get() else {
            return;
        };
        if ap.account == *owner {
            return;
        }
        let req = &a.request;
        let Some(hit) = cx.blocked(BlockCode::AccessPointBucketNotPermitted) else {
            return;
        };
        let actions = hit.actions();
        let arn = access_point_arn(req, &a.evidence).unwrap_or_else(|| ap.arn.clone());
        let Some((f, _)) = emit_block(cx, out, BlockCode::AccessPointBucketNotPermitted) else {
            return;
        };
        f.message = format!(
            "the access point `{arn}` belongs to account `{}`, and the policy of the bucket `{}` of account `{owner}` does not delegate `{}` to it",
            ap.account,
            req.bucket,
            actions.join("`, `")
        );
        f.notes.push(hit.answer());
        f.notes.push(format!(
            "only the bucket owner (`{owner}`) can permit requests through another account's access point; to trust every access point of account `{}`, delegate with `s3:DataAccessPointAccount` instead",
            ap.account
        ));
        let resource = req.object_folder_arn();
        let action: serde_json::Value = match actions.as_slice() {
            [one] => (*one).into(),
            many => many.iter().map(|a| serde_json::Value::from(*a)).collect(),
        };
        f.fix = Some(Fix::new(
            format!(
                "in account `{owner}`, add a statement to the bucket policy of `{}` that delegates `{}` on `{resource}` to the access point `{arn}` of account `{}`",
                req.bucket,
                actions.join("`, `"),
                ap.account
            ),
            vec![Change::AddStatement {
                target: PolicyTarget::BucketPolicy,
                statement: serde_json::json!({
                    "Sid": "DelegateToCrossAccountAccessPoint",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": action,
                    "Resource": resource,
                    "Condition": {"StringEquals": {"s3:DataAccessPointArn": arn}},
                }),
            }],
        ));
    }
}
