//! Rule `builtin/bucket-policy-denies-access-point-request`: a Deny statement of the bucket
//! policy applies to an upload made through one of the bucket's access points.

use why403_core::analysis::BlockCode;
use why403_core::eval::explain_condition_holds;
use why403_core::finding::{Change, Fix, PolicyTarget, header_fix_for};
use why403_core::rule::{Emitter, Rule, RuleContext, emit_block, label};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The upload goes through an S3 access point and a statement of the bucket's policy with
    /// `"Effect": "Deny"` matches it. The bucket policy is evaluated for every request through
    /// the bucket's access points, with the bucket's object ARN and the access point keys:
    /// a guard written for direct uploads (an encryption header required, a deny of every
    /// principal outside an organization, a deny of requests not made through a given
    /// access point with `StringNotEquals` on `s3:DataAccessPointArn`) refuses uploads
    /// through the access point too.
    ///
    /// ## How AWS evaluates it
    ///
    /// A request through an access point must be permitted by the access point and by the
    /// bucket; an explicit deny in the bucket's policy refuses it whatever the access point's
    /// policy and the caller's identity policies allow. The deny's `Resource` is matched
    /// against `arn:aws:s3:::bucket/key`, not against the access point's ARN.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "OnlyThroughIngestAccessPoint",
    ///   "Effect": "Deny",
    ///   "Principal": "*",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
    ///   "Condition": {
    ///     "StringNotEquals": {
    ///       "s3:DataAccessPointArn": "arn:aws:s3:us-east-1:111122223333:accesspoint/ingest-ap"
    ///     }
    ///   }
    /// }
    /// ```
    ///
    /// An upload through the access point `finance-ap` is denied.
    ///
    /// ## Fix
    ///
    /// Meet the statement's condition when a request header does, or else narrow the
    /// statement (for instance, list the access point in its condition) or remove it, with
    /// `aws s3api put-bucket-policy`; or upload through the access point the statement
    /// expects.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide: Configuring IAM policies for using access points (condition
    ///   keys `s3:DataAccessPointArn`, `s3:DataAccessPointAccount`)
    /// - IAM User Guide: Policy evaluation logic
    pub struct BucketPolicyDeniesAccessPointRequest {
        id: "bucket-policy-denies-access-point-request",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "a statement of the bucket policy denies the upload made through an access point",
        refines: [],
        service: S3,
        actions: [],
        messages: [explicit(ResourceBased)],
    }
}

impl Rule for BucketPolicyDeniesAccessPointRequest {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let Some((f, hit)) = emit_block(cx, out, BlockCode::AccessPointBucketPolicyDeny) else {
            return;
        };
        f.notes.push(hit.answer());
        let Some(side) = hit.check().bucket_side.as_ref() else {
            return;
        };
        let Some(at) = side.denies().first().copied() else {
            return;
        };
        let Some(policy) = side.set.policy(at) else {
            return;
        };
        let Some(st) = policy.statements.get(at.statement as usize) else {
            return;
        };
        f.labels.push(label(
            policy,
            st.effect_span,
            &format!("{}/Effect", st.pointer),
            st.conditions.is_empty(),
            if st.conditions.is_empty() {
                format!("denies `{}` without conditions", hit.check().action)
            } else {
                "this statement denies".to_owned()
            },
        ));
        let mut header_fix = None;
        for (i, c) in st.conditions.iter().enumerate() {
            let why = explain_condition_holds(c, &side.request.context);
            f.labels
                .push(label(policy, c.key_span, &c.key_pointer, i == 0, why));
            if header_fix.is_none() {
                header_fix = header_fix_for(c);
            }
        }
        f.fix = Some(match header_fix {
            Some((changes, sentence)) => Fix::new(sentence, changes),
            None => Fix::new(
                format!(
                    "remove or narrow statement `{}` of the {} (`aws s3api put-bucket-policy`)",
                    st.label(),
                    policy.name
                ),
                vec![Change::RemoveStatement {
                    target: PolicyTarget::BucketPolicy,
                    statement: st.index,
                }],
            ),
        });
    }
}
