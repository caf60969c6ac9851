//! Rule `builtin/cross-account-aws-managed-key`: the upload is encrypted with the bucket
//! owner's AWS managed key `aws/s3`, which principals of other accounts can never use.

use why403_core::analysis::{BlockCode, CheckKind, KeyChoice, Missing, Verdict, key_choice};
use why403_core::eval::Layer;
use why403_core::evidence::{EvidenceKind, Slot};
use why403_core::finding::Refusal;
use why403_core::rule::{
    Emitter, Rule, RuleContext, bucket_encryption_label, emit_block, from_header, label,
    new_key_fix,
};

why403_core::declare_rule! {
    /// ## Cause
    ///
    /// A principal of another account uploads to a bucket whose objects are encrypted with the
    /// bucket owner's AWS managed key `aws/s3`: the bucket's default encryption is
    /// `aws:kms` without a `KMSMasterKeyID` (the console's *AWS managed key (aws/s3)*), or the
    /// request sends `x-amz-server-side-encryption: aws:kms` without a key id. The bucket
    /// policy and the uploader's IAM policies may allow everything; the upload still fails
    /// with 403 `AccessDenied` naming `kms:GenerateDataKey`.
    ///
    /// ## How AWS evaluates it
    ///
    /// S3 calls KMS with the uploader's credentials, so the key policy must allow the uploader.
    /// The key policy of an AWS managed key lets any principal use the key only through the
    /// service (`kms:ViaService` `s3.<region>.amazonaws.com`) and only when
    /// `kms:CallerAccount` is the key's own account. That policy is written by AWS and cannot
    /// be changed, grants cannot be created for other accounts, and RCPs do not apply to it:
    /// no configuration lets another account use `aws/s3`.
    ///
    /// ## Example
    ///
    /// The key policy of `aws/s3` in account `111122223333` (as `aws kms get-key-policy` shows
    /// it) refuses `arn:aws:iam::444455556666:role/uploader`:
    ///
    /// ```json
    /// {
    ///   "Effect": "Allow",
    ///   "Principal": {"AWS": "*"},
    ///   "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
    ///   "Resource": "*",
    ///   "Condition": {"StringEquals": {
    ///     "kms:CallerAccount": "111122223333",
    ///     "kms:ViaService": "s3.us-east-1.amazonaws.com"
    ///   }}
    /// }
    /// ```
    ///
    /// ## Fix
    ///
    /// The bucket owner creates a customer managed key in the bucket's Region whose key policy
    /// allows the uploading principal (or its account) `kms:GenerateDataKey` and `kms:Decrypt`,
    /// and sets its key ARN in the bucket's default encryption (or the uploader sends it in
    /// `x-amz-server-side-encryption-aws-kms-key-id`); the uploader's IAM policy must allow
    /// the same actions on that key ARN. Alternatively use SSE-S3 (`AES256`), which needs no
    /// KMS permissions.
    ///
    /// ## References
    ///
    /// - AWS KMS Developer Guide, AWS managed keys: <https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-cmk>
    /// - AWS KMS Developer Guide, Allowing users in other accounts to use a KMS key: <https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html>
    /// - Amazon S3 User Guide, Using server-side encryption with AWS KMS keys (SSE-KMS), cross-account: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html>
    /// - AWS re:Post Knowledge Center, Why can't users in another account access objects encrypted with aws/s3?: <https://repost.aws/knowledge-center/s3-bucket-access-default-encryption>
    pub struct CrossAccountAwsManagedKey {
        id: "cross-account-aws-managed-key",
        scope: "builtin",
        layer: Kms,
        summary: "the upload uses the AWS managed key aws/s3 of another account",
        refines: ["kms-key-policy-missing-generate-data-key", "kms-key-policy-condition-unmet"],
        service: Kms,
        actions: [],
        messages: [special(KmsNotFoundOrDenied), GENERIC],
    }
}

