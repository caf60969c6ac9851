//! Rule `builtin/bucket-owner-full-control-required`: the bucket policy requires the canned ACL
//! `bucket-owner-full-control` (`s3:x-amz-acl`), usually for cross-account writers, and the
//! upload does not send it.

use why403_core::analysis::{CheckKind, CheckOutcome, acls_disabled};
use why403_core::eval::{Element, Layer, Match};
use why403_core::finding::{Change, Fix, Refusal, Verification, verify};
use why403_core::policy::Effect;
use why403_core::rule::{Emitter, Rule, RuleContext, label};

const BOFC: &str = "bucket-owner-full-control";

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// The bucket policy requires every upload to send the canned ACL
    /// `bucket-owner-full-control`, the common pattern for buckets that receive objects from
    /// other accounts, and the upload sends no `x-amz-acl` header (or another value, such as
    /// `private`). The requirement is written either as a Deny with
    /// `"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}`, or as the grant's
    /// own condition `"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}`.
    ///
    /// ## How AWS evaluates it
    ///
    /// `s3:x-amz-acl` is the value of the request's `x-amz-acl` header. Without the header the
    /// key is absent: a negated operator (`StringNotEquals`) is then true, so the Deny applies
    /// and the upload is explicitly denied; `StringEquals` is false, so the Allow does not
    /// apply and the upload is implicitly denied when nothing else grants it. Uploading with an
    /// ACL also needs `s3:PutObjectAcl`, which why403 checks as a separate action; the fix adds
    /// it to the caller's identity policy when re-evaluation shows it missing. With Object
    /// Ownership `BucketOwnerEnforced` S3 accepts this ACL (and ignores it), so the requirement
    /// is left over from before ACLs were disabled.
    ///
    /// ## Example
    ///
    /// ```json
    /// {
    ///   "Sid": "RequireBucketOwnerFullControl",
    ///   "Effect": "Deny",
    ///   "Principal": "*",
    ///   "Action": "s3:PutObject",
    ///   "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
    ///   "Condition": {"StringNotEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}
    /// }
    /// ```
    ///
    /// ## Fix
    ///
    /// Send the header: `aws s3 cp file s3://amzn-s3-demo-bucket/key --acl
    /// bucket-owner-full-control`, `aws s3api put-object ... --acl bucket-owner-full-control`, or
    /// `ACL="bucket-owner-full-control"` in the SDK. The bucket owner can instead set Object
    /// Ownership to `BucketOwnerEnforced` (it then owns every object) and drop the requirement.
    ///
    /// ## References
    ///
    /// - Amazon S3 User Guide, Bucket policy examples: granting cross-account permissions to upload objects while ensuring the bucket owner has full control: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html>
    /// - Amazon S3 User Guide, Controlling ownership of objects (Object Ownership): <https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html>
    /// - Amazon S3 API Reference, PutObject (`x-amz-acl`, permissions): <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>
    pub struct BucketOwnerFullControlRequired {
        id: "bucket-owner-full-control-required",
        scope: "builtin",
        layer: BucketPolicy,
        summary: "the bucket policy requires the bucket-owner-full-control ACL, which is not sent",
        refines: ["bucket-policy-missing-cross-account-grant", "bucket-policy-explicit-deny"],
        service: S3,
        actions: ["s3:PutObject"],
        messages: [either(ResourceBased), GENERIC],
    }
}

impl Rule for BucketOwnerFullControlRequired {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        // Through an access point the resource policy is the access point's, and the bucket
        // policy is the bucket's side of the request: the access point rules explain those.
        if cx.analysis.request.target.is_access_point() {
            return;
        }
        let a = cx.analysis;
        let sent = a.request.header("x-amz-acl");
        if sent == Some(BOFC) {
            return;
        }
        for check in a.checks.iter().filter(|c| {
            c.kind == CheckKind::S3
                && c.action == "s3:PutObject"
                && c.outcome != CheckOutcome::Allowed
        }) {
            if check.is_synthetic(Layer::Resource, 0) {
                continue;
            }
            let resource_blocks = check
                .eval
                .blocked_by
                .iter()
                .any(|b| b.layer == Layer::Resource);
            for (at, m, policy, st) in cx.statements(check, Layer::Resource) {
                // The condition on `s3:x-amz-acl` naming the canned ACL that decides.
                let deciding = st.conditions.iter().enumerate().find(|(i, c)| {
                    c.key_lower == "s3:x-amz-acl"
                        && c.values.iter().any(|v| v.raw == BOFC)
                        && match (st.effect, m) {
                            (Effect::Deny, Match::Applies) => {
                                c.op.base.is_negated() && cx.denies(check).contains(&at)
                            }
                            (Effect::Allow, Match::Miss(miss)) => {
                                resource_blocks
                                    && !c.op.base.is_negated()
                                    && miss.element == Element::Condition(*i as u16)
                            }
                            _ => false,
                        }
                });
                let Some((_, cond)) = deciding else { continue };
                let what = match sent {
                    None => "does not send `x-amz-acl`".to_owned(),
                    Some(v) => format!("sends `x-amz-acl: {v}`"),
                };
                let f = cx.cause(
                    out,
                    check,
                    Refusal::Check,
                    format!(
                        "statement `{}` of the {} requires `x-amz-acl: {BOFC}` for `{}` and the upload {what}",
                        st.label(),
                        policy.name,
                        check.action
                    ),
                );
                let why = match m {
                    // The Allow missed on this condition: say why it is false.
                    Match::Miss(miss) => format!(
                        "{}: this Allow does not apply",
                        why403_core::eval::explain_miss(st, &miss, &check.request)
                            .message
                            .trim_end_matches('.')
                    ),
                    Match::Applies => format!(
                        "{}: this Deny applies",
                        why403_core::eval::explain_condition_holds(cond, &check.request.context)
                            .trim_end_matches('.')
                    ),
                };
                f.labels
                    .push(label(policy, cond.key_span, &cond.key_pointer, true, why));
                if let Some(v) = cond.values.iter().find(|v| v.raw == BOFC) {
                    f.labels.push(label(
                        policy,
                        v.span,
                        &v.pointer,
                        false,
                        "the canned ACL the bucket owner requires",
                    ));
                }
                if acls_disabled(&a.evidence) {
                    f.notes.push(format!(
                        "the bucket's Object Ownership is `BucketOwnerEnforced`: S3 accepts `{BOFC}` and ignores it, so the bucket owner could also drop this requirement"
                    ));
                }
                let mut changes = vec![Change::SetHeader {
                    name: "x-amz-acl".into(),
                    value: BOFC.into(),
                }];
                let mut sentence = format!(
                    "send `x-amz-acl: {BOFC}` (`--acl {BOFC}` in the AWS CLI, `ACL=\"{BOFC}\"` in the SDKs)"
                );
                // Setting an ACL needs `s3:PutObjectAcl`: add it when that is what still refuses.
                if let Verification::StillDenied { by } = verify(a, &changes)
                    && by
                        .iter()
                        .any(|b| b.starts_with("`s3:PutObjectAcl`: no identity-based policy"))
                {
                    let resource = format!("{}/*", a.request.bucket_arn());
                    changes.push(Change::AddIdentityPolicy {
                        name: "AllowBucketOwnerFullControlAcl".into(),
                        document: serde_json::json!({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "s3:PutObjectAcl", "Resource": resource}]
                        }),
                    });
                    sentence.push_str(&format!(
                        ", and allow `s3:PutObjectAcl` on `{resource}` in the caller's identity policy"
                    ));
                }
                f.fix = Some(Fix::new(sentence, changes));
            }
        }
    }
}