impl Rule for CrossAccountAwsManagedKey {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Emitter<'_>) {
        let a = cx.analysis;
        let Some(principal) = a.principal.as_ref() else {
            return;
        };
        let caller_account = principal.account().unwrap_or_default().to_owned();
        if let Some((f, hit)) = emit_block(cx, out, BlockCode::KmsAwsManagedKeyCrossAccount) {
            let check = hit.check();
            // It explains the key policy's refusal too (it can never allow this caller).
            for c in &hit.checks {
                f.claim(&c.action, Refusal::Check);
            }
            let owner = check.request.resource_account.clone().unwrap_or_default();
            f.message = format!(
                "the upload is encrypted with the AWS managed key `aws/s3` of `{owner}`, which principals of `{caller_account}` can never use"
            );
            if !from_header(cx) {
                f.labels.extend(bucket_encryption_label(
                    a,
                    "SSEAlgorithm",
                    true,
                    "SSE-KMS without a key id: the AWS managed key `aws/s3`",
                ));
            }
            // The documented key policy: `kms:CallerAccount` must be the owner's account.
            for (_, _, policy, st) in cx.statements(check, Layer::Resource) {
                for c in st
                    .conditions
                    .iter()
                    .filter(|c| c.key_lower == "kms:calleraccount")
                {
                    let primary = !f.labels.iter().any(|l| l.primary);
                    f.labels.push(label(
                        policy,
                        c.key_span,
                        &c.key_pointer,
                        primary,
                        format!(
                            "the caller's account is `{caller_account}`; AWS does not let this policy be changed"
                        ),
                    ));
                }
            }
            f.notes.push(
                "the key policy of an AWS managed key cannot be edited and grants cannot be given to other accounts".into(),
            );
            f.missing = check.missing.clone();
            let Some(region) = why403_core::analysis::derive::region_of(&a.request, &a.evidence)
            else {
                return;
            };
            f.fix = Some(fix(cx, &owner, &region, &hit.actions()));
            return;
        }
        // `aws/s3` with an unknown bucket owner: a cross-account upload cannot use it.
        let managed = matches!(
            key_choice(&a.request, &a.evidence),
            KeyChoice::Kms { key: None, .. }
        );
        if managed
            && a.verdict != Verdict::Allowed
            && let Slot::Unavailable(u) = &a.evidence.bucket.owner_account
            && let Some(check) = a.checks.iter().find(|c| c.kind == CheckKind::Kms)
        {
            cx.possible(
                out,
                check,
                Refusal::Check,
                Missing {
                    kind: EvidenceKind::BucketOwner,
                    what: "bucket owner".into(),
                    unavailable: u.clone(),
                },
                format!(
                    "the upload uses the bucket owner's AWS managed key `aws/s3`, which no principal of another account can use: whether the bucket is in `{}` could not be read",
                    principal.account().unwrap_or("the caller's account")
                ),
            );
        }
    }
}

/// A customer managed key of the bucket owner whose key policy lets the caller use it.
fn fix(
    cx: &RuleContext<'_>,
    owner: &str,
    region: &str,
    actions: &[&str],
) -> why403_core::finding::Fix {
    let a = cx.analysis;
    let caller = a
        .principal
        .as_ref()
        .and_then(|p| p.arn())
        .unwrap_or("the caller")
        .to_owned();
    let who = a
        .context
        .get("aws:PrincipalArn")
        .map_or(caller, |v| v.values[0].clone());
    let new_arn = format!("arn:aws:kms:{region}:{owner}:key/new-customer-managed-key");
    let key_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{owner}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "AllowUploaderToUseTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": who},
                "Action": actions,
                "Resource": "*"
            }
        ]
    });
    let place = if from_header(cx) {
        "send its ARN in `x-amz-server-side-encryption-aws-kms-key-id`"
    } else {
        "set its ARN in the bucket's default encryption"
    };
    let iam = a.evidence.identity.get().is_some();
    let description = if iam {
        format!(
            "create a customer managed key in `{owner}` (`{region}`) whose key policy allows `{who}` to use it, {place}"
        )
    } else {
        format!(
            "create a customer managed key in `{owner}` (`{region}`) whose key policy allows `{who}` to use it and {place}"
        )
    };
    new_key_fix(
        cx,
        &new_arn,
        Some(key_policy),
        description,
        (
            "AllowBucketOwnersUploadKey",
            " and allow the key in the uploader's IAM policy",
        ),
        actions,
    )
}
